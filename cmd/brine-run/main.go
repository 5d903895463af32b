// Command brine-run: run a master-side runner (like salt-run).
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/internal/version"
)

func main() {
	app := &cli.App{
		Name:    "brine-run",
		Usage:   "run a master-side runner (like salt-run)",
		Version: version.String(),
		Action: func(*cli.Context) error {
			return fmt.Errorf("not built yet (issue 4)")
		},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "brine-run: error: %v\n", err)
		os.Exit(1)
	}
}

// Command brine-call: run a function on this minion locally (like salt-call).
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/internal/version"
)

func main() {
	app := &cli.App{
		Name:    "brine-call",
		Usage:   "run a function on this minion locally (like salt-call)",
		Version: version.String(),
		Action: func(*cli.Context) error {
			return fmt.Errorf("not built yet (issue 5)")
		},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "brine-call: error: %v\n", err)
		os.Exit(1)
	}
}

// Command brine-key: manage the master's minion keys (like salt-key).
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/internal/version"
)

func main() {
	app := &cli.App{
		Name:    "brine-key",
		Usage:   "manage the master's minion keys (like salt-key)",
		Version: version.String(),
		Action: func(*cli.Context) error {
			return fmt.Errorf("not built yet (issue 3)")
		},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "brine-key: error: %v\n", err)
		os.Exit(1)
	}
}

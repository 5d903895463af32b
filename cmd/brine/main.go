// Command brine: run a function on targeted minions (like salt).
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/internal/version"
)

func main() {
	app := &cli.App{
		Name:    "brine",
		Usage:   "run a function on targeted minions (like salt)",
		Version: version.String(),
		Action: func(*cli.Context) error {
			return fmt.Errorf("not built yet (issue 4)")
		},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "brine: error: %v\n", err)
		os.Exit(1)
	}
}

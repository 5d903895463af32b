// Command brine-run runs master-side runners, as salt-run does:
//
//	brine-run [options] <runner.function> [arguments...]
//
// jobs.* and manage.* run in the master (clear runner command, the result
// read from the event bus); state.event streams the event bus here.
// Exit status: 0 on success, 1 when the runner failed, 2 on an error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/version"
)

func main() {
	cli.VersionPrinter = cliutil.PrintVersion
	app := &cli.App{
		Name:                  "brine-run",
		Usage:                 "run a master-side runner (like salt-run)",
		UsageText:             "brine-run [options] <runner.function> [arguments...]",
		Version:               version.String(),
		HideHelpCommand:       true,
		CustomAppHelpTemplate: cliutil.HelpTemplate,
		Description: "Runs a runner, a function that works on the master's side (jobs.*, manage.*), and prints\n" +
			"its return; state.event prints the master's events as they come.\n\n" +
			"Exit status: 0 on success, 1 when the runner failed, 2 on an error.",
		Flags: []cli.Flag{
			cliutil.ConfigDirFlag(),
			cliutil.LogLevelFlag(true),
			&cli.StringFlag{Name: "out", Value: "nested", Usage: "output `FORMAT`: nested, json, yaml, txt, raw or quiet"},
			&cli.BoolFlag{Name: "no-color", Usage: "no colours, even on a terminal"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return cliutil.Hint(errNoRunner, "brine-run manage.up")
			}
			if err := cliutil.CheckLogLevel(c.String("log-level")); err != nil {
				return err
			}
			return runRunner(c.Context, options{
				configDir: c.String("config-dir"), logLevel: c.String("log-level"), fun: c.Args().First(), args: c.Args().Tail(),
				out: c.String("out"), color: isTerminal(os.Stdout) && !c.Bool("no-color"),
			}, os.Stdout, os.Stderr)
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		code := 2
		if _, ok := err.(runnerError); ok {
			code = 1
		}
		cliutil.Exit("brine-run", err, code)
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

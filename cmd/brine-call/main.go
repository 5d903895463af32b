// Command brine-call runs a function on this minion, in this process, as
// salt-call does:
//
//	brine-call [options] <function> [arguments...]
//
// Unless --local, it authenticates with the master, fetches the pillar and
// files from it, and sends its return to the master (a "req" job).
// Exit status: 0 on success, 1 when the function failed (with
// --retcode-passthrough, its retcode), 2 on an error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/output"
	"github.com/brine-project/brine/internal/saltargs"
	"github.com/brine-project/brine/internal/version"
	"github.com/brine-project/brine/minion"
)

func main() {
	cli.VersionPrinter = cliutil.PrintVersion
	app := &cli.App{
		Name:                  "brine-call",
		Usage:                 "run a function on this minion (like salt-call)",
		UsageText:             "brine-call [options] <function> [arguments...]",
		Version:               version.String(),
		HideHelpCommand:       true,
		CustomAppHelpTemplate: cliutil.HelpTemplate,
		Description: "Runs a function on this minion, in this process, as the minion would run a job from\n" +
			"its master: to try a function out, or to run a minion without a master (--local). Unless\n" +
			"--local, it authenticates with the master, fetches the pillar and files from it and sends\n" +
			"the return to it.\n\n" +
			"Exit status: 0 on success, 1 when the function failed (with --retcode-passthrough, its\n" +
			"retcode), 2 on an error.",
		Flags: []cli.Flag{
			cliutil.ConfigDirFlag(),
			cliutil.LogLevelFlag(true),
			&cli.BoolFlag{Name: "local", Usage: "run without a master: no pillar, no files, no return sent"},
			&cli.StringFlag{Name: "id", Usage: "act as minion `ID` instead of the configured one"},
			&cli.StringFlag{Name: "out", Usage: "output `FORMAT`: nested (default), json, yaml, txt, raw or quiet"},
			&cli.BoolFlag{Name: "no-color", Usage: "no colours, even on a terminal"},
			&cli.BoolFlag{Name: "retcode-passthrough", Usage: "exit with the function's retcode"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return cliutil.Hint(errNoFunction, "brine-call --local test.ping")
			}
			code, err := runCall(c.Context, c)
			if err != nil {
				return err
			}
			if code != 0 {
				return cli.Exit("", code)
			}
			return nil
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		if ec, ok := err.(cli.ExitCoder); ok && ec.Error() == "" {
			os.Exit(ec.ExitCode())
		}
		cliutil.Exit("brine-call", err, 2)
	}
}

type usageErr string

func (e usageErr) Error() string { return string(e) }

const errNoFunction = usageErr("name a function to run")

func runCall(ctx context.Context, c *cli.Context) (int, error) {
	cfg, warns, err := config.LoadMinion(c.String("config-dir"))
	if err != nil {
		return 2, err
	}
	if id := c.String("id"); id != "" {
		cfg.ID = id
	}
	log, err := cliutil.ToolLogger(os.Stderr, c.String("log-level"), cfg.Logging, warns)
	if err != nil {
		return 2, err
	}
	arg, err := saltargs.Parse(c.Args().Tail())
	if err != nil {
		return 2, err
	}
	res, err := minion.Call(ctx, cfg, log, c.Args().First(), arg, c.Bool("local"))
	if err != nil {
		return 2, err
	}
	fi, _ := os.Stdout.Stat()
	color := fi != nil && fi.Mode()&os.ModeCharDevice != 0 && !c.Bool("no-color")
	o, err := output.ForReturn(c.String("out"), "", output.Options{Color: color, Retcode: res.Retcode})
	if err != nil {
		return 2, err
	}
	if err := o.Print(os.Stdout, map[string]any{"local": res.Return}); err != nil {
		return 2, err
	}
	switch {
	case c.Bool("retcode-passthrough"):
		return res.Retcode, nil
	case !res.Success:
		return 1, nil
	}
	return 0, nil
}

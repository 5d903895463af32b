// Command brine runs a function on the targeted minions, as salt does:
//
//	brine [options] '<target>' <function> [arguments...]
//
// It must run on the master host, as root or as the master's user: it
// reads the master's key and event bus. Exit status: 0 when every targeted
// minion returned successfully; 1 when one did not return or failed (with
// --retcode-passthrough, the highest retcode); 2 on an error or when no
// minion matched.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/version"
)

func main() {
	// -v is --verbose, as in salt; --version has no short form.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	cli.VersionPrinter = cliutil.PrintVersion
	app := &cli.App{
		Name:                  "brine",
		Usage:                 "run a function on the targeted minions (like salt)",
		UsageText:             "brine [options] '<target>' <function> [arguments...]",
		Version:               version.String(),
		HideHelpCommand:       true,
		CustomAppHelpTemplate: cliutil.HelpTemplate,
		Description: "Publishes a function to the minions the target matches, through the master on this\n" +
			"host, and prints their returns as they come. The target is a glob on minion ids unless a\n" +
			"targeting option says otherwise; the arguments are positional, or key=value for keyword\n" +
			"arguments, read as YAML as Salt reads them.\n\n" +
			"Exit status: 0 when every targeted minion returned successfully; 1 when one did not\n" +
			"return or failed (with --retcode-passthrough, the highest retcode); 2 on an error or when\n" +
			"no minion matched.",
		Flags: append(cliutil.TargetFlags(),
			cliutil.ConfigDirFlag(),
			cliutil.LogLevelFlag(true),
			&cli.StringFlag{Name: "delimiter", Value: ":", Usage: "the `SEPARATOR` of nested keys in grain and pillar targets"},
			&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: 5, Usage: "wait `SECONDS` for returns; minions still running the job (saltutil.find_job) are waited for"},
			&cli.BoolFlag{Name: "async", Usage: "publish, print the job id and exit"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show the job id and which minions did not return"},
			&cli.BoolFlag{Name: "static", Aliases: []string{"s"}, Usage: "print all returns at once, at the end"},
			&cli.StringFlag{Name: "out", Usage: "output `FORMAT`: nested (default), json, yaml, txt, raw or quiet"},
			&cli.StringFlag{Name: "out-file", Usage: "write the output to `FILE`"},
			&cli.BoolFlag{Name: "no-color", Usage: "no colours, even on a terminal"},
			&cli.StringFlag{Name: "batch-size", Aliases: []string{"b"}, Usage: "run on `N` minions (or N%) at a time"},
			&cli.Float64Flag{Name: "batch-wait", Usage: "wait `SECONDS` after a minion returns before the next starts"},
			&cli.BoolFlag{Name: "hide-timeout", Usage: "do not list the minions that did not return"},
			&cli.BoolFlag{Name: "retcode-passthrough", Usage: "exit with the highest retcode of the minions"},
		),
		Action: func(c *cli.Context) error {
			o, err := optionsFrom(c)
			if err != nil {
				return err
			}
			code, err := runBrine(c.Context, o, stdio{out: os.Stdout, err: os.Stderr, tty: isTerminal(os.Stdout), errTTY: isTerminal(os.Stderr)})
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
		cliutil.Exit("brine", err, 2)
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func optionsFrom(c *cli.Context) (options, error) {
	o := options{
		configDir: c.String("config-dir"), logLevel: c.String("log-level"),
		delimiter: c.String("delimiter"), timeout: time.Duration(c.Int("timeout")) * time.Second,
		async: c.Bool("async"), verbose: c.Bool("verbose"), static: c.Bool("static"),
		out: c.String("out"), outFile: c.String("out-file"), noColor: c.Bool("no-color"),
		batch: c.String("batch-size"), batchWait: time.Duration(c.Float64("batch-wait") * float64(time.Second)),
		hideTimeout: c.Bool("hide-timeout"), retcodePassthrough: c.Bool("retcode-passthrough"),
	}
	if err := cliutil.CheckLogLevel(o.logLevel); err != nil {
		return o, err
	}
	var err error
	if o.tgtType, err = cliutil.TargetType(c); err != nil {
		return o, err
	}
	if c.NArg() < 2 {
		return o, cliutil.Hint(fmt.Errorf("need a target and a function"), "brine '*' test.ping")
	}
	o.tgt, o.fun, o.args = c.Args().Get(0), c.Args().Get(1), c.Args().Slice()[2:]
	if o.async && o.batch != "" {
		return o, cliutil.Hint(fmt.Errorf("--async and --batch-size cannot be combined"), "a batch needs to watch its returns")
	}
	if o.timeout <= 0 {
		return o, fmt.Errorf("--timeout must be positive")
	}
	return o, nil
}

// Command brine-minion runs the Brine minion daemon.
//
// Exit status: 0 after a clean shutdown (SIGTERM or SIGINT) or after
// --print-config, 1 on an error, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/version"
	"github.com/brine-project/brine/minion"
)

func main() {
	cli.VersionPrinter = cliutil.PrintVersion
	app := &cli.App{
		Name:                  "brine-minion",
		Usage:                 "the Brine minion daemon",
		UsageText:             "brine-minion [options]",
		Version:               version.String(),
		HideHelpCommand:       true,
		CustomAppHelpTemplate: cliutil.HelpTemplate,
		Description: "The minion connects to its master, authenticates with its key, runs the jobs the master\n" +
			"publishes to it and sends their returns back.\n\n" +
			"Reads DIR/minion, then DIR/minion.d/*.conf and the files its include names (Salt's keys;\n" +
			"root_dir moves every path; the options below override their keys). It stays in the\n" +
			"foreground, without -d: run it under systemd.\n\n" +
			"Exit status: 0 after a clean shutdown (SIGTERM or SIGINT) or --print-config, 1 on an\n" +
			"error, 2 on bad usage.",
		Flags: append([]cli.Flag{cliutil.ConfigDirFlag()},
			append(cliutil.DaemonFlags(false), cliutil.PrintConfigFlag(), cliutil.DaemonFlag())...),
		Action: func(c *cli.Context) error {
			if c.Bool("daemon") {
				return cliutil.ErrNoDaemon
			}
			return runMinion(c.Context, c.String("config-dir"), cliutil.OverridesFrom(c), c.Bool("print-config"))
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		code := 1
		if errors.Is(err, cliutil.ErrNoDaemon) {
			code = 2
		}
		cliutil.Exit("brine-minion", err, code)
	}
}

func runMinion(ctx context.Context, dir string, over cliutil.Overrides, printConfig bool) error {
	cfg, warns, err := config.LoadMinion(dir)
	if err != nil {
		return err
	}
	if err := over.Apply(&cfg.Logging, &cfg.Pidfile, nil); err != nil {
		return err
	}
	if printConfig {
		return cliutil.PrintConfig(os.Stdout, os.Stderr, cfg.LogLevel, warns, cfg.Files, cfg.YAML)
	}
	log, logFile, err := cliutil.NewLogger(os.Stderr, cfg.Logging)
	if err != nil {
		return err
	}
	if logFile != nil {
		defer logFile.Close()
	}
	cliutil.LogWarnings(log, slog.LevelWarn, warns)
	removePidfile, err := cliutil.WritePidfile(cfg.Pidfile)
	if err != nil {
		return err
	}
	defer removePidfile()
	m, err := minion.New(cfg, log)
	if err != nil {
		return err
	}
	return m.Run(ctx)
}

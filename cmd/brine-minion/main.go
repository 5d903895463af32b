// Command brine-minion runs the Brine minion daemon.
//
// Exit status: 0 after a clean shutdown (SIGTERM or SIGINT), 1 on an
// error, 2 on bad usage.
package main

import (
	"context"
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
	app := &cli.App{
		Name:    "brine-minion",
		Usage:   "the Brine minion daemon",
		Version: version.String(),
		Flags:   []cli.Flag{cliutil.ConfigDirFlag(), cliutil.LogLevelFlag(true)},
		Action: func(c *cli.Context) error {
			return runMinion(c.Context, c.String("config-dir"), c.String("log-level"))
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		cliutil.Exit("brine-minion", err, 1)
	}
}

func runMinion(ctx context.Context, dir, level string) error {
	cfg, warns, err := config.LoadMinion(dir)
	if err != nil {
		return err
	}
	if level == "" {
		level = cfg.LogLevel
	}
	log, err := cliutil.Logger(os.Stderr, level)
	if err != nil {
		return err
	}
	for _, w := range warns {
		log.Warn("config: " + w.String())
	}
	m, err := minion.New(cfg, log)
	if err != nil {
		return err
	}
	return m.Run(ctx)
}

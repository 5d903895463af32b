// Command brine-master runs the Brine master daemon.
//
// Exit status: 0 after a clean shutdown (SIGTERM or SIGINT), 1 on an
// error, 2 on bad usage.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/version"
	"github.com/brine-project/brine/master"
)

func main() {
	app := &cli.App{
		Name:    "brine-master",
		Usage:   "the Brine master daemon",
		Version: version.String(),
		Flags: []cli.Flag{cliutil.ConfigDirFlag(), cliutil.LogLevelFlag(true),
			// How the master starts its publish daemon (see
			// master.ServePublishDaemon); not for people.
			&cli.BoolFlag{Name: "publish-daemon", Hidden: true},
		},
		Action: func(c *cli.Context) error {
			return runMaster(c.Context, c.String("config-dir"), c.String("log-level"), c.Bool("publish-daemon"))
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		cliutil.Exit("brine-master", err, 1)
	}
}

func runMaster(ctx context.Context, dir, level string, daemon bool) error {
	cfg, warns, err := config.LoadMaster(dir)
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
	if daemon {
		return master.ServePublishDaemon(ctx, cfg, log, os.Stdin, os.Stdout)
	}
	for _, w := range warns {
		log.Warn("config: " + w.String())
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	argv := []string{self, "--publish-daemon", "--config-dir", dir}
	if level != "" {
		argv = append(argv, "--log-level", level)
	}
	m, err := master.NewWith(cfg, master.Options{Logger: log, PublishDaemon: argv})
	if err != nil {
		return cliutil.Hint(err, fmt.Sprintf("check %s/master (root_dir, interface, ports, sock_dir)", dir))
	}
	return m.Run(ctx)
}

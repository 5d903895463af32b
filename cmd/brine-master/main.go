// Command brine-master runs the Brine master daemon.
//
// Exit status: 0 after a clean shutdown (SIGTERM or SIGINT) or after
// --print-config, 1 on an error, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/version"
	"github.com/brine-project/brine/master"
)

func main() {
	cli.VersionPrinter = cliutil.PrintVersion
	app := &cli.App{
		Name:                  "brine-master",
		Usage:                 "the Brine master daemon",
		UsageText:             "brine-master [options]",
		Version:               version.String(),
		HideHelpCommand:       true,
		CustomAppHelpTemplate: cliutil.HelpTemplate,
		Description: "The master is the server the minions connect to: it accepts their keys, publishes\n" +
			"the jobs that brine, brine-cp and brine-run send to the targeted minions and gathers their\n" +
			"returns.\n\n" +
			"Reads DIR/master, then DIR/master.d/*.conf and the files its include names (Salt's keys;\n" +
			"root_dir moves every path; the options below override their keys). It stays in the\n" +
			"foreground, without -d: run it under systemd. Started as root with user set to another\n" +
			"user, it hands pki_dir, cachedir, sock_dir, its log file and pidfile to that user and runs\n" +
			"as it before it binds its ports.\n\n" +
			"Exit status: 0 after a clean shutdown (SIGTERM or SIGINT) or --print-config, 1 on an\n" +
			"error, 2 on bad usage.",
		Flags: append([]cli.Flag{cliutil.ConfigDirFlag()}, append(cliutil.DaemonFlags(true),
			cliutil.PrintConfigFlag(), cliutil.DaemonFlag(),
			// How the master starts its publish daemon (see
			// master.ServePublishDaemon); not for people.
			&cli.BoolFlag{Name: "publish-daemon", Hidden: true},
		)...),
		Action: func(c *cli.Context) error {
			if c.Bool("daemon") {
				return cliutil.ErrNoDaemon
			}
			return runMaster(c.Context, options{
				dir: c.String("config-dir"), over: cliutil.OverridesFrom(c),
				printConfig: c.Bool("print-config"), publishDaemon: c.Bool("publish-daemon"),
			}, os.Stdout, os.Stderr)
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		code := 1
		if errors.Is(err, cliutil.ErrNoDaemon) {
			code = 2
		}
		cliutil.Exit("brine-master", err, code)
	}
}

type options struct {
	dir           string // -c
	over          cliutil.Overrides
	printConfig   bool
	publishDaemon bool
}

func runMaster(ctx context.Context, o options, stdout, stderr io.Writer) error {
	cfg, warns, err := config.LoadMaster(o.dir)
	if err != nil {
		return err
	}
	if err := o.over.Apply(&cfg.Logging, &cfg.Pidfile, &cfg.User); err != nil {
		return err
	}
	if o.printConfig {
		return cliutil.PrintConfig(stdout, stderr, cfg.LogLevel, warns, cfg.Files, cfg.YAML)
	}
	if o.publishDaemon {
		return publishDaemon(ctx, cfg, stderr)
	}
	log, logFile, err := cliutil.NewLogger(stderr, cfg.Logging)
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
	// Salt's master drops to its user before it binds: its ports are
	// unprivileged, and what it creates from here on is the user's.
	if err := cliutil.RunAs(cfg.User, []string{cfg.PKIDir, cfg.CacheDir, cfg.SockDir}, []string{cfg.LogFile, cfg.Pidfile}, log); err != nil {
		return err
	}
	self, err := executable()
	if err != nil {
		return err
	}
	argv := append([]string{self, "--publish-daemon", "--config-dir", o.dir}, o.over.Args()...)
	m, err := master.NewWith(cfg, master.Options{Logger: log, PublishDaemon: argv})
	if err != nil {
		return cliutil.Hint(err, fmt.Sprintf("check %s/master (root_dir, interface, ports, sock_dir)", o.dir))
	}
	return m.Run(ctx)
}

// executable is this program's path, to start it again as the publish
// daemon. os.Executable reads /proc/self/exe on Linux; without /proc (a
// chroot, a container that does not mount it) the path it was started
// by, looked up in PATH as the shell did, names it.
func executable() (string, error) {
	self, err := os.Executable()
	if err == nil {
		return self, nil
	}
	path, lookErr := exec.LookPath(os.Args[0])
	if lookErr != nil {
		return "", fmt.Errorf("finding this program to start the publish daemon: %w", errors.Join(err, lookErr))
	}
	return filepath.Abs(path)
}

// publishDaemon serves the publish port for the master that started this
// process. It logs as the master does, to the console (the master's
// stderr) and to log_file; to the console alone if it cannot open
// log_file, which the master opened before it switched to its user.
func publishDaemon(ctx context.Context, cfg *config.Master, stderr io.Writer) error {
	log, logFile, openErr := cliutil.NewLogger(stderr, cfg.Logging)
	if openErr != nil {
		noFile := cfg.Logging
		noFile.LogFile = ""
		var err error
		if log, _, err = cliutil.NewLogger(stderr, noFile); err != nil {
			return err
		}
		log.Warn("publish daemon: logging to the console only", "log_file", cfg.LogFile, "err", openErr)
	}
	if logFile != nil {
		defer logFile.Close()
	}
	// A SIGTERM to the whole group (systemd's stop) must not take the
	// daemon before the master has finished its runners and handed it
	// their last publications: it stops when the master closes its stdin.
	return master.ServePublishDaemon(context.WithoutCancel(ctx), cfg, log, os.Stdin, os.Stdout)
}

// Command brine-swarm runs many minions in one process against a master,
// each a full protocol peer (own key, own connections, real auth,
// decryption, signature checks, targeting and returns), to measure a
// master at scale. It works against any Salt-protocol master.
//
//	brine-swarm --master 127.0.0.1 --ret-port 4506 --publish-port 4505 -n 1000 --dir ./swarm
//
// Keys are made once into --dir/keys and reused. On stdout it prints
// "keys N" once the keys are loaded and "ready N MS" once all N minions
// are authenticated and subscribed (MS: milliseconds since they started).
// It runs until SIGTERM or SIGINT. Exit status: 0 after a signal, 1 on an
// error or bad usage.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/pprofhttp"
	"github.com/brine-project/brine/internal/version"
	"github.com/brine-project/brine/swarm"
)

func main() {
	cli.VersionPrinter = cliutil.PrintVersion
	app := &cli.App{
		Name:                  "brine-swarm",
		Usage:                 "run many minions in one process against a master",
		UsageText:             "brine-swarm [options]",
		Version:               version.String(),
		HideHelpCommand:       true,
		CustomAppHelpTemplate: cliutil.HelpTemplate,
		Description: "Keys are made once into DIR/keys and reused. On stdout it prints \"keys N\" once the keys\n" +
			"are loaded and \"ready N MS\" once all N minions are authenticated and subscribed (MS:\n" +
			"milliseconds since they started). It runs until SIGTERM or SIGINT.\n\n" +
			"Exit status: 0 after a signal, 1 on an error or bad usage.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "master", Value: "127.0.0.1", Usage: "the master's address, `HOST`"},
			&cli.IntFlag{Name: "ret-port", Value: 4506, Usage: "the master's ret `PORT`"},
			&cli.IntFlag{Name: "publish-port", Value: 4505, Usage: "the master's publish `PORT`"},
			&cli.IntFlag{Name: "n", Aliases: []string{"count"}, Value: 100, Usage: "run `N` minions"},
			&cli.IntFlag{Name: "first", Usage: "number the minions from `N` (to split a swarm over processes)"},
			&cli.StringFlag{Name: "dir", Value: "swarm", Usage: "keep the minions' keys, made once and reused across runs, in `DIR`"},
			&cli.StringFlag{Name: "state", Usage: "keep this run's state (trusted master key, caches) in `DIR`; default: a temporary directory removed at exit"},
			&cli.StringFlag{Name: "prefix", Value: "swarm-", Usage: "minion ids are `PREFIX` + number"},
			&cli.IntFlag{Name: "rate", Value: 500, Usage: "start `N` minions a second"},
			&cli.IntFlag{Name: "keysize", Value: 2048, Usage: "make the minions' keys of `BITS` bits"},
			&cli.BoolFlag{Name: "zmq-filtering", Usage: "subscribe with Salt's zmq_filtering topics"},
			&cli.BoolFlag{Name: "keys-only", Usage: "make the keys and exit"},
			&cli.StringFlag{Name: "pprof", Usage: "serve Go's profiles at `ADDR` (e.g. 127.0.0.1:6061)"},
			cliutil.LogLevelFlag(true),
		},
		Action: run,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		cliutil.Exit("brine-swarm", err, 1)
	}
}

func run(c *cli.Context) error {
	level := c.String("log-level")
	if level == "" {
		level = "error"
	}
	log, err := cliutil.Logger(os.Stderr, level)
	if err != nil {
		return err
	}
	if addr := c.String("pprof"); addr != "" {
		// Listening before the keys are loaded: benchswarm profiles
		// from the first connection on.
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		go func() {
			if err := pprofhttp.Serve(c.Context, ln, log); err != nil {
				log.Error("brine-swarm: pprof", "err", err)
			}
		}()
	}
	cfg := swarm.Config{
		Master: c.String("master"), RetPort: c.Int("ret-port"), PublishPort: c.Int("publish-port"),
		N: c.Int("n"), First: c.Int("first"), Dir: c.String("dir"), Prefix: c.String("prefix"),
		Rate: c.Int("rate"), KeySize: c.Int("keysize"), ZMQFiltering: c.Bool("zmq-filtering"), Logger: log,
	}
	if max := swarm.MaxMinions(); cfg.N > max && !c.Bool("keys-only") {
		return cliutil.Hint(fmt.Errorf("%d minions need %d file descriptors; this process may open %d", cfg.N, 2*cfg.N+64, 2*max+64),
			fmt.Sprintf("run several brine-swarm processes with --first and -n of at most %d, or raise the hard limit (ulimit -Hn)", max))
	}
	start := time.Now()
	var last atomic.Int64
	cfg.Progress = func(done, total int) {
		// Once a second at most: generating thousands of keys takes minutes.
		if now := time.Now().Unix(); done == total || last.Swap(now) != now {
			fmt.Fprintf(os.Stderr, "\rbrine-swarm: keys %d/%d (%s)", done, total, time.Since(start).Round(time.Second))
		}
	}
	keys, err := swarm.Keys(c.Context, cfg)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	fmt.Printf("keys %d\n", len(keys))
	if c.Bool("keys-only") {
		return nil
	}
	cfg.StateDir = c.String("state")
	if cfg.StateDir == "" {
		if cfg.StateDir, err = os.MkdirTemp("", "brine-swarm"); err != nil {
			return err
		}
		defer os.RemoveAll(cfg.StateDir)
	}
	begin := time.Now()
	err = swarm.Run(c.Context, cfg, keys, func(n int) {
		if n == cfg.N {
			fmt.Printf("ready %d %d\n", n, time.Since(begin).Milliseconds())
		}
	})
	if c.Context.Err() != nil {
		return nil
	}
	return err
}

// Package swarm runs many minions in one process, each a full protocol
// peer of the master: its own id and RSA key, its own request and publish
// connections, real _auth, real decryption and signature checks, real
// target matching and real returns. brine-swarm is built on it; it is how
// Brine measures a master under 10,000 minions on one machine.
package swarm

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/minion"
	"github.com/brine-project/brine/minion/grains"
	"github.com/brine-project/brine/minion/modules/all"
)

// Config configures a swarm. Master, RetPort, PublishPort, N and Dir are
// required.
type Config struct {
	Master               string // the master's address
	RetPort, PublishPort int
	N                    int    // minions
	First                int    // number of the first minion (to split a swarm over processes)
	Dir                  string // keys, reused across runs
	// StateDir holds what belongs to one run: the master key the minions
	// trust (TOFU), their caches. Run requires it.
	StateDir     string
	Prefix       string // ids are Prefix + number (default "swarm-")
	Rate         int    // minions started per second (default 500)
	KeySize      int    // default 2048
	ZMQFiltering bool
	Logger       *slog.Logger
	// Progress, if set, is told how key generation goes.
	Progress func(done, total int)
}

func (c *Config) defaults() {
	if c.Prefix == "" {
		c.Prefix = "swarm-"
	}
	if c.Rate <= 0 {
		c.Rate = 500
	}
	if c.KeySize == 0 {
		c.KeySize = crypto.DefaultKeySize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// ID is the id of minion i.
func (c *Config) ID(i int) string { return fmt.Sprintf("%s%05d", c.Prefix, i) }

// Key is a minion's key pair and tok, as stored in Dir/keys.
type Key struct {
	priv *rsa.PrivateKey
	tok  []byte
}

// Keys loads the swarm's keys, making the missing ones: generating 10,000
// RSA-2048 keys takes minutes, so they are made once (in parallel) and
// reused by every later run.
func Keys(ctx context.Context, cfg Config) ([]Key, error) {
	cfg.defaults()
	dir := filepath.Join(cfg.Dir, "keys")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	keys := make([]Key, cfg.N)
	var done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range cfg.N {
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			k, err := loadOrMakeKey(dir, cfg.ID(cfg.First+i), cfg.KeySize)
			if err != nil {
				return err
			}
			keys[i] = k
			if n := done.Add(1); cfg.Progress != nil {
				cfg.Progress(int(n), cfg.N)
			}
			return nil
		})
	}
	return keys, g.Wait()
}

func loadOrMakeKey(dir, id string, bits int) (Key, error) {
	pem := filepath.Join(dir, id+".pem")
	tokPath := filepath.Join(dir, id+".tok")
	priv, err := crypto.ReadPrivateKey(pem)
	if errors.Is(err, fs.ErrNotExist) {
		if priv, err = crypto.GenerateKey(rand.Reader, bits); err != nil {
			return Key{}, err
		}
		if err := crypto.WritePrivateKey(pem, priv); err != nil && !errors.Is(err, fs.ErrExist) {
			return Key{}, err
		}
		os.Remove(tokPath)
	} else if err != nil {
		return Key{}, err
	}
	tok, err := os.ReadFile(tokPath)
	if err != nil {
		if tok, err = crypto.SignX931(rand.Reader, priv, []byte("salt")); err != nil {
			return Key{}, err
		}
		os.WriteFile(tokPath, tok, 0o600)
	}
	return Key{priv: priv, tok: tok}, nil
}

// Run starts the swarm's minions at cfg.Rate per second and runs them
// until ctx ends. ready is called (from any goroutine) each time a minion
// is authenticated and subscribed, with how many are by then.
func Run(ctx context.Context, cfg Config, keys []Key, ready func(n int)) error {
	cfg.defaults()
	if cfg.StateDir == "" {
		return errors.New("swarm: Run needs a StateDir")
	}
	raiseNoFile()
	base := grains.Collect(cfg.ID(cfg.First), nil)
	registry := all.Registry()
	var readyN atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	tick := time.NewTicker(time.Second / time.Duration(cfg.Rate))
	defer tick.Stop()
	for i := range cfg.N {
		if i > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				wg.Wait()
				return nil
			}
		}
		id := cfg.ID(cfg.First + i)
		g := maps.Clone(base)
		g["id"] = id
		mc := minionConfig(cfg, id)
		m, err := minion.NewWith(mc, minion.Options{
			Logger: cfg.Logger, Key: keys[i].priv, Tok: keys[i].tok, Grains: g,
			Registry: registry, NoBus: true,
			OnReady: func() {
				if ready != nil {
					ready(int(readyN.Add(1)))
				}
			},
		})
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.Run(ctx); err != nil && ctx.Err() == nil {
				select {
				case errs <- fmt.Errorf("minion %s: %w", id, err):
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// minionConfig is Salt's minion defaults for one swarm minion: its id, the
// master's address, and state shared by all under StateDir.
func minionConfig(cfg Config, id string) *config.Minion {
	c := config.DefaultMinion()
	c.ID = id
	c.Master = cfg.Master
	c.MasterPort = cfg.RetPort
	c.PublishPort = cfg.PublishPort
	c.ZMQFiltering = cfg.ZMQFiltering
	c.PKIDir = filepath.Join(cfg.StateDir, "pki")
	// Each its own cache: a minion's return spool is its own (made only
	// when a return has to wait).
	c.CacheDir = filepath.Join(cfg.StateDir, "cache", id)
	c.SockDir = filepath.Join(cfg.StateDir, "sock")
	// random_reauth_delay stays Salt's 10 s: after a key rotation the
	// swarm re-authenticates spread out, as a fleet would. A key that is
	// still pending is tried again each second rather than each 10.
	c.AcceptanceWaitTime = 1
	return &c
}

// raiseNoFile lifts the soft descriptor limit to the hard one: each
// minion holds two connections.
func raiseNoFile() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// MaxMinions is how many minions this process can hold: two descriptors
// each, and a few for the rest.
func MaxMinions() int {
	raiseNoFile()
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	return int(lim.Cur-64) / 2
}

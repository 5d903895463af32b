package master

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/transport"
)

// The publish daemon. Salt runs its publisher (PULL publish_pull.ipc →
// PUB on the publish port) in a process of its own, and brine-master does
// too: a minion holds two connections, one to each port, so a master in
// one process needs two descriptors per minion, and 10,000 minions would
// need more than a common hard limit of 20,000 allows. Split, the daemon
// holds the publish port's connections and the master the ret port's.
//
// The master keeps the AES and signing keys: it wraps each publication
// itself and pushes the finished frames to the daemon over
// <sock_dir>/publish_daemon.ipc, so the daemon holds no secret.

// daemonReadyTimeout bounds how long the master waits for its daemon to
// bind the publish port.
const daemonReadyTimeout = 30 * time.Second

// subscribersEvery is how often a daemon whose master serves metrics
// checks how many minions are subscribed, and tells the master when the
// number changed: fresh enough for any scrape interval, and no cost.
const subscribersEvery = time.Second

// ServePublishDaemon is the publish daemon's whole life: it binds
// <sock_dir>/publish_daemon.ipc and the publish port, writes "ready
// <host:port>" and a newline to ready, and forwards until ctx ends or
// parent reaches EOF: the master holds the other end of that pipe, so the
// daemon never outlives it. With metrics_port set it also writes
// "subscribers N" lines to ready whenever the number of subscribed
// minions changes: the master's connected minions gauge.
func ServePublishDaemon(ctx context.Context, cfg *config.Master, log *slog.Logger, parent io.Reader, ready io.Writer) error {
	p, err := transport.NewPublisher(transport.PublisherConfig{
		Pull:    "ipc://" + filepath.Join(cfg.SockDir, transport.PublishDaemonFile),
		Pub:     cfg.Endpoint(cfg.PublishPort),
		Options: transportOptions(cfg, log),
	})
	if err != nil {
		return fmt.Errorf("publish daemon: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		io.Copy(io.Discard, parent) // returns when the master is gone
		cancel()
	}()
	if _, err := fmt.Fprintf(ready, "ready %s\n", p.PubAddr()); err != nil {
		p.Close()
		return err
	}
	log.Info("publish daemon: serving", "publish", p.PubAddr().String())
	if cfg.MetricsPort != 0 {
		reported := make(chan struct{})
		go func() { reportSubscribers(ctx, p, ready); close(reported) }()
		defer func() { cancel(); <-reported }()
	}
	return p.Serve(ctx)
}

// reportSubscribers writes "subscribers N" to w each time N changes.
func reportSubscribers(ctx context.Context, p *transport.Publisher, w io.Writer) {
	t := time.NewTicker(subscribersEvery)
	defer t.Stop()
	last := -1
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n := p.Subscribers(); n != last {
			if _, err := fmt.Fprintf(w, "subscribers %d\n", n); err != nil {
				return
			}
			last = n
		}
	}
}

// publishDaemon is the master's handle on its daemon process.
type publishDaemon struct {
	cmd    *exec.Cmd
	parent io.WriteCloser // the daemon's stdin: closing it stops the daemon
	addr   net.Addr       // the publish port it bound
	exited chan struct{}  // closed when the process has ended
	err    error          // how it ended; set before exited is closed
	subs   atomic.Int64   // minions subscribed, as the daemon last said
}

// startPublishDaemon runs argv as the publish daemon and waits until it
// has bound the publish port.
func startPublishDaemon(argv []string, log *slog.Logger) (*publishDaemon, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	// Its own process group: a terminal's ^C goes to the master, which
	// then stops the daemon after its last publication is out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	parent, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("master: starting the publish daemon: %w", err)
	}
	d := &publishDaemon{cmd: cmd, parent: parent, exited: make(chan struct{})}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		d.readReports(sc, out)
	}()
	go func() {
		d.err = cmd.Wait()
		close(d.exited)
	}()
	fail := func(err error) (*publishDaemon, error) {
		d.stop(log)
		return nil, err
	}
	select {
	case l, ok := <-line:
		addr, found := strings.CutPrefix(l, "ready ")
		if !ok || !found {
			<-d.exited
			return fail(fmt.Errorf("master: the publish daemon did not start (%v)", d.err))
		}
		if d.addr, err = net.ResolveTCPAddr("tcp", addr); err != nil {
			return fail(fmt.Errorf("master: the publish daemon's address %q: %w", addr, err))
		}
		return d, nil
	case <-time.After(daemonReadyTimeout):
		return fail(fmt.Errorf("master: the publish daemon did not bind the publish port within %v", daemonReadyTimeout))
	}
}

// readReports takes the daemon's "subscribers N" lines until its stdout
// closes, and keeps the pipe drained whatever else comes.
func (d *publishDaemon) readReports(sc *bufio.Scanner, out io.Reader) {
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "subscribers "); ok {
			if v, err := strconv.ParseInt(n, 10, 64); err == nil {
				d.subs.Store(v)
			}
		}
	}
	io.Copy(io.Discard, out)
}

// subscribers is how many minions the daemon last said are subscribed.
func (d *publishDaemon) subscribers() int { return int(d.subs.Load()) }

// stop ends the daemon: its stdin closes, it sends what it holds and
// exits; one that does not within the shutdown grace is killed.
func (d *publishDaemon) stop(log *slog.Logger) {
	d.parent.Close()
	select {
	case <-d.exited:
	case <-time.After(transport.DefaultShutdownGrace):
		log.Warn("master: killing the publish daemon, which did not stop")
		d.cmd.Process.Kill()
		<-d.exited
	}
}

// watch returns when ctx ends (nil) or the daemon dies first (an error:
// without it no minion hears a publication, so the master stops too).
func (d *publishDaemon) watch(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-d.exited:
		return errors.Join(errors.New("master: the publish daemon exited"), d.err)
	}
}

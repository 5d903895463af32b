// Package e2e runs Brine's binaries as real processes on loopback: a
// master, minions, brine-key. TestMain builds the binaries once.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/transport"
)

var binDir string

func TestMain(m *testing.M) {
	code := func() int {
		touchSources()
		dir, err := os.MkdirTemp("", "brine-e2e-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		args := []string{"build", "-o", dir + string(filepath.Separator)}
		env := append(os.Environ(), "CGO_ENABLED=0")
		if raceEnabled {
			args = append(args, "-race")
			env = append(os.Environ(), "CGO_ENABLED=1")
		}
		cmd := exec.Command("go", append(args, "../cmd/...")...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the binaries: %v\n%s", err, out)
			return 1
		}
		binDir = dir
		return m.Run()
	}()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// touchSources stats every Go file and go.mod of the module. The results
// depend on binaries built from them in a subprocess, which go test's
// cache cannot see; the files a test stats, it can, so a changed source
// file re-runs these tests instead of replaying a stale pass.
func touchSources() {
	filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != ".." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum" {
			os.Stat(p)
		}
		return nil
	})
}

// testTimeout bounds each wait; generous, since the binaries may run
// under the race detector on a loaded machine.
const testTimeout = 60 * time.Second

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// logBuffer collects a process's output and wakes waiters on each write,
// and when the process has exited.
type logBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	wake   chan struct{}
	exited bool // no more lines will come
}

func newLogBuffer() *logBuffer { return &logBuffer{wake: make(chan struct{})} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.wake)
	l.wake = make(chan struct{})
	return len(p), nil
}

// exit marks the output complete and wakes the waiters.
func (l *logBuffer) exit() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.exited = true
	close(l.wake)
	l.wake = make(chan struct{})
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count returns how many lines contain all of the given substrings.
func (l *logBuffer) count(subs ...string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}

// waitLines waits until at least n lines contain all of subs.
func (l *logBuffer) waitLines(t testing.TB, n int, subs ...string) {
	t.Helper()
	l.waitLinesFor(t, testTimeout, n, subs...)
}

// waitLinesFor is waitLines with its own timeout.
func (l *logBuffer) waitLinesFor(t testing.TB, timeout time.Duration, n int, subs ...string) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		wake, exited := l.wake, l.exited
		l.mu.Unlock()
		if l.count(subs...) >= n {
			return
		}
		if exited {
			t.Fatalf("the process exited before %d log lines with %q; log:\n%s", n, subs, l.String())
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %d log lines with %q; log:\n%s", n, subs, l.String())
		}
	}
}

// waitFor waits up to d for a line containing sub; it reports whether one
// came.
func (l *logBuffer) waitFor(d time.Duration, sub string) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		l.mu.Lock()
		wake := l.wake
		l.mu.Unlock()
		if l.count(sub) > 0 {
			return true
		}
		select {
		case <-wake:
		case <-t.C:
			return false
		}
	}
}

// proc is a running binary.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *logBuffer
	done chan struct{}
	err  error
}

func start(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	return startPath(t, name, filepath.Join(binDir, name), args...)
}

// startPath is start for a binary at path.
func startPath(t testing.TB, name, path string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: newLogBuffer(), done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); p.log.exit(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.log.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits for the process to exit.
func (p *proc) stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(testTimeout):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop on SIGTERM", p.name)
	}
}

// run runs a binary to completion and returns its combined output.
func run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, name), args...).CombinedOutput()
	return string(out), err
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cluster is a master's configuration, and the minions' roots, in one
// short temp dir (socket paths must stay under sun_path's limit).
type cluster struct {
	t                testing.TB
	root             string
	retPort, pubPort int
}

func newCluster(t testing.TB) *cluster {
	root, err := os.MkdirTemp("", "be2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	return &cluster{t: t, root: root, retPort: freePort(t), pubPort: freePort(t)}
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// masterDir writes the config of master `name` (its own root under the
// cluster, the cluster's ports, interface 127.0.0.1 unless extra sets
// one) and returns its config dir.
func (c *cluster) masterDir(name, extra string) string {
	dir := filepath.Join(c.root, name, "etc")
	if !strings.Contains(extra, "interface:") {
		extra = "interface: 127.0.0.1\n" + extra
	}
	writeFile(c.t, filepath.Join(dir, "master"), fmt.Sprintf(
		"root_dir: %s\nret_port: %d\npublish_port: %d\nlog_level: info\n%s",
		filepath.Join(c.root, name), c.retPort, c.pubPort, extra))
	return dir
}

func (c *cluster) startMaster(name, extra string) *proc {
	return start(c.t, "brine-master", "-c", c.masterDir(name, extra))
}

// startMinion starts minion id with Salt's timings shortened for tests.
func (c *cluster) startMinion(id, extra string) *proc {
	dir := filepath.Join(c.root, id, "etc")
	writeFile(c.t, filepath.Join(dir, "minion"), fmt.Sprintf(
		"root_dir: %s\nid: %s\nmaster: 127.0.0.1\nmaster_port: %d\npublish_port: %d\n"+
			"acceptance_wait_time: 1\nrandom_reauth_delay: 0\nrecon_default: 100\nrecon_max: 500\nlog_level: info\n%s",
		filepath.Join(c.root, id), id, c.retPort, c.pubPort, extra))
	return start(c.t, "brine-minion", "-c", dir)
}

// key runs brine-key against master `name`.
func (c *cluster) key(name string, args ...string) string {
	c.t.Helper()
	out, err := run(c.t, "brine-key", append([]string{"-c", filepath.Join(c.root, name, "etc")}, args...)...)
	if err != nil {
		c.t.Fatalf("brine-key %v: %v\n%s", args, err, out)
	}
	return out
}

func (c *cluster) sockDir(name string) string {
	return filepath.Join(c.root, name, "var/run/brine/master")
}

// watch subscribes to master `name`'s event bus from this process, and
// returns once a probe event fired into the bus has come back: from then
// on no event is missed.
func (c *cluster) watch(ctx context.Context, name string) *events.Subscriber {
	c.t.Helper()
	opts := transport.Options{Reconnect: transport.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}}
	sub, err := events.Subscribe("ipc://"+filepath.Join(c.sockDir(name), transport.EventPubFile), "", opts)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { sub.Close() })
	push, err := events.NewPusher("ipc://"+filepath.Join(c.sockDir(name), transport.EventPullFile), opts)
	if err != nil {
		c.t.Fatal(err)
	}
	defer push.Close()
	probe := fmt.Sprintf("test/probe/%d", time.Now().UnixNano())
	for {
		// Until the subscription reaches the bus, probes are lost; send
		// them until one comes back.
		if err := push.Fire(ctx, probe, map[string]any{}); err != nil {
			c.t.Fatal(err)
		}
		for {
			wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			ev, err := sub.Next(wctx)
			cancel()
			if err != nil {
				break
			}
			if ev.Tag == probe {
				return sub
			}
		}
		if ctx.Err() != nil {
			c.t.Fatal("the event bus never answered a probe")
		}
	}
}

// waitEvent returns the next event matching tag and the data fields.
func waitEvent(t testing.TB, ctx context.Context, sub *events.Subscriber, tag string, fields map[string]any) events.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for event %s %v: %v", tag, fields, err)
		}
		if ev.Tag != tag {
			continue
		}
		ok := true
		for k, v := range fields {
			ok = ok && ev.Data[k] == v
		}
		if ok {
			return ev
		}
	}
}

// waitEvents waits until every one of tags has been seen, in any order.
func waitEvents(t testing.TB, ctx context.Context, sub *events.Subscriber, tags ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	want := map[string]bool{}
	for _, tag := range tags {
		want[tag] = true
	}
	for len(want) > 0 {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for events %v: %v", want, err)
		}
		delete(want, ev.Tag)
	}
}

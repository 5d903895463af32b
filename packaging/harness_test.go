package packaging

import (
	"bytes"
	"context"
	"encoding/json"
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

const module = "github.com/brine-project/brine"

// testVersion is stamped into the binaries as the Makefile stamps
// git describe's output.
const testVersion = "v0.0.0-packaging-test"

var (
	// binDir holds every binary of cmd/, built once by TestMain as `make
	// build` builds them: static (CGO_ENABLED=0) and version-stamped. They
	// are not built with -race even when the tests are: a race build needs
	// cgo, and these tests are about the static binaries that ship.
	binDir string
	// binaries are the names of cmd/'s binaries.
	binaries []string
)

func TestMain(m *testing.M) {
	if os.Getenv(rootEnv) != "" {
		enterRoot() // a child started by inRoot; it never returns
	}
	code := func() int {
		touchSources()
		dir, err := os.MkdirTemp("", "brine-pkg-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if binaries, err = commands(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if out, err := goBuild(dir, "", "", "", "./cmd/..."); err != nil {
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

// goBuild builds pkgs (relative to the module root) into dir for the
// given platform ("" is the host's), with CGO_ENABLED=0 and the
// Makefile's flags.
func goBuild(dir, goos, goarch, goarm string, pkgs ...string) ([]byte, error) {
	args := append([]string{"build", "-trimpath", "-ldflags", "-s -w -X " + module + "/internal/version.Version=" + testVersion,
		"-o", dir + string(filepath.Separator)}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	for k, v := range map[string]string{"GOOS": goos, "GOARCH": goarch, "GOARM": goarm} {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	return cmd.CombinedOutput()
}

// commands lists the binaries: one folder each under cmd/.
func commands() ([]string, error) {
	entries, err := os.ReadDir("../cmd")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no binaries under ../cmd")
	}
	return names, nil
}

// touchSources stats every Go file and go.mod of the module. The results
// depend on binaries built from them in a subprocess, which go test's
// cache cannot see; the files a test stats, it can, so a changed source
// file re-runs these tests instead of replaying a stale pass. The
// packaging files the tests read are stat'ed too.
func touchSources() {
	filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != ".." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum" || strings.HasPrefix(p, filepath.Join("..", "packaging")) {
			os.Stat(p)
		}
		return nil
	})
}

// testTimeout bounds each wait; generous, since minions may run under
// qemu's emulation on a loaded machine.
const testTimeout = 60 * time.Second

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// logBuffer collects a process's output and wakes waiters on each write.
type logBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{}
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

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitLine waits until a line contains sub; it fails the test if the
// process exits first.
func (l *logBuffer) waitLine(t testing.TB, p *proc, sub string) {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		wake := l.wake
		l.mu.Unlock()
		if strings.Contains(l.String(), sub) {
			return
		}
		select {
		case <-wake:
		case <-p.done:
			t.Fatalf("%s exited (%v) before logging %q; log:\n%s", p.name, p.err, sub, l.String())
		case <-deadline.C:
			t.Fatalf("timed out waiting for %q from %s; log:\n%s", sub, p.name, l.String())
		}
	}
}

// proc is a running daemon.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *logBuffer
	done chan struct{}
	err  error
}

// start starts cmd; the test's cleanup stops it with SIGTERM and shows its
// log if the test failed.
func start(t testing.TB, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, log: newLogBuffer(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
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

// run runs cmd to completion within testTimeout and returns its combined
// output.
func run(cmd *exec.Cmd) (string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	timer := time.AfterFunc(testTimeout, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	return out.String(), err
}

func bin(name string) string { return filepath.Join(binDir, name) }

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// shortTempDir is a temp dir with a short path: socket paths under it
// must stay within sun_path's 108 bytes.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bpkg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// watch subscribes to the event bus of the master whose sock_dir is
// sockDir, and returns once a probe event fired into the bus has come
// back: from then on no event is missed.
func watch(t testing.TB, ctx context.Context, sockDir string) *events.Subscriber {
	t.Helper()
	opts := transport.Options{Reconnect: transport.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}}
	sub, err := events.Subscribe("ipc://"+filepath.Join(sockDir, transport.EventPubFile), "", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	push, err := events.NewPusher("ipc://"+filepath.Join(sockDir, transport.EventPullFile), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	probe := fmt.Sprintf("test/probe/%d", time.Now().UnixNano())
	for {
		// Until the subscription reaches the bus, probes are lost; send
		// them until one comes back.
		if err := push.Fire(ctx, probe, map[string]any{}); err != nil {
			t.Fatal(err)
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
			t.Fatal("the event bus never answered a probe")
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

// returns runs `brine -c confDir --static --out json args...` from the
// host and decodes its {minion: return}; a non-zero exit fails the test.
func returns(t testing.TB, confDir string, args ...string) map[string]any {
	t.Helper()
	out, err := run(exec.Command(bin("brine"), append([]string{"-c", confDir, "--static", "--out", "json"}, args...)...))
	if err != nil {
		t.Fatalf("brine %v: %v\n%s", args, err, out)
	}
	var rets map[string]any
	if err := json.Unmarshal([]byte(out), &rets); err != nil {
		t.Fatalf("brine %v: not JSON: %v\n%s", args, err, out)
	}
	return rets
}

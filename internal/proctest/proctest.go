// Package proctest runs real processes for tests: Brine's binaries, built
// once by a TestMain, started with their output captured in a LogBuffer
// that a test waits on, and stopped with SIGTERM when the test ends.
//
// Waiting is on events, never on sleeps: a LogBuffer wakes its waiters on
// every write and when its process exits, so a wait for a line that can no
// longer come fails at once instead of at its timeout.
package proctest

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
)

// Timeout bounds each wait: generous, since the binaries may run under the
// race detector, or an emulator, on a loaded machine.
const Timeout = 60 * time.Second

// LogBuffer collects a process's output. Its zero value is not usable:
// make one with NewLogBuffer. It is safe for concurrent use.
type LogBuffer struct {
	mu      sync.Mutex // guards the fields below
	buf     bytes.Buffer
	wake    chan struct{} // closed, and replaced, on each change
	exited  bool          // no more output will come
	exitErr error         // the process's exit status, once exited
}

// NewLogBuffer returns an empty LogBuffer.
func NewLogBuffer() *LogBuffer { return &LogBuffer{wake: make(chan struct{})} }

// Write appends p and wakes the waiters.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.wakeLocked()
	return len(p), nil
}

// Exit marks the output complete, its process having exited with err, and
// wakes the waiters: from then on a wait for a line that is not there
// fails at once.
func (l *LogBuffer) Exit(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.exited, l.exitErr = true, err
	l.wakeLocked()
}

func (l *LogBuffer) wakeLocked() {
	close(l.wake)
	l.wake = make(chan struct{})
}

// String returns the output so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Count returns how many lines contain all of subs.
func (l *LogBuffer) Count(subs ...string) int {
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

// WaitLines waits up to Timeout until at least n lines contain all of
// subs. It fails the test on the timeout, or as soon as the process has
// exited without them.
func (l *LogBuffer) WaitLines(t testing.TB, n int, subs ...string) {
	t.Helper()
	l.WaitLinesFor(t, Timeout, n, subs...)
}

// WaitLinesFor is WaitLines with its own timeout.
func (l *LogBuffer) WaitLinesFor(t testing.TB, timeout time.Duration, n int, subs ...string) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		// Take the wake channel before counting: a write after the count
		// then closes the channel this loop waits on.
		l.mu.Lock()
		wake, exited, exitErr := l.wake, l.exited, l.exitErr
		l.mu.Unlock()
		if l.Count(subs...) >= n {
			return
		}
		if exited {
			t.Fatalf("the process exited (%v) before %d log lines with %q; log:\n%s", exitErr, n, subs, l.String())
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %d log lines with %q; log:\n%s", n, subs, l.String())
		}
	}
}

// WaitFor waits up to d for a line containing sub, and reports whether
// one came. Unlike WaitLines it does not fail the test: it suits a caller
// that retries.
func (l *LogBuffer) WaitFor(d time.Duration, sub string) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		l.mu.Lock()
		wake := l.wake
		l.mu.Unlock()
		if l.Count(sub) > 0 {
			return true
		}
		select {
		case <-wake:
		case <-t.C:
			return false
		}
	}
}

// Proc is a running process whose stdout and stderr go to Log.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Log  *LogBuffer

	done chan struct{} // closed once the process has exited and err is set
	err  error
}

// Start starts cmd, its stdout and stderr captured in the Proc's Log. When
// the test ends, its cleanup stops the process (see Stop) and, if the test
// failed, logs its output under name.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Proc {
	t.Helper()
	Sources()
	p := &Proc{Name: name, Cmd: cmd, Log: NewLogBuffer(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Log, p.Log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.Log.Exit(p.err)
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop(t)
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.Log.String())
		}
	})
	return p
}

// StartPath is Start for the program at path with args.
func StartPath(t testing.TB, name, path string, args ...string) *Proc {
	t.Helper()
	return Start(t, name, exec.Command(path, args...))
}

// Stop sends the process SIGTERM, unless it has exited, and waits for it
// to exit. If it has not within Timeout, Stop kills it and fails the test.
func (p *Proc) Stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(Timeout):
		p.Cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop on SIGTERM", p.Name)
	}
}

// Wait waits up to Timeout for the process to exit by itself and returns
// Err; it fails the test if the process is still running.
func (p *Proc) Wait(t testing.TB) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(Timeout):
		t.Fatalf("%s did not exit; log:\n%s", p.Name, p.Log.String())
		return nil
	}
}

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is the process's exit status, as exec.Cmd.Wait returns it; it is
// meaningful only once Done is closed.
func (p *Proc) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Run runs cmd to completion, killing it after Timeout, and returns its
// combined output.
func Run(cmd *exec.Cmd) (string, error) {
	Sources()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	defer stop()
	err := cmd.Wait()
	return out.String(), err
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	Sources()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TempDir returns a new directory, removed when the test ends, whose path
// is short (t.TempDir's are not): ipc socket paths under it must fit in
// sun_path's 108 bytes.
func TempDir(t testing.TB, prefix string) string {
	t.Helper()
	Sources()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Build runs `go build -o dir/ args...` (flags, then packages) with env
// added to the environment, for a TestMain that builds the binaries under
// test once.
func Build(dir string, env []string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-o", dir + string(filepath.Separator)}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

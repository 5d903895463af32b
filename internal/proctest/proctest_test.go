package proctest

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fatalTB records the failure of a wait instead of failing the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs wait with a fatalTB and returns the failure it reported,
// "" if none.
func failure(wait func(testing.TB)) string {
	tb := &fatalTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait(tb)
	}()
	<-done
	return tb.msg
}

// A line the process writes wakes the wait for it, and Stop ends the
// process with SIGTERM.
func TestStartWaitStop(t *testing.T) {
	p := StartPath(t, "sleeper", "/bin/sh", "-c", "echo ready; exec sleep 30")
	p.Log.WaitLines(t, 1, "ready")
	p.Stop(t)
	select {
	case <-p.Done():
	default:
		t.Fatal("Stop returned before the process exited")
	}
	var ee *exec.ExitError
	if !errors.As(p.Err(), &ee) {
		t.Fatalf("exit status %v, want a signal", p.Err())
	}
	if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("exit status %v, want SIGTERM", p.Err())
	}
}

// A process that exits without the awaited line fails the wait at once,
// not at its timeout.
func TestWaitFailsOnExit(t *testing.T) {
	p := StartPath(t, "quitter", "/bin/sh", "-c", "echo starting; exit 3")
	msg := failure(func(tb testing.TB) { p.Log.WaitLinesFor(tb, Timeout, 1, "ready") })
	if !strings.Contains(msg, "exited (exit status 3) before 1 log lines with [\"ready\"]") || !strings.Contains(msg, "starting") {
		t.Fatalf("the wait failed with %q, want the exit and the log", msg)
	}
	var ee *exec.ExitError
	if err := p.Wait(t); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("Wait: %v, want exit status 3", err)
	}
}

func TestLogBuffer(t *testing.T) {
	l := NewLogBuffer()
	fmt.Fprintf(l, "job jid=1 fun=test.ping\njob jid=2 fun=cmd.run\njob jid=3 fun=test.ping\n")
	if n := l.Count("job", "fun=test.ping"); n != 2 {
		t.Errorf("Count: %d lines, want 2", n)
	}
	if !l.WaitFor(time.Millisecond, "jid=2") {
		t.Error("WaitFor missed a line that is there")
	}
	if l.WaitFor(time.Millisecond, "jid=4") {
		t.Error("WaitFor found a line that is not there")
	}
	if msg := failure(func(tb testing.TB) { l.WaitLinesFor(tb, time.Millisecond, 3, "fun=test.ping") }); !strings.HasPrefix(msg, "timed out") {
		t.Errorf("waiting for a third line failed with %q, want a timeout", msg)
	}
	l.Exit(nil)
	if msg := failure(func(tb testing.TB) { l.WaitLines(tb, 2, "fun=test.ping") }); msg != "" {
		t.Errorf("waiting for lines that came before the exit failed: %s", msg)
	}
}

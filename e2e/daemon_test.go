package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/brine-project/brine/internal/proctest"
)

// publishDaemon returns the pid of the master's publish daemon: its one
// child process, there once the master is serving.
func publishDaemon(t *testing.T, m *proctest.Proc) int {
	t.Helper()
	m.Log.WaitLines(t, 1, "master: serving")
	// Children are listed per thread, and any thread may have forked.
	pid := m.Cmd.Process.Pid
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil || len(tasks) == 0 {
		t.Skipf("cannot list the master's children: %v", err)
	}
	var kids []string
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		kids = append(kids, strings.Fields(string(b))...)
	}
	if len(kids) != 1 {
		t.Fatalf("the master has children %v, want its publish daemon alone", kids)
	}
	d, _ := strconv.Atoi(kids[0])
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", d))
	if !strings.Contains(string(cmdline), "--publish-daemon") {
		t.Fatalf("the master's child runs %q", cmdline)
	}
	return d
}

// waitExit waits for process pid, not ours to wait on, to end: a pidfd
// turns readable when it does.
func waitExit(t *testing.T, pid int, what string) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err == unix.ESRCH {
		return // already gone
	}
	if err != nil {
		t.Skipf("pidfd_open: %v", err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(testTimeout/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("%s (pid %d) is still running", what, pid)
		}
		return
	}
}

// The publish port is served by a process of the master's own: it ends
// with the master, however the master ends, and the master does not run
// on without it.
func TestPublishDaemon(t *testing.T) {
	t.Run("stops with the master", func(t *testing.T) {
		c := newCluster(t)
		m := c.startMaster("master", "")
		d := publishDaemon(t, m)
		m.Stop(t)
		if m.Err() != nil {
			t.Fatalf("master exited with %v after SIGTERM", m.Err())
		}
		waitExit(t, d, "the publish daemon")
	})
	t.Run("does not outlive a killed master", func(t *testing.T) {
		c := newCluster(t)
		m := c.startMaster("master", "")
		d := publishDaemon(t, m)
		m.Cmd.Process.Kill()
		waitExit(t, d, "the publish daemon of a killed master")
	})
	t.Run("the master stops when it dies", func(t *testing.T) {
		c := newCluster(t)
		m := c.startMaster("master", "")
		d := publishDaemon(t, m)
		if err := syscall.Kill(d, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		select {
		case <-m.Done():
		case <-time.After(testTimeout):
			t.Fatal("the master runs on without its publish daemon")
		}
		if m.Err() == nil || !strings.Contains(m.Log.String(), "the publish daemon exited") {
			t.Fatalf("master exited with %v; log:\n%s", m.Err(), m.Log.String())
		}
	})
}

package cliutil

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMain lets the tests start this binary as a process that lives until
// its stdin closes: a live process of this program's name.
func TestMain(m *testing.M) {
	if os.Getenv("CLIUTIL_TEST_HOLD") == "1" {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holder starts a process of this program's name and returns its pid; it
// ends with the test.
func holder(t *testing.T) int {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "CLIUTIL_TEST_HOLD=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	return cmd.Process.Pid
}

func TestPidfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "run", "brine-master.pid")
	remove, err := WritePidfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("pidfile holds %q", b)
	}
	remove()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("pidfile left after remove: %v", err)
	}

	// A pidfile left by a crash, whose pid is now nobody's or another
	// program's, is replaced.
	for _, stale := range []string{"999999999\n", "1\n", "garbage", ""} {
		os.WriteFile(path, []byte(stale), 0o644)
		if _, err := WritePidfile(path); err != nil {
			t.Errorf("stale pidfile %q: %v", stale, err)
		}
	}

	// A live process of this name: the daemon runs already.
	pid := holder(t)
	os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644)
	if _, err := WritePidfile(path); err == nil || !strings.Contains(err.Error(), "already running as pid "+strconv.Itoa(pid)) {
		t.Fatalf("err = %v, want already running", err)
	}

	// remove leaves a pidfile another process has since written.
	os.Remove(path)
	remove, err = WritePidfile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("12345\n"), 0o644)
	remove()
	if b, _ := os.ReadFile(path); string(b) != "12345\n" {
		t.Fatalf("remove removed another's pidfile: %q", b)
	}
}

// RunAs switches users only as root, and to a user that exists; the
// switch itself is tested on brine-master's process (cmd/brine-master),
// as it cannot be undone in this one.
func TestRunAsWithoutSwitching(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	dir := filepath.Join(t.TempDir(), "cache")
	if err := RunAs("", []string{dir}, nil, log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("no user, yet RunAs made %s: %v", dir, err)
	}
	if os.Geteuid() != 0 {
		if err := RunAs("no-such-user-brine", []string{dir}, nil, log); err != nil {
			t.Fatalf("not root: %v, want a warning only", err)
		}
		return
	}
	if err := RunAs("root", []string{dir}, nil, log); err != nil {
		t.Fatal(err)
	}
	err := RunAs("no-such-user-brine", []string{dir}, nil, log)
	var h *HintError
	if err == nil || !strings.Contains(err.Error(), `user "no-such-user-brine"`) || !errors.As(err, &h) {
		t.Fatalf("err = %v, want an unknown user with a hint", err)
	}
	if os.Geteuid() != 0 {
		t.Fatal("RunAs changed this process's user")
	}
}

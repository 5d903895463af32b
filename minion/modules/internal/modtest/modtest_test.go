package modtest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

func TestFakeHost(t *testing.T) {
	h, state := modtest.FakeHost(t,
		map[string]string{"where": `echo "$D $R" > $D/where`},
		map[string]string{
			"/etc/os-release":   "ID=fake\n",
			"/etc/apk/":         "",
			"@/etc/rc3.d/S01a":  "../init.d/a",
			"/etc/init.d/a":     "#!/bin/sh\necho \"$1 $D $R\" > $D/a\n",
			"/etc/init.d/empty": "",
		})
	// The scripts set their own PATH: a host's programs run with just its Path.
	run := func(name string, args ...string) {
		t.Helper()
		c := exec.Command(name, args...)
		c.Env = []string{"PATH=" + h.Path}
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", name, err, out)
		}
	}
	run(filepath.Join(h.Path, "where"))
	if got, want := modtest.ReadState(t, state, "where"), state+" "+h.Root+"\n"; got != want {
		t.Errorf("program's $D $R = %q, want %q", got, want)
	}
	run(filepath.Join(h.Root, "etc/init.d/a"), "start")
	if got, want := modtest.ReadState(t, state, "a"), "start "+state+" "+h.Root+"\n"; got != want {
		t.Errorf("script file's $1 $D $R = %q, want %q", got, want)
	}

	for _, tc := range []struct {
		name, path string
		mode       os.FileMode
		body       string
	}{
		{"file", "etc/os-release", 0o644, "ID=fake\n"},
		{"empty file", "etc/init.d/empty", 0o644, ""},
		{"directory", "etc/apk", os.ModeDir | 0o755, ""},
		{"link", "etc/rc3.d/S01a", os.ModeSymlink, "../init.d/a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := filepath.Join(h.Root, tc.path)
			fi, err := os.Lstat(full)
			if err != nil {
				t.Fatal(err)
			}
			mode := fi.Mode()
			if tc.mode&os.ModeSymlink != 0 {
				mode &= os.ModeType // a link's permission bits vary by system
			}
			if mode != tc.mode {
				t.Errorf("mode %v, want %v", mode, tc.mode)
			}
			var body string
			switch {
			case fi.Mode()&os.ModeSymlink != 0:
				body, err = os.Readlink(full)
			case fi.Mode().IsRegular():
				var b []byte
				b, err = os.ReadFile(full)
				body = string(b)
			}
			if err != nil || body != tc.body {
				t.Errorf("content %q (%v), want %q", body, err, tc.body)
			}
		})
	}
}

func TestState(t *testing.T) {
	_, state := modtest.FakeHost(t, nil, nil)
	if got := modtest.ReadState(t, state, "missing"); got != "" {
		t.Errorf("ReadState of a missing file = %q", got)
	}
	modtest.WriteState(t, state, map[string]string{"installed": "curl 8.5\n"})
	if got := modtest.ReadState(t, state, "installed"); got != "curl 8.5\n" {
		t.Errorf("ReadState after WriteState = %q", got)
	}
}

func TestKw(t *testing.T) {
	want := map[string]any{"__kwarg__": true, "refresh": false, "pkgs": []any{"curl"}}
	if got := modtest.Kw("refresh", false, "pkgs", []any{"curl"}); !reflect.DeepEqual(got, want) {
		t.Errorf("Kw = %#v, want %#v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("Kw with an odd number of arguments did not panic")
		}
	}()
	//lint:ignore SA5012 an odd call is what this checks
	modtest.Kw("refresh")
}

// TestRunCalls checks that only a pid is normalised, and that a call runs
// as minion m1's job with its arguments.
func TestRunCalls(t *testing.T) {
	r := modtest.Registry([]*modules.Spec{{
		Name:   "fake.result",
		Params: []modules.Param{modules.P("pid")},
		Fn: func(_ context.Context, c *modules.Call) (any, error) {
			c.Retcode = 2
			return fmt.Sprintf("%s on %s:\n    pid:\n        %v\n    retcode:\n        100", c.Job.Fun, c.Env.ID, c.Args["pid"]), nil
		},
	}})
	modtest.RunCalls(t, r, []modtest.Call{
		{"pid", "fake.result", []any{int64(4242)}, "fake.result on m1:\n    pid:\n        PID\n    retcode:\n        100", 2},
	})
}

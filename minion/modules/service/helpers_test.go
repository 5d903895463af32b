package service

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
)

// fakeHost lays out a host for tests: programs (shell scripts) in a bin
// directory that is the whole PATH, and files under a root directory.
// Each script finds the test's state directory in $D, the root in $R and
// the usual tools on its own PATH. Paths ending in "/" are made as
// directories, paths starting "@" as symbolic links (to the content), and
// files starting "#!" are executable (with $D and $R set likewise).
func fakeHost(t testing.TB, programs, files map[string]string) (cmd.Host, string) {
	t.Helper()
	dir := t.TempDir()
	bin, root, state := filepath.Join(dir, "bin"), filepath.Join(dir, "root"), filepath.Join(dir, "state")
	for _, d := range []string{bin, root, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range programs {
		script := "#!/bin/sh\nD=" + state + "\nR=" + root + "\nPATH=$PATH:/usr/bin:/bin\n" + body
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, body := range files {
		if link, ok := strings.CutPrefix(p, "@"); ok {
			full := filepath.Join(root, link)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(body, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if rest, ok := strings.CutPrefix(body, "#!/bin/sh\n"); ok {
			body, mode = "#!/bin/sh\nD="+state+"\nR="+root+"\nPATH=$PATH:/usr/bin:/bin\n"+rest, 0o755
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	return cmd.Host{Path: bin, Root: root}, state
}

// writeState writes the fake programs' state files.
func writeState(t testing.TB, state string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(state, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readState(t testing.TB, state, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func registry(specs []*modules.Spec) *modules.Registry {
	r := modules.NewRegistry()
	for _, s := range specs {
		r.Register(s)
	}
	return r
}

func kw(pairs ...any) map[string]any {
	m := map[string]any{"__kwarg__": true}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i].(string)] = pairs[i+1]
	}
	return m
}

// call is one function call of a table test and what it must return.
type call struct {
	name    string
	fun     string
	arg     []any
	want    any
	retcode int
}

var pidLine = regexp.MustCompile(`(pid:\n +)\d+`)

func runCalls(t *testing.T, r *modules.Registry, calls []call) {
	t.Helper()
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			res := r.Run(context.Background(), tc.fun, tc.arg, modules.Job{Fun: tc.fun}, &modules.Env{ID: "m1"})
			if s, ok := res.Return.(string); ok {
				res.Return = pidLine.ReplaceAllString(s, "${1}PID") // a pid differs from run to run
			}
			if !reflect.DeepEqual(res.Return, tc.want) || res.Retcode != tc.retcode {
				t.Fatalf("%s%v = %#v (retcode %d)\nwant %#v (retcode %d)", tc.fun, tc.arg, res.Return, res.Retcode, tc.want, tc.retcode)
			}
		})
	}
}

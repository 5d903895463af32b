// Package modtest is what the execution modules' tests share: a fake host
// of shell-script programs and files under a fake root (for modules that
// run the host's tools, such as pkg and service), and a registry and
// kwargs to call module functions the way a publication does.
//
// It is for tests only. The cmd package's own tests cannot use it: it
// imports cmd for cmd.Host.
package modtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
)

// FakeHost lays out a host for a test: programs (shell scripts, by name)
// in a bin directory that is the host's whole PATH, and files under a
// root directory that stands for /. It returns the host and the state
// directory, where the fake programs keep what they pretend to manage.
//
// Each script finds the state directory in $D, the root in $R and the
// usual tools on its own PATH. In files, a path ending in "/" is made as a
// directory, a path starting "@" as a symbolic link to the content, and a
// file whose content starts "#!/bin/sh\n" as an executable script with $D,
// $R and PATH set likewise. Everything is removed when the test ends.
func FakeHost(t testing.TB, programs, files map[string]string) (cmd.Host, string) {
	t.Helper()
	dir := t.TempDir()
	bin, root, state := filepath.Join(dir, "bin"), filepath.Join(dir, "root"), filepath.Join(dir, "state")
	for _, d := range []string{bin, root, state} {
		mkdir(t, d)
	}
	prologue := "#!/bin/sh\nD=" + state + "\nR=" + root + "\nPATH=$PATH:/usr/bin:/bin\n"
	for name, body := range programs {
		writeFile(t, filepath.Join(bin, name), prologue+body, 0o755)
	}
	for p, body := range files {
		if link, ok := strings.CutPrefix(p, "@"); ok {
			full := filepath.Join(root, link)
			mkdir(t, filepath.Dir(full))
			if err := os.Symlink(body, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			mkdir(t, full)
			continue
		}
		mkdir(t, filepath.Dir(full))
		if rest, ok := strings.CutPrefix(body, "#!/bin/sh\n"); ok {
			writeFile(t, full, prologue+rest, 0o755)
			continue
		}
		writeFile(t, full, body, 0o644)
	}
	return cmd.Host{Path: bin, Root: root}, state
}

func mkdir(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, name, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// WriteState writes the fake programs' state files, {name: content}, into
// the state directory FakeHost returned.
func WriteState(t testing.TB, state string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		writeFile(t, filepath.Join(state, name), body, 0o644)
	}
}

// ReadState is the content of the fake programs' state file name, or ""
// when they have not written it.
func ReadState(t testing.TB, state, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// Registry is a registry of specs alone.
func Registry(specs []*modules.Spec) *modules.Registry {
	r := modules.NewRegistry()
	for _, s := range specs {
		r.Register(s)
	}
	return r
}

// Kw is the keyword arguments of a call as a publication carries them: a
// map of the name, value pairs marked with "__kwarg__". An odd number of
// arguments is a mistake in the test: it panics, and staticcheck (SA5012)
// reports such a call before it runs.
func Kw(pairs ...any) map[string]any {
	if len(pairs)%2 != 0 {
		panic(fmt.Sprintf("modtest.Kw: odd number of arguments %v", pairs))
	}
	m := map[string]any{"__kwarg__": true}
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i].(string)] = pairs[i+1]
	}
	return m
}

// Call is one function call of a table test and what it must return. It
// names a struct type rather than declaring one so that tables in other
// packages may list its fields in order, as vet allows only for struct
// types that are not declared elsewhere.
type Call = struct {
	Name    string // the subtest's
	Fun     string
	Arg     []any
	Want    any
	Retcode int
}

// pidLine is the "pid:" entry of a command's result in Salt's nested text
// (an error's info, say): the process id differs from run to run.
var pidLine = regexp.MustCompile(`(pid:\n +)\d+`)

// RunCalls runs each call in a subtest, as minion m1 runs a job, and fails
// the subtest unless it returns Want with Retcode. A process id in a
// string return is replaced by "PID" first.
func RunCalls(t *testing.T, r *modules.Registry, calls []Call) {
	t.Helper()
	for _, tc := range calls {
		t.Run(tc.Name, func(t *testing.T) {
			res := r.Run(context.Background(), tc.Fun, tc.Arg, modules.Job{Fun: tc.Fun}, &modules.Env{ID: "m1"})
			if s, ok := res.Return.(string); ok {
				res.Return = pidLine.ReplaceAllString(s, "${1}PID")
			}
			if !reflect.DeepEqual(res.Return, tc.Want) || res.Retcode != tc.Retcode {
				t.Fatalf("%s%v = %#v (retcode %d)\nwant %#v (retcode %d)", tc.Fun, tc.Arg, res.Return, res.Retcode, tc.Want, tc.Retcode)
			}
		})
	}
}

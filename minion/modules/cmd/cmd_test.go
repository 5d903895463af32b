package cmd

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/brine-project/brine/minion/modules"
)

const jid = "20261127000000000001"

func registry() *modules.Registry {
	r := modules.NewRegistry()
	for _, s := range Specs() {
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

// call runs fun as the command line does (with a job id), or, with
// jobID "", as another module would.
func call(ctx context.Context, env *modules.Env, jobID, fun string, args ...any) modules.Result {
	job := modules.Job{JID: jobID, Fun: fun, Arg: args, TgtAny: "*", TgtType: "glob", User: "root"}
	if env == nil {
		env = &modules.Env{ID: "m1", Jobs: modules.NewTracker()}
	}
	return registry().Run(ctx, fun, args, job, env)
}

// exceptionLine is the last line of Salt's text for a raised exception.
func exceptionLine(ret any) (string, bool) {
	s, ok := ret.(string)
	if !ok || !strings.HasPrefix(s, "The minion function caused an exception: Traceback") {
		return "", false
	}
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:], true
}

func TestRun(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(plain, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	home := homeDir("")
	if unix.Access(home, unix.R_OK) != nil {
		home = "/"
	}
	for _, tc := range []struct {
		name    string
		noJID   bool // called by another module: python_shell defaults to False
		fun     string
		args    []any
		want    any
		retcode int
	}{
		{"shell from the command line", false, "cmd.run", []any{"echo a | tr a b"}, "b", 0},
		{"python_shell False splits the words", false, "cmd.run", []any{"echo a | tr a b", kw("python_shell", false)}, "a | tr a b", 0},
		{"no shell for other modules", true, "cmd.run", []any{"echo $HOME 'x  y'"}, "$HOME x  y", 0},
		{"python_shell True for other modules", true, "cmd.run", []any{"echo a | tr a b", kw("python_shell", true)}, "b", 0},
		{"stderr merged", false, "cmd.run", []any{"echo out; echo err >&2"}, "out\nerr", 0},
		{"default cwd is home", false, "cmd.run", []any{"pwd"}, home, 0},
		{"cwd and env", false, "cmd.run", []any{"pwd; echo $GREETING", kw("cwd", "/", "env", map[string]any{"GREETING": "hello"})}, "/\nhello", 0},
		{"positional cwd", false, "cmd.run", []any{"pwd", "/usr"}, "/usr", 0},
		{"env as a list of dicts", false, "cmd.run", []any{"echo $A$B", kw("env", []any{map[string]any{"A": "1"}, map[string]any{"B": int64(2)}})}, "12", 0},
		{"env None is empty", false, "cmd.run", []any{"echo \"[$A]\"", kw("env", map[string]any{"A": nil})}, "[]", 0},
		{"stdin with \\n made newlines", false, "cmd.run", []any{"cat", kw("stdin", `one\ntwo`)}, "one\ntwo", 0},
		{"stdin_raw_newlines", false, "cmd.run", []any{"cat", kw("stdin", `one\ntwo`, "stdin_raw_newlines", true)}, `one\ntwo`, 0},
		{"no stdin", false, "cmd.run", []any{"cat"}, "", 0},
		{"retcode", false, "cmd.run", []any{"echo failing; exit 3"}, "failing", 3},
		{"ignore_retcode", false, "cmd.run", []any{"exit 3", kw("ignore_retcode", true)}, "", 0},
		{"success_retcodes", false, "cmd.run", []any{"exit 3", kw("success_retcodes", []any{int64(3)})}, "", 0},
		{"success_retcodes as a string", false, "cmd.run", []any{"exit 4", kw("success_retcodes", "3, 4")}, "", 0},
		{"success_stdout", false, "cmd.run", []any{"echo all fine; exit 1", kw("success_stdout", []any{"fine"})}, "all fine", 0},
		{"bad success_retcodes", false, "cmd.run", []any{"true", kw("success_retcodes", "x")}, "ERROR executing 'cmd.run': success_retcodes must be a list of integers", 1},
		{"killed by a signal", false, "cmd.run_all", []any{"kill -TERM $$"}, map[string]any{"retcode": int64(-15), "stdout": "", "stderr": ""}, -15},
		{"rstrip", false, "cmd.run", []any{"printf 'a \\n\\t\\n'"}, "a", 0},
		{"rstrip False", false, "cmd.run", []any{"printf 'a \\n\\n'", kw("rstrip", false)}, "a \n\n", 0},
		{"list command", false, "cmd.run", []any{[]any{"echo", "x  y"}, kw("python_shell", false)}, "x  y", 0},
		{"list command through the shell", false, "cmd.run", []any{[]any{"echo $0", "zero"}}, "zero", 0},
		{"run_all", false, "cmd.run_all", []any{"echo o; echo e >&2; exit 2"}, map[string]any{"retcode": int64(2), "stdout": "o", "stderr": "e"}, 2},
		{"run_all redirect_stderr", false, "cmd.run_all", []any{"echo o; echo e >&2", kw("redirect_stderr", true)}, map[string]any{"retcode": int64(0), "stdout": "o\ne", "stderr": ""}, 0},
		{"run_all hide_output", false, "cmd.run_all", []any{"echo o; echo e >&2", kw("hide_output", true)}, map[string]any{"retcode": int64(0), "stdout": "", "stderr": ""}, 0},
		{"run hide_output", false, "cmd.run", []any{"echo secret", kw("hide_output", true)}, "", 0},
		{"run_stdout", false, "cmd.run_stdout", []any{"echo o; echo e >&2"}, "o", 0},
		{"run_stderr", false, "cmd.run_stderr", []any{"echo o; echo e >&2; exit 1"}, "e", 1},
		{"retcode function", false, "cmd.retcode", []any{"exit 5"}, int64(5), 5},
		{"retcode function ignore_retcode", false, "cmd.retcode", []any{"exit 5", kw("ignore_retcode", true)}, int64(5), 0},
		{"shell always uses the shell", true, "cmd.shell", []any{"echo a | tr a b"}, "b", 0},
		{"shell python_shell False", false, "cmd.shell", []any{"echo a | tr a b", kw("python_shell", false)}, "a | tr a b", 0},
		{"raise_err", false, "cmd.run", []any{"echo boom; exit 1", kw("raise_err", true)}, "ERROR: boom", 1},
		{"raise_err quiet does not raise", false, "cmd.run", []any{"echo boom; exit 1", kw("raise_err", true, "output_loglevel", "quiet")}, "boom", 1},
		{"umask", false, "cmd.run", []any{"umask", kw("umask", "077")}, "0077", 0},
		{"umask without a shell", false, "cmd.run", []any{"sh -c umask", kw("umask", "027", "python_shell", false)}, "0027", 0},
		{"zero umask", false, "cmd.run", []any{"true", kw("umask", "000")}, "ERROR: Zero umask is not allowed.", 1},
		{"bad umask", false, "cmd.run", []any{"true", kw("umask", "99")}, "ERROR: Invalid umask: '99'", 1},
		{"reset_system_locale", false, "cmd.run", []any{"echo $LC_MESSAGES $LANGUAGE", kw("env", map[string]any{"LANGUAGE": "fr"})}, "C fr", 0},
		{"prepend_path", false, "cmd.run", []any{"echo $PATH", kw("prepend_path", "/opt/brine-test/bin")}, "/opt/brine-test/bin:" + os.Getenv("PATH"), 0},
		{"clean_env", false, "cmd.run", []any{"/usr/bin/env", kw("clean_env", true, "env", map[string]any{"ONLY": "this"}, "python_shell", false, "reset_system_locale", false)}, "ONLY=this", 0},
		{"bad cwd", false, "cmd.run", []any{"true", kw("cwd", "/no/such/dir")}, "ERROR: Specified cwd '/no/such/dir' either not absolute or does not exist", 1},
		{"relative cwd", false, "cmd.run", []any{"true", kw("cwd", "tmp")}, "ERROR: Specified cwd 'tmp' either not absolute or does not exist", 1},
		{"bad shell", false, "cmd.run", []any{"true", kw("shell", "/no/such/shell")}, "ERROR: The shell /no/such/shell is not available", 1},
		{"no such program", false, "cmd.run", []any{"nosuchcmd-brine arg", kw("python_shell", false, "cwd", "/")},
			"ERROR: Unable to run command '['nosuchcmd-brine', 'arg']' with the context '{'cwd': '/', 'shell': False}', reason: [Errno 2] No such file or directory: 'nosuchcmd-brine'", 1},
		{"not executable", false, "cmd.run", []any{plain, kw("python_shell", false, "cwd", "/")},
			"ERROR: Unable to run command '['" + plain + "']' with the context '{'cwd': '/', 'shell': False}', reason: [Errno 13] Permission denied: '" + plain + "'", 1},
		{"not found through the shell is exit 127", false, "cmd.retcode", []any{"nosuchcmd-brine 2>/dev/null"}, int64(127), 127},
		{"unclosed quote", false, "cmd.run", []any{"echo 'x", kw("python_shell", false)}, "ValueError: No closing quotation", 1},
		{"empty command", false, "cmd.run", []any{"  "}, "IndexError: list index out of range", 1},
		{"template", false, "cmd.run", []any{"true", kw("template", "jinja")}, "ERROR: Attempted to render file paths with unavailable engine jinja", 1},
		{"bg", false, "cmd.run", []any{"true", kw("bg", true)}, "ERROR: bg=True is not supported: Brine runs a job's commands in the foreground", 1},
		{"timeout not a number", false, "cmd.run", []any{"true", kw("timeout", "soon")}, "salt.exceptions.TimedProcTimeoutError: Error: timeout soon must be a number", 1},
		{"timeout", false, "cmd.run", []any{"sleep 30", kw("timeout", 0.2)}, "sleep 30 : Timed out after 0.2 seconds", 1},
		{"timeout without a shell", false, "cmd.run_all", []any{"sleep 30", kw("timeout", int64(1), "python_shell", false)},
			map[string]any{"retcode": int64(1), "stdout": "['sleep', '30'] : Timed out after 1 seconds", "stderr": ""}, 1},
		{"timeout kills the whole group", false, "cmd.run", []any{"sleep 30 & sleep 30; wait", kw("timeout", 0.2)}, "sleep 30 & sleep 30; wait : Timed out after 0.2 seconds", 1},
		{"unknown runas", false, "cmd.run", []any{"true", kw("runas", "nosuchuser-brine")}, "ERROR: User 'nosuchuser-brine' is not available", 1},
		{"unknown group", false, "cmd.run", []any{"true", kw("group", "nosuchgroup-brine")}, "ERROR: Group 'nosuchgroup-brine' is not available", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := jid
			if tc.noJID {
				id = ""
			}
			start := time.Now()
			res := call(context.Background(), nil, id, tc.fun, tc.args...)
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			got := res.Return
			if line, ok := exceptionLine(got); ok {
				got = line
			}
			if m, ok := got.(map[string]any); ok {
				if pid, _ := m["pid"].(int64); pid <= 0 {
					t.Errorf("pid %v", m["pid"])
				}
				delete(m, "pid")
			}
			if !reflect.DeepEqual(got, tc.want) || res.Retcode != tc.retcode || res.Success != (tc.retcode == 0) {
				t.Fatalf("%s%v = %#v (retcode %d, success %v); want %#v (retcode %d)", tc.fun, tc.args, got, res.Retcode, res.Success, tc.want, tc.retcode)
			}
		})
	}
}

func TestRunas(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runas needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	group := "nogroup"
	if _, err := user.LookupGroup(group); err != nil {
		group = "nobody"
	}
	wantCwd := nobody.HomeDir
	if unix.Access(wantCwd, unix.R_OK) != nil {
		wantCwd = "/"
	}
	for _, tc := range []struct {
		name string
		args []any
		want string
	}{
		{"user, home and default directory", []any{"id -un; echo $HOME $USER; pwd", kw("runas", "nobody")}, "nobody\n" + nobody.HomeDir + " nobody\n" + wantCwd},
		{"group", []any{"id -gn", kw("group", group)}, group},
		{"user and group", []any{"id -un; id -gn", kw("runas", "nobody", "group", group)}, "nobody\n" + group},
		{"env over the user's", []any{"echo $HOME", kw("runas", "nobody", "env", map[string]any{"HOME": "/tmp"})}, "/tmp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := call(context.Background(), nil, jid, "cmd.run", tc.args...)
			if res.Return != tc.want || !res.Success {
				t.Fatalf("cmd.run%v = %#v, want %q", tc.args, res, tc.want)
			}
		})
	}
}

func TestWhich(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		fun  string
		arg  any
		want any
	}{
		{"cmd.which", "sh", sh},
		{"cmd.which", "nosuchcmd-brine", nil},
		{"cmd.which", "/bin/sh", "/bin/sh"},
		{"cmd.has_exec", "sh", true},
		{"cmd.has_exec", "nosuchcmd-brine", false},
		{"cmd.which_bin", []any{"nosuchcmd-brine", "sh"}, sh},
		{"cmd.which_bin", []any{"nosuchcmd-brine"}, nil},
	} {
		if res := call(context.Background(), nil, jid, tc.fun, tc.arg); res.Return != tc.want {
			t.Errorf("%s %v = %#v, want %#v", tc.fun, tc.arg, res.Return, tc.want)
		}
	}
}

// files is a file server that serves the files of a directory (only
// CacheFile: the other methods are not cmd.script's).
type files struct {
	modules.FileClient
	dir  string
	err  error
	seen []string
}

func (f *files) CacheFile(_ context.Context, path, saltenv string) (string, error) {
	f.seen = append(f.seen, saltenv+":"+path)
	if f.err != nil {
		return "", f.err
	}
	return filepath.Join(f.dir, path), nil
}

func TestScript(t *testing.T) {
	srv := t.TempDir()
	body := "#!/bin/sh\necho \"args:$*\"; echo \"in:$(pwd)\"; echo err >&2; exit 3\n"
	if err := os.WriteFile(filepath.Join(srv, "run.sh"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	fs := &files{dir: srv}
	env := &modules.Env{ID: "m1", Jobs: modules.NewTracker(), Files: fs}
	for _, tc := range []struct {
		name    string
		env     *modules.Env
		args    []any
		want    any
		retcode int
	}{
		{"from the master", env, []any{"salt://run.sh", "a 'b c'", work}, map[string]any{"retcode": int64(3), "stdout": "args:a b c\nin:" + work, "stderr": "err"}, 3},
		{"local path", env, []any{filepath.Join(srv, "run.sh"), kw("cwd", "/")}, map[string]any{"retcode": int64(3), "stdout": "args:\nin:/", "stderr": "err"}, 3},
		{"file URL, ignore_retcode", env, []any{"file://" + filepath.Join(srv, "run.sh"), kw("cwd", "/", "ignore_retcode", true)}, map[string]any{"retcode": int64(3), "stdout": "args:\nin:/", "stderr": "err"}, 0},
		{"no such local file", env, []any{filepath.Join(srv, "nope.sh")}, map[string]any{"retcode": int64(1), "stdout": "", "stderr": "", "cache_error": true}, 1},
		{"master has no such file", &modules.Env{Files: &files{err: errors.New("not found")}}, []any{"salt://nope.sh"},
			map[string]any{"retcode": int64(1), "stdout": "", "stderr": "", "cache_error": true}, 1},
		{"no master", &modules.Env{}, []any{"salt://run.sh"}, "ERROR: " + errNoFileServer.Error(), 1},
		{"unsupported scheme", env, []any{"https://example.com/run.sh"}, map[string]any{"retcode": int64(1), "stdout": "", "stderr": "", "cache_error": true}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := call(context.Background(), tc.env, jid, "cmd.script", tc.args...)
			got := res.Return
			if m, ok := got.(map[string]any); ok {
				delete(m, "pid")
			}
			if !reflect.DeepEqual(got, tc.want) || res.Retcode != tc.retcode {
				t.Fatalf("cmd.script%v = %#v (retcode %d); want %#v (retcode %d)", tc.args, got, res.Retcode, tc.want, tc.retcode)
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(work, "__salt.tmp.*")); len(left) > 0 {
		t.Errorf("temporary scripts left behind: %v", left)
	}
	call(context.Background(), env, jid, "cmd.script", "salt://run.sh?saltenv=dev")
	if got := fs.seen[len(fs.seen)-1]; got != "dev:run.sh" {
		t.Errorf("fetched %s, want dev:run.sh", got)
	}
}

// sigCause is what saltutil.signal_job cancels a job with.
type sigCause syscall.Signal

func (s sigCause) Error() string          { return "signalled" }
func (s sigCause) Signal() syscall.Signal { return syscall.Signal(s) }

// A job cancelled with a signal as its cause gives its command's process
// group that signal: here SIGTERM, which the command traps.
func TestSignalledJob(t *testing.T) {
	dir := t.TempDir()
	fifo, mark := filepath.Join(dir, "started"), filepath.Join(dir, "trapped")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan modules.Result, 1)
	go func() {
		done <- call(ctx, nil, jid, "cmd.run", "trap 'echo term > "+mark+"; exit 7' TERM; echo up > "+fifo+"; while :; do sleep 1; done")
	}()
	f, err := os.Open(fifo) // returns once the command opens it to write
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cancel(sigCause(syscall.SIGTERM))
	res := <-done
	if res.Success || !strings.Contains(res.Return.(string), "signalled") {
		t.Fatalf("signalled job returned %#v", res)
	}
	if b, err := os.ReadFile(mark); err != nil || strings.TrimSpace(string(b)) != "term" {
		t.Fatalf("the command did not trap SIGTERM: %q, %v", b, err)
	}
}

func TestShlexSplit(t *testing.T) {
	// Expectations from CPython's shlex.split.
	for in, want := range map[string][]string{
		`a "b\\c\"d" 'e f' g\ h ""`: {"a", `b\c"d`, "e f", "g h", ""},
		`"a\b" 'c\d'`:               {`a\b`, `c\d`},
		"  x\ty\n":                  {"x", "y"},
		`x"y z"w`:                   {"xy zw"},
		"":                          {},
	} {
		got, err := shlexSplit(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("shlexSplit(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{`a "b`: "No closing quotation", `a\`: "No escaped character", `"a\`: "No escaped character"} {
		if _, err := shlexSplit(in); err == nil || err.Error() != want {
			t.Errorf("shlexSplit(%q) error %v, want %s", in, err, want)
		}
	}
}

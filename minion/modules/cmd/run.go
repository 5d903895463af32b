package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// options are the arguments of Salt's cmdmod._run that Brine honours.
type options struct {
	cmd                                           any
	cwd, stdin, env, umask, timeout, template     any
	runas, group, shell, prependPath, loglevel    string
	pythonShell, merge, cleanEnv, rstrip          bool
	resetLocale, ignoreRetcode, hideOutput, bg    bool
	stdinRaw                                      bool
	successRetcodes, successStdout, successStderr any
}

// newOptions reads a call's arguments: its parameters, else its keyword
// arguments (cmd.script passes ignore_retcode and rstrip that way), else
// _run's defaults.
func newOptions(c *modules.Call, pythonShell, merge bool) *options {
	get := func(name string, def any) any {
		if v, ok := c.Args[name]; ok {
			return v
		}
		if v, ok := c.Extra[name]; ok {
			return v
		}
		return def
	}
	str := func(name string) string {
		if v := get(name, nil); pydata.Truthy(v) {
			return pydata.Str(v)
		}
		return ""
	}
	return &options{
		cmd: get("cmd", nil), cwd: get("cwd", nil), stdin: get("stdin", nil), env: get("env", nil),
		umask: get("umask", nil), timeout: get("timeout", nil), template: get("template", nil),
		runas: str("runas"), group: str("group"), shell: pydata.Str(get("shell", defaultShell())),
		prependPath: str("prepend_path"), loglevel: strings.ToLower(pydata.Str(get("output_loglevel", "debug"))),
		pythonShell: pythonShell, merge: merge,
		cleanEnv:        pydata.Truthy(get("clean_env", false)),
		rstrip:          pydata.Truthy(get("rstrip", true)),
		resetLocale:     get("reset_system_locale", true) == true,
		ignoreRetcode:   pydata.Truthy(get("ignore_retcode", false)),
		hideOutput:      pydata.Truthy(get("hide_output", false)),
		bg:              pydata.Truthy(get("bg", false)),
		stdinRaw:        pydata.Truthy(get("stdin_raw_newlines", false)),
		successRetcodes: get("success_retcodes", nil), successStdout: get("success_stdout", nil),
		successStderr: get("success_stderr", nil),
	}
}

// result is what _run returns.
type result struct {
	pid            int
	retcode        int
	stdout, stderr string
}

// dict is cmd.run_all's return.
func (r *result) dict(hide bool) map[string]any {
	out, errOut := r.stdout, r.stderr
	if hide {
		out, errOut = "", ""
	}
	return map[string]any{"pid": int64(r.pid), "retcode": int64(r.retcode), "stdout": out, "stderr": errOut}
}

// errTimedOut is the cause of a command's context when its timeout expires.
var errTimedOut = errors.New("timed out")

// signaller is the cause saltutil.signal_job gives a job's context: the
// signal the job's commands are to get.
type signaller interface{ Signal() syscall.Signal }

// run is Salt's cmdmod._run: it checks the arguments as Salt does, in
// Salt's order, runs the command and sets the job's retcode (0 with
// ignore_retcode). A failure is a *pydata.Exception, an invocationError,
// the context's cause when the job was killed, or a plain error (a
// CommandExecutionError).
func run(ctx context.Context, c *modules.Call, o *options) (*result, error) {
	if fi, err := os.Stat(o.shell); err != nil || !fi.Mode().IsRegular() || unix.Access(o.shell, unix.X_OK) != nil {
		return nil, pydata.CommandErrorf("The shell %s is not available", o.shell)
	}
	var cwd string
	if pydata.Truthy(o.cwd) {
		cwd = pydata.Str(o.cwd)
	} else {
		cwd = homeDir(o.runas)
		if unix.Access(cwd, unix.R_OK) != nil {
			cwd = "/"
		}
	}
	if pydata.Truthy(o.template) {
		return nil, pydata.CommandErrorf("Attempted to render file paths with unavailable engine %s", pydata.Str(o.template))
	}
	if o.bg {
		return nil, errors.New("bg=True is not supported: Brine runs a job's commands in the foreground")
	}
	env := parseEnv(o.env)
	var cred *syscall.Credential
	if o.runas != "" || o.group != "" {
		var err error
		if cred, env, err = credential(o.runas, o.group, env); err != nil {
			return nil, err
		}
	}
	if o.resetLocale {
		for _, k := range []string{"LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY", "LC_MESSAGES",
			"LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION", "LANGUAGE"} {
			if _, ok := env[k]; !ok {
				env[k] = "C"
			}
		}
	}
	runEnv := env
	if !o.cleanEnv {
		runEnv = environ()
		for k, v := range env {
			runEnv[k] = v
		}
	}
	if o.prependPath != "" {
		if p, ok := runEnv["PATH"]; ok {
			runEnv["PATH"] = o.prependPath + ":" + p
		} else {
			runEnv["PATH"] = o.prependPath
		}
	}
	if _, ok := env["NOTIFY_SOCKET"]; !ok {
		delete(runEnv, "NOTIFY_SOCKET")
	}
	umask := -1
	if o.umask != nil {
		s := strings.TrimLeft(pydata.Str(o.umask), "0")
		if s == "" {
			return nil, pydata.CommandErrorf("Zero umask is not allowed.")
		}
		n, err := strconv.ParseInt(s, 8, 32)
		if err != nil {
			return nil, pydata.CommandErrorf("Invalid umask: '%s'", pydata.Str(o.umask))
		}
		umask = int(n)
	}
	if !filepath.IsAbs(cwd) {
		return nil, pydata.CommandErrorf("Specified cwd '%s' either not absolute or does not exist", cwd)
	}
	if fi, err := os.Stat(cwd); err != nil || !fi.IsDir() {
		return nil, pydata.CommandErrorf("Specified cwd '%s' either not absolute or does not exist", cwd)
	}
	argv, shown, err := o.argv()
	if err != nil {
		return nil, err
	}
	successCodes, err := intList(o.successRetcodes)
	if err != nil {
		return nil, err
	}
	var timeout time.Duration
	if pydata.Truthy(o.timeout) {
		if !pydata.IsNumber(o.timeout) {
			return nil, pydata.Errorf("salt.exceptions.TimedProcTimeoutError", "Error: timeout %s must be a number", pydata.Str(o.timeout))
		}
		timeout = seconds(o.timeout)
	}
	path, err := lookPath(argv[0], runEnv["PATH"], cwd)
	if err != nil {
		return nil, pydata.CommandErrorf("Unable to run command '%s' with the context '{'cwd': %s, 'shell': %s}', reason: %v",
			shown, pydata.Repr(cwd), pydata.Repr(o.pythonShell), err)
	}
	if umask >= 0 {
		// The command inherits the umask from a shell that sets it and then
		// becomes the command: Go cannot set one for a child alone.
		argv = append([]string{"/bin/sh", "-c", fmt.Sprintf("umask %04o && exec \"$@\"", umask), "sh", path}, argv[1:]...)
		path = "/bin/sh"
	}

	rctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeoutCause(ctx, timeout, errTimedOut)
		defer cancel()
	}
	cmd := exec.CommandContext(rctx, path)
	cmd.Args = argv
	cmd.Dir = cwd
	cmd.Env = envList(runEnv)
	if o.stdin != nil {
		in := pydata.Str(o.stdin)
		if !o.stdinRaw {
			in = strings.ReplaceAll(in, `\n`, "\n")
		}
		cmd.Stdin = strings.NewReader(in)
	}
	// The command and its children get a process group of their own, which
	// a timeout or saltutil.kill_job signals as a whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.Cancel = func() error {
		sig := syscall.SIGKILL
		var s signaller
		if errors.As(context.Cause(rctx), &s) {
			sig = s.Signal()
		}
		return syscall.Kill(-cmd.Process.Pid, sig)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if o.merge {
		cmd.Stderr = &stdout
	}
	err = cmd.Run()
	ret := &result{}
	if cmd.Process != nil {
		ret.pid = cmd.Process.Pid
	}
	switch {
	case rctx.Err() != nil && ctx.Err() == nil && errors.Is(context.Cause(rctx), errTimedOut):
		ret.stdout = fmt.Sprintf("%s : Timed out after %s seconds", shown, pydata.Str(o.timeout))
		ret.retcode = 1
		if !o.ignoreRetcode {
			c.Retcode = 1
		}
		return ret, nil
	case ctx.Err() != nil:
		return nil, context.Cause(ctx)
	case err != nil && cmd.ProcessState == nil:
		reason := err
		var errno syscall.Errno
		if errors.As(err, &errno) {
			reason = pyOSError(errno, argv[0])
		}
		return nil, pydata.CommandErrorf("Unable to run command '%s' with the context '{'cwd': %s, 'shell': %s}', reason: %v",
			shown, pydata.Repr(cwd), pydata.Repr(o.pythonShell), reason)
	}
	ret.retcode = exitCode(cmd.ProcessState)
	if slicesContains(successCodes, ret.retcode) {
		ret.retcode = 0
	}
	ret.stdout, ret.stderr = decode(stdout.Bytes()), decode(stderr.Bytes())
	if o.rstrip {
		ret.stdout, ret.stderr = rstrip(ret.stdout), rstrip(ret.stderr)
	}
	for _, s := range splitInput(o.successStdout) {
		if strings.Contains(ret.stdout, s) {
			ret.retcode = 0
		}
	}
	for _, s := range splitInput(o.successStderr) {
		if strings.Contains(ret.stderr, s) {
			ret.retcode = 0
		}
	}
	if o.ignoreRetcode {
		c.Retcode = 0
	} else {
		c.Retcode = ret.retcode
	}
	return ret, nil
}

// argv is the command to execute: a string split as a shell would
// (python_shell False) or handed to the shell (True), a list as it is.
// shown is the command as Salt's messages print it.
func (o *options) argv() (argv []string, shown string, err error) {
	l, isList := pydata.List(o.cmd)
	words := make([]string, 0, len(l))
	for _, x := range l {
		words = append(words, pydata.Str(x))
	}
	s := pydata.Str(o.cmd)
	if o.loglevel != "quiet" && ((isList && len(l) == 0) || (!isList && len(strings.Fields(s)) == 0)) {
		// Salt's log line takes the command's first word.
		return nil, "", pydata.Errorf("IndexError", "list index out of range")
	}
	switch {
	case o.pythonShell && isList:
		return append([]string{o.shell, "-c"}, words...), pydata.Repr(l), nil
	case o.pythonShell:
		return []string{o.shell, "-c", s}, s, nil
	case !isList:
		if words, err = shlexSplit(s); err != nil {
			return nil, "", err
		}
	}
	if len(words) == 0 {
		return nil, "", pydata.Errorf("IndexError", "list index out of range")
	}
	shown = pydata.Repr(words)
	return words, shown, nil
}

// homeDir is os.path.expanduser("~user") (the minion's own home for "").
func homeDir(name string) string {
	if name == "" {
		if h := os.Getenv("HOME"); h != "" {
			return h
		}
		if u, err := user.Current(); err == nil {
			return u.HomeDir
		}
		return "~"
	}
	if u, err := user.Lookup(name); err == nil {
		return u.HomeDir
	}
	return "~" + name
}

// parseEnv is Salt's _parse_env: a dict, or a list of one-item dicts;
// anything else is no environment. Values are strings (None is "").
func parseEnv(v any) map[string]string {
	out := map[string]string{}
	add := func(m map[string]any) {
		for k, x := range m {
			if x == nil {
				out[k] = ""
			} else {
				out[k] = pydata.Str(x)
			}
		}
	}
	if m, ok := pydata.Map(v); ok {
		add(m)
	} else if l, ok := pydata.List(v); ok {
		for _, e := range l {
			if m, ok := pydata.Map(e); ok && len(m) == 1 {
				add(m)
			} else if s, ok := e.(string); ok {
				out[s] = ""
			}
		}
	}
	return out
}

func environ() map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// credential is what runas and group switch to, and the environment the
// command then gets: the user's HOME, USER and LOGNAME over the minion's
// (Salt takes the user's whole login environment through su), under env.
func credential(runas, group string, env map[string]string) (*syscall.Credential, map[string]string, error) {
	cur, err := user.Current()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot tell which user the minion runs as: %v", err)
	}
	target := cur
	if runas != "" {
		u, err := user.Lookup(runas)
		if err != nil {
			return nil, nil, pydata.CommandErrorf("User '%s' is not available", runas)
		}
		target = u
	}
	uid, _ := strconv.ParseUint(target.Uid, 10, 32)
	gid, _ := strconv.ParseUint(target.Gid, 10, 32)
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return nil, nil, pydata.CommandErrorf("Group '%s' is not available", group)
		}
		gid, _ = strconv.ParseUint(g.Gid, 10, 32)
	}
	if runas != "" {
		merged := map[string]string{"HOME": target.HomeDir, "USER": target.Username, "LOGNAME": target.Username}
		for k, v := range env {
			merged[k] = v
		}
		env = merged
	}
	if target.Uid == cur.Uid && (group == "" || strconv.FormatUint(gid, 10) == cur.Gid) {
		return nil, env, nil // nothing to switch
	}
	if os.Geteuid() != 0 {
		return nil, nil, fmt.Errorf("runas and group need the minion to run as root (it runs as %s)", cur.Username)
	}
	var groups []uint32
	if ids, err := target.GroupIds(); err == nil {
		for _, id := range ids {
			if n, err := strconv.ParseUint(id, 10, 32); err == nil {
				groups = append(groups, uint32(n))
			}
		}
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}, env, nil
}

// lookPath finds the program as Python's exec does: a name with a slash
// as it is (relative to the command's directory), any other in the
// command's own PATH. Its error is Python's OSError text.
func lookPath(name, path, dir string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return name, execErr(p, name)
	}
	var firstErr error
	for _, d := range strings.Split(path, ":") {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		err := execErr(p, name)
		if err == nil {
			return p, nil
		}
		if firstErr == nil && !errors.Is(err, fs.ErrNotExist) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", firstErr
	}
	return "", pyOSError(syscall.ENOENT, name)
}

// execErr says why p cannot be executed, as Python would report it for
// name.
func execErr(p, name string) error {
	fi, err := os.Stat(p)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return pyOSError(errno, name)
		}
		return pyOSError(syscall.ENOENT, name)
	}
	if fi.IsDir() || unix.Access(p, unix.X_OK) != nil {
		return pyOSError(syscall.EACCES, name)
	}
	return nil
}

type osError struct {
	errno syscall.Errno
	name  string
}

func pyOSError(errno syscall.Errno, name string) error { return &osError{errno, name} }

func (e *osError) Error() string {
	msg := e.errno.Error()
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return fmt.Sprintf("[Errno %d] %s: %s", int(e.errno), msg, pydata.Repr(e.name))
}

func (e *osError) Unwrap() error { return e.errno }

// exitCode is Python's returncode: the exit status, or minus the signal
// that ended the process.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return ps.ExitCode()
}

// decode is bytes.decode("utf-8", errors="replace").
func decode(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		sb.WriteRune(r) // utf8.RuneError for each bad byte
		b = b[n:]
	}
	return sb.String()
}

// rstrip is Python's str.rstrip().
func rstrip(s string) string {
	return strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) })
}

// splitInput is salt.utils.args.split_input: a list, or a comma-separated
// string, of stripped strings.
func splitInput(v any) []string {
	if v == nil {
		return nil
	}
	var out []string
	if l, ok := pydata.List(v); ok {
		for _, x := range l {
			out = append(out, strings.TrimSpace(pydata.Str(x)))
		}
		return out
	}
	for _, s := range strings.Split(pydata.Str(v), ",") {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// intList reads success_retcodes.
func intList(v any) ([]int, error) {
	if v == nil {
		return []int{0}, nil
	}
	var out []int
	for _, s := range splitInput(v) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, invocationError("success_retcodes must be a list of integers")
		}
		out = append(out, n)
	}
	return out, nil
}

// seconds is a number of seconds as a duration (at most about 292 years).
func seconds(v any) time.Duration {
	f := 0.0
	if x, ok := v.(float64); ok {
		f = x
	} else if n, err := pydata.Int(v); err == nil {
		f = float64(n)
	}
	if f*float64(time.Second) > float64(1<<62) {
		return 1 << 62
	}
	return time.Duration(f * float64(time.Second))
}

func slicesContains(l []int, n int) bool {
	for _, x := range l {
		if x == n {
			return true
		}
	}
	return false
}

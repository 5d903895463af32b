package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"
)

// Command is a program for Exec to run without a shell: what modules
// that drive system tools (pkg, service) run, as Salt's modules call
// cmd.run_all with python_shell=False.
type Command struct {
	// Args is the program and its arguments. A program named without a
	// slash is looked up in the PATH of Env.
	Args []string
	// Env is the program's environment; nil means the minion's own.
	Env []string
	// Dir is the working directory; "" means the minion's.
	Dir string
	// Stdin is the program's standard input; nil means none.
	Stdin io.Reader
}

// Result is what a program that ran left behind. Stdout and Stderr have
// trailing white space removed, as cmd.run_all's have.
type Result struct {
	Pid, Code      int
	Stdout, Stderr string
}

// Exec runs c in a process group of its own, which is killed whole when
// ctx ends (a timeout, or saltutil.kill_job). A program that ran and
// exited non-zero is no error: Code says how it ended. The errors are a
// program that could not be started, and the cause of ctx when it ended
// before the program did. Exec is safe for concurrent use.
func Exec(ctx context.Context, c Command) (Result, error) {
	if len(c.Args) == 0 {
		return Result{}, errors.New("no command given")
	}
	env := c.Env
	if env == nil {
		env = os.Environ()
	}
	path, err := LookPath(c.Args[0], env)
	if err != nil {
		return Result{Code: 127}, fmt.Errorf("unable to run command %q: %w", strings.Join(c.Args, " "), err)
	}
	cmd := exec.CommandContext(ctx, path, c.Args[1:]...)
	cmd.Args[0] = c.Args[0]
	cmd.Env = env
	cmd.Dir = c.Dir
	cmd.Stdin = c.Stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := Result{
		Stdout: strings.TrimRightFunc(stdout.String(), unicode.IsSpace),
		Stderr: strings.TrimRightFunc(stderr.String(), unicode.IsSpace),
	}
	if cmd.Process != nil {
		r.Pid = cmd.Process.Pid
	}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, context.Cause(ctx)
	case errors.As(err, &exit):
		r.Code = exit.ExitCode()
	case err != nil:
		return r, fmt.Errorf("unable to run command %q: %w", strings.Join(c.Args, " "), err)
	}
	return r, nil
}

// LookPath finds the program file in the PATH of env (exec.LookPath
// searches the minion's own PATH instead) and returns its path. A name
// with a slash is returned as it is.
func LookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	var dirs string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			dirs = v // the last one wins, as in the program's own environment
		}
	}
	for _, dir := range filepath.SplitList(dirs) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

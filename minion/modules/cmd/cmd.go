// Package cmd is Salt's cmd execution module: run shell commands.
package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"github.com/brine-project/brine/minion/modules"
)

// cmdParams are the options cmd.run and its siblings share.
var cmdParams = []modules.Param{modules.P("cmd"), modules.D("cwd", nil), modules.D("stdin", nil), modules.D("runas", nil), modules.D("shell", "/bin/sh"),
	modules.D("python_shell", nil), modules.D("env", nil), modules.D("timeout", nil), modules.D("output_loglevel", "debug"), modules.D("ignore_retcode", false)}

// Specs are the functions of the cmd module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "cmd.run", Doc: "Run a command; return its output (stdout and stderr together). A non-zero exit code becomes the job's retcode.",
			Params: cmdParams, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				r, err := runCmd(ctx, c, true)
				if err != nil {
					return nil, err
				}
				if r.code != 0 && c.Args["ignore_retcode"] != true {
					c.Retcode = r.code
				}
				return r.stdout, nil
			}},
		{Name: "cmd.run_all", Doc: "Run a command; return a dict of pid, retcode, stdout and stderr.",
			Params: cmdParams, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				r, err := runCmd(ctx, c, false)
				if err != nil {
					return nil, err
				}
				if r.code != 0 && c.Args["ignore_retcode"] != true {
					c.Retcode = r.code
				}
				return map[string]any{"pid": int64(r.pid), "retcode": int64(r.code), "stdout": r.stdout, "stderr": r.stderr}, nil
			}},
		{Name: "cmd.retcode", Doc: "Run a command; return its exit code.",
			Params: cmdParams, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				r, err := runCmd(ctx, c, true)
				if err != nil {
					return nil, err
				}
				return int64(r.code), nil
			}},
	}
}

type cmdResult struct {
	pid            int
	code           int
	stdout, stderr string
}

// runCmd runs c's command through its shell, honouring cwd, env, stdin,
// runas and timeout; with merge, stderr goes into stdout as cmd.run does.
func runCmd(ctx context.Context, c *modules.Call, merge bool) (cmdResult, error) {
	command := fmt.Sprint(c.Args["cmd"])
	if command == "" {
		return cmdResult{}, errors.New("no command given")
	}
	if t := c.Args["timeout"]; t != nil {
		d, err := modules.Seconds(t)
		if err != nil {
			return cmdResult{}, err
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, fmt.Errorf("timed out after %v", t))
		defer cancel()
	}
	shell := fmt.Sprint(c.Args["shell"])
	cmd := exec.CommandContext(ctx, shell, "-c", command)
	if cwd, ok := c.Args["cwd"].(string); ok && cwd != "" {
		cmd.Dir = cwd
	}
	cmd.Env = os.Environ()
	if env, ok := c.Args["env"].(map[string]any); ok {
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+fmt.Sprint(v))
		}
	}
	if in, ok := c.Args["stdin"].(string); ok {
		cmd.Stdin = strings.NewReader(in)
	}
	if name, ok := c.Args["runas"].(string); ok && name != "" {
		cred, err := credential(name)
		if err != nil {
			return cmdResult{}, err
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	// The command and its children in their own process group, killed
	// together on timeout or kill_job.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if merge {
		cmd.Stderr = &stdout
	}
	err := cmd.Run()
	r := cmdResult{stdout: strings.TrimRight(stdout.String(), "\n"), stderr: strings.TrimRight(stderr.String(), "\n")}
	if cmd.Process != nil {
		r.pid = cmd.Process.Pid
	}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, context.Cause(ctx)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		return r, fmt.Errorf("unable to run command %q: %v", command, err)
	}
	return r, nil
}

func credential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("user %q is not available: %v", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if os.Geteuid() != 0 && uint64(os.Geteuid()) != uid {
		return nil, fmt.Errorf("runas %q needs the minion to run as root", name)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

package modules

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
	"time"

	"github.com/brine-project/brine/internal/fnmatch"
)

// SaltVersion is what test.version reports: the Salt release whose
// protocol and functions Brine provides.
const SaltVersion = "3006.16"

func testModule() []*Spec {
	return []*Spec{
		{Name: "test.ping", Doc: "Return True: the minion is up and answering.",
			Fn: func(context.Context, *Call) (any, error) { return true, nil }},
		{Name: "test.echo", Doc: "Return the string given.", Params: []Param{P("text")},
			Fn: func(_ context.Context, c *Call) (any, error) { return c.Args["text"], nil }},
		{Name: "test.arg", Doc: "Return the arguments and keyword arguments given (with Salt's __pub_ keywords).",
			VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *Call) (any, error) {
				return map[string]any{"args": anyOrEmpty(c.VarArgs), "kwargs": c.Extra}, nil
			}},
		{Name: "test.sleep", Doc: "Sleep for length seconds, then return True.", Params: []Param{P("length")},
			Fn: func(ctx context.Context, c *Call) (any, error) {
				d, err := seconds(c.Args["length"])
				if err != nil {
					return nil, err
				}
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-t.C:
					return true, nil
				case <-ctx.Done():
					return nil, context.Cause(ctx)
				}
			}},
		{Name: "test.version", Doc: "Return the Salt version the minion speaks.",
			Fn: func(context.Context, *Call) (any, error) { return SaltVersion, nil }},
	}
}

func seconds(v any) (time.Duration, error) {
	switch v := v.(type) {
	case int64:
		return time.Duration(v) * time.Second, nil
	case uint64:
		return time.Duration(v) * time.Second, nil
	case float64:
		return time.Duration(v * float64(time.Second)), nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of seconds", v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%v is not a number of seconds", v)
}

// cmdParams are the options cmd.run and its siblings share.
var cmdParams = []Param{P("cmd"), D("cwd", nil), D("stdin", nil), D("runas", nil), D("shell", "/bin/sh"),
	D("python_shell", nil), D("env", nil), D("timeout", nil), D("output_loglevel", "debug"), D("ignore_retcode", false)}

func cmdModule() []*Spec {
	return []*Spec{
		{Name: "cmd.run", Doc: "Run a command; return its output (stdout and stderr together). A non-zero exit code becomes the job's retcode.",
			Params: cmdParams, VarKw: true,
			Fn: func(ctx context.Context, c *Call) (any, error) {
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
			Fn: func(ctx context.Context, c *Call) (any, error) {
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
			Fn: func(ctx context.Context, c *Call) (any, error) {
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
func runCmd(ctx context.Context, c *Call, merge bool) (cmdResult, error) {
	command := fmt.Sprint(c.Args["cmd"])
	if command == "" {
		return cmdResult{}, errors.New("no command given")
	}
	if t := c.Args["timeout"]; t != nil {
		d, err := seconds(t)
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

// jobData is how saltutil describes a running job.
func jobData(j Job) map[string]any {
	return map[string]any{
		"jid": j.JID, "fun": j.Fun, "arg": anyOrEmpty(j.Arg), "tgt": j.TgtAny, "tgt_type": j.TgtType,
		"user": j.User, "ret": j.Ret, "pid": int64(os.Getpid()),
	}
}

func saltutilModule() []*Spec {
	return []*Spec{
		{Name: "saltutil.running", Doc: "Return the data of every job running on the minion.",
			Fn: func(_ context.Context, c *Call) (any, error) {
				out := []any{}
				for _, j := range c.Env.Jobs.Running() {
					if j.JID != c.Job.JID { // not this very call
						out = append(out, jobData(j))
					}
				}
				return out, nil
			}},
		{Name: "saltutil.find_job", Doc: "Return the data of job jid if it is running, else an empty dict.",
			Params: []Param{P("jid")},
			Fn: func(_ context.Context, c *Call) (any, error) {
				if j, ok := c.Env.Jobs.Find(fmt.Sprint(c.Args["jid"])); ok {
					return jobData(j), nil
				}
				return map[string]any{}, nil
			}},
		{Name: "saltutil.kill_job", Doc: "Kill job jid (its commands get SIGKILL).",
			Params: []Param{P("jid")},
			Fn: func(_ context.Context, c *Call) (any, error) {
				jid := fmt.Sprint(c.Args["jid"])
				if !c.Env.Jobs.Kill(jid, fmt.Errorf("killed by saltutil.kill_job")) {
					return "", nil
				}
				return fmt.Sprintf("Signal %d sent to job %s at pid %d", syscall.SIGKILL, jid, os.Getpid()), nil
			}},
	}
}

func grainsModule() []*Spec {
	return []*Spec{
		{Name: "grains.items", Doc: "Return all grains.",
			Fn: func(_ context.Context, c *Call) (any, error) { return c.Env.Grains(), nil }},
		{Name: "grains.item", Doc: "Return the named grains.", VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *Call) (any, error) {
				g := c.Env.Grains()
				out := map[string]any{}
				for _, k := range c.VarArgs {
					key := fmt.Sprint(k)
					out[key] = traverse(g, key, ":", "")
				}
				return out, nil
			}},
		{Name: "grains.get", Doc: "Return a grain, nested keys joined by delimiter.",
			Params: []Param{P("key"), D("default", ""), D("delimiter", ":")},
			Fn: func(_ context.Context, c *Call) (any, error) {
				return traverse(c.Env.Grains(), fmt.Sprint(c.Args["key"]), fmt.Sprint(c.Args["delimiter"]), c.Args["default"]), nil
			}},
	}
}

// traverse looks key up in nested maps, parts separated by delim.
func traverse(m map[string]any, key, delim string, def any) any {
	var cur any = m
	for _, part := range strings.Split(key, delim) {
		mm, ok := cur.(map[string]any)
		if !ok {
			return def
		}
		if cur, ok = mm[part]; !ok {
			return def
		}
	}
	return cur
}

func sysModule(r *Registry) []*Spec {
	return []*Spec{
		{Name: "sys.list_functions", Doc: "List the functions the minion has, optionally matching globs.", VarArgs: true,
			Fn: func(_ context.Context, c *Call) (any, error) {
				out := []any{}
				for _, n := range r.Names() {
					if len(c.VarArgs) == 0 || matchAny(c.VarArgs, n) {
						out = append(out, n)
					}
				}
				return out, nil
			}},
		{Name: "sys.doc", Doc: "Return the documentation of the functions matching globs.", VarArgs: true,
			Fn: func(_ context.Context, c *Call) (any, error) {
				out := map[string]any{}
				for _, n := range r.Names() {
					if len(c.VarArgs) == 0 || matchAny(c.VarArgs, n) {
						s, _ := r.Lookup(n)
						out[n] = usage(s)
					}
				}
				return out, nil
			}},
	}
}

func matchAny(patterns []any, name string) bool {
	for _, p := range patterns {
		ps := fmt.Sprint(p)
		if fnmatch.Match(ps, name) || fnmatch.Match(ps+".*", name) {
			return true
		}
	}
	return false
}

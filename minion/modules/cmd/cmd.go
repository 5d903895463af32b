// Package cmd is Salt's cmd execution module: run commands on the minion.
//
// The functions take Salt 3006's parameters in Salt's order, so that
// positional arguments land where they do in Salt. Those that only make
// sense on Windows or in Salt's Python internals (password, encoded_cmd,
// output_encoding, log_callback, use_vt, windows_codepage) are accepted and
// ignored; template and bg are refused. A command runs in its own process
// group, which a timeout or saltutil.kill_job ends as a whole.
package cmd

import (
	"context"
	"errors"
	"os"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// defaultShell is Salt's DEFAULT_SHELL: the minion's $SHELL, else /bin/sh.
func defaultShell() string {
	if s := os.Getenv("SHELL"); s != "" {
		return s
	}
	return "/bin/sh"
}

// params builds a parameter list from Salt's names; those with defaults
// take them from defaults.
func params(shell string, names ...string) []modules.Param {
	defaults := map[string]any{
		"cwd": nil, "stdin": nil, "runas": nil, "group": nil, "shell": shell, "python_shell": nil,
		"env": nil, "clean_env": false, "template": nil, "rstrip": true, "umask": nil,
		"output_encoding": nil, "output_loglevel": "debug", "log_callback": nil, "hide_output": false,
		"timeout": nil, "reset_system_locale": true, "ignore_retcode": false, "saltenv": nil,
		"use_vt": false, "bg": false, "password": nil, "encoded_cmd": false, "raise_err": false,
		"prepend_path": nil, "success_retcodes": nil, "success_stdout": nil, "success_stderr": nil,
		"redirect_stderr": false, "args": nil,
	}
	out := make([]modules.Param, len(names))
	for i, n := range names {
		if d, ok := defaults[n]; ok {
			out[i] = modules.D(n, d)
		} else {
			out[i] = modules.P(n)
		}
	}
	return out
}

// Specs are the functions of the cmd module.
func Specs() []*modules.Spec {
	sh := defaultShell()
	return []*modules.Spec{
		{Name: "cmd.run", Doc: runDoc,
			Params: params(sh, "cmd", "cwd", "stdin", "runas", "group", "shell", "python_shell", "env", "clean_env",
				"template", "rstrip", "umask", "output_encoding", "output_loglevel", "log_callback", "hide_output",
				"timeout", "reset_system_locale", "ignore_retcode", "saltenv", "use_vt", "bg", "password",
				"encoded_cmd", "raise_err", "prepend_path", "success_retcodes", "success_stdout", "success_stderr"),
			VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return runOutput(ctx, c, newOptions(c, pythonShellDefault(c, c.Args["python_shell"]), true), "stdout", true)
			}},
		{Name: "cmd.shell", Doc: shellDoc,
			Params: params(sh, "cmd", "cwd", "stdin", "runas", "group", "shell", "env", "clean_env", "template",
				"rstrip", "umask", "output_encoding", "output_loglevel", "log_callback", "hide_output", "timeout",
				"reset_system_locale", "ignore_retcode", "saltenv", "use_vt", "bg", "password", "prepend_path",
				"success_retcodes", "success_stdout", "success_stderr"),
			VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				ps := true
				if v, ok := c.Extra["python_shell"]; ok {
					ps = pydata.Truthy(v)
				}
				return runOutput(ctx, c, newOptions(c, ps, true), "stdout", true)
			}},
		{Name: "cmd.run_stdout", Doc: runStdoutDoc,
			Params: params(sh, "cmd", "cwd", "stdin", "runas", "group", "shell", "python_shell", "env", "clean_env",
				"template", "rstrip", "umask", "output_encoding", "output_loglevel", "log_callback", "hide_output",
				"timeout", "reset_system_locale", "ignore_retcode", "saltenv", "use_vt", "password", "prepend_path",
				"success_retcodes", "success_stdout", "success_stderr"),
			VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return runOutput(ctx, c, newOptions(c, pythonShellDefault(c, c.Args["python_shell"]), false), "stdout", false)
			}},
		{Name: "cmd.run_stderr", Doc: runStderrDoc,
			Params: params(sh, "cmd", "cwd", "stdin", "runas", "group", "shell", "python_shell", "env", "clean_env",
				"template", "rstrip", "umask", "output_encoding", "output_loglevel", "log_callback", "hide_output",
				"timeout", "reset_system_locale", "ignore_retcode", "saltenv", "use_vt", "password", "prepend_path",
				"success_retcodes", "success_stdout", "success_stderr"),
			VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return runOutput(ctx, c, newOptions(c, pythonShellDefault(c, c.Args["python_shell"]), false), "stderr", false)
			}},
		{Name: "cmd.run_all", Doc: runAllDoc,
			Params: params(sh, "cmd", "cwd", "stdin", "runas", "group", "shell", "python_shell", "env", "clean_env",
				"template", "rstrip", "umask", "output_encoding", "output_loglevel", "log_callback", "hide_output",
				"timeout", "reset_system_locale", "ignore_retcode", "saltenv", "use_vt", "redirect_stderr", "password",
				"encoded_cmd", "prepend_path", "success_retcodes", "success_stdout", "success_stderr"),
			VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				o := newOptions(c, pythonShellDefault(c, c.Args["python_shell"]), pydata.Truthy(c.Args["redirect_stderr"]))
				ret, err := run(ctx, c, o)
				if err != nil {
					return fail(c, err)
				}
				return ret.dict(o.hideOutput), nil
			}},
		{Name: "cmd.retcode", Doc: retcodeDoc,
			Params: params(sh, "cmd", "cwd", "stdin", "runas", "group", "shell", "python_shell", "env", "clean_env",
				"template", "umask", "output_encoding", "output_loglevel", "log_callback", "timeout",
				"reset_system_locale", "ignore_retcode", "saltenv", "use_vt", "password", "success_retcodes",
				"success_stdout", "success_stderr"),
			VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				ret, err := run(ctx, c, newOptions(c, pythonShellDefault(c, c.Args["python_shell"]), true))
				if err != nil {
					return fail(c, err)
				}
				return int64(ret.retcode), nil
			}},
		{Name: "cmd.script", Doc: scriptDoc,
			Params: params(sh, "source", "args", "cwd", "stdin", "runas", "group", "shell", "python_shell", "env",
				"template", "umask", "output_encoding", "output_loglevel", "log_callback", "hide_output", "timeout",
				"reset_system_locale", "saltenv", "use_vt", "bg", "password", "success_retcodes", "success_stdout",
				"success_stderr"),
			VarKw: true,
			Fn:    script},
		{Name: "cmd.which", Doc: "Returns the path of an executable available on the minion, None otherwise\n\nCLI Example:\n\n    salt '*' cmd.which cat",
			Params: []modules.Param{modules.P("cmd")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				if p := which(pydata.Str(c.Args["cmd"])); p != "" {
					return p, nil
				}
				return nil, nil
			}},
		{Name: "cmd.which_bin", Doc: "Returns the first command found in a list of commands\n\nCLI Example:\n\n    salt '*' cmd.which_bin '[pip2, pip, pip-python]'",
			Params: []modules.Param{modules.P("cmds")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				l, ok := pydata.List(c.Args["cmds"])
				if !ok {
					l = []any{c.Args["cmds"]}
				}
				for _, x := range l {
					if p := which(pydata.Str(x)); p != "" {
						return p, nil
					}
				}
				return nil, nil
			}},
		{Name: "cmd.has_exec", Doc: "Returns true if the executable is available on the minion, false otherwise\n\nCLI Example:\n\n    salt '*' cmd.has_exec cat",
			Params: []modules.Param{modules.P("cmd")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return which(pydata.Str(c.Args["cmd"])) != "", nil
			}},
	}
}

// pythonShellDefault is Salt's _python_shell_default: a python_shell
// not given is True for a call from the command line (one that has a
// job id: salt and salt-call alike), False for a call from another module.
func pythonShellDefault(c *modules.Call, v any) bool {
	if v == nil {
		return pydata.Truthy(c.Extra["__pub_jid"])
	}
	return pydata.Truthy(v)
}

// runOutput runs the command and returns one of its outputs, as cmd.run,
// cmd.shell, cmd.run_stdout and cmd.run_stderr do. checkErr applies
// run's raise_err.
func runOutput(ctx context.Context, c *modules.Call, o *options, which string, checkErr bool) (any, error) {
	ret, err := run(ctx, c, o)
	if err != nil {
		return fail(c, err)
	}
	out := ret.stdout
	if which == "stderr" {
		out = ret.stderr
	}
	if checkErr && !o.ignoreRetcode && ret.retcode != 0 && o.loglevel != "quiet" && pydata.Truthy(c.Args["raise_err"]) {
		if o.hideOutput {
			out = ""
		}
		return nil, pydata.CommandExecutionError(out)
	}
	if o.hideOutput {
		return "", nil
	}
	return out, nil
}

// invocationError is a SaltInvocationError: Salt returns it as
// "ERROR executing 'fun': msg".
type invocationError string

func (e invocationError) Error() string { return string(e) }

// fail turns run's error into what Salt returns for it: a Python
// exception's traceback text, a SaltInvocationError's text, or (any other
// error, a CommandExecutionError) "ERROR: msg".
func fail(c *modules.Call, err error) (any, error) {
	var pe *pydata.Exception
	if errors.As(err, &pe) {
		return pydata.RaiseErr(c, err)
	}
	var ie invocationError
	if errors.As(err, &ie) {
		return pydata.InvocationError(c, string(ie))
	}
	return nil, err
}

package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// script is cmd.script: fetch the script, copy it to a private temporary
// file, run it with its args and return cmd.run_all's dict.
func script(ctx context.Context, c *modules.Call) (any, error) {
	source := pydata.Str(c.Args["source"])
	saltenv := "base"
	if pydata.Truthy(c.Args["saltenv"]) {
		saltenv = pydata.Str(c.Args["saltenv"])
	}
	if pydata.Truthy(c.Args["template"]) {
		return nil, pydata.CommandErrorf("Attempted to render file paths with unavailable engine %s", pydata.Str(c.Args["template"]))
	}
	srcPath, env, err := splitSource(source)
	if err != nil {
		return nil, err
	}
	if env != "" {
		saltenv = env
	}
	dir := ""
	if pydata.Truthy(c.Args["cwd"]) {
		dir = pydata.Str(c.Args["cwd"])
	}
	tmp, err := os.CreateTemp(dir, "__salt.tmp.*"+path.Ext(srcPath))
	if err != nil {
		return nil, fmt.Errorf("cmd.script: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpPath)

	cached, err := fetch(ctx, c.Env, source, srcPath, saltenv)
	if err != nil {
		if errors.Is(err, errNoFileServer) || ctx.Err() != nil {
			return nil, err
		}
		c.Retcode = 1
		return map[string]any{"pid": int64(0), "retcode": int64(1), "stdout": "", "stderr": "", "cache_error": true}, nil
	}
	if err := copyFile(cached, tmpPath); err != nil {
		return nil, fmt.Errorf("cmd.script: %w", err)
	}
	if err := os.Chmod(tmpPath, 0o500); err != nil {
		return nil, fmt.Errorf("cmd.script: %w", err)
	}
	if runas := c.Args["runas"]; pydata.Truthy(runas) {
		if u, err := user.Lookup(pydata.Str(runas)); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			_ = os.Chown(tmpPath, uid, -1) // run reports a missing user, or a minion not root
		}
	}
	command := shellQuote(tmpPath)
	if a := c.Args["args"]; pydata.Truthy(a) {
		command += " " + pydata.Str(a)
	}
	o := newOptions(c, pythonShellDefault(c, c.Args["python_shell"]), false)
	o.cmd = command
	ret, err := run(ctx, c, o)
	if err != nil {
		return fail(c, err)
	}
	return ret.dict(o.hideOutput), nil
}

// errNoFileServer is cmd.script's error for a salt:// source where there
// is no master (brine-call --local).
var errNoFileServer = errors.New("salt:// sources need the master's file server, which this minion has not got (is it running masterless?)")

// splitSource parts a source into its path and the saltenv a salt:// URL
// names (salt://path?saltenv=dev).
func splitSource(source string) (string, string, error) {
	if !strings.HasPrefix(source, "salt://") {
		return source, "", nil
	}
	p, query, _ := strings.Cut(strings.TrimPrefix(source, "salt://"), "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("cmd.script: bad source %q: %v", source, err)
	}
	return p, q.Get("saltenv"), nil
}

// fetch returns a local copy of the script: the master's file for a
// salt:// source, the file itself for a local path.
func fetch(ctx context.Context, env *modules.Env, source, srcPath, saltenv string) (string, error) {
	switch {
	case strings.HasPrefix(source, "salt://"):
		if env == nil || env.Files == nil {
			return "", errNoFileServer
		}
		return env.Files.CacheFile(ctx, srcPath, saltenv)
	case strings.HasPrefix(source, "file://"):
		srcPath = strings.TrimPrefix(source, "file://")
	case strings.Contains(source, "://"):
		return "", fmt.Errorf("cmd.script: %s sources are not supported: use salt:// or a path on the minion", strings.SplitN(source, "://", 2)[0])
	}
	if !filepath.IsAbs(srcPath) {
		return "", pydata.CommandErrorf("Path '%s' is not absolute", srcPath)
	}
	if _, err := os.Stat(srcPath); err != nil {
		return "", err
	}
	return srcPath, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

var shellSafe = regexp.MustCompile(`^[\w@%+=:,./-]+$`)

// shellQuote is Python's shlex.quote.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

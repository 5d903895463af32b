// Package cp is Salt's cp execution module: files from the master's file
// server (salt:// URLs) to the minion, and files from the minion to the
// master (cp.push, which needs file_recv: True on the master). The work is
// done by the minion's file client (modules.Env.Files); without one (no
// master, as under brine-call --local) every function fails.
package cp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/brine-project/brine/internal/relpath"
	"github.com/brine-project/brine/minion/fileclient"
	"github.com/brine-project/brine/minion/modules"
)

// errNoMaster is the failure of a cp function without a file client.
var errNoMaster = errors.New("cp: no master to fetch files from (this minion has no file client)")

// Specs are the functions of the cp module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		recvChunkedSpec(),
		{Name: "cp.get_file", Doc: getFileDoc, VarKw: true,
			Params: []modules.Param{modules.P("path"), modules.P("dest"), modules.D("saltenv", nil), modules.D("makedirs", false),
				modules.D("template", nil), modules.D("gzip", nil)},
			Fn: getFile},
		{Name: "cp.get_dir", Doc: getDirDoc, VarKw: true,
			Params: []modules.Param{modules.P("path"), modules.P("dest"), modules.D("saltenv", nil), modules.D("template", nil), modules.D("gzip", nil)},
			Fn:     getDir},
		{Name: "cp.cache_file", Doc: cacheFileDoc,
			Params: []modules.Param{modules.P("path"), modules.D("saltenv", nil), modules.D("source_hash", nil),
				modules.D("verify_ssl", true), modules.D("use_etag", false)},
			Fn: cacheFile},
		{Name: "cp.list_master", Doc: "List the files of a saltenv on the master, those whose path starts with prefix.\n\nCLI Example:\n\n    salt '*' cp.list_master",
			Params: []modules.Param{modules.D("saltenv", nil), modules.D("prefix", "")},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if c.Env.Files == nil {
					return nil, errNoMaster
				}
				l, err := c.Env.Files.ListMaster(ctx, str(c.Args["saltenv"]), str(c.Args["prefix"]))
				if err != nil {
					return nil, err
				}
				return anyList(l), nil
			}},
		{Name: "cp.hash_file", Doc: hashFileDoc,
			Params: []modules.Param{modules.P("path"), modules.D("saltenv", nil)},
			Fn:     hashFile},
		{Name: "cp.push", Doc: pushDoc,
			Params: []modules.Param{modules.P("path"), modules.D("keep_symlinks", false), modules.D("upload_path", nil), modules.D("remove_source", false)},
			Fn:     push},
	}
}

const getFileDoc = `Get a single file from the master's file server to dest (into dest when
it is a directory). makedirs creates dest's directory; gzip (1-9) has the
master compress the transfer. A file whose copy at dest already has the
master's hash is not fetched again. Returns dest, or "" when the master has
no such file (or dest's directory is missing and makedirs is False).

The saltenv can be given in the URL: salt://path/to/file?saltenv=dev.
Rendering the path with template= is not supported.

CLI Example:

    salt '*' cp.get_file salt://path/to/file /minion/dest`

const getDirDoc = `Recursively copy a directory from the master's file server: the files
of salt://path/to/dir land in dest/dir/..., empty directories included.
Returns the paths written.

CLI Example:

    salt '*' cp.get_dir salt://path/to/dir/ /minion/dest`

const cacheFileDoc = `Cache a single file from the master on the minion, in
<cachedir>/files/<saltenv>/<path>, fetching it only if the cached copy
differs from the master's. Returns the path of the cached file, or False
when the master has no such file.

CLI Example:

    salt '*' cp.cache_file salt://path/to/file`

const hashFileDoc = `Return the hash of a file on the master's file server (salt://...), or of
a local file given an absolute path: {"hash_type": ..., "hsum": ...}.

CLI Example:

    salt '*' cp.hash_file salt://path/to/file`

const pushDoc = `Push a file from the minion up to the master, which keeps it in
<cachedir>/minions/<minion id>/files/<path> (or upload_path). The master must
have file_recv: True, and the file must fit its file_recv_max_size. path must
be absolute; symbolic links are resolved unless keep_symlinks is True;
remove_source deletes the file once it is pushed. Returns True or False.

CLI Example:

    salt '*' cp.push /etc/fstab
    salt '*' cp.push /etc/fstab upload_path='/new/path/fstab'`

func getFile(ctx context.Context, c *modules.Call) (any, error) {
	if c.Args["template"] != nil {
		return nil, errors.New("cp.get_file: template= (rendering the paths) is not supported")
	}
	if c.Env.Files == nil {
		return nil, errNoMaster
	}
	level, err := gzipLevel(c.Args["gzip"])
	if err != nil {
		return nil, err
	}
	return c.Env.Files.GetFile(ctx, str(c.Args["path"]), str(c.Args["dest"]), str(c.Args["saltenv"]), truthy(c.Args["makedirs"]), level)
}

// getDir is Salt's Client.get_dir: every file under salt://path and every
// empty directory, relative to path's parent, under dest.
func getDir(ctx context.Context, c *modules.Call) (any, error) {
	if c.Args["template"] != nil {
		return nil, errors.New("cp.get_dir: template= (rendering the paths) is not supported")
	}
	files := c.Env.Files
	if files == nil {
		return nil, errNoMaster
	}
	level, err := gzipLevel(c.Args["gzip"])
	if err != nil {
		return nil, err
	}
	dir, saltenv, err := fileclient.ParseURL(strings.TrimRight(str(c.Args["path"]), "/"), str(c.Args["saltenv"]))
	if err != nil {
		return nil, err
	}
	dest := str(c.Args["dest"])
	parent := path.Dir(dir)
	if parent == "." {
		parent = ""
	}
	// local maps a master path under dir to its place under dest; the
	// master's list is checked like any path (a hostile master's
	// "dir/../../x" goes nowhere).
	local := func(p string) (string, bool) {
		if !strings.HasPrefix(p, dir+"/") {
			return "", false // salt://foo must not take salt://foobar
		}
		rel, err := relpath.Clean(strings.TrimPrefix(strings.TrimPrefix(p, parent), "/"))
		if err != nil {
			return "", false
		}
		return filepath.Join(dest, filepath.FromSlash(rel)), true
	}
	out := []any{}
	list, err := files.ListMaster(ctx, saltenv, dir)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		to, ok := local(p)
		if !ok {
			continue
		}
		got, err := files.GetFile(ctx, "salt://"+p, to, saltenv, true, level)
		if err != nil {
			return nil, err
		}
		if got != "" {
			out = append(out, got)
		}
	}
	empty, err := files.ListEmptyDirs(ctx, saltenv, dir)
	if err != nil {
		return nil, err
	}
	for _, p := range empty {
		to, ok := local(p)
		if !ok {
			continue
		}
		if err := os.MkdirAll(to, 0o755); err != nil {
			return nil, err
		}
		out = append(out, to)
	}
	return out, nil
}

func cacheFile(ctx context.Context, c *modules.Call) (any, error) {
	if c.Env.Files == nil {
		return nil, errNoMaster
	}
	p, err := c.Env.Files.CacheFile(ctx, str(c.Args["path"]), str(c.Args["saltenv"]))
	if err != nil {
		return nil, err
	}
	if p == "" {
		return false, nil
	}
	return p, nil
}

func hashFile(ctx context.Context, c *modules.Call) (any, error) {
	if c.Env.Files == nil {
		return nil, errNoMaster
	}
	p := str(c.Args["path"])
	h, err := c.Env.Files.HashFile(ctx, p, str(c.Args["saltenv"]))
	if err != nil {
		return nil, err
	}
	if len(h) == 0 && strings.HasPrefix(p, "salt://") {
		return "", nil // the master's answer for a file it does not have
	}
	return h, nil
}

func push(ctx context.Context, c *modules.Call) (any, error) {
	if c.Env.Files == nil {
		return nil, errNoMaster
	}
	p := str(c.Args["path"])
	if strings.Contains(p, "../") || !filepath.IsAbs(p) {
		return false, nil
	}
	if !truthy(c.Args["keep_symlinks"]) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
	}
	ok, err := c.Env.Files.Push(ctx, p, str(c.Args["upload_path"]))
	if err != nil || !ok {
		return false, err
	}
	if truthy(c.Args["remove_source"]) {
		if err := os.RemoveAll(p); err != nil {
			return false, nil // as Salt: the push happened, the removal did not
		}
	}
	return true, nil
}

// str is an argument as a string, "" for None.
func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	}
	return fmt.Sprint(v)
}

// truthy is an argument as Python would test it, with Salt's CLI strings.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		switch strings.ToLower(v) {
		case "", "0", "false", "no", "off", "none":
			return false
		}
		return true
	case int64:
		return v != 0
	case float64:
		return v != 0
	}
	return true
}

func gzipLevel(v any) (int, error) {
	var n int64
	switch v := v.(type) {
	case nil:
		return 0, nil
	case int64:
		n = v
	case float64:
		n = int64(v)
	case string:
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			return 0, fmt.Errorf("gzip must be a level 1-9, not %q", v)
		}
	default:
		return 0, fmt.Errorf("gzip must be a level 1-9, not %v", v)
	}
	if n < 0 || n > 9 {
		return 0, fmt.Errorf("gzip must be a level 1-9, not %d", n)
	}
	return int(n), nil
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Package file is Salt's file execution module: read, write, edit, search,
// copy, link and inspect the files of the minion, set their owners and
// modes, and manage a file from the master's file server.
//
// The functions keep Salt's names, arguments, return values and error
// texts, down to its quirks where a state or a script could depend on them
// (file.line's handling of line endings, file.replace's "diff or bool"
// return, file.find's "error: …" strings). Two things differ by nature:
// regular expressions are Go's RE2, which lacks Python's backreferences
// and lookarounds (a pattern using them is refused with the compiler's
// message), and errors Salt would let escape as a Python traceback come
// back as "ERROR: " and the exception's text ("[Errno 2] No such file or
// directory: '/x'").
package file

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// Specs are the functions of the file module.
func Specs() []*modules.Spec {
	p, d := modules.P, modules.D
	return []*modules.Spec{
		{Name: "file.file_exists", Doc: "Tests to see if path is a valid file.  Returns True/False.\n\nCLI Example:\n\n    salt '*' file.file_exists /etc/passwd",
			Params: []modules.Param{p("path")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				st, err := os.Stat(expanduser(str(c.Args["path"])))
				return err == nil && st.Mode().IsRegular(), nil
			}},
		{Name: "file.directory_exists", Doc: "Tests to see if path is a valid directory.  Returns True/False.\n\nCLI Example:\n\n    salt '*' file.directory_exists /etc",
			Params: []modules.Param{p("path")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return isDir(expanduser(str(c.Args["path"]))), nil
			}},
		{Name: "file.stats", Doc: "Return a dict containing the stats for a given file.\n\nCLI Example:\n\n    salt '*' file.stats /etc/passwd",
			Params: []modules.Param{p("path"), d("hash_type", nil), d("follow_symlinks", true)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return stats(expanduser(str(c.Args["path"])), optStr(c.Args["hash_type"]), pydata.Truthy(c.Args["follow_symlinks"]))
			}},
		{Name: "file.lstat", Doc: "Returns the lstat attributes for the given file or dir. Does not support symbolic links.\n\nCLI Example:\n\n    salt '*' file.lstat /path/to/file",
			Params: []modules.Param{p("path")}, Fn: lstat},
		{Name: "file.get_mode", Doc: "Return the mode of a file.\n\npath\n    file or directory of which to get the mode\n\nfollow_symlinks\n    indicated if symlinks should be followed\n\nCLI Example:\n\n    salt '*' file.get_mode /etc/passwd",
			Params: []modules.Param{p("path"), d("follow_symlinks", true)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return statField(c, "mode")
			}},
		{Name: "file.set_mode", Doc: "Set the mode of a file.\n\npath\n    file or directory of which to set the mode\n\nmode\n    mode to set the path to\n\nCLI Example:\n\n    salt '*' file.set_mode /etc/passwd 0644",
			Params: []modules.Param{p("path"), p("mode")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return setMode(expanduser(str(c.Args["path"])), c.Args["mode"])
			}},
		{Name: "file.get_user", Doc: "Return the user that owns a given file.\n\nCLI Example:\n\n    salt '*' file.get_user /etc/passwd",
			Params: []modules.Param{p("path"), d("follow_symlinks", true)},
			Fn:     func(_ context.Context, c *modules.Call) (any, error) { return statField(c, "user") }},
		{Name: "file.get_group", Doc: "Return the group that owns a given file.\n\nCLI Example:\n\n    salt '*' file.get_group /etc/passwd",
			Params: []modules.Param{p("path"), d("follow_symlinks", true)},
			Fn:     func(_ context.Context, c *modules.Call) (any, error) { return statField(c, "group") }},
		{Name: "file.get_uid", Doc: "Return the id of the user that owns a given file.\n\nCLI Example:\n\n    salt '*' file.get_uid /etc/passwd",
			Params: []modules.Param{p("path"), d("follow_symlinks", true)},
			Fn:     func(_ context.Context, c *modules.Call) (any, error) { return statField(c, "uid") }},
		{Name: "file.get_gid", Doc: "Return the id of the group that owns a given file.\n\nCLI Example:\n\n    salt '*' file.get_gid /etc/passwd",
			Params: []modules.Param{p("path"), d("follow_symlinks", true)},
			Fn:     func(_ context.Context, c *modules.Call) (any, error) { return statField(c, "gid") }},
		{Name: "file.chown", Doc: "Chown a file, pass the file the desired user and group.\n\npath\n    path to the file or directory\n\nuser\n    user owner\n\ngroup\n    group owner\n\nCLI Example:\n\n    salt '*' file.chown /etc/passwd root root",
			Params: []modules.Param{p("path"), p("user"), p("group")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return chown(expanduser(str(c.Args["path"])), c.Args["user"], c.Args["group"], false)
			}},
		{Name: "file.lchown", Doc: "Chown a file, pass the file the desired user and group without following symlinks.\n\nCLI Example:\n\n    salt '*' file.chown /etc/passwd root root",
			Params: []modules.Param{p("path"), p("user"), p("group")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return chown(expanduser(str(c.Args["path"])), c.Args["user"], c.Args["group"], true)
			}},
		{Name: "file.chgrp", Doc: "Change the group of a file.\n\nCLI Example:\n\n    salt '*' file.chgrp /etc/passwd root",
			Params: []modules.Param{p("path"), p("group")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				path := expanduser(str(c.Args["path"]))
				st, err := stats(path, "", true)
				if err != nil {
					return nil, err
				}
				return chown(path, st["user"], c.Args["group"], false)
			}},
		{Name: "file.get_hash", Doc: "Get the hash sum of a file.\n\npath\n    path to the file or directory\n\nform\n    desired sum format\n\nchunk_size\n    amount to sum at once\n\nCLI Example:\n\n    salt '*' file.get_hash /etc/shadow",
			Params: []modules.Param{p("path"), d("form", "sha256"), d("chunk_size", int64(65536))},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return getHash(expanduser(str(c.Args["path"])), str(c.Args["form"]))
			}},
		{Name: "file.get_sum", Doc: "Return the checksum for the given file (md5, sha1, sha224, sha256 (default), sha384, sha512).\n\nCLI Example:\n\n    salt '*' file.get_sum /etc/passwd sha512",
			Params: []modules.Param{p("path"), d("form", "sha256")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				path := expanduser(str(c.Args["path"]))
				if !isFile(path) {
					return "File not found", nil
				}
				return getHash(path, str(c.Args["form"]))
			}},
		{Name: "file.check_hash", Doc: "Check if a file matches the given hash string. Returns True if the hash matches, otherwise False.\n\nThe hash may be given with its type (md5=<hash> or md5:<hash>) or without it, the type then known from its length.\n\nCLI Example:\n\n    salt '*' file.check_hash /etc/fstab e138491e9d5b97023cea823fe17bac22\n    salt '*' file.check_hash /etc/fstab md5=e138491e9d5b97023cea823fe17bac22",
			Params: []modules.Param{p("path"), p("file_hash")}, Fn: checkHash},
		{Name: "file.read", Doc: "Return the content of the file.\n\n:param bool binary:\n    Whether to read and return binary data\n\nCLI Example:\n\n    salt '*' file.read /path/to/file",
			Params: []modules.Param{p("path"), d("binary", false)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				path := str(c.Args["path"])
				b, err := os.ReadFile(path)
				if err != nil {
					return nil, pyOSError(err, path)
				}
				if c.Args["binary"] == true {
					return b, nil
				}
				return string(b), nil
			}},
		{Name: "file.write", Doc: "Write text to a file, overwriting any existing contents.\n\npath\n    path to file\n\n`*args`\n    strings to write to the file\n\nCLI Example:\n\n    salt '*' file.write /etc/motd \"With all thine offerings thou shalt offer salt.\"",
			Params: []modules.Param{p("path")}, VarArgs: true, VarKw: true, Fn: write},
		{Name: "file.append", Doc: "Append text to the end of a file.\n\npath\n    path to file\n\n`*args`\n    strings to append to file\n\nCLI Example:\n\n    salt '*' file.append /etc/motd \"With all thine offerings thou shalt offer salt.\"",
			Params: []modules.Param{p("path")}, VarArgs: true, VarKw: true, Fn: appendLines},
		{Name: "file.prepend", Doc: "Prepend text to the beginning of a file.\n\npath\n    path to file\n\n`*args`\n    strings to prepend to the file\n\nCLI Example:\n\n    salt '*' file.prepend /etc/motd \"With all thine offerings thou shalt offer salt.\"",
			Params: []modules.Param{p("path")}, VarArgs: true, VarKw: true, Fn: prepend},
		{Name: "file.touch", Doc: "Just like the ``touch`` command, create a file if it doesn't exist or simply update the atime and mtime if it already does.\n\natime:\n    Access time in Unix epoch time.\nmtime:\n    Last modification in Unix epoch time.\n\nCLI Example:\n\n    salt '*' file.touch /var/log/emptyfile",
			Params: []modules.Param{p("name"), d("atime", nil), d("mtime", nil)}, Fn: touch},
		{Name: "file.remove", Doc: "Remove the named file. If a directory is supplied, it will be recursively deleted.\n\nCLI Example:\n\n    salt '*' file.remove /tmp/foo",
			Params: []modules.Param{p("path")}, VarKw: true, Fn: remove},
		{Name: "file.mkdir", Doc: "Ensure that a directory is available.\n\nCLI Example:\n\n    salt '*' file.mkdir /opt/jetty/context",
			Params: []modules.Param{p("dir_path"), d("user", nil), d("group", nil), d("mode", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				dir := filepath.Clean(expanduser(str(c.Args["dir_path"])))
				if !isDir(dir) {
					if err := makedirsPerms(dir, c.Args["user"], c.Args["group"], c.Args["mode"]); err != nil {
						return nil, err
					}
				}
				return true, nil
			}},
		{Name: "file.makedirs", Doc: "Ensure that the directory containing this path is available.\n\n.. note::\n\n    The path must end with a trailing slash otherwise the directory/directories\n    will be created up to the parent directory.\n\nCLI Example:\n\n    salt '*' file.makedirs /opt/code/",
			Params: []modules.Param{p("path"), d("user", nil), d("group", nil), d("mode", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return makedirs(expanduser(str(c.Args["path"])), c.Args["user"], c.Args["group"], c.Args["mode"])
			}},
		{Name: "file.makedirs_perms", Doc: "Taken and modified from os.makedirs to set user, group and mode for each directory created.\n\nCLI Example:\n\n    salt '*' file.makedirs_perms /opt/code",
			Params: []modules.Param{p("name"), d("user", nil), d("group", nil), d("mode", "0755")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return nil, makedirsPerms(expanduser(str(c.Args["name"])), c.Args["user"], c.Args["group"], c.Args["mode"])
			}},
		{Name: "file.copy", Doc: "Copy a file or directory from source to dst.\n\nIn order to copy a directory, the recurse flag is required, and will by default overwrite files in the destination with the same path, and retain all other existing files. (similar to cp -r on unix)\n\nremove_existing will remove all files in the target directory, and then copy files from the source.\n\nCLI Example:\n\n    salt '*' file.copy /path/to/src /path/to/dst\n    salt '*' file.copy /path/to/src_dir /path/to/dst_dir recurse=True",
			Params: []modules.Param{p("src"), p("dst"), d("recurse", false), d("remove_existing", false)}, Fn: copyFn},
		{Name: "file.rename", Doc: "Rename a file or directory.\n\nCLI Example:\n\n    salt '*' file.rename /path/to/src /path/to/dst",
			Params: []modules.Param{p("src"), p("dst")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				src, dst := expanduser(str(c.Args["src"])), expanduser(str(c.Args["dst"]))
				if !filepath.IsAbs(src) {
					return nil, saltError("File path must be absolute.")
				}
				if err := os.Rename(src, dst); err != nil {
					return nil, saltError(fmt.Sprintf("Could not rename '%s' to '%s'", src, dst))
				}
				return true, nil
			}},
		{Name: "file.symlink", Doc: "Create a symbolic link (symlink, soft link) to a file.\n\nsrc (str): The path to a file or directory\npath (str): The path to the link. Must be an absolute path\nforce (bool): Overwrite an existing symlink with the same name\natomic (bool): Use atomic file operations to create the symlink\n\nCLI Example:\n\n    salt '*' file.symlink /path/to/file /path/to/link",
			Params: []modules.Param{p("src"), p("path"), d("force", false), d("atomic", false)}, Fn: symlink},
		{Name: "file.is_link", Doc: "Check if the path is a symbolic link.\n\nCLI Example:\n\n    salt '*' file.is_link /path/to/link",
			Params: []modules.Param{p("path")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return isLink(expanduser(str(c.Args["path"]))), nil
			}},
		{Name: "file.readlink", Doc: "Return the path that a symlink points to.\n\ncanonicalize (bool): Get the canonical path eliminating any symbolic links encountered in the path\n\nCLI Example:\n\n    salt '*' file.readlink /path/to/link",
			Params: []modules.Param{p("path"), d("canonicalize", false)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				path := os.ExpandEnv(expanduser(str(c.Args["path"])))
				if !filepath.IsAbs(path) {
					return nil, saltError("Path to link must be absolute: " + path)
				}
				if !isLink(path) {
					return nil, saltError("A valid link was not specified: " + path)
				}
				if pydata.Truthy(c.Args["canonicalize"]) {
					return realpath(path), nil
				}
				t, err := os.Readlink(path)
				if err != nil {
					return nil, pyOSError(err, path)
				}
				return t, nil
			}},
		{Name: "file.readdir", Doc: "Return a list containing the contents of a directory.\n\nCLI Example:\n\n    salt '*' file.readdir /path/to/dir/",
			Params: []modules.Param{p("path")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				path := expanduser(str(c.Args["path"]))
				if !filepath.IsAbs(path) {
					return nil, saltError("Dir path must be absolute.")
				}
				if !isDir(path) {
					return nil, saltError("A valid directory was not specified.")
				}
				ents, err := os.ReadDir(path)
				if err != nil {
					return nil, pyOSError(err, path)
				}
				out := []any{".", ".."}
				for _, e := range ents {
					out = append(out, e.Name())
				}
				return out, nil
			}},
		{Name: "file.find", Doc: findDoc, Params: []modules.Param{p("path")}, VarArgs: true, VarKw: true, Fn: find},
		{Name: "file.replace", Doc: replaceDoc, Params: []modules.Param{p("path"), p("pattern"), p("repl"), d("count", int64(0)), d("flags", int64(8)), d("bufsize", int64(1)),
			d("append_if_not_found", false), d("prepend_if_not_found", false), d("not_found_content", nil), d("backup", ".bak"), d("dry_run", false),
			d("search_only", false), d("show_changes", true), d("ignore_if_missing", false), d("preserve_inode", true), d("backslash_literal", false)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) { return replace(replaceArgsOf(c)) }},
		{Name: "file.search", Doc: "Search for occurrences of a pattern in a file.\n\nExcept for multiline, params are identical to file.replace.\n\nmultiline\n    If true, inserts 'MULTILINE' into ``flags`` and sets ``bufsize`` to 'file'.\n\nCLI Example:\n\n    salt '*' file.search /etc/crontab 'mymaintenance.sh'",
			Params: []modules.Param{p("path"), p("pattern"), d("flags", int64(8)), d("bufsize", int64(1)), d("ignore_if_missing", false), d("multiline", false)}, Fn: search},
		{Name: "file.contains", Doc: "Return ``True`` if the file at ``path`` contains ``text``.\n\nCLI Example:\n\n    salt '*' file.contains /etc/crontab 'mymaintenance.sh'",
			Params: []modules.Param{p("path"), p("text")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				b, err := os.ReadFile(expanduser(str(c.Args["path"])))
				if err != nil {
					return false, nil
				}
				return strings.Contains(string(b), strings.TrimSpace(pyStr(c.Args["text"]))), nil
			}},
		{Name: "file.line", Doc: lineDoc, Params: []modules.Param{p("path"), d("content", nil), d("match", nil), d("mode", nil), d("location", nil), d("before", nil), d("after", nil),
			d("show_changes", true), d("backup", false), d("quiet", false), d("indent", true)}, Fn: line},
		{Name: "file.manage_file", Doc: manageDoc, Params: manageParams, VarKw: true, Fn: manageFile},
		{Name: "file.check_perms", Doc: "Check the permissions on files, modify attributes and chown if needed.\n\nCLI Example:\n\n    salt '*' file.check_perms /etc/sudoers '{}' root root 400 ai",
			Params: []modules.Param{p("name"), p("ret"), p("user"), p("group"), p("mode"), d("attrs", nil), d("follow_symlinks", false),
				d("seuser", nil), d("serole", nil), d("setype", nil), d("serange", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				ret, _ := c.Args["ret"].(map[string]any)
				r, perms, err := checkPerms(expanduser(str(c.Args["name"])), ret, c.Args["user"], c.Args["group"], c.Args["mode"], pydata.Truthy(c.Args["follow_symlinks"]))
				if err != nil {
					return nil, err
				}
				return []any{r, perms}, nil
			}},
	}
}

// saltError is an error in Salt's words (the text of its
// CommandExecutionError or SaltInvocationError), capital letter included.
type saltError string

func (e saltError) Error() string { return string(e) }

// pyOSError is the text of the Python OSError Salt would raise for err on
// path: "[Errno 2] No such file or directory: '/x'".
func pyOSError(err error, path string) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	return saltError(fmt.Sprintf("[Errno %d] %s: '%s'", int(errno), strerror(errno), path))
}

// strerror is C's strerror text of errno, which Python shows.
func strerror(errno syscall.Errno) string {
	msg := errno.Error()
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

// str is a string argument; other values as Python's str() shows them.
func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyStr(v)
}

// optStr is a string argument that may be None ("").
func optStr(v any) string {
	if v == nil {
		return ""
	}
	return str(v)
}

// pyStr is Python's str() of a decoded value.
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return v
	case []byte:
		return string(v)
	case float64:
		if v == float64(int64(v)) && v < 1e16 && v > -1e16 {
			return strconv.FormatFloat(v, 'f', 1, 64)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// intArg is an integer argument, from a number or a numeric string.
func intArg(v any, name string) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case uint64:
		return int64(n), nil
	case int:
		return int64(n), nil
	case float64:
		return int64(n), nil
	case bool:
		if n {
			return 1, nil
		}
		return 0, nil
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if err == nil {
			return i, nil
		}
	}
	return 0, saltError(fmt.Sprintf("%s must be an integer, not %s", name, pyStr(v)))
}

// expanduser is Python's os.path.expanduser.
func expanduser(path string) string {
	if !strings.HasPrefix(path, "~") {
		return path
	}
	i := strings.IndexByte(path, '/')
	if i < 0 {
		i = len(path)
	}
	var home string
	if i == 1 {
		home = os.Getenv("HOME")
		if home == "" {
			u, err := user.Current()
			if err != nil {
				return path
			}
			home = u.HomeDir
		}
	} else {
		u, err := user.Lookup(path[1:i])
		if err != nil {
			return path
		}
		home = u.HomeDir
	}
	home = strings.TrimRight(home, "/")
	if out := home + path[i:]; out != "" {
		return out
	}
	return "/"
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func isLink(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.Mode()&fs.ModeSymlink != 0
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// realpath is Python's os.path.realpath: symbolic links resolved as far as
// they go, the rest of the path kept as it is.
func realpath(path string) string {
	if !filepath.IsAbs(path) {
		if wd, err := os.Getwd(); err == nil {
			path = filepath.Join(wd, path)
		}
	}
	resolved := "/"
	rest := strings.Split(filepath.Clean(path), "/")
	for hops := 0; len(rest) > 0; {
		part := rest[0]
		rest = rest[1:]
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			resolved = filepath.Dir(resolved)
			continue
		}
		next := filepath.Join(resolved, part)
		target, err := os.Readlink(next)
		if err != nil || hops > 40 {
			resolved = next
			continue
		}
		hops++
		if filepath.IsAbs(target) {
			resolved = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return resolved
}

// uidToUser is a user's name, or the uid when it has none.
func uidToUser(uid uint32) any {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return u.Username
	}
	return int64(uid)
}

// gidToGroup is a group's name, or the gid when it has none.
func gidToGroup(gid uint32) any {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		return g.Name
	}
	return int64(gid)
}

// normalizeMode is Salt's salt.utils.files.normalize_mode: "644" and
// "0o644" become "0644"; None stays None ("").
func normalizeMode(mode any) string {
	if mode == nil {
		return ""
	}
	s := strings.ReplaceAll(pyStr(mode), "0o", "0")
	s = strings.TrimLeft(strings.Trim(strings.Trim(s, `"`), "'"), "0")
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

func octMode(m uint32) string {
	return normalizeMode("0o" + strconv.FormatUint(uint64(m&0o7777), 8))
}

// fileType is stats' "type" of a file mode.
func fileType(m uint32) string {
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return "dir"
	case syscall.S_IFCHR:
		return "char"
	case syscall.S_IFBLK:
		return "block"
	case syscall.S_IFLNK:
		return "link"
	case syscall.S_IFIFO:
		return "pipe"
	case syscall.S_IFSOCK:
		return "socket"
	}
	return "file"
}

func timespec(ts syscall.Timespec) float64 {
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

// stats is Salt's file.stats: inode, uid, gid, group, user, atime, mtime,
// ctime, size, mode, type, target, and sum when a hash type is given.
func stats(path, hashType string, follow bool) (map[string]any, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		// A broken symlink does not exist, but still has an owner.
		if err := syscall.Lstat(path, &st); err != nil {
			return nil, saltError("Path not found: " + path)
		}
	} else if !follow {
		if err := syscall.Lstat(path, &st); err != nil {
			return nil, saltError("Path not found: " + path)
		}
	}
	ret := map[string]any{
		"inode": int64(st.Ino),
		"uid":   int64(st.Uid),
		"gid":   int64(st.Gid),
		"group": gidToGroup(st.Gid),
		"user":  uidToUser(st.Uid),
		"atime": timespec(st.Atim),
		"mtime": timespec(st.Mtim),
		"ctime": timespec(st.Ctim),
		"size":  st.Size,
		"mode":  octMode(st.Mode),
	}
	if hashType != "" {
		sum, err := getHash(path, hashType)
		if err != nil {
			return nil, err
		}
		ret["sum"] = sum
	}
	ret["type"] = fileType(st.Mode)
	ret["target"] = realpath(path)
	return ret, nil
}

func statField(c *modules.Call, key string) (any, error) {
	st, err := stats(expanduser(str(c.Args["path"])), "", pydata.Truthy(c.Args["follow_symlinks"]))
	if err != nil {
		return nil, err
	}
	return st[key], nil
}

func lstat(_ context.Context, c *modules.Call) (any, error) {
	path := expanduser(str(c.Args["path"]))
	if !filepath.IsAbs(path) {
		return nil, saltError("Path to file must be absolute.")
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return map[string]any{}, nil
	}
	return map[string]any{
		"st_atime": timespec(st.Atim), "st_ctime": timespec(st.Ctim), "st_gid": int64(st.Gid), "st_mode": int64(st.Mode),
		"st_mtime": timespec(st.Mtim), "st_nlink": int64(st.Nlink), "st_size": st.Size, "st_uid": int64(st.Uid),
	}, nil
}

// setMode is Salt's file.set_mode: chmod, then the mode as get_mode reads
// it back, or "Invalid Mode …".
func setMode(path string, mode any) (any, error) {
	m := strings.TrimLeft(pyStr(mode), "0Oo")
	if m == "" {
		m = "0"
	}
	if !exists(path) {
		return nil, saltError(path + ": File not found")
	}
	n, err := strconv.ParseUint(m, 8, 32)
	if err != nil {
		return "Invalid Mode " + m, nil
	}
	if err := os.Chmod(path, fs.FileMode(n&0o777)|goModeBits(uint32(n))); err != nil {
		return "Invalid Mode " + m, nil
	}
	st, err := stats(path, "", true)
	if err != nil {
		return nil, err
	}
	return st["mode"], nil
}

// goModeBits are the setuid, setgid and sticky bits of a Unix mode as
// Go's os.Chmod takes them.
func goModeBits(m uint32) fs.FileMode {
	var out fs.FileMode
	if m&syscall.S_ISUID != 0 {
		out |= fs.ModeSetuid
	}
	if m&syscall.S_ISGID != 0 {
		out |= fs.ModeSetgid
	}
	if m&syscall.S_ISVTX != 0 {
		out |= fs.ModeSticky
	}
	return out
}

// userToUID is Salt's user_to_uid: a uid as given, a name looked up, the
// current user for None; ok is false for an unknown name.
func userToUID(u any) (int, bool) {
	switch v := u.(type) {
	case nil:
		cur, err := user.Current()
		if err != nil {
			return os.Getuid(), true
		}
		id, _ := strconv.Atoi(cur.Uid)
		return id, true
	case int64:
		return int(v), true
	case int:
		return v, true
	}
	usr, err := user.Lookup(str(u))
	if err != nil {
		return 0, false
	}
	id, _ := strconv.Atoi(usr.Uid)
	return id, true
}

// groupToGID is Salt's group_to_gid; ok is false for None or an unknown
// name.
func groupToGID(g any) (int, bool) {
	switch v := g.(type) {
	case nil:
		return 0, false
	case int64:
		return int(v), true
	case int:
		return v, true
	}
	grp, err := user.LookupGroup(str(g))
	if err != nil {
		return 0, false
	}
	id, _ := strconv.Atoi(grp.Gid)
	return id, true
}

// chown is Salt's file.chown (and lchown): None on success, the problems
// as a string ("User does not exist\n…") otherwise.
func chown(path string, usr, grp any, noFollow bool) (any, error) {
	uid, uok := userToUID(usr)
	gid, gok := groupToGID(grp)
	var msg string
	if !uok {
		if pydata.Truthy(usr) {
			msg += "User does not exist\n"
		} else {
			uid = -1
		}
	}
	if !gok {
		if pydata.Truthy(grp) {
			msg += "Group does not exist\n"
		} else {
			gid = -1
		}
	}
	if noFollow {
		if err := os.Lchown(path, uid, gid); err != nil {
			return nil, pyOSError(err, path)
		}
		return nil, nil
	}
	if !exists(path) {
		// Broken symlinks do not exist, but still need to be chowned.
		if msg == "" {
			if err := os.Lchown(path, uid, gid); err == nil {
				return nil, nil
			}
		}
		msg += "File not found"
	}
	if msg != "" {
		return msg, nil
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return nil, pyOSError(err, path)
	}
	return nil, nil
}

// hashLens maps a digest length to its hash type.
var hashLens = map[int]string{32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}

func newHash(form string) hash.Hash {
	switch form {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha224":
		return sha256.New224()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	case "sha512":
		return sha512.New()
	case "sha3_224":
		return sha3.New224()
	case "sha3_256":
		return sha3.New256()
	case "sha3_384":
		return sha3.New384()
	case "sha3_512":
		return sha3.New512()
	}
	return nil
}

// getHash is salt.utils.hashutils.get_hash: the hex digest of a file with
// one of hashlib's algorithms.
func getHash(path, form string) (string, error) {
	h := newHash(form)
	if h == nil {
		return "", saltError("Invalid hash type: " + form)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", pyOSError(err, path)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", pyOSError(err, path)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// supportedHashes is the list Salt gives in its errors:
// "md5 (32), sha1 (40), …".
func supportedHashes() string {
	lens := make([]int, 0, len(hashLens))
	for l := range hashLens {
		lens = append(lens, l)
	}
	sort.Ints(lens)
	parts := make([]string, len(lens))
	for i, l := range lens {
		parts[i] = fmt.Sprintf("%s (%d)", hashLens[l], l)
	}
	return strings.Join(parts, ", ")
}

func checkHash(_ context.Context, c *modules.Call) (any, error) {
	path := expanduser(str(c.Args["path"]))
	fileHash, ok := c.Args["file_hash"].(string)
	if !ok {
		return nil, saltError("hash must be a string")
	}
	var typ, value string
	if i := strings.IndexAny(fileHash, ":="); i >= 0 {
		// Salt tries ':' first, then '='.
		sep := "="
		if strings.Contains(fileHash, ":") {
			sep = ":"
		}
		typ, value, _ = strings.Cut(fileHash, sep)
	} else {
		value = fileHash
		typ, ok = hashLens[len(fileHash)]
		if !ok {
			return nil, saltError(fmt.Sprintf("Hash %s (length: %d) could not be matched to a supported hash type. The supported hash types and lengths are: %s",
				fileHash, len(fileHash), supportedHashes()))
		}
	}
	sum, err := getHash(path, typ)
	if err != nil {
		return nil, err
	}
	return sum == value, nil
}

// lineArgs are the strings of *args, or of the args keyword (one value or
// a list), as write, append and prepend take them.
func lineArgs(c *modules.Call) []string {
	args := c.VarArgs
	if v, ok := c.Extra["args"]; ok {
		if l, ok := v.([]any); ok {
			args = l
		} else {
			args = []any{v}
		}
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = pyStr(a)
	}
	return out
}

func write(_ context.Context, c *modules.Call) (any, error) {
	path := expanduser(str(c.Args["path"]))
	var b strings.Builder
	lines := lineArgs(c)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o666); err != nil {
		return nil, pyOSError(err, path)
	}
	return fmt.Sprintf(`Wrote %d lines to "%s"`, len(lines), path), nil
}

func appendLines(_ context.Context, c *modules.Call) (any, error) {
	path := expanduser(str(c.Args["path"]))
	lines := lineArgs(c)
	// The file must exist: Salt opens it "rb+" to see how it ends.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, pyOSError(err, path)
	}
	defer f.Close()
	var b strings.Builder
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			b.WriteString("\n")
		}
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return nil, pyOSError(err, path)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		return nil, pyOSError(err, path)
	}
	if err := f.Close(); err != nil {
		return nil, pyOSError(err, path)
	}
	return fmt.Sprintf(`Wrote %d lines to "%s"`, len(lines), path), nil
}

func prepend(_ context.Context, c *modules.Call) (any, error) {
	path := expanduser(str(c.Args["path"]))
	lines := lineArgs(c)
	old, err := os.ReadFile(path)
	if err != nil {
		old = nil
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	b.Write(old)
	if err := os.WriteFile(path, []byte(b.String()), 0o666); err != nil {
		return nil, pyOSError(err, path)
	}
	return fmt.Sprintf(`Prepended %d lines to "%s"`, len(lines), path), nil
}

// epoch reads touch's atime or mtime: a number of seconds, or None.
func epoch(v any) (time.Time, bool, error) {
	switch n := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case int64:
		return time.Unix(n, 0), true, nil
	case float64:
		sec := int64(n)
		return time.Unix(sec, int64((n-float64(sec))*1e9)), true, nil
	case string:
		if i, err := strconv.ParseInt(n, 10, 64); err == nil && strings.Trim(n, "0123456789") == "" {
			return time.Unix(i, 0), true, nil
		}
	case bool:
		if !n {
			return time.Unix(0, 0), true, nil
		}
		return time.Unix(1, 0), true, nil
	}
	return time.Time{}, false, saltError("atime and mtime must be integers")
}

func touch(_ context.Context, c *modules.Call) (any, error) {
	name := expanduser(str(c.Args["name"]))
	atime, hasA, err := epoch(c.Args["atime"])
	if err != nil {
		return nil, err
	}
	mtime, hasM, err := epoch(c.Args["mtime"])
	if err != nil {
		return nil, err
	}
	if !exists(name) {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			return nil, saltError(osStrerror(err))
		}
		f.Close()
	}
	now := time.Now()
	if !hasA {
		atime = now
	}
	if !hasM {
		mtime = now
	}
	if err := os.Chtimes(name, atime, mtime); err != nil {
		return nil, saltError(osStrerror(err))
	}
	return exists(name), nil
}

// osStrerror is an OSError's strerror: "Permission denied".
func osStrerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return strerror(errno)
	}
	return err.Error()
}

func remove(_ context.Context, c *modules.Call) (any, error) {
	path := expanduser(str(c.Args["path"]))
	if !filepath.IsAbs(path) {
		return nil, saltError("File path must be absolute: " + path)
	}
	switch {
	case isLink(path) || (exists(path) && !isDir(path)):
		if err := os.Remove(path); err != nil {
			return nil, saltError(fmt.Sprintf("Could not remove '%s': %v", path, pyOSError(err, path)))
		}
		return true, nil
	case isDir(path):
		if err := removeTree(path); err != nil {
			return nil, saltError(fmt.Sprintf("Could not remove '%s': %v", path, err))
		}
		return true, nil
	}
	return false, nil
}

// removeTree is shutil.rmtree, failing with the OSError of the first entry
// it cannot remove.
func removeTree(path string) error {
	err := os.RemoveAll(path)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pyOSError(pe.Err, pe.Path)
	}
	return err
}

// makedirs is Salt's file.makedirs: create the parents of path (path
// itself when it ends in '/'), each with user, group and mode; a message
// when there is nothing to do.
func makedirs(path string, usr, grp, mode any) (any, error) {
	if pydata.Truthy(mode) {
		mode = normalizeMode(mode)
	}
	dir := filepath.Clean(filepath.Dir(path))
	if isDir(dir) {
		return fmt.Sprintf("Directory '%s' already exists", dir), nil
	}
	if exists(dir) {
		return fmt.Sprintf("The path '%s' already exists and is not a directory", dir), nil
	}
	var create []string
	for !isDir(dir) {
		create = append(create, dir)
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, saltError(fmt.Sprintf("Recursive creation for path '%s' would result in an infinite loop. Please use an absolute path.", parent))
		}
		dir = parent
	}
	for i := len(create) - 1; i >= 0; i-- {
		if !isDir(create[i]) {
			if err := makedirsPerms(create[i], usr, grp, mode); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// makedirsPerms is Salt's makedirs_perms: os.makedirs, setting user, group
// and mode on each directory it creates.
func makedirsPerms(name string, usr, grp, mode any) error {
	head, tail := filepath.Split(name)
	if tail == "" {
		head, tail = filepath.Split(strings.TrimRight(head, "/"))
	}
	head = strings.TrimRight(head, "/")
	if head != "" && tail != "" && !exists(head) {
		if err := makedirsPerms(head, usr, grp, mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if tail == "." {
			return nil
		}
	}
	if err := os.Mkdir(name, 0o777); err != nil {
		return pyOSError(err, name)
	}
	var m any
	if pydata.Truthy(mode) {
		m = mode
	}
	_, _, err := checkPerms(name, nil, usr, grp, m, false)
	return err
}

func copyFn(_ context.Context, c *modules.Call) (any, error) {
	src, dst := expanduser(str(c.Args["src"])), expanduser(str(c.Args["dst"]))
	if !filepath.IsAbs(src) {
		return nil, saltError("File path must be absolute.")
	}
	if !exists(src) {
		return nil, saltError(fmt.Sprintf("No such file or directory '%s'", src))
	}
	pre, err := stats(src, "", true)
	if err != nil {
		return nil, err
	}
	couldNot := saltError(fmt.Sprintf("Could not copy '%s' to '%s'", src, dst))
	if isDir(dst) || isDir(src) {
		if !pydata.Truthy(c.Args["recurse"]) {
			return nil, saltError("Cannot copy overwriting a directory without recurse flag set to true!")
		}
		if pydata.Truthy(c.Args["remove_existing"]) {
			if exists(dst) {
				if err := os.RemoveAll(dst); err != nil {
					return nil, couldNot
				}
			}
			if err := copyTree(src, dst); err != nil {
				return nil, couldNot
			}
		} else if err := recursiveCopy(src, dst); err != nil {
			return nil, couldNot
		}
	} else if err := copyFile(src, dst); err != nil {
		return nil, couldNot
	}
	if _, _, err := checkPerms(dst, nil, pre["user"], pre["group"], pre["mode"], false); err != nil {
		return nil, err
	}
	return true, nil
}

// copyFile is shutil.copyfile: the contents only, following links, into
// dst (created, or truncated in place).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// recursiveCopy is salt.utils.files.recursive_copy: the tree of src into
// dst, overwriting files, keeping the others.
func recursiveCopy(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if !exists(target) {
				return os.MkdirAll(target, 0o777)
			}
			return nil
		}
		return copyFile(p, target)
	})
}

// copyTree is shutil.copytree: dst created, files copied with their modes
// and times, directories with their modes.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.IsDir() {
			if err := os.MkdirAll(target, 0o777); err != nil {
				return err
			}
			return os.Chmod(target, st.Mode().Perm()|st.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
		}
		if err := copyFile(p, target); err != nil {
			return err
		}
		if err := os.Chmod(target, st.Mode().Perm()); err != nil {
			return err
		}
		return os.Chtimes(target, st.ModTime(), st.ModTime())
	})
}

func symlink(_ context.Context, c *modules.Call) (any, error) {
	src := str(c.Args["src"])
	path := expanduser(str(c.Args["path"]))
	force, atomic := pydata.Truthy(c.Args["force"]), pydata.Truthy(c.Args["atomic"])
	if !filepath.IsAbs(path) {
		return nil, saltError("Link path must be absolute: " + path)
	}
	if isLink(path) {
		if t, err := os.Readlink(path); err == nil && filepath.Clean(t) == filepath.Clean(src) {
			return true, nil
		}
		if !force && !atomic {
			return nil, saltError("Found existing symlink: " + path)
		}
	}
	if exists(path) && !force && !atomic {
		return nil, saltError("Existing path is not a symlink: " + path)
	}
	couldNot := saltError(fmt.Sprintf("Could not create '%s'", path))
	switch {
	case atomic:
		tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".tmp%d%d", os.Getpid(), time.Now().UnixNano()))
		if err := os.Symlink(src, tmp); err != nil {
			return nil, couldNot
		}
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			return nil, couldNot
		}
		return true, nil
	case force && (isLink(path) || exists(path)):
		if err := os.Remove(path); err != nil {
			return nil, pyOSError(err, path)
		}
	}
	if err := os.Symlink(src, path); err != nil {
		return nil, couldNot
	}
	return true, nil
}

package file

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// same is Python's == between a user or group given (a name or an id) and
// one read from stats.
func same(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case int:
		y, ok := b.(int64)
		return ok && int64(x) == y
	}
	return false
}

func isInt(v any) bool {
	switch v.(type) {
	case int64, int:
		return true
	}
	return false
}

// checkPerms is Salt's file.check_perms (without file attributes and
// SELinux contexts): set the user, group and mode of name where they
// differ, and record in ret's changes what changed and in its comment
// what could not be. It returns ret and the perms dict Salt returns with
// it (luser, lgroup, lmode, and cuser, cgroup, cmode for what it changed).
func checkPerms(name string, ret map[string]any, usr, grp, mode any, follow bool) (map[string]any, map[string]any, error) {
	m := normalizeMode(mode)
	var comments []string
	origComment := ""
	if len(ret) == 0 {
		ret = map[string]any{"name": name, "changes": map[string]any{}, "comment": "", "result": true}
	} else {
		origComment, _ = ret["comment"].(string)
		if _, ok := ret["changes"].(map[string]any); !ok {
			ret["changes"] = map[string]any{}
		}
	}
	changes := ret["changes"].(map[string]any)
	cur, err := stats(name, "", follow)
	if err != nil {
		return nil, nil, err
	}
	perms := map[string]any{"luser": cur["user"], "lgroup": cur["group"], "lmode": cur["mode"]}
	if isInt(usr) {
		perms["luser"] = cur["uid"]
	}
	if isInt(grp) {
		perms["lgroup"] = cur["gid"]
	}
	link := isLink(name)
	if pydata.Truthy(usr) && !same(usr, cur["user"]) && !same(usr, cur["uid"]) {
		perms["cuser"] = usr
	}
	if pydata.Truthy(grp) && !same(grp, cur["group"]) && !same(grp, cur["gid"]) {
		perms["cgroup"] = grp
	}
	if perms["cuser"] != nil || perms["cgroup"] != nil {
		u, g := usr, grp
		if u == nil {
			u = cur["user"]
		}
		if g == nil {
			g = cur["group"]
		}
		msg, err := chown(name, u, g, link && !follow)
		switch {
		case err != nil:
			ret["result"] = false
		case msg != nil:
			ret["result"] = false
			comments = append(comments, msg.(string))
		default:
			// chown(2) clears the setuid and setgid bits: set the mode
			// again.
			if _, err := setMode(name, cur["mode"]); err != nil {
				return nil, nil, err
			}
		}
	}
	if m != "" && !(link && !follow) && m != cur["mode"] {
		perms["cmode"] = m
		if _, err := setMode(name, m); err != nil {
			return nil, nil, err
		}
	}
	post, err := stats(name, "", follow)
	if err != nil {
		return nil, nil, err
	}
	if pydata.Truthy(usr) {
		if !same(usr, post["user"]) && !same(usr, post["uid"]) {
			ret["result"] = false
			comments = append(comments, "Failed to change user to "+pyStr(usr))
		} else if perms["cuser"] != nil {
			changes["user"] = usr
		}
	}
	if pydata.Truthy(grp) {
		if !same(grp, post["group"]) && !same(grp, post["gid"]) {
			ret["result"] = false
			comments = append(comments, "Failed to change group to "+pyStr(grp))
		} else if perms["cgroup"] != nil {
			changes["group"] = grp
		}
	}
	if m != "" && !(link && !follow) {
		if m != post["mode"] {
			ret["result"] = false
			comments = append(comments, "Failed to change mode to "+m)
		} else if perms["cmode"] != nil {
			changes["mode"] = m
		}
	}
	if origComment != "" {
		comments = append([]string{origComment}, comments...)
	}
	ret["comment"] = strings.Join(comments, "; ")
	return ret, perms, nil
}

var manageParams = func() []modules.Param {
	p, d := modules.P, modules.D
	return []modules.Param{p("name"), p("sfn"), p("ret"), p("source"), p("source_sum"), p("user"), p("group"), p("mode"), p("attrs"), p("saltenv"), p("backup"),
		d("makedirs", false), d("template", nil), d("show_changes", true), d("contents", nil), d("dir_mode", nil), d("follow_symlinks", true),
		d("skip_verify", false), d("keep_mode", false), d("encoding", nil), d("encoding_errors", "strict"), d("seuser", nil), d("serole", nil),
		d("setype", nil), d("serange", nil), d("verify_ssl", true), d("use_etag", false)}
}()

const manageDoc = `Checks the destination against what was retrieved with get_managed and makes the appropriate modifications (if necessary).

name
    location to place the file

sfn
    location of cached file on the minion ('' to fetch source)

ret
    The initial state return data structure. Pass in ''{}'' to use the default structure.

source
    file reference on the master (salt://), a file:// URL or an absolute path on the minion

source_sum
    sum hash for source ({hash_type: sha256, hsum: <hex>})

user, group, mode
    owner, group and permissions of the file

backup
    backup_mode ('minion' keeps a copy of the replaced file in the cache's file_backup)

makedirs
    make directories if they do not exist

contents
    contents to be placed in the file (instead of source)

CLI Example:

    salt '*' file.manage_file /etc/httpd/conf.d/httpd.conf '' '{}' salt://http/httpd.conf '{hash_type: 'md5', 'hsum': <md5sum>}' root root '755' '' base ''`

// manageError is Salt's _error: the return with result False and comment.
func manageError(ret map[string]any, msg string) map[string]any {
	ret["result"] = false
	ret["comment"] = msg
	return ret
}

// cacheSource fetches a file's source to a local path: salt:// through the
// master's file server, file:// and absolute paths as they are. ok is
// false where Salt's cp.cache_file would return False.
func cacheSource(ctx context.Context, c *modules.Call, source, saltenv string) (string, bool, error) {
	u, err := url.Parse(source)
	switch {
	case err == nil && u.Scheme == "salt":
		if c.Env == nil || c.Env.Files == nil {
			return "", false, fmt.Errorf("unable to fetch %s: this minion has no master file server (brine-call --local?)", source)
		}
		p, err := c.Env.Files.CacheFile(ctx, source, saltenv)
		if err != nil {
			return "", false, fmt.Errorf("fetching %s: %w", source, err)
		}
		return p, p != "", nil
	case err == nil && u.Scheme == "file":
		return u.Path, isFile(u.Path), nil
	case err == nil && u.Scheme != "":
		return "", false, fmt.Errorf("sources of scheme %s are not supported by Brine: use salt://, file:// or a local path", u.Scheme)
	}
	return source, isFile(source), nil
}

func scheme(source string) string {
	if u, err := url.Parse(source); err == nil {
		return u.Scheme
	}
	return ""
}

// readLines is a file's lines as Python's binary readlines gives them:
// split after each "\n".
func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return splitAfterNL(string(b)), nil
}

func splitAfterNL(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// fileDiff is Salt's file.get_diff of two local files without file names:
// "" when they are the same, a note for binary files, else a unified diff.
func fileDiff(a, b string, showChanges bool) (string, error) {
	la, err := readLines(a)
	if err != nil {
		return "", saltError(fmt.Sprintf("Failed to read %s: %s", a, osStrerror(err)))
	}
	lb, err := readLines(b)
	if err != nil {
		return "", saltError(fmt.Sprintf("Failed to read %s: %s", b, osStrerror(err)))
	}
	if strings.Join(la, "") == strings.Join(lb, "") {
		return "", nil
	}
	if !showChanges {
		return "<show_changes=False>", nil
	}
	binA, binB := !isText(a), !isText(b)
	switch {
	case binA && binB:
		return "Replace binary file", nil
	case binA:
		return "Replace binary file with text file", nil
	case binB:
		return "Replace text file with binary file", nil
	}
	return unifiedDiff(la, lb), nil
}

// copyInto is salt.utils.files.copyfile: copy src over dst through a
// temporary file beside it, keeping dst's owner and mode, after backing
// dst up into the cache when backup is "minion" or "both".
func copyInto(src, dst, backup, cachedir string) error {
	if !isFile(src) {
		return saltError("[Errno 2] No such file or directory: " + src)
	}
	if !isDir(filepath.Dir(dst)) {
		return saltError("[Errno 2] No such file or directory: " + dst)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst))
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := copyFile(src, tmp.Name()); err != nil {
		return err
	}
	if (backup == "minion" || backup == "both") && cachedir != "" && exists(dst) {
		if err := backupMinion(dst, filepath.Join(cachedir, "file_backup")); err != nil {
			return err
		}
	}
	var st syscall.Stat_t
	had := syscall.Stat(dst, &st) == nil
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	if had {
		if err := os.Chown(dst, int(st.Uid), int(st.Gid)); err != nil && os.Geteuid() == 0 {
			return err
		}
		return os.Chmod(dst, os.FileMode(st.Mode&0o777)|goModeBits(st.Mode))
	}
	return nil
}

// backupMinion is salt.utils.files.backup_minion: a copy of path in the
// backup root, named after it and the time.
func backupMinion(path, bkroot string) error {
	dir, base := filepath.Split(path)
	stamp := time.Now().Format("Mon_Jan_02_15:04:05.000000_2006")
	stamp = strings.Replace(stamp, ".", "_", 1)
	bkdir := filepath.Join(bkroot, strings.TrimPrefix(dir, "/"))
	if err := os.MkdirAll(bkdir, 0o700); err != nil {
		return err
	}
	dst := filepath.Join(bkdir, base+"_"+stamp)
	if err := copyFile(path, dst); err != nil {
		return err
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err == nil {
		_ = os.Chown(dst, int(st.Uid), int(st.Gid))
		return os.Chmod(dst, os.FileMode(st.Mode&0o777))
	}
	return nil
}

// manageFile is Salt's file.manage_file: make name what source (or
// contents) says, with user, group and mode, and return the state return
// {"name", "changes", "comment", "result"}.
func manageFile(ctx context.Context, c *modules.Call) (any, error) {
	a := c.Args
	name := expanduser(str(a["name"]))
	sfn := optStr(a["sfn"])
	source := optStr(a["source"])
	saltenv := optStr(a["saltenv"])
	if saltenv == "" {
		saltenv = "base"
	}
	usr, grp, mode := a["user"], a["group"], a["mode"]
	if !pydata.Truthy(usr) {
		usr = nil
	}
	if !pydata.Truthy(grp) {
		grp = nil
	}
	if !pydata.Truthy(mode) {
		mode = nil
	}
	follow := pydata.Truthy(a["follow_symlinks"])
	showChanges := pydata.Truthy(a["show_changes"])
	backup := optStr(a["backup"])
	cachedir := ""
	hashType := "sha256"
	if c.Env != nil && c.Env.Config != nil {
		cachedir = c.Env.Config.CacheDir
		if c.Env.Config.HashType != "" {
			hashType = c.Env.Config.HashType
		}
	}
	ret, _ := a["ret"].(map[string]any)
	if len(ret) == 0 {
		ret = map[string]any{"name": name, "changes": map[string]any{}, "comment": "", "result": true}
	}
	if _, ok := ret["changes"].(map[string]any); !ok {
		ret["changes"] = map[string]any{}
	}
	changes := ret["changes"].(map[string]any)
	sum := map[string]any{}
	if m, ok := a["source_sum"].(map[string]any); ok {
		for k, v := range m {
			sum[k] = v
		}
	}
	if h, ok := sum["hsum"].(string); ok {
		sum["hsum"] = strings.ToLower(h)
	}
	sumType := func() string {
		if t, ok := sum["hash_type"].(string); ok && t != "" {
			return t
		}
		return hashType
	}
	checkWeb := source != "" && scheme(source) != "salt" && !pydata.Truthy(a["skip_verify"]) && !pydata.Truthy(a["use_etag"])
	notFound := fmt.Sprintf("Source file '%s' not found", source)
	fetch := func() (bool, error) {
		if sfn != "" {
			return true, nil
		}
		p, ok, err := cacheSource(ctx, c, source, saltenv)
		if err != nil || !ok {
			return false, err
		}
		sfn = p
		return true, nil
	}
	verify := func(target string) bool {
		if !checkWeb || sum["hsum"] == nil {
			return true
		}
		dl, err := getHash(sfn, sumType())
		if err == nil && dl == sum["hsum"] {
			return true
		}
		ret["comment"] = fmt.Sprintf("Specified %s checksum for %s (%s) does not match actual checksum (%s)", sumType(), target, pyStr(sum["hsum"]), dl)
		ret["result"] = false
		return false
	}
	if source != "" {
		if sfn == "" {
			ok, err := fetch()
			if err != nil {
				return nil, err
			}
			if !ok {
				return manageError(ret, notFound), nil
			}
			h, err := getHash(sfn, sumType())
			if err != nil {
				return nil, err
			}
			sum = map[string]any{"hash_type": sumType(), "hsum": h}
		}
		if pydata.Truthy(a["keep_mode"]) {
			if s := scheme(source); s == "salt" || s == "file" || s == "" {
				var st syscall.Stat_t
				if syscall.Stat(sfn, &st) == nil {
					mode = octMode(st.Mode)
				}
			}
		}
	}
	contents, hasContents := a["contents"], a["contents"] != nil
	writeTmp := func() (string, error) {
		f, err := os.CreateTemp("", "__salt.tmp.")
		if err != nil {
			return "", err
		}
		var data []byte
		switch v := contents.(type) {
		case []byte:
			data = v
		default:
			data = []byte(pyStr(v))
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			os.Remove(f.Name())
			return "", err
		}
		return f.Name(), f.Close()
	}

	if isFile(name) || isLink(name) {
		real := name
		if isLink(name) && follow {
			real = realpath(name)
		}
		var nameSum string
		if source != "" && !(!follow && isLink(real)) {
			nameSum, _ = getHash(real, sumType())
		}
		if source != "" && (nameSum == "" || sum["hsum"] != nameSum) {
			ok, err := fetch()
			if err != nil {
				return nil, err
			}
			if !ok {
				return manageError(ret, notFound), nil
			}
			if !verify(source) {
				ret["comment"] = ret["comment"].(string) + ". If the 'source_hash' value refers to a remote file with multiple possible matches, then it may be necessary to set 'source_hash_name'."
				return ret, nil
			}
			if !showChanges {
				changes["diff"] = "<show_changes=False>"
			} else if d, err := fileDiff(real, sfn, true); err != nil {
				changes["diff"] = err.Error()
			} else if d != "" {
				changes["diff"] = d
			}
			if err := copyInto(sfn, real, backup, cachedir); err != nil {
				return manageError(ret, "Failed to commit change: "+err.Error()), nil
			}
		}
		if hasContents {
			tmp, err := writeTmp()
			if err != nil {
				return nil, err
			}
			defer os.Remove(tmp)
			d, err := fileDiff(real, tmp, showChanges)
			if err != nil {
				ret["warnings"] = []any{"Failed to detect changes to file: " + err.Error()}
				d = ""
			}
			if d != "" {
				changes["diff"] = d
				if err := copyInto(tmp, real, backup, cachedir); err != nil {
					return manageError(ret, "Failed to commit change: "+err.Error()), nil
				}
			}
		}
		if isLink(name) && !follow {
			ok, err := fetch()
			if err != nil {
				return nil, err
			}
			if !ok {
				return manageError(ret, notFound), nil
			}
			if !verify(name) {
				return ret, nil
			}
			if err := os.Remove(name); err != nil {
				return manageError(ret, "Failed to commit change: "+err.Error()), nil
			}
			if err := copyInto(sfn, name, backup, cachedir); err != nil {
				return manageError(ret, "Failed to commit change: "+err.Error()), nil
			}
			changes["diff"] = "Replace symbolic link with regular file"
		}
		r, _, err := checkPerms(name, ret, usr, grp, mode, follow)
		if err != nil {
			return nil, err
		}
		ret = r
		if len(ret["changes"].(map[string]any)) > 0 {
			ret["comment"] = "File " + name + " updated"
		} else if ret["result"] == true {
			ret["comment"] = fmt.Sprintf("File %s is in the correct state", name)
		}
		return ret, nil
	}

	// The file does not exist.
	dir := filepath.Dir(name)
	makeDirs := func() error {
		dirMode := a["dir_mode"]
		if dirMode == nil && mode != nil {
			// An execute bit for each digit that grants something, so the
			// directories can be listed.
			digits := []byte(pyStr(mode))
			if len(digits) > 3 {
				digits = digits[len(digits)-3:]
			}
			for i, ch := range digits {
				if ch != '0' && ch >= '0' && ch <= '7' {
					digits[i] = (ch - '0') | 1 + '0'
				}
			}
			dirMode = string(digits)
		}
		_, err := makedirs(name, usr, grp, dirMode)
		return err
	}
	if source != "" {
		ok, err := fetch()
		if err != nil {
			return nil, err
		}
		if !ok {
			return manageError(ret, notFound), nil
		}
		if !verify(name) {
			return ret, nil
		}
		changes["diff"] = "New file"
	}
	if !isDir(dir) {
		if !pydata.Truthy(a["makedirs"]) {
			delete(changes, "diff")
			return manageError(ret, "Parent directory not present"), nil
		}
		if err := makeDirs(); err != nil {
			return nil, err
		}
	}
	if source == "" {
		// Created private to the user until its mode is set (Salt sets
		// the umask to 077; changing the process's umask would race with
		// the other jobs).
		perm := os.FileMode(0o666)
		if mode != nil {
			perm = 0o600
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm)
		if err != nil {
			if hasContents {
				return manageError(ret, fmt.Sprintf("File %s not created", name)), nil
			}
			return manageError(ret, fmt.Sprintf("Empty file %s not created", name)), nil
		}
		f.Close()
		if hasContents {
			changes["diff"] = "New file"
		} else {
			changes["new"] = fmt.Sprintf("file %s created", name)
			ret["comment"] = "Empty file"
		}
	}
	switch {
	case hasContents:
		tmp, err := writeTmp()
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp)
		if err := copyInto(tmp, name, backup, cachedir); err != nil {
			return nil, err
		}
	case sfn != "":
		if err := copyInto(sfn, name, backup, cachedir); err != nil {
			return nil, err
		}
	}
	if mode == nil {
		mode = "0o" + fmt.Sprintf("%o", (0o777^umask())&0o666)
	}
	r, _, err := checkPerms(name, ret, usr, grp, mode, false)
	if err != nil {
		return nil, err
	}
	ret = r
	if ret["comment"] == "" {
		ret["comment"] = "File " + name + " updated"
	} else if len(ret["changes"].(map[string]any)) == 0 && ret["result"] == true {
		ret["comment"] = "File " + name + " is in the correct state"
	}
	return ret, nil
}

// umask is the process's umask, read without changing it.
func umask() int {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				var m int
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%o", &m); err == nil {
					return m
				}
			}
		}
	}
	return 0o022
}

package file

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

func run(t *testing.T, fun string, arg ...any) modules.Result {
	t.Helper()
	return modtest.Registry(Specs()).Run(context.Background(), fun, arg, modules.Job{Fun: fun}, &modules.Env{})
}

// mustRun runs a function that must succeed.
func mustRun(t *testing.T, fun string, arg ...any) any {
	t.Helper()
	res := run(t, fun, arg...)
	if !res.Success {
		t.Fatalf("%s%v failed: %v", fun, arg, res.Return)
	}
	return res.Return
}

// mustFail runs a function that must fail with the given text.
func mustFail(t *testing.T, want, fun string, arg ...any) {
	t.Helper()
	res := run(t, fun, arg...)
	if res.Success || res.Return != want {
		t.Errorf("%s%v = %v (success %v), want failure %q", fun, arg, res.Return, res.Success, want)
	}
}

func writeFile(t *testing.T, path, body string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func me(t *testing.T) (string, string) {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return u.Username, g.Name
}

func TestExists(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "f"), "x", 0o644)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(f, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, fun, path string
		want            bool
	}{
		{"file", "file.file_exists", f, true},
		{"link to file", "file.file_exists", link, true},
		{"dir is no file", "file.file_exists", dir, false},
		{"missing file", "file.file_exists", filepath.Join(dir, "nope"), false},
		{"dir", "file.directory_exists", dir, true},
		{"file is no dir", "file.directory_exists", f, false},
		{"missing dir", "file.directory_exists", filepath.Join(dir, "nope"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRun(t, tc.fun, tc.path); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStats(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "f"), "hello", 0o640)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(f, link); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken")
	if err := os.Symlink(filepath.Join(dir, "gone"), broken); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	usr, grp := me(t)
	var st syscall.Stat_t
	if err := syscall.Stat(f, &st); err != nil {
		t.Fatal(err)
	}
	got := mustRun(t, "file.stats", f).(map[string]any)
	want := map[string]any{
		"inode": int64(st.Ino), "uid": int64(st.Uid), "gid": int64(st.Gid), "user": usr, "group": grp, "size": int64(5),
		"mode": "0640", "type": "file", "target": f,
		"mtime": float64(st.Mtim.Sec) + float64(st.Mtim.Nsec)*1e-9,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	for _, k := range []string{"atime", "ctime"} {
		if _, ok := got[k].(float64); !ok {
			t.Errorf("%s is not a float: %#v", k, got[k])
		}
	}
	if _, ok := got["sum"]; ok {
		t.Error("sum without hash_type")
	}
	for _, tc := range []struct {
		name       string
		arg        []any
		key        string
		want       any
		wantErrMsg string
	}{
		{name: "hash_type", arg: []any{f, "md5"}, key: "sum", want: "5d41402abc4b2a76b9719d911017c592"},
		{name: "link followed", arg: []any{link}, key: "type", want: "file"},
		{name: "link not followed", arg: []any{link, nil, false}, key: "type", want: "link"},
		{name: "link target", arg: []any{link}, key: "target", want: f},
		{name: "broken link", arg: []any{broken}, key: "type", want: "link"},
		{name: "dir", arg: []any{dir}, key: "type", want: "dir"},
		{name: "fifo", arg: []any{fifo}, key: "type", want: "pipe"},
		{name: "missing", arg: []any{filepath.Join(dir, "nope")}, wantErrMsg: "ERROR: Path not found: " + filepath.Join(dir, "nope")},
		{name: "bad hash type", arg: []any{f, "crc32"}, wantErrMsg: "ERROR: Invalid hash type: crc32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantErrMsg != "" {
				mustFail(t, tc.wantErrMsg, "file.stats", tc.arg...)
				return
			}
			if got := mustRun(t, "file.stats", tc.arg...).(map[string]any)[tc.key]; got != tc.want {
				t.Errorf("%s = %#v, want %#v", tc.key, got, tc.want)
			}
		})
	}
	if got := mustRun(t, "file.get_user", f); got != usr {
		t.Errorf("get_user %v, want %v", got, usr)
	}
	if got := mustRun(t, "file.get_group", f); got != grp {
		t.Errorf("get_group %v, want %v", got, grp)
	}
	if got := mustRun(t, "file.get_uid", f); got != int64(os.Getuid()) {
		t.Errorf("get_uid %v", got)
	}
	if got := mustRun(t, "file.lstat", link).(map[string]any); got["st_mode"].(int64)&syscall.S_IFMT != syscall.S_IFLNK {
		t.Errorf("lstat of a link: %v", got)
	}
	mustFail(t, "ERROR: Path to file must be absolute.", "file.lstat", "relative")
}

func TestModes(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "f"), "x", 0o644)
	for _, tc := range []struct {
		name string
		mode any
		want any
	}{
		{"string", "0750", "0750"},
		{"no leading zero", "600", "0600"},
		{"int as yaml gives it", int64(644), "0644"},
		{"setuid", "4755", "4755"},
		{"zero", "0", "0000"},
		{"not octal", "8", "Invalid Mode 8"},
		{"nonsense", "u+x", "Invalid Mode u+x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRun(t, "file.set_mode", f, tc.mode); got != tc.want {
				t.Errorf("set_mode %v = %v, want %v", tc.mode, got, tc.want)
			}
		})
	}
	mustRun(t, "file.set_mode", f, "0640")
	if got := mustRun(t, "file.get_mode", f); got != "0640" {
		t.Errorf("get_mode = %v", got)
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o640 {
		t.Errorf("the file's mode is %v", st.Mode())
	}
	missing := filepath.Join(dir, "nope")
	mustFail(t, "ERROR: "+missing+": File not found", "file.set_mode", missing, "0644")
	mustFail(t, "ERROR: Path not found: "+missing, "file.get_mode", missing)
}

func TestChown(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "f"), "x", 0o644)
	usr, grp := me(t)
	missing := filepath.Join(dir, "nope")
	for _, tc := range []struct {
		name       string
		path       string
		user, grp  any
		want       any
		wantFailed bool
	}{
		{name: "names", path: f, user: usr, grp: grp, want: nil},
		{name: "ids", path: f, user: int64(os.Getuid()), grp: int64(os.Getgid()), want: nil},
		{name: "no such user", path: f, user: "no-such-user-brine", grp: grp, want: "User does not exist\n"},
		{name: "no such group", path: f, user: usr, grp: "no-such-group-brine", want: "Group does not exist\n"},
		{name: "missing file", path: missing, user: usr, grp: grp, want: "File not found"},
		{name: "everything wrong", path: missing, user: "no-such-user-brine", grp: "no-such-group-brine", want: "User does not exist\nGroup does not exist\nFile not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRun(t, "file.chown", tc.path, tc.user, tc.grp); got != tc.want {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	if got := mustRun(t, "file.chgrp", f, grp); got != nil {
		t.Errorf("chgrp: %#v", got)
	}
	if os.Geteuid() != 0 {
		want := fmt.Sprintf("ERROR: [Errno 1] Operation not permitted: '%s'", f)
		mustFail(t, want, "file.chown", f, int64(0), int64(0))
	}
}

func TestHashes(t *testing.T) {
	dir := t.TempDir()
	body := "The quick brown fox\n"
	f := writeFile(t, filepath.Join(dir, "f"), body, 0o644)
	md5sum := md5.Sum([]byte(body))
	sha1sum := sha1.Sum([]byte(body))
	sha224sum := sha256.Sum224([]byte(body))
	sha256sum := sha256.Sum256([]byte(body))
	sha384sum := sha512.Sum384([]byte(body))
	sha512sum := sha512.Sum512([]byte(body))
	want := map[string]string{
		"md5": hex.EncodeToString(md5sum[:]), "sha1": hex.EncodeToString(sha1sum[:]), "sha224": hex.EncodeToString(sha224sum[:]),
		"sha256": hex.EncodeToString(sha256sum[:]), "sha384": hex.EncodeToString(sha384sum[:]), "sha512": hex.EncodeToString(sha512sum[:]),
	}
	for form, w := range want {
		t.Run(form, func(t *testing.T) {
			if got := mustRun(t, "file.get_hash", f, form); got != w {
				t.Errorf("get_hash %s = %v, want %v", form, got, w)
			}
			if got := mustRun(t, "file.get_sum", f, form); got != w {
				t.Errorf("get_sum %s = %v", form, got)
			}
			for _, h := range []string{w, form + "=" + w, form + ":" + w} {
				if got := mustRun(t, "file.check_hash", f, h); got != true {
					t.Errorf("check_hash %s = %v", h, got)
				}
			}
		})
	}
	if got := mustRun(t, "file.get_hash", f); got != want["sha256"] {
		t.Errorf("default form: %v", got)
	}
	if got := mustRun(t, "file.check_hash", f, "md5="+strings.Repeat("0", 32)); got != false {
		t.Errorf("wrong hash matched: %v", got)
	}
	mustFail(t, "ERROR: Invalid hash type: crc32", "file.get_hash", f, "crc32")
	mustFail(t, "ERROR: Hash abc (length: 3) could not be matched to a supported hash type. The supported hash types and lengths are: md5 (32), sha1 (40), sha224 (56), sha256 (64), sha384 (96), sha512 (128)",
		"file.check_hash", f, "abc")
	mustFail(t, "ERROR: hash must be a string", "file.check_hash", f, int64(5))
	missing := filepath.Join(dir, "nope")
	mustFail(t, fmt.Sprintf("ERROR: [Errno 2] No such file or directory: '%s'", missing), "file.get_hash", missing)
	if got := mustRun(t, "file.get_sum", missing); got != "File not found" {
		t.Errorf("get_sum of a missing file: %v", got)
	}
	res := run(t, "file.get_hash", f, modtest.Kw("hash_type", "md5"))
	if res.Success || !strings.HasPrefix(res.Return.(string), "Passed invalid arguments to file.get_hash: the following keyword arguments are not valid: hash_type=md5") {
		t.Errorf("unknown keyword: %v", res.Return)
	}
}

func TestReadWrite(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "motd")
	for _, tc := range []struct {
		name string
		fun  string
		arg  []any
		want any
		body string
	}{
		{"write", "file.write", []any{f, "one", "two"}, fmt.Sprintf(`Wrote 2 lines to "%s"`, f), "one\ntwo\n"},
		{"append", "file.append", []any{f, "three"}, fmt.Sprintf(`Wrote 1 lines to "%s"`, f), "one\ntwo\nthree\n"},
		{"prepend", "file.prepend", []any{f, "zero"}, fmt.Sprintf(`Prepended 1 lines to "%s"`, f), "zero\none\ntwo\nthree\n"},
		{"args keyword", "file.write", []any{f, modtest.Kw("args", "a=b")}, fmt.Sprintf(`Wrote 1 lines to "%s"`, f), "a=b\n"},
		{"args list", "file.append", []any{f, modtest.Kw("args", []any{"c=d", int64(5)})}, fmt.Sprintf(`Wrote 2 lines to "%s"`, f), "a=b\nc=d\n5\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRun(t, tc.fun, tc.arg...); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if got := readFile(t, f); got != tc.body {
				t.Errorf("file holds %q, want %q", got, tc.body)
			}
			if got := mustRun(t, "file.read", f); got != tc.body {
				t.Errorf("file.read = %q", got)
			}
		})
	}
	noNL := writeFile(t, filepath.Join(dir, "nonl"), "last", 0o644)
	mustRun(t, "file.append", noNL, "more")
	if got := readFile(t, noNL); got != "last\nmore\n" {
		t.Errorf("append after a missing newline: %q", got)
	}
	if got := mustRun(t, "file.read", noNL, true); !reflect.DeepEqual(got, []byte("last\nmore\n")) {
		t.Errorf("binary read: %#v", got)
	}
	missing := filepath.Join(dir, "nope")
	mustFail(t, fmt.Sprintf("ERROR: [Errno 2] No such file or directory: '%s'", missing), "file.append", missing, "x")
	mustFail(t, fmt.Sprintf("ERROR: [Errno 2] No such file or directory: '%s'", missing), "file.read", missing)
	under := filepath.Join(noNL, "child")
	mustFail(t, fmt.Sprintf("ERROR: [Errno 20] Not a directory: '%s'", under), "file.write", under, "x")
	if os.Geteuid() != 0 {
		locked := writeFile(t, filepath.Join(dir, "locked"), "secret", 0o000)
		mustFail(t, fmt.Sprintf("ERROR: [Errno 13] Permission denied: '%s'", locked), "file.read", locked)
	}
	res := run(t, "file.write")
	if res.Success || !strings.HasPrefix(res.Return.(string), "Passed invalid arguments to file.write: write() missing 1 required positional argument(s): 'path'") {
		t.Errorf("no path: %v", res.Return)
	}
}

func TestTouch(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "new")
	if got := mustRun(t, "file.touch", f); got != true {
		t.Fatalf("touch: %v", got)
	}
	if st, err := os.Stat(f); err != nil || st.Size() != 0 {
		t.Fatalf("touch made %v, %v", st, err)
	}
	mustRun(t, "file.touch", f, int64(1000000000), "1200000000")
	st, _ := os.Stat(f)
	if st.ModTime().Unix() != 1200000000 {
		t.Errorf("mtime %v", st.ModTime())
	}
	var sys syscall.Stat_t
	if err := syscall.Stat(f, &sys); err != nil || sys.Atim.Sec != 1000000000 {
		t.Errorf("atime %v", sys.Atim)
	}
	mustFail(t, "ERROR: atime and mtime must be integers", "file.touch", f, "yesterday")
	mustFail(t, "ERROR: No such file or directory", "file.touch", filepath.Join(dir, "no", "dir"))
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "f"), "x", 0o644)
	tree := filepath.Join(dir, "tree")
	writeFile(t, filepath.Join(tree, "a", "b"), "x", 0o644)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(tree, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       any
	}{
		{"link to a dir", link, true},
		{"file", f, true},
		{"tree", tree, true},
		{"missing", f, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRun(t, "file.remove", tc.path); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if _, err := os.Lstat(tc.path); err == nil {
				t.Errorf("%s still there", tc.path)
			}
		})
	}
	mustFail(t, "ERROR: File path must be absolute: rel/path", "file.remove", "rel/path")
}

func TestDirectories(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "a", "b", "c")
	if got := mustRun(t, "file.mkdir", deep, nil, nil, "750"); got != true {
		t.Fatalf("mkdir: %v", got)
	}
	for _, d := range []string{filepath.Join(dir, "a"), filepath.Join(dir, "a", "b"), deep} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != 0o750 {
			t.Errorf("%s: %v %v", d, st, err)
		}
	}
	if got := mustRun(t, "file.mkdir", deep); got != true {
		t.Errorf("mkdir again: %v", got)
	}
	if got := mustRun(t, "file.makedirs", filepath.Join(dir, "x", "y", "file")); got != nil {
		t.Errorf("makedirs: %v", got)
	}
	if !isDir(filepath.Join(dir, "x", "y")) || exists(filepath.Join(dir, "x", "y", "file")) {
		t.Error("makedirs made the wrong directories")
	}
	if got := mustRun(t, "file.makedirs", filepath.Join(dir, "x", "y", "file")); got != fmt.Sprintf("Directory '%s' already exists", filepath.Join(dir, "x", "y")) {
		t.Errorf("makedirs again: %v", got)
	}
	f := writeFile(t, filepath.Join(dir, "plain"), "x", 0o644)
	if got := mustRun(t, "file.makedirs", filepath.Join(f, "sub")); got != fmt.Sprintf("The path '%s' already exists and is not a directory", f) {
		t.Errorf("makedirs over a file: %v", got)
	}
	mustFail(t, fmt.Sprintf("ERROR: [Errno 17] File exists: '%s'", f), "file.mkdir", f)
	got := mustRun(t, "file.readdir", filepath.Join(dir, "a")).([]any)
	if !reflect.DeepEqual(got, []any{".", "..", "b"}) {
		t.Errorf("readdir: %v", got)
	}
	mustFail(t, "ERROR: Dir path must be absolute.", "file.readdir", "a")
	mustFail(t, "ERROR: A valid directory was not specified.", "file.readdir", f)
}

func TestCopyRename(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "src"), "data\n", 0o640)
	dst := filepath.Join(dir, "dst")
	if got := mustRun(t, "file.copy", src, dst); got != true {
		t.Fatalf("copy: %v", got)
	}
	if readFile(t, dst) != "data\n" {
		t.Error("copy lost the contents")
	}
	if st, _ := os.Stat(dst); st.Mode().Perm() != 0o640 {
		t.Errorf("copy did not keep the mode: %v", st.Mode())
	}
	tree := filepath.Join(dir, "tree")
	writeFile(t, filepath.Join(tree, "sub", "f"), "f\n", 0o644)
	treeCopy := filepath.Join(dir, "copy")
	mustFail(t, "ERROR: Cannot copy overwriting a directory without recurse flag set to true!", "file.copy", tree, treeCopy)
	mustRun(t, "file.copy", tree, treeCopy, true)
	if readFile(t, filepath.Join(treeCopy, "sub", "f")) != "f\n" {
		t.Error("recursive copy")
	}
	extra := writeFile(t, filepath.Join(treeCopy, "extra"), "keep", 0o644)
	mustRun(t, "file.copy", tree, treeCopy, modtest.Kw("recurse", true))
	if !exists(extra) {
		t.Error("recurse removed a file it should keep")
	}
	mustRun(t, "file.copy", tree, treeCopy, modtest.Kw("recurse", true, "remove_existing", true))
	if exists(extra) {
		t.Error("remove_existing kept a file")
	}
	missing := filepath.Join(dir, "nope")
	mustFail(t, fmt.Sprintf("ERROR: No such file or directory '%s'", missing), "file.copy", missing, dst)
	mustFail(t, "ERROR: File path must be absolute.", "file.copy", "src", dst)
	bad := filepath.Join(src, "x")
	mustFail(t, fmt.Sprintf("ERROR: Could not copy '%s' to '%s'", src, bad), "file.copy", src, bad)

	moved := filepath.Join(dir, "moved")
	if got := mustRun(t, "file.rename", dst, moved); got != true || exists(dst) || !exists(moved) {
		t.Errorf("rename: %v", got)
	}
	mustFail(t, fmt.Sprintf("ERROR: Could not rename '%s' to '%s'", dst, moved), "file.rename", dst, moved)
	mustFail(t, "ERROR: File path must be absolute.", "file.rename", "dst", moved)
}

func TestSymlink(t *testing.T) {
	dir := t.TempDir()
	target := writeFile(t, filepath.Join(dir, "target"), "x", 0o644)
	other := writeFile(t, filepath.Join(dir, "other"), "y", 0o644)
	link := filepath.Join(dir, "link")
	if got := mustRun(t, "file.symlink", target, link); got != true {
		t.Fatalf("symlink: %v", got)
	}
	if got := mustRun(t, "file.symlink", target, link); got != true {
		t.Errorf("the same link again: %v", got)
	}
	mustFail(t, "ERROR: Found existing symlink: "+link, "file.symlink", other, link)
	mustRun(t, "file.symlink", other, link, true)
	if t2, _ := os.Readlink(link); t2 != other {
		t.Errorf("force: link to %s", t2)
	}
	mustRun(t, "file.symlink", target, link, modtest.Kw("atomic", true))
	if t2, _ := os.Readlink(link); t2 != target {
		t.Errorf("atomic: link to %s", t2)
	}
	mustFail(t, "ERROR: Existing path is not a symlink: "+other, "file.symlink", target, other)
	mustFail(t, "ERROR: Link path must be absolute: rel", "file.symlink", target, "rel")
	mustFail(t, fmt.Sprintf("ERROR: Could not create '%s'", filepath.Join(dir, "no", "l")), "file.symlink", target, filepath.Join(dir, "no", "l"))
	if got := mustRun(t, "file.is_link", link); got != true {
		t.Error("is_link")
	}
	if got := mustRun(t, "file.readlink", link); got != target {
		t.Errorf("readlink: %v", got)
	}
	mustFail(t, "ERROR: A valid link was not specified: "+target, "file.readlink", target)
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), "alpha\n", 0o644)
	writeFile(t, filepath.Join(dir, "B.TXT"), "bravo bravo\n", 0o600)
	writeFile(t, filepath.Join(dir, "sub", "c.log"), strings.Repeat("c", 2048), 0o644)
	writeFile(t, filepath.Join(dir, "sub", "deeper", "d.txt"), "", 0o644)
	old := filepath.Join(dir, "sub", "old.bak")
	writeFile(t, old, "old\n", 0o644)
	past := time.Now().Add(-40 * 24 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	p := func(rel ...string) any { return filepath.Join(append([]string{dir}, rel...)...) }
	for _, tc := range []struct {
		name string
		arg  []any
		want any
	}{
		{"everything", nil, []any{p(), p("B.TXT"), p("a.txt"), p("sub"), p("sub", "c.log"), p("sub", "deeper"), p("sub", "deeper", "d.txt"), p("sub", "old.bak")}},
		{"name glob", []any{modtest.Kw("name", "*.txt")}, []any{p("a.txt"), p("sub", "deeper", "d.txt")}},
		{"iname", []any{modtest.Kw("iname", "*.txt")}, []any{p("B.TXT"), p("a.txt"), p("sub", "deeper", "d.txt")}},
		{"regex", []any{modtest.Kw("regex", `[a-c]\.`)}, []any{p("a.txt"), p("sub", "c.log")}},
		{"files", []any{modtest.Kw("type", "f")}, []any{p("B.TXT"), p("a.txt"), p("sub", "c.log"), p("sub", "deeper", "d.txt"), p("sub", "old.bak")}},
		{"dirs", []any{modtest.Kw("type", "d")}, []any{p(), p("sub"), p("sub", "deeper")}},
		{"maxdepth", []any{modtest.Kw("maxdepth", int64(1), "type", "f")}, []any{p("B.TXT"), p("a.txt")}},
		{"mindepth", []any{modtest.Kw("mindepth", int64(3))}, []any{p("sub", "deeper", "d.txt")}},
		{"size bigger", []any{modtest.Kw("size", "+1k", "type", "f")}, []any{p("sub", "c.log")}},
		{"size exact", []any{modtest.Kw("size", "6", "type", "f")}, []any{p("a.txt")}},
		{"size smaller", []any{modtest.Kw("size", "-0", "type", "f")}, []any{p("sub", "deeper", "d.txt")}},
		{"older", []any{modtest.Kw("mtime", "+30d")}, []any{p("sub", "old.bak")}},
		{"newer", []any{modtest.Kw("mtime", "-1d", "type", "f", "name", "*.bak")}, []any{}},
		{"grep", []any{modtest.Kw("grep", "bra+vo")}, []any{p("B.TXT")}},
		{"print fields", []any{modtest.Kw("name", "a.txt", "print", "name,size,mode,type")}, []any{[]any{"a.txt", int64(6), int64(0o644), "f"}}},
		{"print md5", []any{modtest.Kw("name", "a.txt", "print", "md5")}, []any{"ef1a2fe7b7fb1d9e0ea4ba0a9c9e0e0f"}},
		{"print positional", []any{"print", modtest.Kw("name", "c.log")}, []any{p("sub", "c.log")}},
		{"glob in path", []any{}, nil},
		{"invalid option", []any{modtest.Kw("colour", "red")}, `error: invalid option "colour"`},
		{"missing value", []any{modtest.Kw("name", "")}, `error: missing value for "name" option`},
		{"bad type", []any{modtest.Kw("type", "q")}, `error: invalid file type "q"`},
		{"bad size", []any{modtest.Kw("size", "+lots")}, `error: invalid size: "+lots"`},
		{"bad interval", []any{modtest.Kw("mtime", "soon")}, `error: invalid time interval: 'soon'`},
		{"bad regex", []any{modtest.Kw("regex", "(")}, `error: invalid regular expression: "("`},
		{"no such user", []any{modtest.Kw("owner", "no-such-user-brine")}, `error: no such user "no-such-user-brine"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "glob in path" {
				got := mustRun(t, "file.find", filepath.Join(dir, "su?"), modtest.Kw("type", "f", "name", "*.log"))
				if !reflect.DeepEqual(got, []any{p("sub", "c.log")}) {
					t.Errorf("got %v", got)
				}
				return
			}
			got := mustRun(t, "file.find", append([]any{dir}, tc.arg...)...)
			if tc.name == "print md5" {
				sum := md5.Sum([]byte("alpha\n"))
				tc.want = []any{hex.EncodeToString(sum[:])}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
	mustFail(t, "ERROR: file.find: the exec action is not supported by Brine; find the files, then run the command on them with cmd.run", "file.find", dir, modtest.Kw("exec", "ls {}"))
	got := mustRun(t, "file.find", dir, "delete", modtest.Kw("name", "*.bak"))
	if !reflect.DeepEqual(got, []any{p("sub", "old.bak")}) || exists(old) {
		t.Errorf("delete: %v, still there: %v", got, exists(old))
	}
}

// diff is a unified diff as Salt returns it.
func diff(hunks ...string) string { return "--- \n+++ \n" + strings.Join(hunks, "") }

func TestReplace(t *testing.T) {
	const body = "# config\nLogLevel warn\nPort 22\nlisten 0.0.0.0\n"
	for _, tc := range []struct {
		name     string
		body     string
		arg      []any
		want     any
		wantBody string
		backup   string // extension of the backup that must exist
	}{
		{name: "diff", body: body, arg: []any{"LogLevel warn", "LogLevel info"},
			want:     diff("@@ -1,4 +1,4 @@\n # config\n-LogLevel warn\n+LogLevel info\n Port 22\n listen 0.0.0.0\n"),
			wantBody: "# config\nLogLevel info\nPort 22\nlisten 0.0.0.0\n", backup: ".bak"},
		{name: "no match", body: body, arg: []any{"nothing", "x"}, want: "", wantBody: body},
		{name: "bool", body: body, arg: []any{"Port 22", "Port 2222", modtest.Kw("show_changes", false)}, want: true, wantBody: "# config\nLogLevel warn\nPort 2222\nlisten 0.0.0.0\n"},
		{name: "bool no match", body: body, arg: []any{"Port 99", "x", modtest.Kw("show_changes", false)}, want: false, wantBody: body},
		{name: "match without change", body: body, arg: []any{"Port 22", "Port 22", modtest.Kw("show_changes", false)}, want: false, wantBody: body},
		{name: "groups", body: body, arg: []any{`^(\w+) (\d+)$`, `\2 \1`, modtest.Kw("backup", false)}, want: diff("@@ -1,4 +1,4 @@\n # config\n LogLevel warn\n-Port 22\n+22 Port\n listen 0.0.0.0\n"),
			wantBody: "# config\nLogLevel warn\n22 Port\nlisten 0.0.0.0\n"},
		{name: "named group", body: body, arg: []any{`Port (?P<p>\d+)`, `Port \g<p>0`, modtest.Kw("show_changes", false)}, want: true, wantBody: "# config\nLogLevel warn\nPort 220\nlisten 0.0.0.0\n"},
		{name: "count", body: "a a a\n", arg: []any{"a", "b", modtest.Kw("count", int64(2), "show_changes", false)}, want: true, wantBody: "b b a\n"},
		{name: "ignorecase", body: "Hello\n", arg: []any{"hello", "bye", modtest.Kw("flags", []any{"IGNORECASE", "MULTILINE"}, "show_changes", false)}, want: true, wantBody: "bye\n"},
		{name: "ignorecase as string", body: "Hello\n", arg: []any{"hello", "bye", modtest.Kw("flags", "I", "show_changes", false)}, want: true, wantBody: "bye\n"},
		{name: "case matters by default", body: "Hello\n", arg: []any{"hello", "bye", modtest.Kw("show_changes", false)}, want: false, wantBody: "Hello\n"},
		{name: "dry run", body: body, arg: []any{"Port 22", "Port 2", modtest.Kw("dry_run", true, "show_changes", false)}, want: true, wantBody: body},
		{name: "dollar in repl", body: "price\n", arg: []any{"price", "$5", modtest.Kw("show_changes", false)}, want: true, wantBody: "$5\n"},
		{name: "backslash literal", body: "path\n", arg: []any{"path", `C:\new`, modtest.Kw("backslash_literal", true, "show_changes", false)}, want: true, wantBody: `C:\new` + "\n"},
		{name: "escape in repl", body: "a b\n", arg: []any{" ", `\t`, modtest.Kw("show_changes", false)}, want: true, wantBody: "a\tb\n"},
		{name: "append", body: body, arg: []any{"^MaxSessions.*", "MaxSessions 4", modtest.Kw("append_if_not_found", true)},
			want: diff("@@ -2,3 +2,4 @@\n LogLevel warn\n Port 22\n listen 0.0.0.0\n+MaxSessions 4\n"), wantBody: body + "MaxSessions 4\n"},
		{name: "append once", body: body + "MaxSessions 4\n", arg: []any{"^MaxSessions 9", "MaxSessions 4", modtest.Kw("append_if_not_found", true)}, want: "", wantBody: body + "MaxSessions 4\n"},
		{name: "append after a last line without newline", body: "a", arg: []any{"^b", "b", modtest.Kw("append_if_not_found", true, "show_changes", false)}, want: true, wantBody: "a\nb\n"},
		{name: "prepend with other content", body: body, arg: []any{"^Banner", "x", modtest.Kw("prepend_if_not_found", true, "not_found_content", "Banner none", "show_changes", false)}, want: true, wantBody: "Banner none\n" + body},
		{name: "search only", body: body, arg: []any{"Port", "x", modtest.Kw("search_only", true)}, want: true, wantBody: body},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := writeFile(t, filepath.Join(dir, "conf"), tc.body, 0o640)
			got := mustRun(t, "file.replace", append([]any{f}, tc.arg...)...)
			if got != tc.want {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			if b := readFile(t, f); b != tc.wantBody {
				t.Errorf("file holds %q, want %q", b, tc.wantBody)
			}
			if st, _ := os.Stat(f); st.Mode().Perm() != 0o640 {
				t.Errorf("mode changed to %v", st.Mode())
			}
			if tc.backup != "" {
				if readFile(t, f+tc.backup) != tc.body {
					t.Errorf("backup %s does not hold the original", f+tc.backup)
				}
				if st, _ := os.Stat(f + tc.backup); st.Mode().Perm() != 0o640 {
					t.Errorf("backup has mode %v, the original's is 0640", st.Mode())
				}
			}
		})
	}
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "conf"), body, 0o644)
	var before syscall.Stat_t
	if err := syscall.Stat(f, &before); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "file.replace", f, "warn", "info", modtest.Kw("backup", false))
	var after syscall.Stat_t
	if err := syscall.Stat(f, &after); err != nil {
		t.Fatal(err)
	}
	if before.Ino != after.Ino {
		t.Error("preserve_inode (the default) changed the inode")
	}
	if exists(f + ".bak") {
		t.Error("backup=False made a backup")
	}
	bin := writeFile(t, filepath.Join(dir, "bin"), "\x00\x01\x02", 0o644)
	missing := filepath.Join(dir, "nope")
	mustFail(t, "ERROR: Cannot perform string replacements on a binary file: "+bin, "file.replace", bin, "a", "b")
	mustFail(t, "ERROR: File not found: "+missing, "file.replace", missing, "a", "b")
	if got := mustRun(t, "file.replace", missing, "a", "b", modtest.Kw("ignore_if_missing", true)); got != false {
		t.Errorf("ignore_if_missing: %v", got)
	}
	mustFail(t, "ERROR: Only one of append and prepend_if_not_found is permitted", "file.replace", f, "a", "b", modtest.Kw("append_if_not_found", true, "prepend_if_not_found", true))
	mustFail(t, "ERROR: search_only cannot be used with append/prepend_if_not_found", "file.replace", f, "a", "b", modtest.Kw("append_if_not_found", true, "search_only", true))
	mustFail(t, "ERROR: Invalid re flag given: SHOUTY", "file.replace", f, "a", "b", modtest.Kw("flags", []any{"SHOUTY"}))
	mustFail(t, "ERROR: invalid group reference 2 at position 1", "file.replace", f, "(a)", `\2`)
	mustFail(t, `ERROR: bad escape \q at position 0`, "file.replace", f, "a", `\q`)
	res := run(t, "file.replace", f, "(?<=x)a", "b")
	if res.Success || !strings.HasPrefix(res.Return.(string), `ERROR: invalid regular expression "(?<=x)a"`) {
		t.Errorf("lookbehind: %v", res.Return)
	}
}

func TestSearchContains(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "crontab"), "0 * * * * root mymaintenance.sh\nfoo\nbar\n", 0o644)
	for _, tc := range []struct {
		name string
		fun  string
		arg  []any
		want any
	}{
		{"search hit", "file.search", []any{f, `maintenance\.sh$`}, true},
		{"search miss", "file.search", []any{f, "backup.sh"}, false},
		{"search across lines", "file.search", []any{f, `foo\nbar`, modtest.Kw("multiline", true)}, true},
		{"search missing ignored", "file.search", []any{filepath.Join(dir, "nope"), "x", modtest.Kw("ignore_if_missing", true)}, false},
		{"contains", "file.contains", []any{f, " mymaintenance.sh "}, true},
		{"contains miss", "file.contains", []any{f, "absent"}, false},
		{"contains missing file", "file.contains", []any{filepath.Join(dir, "nope"), "x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRun(t, tc.fun, tc.arg...); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	mustFail(t, "ERROR: File not found: "+filepath.Join(dir, "nope"), "file.search", filepath.Join(dir, "nope"), "x")
}

func TestLine(t *testing.T) {
	const conf = "[main]\n  here=False\n  away=True\ngoodbye=away\n"
	for _, tc := range []struct {
		name     string
		body     string
		arg      []any
		want     any
		wantBody string
	}{
		{name: "delete", body: conf, arg: []any{modtest.Kw("mode", "delete", "match", "away")},
			want: diff("@@ -1,4 +1,3 @@\n [main]\n   here=False\n-  away=True\n goodbye=away\n"), wantBody: "[main]\n  here=False\ngoodbye=away\n"},
		{name: "replace keeps indentation", body: conf, arg: []any{modtest.Kw("mode", "replace", "match", "here=", "content", "here=True", "show_changes", false)},
			want: true, wantBody: "[main]\n  here=True\n  away=True\ngoodbye=away\n"},
		{name: "ensure after takes its indentation", body: conf, arg: []any{"  new=1", modtest.Kw("mode", "ensure", "after", `^\[main\]`, "show_changes", false)},
			want: true, wantBody: "[main]\nnew=1\n  here=False\n  away=True\ngoodbye=away\n"},
		{name: "no indent", body: conf, arg: []any{"  new=1", modtest.Kw("mode", "ensure", "after", `^\[main\]`, "show_changes", false, "indent", false)},
			want: true, wantBody: "[main]\n  new=1\n  here=False\n  away=True\ngoodbye=away\n"},
		{name: "ensure after, already there", body: "[main]\n  new=1\nx\n", arg: []any{"  new=1", modtest.Kw("mode", "ensure", "after", `^\[main\]`, "show_changes", false)},
			want: false, wantBody: "[main]\n  new=1\nx\n"},
		{name: "ensure before", body: "a\nb\n", arg: []any{"z", modtest.Kw("mode", "ensure", "before", "^b", "show_changes", false)}, want: true, wantBody: "a\nz\nb\n"},
		{name: "insert at start", body: "a\nb\n", arg: []any{"first", modtest.Kw("mode", "insert", "location", "start", "show_changes", false)}, want: true, wantBody: "first\na\nb\n"},
		{name: "insert at end", body: "a\n  b", arg: []any{"last", modtest.Kw("mode", "insert", "location", "end", "show_changes", false)}, want: true, wantBody: "a\n  b\n  last"},
		{name: "insert after", body: "a\nb\n", arg: []any{"x", modtest.Kw("mode", "insert", "after", "^a", "show_changes", false)}, want: true, wantBody: "a\nx\nb\n"},
		{name: "insert between", body: "a\nm\nb\n", arg: []any{"x", modtest.Kw("mode", "insert", "after", "^a", "before", "^b", "show_changes", false)}, want: true, wantBody: "a\nm\nx\nb\n"},
		{name: "crlf becomes lf", body: "a\r\nb\r\n", arg: []any{"x", modtest.Kw("mode", "insert", "after", "^a", "show_changes", false)}, want: true, wantBody: "a\nx\nb\n"},
		{name: "nothing to delete", body: conf, arg: []any{modtest.Kw("mode", "delete", "match", "absent")}, want: false, wantBody: conf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := writeFile(t, filepath.Join(t.TempDir(), "conf"), tc.body, 0o600)
			got := mustRun(t, "file.line", append([]any{f}, tc.arg...)...)
			if got != tc.want {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			if b := readFile(t, f); b != tc.wantBody {
				t.Errorf("file holds %q, want %q", b, tc.wantBody)
			}
			if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
				t.Errorf("mode changed to %v", st.Mode())
			}
		})
	}
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "conf"), "a\nb\nb\n", 0o644)
	missing := filepath.Join(dir, "nope")
	for _, tc := range []struct {
		name, want string
		arg        []any
	}{
		{"missing file", fmt.Sprintf(`ERROR: File "%s" does not exists or is not a file.`, missing), []any{missing, "x", modtest.Kw("mode", "ensure")}},
		{"no mode", "ERROR: Mode was not defined. How to process the file?", []any{f, "x"}},
		{"unknown mode", `ERROR: Unknown mode: "upsert"`, []any{f, "x", modtest.Kw("mode", "upsert")}},
		{"no content", `ERROR: Content can only be empty if mode is "delete"`, []any{f, modtest.Kw("mode", "ensure")}},
		{"ambiguous after", `ERROR: Found more than expected occurrences in "after" expression`, []any{f, "x", modtest.Kw("mode", "ensure", "after", "^b")}},
		{"nowhere to insert", `ERROR: On insert either "location" or "before/after" conditions are required.`, []any{f, "x", modtest.Kw("mode", "insert")}},
		{"ensure without anchors", "ERROR: Wrong conditions? Unable to ensure line without knowing where to put it before and/or after.", []any{f, "x", modtest.Kw("mode", "ensure", "after", "^zzz")}},
	} {
		t.Run(tc.name, func(t *testing.T) { mustFail(t, tc.want, "file.line", tc.arg...) })
	}
	if got := mustRun(t, "file.line", missing, "x", modtest.Kw("mode", "ensure", "quiet", true)); got != false {
		t.Errorf("quiet: %v", got)
	}
	mustRun(t, "file.line", f, "c", modtest.Kw("mode", "insert", "location", "end", "backup", true))
	backups, _ := filepath.Glob(f + ".20*")
	if len(backups) != 1 || readFile(t, backups[0]) != "a\nb\nb\n" {
		t.Errorf("backups %v", backups)
	}
}

func TestDifflibVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "difflib.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		A, B []string
		Want string
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := unifiedDiff(c.A, c.B); got != c.Want {
				t.Errorf("got\n%q\nPython's difflib gives\n%q", got, c.Want)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{{"644", "0644"}, {int64(644), "0644"}, {"0o755", "0755"}, {"00644", "0644"}, {"'0600'", "0600"}, {"4755", "4755"}, {"0", "0000"}, {nil, ""}} {
		if got := normalizeMode(tc.in); got != tc.want {
			t.Errorf("normalizeMode(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{{"a\nb", "a\n|b"}, {"a\r\nb\rc\n", "a\r\n|b\r|c\n"}, {"", ""}} {
		if got := strings.Join(splitlines(tc.in), "|"); got != tc.want {
			t.Errorf("splitlines(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	home, _ := os.UserHomeDir()
	if got := expanduser("~/x"); got != home+"/x" {
		t.Errorf("expanduser(~/x) = %q", got)
	}
	if got := expanduser("~no-such-user-brine/x"); got != "~no-such-user-brine/x" {
		t.Errorf("expanduser of an unknown user: %q", got)
	}
	dir := t.TempDir()
	if err := os.Symlink("a/b", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if got := realpath(filepath.Join(dir, "l", "c")); got != filepath.Join(dir, "a", "b", "c") {
		t.Errorf("realpath through a broken relative link: %q", got)
	}
	for _, tc := range []struct {
		flags any
		want  int64
		err   string
	}{{int64(2), 2, ""}, {"MULTILINE", 8, ""}, {[]any{"i", "DOTALL"}, 18, ""}, {[]any{"nope"}, 0, "Invalid re flag given: nope"}} {
		got, err := getFlags(tc.flags)
		if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) || got != tc.want {
			t.Errorf("getFlags(%v) = %v, %v", tc.flags, got, err)
		}
	}
	if !isText(writeFile(t, filepath.Join(dir, "t"), "plain text\n", 0o644)) || isText(writeFile(t, filepath.Join(dir, "b"), "\x00", 0o644)) {
		t.Error("isText")
	}
}

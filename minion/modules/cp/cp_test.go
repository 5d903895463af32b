package cp_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/brine-project/brine/master/fileserver"
	"github.com/brine-project/brine/minion/fileclient"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cp"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
	"github.com/brine-project/brine/transport/wire"
)

// env returns a module environment whose file client reaches an
// in-process file server over root (pushes land in recv).
func env(t *testing.T, files map[string][]byte, recvOn bool) (*modules.Env, string, string) {
	t.Helper()
	root, recv := t.TempDir(), t.TempDir()
	for p, b := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if b == nil {
			continue // just the directory p is in
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := fileserver.New(fileserver.Config{Roots: map[string][]string{"base": {root}}, RecvDir: recv, Recv: recvOn})
	if err != nil {
		t.Fatal(err)
	}
	request := func(ctx context.Context, load wire.Map) (any, error) {
		b, err := wire.Marshal(load)
		if err != nil {
			return nil, err
		}
		in, err := wire.UnmarshalMap(b)
		if err != nil {
			return nil, err
		}
		cmd, _ := in["cmd"].(string)
		id, _ := in["id"].(string)
		ret, _ := fs.Handle(ctx, cmd, id, in)
		if b, err = wire.Marshal(ret); err != nil {
			return nil, err
		}
		return wire.Unmarshal(b)
	}
	cache := t.TempDir()
	return &modules.Env{ID: "web1", Files: fileclient.New(fileclient.Config{ID: "web1", CacheDir: cache, Request: request})}, cache, recv
}

func run(t *testing.T, e *modules.Env, fun string, args ...any) modules.Result {
	t.Helper()
	r := modtest.Registry(cp.Specs())
	return r.Run(context.Background(), fun, args, modules.Job{Fun: fun}, e)
}

func kw(m map[string]any) map[string]any {
	m["__kwarg__"] = true
	return m
}

func TestGetFileAndCacheFile(t *testing.T) {
	big := make([]byte, 20<<20+3)
	rand.NewChaCha8([32]byte{9}).Read(big)
	e, cache, _ := env(t, map[string][]byte{"pkg/big.bin": big, "motd": []byte("hi\n")}, false)
	dest := filepath.Join(t.TempDir(), "sub", "big.bin")

	res := run(t, e, "cp.get_file", "salt://pkg/big.bin", dest)
	if res.Return != "" {
		t.Fatalf("without makedirs: %v", res.Return)
	}
	res = run(t, e, "cp.get_file", "salt://pkg/big.bin", dest, kw(map[string]any{"makedirs": true}))
	if !res.Success || res.Return != dest {
		t.Fatalf("cp.get_file = %+v", res)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, big) {
		t.Fatal("20 MiB file differs after cp.get_file")
	}
	if res := run(t, e, "cp.get_file", "salt://nope", dest); res.Return != "" {
		t.Fatalf("missing file: %v", res.Return)
	}
	if res := run(t, e, "cp.get_file", "salt://motd", dest, kw(map[string]any{"template": "jinja"})); res.Success {
		t.Fatalf("template= must fail: %v", res.Return)
	}

	res = run(t, e, "cp.cache_file", "salt://motd")
	if want := filepath.Join(cache, "files", "base", "motd"); res.Return != want {
		t.Fatalf("cp.cache_file = %v, want %s", res.Return, want)
	}
	if res := run(t, e, "cp.cache_file", "salt://nope"); res.Return != false {
		t.Fatalf("cp.cache_file of a missing file = %v", res.Return)
	}
	if res := run(t, e, "cp.hash_file", "salt://motd"); res.Return.(map[string]any)["hash_type"] != "sha256" {
		t.Fatalf("cp.hash_file = %v", res.Return)
	}
	if res := run(t, e, "cp.hash_file", "salt://nope"); res.Return != "" {
		t.Fatalf("cp.hash_file of a missing file = %v", res.Return)
	}
	if res := run(t, e, "cp.list_master"); !reflect.DeepEqual(res.Return, []any{"motd", "pkg/big.bin"}) {
		t.Fatalf("cp.list_master = %v", res.Return)
	}
	if res := run(t, e, "cp.list_master", kw(map[string]any{"prefix": "pkg"})); !reflect.DeepEqual(res.Return, []any{"pkg/big.bin"}) {
		t.Fatalf("cp.list_master prefix = %v", res.Return)
	}
}

func TestGetDir(t *testing.T) {
	e, _, _ := env(t, map[string][]byte{
		"web/conf/a.conf": []byte("a"), "web/conf/sub/b.conf": []byte("b"), "web/empty/x": nil, "webby": []byte("no"),
	}, false)
	dest := t.TempDir()
	res := run(t, e, "cp.get_dir", "salt://web/conf/", dest)
	want := []any{filepath.Join(dest, "conf", "a.conf"), filepath.Join(dest, "conf", "sub", "b.conf")}
	if !res.Success || !reflect.DeepEqual(res.Return, want) {
		t.Fatalf("cp.get_dir = %+v, want %v", res.Return, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "conf", "sub", "b.conf")); string(b) != "b" {
		t.Fatalf("b.conf = %q", b)
	}
	res = run(t, e, "cp.get_dir", "salt://web", dest)
	got := res.Return.([]any)
	if !slices.Contains(got, any(filepath.Join(dest, "web", "empty"))) || slices.Contains(got, any(filepath.Join(dest, "webby"))) {
		t.Fatalf("cp.get_dir salt://web = %v", got)
	}
}

// hostile is a file client whose master lists paths that try to leave the
// destination.
type hostile struct {
	modules.FileClient
	got []string
}

func (h *hostile) ListMaster(context.Context, string, string) ([]string, error) {
	return []string{"dir/../../../etc/evil", "dir/ok"}, nil
}
func (h *hostile) ListEmptyDirs(context.Context, string, string) ([]string, error) {
	return []string{"dir/../../outside"}, nil
}
func (h *hostile) GetFile(_ context.Context, path, dest, _ string, _ bool, _ int) (string, error) {
	h.got = append(h.got, dest)
	return dest, nil
}

func TestGetDirHostileMaster(t *testing.T) {
	h := &hostile{}
	dest := t.TempDir()
	res := run(t, &modules.Env{Files: h}, "cp.get_dir", "salt://dir", dest)
	if !reflect.DeepEqual(h.got, []string{filepath.Join(dest, "dir", "ok")}) || len(res.Return.([]any)) != 1 {
		t.Fatalf("fetched %v, returned %v", h.got, res.Return)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dest), "outside")); err == nil {
		t.Fatal("an empty directory was made outside dest")
	}
}

func TestPush(t *testing.T) {
	e, _, recv := env(t, nil, true)
	dir := t.TempDir()
	src := filepath.Join(dir, "data.txt")
	os.WriteFile(src, []byte("payload"), 0o644)
	link := filepath.Join(dir, "link.txt")
	os.Symlink(src, link)

	if res := run(t, e, "cp.push", link); res.Return != true {
		t.Fatalf("cp.push = %+v", res)
	}
	// The link is resolved: the file is stored under the target's path.
	real, _ := filepath.EvalSymlinks(src)
	if b, err := os.ReadFile(filepath.Join(recv, "web1", "files", strings.TrimPrefix(real, "/"))); err != nil || string(b) != "payload" {
		t.Fatalf("pushed: %q, %v", b, err)
	}
	if res := run(t, e, "cp.push", src, kw(map[string]any{"upload_path": "/up/x.txt", "remove_source": true})); res.Return != true {
		t.Fatalf("cp.push upload_path = %+v", res)
	}
	if _, err := os.Stat(src); err == nil {
		t.Fatal("remove_source left the file")
	}
	src3 := filepath.Join(dir, "three.txt")
	os.WriteFile(src3, []byte("x"), 0o644)
	for _, tc := range []struct {
		name string
		args []any
		errs bool // refused with an error (a path the OS cannot name), not False
	}{
		{"relative path", []any{"relative.txt"}, false},
		{"dot-dot in the path", []any{"/a/../etc/passwd"}, false},
		{"dot-dot in the path to a file that exists", []any{dir + "/../" + filepath.Base(dir) + "/three.txt"}, false},
		{"missing file", []any{"/no/such"}, false},
		{"NUL byte in the path", []any{src3 + "\x00/etc/shadow"}, true},
		{"dot-dot in upload_path", []any{src3, kw(map[string]any{"upload_path": "/up/../../../etc/cron.d/x"})}, false},
		{"NUL byte in upload_path", []any{src3, kw(map[string]any{"upload_path": "/up/x\x00.txt"})}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, e, "cp.push", tc.args...)
			if tc.errs && res.Success || !tc.errs && res.Return != false {
				t.Errorf("cp.push %q = %+v", tc.args, res)
			}
		})
	}
	var stored []string
	filepath.WalkDir(recv, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			stored = append(stored, strings.TrimPrefix(p, recv))
		}
		return nil
	})
	want := []string{filepath.Join("/web1/files", real), "/web1/files/up/x.txt"}
	slices.Sort(want)
	if !slices.Equal(stored, want) {
		t.Fatalf("the master holds %v, want %v", stored, want)
	}

	off, _, _ := env(t, nil, false)
	src2 := filepath.Join(dir, "again.txt")
	os.WriteFile(src2, []byte("x"), 0o644)
	if res := run(t, off, "cp.push", src2); res.Return != false {
		t.Fatalf("cp.push without file_recv = %v", res.Return)
	}
}

func TestNoFileClient(t *testing.T) {
	for _, fun := range []string{"cp.get_file", "cp.get_dir", "cp.cache_file", "cp.list_master", "cp.hash_file", "cp.push"} {
		args := []any{"salt://x", "/tmp/x"}
		switch fun {
		case "cp.list_master":
			args = nil
		case "cp.cache_file", "cp.hash_file", "cp.push":
			args = args[:1]
		}
		res := run(t, &modules.Env{}, fun, args...)
		if res.Success || !strings.Contains(res.Return.(string), "no master") {
			t.Errorf("%s without a file client: %+v", fun, res)
		}
	}
}

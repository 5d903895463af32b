package fileclient_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/brine-project/brine/master/fileserver"
	"github.com/brine-project/brine/minion/fileclient"
	"github.com/brine-project/brine/transport/wire"
)

// master is an in-process master side: the file server behind a request
// function that encodes and decodes every load and answer as the wire
// does, and counts the commands.
type master struct {
	fs    *fileserver.Server
	mu    sync.Mutex
	calls map[string]int
}

func (m *master) request(ctx context.Context, load wire.Map) (any, error) {
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
	m.mu.Lock()
	m.calls[cmd]++
	m.mu.Unlock()
	ret, ok := m.fs.Handle(ctx, cmd, id, in)
	if !ok {
		return map[string]any{}, nil
	}
	if b, err = wire.Marshal(ret); err != nil {
		return nil, err
	}
	return wire.Unmarshal(b)
}

func (m *master) count(cmd string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[cmd]
}

// setup returns a client whose master serves root as base (and dev), and
// keeps pushed files under recv.
func setup(t testing.TB, files map[string][]byte) (*fileclient.Client, *master, string, string) {
	t.Helper()
	root, recv, cache := t.TempDir(), t.TempDir(), t.TempDir()
	for p, b := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := fileserver.New(fileserver.Config{
		Roots: map[string][]string{"base": {root}, "dev": {root}}, RecvDir: recv, Recv: true, RecvMaxSize: 64 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := &master{fs: fs, calls: map[string]int{}}
	c := fileclient.New(fileclient.Config{ID: "web1", CacheDir: cache, Request: m.request, BufferSize: 1 << 20})
	return c, m, root, recv
}

func random(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func TestCacheFileRoundTripAndNoRefetch(t *testing.T) {
	big := random(20<<20+777, 1)
	c, m, root, _ := setup(t, map[string][]byte{"big/blob.bin": big, "empty": {}})
	ctx := context.Background()

	p, err := c.CacheFile(ctx, "salt://big/blob.bin", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := c.CachePath("big/blob.bin", "base"); p != want {
		t.Fatalf("cached at %s, want %s", p, want)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, big) {
		t.Fatalf("the cached file differs from the master's (%d bytes)", len(got))
	}
	if n := m.count("_serve_file"); n != 22 {
		t.Errorf("%d _serve_file requests, want 21 chunks and the empty one", n)
	}

	// Unchanged: only the hash is asked for.
	if _, err := c.CacheFile(ctx, "salt://big/blob.bin", "base"); err != nil {
		t.Fatal(err)
	}
	if n := m.count("_serve_file"); n != 22 {
		t.Errorf("an unchanged file was fetched again (%d requests)", n)
	}
	if n := m.count("_file_hash"); n != 2 {
		t.Errorf("%d hash requests, want 2", n)
	}

	// Changed on the master: fetched again.
	if err := os.WriteFile(filepath.Join(root, "big", "blob.bin"), []byte("small now"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CacheFile(ctx, "salt://big/blob.bin", "base"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "small now" {
		t.Fatalf("after a change: %q", got)
	}

	// An empty file, an environment from the URL, a missing file.
	if p, err := c.CacheFile(ctx, "salt://empty?saltenv=dev", "base"); err != nil || p != c.CachePath("empty", "dev") {
		t.Fatalf("empty file: %s, %v", p, err)
	}
	if fi, err := os.Stat(c.CachePath("empty", "dev")); err != nil || fi.Size() != 0 {
		t.Fatalf("empty file not cached: %v", err)
	}
	if p, err := c.CacheFile(ctx, "salt://nope", "base"); err != nil || p != "" {
		t.Fatalf("missing file: %q, %v", p, err)
	}
}

func TestGetFileGzipAndDest(t *testing.T) {
	text := bytes.Repeat([]byte("compressible line of text\n"), 100000)
	c, m, _, _ := setup(t, map[string][]byte{"conf/app.conf": text})
	ctx := context.Background()
	dir := t.TempDir()

	p, err := c.GetFile(ctx, "salt://conf/app.conf", filepath.Join(dir, "etc", "app.conf"), "base", false, 0)
	if err != nil || p != "" {
		t.Fatalf("without makedirs into a missing directory: %q, %v", p, err)
	}
	p, err = c.GetFile(ctx, "salt://conf/app.conf", filepath.Join(dir, "etc", "app.conf"), "base", true, 6)
	if err != nil || p != filepath.Join(dir, "etc", "app.conf") {
		t.Fatalf("GetFile = %q, %v", p, err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, text) {
		t.Fatal("gzipped transfer differs")
	}
	// A directory as dest takes the file's name.
	p, err = c.GetFile(ctx, "salt://conf/app.conf", dir+"/", "base", false, 0)
	if err != nil || p != filepath.Join(dir, "app.conf") {
		t.Fatalf("into a directory: %q, %v", p, err)
	}
	before := m.count("_serve_file")
	if _, err := c.GetFile(ctx, "salt://conf/app.conf", dir, "base", false, 0); err != nil || m.count("_serve_file") != before {
		t.Fatalf("an identical dest was fetched again: %v", err)
	}
}

func TestUnsafePathsRefusedLocally(t *testing.T) {
	c, m, _, _ := setup(t, nil)
	for _, u := range []string{"salt://../etc/passwd", "salt:///etc/passwd", "salt://a/../../b", "salt://x\x00", "/etc/passwd", "http://example.com/x", "salt://ok?saltenv=../../etc"} {
		if _, err := c.CacheFile(context.Background(), u, "base"); !errors.Is(err, fileclient.ErrBadURL) {
			t.Errorf("CacheFile(%q) = %v, want ErrBadURL", u, err)
		}
	}
	if _, err := c.CacheFile(context.Background(), "salt://ok", "../.."); !errors.Is(err, fileclient.ErrBadURL) {
		t.Errorf("a bad saltenv: %v", err)
	}
	if n := m.count("_file_hash") + m.count("_serve_file"); n != 0 {
		t.Errorf("%d requests went out for unsafe paths", n)
	}
}

func TestHashListAndPush(t *testing.T) {
	c, _, _, recv := setup(t, map[string][]byte{"a.txt": []byte("hello\n"), "dir/b.txt": []byte("b"), "void/.keep": nil})
	ctx := context.Background()
	sum := sha256.Sum256([]byte("hello\n"))
	h, err := c.HashFile(ctx, "salt://a.txt", "base")
	if err != nil || !reflect.DeepEqual(h, map[string]any{"hash_type": "sha256", "hsum": hex.EncodeToString(sum[:])}) {
		t.Fatalf("HashFile = %v, %v", h, err)
	}
	if h, err := c.HashFile(ctx, "salt://nope", "base"); err != nil || len(h) != 0 {
		t.Fatalf("missing: %v, %v", h, err)
	}
	local := filepath.Join(t.TempDir(), "local")
	os.WriteFile(local, []byte("hello\n"), 0o644)
	if h, err := c.HashFile(ctx, local, ""); err != nil || h["hsum"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("local: %v, %v", h, err)
	}
	if l, err := c.ListMaster(ctx, "base", "dir"); err != nil || !reflect.DeepEqual(l, []string{"dir/b.txt"}) {
		t.Fatalf("ListMaster = %v, %v", l, err)
	}

	data := random(3<<20+5, 3)
	src := filepath.Join(t.TempDir(), "var", "log", "app.log")
	os.MkdirAll(filepath.Dir(src), 0o755)
	os.WriteFile(src, data, 0o644)
	if ok, err := c.Push(ctx, src, ""); !ok || err != nil {
		t.Fatalf("Push = %v, %v", ok, err)
	}
	got, err := os.ReadFile(filepath.Join(recv, "web1", "files", filepath.FromSlash(src[1:])))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pushed file differs: %v", err)
	}
	if ok, err := c.Push(ctx, src, "/renamed/app.log"); !ok || err != nil {
		t.Fatalf("Push with upload_path = %v, %v", ok, err)
	}
	if _, err := os.Stat(filepath.Join(recv, "web1", "files", "renamed", "app.log")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, upload string }{{"relative/path", ""}, {src, "../../escape"}, {"/no/such/file", ""}} {
		if ok, err := c.Push(ctx, tc.path, tc.upload); ok || err != nil {
			t.Errorf("Push(%q, %q) = %v, %v; want false", tc.path, tc.upload, ok, err)
		}
	}
}

func TestPushRefusedByMaster(t *testing.T) {
	fs, err := fileserver.New(fileserver.Config{RecvDir: t.TempDir()}) // file_recv off
	if err != nil {
		t.Fatal(err)
	}
	m := &master{fs: fs, calls: map[string]int{}}
	c := fileclient.New(fileclient.Config{ID: "web1", CacheDir: t.TempDir(), Request: m.request})
	src := filepath.Join(t.TempDir(), "f")
	os.WriteFile(src, []byte("x"), 0o644)
	if ok, err := c.Push(context.Background(), src, ""); ok || err != nil {
		t.Fatalf("Push to a master without file_recv = %v, %v", ok, err)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, env, rel, wantEnv string }{
		{"salt://top.sls", "", "top.sls", "base"},
		{"salt://a//b/./c", "dev", "a/b/c", "dev"},
		{"salt://a?saltenv=prod", "dev", "a", "prod"},
		{"salt://a?other=1", "", "a", "base"},
	} {
		rel, env, err := fileclient.ParseURL(tc.in, tc.env)
		if err != nil || rel != tc.rel || env != tc.wantEnv {
			t.Errorf("ParseURL(%q, %q) = %q, %q, %v", tc.in, tc.env, rel, env, err)
		}
	}
}

package fileserver

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/brine-project/brine/transport/wire"
)

// recorder is a slog.Handler that keeps the messages logged at Warn and
// above, to check that refusals are logged.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func newServer(t testing.TB, cfg Config) (*Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg.Logger = slog.New(rec)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

// roundTrip sends a load and its answer through the wire encoding, as the
// master and minion see them.
func roundTrip(t testing.TB, s *Server, id string, load map[string]any) any {
	t.Helper()
	b, err := wire.Marshal(load)
	if err != nil {
		t.Fatal(err)
	}
	in, err := wire.UnmarshalMap(b)
	if err != nil {
		t.Fatal(err)
	}
	cmd, _ := in["cmd"].(string)
	ret, ok := s.Handle(context.Background(), cmd, id, in)
	if !ok {
		t.Fatalf("%s not handled", cmd)
	}
	if b, err = wire.Marshal(ret); err != nil {
		t.Fatal(err)
	}
	out, err := wire.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func asBytes(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(v)
	case []byte:
		return v
	}
	return nil
}

func TestServeLargeFileInChunks(t *testing.T) {
	root := t.TempDir()
	data := make([]byte, 20<<20+12345)
	rnd := rand.NewChaCha8([32]byte{1})
	rnd.Read(data)
	writeFile(t, filepath.Join(root, "big", "blob.bin"), data)
	s, _ := newServer(t, Config{Roots: map[string][]string{"base": {root}}})

	// 20 MiB plain, and the first 3 MiB gzipped (gzip under -race is slow).
	small := data[:3<<20+7]
	writeFile(t, filepath.Join(root, "big", "small.bin"), small)
	for _, tc := range []struct {
		level  int
		name   string
		data   []byte
		chunks int
	}{{0, "big/blob.bin", data, 21}, {1, "big/small.bin", small, 4}} {
		level, data := tc.level, tc.data
		var got bytes.Buffer
		chunks := 0
		for {
			load := map[string]any{"path": tc.name, "saltenv": "base", "cmd": "_serve_file", "loc": int64(got.Len())}
			if level > 0 {
				load["gzip"] = int64(level)
			}
			ret := roundTrip(t, s, "m1", load).(map[string]any)
			if ret["dest"] != tc.name {
				t.Fatalf("dest = %v", ret["dest"])
			}
			chunk := asBytes(ret["data"])
			if len(chunk) == 0 {
				break
			}
			if level > 0 {
				if g, _ := ret["gzip"].(int64); g != int64(level) {
					t.Fatalf("gzip = %v", ret["gzip"])
				}
				zr, err := gzip.NewReader(bytes.NewReader(chunk))
				if err != nil {
					t.Fatal(err)
				}
				if chunk, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if len(chunk) > DefaultBufferSize {
				t.Fatalf("chunk of %d bytes", len(chunk))
			}
			got.Write(chunk)
			chunks++
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("gzip %d: reassembled %d bytes differ from the %d served", level, got.Len(), len(data))
		}
		if chunks != tc.chunks {
			t.Errorf("gzip %d: %d chunks, want %d", level, chunks, tc.chunks)
		}
	}
}

func TestHash(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "a.txt")
	writeFile(t, path, []byte("hello\n"))
	sum := sha256.Sum256([]byte("hello\n"))
	s, _ := newServer(t, Config{Roots: map[string][]string{"base": {root}}})

	ret := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_hash", "path": "a.txt", "saltenv": "base"})
	want := map[string]any{"hash_type": "sha256", "hsum": hex.EncodeToString(sum[:])}
	if !reflect.DeepEqual(ret, want) {
		t.Fatalf("_file_hash = %v, want %v", ret, want)
	}
	// A changed file gets a new sum, not the cached one.
	writeFile(t, path, []byte("hello, world\n"))
	sum = sha256.Sum256([]byte("hello, world\n"))
	if ret := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_hash", "path": "a.txt", "saltenv": "base"}); ret.(map[string]any)["hsum"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("after a change: %v", ret)
	}
	if ret := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_hash", "path": "nope", "saltenv": "base"}); ret != "" {
		t.Fatalf("missing file: %#v, want \"\"", ret)
	}
	hs := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_hash_and_stat", "path": "a.txt", "saltenv": "base"}).([]any)
	if st := hs[1].([]any); len(st) != 10 || st[6] != int64(len("hello, world\n")) || st[0].(int64)&0o170000 != 0o100000 {
		t.Fatalf("stat = %v", hs[1])
	}
	if hs := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_hash_and_stat", "path": "nope", "saltenv": "base"}).([]any); hs[0] != "" || hs[1] != nil {
		t.Fatalf("missing: %v", hs)
	}

	md, _ := newServer(t, Config{Roots: map[string][]string{"base": {root}}, HashType: "md5"})
	m := md5.Sum([]byte("hello, world\n"))
	if h, _, err := md.Hash("base", "a.txt"); err != nil || h != (Hash{"md5", hex.EncodeToString(m[:])}) {
		t.Fatalf("md5: %v %v", h, err)
	}
	if _, err := New(Config{HashType: "crc32"}); err == nil {
		t.Fatal("an unknown hash type must be refused")
	}
}

func TestListsAndFind(t *testing.T) {
	root1, root2, outside := t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(root1, "top.sls"), []byte("base: {}\n"))
	writeFile(t, filepath.Join(root1, "web", "init.sls"), []byte("x\n"))
	writeFile(t, filepath.Join(root1, "web", "files", "httpd.conf"), []byte("conf\n"))
	writeFile(t, filepath.Join(root2, "top.sls"), []byte("shadowed\n"))
	writeFile(t, filepath.Join(root2, "db", "init.sls"), []byte("db\n"))
	writeFile(t, filepath.Join(root1, "webby.txt"), []byte("w\n"))
	writeFile(t, filepath.Join(outside, "secret"), []byte("secret\n"))
	must(t, os.MkdirAll(filepath.Join(root1, "empty", "deeper"), 0o755))
	must(t, os.Symlink("files/httpd.conf", filepath.Join(root1, "web", "link.conf")))
	must(t, os.Symlink(filepath.Join(root1, "web", "files"), filepath.Join(root1, "abs-files")))
	must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root1, "evil")))
	must(t, os.Symlink(outside, filepath.Join(root1, "evildir")))
	must(t, os.Symlink("..", filepath.Join(root1, "web", "loop")))
	must(t, syscall.Mkfifo(filepath.Join(root1, "fifo"), 0o644))

	s, _ := newServer(t, Config{Roots: map[string][]string{"base": {root1, root2}, "dev": {root2}}})
	list := func(cmd, prefix string) any {
		return roundTrip(t, s, "m1", map[string]any{"cmd": cmd, "saltenv": "base", "prefix": prefix})
	}
	strs := func(v any) []string {
		var out []string
		for _, x := range v.([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	files := strs(list("_file_list", ""))
	for _, want := range []string{"top.sls", "web/init.sls", "web/files/httpd.conf", "web/link.conf", "abs-files/httpd.conf", "db/init.sls", "webby.txt"} {
		if !slices.Contains(files, want) {
			t.Errorf("_file_list lacks %s: %v", want, files)
		}
	}
	// web/loop leads back to the root: listed as a directory, not walked again.
	for _, bad := range []string{"evil", "evildir/secret", "fifo", "web/loop/top.sls"} {
		if slices.Contains(files, bad) {
			t.Errorf("_file_list has %s", bad)
		}
	}
	if !slices.IsSorted(files) {
		t.Errorf("not sorted: %v", files)
	}
	if got := strs(list("_file_list", "/web/")); !slices.Contains(got, "webby.txt") || slices.Contains(got, "top.sls") {
		t.Errorf("prefix web: %v (Salt's prefix is a plain string prefix)", got)
	}
	if got := strs(list("_file_list_emptydirs", "")); !reflect.DeepEqual(got, []string{"empty/deeper"}) {
		t.Errorf("_file_list_emptydirs = %v", got)
	}
	if got := strs(list("_dir_list", "")); !slices.Contains(got, "empty") || !slices.Contains(got, "web/files") || !slices.Contains(got, "web/loop") || slices.Contains(got, "evildir") {
		t.Errorf("_dir_list = %v", got)
	}
	links := list("_symlink_list", "").(map[string]any)
	if links["web/link.conf"] != "files/httpd.conf" || links["abs-files"] == nil || links["evil"] != nil || links["evildir"] != nil {
		t.Errorf("_symlink_list = %v", links)
	}
	if got := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_envs"}); !reflect.DeepEqual(got, []any{"base", "dev"}) {
		t.Errorf("_file_envs = %v", got)
	}
	if got := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_list", "saltenv": "nope"}); len(got.([]any)) != 0 {
		t.Errorf("unknown env lists %v", got)
	}

	// The first root wins; a link with an absolute target inside the root is served.
	if b, p, err := s.ReadFile("base", "top.sls"); err != nil || string(b) != "base: {}\n" || p != filepath.Join(root1, "top.sls") {
		t.Errorf("top.sls = %q from %s, %v", b, p, err)
	}
	if b, _, err := s.ReadFile("base", "abs-files/httpd.conf"); err != nil || string(b) != "conf\n" {
		t.Errorf("through an absolute link inside the root: %q, %v", b, err)
	}
	find := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_find", "path": "db/init.sls", "saltenv": "base"}).(map[string]any)
	if find["path"] != filepath.Join(root2, "db", "init.sls") || find["rel"] != "db/init.sls" || find["back"] != "roots" || len(find["stat"].([]any)) != 10 {
		t.Errorf("_file_find = %v", find)
	}
	if find := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_find", "path": "nope"}); !reflect.DeepEqual(find, map[string]any{"path": "", "rel": ""}) {
		t.Errorf("_file_find of a missing file = %v", find)
	}
	if _, err := s.Open("base", "fifo"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a FIFO must not be served: %v", err)
	}
}

func TestEscapesRefused(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	writeFile(t, filepath.Join(root, "ok.txt"), []byte("ok\n"))
	writeFile(t, filepath.Join(parent, "secret"), []byte("secret\n"))
	must(t, os.Symlink("../secret", filepath.Join(root, "rel-evil")))
	must(t, os.Symlink(filepath.Join(parent, "secret"), filepath.Join(root, "abs-evil")))
	must(t, os.Symlink(parent, filepath.Join(root, "evildir")))
	must(t, os.Symlink("/etc", filepath.Join(root, "etc")))
	s, rec := newServer(t, Config{Roots: map[string][]string{"base": {root}}})

	for _, tc := range []struct{ name, path string }{
		{"dot-dot", "../secret"},
		{"dot-dot to etc passwd", "../../../../etc/passwd"},
		{"absolute path", "/etc/passwd"},
		{"salt url with dot-dot", "salt://../secret"},
		{"dot-dot after a file", "ok.txt/../../secret"},
		{"relative symlink out of the root", "rel-evil"},
		{"absolute symlink out of the root", "abs-evil"},
		{"symlinked directory out of the root", "evildir/secret"},
		{"symlink to etc", "etc/passwd"},
		{"NUL byte", "ok.txt\x00"},
		{"NUL byte then dot-dot", "a\x00/../../secret"},
	} {
		p := tc.path
		t.Run(tc.name, func(t *testing.T) {
			before := rec.count()
			if _, err := s.Open("base", p); !errors.Is(err, ErrRefused) {
				t.Errorf("Open(%q) = %v, want ErrRefused", p, err)
			}
			ret := roundTrip(t, s, "m1", map[string]any{"cmd": "_serve_file", "path": p, "saltenv": "base", "loc": int64(0)}).(map[string]any)
			if len(asBytes(ret["data"])) != 0 || ret["dest"] != "" {
				t.Errorf("_serve_file(%q) = %v", p, ret)
			}
			if ret := roundTrip(t, s, "m1", map[string]any{"cmd": "_file_hash", "path": p, "saltenv": "base"}); ret != "" {
				t.Errorf("_file_hash(%q) = %v", p, ret)
			}
			if rec.count() < before+2 {
				t.Errorf("refusals of %q not logged", p)
			}
		})
	}
	if _, err := s.Chunk("base", "ok.txt", -1, 0); !errors.Is(err, ErrRefused) {
		t.Errorf("negative loc: %v", err)
	}
	if _, err := s.Chunk("base", "ok.txt", 0, 10); !errors.Is(err, ErrRefused) {
		t.Errorf("gzip 10: %v", err)
	}
	if c, err := s.Chunk("base", "ok.txt", 1000, 0); err != nil || len(c.Data) != 0 || c.Dest != "ok.txt" {
		t.Errorf("past the end: %+v, %v", c, err)
	}
}

func TestRecv(t *testing.T) {
	cache := t.TempDir()
	off, _ := newServer(t, Config{RecvDir: cache})
	load := func(path []any, loc int64, data string) map[string]any {
		return map[string]any{"cmd": "_file_recv", "id": "m1", "path": path, "size": int64(len(data)), "loc": loc, "data": data}
	}
	if ret := roundTrip(t, off, "m1", load([]any{"etc", "hosts"}, 0, "x")); ret != false {
		t.Fatalf("file_recv off: %v", ret)
	}

	s, rec := newServer(t, Config{RecvDir: cache, Recv: true, RecvMaxSize: 1 << 20})
	data := make([]byte, 300000)
	rand.NewChaCha8([32]byte{2}).Read(data)
	for loc := 0; loc < len(data); loc += 65536 {
		end := min(loc+65536, len(data))
		l := map[string]any{"cmd": "_file_recv", "id": "m1", "path": []any{"var", "log", "app.log"}, "size": int64(len(data)), "loc": int64(loc), "data": data[loc:end]}
		if ret := roundTrip(t, s, "m1", l); ret != true {
			t.Fatalf("chunk at %d: %v", loc, ret)
		}
	}
	got, err := os.ReadFile(filepath.Join(cache, "m1", "files", "var", "log", "app.log"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pushed file differs (%d bytes, %v)", len(got), err)
	}
	// A new push of the same path replaces the file.
	if ret := roundTrip(t, s, "m1", load([]any{"var", "log", "app.log"}, 0, "short")); ret != true {
		t.Fatal(ret)
	}
	if got, _ := os.ReadFile(filepath.Join(cache, "m1", "files", "var", "log", "app.log")); string(got) != "short" {
		t.Fatalf("not truncated: %q", got)
	}

	writeFile(t, filepath.Join(cache, "other"), []byte("keep\n"))
	must(t, os.Symlink(filepath.Join(cache, "other"), filepath.Join(cache, "m1", "files", "planted")))
	for _, tc := range []struct {
		name string
		load map[string]any
	}{
		{"dot-dot", load([]any{"..", "..", "other"}, 0, "x")},
		{"dot-dot inside a component", load([]any{"a/../../../other"}, 0, "x")},
		{"absolute path", load([]any{"/etc/passwd"}, 0, "x")},
		{"NUL byte", load([]any{"a\x00b"}, 0, "x")},
		{"empty path", load([]any{}, 0, "x")},
		{"path not a list", map[string]any{"cmd": "_file_recv", "id": "m1", "path": "etc/hosts", "loc": int64(0), "data": "x"}},
		{"planted symlink out of the directory", load([]any{"planted"}, 0, "x")},
		{"over file_recv_max_size", withSize(load([]any{"big"}, 0, strings.Repeat("x", 10)), 2<<20)},
		{"negative offset", load([]any{"x"}, -1, "x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rec.count()
			if ret := roundTrip(t, s, "m1", tc.load); ret != false {
				t.Errorf("%v, want False", ret)
			}
			if rec.count() == before {
				t.Error("the refusal is not logged")
			}
		})
	}
	t.Run("minion id with dot-dot", func(t *testing.T) {
		if ret := roundTrip(t, s, "../m1", load([]any{"x"}, 0, "x")); ret != false {
			t.Errorf("%v, want False", ret)
		}
	})
	if got, _ := os.ReadFile(filepath.Join(cache, "other")); string(got) != "keep\n" {
		t.Fatalf("a refused push wrote outside: %q", got)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cache), "m1")); err == nil {
		t.Fatal("a push as minion ../m1 wrote outside the cache")
	}
	if err := s.Recv("m1", []string{"over"}, 1<<20, []byte("x"), 0); !errors.Is(err, ErrRefused) {
		t.Errorf("a chunk past the cap: %v", err)
	}
}

// withSize sets the size a _file_recv load announces.
func withSize(load map[string]any, size int64) map[string]any {
	load["size"] = size
	return load
}

func TestHandleIgnoresOtherCommands(t *testing.T) {
	s, _ := newServer(t, Config{})
	if _, ok := s.Handle(context.Background(), "_return", "m1", map[string]any{}); ok {
		t.Fatal("_return is not the file server's")
	}
	for _, cmd := range Commands {
		if _, ok := s.Handle(context.Background(), cmd, "m1", map[string]any{}); !ok {
			t.Errorf("%s not handled", cmd)
		}
	}
	// Loads without the keys Salt requires get Salt's empty answers.
	if got, _ := s.Handle(context.Background(), "_serve_file", "m1", map[string]any{"path": "x"}); !reflect.DeepEqual(got, wire.Map{{Key: "data", Value: ""}, {Key: "dest", Value: ""}}) {
		t.Errorf("_serve_file without loc: %v", got)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

package master

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport/wire"
)

// TestPillarAndFileServer goes through the master's request handler: a
// _pillar request compiles the pillar from pillar_roots and caches it, so
// that pillar targets resolve on the master, and the file server answers
// AES requests.
func TestPillarAndFileServer(t *testing.T) {
	dir := t.TempDir()
	pillarRoot, fileRoot := filepath.Join(dir, "pillar"), filepath.Join(dir, "salt")
	for p, text := range map[string]string{
		filepath.Join(pillarRoot, "top.sls"):    "base:\n  'os:Debian':\n    - match: grain\n    - web\n",
		filepath.Join(pillarRoot, "web.sls"):    "role: web\nos_seen: {{ grains['os'] }}\n",
		filepath.Join(fileRoot, "motd"):         "hello\n",
		filepath.Join(dir, "outside", "secret"): "secret\n",
	} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(text), 0o644)
	}
	os.Symlink(filepath.Join(dir, "outside", "secret"), filepath.Join(fileRoot, "leak"))
	m, _ := newTestMaster(t, func(c *config.Master) {
		c.PillarRoots = map[string][]string{"base": {pillarRoot}}
		c.FileRoots = map[string][]string{"base": {fileRoot}}
	})
	a := newMinionSide(t, "web-1", "minion-a")
	m.keys.Put(pki.Accepted, a.id, a.pub())
	m.keys.Put(pki.Accepted, "db-1", a.pub())
	if _, err := m.sessions.get(a.id); err != nil {
		t.Fatal(err)
	}

	load := map[string]any{"id": a.id, "grains": map[string]any{"os": "Debian"}, "saltenv": nil, "pillarenv": nil,
		"pillar_override": map[string]any{}, "ver": "2", "cmd": "_pillar"}
	raw, err := m.pillar(context.Background(), a.id, "n0nce", load, crypto.OAEPSHA1, crypto.PKCS1v15SHA1)
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := wire.UnmarshalMap(raw)
	keyCT, _ := wire.Bytes(reply, "key")
	sealed, _ := wire.Bytes(reply, "pillar")
	key, err := crypto.Decrypt(a.key, crypto.OAEPSHA1, keyCT)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := crypto.NewCrypticle(string(key))
	plain, err := c.Open(sealed, "")
	if err != nil {
		t.Fatal(err)
	}
	signed, _ := wire.UnmarshalMap(plain)
	data, _ := wire.Bytes(signed, "data")
	inner, _ := wire.UnmarshalMap(data)
	want := map[string]any{"role": "web", "os_seen": "Debian"}
	if !reflect.DeepEqual(inner["pillar"], want) {
		t.Fatalf("pillar sent %v, want %v", inner["pillar"], want)
	}
	grains, pillar, _ := m.mcache.Get(a.id)
	if !reflect.DeepEqual(pillar, want) || grains["id"] != a.id {
		t.Fatalf("cached grains %v pillar %v", grains, pillar)
	}
	m.mcache.Put("db-1", map[string]any{"os": "Alpine"}, map[string]any{})
	minions, _, err := m.expectedMinions("role:web", "pillar", ":")
	if err != nil || !slices.Equal(minions, []string{a.id}) {
		t.Fatalf("-I role:web expects %v (%v)", minions, err)
	}

	ask := func(load wire.Map) any {
		t.Helper()
		raw, nonce := aesRequest(t, m, a, a.id, append(load, wire.Field{Key: "id", Value: a.id}))
		got, err := openReply(t, m, a.id, nonce, m.handle(context.Background(), raw))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	sum := sha256.Sum256([]byte("hello\n"))
	if got := ask(wire.Map{{Key: "path", Value: "motd"}, {Key: "saltenv", Value: "base"}, {Key: "cmd", Value: "_file_hash"}}); !reflect.DeepEqual(got, map[string]any{"hash_type": "sha256", "hsum": hex.EncodeToString(sum[:])}) {
		t.Errorf("_file_hash = %v", got)
	}
	got := ask(wire.Map{{Key: "path", Value: "motd"}, {Key: "saltenv", Value: "base"}, {Key: "cmd", Value: "_serve_file"}, {Key: "loc", Value: int64(0)}})
	if g := got.(map[string]any); g["data"] != "hello\n" || g["dest"] != "motd" {
		t.Errorf("_serve_file = %v", got)
	}
	got = ask(wire.Map{{Key: "path", Value: "leak"}, {Key: "saltenv", Value: "base"}, {Key: "cmd", Value: "_serve_file"}, {Key: "loc", Value: int64(0)}})
	if g := got.(map[string]any); g["data"] != "" || g["dest"] != "" {
		t.Errorf("a link out of file_roots was served: %v", got)
	}
	if got := ask(wire.Map{{Key: "cmd", Value: "_file_list"}, {Key: "saltenv", Value: "base"}}); !reflect.DeepEqual(got, []any{"motd"}) {
		t.Errorf("_file_list = %v", got)
	}
	if got := ask(wire.Map{{Key: "cmd", Value: "_file_recv"}, {Key: "path", Value: []any{"x"}}, {Key: "loc", Value: int64(0)}, {Key: "data", Value: "x"}}); got != false {
		t.Errorf("_file_recv with file_recv off = %v", got)
	}
	opts := m.masterOpts(map[string]any{"env_only": true})
	if !reflect.DeepEqual(opts["file_roots"], map[string]any{"base": []any{}}) {
		t.Errorf("_master_opts file_roots = %v", opts["file_roots"])
	}
}

// cp.push reaches the master as _file_recv: a path that leaves the
// minion's own directory (CVE-2020-11652's traversal) or a push made in
// another minion's name stores nothing.
func TestFileRecvRefused(t *testing.T) {
	m, rec := newTestMaster(t, func(c *config.Master) { c.FileRecv = true })
	a := newMinionSide(t, "web-1", "minion-a")
	m.keys.Put(pki.Accepted, a.id, a.pub())
	m.keys.Put(pki.Accepted, "web-2", a.pub())
	recv := filepath.Join(m.cfg.CacheDir, "minions")
	push := func(id string, path ...any) wire.Map {
		return wire.Map{{Key: "cmd", Value: "_file_recv"}, {Key: "id", Value: id}, {Key: "path", Value: path},
			{Key: "size", Value: int64(4)}, {Key: "loc", Value: int64(0)}, {Key: "data", Value: "evil"}}
	}
	ask := func(t *testing.T, load wire.Map) any {
		t.Helper()
		raw, nonce := aesRequest(t, m, a, a.id, load)
		got, err := openReply(t, m, a.id, nonce, m.handle(context.Background(), raw))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, tc := range []struct {
		name string
		path []any
	}{
		{"dot-dot out of the push directory", []any{"..", "..", "..", "pki", "minions", "web-3"}},
		{"dot-dot into another minion", []any{"..", "..", "web-2", "files", "x"}},
		{"dot-dot inside a component", []any{"a/../../../../x"}},
		{"absolute path", []any{"/etc/cron.d/x"}},
		{"NUL byte", []any{"x\x00.pub"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ask(t, push(a.id, tc.path...)); got != false {
				t.Fatalf("answered %v, want False", got)
			}
		})
	}
	t.Run("as another minion", func(t *testing.T) {
		raw, _ := aesRequest(t, m, a, a.id, push("web-2", "x"))
		refusedAES(t, m, rec, raw)
	})
	if got := ask(t, push(a.id, "etc", "hosts")); got != true {
		t.Fatalf("a good push answered %v", got)
	}
	var stored []string
	filepath.WalkDir(m.cfg.RootDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, _ := os.ReadFile(p); string(b) == "evil" {
			stored = append(stored, p)
		}
		return nil
	})
	if want := []string{filepath.Join(recv, a.id, "files", "etc", "hosts")}; !slices.Equal(stored, want) {
		t.Fatalf("pushed data is in %v, want only %v", stored, want)
	}
}

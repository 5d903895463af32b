package mcache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/brine-project/brine/transport/wire"
)

func grainsOf(id string) map[string]any {
	return map[string]any{
		"id": id, "os": "Debian", "osrelease": "12", "num_cpus": int64(2),
		"ipv4":    []any{"127.0.0.1", "10.0.0.7"},
		"mem_gib": 1.5,
		"roles":   map[string]any{"web": true},
	}
}

func pillarOf(id string) map[string]any {
	return map[string]any{"owner": id, "secret": []byte{0x00, 0xff}}
}

func TestPutGetPersist(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "minions")
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"web1", "db1", "with space", "ünïcode"} {
		if err := c.Put(id, grainsOf(id), pillarOf(id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, ok := c.Get("nope"); ok {
		t.Error("Get of an unknown id succeeded")
	}
	want := []string{"db1", "web1", "with space", "ünïcode"}
	check := func(t *testing.T, c *Cache) {
		if ids := c.IDs(); !slices.Equal(ids, want) {
			t.Errorf("IDs = %v, want %v", ids, want)
		}
		if c.Len() != len(want) {
			t.Errorf("Len = %d", c.Len())
		}
		for _, id := range want {
			g, p, ok := c.Get(id)
			if !ok || !reflect.DeepEqual(g, grainsOf(id)) || !reflect.DeepEqual(p, pillarOf(id)) {
				t.Errorf("Get(%q) = %v, %v, %v", id, g, p, ok)
			}
		}
	}
	t.Run("open", func(t *testing.T) { check(t, c) })
	c2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("reopened", func(t *testing.T) { check(t, c2) })

	// The file is Salt's: {"grains": ..., "pillar": ...} in local msgpack,
	// mode 0600 in a 0700 directory.
	path := filepath.Join(dir, "web1", "data.p")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("data.p mode = %v, %v; want 0600", fi.Mode(), err)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("minion dir mode = %v, %v; want 0700", di.Mode(), err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantBytes, _ := wire.MarshalLocal(map[string]any{"grains": grainsOf("web1"), "pillar": pillarOf("web1")})
	if !slices.Equal(b, wantBytes) {
		t.Errorf("data.p holds %x, want %x", b, wantBytes)
	}
}

func TestPutReplaces(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put("m1", grainsOf("m1"), nil); err != nil {
		t.Fatal(err)
	}
	newer := grainsOf("m1")
	newer["os"] = "Arch"
	if err := c.Put("m1", newer, pillarOf("m1")); err != nil {
		t.Fatal(err)
	}
	// Unchanged data does not rewrite the file: a marker written behind
	// the cache's back stays until the data changes.
	path := filepath.Join(dir, "m1", "data.p")
	marker := []byte("marker")
	if err := os.WriteFile(path, marker, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Put("m1", newer, pillarOf("m1")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(marker) {
		t.Error("unchanged data rewrote data.p")
	}
	newer["os"] = "Gentoo"
	if err := c.Put("m1", newer, pillarOf("m1")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) == string(marker) {
		t.Error("changed data did not rewrite data.p")
	}

	c2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	g, p, _ := c2.Get("m1")
	if g["os"] != "Gentoo" || !reflect.DeepEqual(p, pillarOf("m1")) {
		t.Errorf("after reopen: %v, %v", g, p)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("minion dir holds %d files, want data.p only", len(entries))
	}
}

func TestInvalidIDs(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   string
	}{
		{"empty", ""},
		{"dot", "."},
		{"dot dot", ".."},
		{"slash", "a/b"},
		{"escape", "../etc"},
		{"backslash", `a\b`},
		{"nul", "a\x00b"},
		{"too long", strings.Repeat("a", 256)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Put(tt.id, nil, nil); !errors.Is(err, ErrInvalidID) {
				t.Errorf("Put: %v, want ErrInvalidID", err)
			}
			if err := c.Delete(tt.id); !errors.Is(err, ErrInvalidID) {
				t.Errorf("Delete: %v, want ErrInvalidID", err)
			}
		})
	}
	if err := c.Put(strings.Repeat("a", 255), nil, nil); err != nil {
		t.Errorf("Put of a 255-byte id: %v", err)
	}
	if err := c.Put("..a", nil, nil); err != nil {
		t.Errorf("Put of ..a: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("cache dir holds %d entries, want 2", len(entries))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "etc")); err == nil {
		t.Error("a bad id wrote outside the cache")
	}
}

func TestDelete(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := c.Put(id, grainsOf(id), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("never-there"); err != nil {
		t.Errorf("Delete of an unknown id: %v", err)
	}
	if _, _, ok := c.Get("a"); ok {
		t.Error("deleted minion still there")
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("deleted minion's directory: %v", err)
	}
	c2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ids := c2.IDs(); !slices.Equal(ids, []string{"b"}) {
		t.Errorf("IDs after reopen = %v", ids)
	}
}

func TestOpenSkipsBadEntries(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put("good", grainsOf("good"), nil); err != nil {
		t.Fatal(err)
	}
	write := func(rel string, b []byte) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("truncated/data.p", []byte{0x82, 0xa6})
	notMap, _ := wire.MarshalLocal([]any{"x"})
	write("notmap/data.p", notMap)
	badGrains, _ := wire.MarshalLocal(map[string]any{"grains": "x"})
	write("badgrains/data.p", badGrains)
	write("empty/other.p", []byte{0x80})
	write("stray-file", []byte("x"))
	write("good/.data.p.123", []byte("left by a crash"))

	c2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ids := c2.IDs(); !slices.Equal(ids, []string{"good"}) {
		t.Errorf("IDs = %v, want [good]", ids)
	}
	if _, err := os.Stat(filepath.Join(dir, "good", ".data.p.123")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file: %v", err)
	}
	// A later Put repairs a bad entry.
	if err := c2.Put("truncated", grainsOf("truncated"), nil); err != nil {
		t.Fatal(err)
	}
	c3, _ := Open(dir)
	if _, _, ok := c3.Get("truncated"); !ok {
		t.Error("repaired entry missing after reopen")
	}
}

func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const workers, ids, rounds = 8, 20, 30
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				id := fmt.Sprintf("m%02d", (w*7+r)%ids)
				g := grainsOf(id)
				g["writer"] = int64(w)
				if err := c.Put(id, g, pillarOf(id)); err != nil {
					t.Error(err)
					return
				}
				// Another worker may have deleted it since.
				if g, _, ok := c.Get(id); ok && g["id"] != id {
					t.Errorf("Get(%s) = %v, %v", id, g, ok)
				}
				c.IDs()
				if r%10 == 9 {
					if err := c.Delete(fmt.Sprintf("m%02d", (w+r)%ids)); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	// Memory and disk agree.
	c2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := c.IDs(), c2.IDs(); !slices.Equal(a, b) {
		t.Fatalf("IDs in memory %v, on disk %v", a, b)
	}
	for _, id := range c.IDs() {
		g1, p1, _ := c.Get(id)
		g2, p2, _ := c2.Get(id)
		if !reflect.DeepEqual(g1, g2) || !reflect.DeepEqual(p1, p2) {
			t.Errorf("%s: memory %v %v, disk %v %v", id, g1, p1, g2, p2)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	c, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	g := grainsOf("m1")
	b.Run("changed", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g["n"] = int64(i)
			i++
			if err := c.Put("m1", g, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Put("m1", g, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// What grain targeting over 10,000 minions costs (one op): every entry
// read back from its file and decoded. Grains here are a real minion's size (~3 KiB
// encoded, 40-odd grains).
func BenchmarkGetAll(b *testing.B) {
	const minions = 10_000
	c, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for i := range minions {
		id := fmt.Sprintf("minion-%05d", i)
		g := grainsOf(id)
		for k := range 40 {
			g[fmt.Sprintf("grain_%02d", k)] = strings.Repeat("v", 60)
		}
		if err := c.Put(id, g, pillarOf(id)); err != nil {
			b.Fatal(err)
		}
	}
	ids := c.IDs()
	for b.Loop() {
		for _, id := range ids {
			if g, _, ok := c.Get(id); !ok || g["id"] != id {
				b.Fatalf("Get(%s) = %v, %v", id, g, ok)
			}
		}
	}
}

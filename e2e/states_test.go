package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brine-project/brine/internal/proctest"
)

// Pillar, the file server and minion events through the master.
func TestPillarFilesEvents(t *testing.T) {
	ctx := ctxT(t)
	c := newCluster(t)
	root := filepath.Join(c.root, "master")
	pillar := filepath.Join(root, "srv", "pillar")
	files := filepath.Join(root, "srv", "salt")
	writeFile(t, filepath.Join(pillar, "top.sls"), "base:\n  'm1':\n    - web\n  'G@role:db':\n    - db\n")
	writeFile(t, filepath.Join(pillar, "web.sls"), "role_pillar: web\nhost_id: {{ grains['id'] }}\n")
	writeFile(t, filepath.Join(pillar, "db.sls"), "role_pillar: db\n")
	big := make([]byte, 20<<20)
	rand.Read(big)
	writeFile(t, filepath.Join(files, "big.bin"), string(big))
	if err := os.Symlink("/etc/passwd", filepath.Join(files, "escape")); err != nil {
		t.Fatal(err)
	}
	master := c.startMaster("master", fmt.Sprintf("auto_accept: True\nfile_roots: {base: [%s]}\npillar_roots: {base: [%s]}\n", files, pillar))
	master.Log.WaitLines(t, 1, "master: serving")
	bus := c.watch(ctx, "master")
	c.startMinion("m1", "grains: {role: web}\n")
	c.startMinion("m2", "grains: {role: db}\n")
	proctest.WaitEvents(t, ctx, bus, "salt/minion/m1/start", "salt/minion/m2/start")

	t.Run("pillar reaches only its targets", func(t *testing.T) {
		rets, code := c.returns("*", "pillar.items")
		if code != 0 {
			t.Fatalf("exit %d: %v", code, rets)
		}
		if got := fmt.Sprint(rets["m1"]); got != "map[host_id:m1 role_pillar:web]" {
			t.Fatalf("m1 pillar %s", got)
		}
		if got := fmt.Sprint(rets["m2"]); got != "map[role_pillar:db]" {
			t.Fatalf("m2 pillar %s", got)
		}
	})
	t.Run("-I targets by pillar", func(t *testing.T) {
		rets, code := c.returns("-I", "role_pillar:db", "test.ping")
		if fmt.Sprint(rets) != "map[m2:true]" || code != 0 {
			t.Fatalf("%v exit %d", rets, code)
		}
	})
	t.Run("cp.get_file of 20 MB", func(t *testing.T) {
		dest := filepath.Join(c.root, "got", "big.bin")
		rets, code := c.returns("-L", "m1", "cp.get_file", "salt://big.bin", dest, "makedirs=True")
		if rets["m1"] != dest || code != 0 {
			t.Fatalf("%v exit %d", rets, code)
		}
		got, err := os.ReadFile(dest)
		if err != nil || sha256.Sum256(got) != sha256.Sum256(big) {
			t.Fatalf("the file arrived changed (%d bytes, %v)", len(got), err)
		}
	})
	for _, src := range []string{"salt://../etc/passwd", "salt://escape", "salt:///etc/passwd"} {
		t.Run("refused "+src, func(t *testing.T) {
			dest := filepath.Join(c.root, "got", "passwd")
			rets, _ := c.returns("-L", "m1", "cp.get_file", src, dest, "makedirs=True")
			if b, err := os.ReadFile(dest); err == nil && bytes.Contains(b, []byte("root:")) {
				t.Fatalf("%s was served: %v", src, rets)
			}
			if rets["m1"] == dest {
				t.Fatalf("%s: cp.get_file reported success", src)
			}
		})
	}
	t.Run("event.fire_master", func(t *testing.T) {
		if rets, code := c.returns("-L", "m2", "event.fire_master", `{"a": 1}`, "custom/tag"); rets["m2"] != true || code != 0 {
			t.Fatalf("%v exit %d", rets, code)
		}
		// As Salt's master does, the event carries the whole load; the
		// fired data is under "data".
		ev := waitEvent(t, ctx, bus, "custom/tag", nil)
		if inner, _ := ev.Data["data"].(map[string]any); fmt.Sprint(inner["a"]) != "1" {
			t.Fatalf("event data %v", ev.Data)
		}
	})
}

// brine-cp copies a local file to the targeted minions, in chunks.
func TestCp(t *testing.T) {
	ctx := ctxT(t)
	c := newCluster(t)
	master := c.startMaster("master", "auto_accept: True\n")
	master.Log.WaitLines(t, 1, "master: serving")
	bus := c.watch(ctx, "master")
	c.startMinion("m1", "")
	c.startMinion("m2", "")
	proctest.WaitEvents(t, ctx, bus, "salt/minion/m1/start", "salt/minion/m2/start")
	src := filepath.Join(c.root, "payload.bin")
	data := make([]byte, 1<<20+12345) // several chunks and a partial one
	rand.Read(data)
	writeFile(t, src, string(data))
	os.Chmod(src, 0o640)
	dest := filepath.Join(c.root, "copied", "payload.bin")
	// One minion: the test's minions share this machine's disk.
	out, err := run(t, "brine-cp", "-c", filepath.Join(c.root, "master", "etc"), "--out", "json", "-L", "m1", src, dest)
	if err != nil || !strings.Contains(out, `"m1": {`) || strings.Count(out, `": true`) != 1 {
		t.Fatalf("%v:\n%s", err, out)
	}
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the copy differs (%d bytes, %v)", len(got), err)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want the source's 0640", fi.Mode())
	}
}

package e2e

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// brine-call --local needs no master at all.
func TestCallLocal(t *testing.T) {
	c := newCluster(t) // ports that nothing listens on
	dir := filepath.Join(c.root, "lonely", "etc")
	writeFile(t, filepath.Join(dir, "minion"), "root_dir: "+filepath.Join(c.root, "lonely")+"\nid: lonely\nmaster: 127.0.0.1\nmaster_port: "+itoa(c.retPort)+"\n")
	out, err := run(t, "brine-call", "-c", dir, "--local", "test.ping")
	if err != nil || out != "local:\n    True\n" {
		t.Fatalf("%v:\n%q", err, out)
	}
	out, err = run(t, "brine-call", "-c", dir, "--local", "--out", "json", "grains.get", "id")
	if err != nil || !strings.Contains(out, `"local": "lonely"`) {
		t.Fatalf("%v:\n%s", err, out)
	}
}

// Without --local, brine-call authenticates, runs, and its return reaches
// the master as a job of its own.
func TestCallWithMaster(t *testing.T) {
	ctx := ctxT(t)
	c := newCluster(t)
	master := c.startMaster("master", "auto_accept: True\n")
	master.Log.WaitLines(t, 1, "master: serving")
	bus := c.watch(ctx, "master")
	dir := filepath.Join(c.root, "caller", "etc")
	writeFile(t, filepath.Join(dir, "minion"), "root_dir: "+filepath.Join(c.root, "caller")+"\nid: caller\nmaster: 127.0.0.1\nmaster_port: "+itoa(c.retPort)+"\npublish_port: "+itoa(c.pubPort)+"\n")
	out, err := run(t, "brine-call", "-c", dir, "test.echo", "hello")
	if err != nil || out != "local:\n    hello\n" {
		t.Fatalf("%v:\n%q", err, out)
	}
	for {
		ev, err := bus.Next(ctx)
		if err != nil {
			t.Fatalf("no return event: %v", err)
		}
		if strings.HasPrefix(ev.Tag, "salt/job/") && strings.HasSuffix(ev.Tag, "/ret/caller") {
			if ev.Data["return"] != "hello" || ev.Data["fun"] != "test.echo" {
				t.Fatalf("return event %v", ev.Data)
			}
			return
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

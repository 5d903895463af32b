// Package e2e runs Brine's binaries as real processes on loopback: a
// master, minions, brine-key. TestMain builds the binaries once.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/internal/proctest"
)

// binDir holds the binaries of cmd/, built once by TestMain (with -race
// when the tests run under it).
var binDir string

func TestMain(m *testing.M) {
	proctest.TrackSources("..")
	os.Exit(proctest.Main(m, "brine-e2e-bin", func(dir string) error {
		binDir = dir
		if raceEnabled {
			return proctest.Build(dir, []string{"CGO_ENABLED=1"}, "-race", "../cmd/...")
		}
		return proctest.Build(dir, []string{"CGO_ENABLED=0"}, "../cmd/...")
	}))
}

// testTimeout bounds each wait.
const testTimeout = proctest.Timeout

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// start starts the binary name of cmd/.
func start(t testing.TB, name string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.StartPath(t, name, filepath.Join(binDir, name), args...)
}

// run runs the binary name of cmd/ to completion and returns its combined
// output.
func run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	return proctest.Run(exec.Command(filepath.Join(binDir, name), args...))
}

// cluster is a master's configuration, and the minions' roots, in one
// short temp dir (socket paths must stay under sun_path's limit).
type cluster struct {
	t                testing.TB
	root             string
	retPort, pubPort int
}

func newCluster(t testing.TB) *cluster {
	return &cluster{t: t, root: proctest.TempDir(t, "be2e"), retPort: proctest.FreePort(t), pubPort: proctest.FreePort(t)}
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// masterDir writes the config of master `name` (its own root under the
// cluster, the cluster's ports, interface 127.0.0.1 unless extra sets
// one) and returns its config dir.
func (c *cluster) masterDir(name, extra string) string {
	dir := filepath.Join(c.root, name, "etc")
	if !strings.Contains(extra, "interface:") {
		extra = "interface: 127.0.0.1\n" + extra
	}
	writeFile(c.t, filepath.Join(dir, "master"), fmt.Sprintf(
		"root_dir: %s\nret_port: %d\npublish_port: %d\nlog_level: info\n%s",
		filepath.Join(c.root, name), c.retPort, c.pubPort, extra))
	return dir
}

func (c *cluster) startMaster(name, extra string) *proctest.Proc {
	return start(c.t, "brine-master", "-c", c.masterDir(name, extra))
}

// startMinion starts minion id with Salt's timings shortened for tests.
func (c *cluster) startMinion(id, extra string) *proctest.Proc {
	dir := filepath.Join(c.root, id, "etc")
	writeFile(c.t, filepath.Join(dir, "minion"), fmt.Sprintf(
		"root_dir: %s\nid: %s\nmaster: 127.0.0.1\nmaster_port: %d\npublish_port: %d\n"+
			"acceptance_wait_time: 1\nrandom_reauth_delay: 0\nrecon_default: 100\nrecon_max: 500\nlog_level: info\n%s",
		filepath.Join(c.root, id), id, c.retPort, c.pubPort, extra))
	return start(c.t, "brine-minion", "-c", dir)
}

// key runs brine-key against master `name`.
func (c *cluster) key(name string, args ...string) string {
	c.t.Helper()
	out, err := run(c.t, "brine-key", append([]string{"-c", filepath.Join(c.root, name, "etc")}, args...)...)
	if err != nil {
		c.t.Fatalf("brine-key %v: %v\n%s", args, err, out)
	}
	return out
}

func (c *cluster) sockDir(name string) string {
	return filepath.Join(c.root, name, "var/run/brine/master")
}

// watch subscribes to master `name`'s event bus (see proctest.Watch).
func (c *cluster) watch(ctx context.Context, name string) *events.Subscriber {
	c.t.Helper()
	return proctest.Watch(c.t, ctx, c.sockDir(name))
}

// waitEvent returns the next event matching tag and the data fields.
func waitEvent(t testing.TB, ctx context.Context, sub *events.Subscriber, tag string, fields map[string]any) events.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for event %s %v: %v", tag, fields, err)
		}
		if ev.Tag != tag {
			continue
		}
		ok := true
		for k, v := range fields {
			ok = ok && ev.Data[k] == v
		}
		if ok {
			return ev
		}
	}
}

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/internal/proctest"
	"github.com/brine-project/brine/transport"
)

// brine runs the CLI against master `name` and returns stdout+stderr and
// the exit status.
func (c *cluster) brine(name string, args ...string) (string, int) {
	c.t.Helper()
	out, err := run(c.t, "brine", append([]string{"-c", filepath.Join(c.root, name, "etc")}, args...)...)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("brine %v: %v\n%s", args, err, out)
	}
	return out, code
}

// returns runs brine --static --out json and decodes {minion: return}.
func (c *cluster) returns(args ...string) (map[string]any, int) {
	c.t.Helper()
	out, code := c.brine("master", append([]string{"--static", "--out", "json"}, args...)...)
	var rets map[string]any
	if err := json.Unmarshal([]byte(out), &rets); err != nil {
		c.t.Fatalf("brine %v: not JSON: %v\n%s", args, err, out)
	}
	return rets, code
}

func (c *cluster) runner(args ...string) string {
	c.t.Helper()
	out, err := run(c.t, "brine-run", append([]string{"-c", filepath.Join(c.root, "master", "etc"), "--out", "json"}, args...)...)
	if err != nil {
		c.t.Fatalf("brine-run %v: %v\n%s", args, err, out)
	}
	return out
}

func keys(m map[string]any) []string {
	var k []string
	for id := range m {
		k = append(k, id)
	}
	slices.Sort(k)
	return k
}

// The flow of salt '*' test.ping, with three minions on loopback.
func TestRemoteExecution(t *testing.T) {
	ctx := ctxT(t)
	c := newCluster(t)
	master := c.startMaster("master", "")
	master.Log.WaitLines(t, 1, "master: serving")
	bus := c.watch(ctx, "master")
	grains := map[string]string{"m1": "os: Linux, role: web", "m2": "os: Linux, role: db", "m3": "os: Plan9, role: web"}
	minions := map[string]*proctest.Proc{}
	for _, id := range []string{"m1", "m2", "m3"} {
		minions[id] = c.startMinion(id, "grains: {"+grains[id]+"}\n")
	}
	for range 3 {
		waitEvent(t, ctx, bus, "salt/auth", map[string]any{"act": "pend"})
	}
	c.key("master", "-A", "-y")
	proctest.WaitEvents(t, ctx, bus, "salt/minion/m1/start", "salt/minion/m2/start", "salt/minion/m3/start")

	t.Run("ping all", func(t *testing.T) {
		rets, code := c.returns("*", "test.ping")
		if fmt.Sprint(rets) != "map[m1:true m2:true m3:true]" || code != 0 {
			t.Fatalf("%v, exit %d", rets, code)
		}
	})
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-L", "m1,m3"}, []string{"m1", "m3"}},
		{[]string{"-E", "m[12]"}, []string{"m1", "m2"}},
		{[]string{"-G", "role:web"}, []string{"m1", "m3"}},
		{[]string{"-C", "G@os:Linux and not L@m2"}, []string{"m1"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			rets, code := c.returns(append(tc.args, "test.ping")...)
			if got := keys(rets); !slices.Equal(got, tc.want) || code != 0 {
				t.Fatalf("returned %v (exit %d), want %v", got, code, tc.want)
			}
		})
	}
	t.Run("cmd.run with a keyword", func(t *testing.T) {
		rets, code := c.returns("-L", "m1", "cmd.run", "echo hi; pwd", "cwd=/")
		if rets["m1"] != "hi\n/" || code != 0 {
			t.Fatalf("%q, exit %d", rets["m1"], code)
		}
	})
	t.Run("no match", func(t *testing.T) {
		out, code := c.brine("master", "nobody*", "test.ping")
		if code == 0 || !strings.Contains(out, "No minions matched the target") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})

	var asyncJID string
	t.Run("async and lookup_jid", func(t *testing.T) {
		watcher := start(t, "brine-run", "-c", filepath.Join(c.root, "master", "etc"), "state.event", "salt/job/*")
		c.syncWatcher(t, watcher)
		out, code := c.brine("master", "--async", "*", "test.echo", "hello")
		_, jid, ok := strings.Cut(strings.TrimSpace(out), "job ID: ")
		if code != 0 || !ok {
			t.Fatalf("exit %d: %s", code, out)
		}
		asyncJID = jid
		proctest.WaitEvents(t, ctx, bus, "salt/job/"+jid+"/ret/m1", "salt/job/"+jid+"/ret/m2", "salt/job/"+jid+"/ret/m3")
		var rets map[string]any
		if err := json.Unmarshal([]byte(c.runner("jobs.lookup_jid", jid)), &rets); err != nil || fmt.Sprint(rets) != "map[m1:hello m2:hello m3:hello]" {
			t.Fatalf("lookup_jid: %v %v", rets, err)
		}
		// The watcher, another process on the bus, saw the job start and
		// the returns.
		watcher.Log.WaitLines(t, 1, "salt/job/"+jid+"/new\t")
		watcher.Log.WaitLines(t, 3, "salt/job/"+jid+"/ret/")
	})

	t.Run("batch of one", func(t *testing.T) {
		out, code := c.brine("master", "-b", "1", "*", "test.ping")
		if code != 0 || strings.Count(out, "Executing run on [") != 3 || strings.Count(out, "True") != 3 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("retcode passthrough", func(t *testing.T) {
		if _, code := c.brine("master", "-L", "m1", "cmd.run", "exit 3"); code != 1 {
			t.Fatalf("a failing command: exit %d, want 1", code)
		}
		if _, code := c.brine("master", "--retcode-passthrough", "-L", "m1", "cmd.run", "exit 3"); code != 3 {
			t.Fatalf("--retcode-passthrough: exit %d, want 3", code)
		}
	})
	t.Run("out-file", func(t *testing.T) {
		file := filepath.Join(c.root, "out.json")
		if out, code := c.brine("master", "--out", "json", "--static", "--out-file", file, "-L", "m2", "test.echo", "filed"); code != 0 || out != "" {
			t.Fatalf("exit %d, stdout %q", code, out)
		}
		b, _ := os.ReadFile(file)
		if !strings.Contains(string(b), `"m2": "filed"`) {
			t.Fatalf("out-file holds %q", b)
		}
	})

	t.Run("slow job outlives the timeout", func(t *testing.T) {
		start := time.Now()
		rets, code := c.returns("-t", "2", "-L", "m1", "test.sleep", "5")
		if rets["m1"] != true || code != 0 || time.Since(start) < 5*time.Second {
			t.Fatalf("%v, exit %d after %v", rets, code, time.Since(start))
		}
	})

	t.Run("a stopped minion does not return", func(t *testing.T) {
		minions["m3"].Stop(t)
		out, code := c.brine("master", "--out", "json", "-t", "2", "*", "test.ping")
		if code == 0 || !strings.Contains(out, "Minion did not return. [No response]") || !strings.Contains(out, `"m1": true`) {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		out, code = c.brine("master", "--hide-timeout", "-t", "1", "*", "test.ping")
		if code == 0 || strings.Contains(out, "did not return") {
			t.Fatalf("--hide-timeout: exit %d:\n%s", code, out)
		}
	})

	t.Run("the job cache survives a master restart", func(t *testing.T) {
		master.Stop(t)
		master = c.startMaster("master", "")
		master.Log.WaitLines(t, 1, "master: serving")
		var rets map[string]any
		if err := json.Unmarshal([]byte(c.runner("jobs.lookup_jid", asyncJID)), &rets); err != nil || len(rets) != 3 {
			t.Fatalf("lookup_jid after restart: %v %v", rets, err)
		}
	})
}

// syncWatcher fires probe events matching salt/job/* until the state.event
// process shows one: from then on it sees every event.
func (c *cluster) syncWatcher(t *testing.T, w *proctest.Proc) {
	t.Helper()
	push, err := events.NewPusher("ipc://"+filepath.Join(c.sockDir("master"), transport.EventPullFile), transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	ctx := ctxT(t)
	for i := 0; ; i++ {
		tag := fmt.Sprintf("salt/job/sync/%d", i)
		if err := push.Fire(ctx, tag, map[string]any{"sync": i}); err != nil {
			t.Fatal(err)
		}
		if w.Log.WaitFor(50*time.Millisecond, "salt/job/sync/") {
			return
		}
		if ctx.Err() != nil {
			t.Fatal("state.event never showed a probe")
		}
	}
}

// With zmq_filtering on both sides, each minion receives only the
// publications meant for it (its topic) or broadcast to all.
func TestZMQFiltering(t *testing.T) {
	ctx := ctxT(t)
	c := newCluster(t)
	master := c.startMaster("master", "auto_accept: True\nzmq_filtering: True\n")
	master.Log.WaitLines(t, 1, "master: serving")
	bus := c.watch(ctx, "master")
	m1 := c.startMinion("m1", "zmq_filtering: True\ngrains: {role: web}\n")
	c.startMinion("m2", "zmq_filtering: True\ngrains: {role: db}\n")
	proctest.WaitEvents(t, ctx, bus, "salt/minion/m1/start", "salt/minion/m2/start")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"*", "test.ping"}, "map[m1:true m2:true]"},      // a topic per minion
		{[]string{"-L", "m2", "test.ping"}, "map[m2:true]"},       // m2's topic only
		{[]string{"-G", "role:web", "test.ping"}, "map[m1:true]"}, // broadcast, matched by the minion
	} {
		rets, code := c.returns(tc.args...)
		if fmt.Sprint(rets) != tc.want || code != 0 {
			t.Fatalf("%v: %v (exit %d), want %s", tc.args, rets, code, tc.want)
		}
	}
	// m1 never even saw the list publication for m2.
	if n := m1.Log.Count("running job", "fun=test.ping"); n != 2 {
		t.Fatalf("m1 ran %d test.ping jobs, want 2:\n%s", n, m1.Log.String())
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brine-project/brine/internal/proctest"
)

// jidOf reads the job id from brine --async's answer.
func jidOf(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`job ID: (\d{20})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no job id in %q", out)
	}
	return m[1]
}

// lookupJID returns the returns the master's job cache holds for jid.
func (c *cluster) lookupJID(jid string) map[string]any {
	c.t.Helper()
	var rets map[string]any
	out := c.runner("jobs.lookup_jid", jid)
	if err := json.Unmarshal([]byte(out), &rets); err != nil {
		c.t.Fatalf("jobs.lookup_jid: not JSON: %v\n%s", err, out)
	}
	return rets
}

// A return the master cannot take (it is down when the job ends, and the
// minion's one try times out) is spooled on the minion's disk and
// delivered when the master is back: its event fires and the job cache
// has it.
func TestReturnSpool(t *testing.T) {
	ctx := ctxT(t)
	c := newCluster(t)
	master := c.startMaster("master", "auto_accept: True\n")
	bus := c.watch(ctx, "master")
	minion := c.startMinion("m1", "return_retry_tries: 1\nreturn_retry_timer: 1\nreturn_retry_timer_max: 1\n")
	waitEvent(t, ctx, bus, "salt/minion/m1/start", nil)

	out, code := c.brine("master", "--async", "*", "test.sleep", "3")
	if code != 0 {
		t.Fatalf("brine --async: %d\n%s", code, out)
	}
	jid := jidOf(t, out)
	minion.Log.WaitLines(t, 1, "minion: running job", jid)
	master.Stop(t)
	minion.Log.WaitLines(t, 1, "spooled until the master takes it", jid)

	c.startMaster("master", "auto_accept: True\n")
	bus = c.watch(ctx, "master")
	ev := waitEvent(t, ctx, bus, "salt/job/"+jid+"/ret/m1", nil)
	if ev.Data["return"] != true {
		t.Fatalf("spooled return delivered as %v", ev.Data)
	}
	minion.Log.WaitLines(t, 1, "minion: delivered a spooled return")
	if rets := c.lookupJID(jid); rets["m1"] != true {
		t.Fatalf("job cache after the spool drained: %v", rets)
	}
}

// swarm starts brine-swarm with n minions against the cluster's master,
// their keys made in the test's own directory, and waits until all are
// authenticated and subscribed. It is built without the race detector:
// it is the load, not what is tested, and 1,000 raced minions would cost
// minutes.
func (c *cluster) swarm(t *testing.T, n int, extra ...string) *proctest.Proc {
	t.Helper()
	bin := filepath.Join(c.root, "brine-swarm")
	build := exec.Command("go", "build", "-o", bin, "../cmd/brine-swarm")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building brine-swarm: %v\n%s", err, out)
	}
	args := append([]string{"--ret-port", fmt.Sprint(c.retPort), "--publish-port", fmt.Sprint(c.pubPort),
		"-n", fmt.Sprint(n), "--dir", filepath.Join(c.root, "swarm-keys"), "--state", filepath.Join(c.root, "swarm-state"),
		"--log-level", "info"}, extra...)
	p := proctest.StartPath(t, "brine-swarm", bin, args...)
	p.Log.WaitLinesFor(t, 5*time.Minute, 1, fmt.Sprintf("ready %d ", n))
	return p
}

// pingAll runs test.ping on every minion and returns how many answered.
func (c *cluster) pingAll(timeout int) int {
	c.t.Helper()
	out, _ := c.brine("master", "--static", "--out", "json", "-t", fmt.Sprint(timeout), "*", "test.ping")
	var rets map[string]any
	json.Unmarshal([]byte(out), &rets)
	n := 0
	for _, r := range rets {
		if r == true {
			n++
		}
	}
	return n
}

// After a master restart (a new AES key, every connection gone) every
// minion authenticates again by itself, spread over random_reauth_delay
// rather than all in one second, and all answer within 30 s.
func TestMasterRestart(t *testing.T) {
	const n = 50
	ctx := ctxT(t)
	c := newCluster(t)
	master := c.startMaster("master", "auto_accept: True\n")
	c.swarm(t, n)
	if got := c.pingAll(10); got != n {
		t.Fatalf("%d of %d minions answered before the restart", got, n)
	}

	master.Stop(t)
	restarted := time.Now()
	c.startMaster("master", "auto_accept: True\n")
	bus := c.watch(ctx, "master")
	var first, last time.Time
	seen := map[string]bool{}
	deadline, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for len(seen) < n {
		ev, err := bus.Next(deadline)
		if err != nil {
			t.Fatalf("%d of %d minions authenticated again within 30 s", len(seen), n)
		}
		if ev.Tag != "salt/auth" || ev.Data["act"] != "accept" {
			continue
		}
		if id := fmt.Sprint(ev.Data["id"]); !seen[id] {
			seen[id] = true
			if first.IsZero() {
				first = time.Now()
			}
			last = time.Now()
		}
	}
	if got := c.pingAll(10); got != n {
		t.Fatalf("%d of %d minions answered after the restart", got, n)
	}
	answered := time.Since(restarted)
	if answered > 30*time.Second {
		t.Fatalf("all answered %v after the restart, want within 30 s", answered)
	}
	if spread := last.Sub(first); spread < time.Second {
		t.Fatalf("the %d re-authentications came within %v: not spread out", n, spread)
	}
	t.Logf("restart: %d minions re-authenticated %v–%v after the master came back, all answering %v after it restarted",
		n, first.Sub(restarted).Round(time.Millisecond), last.Sub(restarted).Round(time.Millisecond), answered.Round(time.Millisecond))
}

// The master killed (SIGKILL) while 1,000 returns of one job stream in
// (each minion sleeps up to 4 s first): after a restart the job cache
// opens and every return the master acknowledged is in it. The master
// stays down long enough for the minions' retries (return_retry_tries)
// to run out, so the rest go to their spools, and they arrive once it is
// back, until all 1,000 are there.
func TestMasterKilledMidJob(t *testing.T) {
	const n = 1000
	ctx := ctxT(t)
	c := newCluster(t)
	master := c.startMaster("master", "auto_accept: True\n")
	swarm := c.swarm(t, n)
	bus := c.watch(ctx, "master")

	out, code := c.brine("master", "--async", "*", "test.rand_sleep", "max=4")
	if code != 0 {
		t.Fatalf("brine --async: %d\n%s", code, out)
	}
	jid := jidOf(t, out)
	// Kill it a third of the way in: what came back as an event was
	// committed and acknowledged first.
	acked := map[string]bool{}
	prefix := "salt/job/" + jid + "/ret/"
	for len(acked) < n/3 {
		ev, err := bus.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := strings.CutPrefix(ev.Tag, prefix); ok {
			acked[id] = true
		}
	}
	master.Cmd.Process.Kill()
	<-master.Done()
	killed := time.Now()
	// About two thirds of the returns were still to come: wait until at
	// least half of all have given up their retries and been spooled.
	swarm.Log.WaitLinesFor(t, 2*time.Minute, n/2, "spooled until the master takes it", jid)
	spooled := swarm.Log.Count("spooled until the master takes it", jid)

	c.startMaster("master", "auto_accept: True\n")
	c.watch(ctx, "master") // serving, with its new root key written
	restarted := time.Now()
	rets := c.lookupJID(jid)
	for id := range acked {
		if rets[id] != true {
			t.Fatalf("return of %s was acknowledged before the kill but is not in the job cache", id)
		}
	}
	atRestart := len(rets)
	// The rest come as the minions find the master again: watch the cache
	// fill (each poll is a brine-run process: there is no event for a
	// return the master already had).
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for len(rets) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d returns in the job cache %v after the restart", len(rets), n, time.Since(restarted))
		case <-tick.C:
		}
		rets = c.lookupJID(jid)
	}
	for id, r := range rets {
		if r != true {
			t.Fatalf("return of %s: %v", id, r)
		}
	}
	if got := swarm.Log.Count("delivered a spooled return"); got < spooled {
		t.Fatalf("%d spooled returns, %d delivered from the spool", spooled, got)
	}
	t.Logf("%d returns acknowledged before the kill, %d in the cache at restart; %d spooled while the master was down (%v); all %d in the cache %v after the restart",
		len(acked), atRestart, spooled, restarted.Sub(killed).Round(time.Millisecond), n, time.Since(restarted).Round(time.Millisecond))
}

// SIGTERM stops the master gracefully: a request in flight (a runner
// waiting 5 s for a minion that is down) is finished and answered, the
// master exits 0, and the returns it took before are in the job cache when
// it starts again.
func TestMasterGracefulStop(t *testing.T) {
	ctx := ctxT(t)
	c := newCluster(t)
	master := c.startMaster("master", "auto_accept: True\n")
	bus := c.watch(ctx, "master")
	c.startMinion("m1", "")
	gone := c.startMinion("m2", "")
	proctest.WaitEvents(t, ctx, bus, "salt/minion/m1/start", "salt/minion/m2/start")
	gone.Stop(t)

	out, code := c.brine("master", "--async", "m1", "test.ping")
	if code != 0 {
		t.Fatalf("brine --async: %d\n%s", code, out)
	}
	jid := jidOf(t, out)
	waitEvent(t, ctx, bus, "salt/job/"+jid+"/ret/m1", nil)

	runner := start(t, "brine-run", "-c", filepath.Join(c.root, "master", "etc"), "--out", "json", "manage.status", "timeout=5")
	for {
		ev, err := bus.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(ev.Tag, "salt/run/") && strings.HasSuffix(ev.Tag, "/new") {
			break
		}
	}
	master.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-runner.Done():
	case <-time.After(testTimeout):
		t.Fatalf("the runner in flight at SIGTERM never got its answer\n%s", master.Log.String())
	}
	var status map[string][]string
	if err := json.Unmarshal([]byte(runner.Log.String()), &status); runner.Err() != nil || err != nil {
		t.Fatalf("the runner in flight at SIGTERM: %v, %v\n%s", runner.Err(), err, runner.Log.String())
	}
	if fmt.Sprint(status["up"]) != "[m1]" || fmt.Sprint(status["down"]) != "[m2]" {
		t.Fatalf("manage.status answered %v", status)
	}
	<-master.Done()
	if master.Err() != nil {
		t.Fatalf("the master exited with %v after SIGTERM\n%s", master.Err(), master.Log.String())
	}

	c.startMaster("master", "auto_accept: True\n")
	c.watch(ctx, "master") // serving, with its new root key written
	if rets := c.lookupJID(jid); rets["m1"] != true {
		t.Fatalf("job cache after a graceful stop: %v", rets)
	}
}

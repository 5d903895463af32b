package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/internal/proctest"
)

// netns is a network namespace joined to this one by a veth pair: hostIP
// here, nsIP inside.
type netns struct {
	name, hostIf string
	hostIP, nsIP string
	t            *testing.T
}

// newNetns makes a namespace for the test, removed when it ends. It skips
// the test where namespaces cannot be made.
func newNetns(t *testing.T) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace (ip netns)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip from iproute2: apt-get install iproute2")
	}
	id := os.Getpid() % 250
	n := &netns{
		name: fmt.Sprintf("brine-e2e-%d", os.Getpid()), hostIf: fmt.Sprintf("bh%d", os.Getpid()),
		hostIP: fmt.Sprintf("10.231.%d.1", id), nsIP: fmt.Sprintf("10.231.%d.2", id), t: t,
	}
	nsIf := fmt.Sprintf("bn%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", n.name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", n.hostIf).Run()
		exec.Command("ip", "netns", "del", n.name).Run()
	})
	n.ip("link", "add", n.hostIf, "type", "veth", "peer", "name", nsIf)
	n.ip("link", "set", nsIf, "netns", n.name)
	n.ip("addr", "add", n.hostIP+"/30", "dev", n.hostIf)
	n.ip("link", "set", n.hostIf, "up")
	n.ip("netns", "exec", n.name, "ip", "addr", "add", n.nsIP+"/30", "dev", nsIf)
	n.ip("netns", "exec", n.name, "ip", "link", "set", nsIf, "up")
	n.ip("netns", "exec", n.name, "ip", "link", "set", "lo", "up")
	return n
}

func (n *netns) ip(args ...string) {
	n.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		n.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// A minion in its own network namespace is cut off from the master for
// 60 s: its link goes down without a FIN or RST reaching either side, as
// when a NAT or VPN forgets the flow. The minion notices within two
// heartbeat intervals, cannot be reached meanwhile, and answers again
// once the link is back, without a restart.
func TestPartition(t *testing.T) {
	const beat = 2 // heartbeat_interval, seconds
	ns := newNetns(t)
	ctx := ctxT(t)
	c := newCluster(t)
	c.startMaster("master", fmt.Sprintf("interface: %s\nauto_accept: True\nheartbeat_interval: %d\n", ns.hostIP, beat))
	bus := c.watch(ctx, "master")

	dir := filepath.Join(c.root, "m1", "etc")
	// Salt's reconnect timings (recon_default 1 s, recon_max 10 s), as a
	// fleet would have them.
	writeFile(t, filepath.Join(dir, "minion"), fmt.Sprintf(
		"root_dir: %s\nid: m1\nmaster: %s\nmaster_port: %d\npublish_port: %d\n"+
			"acceptance_wait_time: 1\nheartbeat_interval: %d\nlog_level: info\n",
		filepath.Join(c.root, "m1"), ns.hostIP, c.retPort, c.pubPort, beat))
	minion := proctest.StartPath(t, "brine-minion", "ip", "netns", "exec", ns.name, filepath.Join(binDir, "brine-minion"), "-c", dir)
	waitEvent(t, ctx, bus, "salt/minion/m1/start", nil)
	if rets, _ := c.returns("-t", "10", "m1", "test.ping"); rets["m1"] != true {
		t.Fatalf("before the cut: %v", rets)
	}

	ns.ip("link", "set", ns.hostIf, "down")
	cut := time.Now()
	minion.Log.WaitLinesFor(t, 4*beat*time.Second, 1, "the publish link is down")
	detected := time.Since(cut)
	if detected > 2*beat*time.Second {
		t.Errorf("the minion noticed the cut after %v, want within 2 heartbeat intervals (%ds)", detected, 2*beat)
	}
	if rets, _ := c.returns("-t", "5", "m1", "test.ping"); rets["m1"] == true {
		t.Fatalf("the cut-off minion answered: %v", rets)
	}
	// The partition lasts 60 s: that is the scenario, not a wait for
	// something to happen.
	<-time.After(time.Until(cut.Add(60 * time.Second)))

	ns.ip("link", "set", ns.hostIf, "up")
	healed := time.Now()
	minion.Log.WaitLinesFor(t, 60*time.Second, 2, "minion: authenticated with the master")
	if rets, _ := c.returns("-t", "10", "m1", "test.ping"); rets["m1"] != true {
		t.Fatalf("after the link came back: %v", rets)
	}
	t.Logf("partition: dead link noticed %v after the cut (heartbeat_interval %d s); answering again %v after the link came back",
		detected.Round(time.Millisecond), beat, time.Since(healed).Round(time.Millisecond))
}

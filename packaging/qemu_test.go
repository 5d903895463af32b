package packaging

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/brine-project/brine/internal/proctest"
)

// armTarget is a minion build for an ARM board and the qemu-user emulator
// that runs it here.
type armTarget struct {
	id            string // the minion's id
	goarch, goarm string
	cpuarch       string   // the cpuarch grain: uname's machine, as qemu reports it
	qemu          []string // emulator names, static first
}

var armTargets = []armTarget{
	{id: "arm64", goarch: "arm64", cpuarch: "aarch64", qemu: []string{"qemu-aarch64-static", "qemu-aarch64"}},
	{id: "armv7", goarch: "arm", goarm: "7", cpuarch: "armv7l", qemu: []string{"qemu-arm-static", "qemu-arm"}},
}

// The minion cross-built for linux/arm64 and linux/arm/v7 runs under
// qemu-user against a native master on loopback: it authenticates
// (auto_accept), and the real brine CLI gets its test.ping and its cpuarch
// grain back.
func TestQemuMinions(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds the minion")
	}
	emulators := map[string]string{}
	for _, tg := range armTargets {
		path, err := lookPathAny(tg.qemu)
		if err != nil {
			t.Skipf("%v: install Debian's qemu-user-static (apt-get install qemu-user-static)", err)
		}
		emulators[tg.id] = path
	}
	ctx := ctxT(t)
	root := proctest.TempDir(t, "bpkg")
	retPort, pubPort := proctest.FreePort(t), proctest.FreePort(t)
	masterEtc := filepath.Join(root, "master", "etc")
	writeFile(t, filepath.Join(masterEtc, "master"), fmt.Sprintf(
		"root_dir: %s\ninterface: 127.0.0.1\nret_port: %d\npublish_port: %d\nauto_accept: True\nlog_level: info\n",
		filepath.Join(root, "master"), retPort, pubPort))
	master := proctest.Start(t, "brine-master", exec.Command(bin("brine-master"), "-c", masterEtc))
	master.Log.WaitLines(t, 1, "master: serving")
	bus := proctest.Watch(t, ctx, filepath.Join(root, "master", "var/run/brine/master"))

	var started []string
	for _, tg := range armTargets {
		dir := filepath.Join(root, tg.id)
		t0 := time.Now()
		if err := goBuild(dir, "linux", tg.goarch, tg.goarm, "../cmd/brine-minion"); err != nil {
			t.Fatalf("building the minion for %s: %v", tg.id, err)
		}
		t.Logf("%s: built in %v", tg.id, time.Since(t0).Round(time.Millisecond))
		assertStatic(t, filepath.Join(dir, "brine-minion"))
		etc := filepath.Join(dir, "etc")
		writeFile(t, filepath.Join(etc, "minion"), fmt.Sprintf(
			"root_dir: %s\nid: %s\nmaster: 127.0.0.1\nmaster_port: %d\npublish_port: %d\n"+
				"acceptance_wait_time: 1\nrandom_reauth_delay: 0\nlog_level: info\n",
			dir, tg.id, retPort, pubPort))
		proctest.Start(t, "brine-minion "+tg.id, exec.Command(emulators[tg.id], filepath.Join(dir, "brine-minion"), "-c", etc))
		started = append(started, "salt/minion/"+tg.id+"/start")
	}
	// A minion announces its start once it is subscribed: from then on it
	// gets every publication.
	t0 := time.Now()
	proctest.WaitEvents(t, ctx, bus, started...)
	t.Logf("both minions started (key made, authenticated, subscribed) in %v", time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	pings := returns(t, masterEtc, "*", "test.ping")
	t.Logf("brine '*' test.ping: %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	arch := returns(t, masterEtc, "*", "grains.item", "cpuarch")
	t.Logf("brine '*' grains.item cpuarch: %v", time.Since(t0).Round(time.Millisecond))
	for _, tg := range armTargets {
		if pings[tg.id] != true {
			t.Errorf("%s: test.ping returned %v", tg.id, pings[tg.id])
		}
		if got := fmt.Sprint(arch[tg.id]); got != "map[cpuarch:"+tg.cpuarch+"]" {
			t.Errorf("%s: grains.item cpuarch returned %s, want cpuarch %s", tg.id, got, tg.cpuarch)
		}
	}
	if len(pings) != len(armTargets) {
		t.Errorf("test.ping returns %v, want one from each of %d minions", pings, len(armTargets))
	}
}

// lookPathAny returns the first of names found in PATH.
func lookPathAny(names []string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %v is in PATH", names)
}

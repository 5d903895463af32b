package e2e

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkCLIPing is `brine '*' test.ping` against one local minion, as a
// user runs it: a new process each time (subscribe to the bus, publish,
// wait for the return, print). It reports the p50 and p99 wall time of 20
// runs per iteration. Stock Salt takes 0.47–0.95 s for this on the same
// kind of machine; the goal is under 30 ms.
func BenchmarkCLIPing(b *testing.B) {
	if raceEnabled {
		b.Skip("timing under the race detector means nothing")
	}
	ctx := ctxT(b)
	c := newCluster(b)
	master := c.startMaster("master", "auto_accept: True\n")
	master.Log.WaitLines(b, 1, "master: serving")
	bus := c.watch(ctx, "master")
	c.startMinion("m1", "")
	waitEvent(b, ctx, bus, "salt/minion/m1/start", nil)
	cli := filepath.Join(binDir, "brine")
	etc := filepath.Join(c.root, "master", "etc")
	var samples []time.Duration
	b.ResetTimer()
	for range b.N {
		for range 20 {
			start := time.Now()
			out, err := exec.Command(cli, "-c", etc, "*", "test.ping").CombinedOutput()
			samples = append(samples, time.Since(start))
			if err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	}
	b.StopTimer()
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds())/1000, "p99-ms")
}

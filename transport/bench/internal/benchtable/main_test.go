package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkPushPull/size=100B/impl=brine-2   100  13557 ns/op  7.38 MB/s  2000000 msgs/s  0 B/op  0 allocs/op
BenchmarkPushPull/size=100B/impl=zmq4-2    100  13557 ns/op  7.38 MB/s   100000 msgs/s  0 B/op  0 allocs/op
BenchmarkPushPull/size=100B/impl=zmq4-2    100  13557 ns/op  7.38 MB/s   300000 msgs/s  0 B/op  0 allocs/op
BenchmarkPushPull/size=100B/impl=zmq4-2    100  13557 ns/op  7.38 MB/s   200000 msgs/s  0 B/op  0 allocs/op
BenchmarkRouterPeers/peers=10000/impl=zmq4-2   2152  479395 ns/op  2086 replies/s  1 capped
BenchmarkPubFanout/subs=1/impl=brine-2   10  1 ns/op  10 p99-µs  5 p50-µs  100 msgs/s
BenchmarkPubFanout/subs=1/impl=zmq4-2    10  1 ns/op  40 p99-µs  10 p50-µs  50 msgs/s
PASS
`

func TestTable(t *testing.T) {
	tb, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	tb.print(&out)
	got := out.String()
	for _, want := range []string{
		"PushPull/size=100B msgs/s",
		"10.00×", // 2M over the median 200k
		"2.09k (capped)",
		"PubFanout/subs=1 p50-µs",
		"4.00×", // p99: 40/10
		"goal: 100 B PUSH→PULL throughput ≥ 10× zmq4's: MET",
		"goal: ROUTER at 10,000 peers ≥ 20,000 replies/s: NOT MEASURED",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	// Units of one figure: rate, p50, p99.
	i, j, k := strings.Index(got, "subs=1 msgs/s"), strings.Index(got, "subs=1 p50"), strings.Index(got, "subs=1 p99")
	if !(i < j && j < k) {
		t.Errorf("units out of order:\n%s", got)
	}
	if strings.Contains(got, "ns/op") || strings.Contains(got, "allocs/op") {
		t.Errorf("standard units in the table:\n%s", got)
	}
}

func TestSplit(t *testing.T) {
	f, impl := split("BenchmarkReqServer/clients=50/impl=brine")
	if f != "ReqServer/clients=50" || impl != "brine" {
		t.Errorf("split = %q, %q", f, impl)
	}
}

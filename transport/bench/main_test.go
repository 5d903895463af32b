// Package bench measures the transport package beside
// github.com/go-zeromq/zmq4, the library it replaces, in the same run: same
// machine, same message sizes, same loopback tcp. Every figure is a pair of
// sub-benchmarks ending in /impl=brine and /impl=zmq4, each reporting its
// figure as a custom metric (msgs/s, rt/s, replies/s, p50-µs, p99-µs), so
//
//	go test -run '^$' -bench . -benchtime=1s ./transport/bench/
//
// prints them together (about a minute on a 2-core machine), and run.sh
// (`make bench`) runs that three times (-benchtime=1s -count=3, about three
// minutes) and turns the output into a table "figure | brine | zmq4 |
// ratio" of medians, ratio being how many times better brine is.
//
// The figures:
//
//  1. BenchmarkPushPull: messages/s, PUSH→PULL, 100 B and 10 KB, one pusher
//     and one puller.
//  2. BenchmarkReqServer: round trips/s through a request server (handler
//     echoes) with 1 and 50 concurrent clients; BenchmarkReqServerDevice: the
//     50-client figure through Salt's device shape (ROUTER → Proxy → DEALER
//     on ipc → 5 REP workers), brine only.
//  3. BenchmarkRouterPeers: replies/s of a ROUTER echoing requests from 1,000
//     and 10,000 connected DEALER peers, one request in flight per peer. The
//     peers live in a helper process (this test binary re-executed, see
//     loadgen_test.go) so that neither process goes past its descriptor limit.
//  4. BenchmarkPubFanout: 500 B publications to 1, 100 and 1,000 subscribers:
//     deliveries/s (reported as msgs/s) and publish→last-delivery latency
//     p50/p99.
//
// Goals (checked by run.sh's table):
//   - 100 B PUSH→PULL throughput at least 10× zmq4's;
//   - a ROUTER with 10,000 peers answers at least 20,000 replies/s.
//
// Heavy fixtures (thousands of connections) are built once per
// sub-benchmark and reused across the b.N ramp-up (see fixture_test.go);
// they are skipped under -short. The Test functions are small and quick.
package bench

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

// helperEnv selects a helper mode when this test binary is re-executed.
const helperEnv = "BRINE_BENCH_HELPER"

func TestMain(m *testing.M) {
	raiseNofile()
	if mode := os.Getenv(helperEnv); mode != "" {
		switch mode {
		case "loadgen":
			os.Exit(loadgenMain())
		default:
			fmt.Fprintf(os.Stderr, "bench: unknown helper mode %q\n", mode)
			os.Exit(2)
		}
	}
	code := m.Run()
	releaseFixture()
	os.Exit(code)
}

// raiseNofile lifts the soft descriptor limit to the hard one: a 10,000-peer
// ROUTER needs a descriptor per connection on each side.
func raiseNofile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// nofile returns the current soft descriptor limit.
func nofile() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return lim.Cur
}

package bench

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brine-project/brine/transport"
)

// The fixture cache: a benchmark function is called several times while
// the testing package ramps b.N up, and building thousands of connections
// each time would cost more than the measurement. One fixture is live at a
// time; asking for another key closes it, and each parent benchmark releases
// its fixture when its sub-benchmark returns, so that the next one starts
// with the descriptors free.
var cache struct {
	mu    sync.Mutex
	key   string
	val   any
	close func()
}

// fixture returns the live fixture under key, building it with build if
// the live one has another key (or there is none).
func fixture[T any](b testing.TB, key string, build func() (T, func(), error)) T {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	if cache.key == key {
		return cache.val.(T)
	}
	if cache.close != nil {
		cache.close()
		cache.key, cache.val, cache.close = "", nil, nil
	}
	v, closeFn, err := build()
	if err != nil {
		b.Fatalf("building fixture %s: %v", key, err)
	}
	cache.key, cache.val, cache.close = key, v, closeFn
	return v
}

// releaseFixture closes the live fixture, if any.
func releaseFixture() {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	if cache.close != nil {
		cache.close()
	}
	cache.key, cache.val, cache.close = "", nil, nil
}

// runImpls runs the impl=brine and impl=zmq4 sub-benchmarks of one figure,
// releasing the cached fixture after each.
func runImpls(b *testing.B, brine, zmq4 func(b *testing.B)) {
	b.Run("impl=brine", brine)
	releaseFixture()
	if zmq4 != nil {
		b.Run("impl=zmq4", zmq4)
		releaseFixture()
	}
}

// benchCtx bounds a benchmark's blocking calls, so that a lost message fails
// the benchmark instead of hanging it.
func benchCtx(b testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	b.Cleanup(cancel)
	return ctx
}

// localTCP is where every server of the suite listens.
const localTCP = "tcp://127.0.0.1:0"

// brineOpts are the options of brine sockets in the suite: defaults, but a
// fast reconnect so a refused first dial costs milliseconds, not Salt's
// randomised seconds.
var brineOpts = transport.Options{
	Reconnect: transport.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond},
}

func tcpEndpoint(a net.Addr) string { return "tcp://" + a.String() }

// quietLog silences zmq4's logger (it prints connection errors on Close).
var quietLog = log.New(io.Discard, "", 0)

// perSecond reports n events over d as a rate in unit.
func perSecond(b *testing.B, n int64, d time.Duration, unit string) {
	if d <= 0 {
		return
	}
	b.ReportMetric(float64(n)/d.Seconds(), unit)
}

// reportLatency reports the p50 and p99 of samples in microseconds.
func reportLatency(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	b.ReportMetric(us(percentile(s, 0.50)), "p50-µs")
	b.ReportMetric(us(percentile(s, 0.99)), "p99-µs")
}

// percentile returns the q-quantile of sorted samples (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// parallel runs f(i) for i in [0, n) with at most width calls at once and
// returns the first error.
func parallel(n, width int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, width)
	)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("#%d: %w", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// payload returns n bytes of filler.
func payload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}

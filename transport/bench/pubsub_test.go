package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/brine-project/brine/transport"
)

const (
	// pubSize is the publication size of BenchmarkPubFanout.
	pubSize = 500
	// pubWindow is how many publications may be on their way to some
	// subscriber at once in the throughput phase. It is below brine's
	// default SendHWM and RecvHWM, so no subscriber ever misses a message
	// (brine's PUB drops for a subscriber whose queue is full), and it
	// keeps zmq4's unbounded PUB queue bounded too.
	pubWindow = 256
	// trackRing is the size of the delivery counters' ring; > pubWindow.
	trackRing = 4096
	// Latency samples per run: at least minLatency, at most maxLatency,
	// b.N in between.
	minLatency = 20
	maxLatency = 300
)

// Publications carry a kind byte, then a sequence number, then filler.
const (
	kindData  = 'D'
	kindProbe = 'P'
)

// BenchmarkPubFanout is figure 4: one PUB, 500 B publications, 1, 100 and
// 1,000 SUB subscribers over loopback tcp (all in this process), each
// subscribed to everything and read by its own goroutine.
//
// msgs/s is deliveries per second: b.N publications × subscribers over the
// time from the first publication until every subscriber has the last one,
// with at most pubWindow publications not yet delivered everywhere.
// p50-µs and p99-µs are the publish→last-delivery latency: one publication
// at a time, from Send until the last subscriber's Recv returns it.
//
// Subscriptions are all registered before timing: brine's Pub.Subscribers()
// is polled until it counts every subscriber; zmq4 has no such count, so
// probes are published until every subscriber has received one.
func BenchmarkPubFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			runImpls(b,
				func(b *testing.B) { pubFanout(b, "brine", n, buildBrineFanout) },
				func(b *testing.B) { pubFanout(b, "zmq4", n, buildZmq4Fanout) })
		})
	}
}

// tracker follows deliveries. Subscribers receive in publication order, so
// when the last subscriber counts publication s, every earlier one has
// been delivered everywhere too: "completed" only moves forward.
type tracker struct {
	n         int32
	counts    [trackRing]atomic.Int32
	at        [trackRing]atomic.Int64 // when publication s%trackRing completed (ns since base)
	completed atomic.Int64            // highest publication delivered everywhere; -1: none
	notify    chan struct{}           // cap 1: completed moved
	base      time.Time

	probed atomic.Int32  // subscribers that got a probe
	ready  chan struct{} // closed when all have
	failed atomic.Pointer[error]
}

func newTracker(n int) *tracker {
	t := &tracker{n: int32(n), notify: make(chan struct{}, 1), ready: make(chan struct{}), base: time.Now()}
	t.completed.Store(-1)
	return t
}

// subscriber is the per-subscriber state a receiving goroutine keeps.
type subscriber struct{ probed bool }

// got handles a message received by subscriber s.
func (t *tracker) got(s *subscriber, m []byte) {
	if len(m) != pubSize {
		t.fail(fmt.Errorf("publication of %d bytes, want %d", len(m), pubSize))
		return
	}
	seq := int64(binary.BigEndian.Uint64(m[1:]))
	switch m[0] {
	case kindProbe:
		if !s.probed {
			s.probed = true
			if t.probed.Add(1) == t.n {
				close(t.ready)
			}
		}
	case kindData:
		i := seq % trackRing
		if t.counts[i].Add(1) != t.n {
			return
		}
		// The last subscriber to get seq: reset the slot (it is reused only
		// once seq+trackRing-pubWindow has completed, which needs this
		// goroutine to have received seq+1 first) and publish completion.
		t.counts[i].Store(0)
		t.at[i].Store(int64(time.Since(t.base)))
		for {
			c := t.completed.Load()
			if c >= seq || t.completed.CompareAndSwap(c, seq) {
				break
			}
		}
		select {
		case t.notify <- struct{}{}:
		default:
		}
	}
}

func (t *tracker) fail(err error) {
	t.failed.CompareAndSwap(nil, &err)
	select {
	case t.notify <- struct{}{}:
	default:
	}
}

func (t *tracker) err() error {
	if p := t.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// waitCompleted waits until publication seq has reached every subscriber.
func (t *tracker) waitCompleted(ctx context.Context, seq int64) error {
	for t.completed.Load() < seq {
		if err := t.err(); err != nil {
			return err
		}
		select {
		case <-t.notify:
		case <-ctx.Done():
			return fmt.Errorf("publication %d: %w (delivered everywhere up to %d)", seq, ctx.Err(), t.completed.Load())
		}
	}
	return t.err()
}

// fanout is a publisher with n subscribers feeding a tracker.
type fanout struct {
	t       *tracker
	publish func(m []byte) error
	next    int64 // next sequence number
}

// message returns a fresh publication (brine shares the frames of a sent
// message with every subscriber's queue, so each needs its own buffer).
func message(kind byte, seq int64) []byte {
	m := make([]byte, pubSize)
	m[0] = kind
	binary.BigEndian.PutUint64(m[1:], uint64(seq))
	copy(m[9:], filler)
	return m
}

var filler = payload(pubSize)

func (f *fanout) send(kind byte) (int64, error) {
	seq := f.next
	if kind == kindData {
		f.next++
	}
	return seq, f.publish(message(kind, seq))
}

// probe publishes probes until every subscriber has received one.
func (f *fanout) probe(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-f.t.ready:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%d of %d subscribers got a probe: %w", f.t.probed.Load(), f.t.n, ctx.Err())
		case <-t.C:
			if _, err := f.send(kindProbe); err != nil {
				return err
			}
			t.Reset(5 * time.Millisecond)
		}
	}
}

// one publishes one message and returns its publish→last-delivery latency.
func (f *fanout) one(ctx context.Context) (time.Duration, error) {
	sent := time.Since(f.t.base)
	seq, err := f.send(kindData)
	if err != nil {
		return 0, err
	}
	if err := f.t.waitCompleted(ctx, seq); err != nil {
		return 0, err
	}
	return time.Duration(f.t.at[seq%trackRing].Load()) - sent, nil
}

func pubFanout(b *testing.B, impl string, n int, build func(ctx context.Context, n int) (*fanout, func(), error)) {
	if raceEnabled && n > 100 {
		b.Skip("1,000 subscribers: skipped under -race")
	}
	if testing.Short() && n > 100 {
		b.Skip("1,000 subscribers: skipped under -short")
	}
	ctx := benchCtx(b)
	f := fixture(b, fmt.Sprintf("fanout/%s/%d", impl, n), func() (*fanout, func(), error) {
		f, closeFn, err := build(context.Background(), n)
		if err != nil {
			return nil, nil, err
		}
		// Warm up, and flush any probes still queued behind the last one.
		if _, err := f.one(ctx); err != nil {
			closeFn()
			return nil, nil, err
		}
		return f, closeFn, nil
	})

	// Throughput: b.N publications, at most pubWindow undelivered.
	b.ResetTimer()
	start := time.Now()
	first := f.next
	for range b.N {
		if err := f.t.waitCompleted(ctx, f.next-pubWindow); err != nil {
			b.Fatal(err)
		}
		if _, err := f.send(kindData); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.t.waitCompleted(ctx, f.next-1); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	perSecond(b, int64(f.next-first)*int64(n), elapsed, "msgs/s")

	// Latency: one publication at a time.
	samples := make([]time.Duration, 0, maxLatency)
	for range max(minLatency, min(b.N, maxLatency)) {
		d, err := f.one(ctx)
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, d)
	}
	reportLatency(b, samples)
}

func buildBrineFanout(ctx context.Context, n int) (*fanout, func(), error) {
	pub := transport.NewPub(brineOpts)
	addr, err := pub.Listen(localTCP)
	if err != nil {
		pub.Close()
		return nil, nil, err
	}
	t := newTracker(n)
	subs := make([]*transport.Sub, n)
	var wg sync.WaitGroup
	closeAll := func() {
		pub.Close()
		parallel(n, 64, func(i int) error {
			if subs[i] != nil {
				subs[i].Close()
			}
			return nil
		})
		wg.Wait()
	}
	for i := range subs {
		s := transport.NewSub(brineOpts)
		subs[i] = s
		if err := s.Subscribe(nil); err != nil {
			closeAll()
			return nil, nil, err
		}
		if err := s.Dial(tcpEndpoint(addr)); err != nil {
			closeAll()
			return nil, nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st subscriber
			for {
				m, err := s.Recv(ctx)
				if err != nil {
					if !errors.Is(err, transport.ErrClosed) && ctx.Err() == nil {
						t.fail(err)
					}
					return
				}
				if len(m) != 1 {
					t.fail(fmt.Errorf("publication of %d frames", len(m)))
					return
				}
				t.got(&st, m[0])
			}
		}()
	}
	f := &fanout{t: t, publish: func(m []byte) error { return pub.Send(ctx, [][]byte{m}) }}
	// Wait for every subscription to reach the publisher: there is no
	// event for it, so poll.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for pub.Subscribers() < n {
		select {
		case <-tick.C:
		case <-wctx.Done():
			closeAll()
			return nil, nil, fmt.Errorf("%d of %d subscriptions registered", pub.Subscribers(), n)
		}
	}
	// One probe round as a warm-up (every subscriber is known to be
	// subscribed already, so one probe reaches them all).
	if err := f.probe(wctx); err != nil {
		closeAll()
		return nil, nil, err
	}
	return f, closeAll, nil
}

func buildZmq4Fanout(ctx context.Context, n int) (*fanout, func(), error) {
	zctx, cancel := context.WithCancel(ctx)
	pub := zmq4.NewPub(zctx, zmq4.WithLogger(quietLog))
	if err := pub.Listen(localTCP); err != nil {
		cancel()
		pub.Close()
		return nil, nil, err
	}
	addr := tcpEndpoint(pub.Addr())
	t := newTracker(n)
	subs := make([]zmq4.Socket, n)
	var wg sync.WaitGroup
	var closing atomic.Bool
	closeAll := func() {
		closing.Store(true)
		cancel()
		pub.Close()
		parallel(n, 64, func(i int) error {
			if subs[i] != nil {
				subs[i].Close()
			}
			return nil
		})
		wg.Wait()
	}
	err := parallel(n, 64, func(i int) error {
		s := zmq4.NewSub(zctx, zmq4.WithLogger(quietLog))
		subs[i] = s
		if err := s.Dial(addr); err != nil {
			return err
		}
		return s.SetOption(zmq4.OptionSubscribe, "")
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	for _, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st subscriber
			for {
				m, err := s.Recv()
				if err != nil {
					if !closing.Load() {
						t.fail(err)
					}
					return
				}
				if len(m.Frames) != 1 {
					t.fail(fmt.Errorf("publication of %d frames", len(m.Frames)))
					return
				}
				t.got(&st, m.Frames[0])
			}
		}()
	}
	f := &fanout{t: t, publish: func(m []byte) error { return pub.Send(zmq4.NewMsg(m)) }}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	if err := f.probe(wctx); err != nil {
		closeAll()
		return nil, nil, err
	}
	return f, closeAll, nil
}

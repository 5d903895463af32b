package bench

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/brine-project/brine/transport"
)

const (
	// routerReqSize is the request body of BenchmarkRouterPeers.
	routerReqSize = 100
	// routerRunCap bounds one timed run: a library too slow to finish b.N
	// replies in it is reported with what it achieved, and the metric
	// "capped" is set.
	routerRunCap = 20 * time.Second
)

// BenchmarkRouterPeers is figure 3: replies/s from a ROUTER echoing the
// requests of 1,000 or 10,000 connected DEALER peers, each with one request
// in flight (so up to that many at once). The peers are a helper process
// (loadgen_test.go); the ROUTER answers from one Recv→Send loop. Goal: brine
// at 10,000 peers ≥ 20,000 replies/s.
func BenchmarkRouterPeers(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			runImpls(b,
				func(b *testing.B) { routerPeers(b, "brine", n, startBrineEcho) },
				func(b *testing.B) { routerPeers(b, "zmq4", n, startZmq4Echo) })
		})
	}
}

// An echo server is a ROUTER sending every message back to its sender.
type echoServer struct {
	addr     net.Addr
	peers    func() int // -1: unknown
	sendErrs atomic.Int64
	close    func()
}

func startBrineEcho() (*echoServer, error) {
	r := transport.NewRouter(brineOpts)
	addr, err := r.Listen(localTCP)
	if err != nil {
		r.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &echoServer{addr: addr, peers: r.Peers}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := r.Recv(ctx)
			if err != nil {
				return
			}
			if err := r.Send(ctx, m); err != nil {
				s.sendErrs.Add(1)
			}
		}
	}()
	s.close = func() {
		cancel()
		<-done
		r.Close()
	}
	return s, nil
}

func startZmq4Echo() (*echoServer, error) {
	ctx, cancel := context.WithCancel(context.Background())
	r := zmq4.NewRouter(ctx, zmq4.WithLogger(quietLog))
	if err := r.Listen(localTCP); err != nil {
		cancel()
		r.Close()
		return nil, err
	}
	s := &echoServer{addr: r.Addr(), peers: func() int { return -1 }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := r.Recv()
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				continue
			}
			if err := r.Send(m); err != nil {
				s.sendErrs.Add(1)
			}
		}
	}()
	s.close = func() {
		cancel()
		r.Close()
		<-done
	}
	return s, nil
}

type routerFixture struct {
	srv *echoServer
	lg  *loadgen
}

func routerPeers(b *testing.B, impl string, n int, start func() (*echoServer, error)) {
	if testing.Short() || raceEnabled {
		b.Skip("thousands of connections: skipped under -short and -race")
	}
	if lim := nofile(); lim < uint64(n)+1000 {
		b.Skipf("descriptor limit %d too low for %d peers", lim, n)
	}
	f := fixture(b, fmt.Sprintf("router/%s/%d", impl, n), func() (*routerFixture, func(), error) {
		srv, err := start()
		if err != nil {
			return nil, nil, err
		}
		lg, err := startLoadgen(srv.addr.String(), n, routerReqSize)
		if err != nil {
			srv.close()
			return nil, nil, err
		}
		f := &routerFixture{srv: srv, lg: lg}
		closeFn := func() {
			lg.close()
			srv.close()
		}
		// Warm up, and prove every peer is connected and answered.
		if err := lg.each(); err != nil {
			closeFn()
			return nil, nil, err
		}
		if p := srv.peers(); p >= 0 && p != n {
			closeFn()
			return nil, nil, fmt.Errorf("ROUTER has %d peers, want %d", p, n)
		}
		return f, closeFn, nil
	})

	b.ResetTimer()
	done, elapsed, err := f.lg.run(int64(b.N), routerRunCap)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	perSecond(b, done, elapsed, "replies/s")
	if done < int64(b.N) {
		b.ReportMetric(1, "capped")
		b.Logf("%s at %d peers: run capped at %v, %d of %d replies", impl, n, routerRunCap, done, b.N)
	}
	if e := f.srv.sendErrs.Load(); e > 0 {
		b.Fatalf("%d replies could not be sent", e)
	}
}

package bench

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/brine-project/brine/transport"
)

const (
	// reqSize is the request body of the request-server benchmarks.
	reqSize = 100
	// reqWorkers is the server's worker pool: Salt's worker_threads default,
	// for brine's ReqServer, zmq4's goroutine pool and the device's REP
	// workers alike.
	reqWorkers = transport.DefaultWorkers
)

// BenchmarkReqServer is figure 2: round trips/s through a request server
// whose handler returns the request, with 1 and with 50 concurrent clients,
// each client its own connection doing one request at a time. brine: a
// ReqServer and ReqClients. zmq4: a ROUTER whose messages a reader goroutine
// hands to an equal pool of worker goroutines that send the replies, and
// REQ clients.
func BenchmarkReqServer(b *testing.B) {
	for _, clients := range []int{1, 50} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			runImpls(b,
				func(b *testing.B) { reqServerBrine(b, clients, false) },
				func(b *testing.B) { reqServerZmq4(b, clients) })
		})
	}
}

// BenchmarkReqServerDevice is the 50-client figure of BenchmarkReqServer
// through Salt's device shape, brine only: ROUTER (tcp) → Proxy → DEALER
// bound on ipc → 5 REP sockets, each answered by its own goroutine. Compare
// it with BenchmarkReqServer/clients=50/impl=brine to see what the device's
// two extra hops cost.
func BenchmarkReqServerDevice(b *testing.B) {
	b.Run("clients=50", func(b *testing.B) {
		runImpls(b, func(b *testing.B) { reqServerBrine(b, 50, true) }, nil)
	})
}

func echoHandler(_ context.Context, req []byte) []byte { return req }

// startDevice starts Salt's ROUTER → DEALER device with reqWorkers REP
// workers and returns the ROUTER's address and a stop function.
func startDevice(b *testing.B) (string, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	front := transport.NewRouter(brineOpts)
	back := transport.NewDealer(brineOpts)
	addr, err := front.Listen(localTCP)
	if err != nil {
		b.Fatal(err)
	}
	ipc := "ipc://" + filepath.Join(b.TempDir(), "workers.ipc")
	if _, err := back.Listen(ipc); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		transport.Proxy(ctx, front, back)
	}()
	reps := make([]*transport.Rep, reqWorkers)
	for i := range reps {
		rep := transport.NewRep(brineOpts)
		if err := rep.Dial(ipc); err != nil {
			b.Fatal(err)
		}
		reps[i] = rep
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := rep.Recv(ctx)
				if err != nil {
					return
				}
				if err := rep.Send(ctx, m); err != nil && ctx.Err() != nil {
					return
				}
			}
		}()
	}
	return tcpEndpoint(addr), func() {
		cancel()
		wg.Wait()
		for _, rep := range reps {
			rep.Close()
		}
		front.Close()
		back.Close()
	}
}

func reqServerBrine(b *testing.B, clients int, device bool) {
	ctx := benchCtx(b)
	var addr string
	if device {
		var stop func()
		addr, stop = startDevice(b)
		defer stop()
	} else {
		srv, err := transport.NewReqServer(transport.ReqServerConfig{
			Addr: localTCP, Handler: echoHandler, Workers: reqWorkers, Options: brineOpts,
		})
		if err != nil {
			b.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		served := make(chan error, 1)
		go func() { served <- srv.Serve(sctx) }()
		defer func() { cancel(); <-served }()
		addr = tcpEndpoint(srv.Addr())
	}
	cs := make([]*transport.ReqClient, clients)
	for i := range cs {
		c, err := transport.NewReqClient(transport.ReqClientConfig{Addr: addr, Options: brineOpts})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		cs[i] = c
	}
	body := payload(reqSize)
	do := func(c *transport.ReqClient) error {
		reply, err := c.Request(ctx, body)
		if err == nil && !bytes.Equal(reply, body) {
			err = fmt.Errorf("reply of %d bytes is not the request", len(reply))
		}
		return err
	}
	// Warm up: every client connected and answered once.
	if err := parallel(clients, clients, func(i int) error { return do(cs[i]) }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	err := spread(b.N, clients, func(i int) error { return do(cs[i]) })
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	perSecond(b, int64(b.N), elapsed, "rt/s")
}

func reqServerZmq4(b *testing.B, clients int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	router := zmq4.NewRouter(ctx, zmq4.WithLogger(quietLog))
	defer router.Close()
	if err := router.Listen(localTCP); err != nil {
		b.Fatal(err)
	}
	// The server: a reader handing requests to a pool of workers, each
	// replying with the request's envelope and body.
	jobs := make(chan zmq4.Msg)
	var wg sync.WaitGroup
	var sendErrs atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for {
			m, err := router.Recv()
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				continue
			}
			select {
			case jobs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range reqWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range jobs {
				if err := router.Send(m); err != nil {
					sendErrs.Add(1)
				}
			}
		}()
	}
	defer func() { cancel(); router.Close(); wg.Wait() }()

	addr := tcpEndpoint(router.Addr())
	cs := make([]zmq4.Socket, clients)
	for i := range cs {
		c := zmq4.NewReq(ctx, zmq4.WithLogger(quietLog))
		if err := c.Dial(addr); err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		cs[i] = c
	}
	body := payload(reqSize)
	do := func(c zmq4.Socket) error {
		if err := c.Send(zmq4.NewMsg(body)); err != nil {
			return err
		}
		m, err := c.Recv()
		if err == nil && (len(m.Frames) != 1 || !bytes.Equal(m.Frames[0], body)) {
			err = fmt.Errorf("reply of %d frames is not the request", len(m.Frames))
		}
		return err
	}
	if err := parallel(clients, clients, func(i int) error { return do(cs[i]) }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	err := spread(b.N, clients, func(i int) error { return do(cs[i]) })
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if e := sendErrs.Load(); e > 0 {
		b.Fatalf("%d replies could not be sent", e)
	}
	perSecond(b, int64(b.N), elapsed, "rt/s")
}

// spread runs total calls of f over workers goroutines, f(i) on goroutine
// i, each taking the next call as soon as its previous one returns.
func spread(total, workers int, f func(i int) error) error {
	var tickets atomic.Int64
	tickets.Store(int64(total))
	var failed atomic.Bool
	return parallel(workers, workers, func(i int) error {
		for !failed.Load() && tickets.Add(-1) >= 0 {
			if err := f(i); err != nil {
				failed.Store(true)
				return err
			}
		}
		return nil
	})
}

package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// serve runs s.Serve until the test ends, and fails the test if it
// returns an error.
func serve(t testing.TB, s interface{ Serve(context.Context) error }) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func echoServer(t testing.TB, addr string, h Handler) *ReqServer {
	t.Helper()
	if h == nil {
		h = func(_ context.Context, req []byte) []byte { return append([]byte("re:"), req...) }
	}
	s, err := NewReqServer(ReqServerConfig{Addr: addr, Handler: h, Options: testOptions,
		ErrorReply: func(err error) []byte { return []byte("error: " + err.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newClient(t testing.TB, addr string) *ReqClient {
	t.Helper()
	c, err := NewReqClient(ReqClientConfig{Addr: addr, Options: testOptions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Fifty clients at once, half ReqClients with many requests in flight and
// half plain REQ sockets, each reply to its own request.
func TestReqServerConcurrentClients(t *testing.T) {
	for name, ep := range endpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			s := echoServer(t, ep, nil)
			serve(t, s)
			addr := dialable(s.Addr())
			g, ctx := errgroup.WithContext(ctx)
			for c := range 50 {
				if c%2 == 0 {
					rc := newClient(t, addr)
					for k := range 4 { // concurrent requests on one connection
						g.Go(func() error {
							for i := range 50 {
								req := fmt.Sprintf("client %d stream %d request %d", c, k, i)
								reply, err := rc.Request(ctx, []byte(req))
								if err != nil {
									return err
								}
								if string(reply) != "re:"+req {
									return fmt.Errorf("request %q got reply %q", req, reply)
								}
							}
							return nil
						})
					}
					continue
				}
				req := NewReq(testOptions)
				t.Cleanup(func() { req.Close() })
				req.Dial(addr)
				g.Go(func() error {
					for i := range 100 {
						body := fmt.Sprintf("req socket %d request %d", c, i)
						if err := req.Send(ctx, msg(body)); err != nil {
							return err
						}
						reply, err := req.Recv(ctx)
						if err != nil {
							return err
						}
						if len(reply) != 1 || string(reply[0]) != "re:"+body {
							return fmt.Errorf("request %q got reply %q", body, reply)
						}
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A handler that blocks holds one worker; the others keep answering.
func TestReqServerSlowHandler(t *testing.T) {
	ctx := ctxT(t)
	release := make(chan struct{})
	entered := make(chan struct{})
	s := echoServer(t, "tcp://127.0.0.1:0", func(ctx context.Context, req []byte) []byte {
		if string(req) == "slow" {
			close(entered)
			<-release
		}
		return req
	})
	serve(t, s)
	addr := dialable(s.Addr())
	slow := make(chan error, 1)
	go func() {
		_, err := newClient(t, addr).Request(ctx, []byte("slow"))
		slow <- err
	}()
	<-entered
	c := newClient(t, addr)
	for i := range 100 {
		if _, err := c.Request(ctx, fmt.Appendf(nil, "fast %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
}

// A panicking handler is answered with ErrorReply and the server goes on.
func TestReqServerHandlerPanic(t *testing.T) {
	ctx := ctxT(t)
	s := echoServer(t, "tcp://127.0.0.1:0", func(_ context.Context, req []byte) []byte {
		if string(req) == "boom" {
			panic("kaboom")
		}
		return req
	})
	serve(t, s)
	c := newClient(t, dialable(s.Addr()))
	reply, err := c.Request(ctx, []byte("boom"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(reply, []byte("kaboom")) {
		t.Fatalf("panic reply %q does not name the panic", reply)
	}
	if reply, err := c.Request(ctx, []byte("after")); err != nil || string(reply) != "after" {
		t.Fatalf("after panic: %q, %v", reply, err)
	}
}

// On shutdown, a request already taken is still answered.
func TestReqServerGracefulShutdown(t *testing.T) {
	ctx := ctxT(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	s := echoServer(t, "tcp://127.0.0.1:0", func(_ context.Context, req []byte) []byte {
		close(entered)
		<-release
		return []byte("finished")
	})
	stop := serve(t, s)
	c := newClient(t, dialable(s.Addr()))
	got := make(chan string, 1)
	go func() {
		reply, err := c.Request(ctx, []byte("work"))
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(reply)
	}()
	<-entered
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	close(release)
	if r := <-got; r != "finished" {
		t.Fatalf("in-flight request got %q, want its reply", r)
	}
	<-stopped
}

// A handler that replies later frees its worker: with one worker and more
// requests parked than workers, each is answered with the reply passed
// later, not the one returned; a panic after ReplyLater still answers; and
// replies promised when a shutdown begins still go out.
func TestReqServerReplyLater(t *testing.T) {
	ctx := ctxT(t)
	type parked struct {
		req   string
		reply func([]byte)
	}
	parkedCh := make(chan parked)
	s, err := NewReqServer(ReqServerConfig{Addr: "tcp://127.0.0.1:0", Workers: 1, Options: testOptions,
		ErrorReply: func(err error) []byte { return []byte("error: " + err.Error()) },
		Handler: func(ctx context.Context, req []byte) []byte {
			reply, ok := ReplyLater(ctx)
			if !ok {
				return []byte("no ReplyLater")
			}
			if _, again := ReplyLater(ctx); again {
				return []byte("ReplyLater twice")
			}
			if string(req) == "boom" {
				panic("after ReplyLater")
			}
			parkedCh <- parked{string(req), reply}
			return []byte("returned, not sent")
		}})
	if err != nil {
		t.Fatal(err)
	}
	stop := serve(t, s)
	c := newClient(t, dialable(s.Addr()))
	const n = 5
	got := make(chan string, n)
	for i := range n {
		go func() {
			reply, err := c.Request(ctx, fmt.Appendf(nil, "req %d", i))
			if err != nil {
				got <- err.Error()
				return
			}
			got <- string(reply)
		}()
	}
	var held []parked
	for range n {
		held = append(held, <-parkedCh) // all n taken by the one worker
	}
	if reply, err := c.Request(ctx, []byte("boom")); err != nil || !bytes.Contains(reply, []byte("after ReplyLater")) {
		t.Fatalf("panic after ReplyLater answered %q, %v", reply, err)
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	want := map[string]bool{}
	for _, p := range held {
		select {
		case <-stopped:
			t.Fatal("Serve returned before every promised reply was sent")
		default:
		}
		p.reply([]byte("later " + p.req))
		p.reply([]byte("twice")) // a no-op
		want["later "+p.req] = true
	}
	for range n {
		if r := <-got; !want[r] {
			t.Fatalf("got %q, want one of %v", r, want)
		}
	}
	<-stopped
}

// A handler learns when its request arrived: after it was sent, before
// the handler began.
func TestReqServerReceived(t *testing.T) {
	ctx := ctxT(t)
	if _, ok := Received(ctx); ok {
		t.Fatal("Received outside a handler")
	}
	type seen struct {
		at, began time.Time
		ok        bool
	}
	got := make(chan seen, 1)
	s := echoServer(t, "tcp://127.0.0.1:0", func(ctx context.Context, req []byte) []byte {
		began := time.Now()
		at, ok := Received(ctx)
		got <- seen{at, began, ok}
		return req
	})
	serve(t, s)
	c := newClient(t, dialable(s.Addr()))
	sent := time.Now()
	if _, err := c.Request(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	g := <-got
	if !g.ok || g.at.Before(sent) || g.at.After(g.began) {
		t.Fatalf("Received = %v, %v; sent at %v, handler began at %v", g.at, g.ok, sent, g.began)
	}
}

// The device shape Salt uses: ROUTER → DEALER → REP workers, and a worker
// that disconnects mid-way does not bring the proxy down.
func TestProxyDevice(t *testing.T) {
	ctx := ctxT(t)
	front := NewRouter(testOptions)
	defer front.Close()
	back := NewDealer(testOptions)
	defer back.Close()
	faddr := listen(t, front, "tcp://127.0.0.1:0")
	baddr := listen(t, back, "ipc://"+filepath.Join(t.TempDir(), "workers.ipc"))
	pctx, pcancel := context.WithCancel(ctx)
	perr := make(chan error, 1)
	go func() { perr <- Proxy(pctx, front, back) }()

	var wg sync.WaitGroup
	worker := func(n int) *Rep {
		rep := NewRep(testOptions)
		rep.Dial(baddr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				req, err := rep.Recv(ctx)
				if err != nil {
					return
				}
				rep.Send(ctx, [][]byte{fmt.Appendf(nil, "%s by %d", req[0], n)})
			}
		}()
		return rep
	}
	quitter := worker(0)
	workers := []*Rep{worker(1), worker(2)}
	waitFor(t, "3 workers", func() bool { return back.Peers() == 3 })
	quitter.Close()
	waitFor(t, "2 workers", func() bool { return back.Peers() == 2 })

	c := newClient(t, faddr)
	for i := range 50 {
		reply, err := c.Request(ctx, fmt.Appendf(nil, "job %d", i))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(reply, fmt.Appendf(nil, "job %d by ", i)) {
			t.Fatalf("job %d got %q", i, reply)
		}
	}
	pcancel()
	if err := <-perr; err != nil {
		t.Fatalf("Proxy: %v", err)
	}
	for _, w := range workers {
		w.Close()
	}
	wg.Wait()
}

// Publish to 100 subscribers through the master publisher: each gets every
// message, in order.
func TestPublisherFanOut(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	p, err := NewMasterPublisher(dir, "tcp://127.0.0.1:0", nil, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, p)
	const subs, msgs = 100, 200
	var ss []*Subscriber
	for range subs {
		s, err := NewSubscriber(SubscriberConfig{Addr: dialable(p.PubAddr()), Options: testOptions})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ss = append(ss, s)
	}
	if err := p.WaitSubscribers(ctx, subs); err != nil {
		t.Fatal(err)
	}

	push := NewPush(testOptions)
	defer push.Close()
	push.Dial("ipc://" + filepath.Join(dir, PublishPullFile))
	for i := range msgs {
		if err := push.Send(ctx, [][]byte{fmt.Appendf(nil, "publication %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for n, s := range ss {
		g.Go(func() error {
			for i := range msgs {
				m, err := s.Recv(gctx)
				if err != nil {
					return fmt.Errorf("subscriber %d message %d: %w", n, i, err)
				}
				if want := fmt.Sprintf("publication %d", i); len(m) != 1 || string(m[0]) != want {
					return fmt.Errorf("subscriber %d got %q, want %q", n, m, want)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// The event bus: any local process pushes tag+data to the pull socket and
// every subscriber of the pub socket gets it, filtered by tag prefix; the
// socket files are private to the user.
func TestEventPublisher(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	bus, err := NewEventPublisher(dir, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, bus)
	for _, f := range []string{EventPubFile, EventPullFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want a socket with 0600", f, fi.Mode())
		}
	}
	all := NewSub(testOptions)
	defer all.Close()
	all.Subscribe(nil)
	jobs := NewSub(testOptions)
	defer jobs.Close()
	jobs.Subscribe([]byte("salt/job/"))
	for _, s := range []*Sub{all, jobs} {
		s.Dial("ipc://" + filepath.Join(dir, EventPubFile))
	}
	if err := bus.WaitSubscribers(ctx, 2); err != nil {
		t.Fatal(err)
	}

	fire := NewPush(testOptions)
	defer fire.Close()
	fire.Dial("ipc://" + filepath.Join(dir, EventPullFile))
	events := []string{"salt/auth\n\n{}", "salt/job/1/new\n\n{}", "minion_start\n\n{}", "salt/job/1/ret/m\n\n{}"}
	for _, e := range events {
		fire.Send(ctx, msg(e))
	}
	for _, e := range events {
		m, err := all.Recv(ctx)
		if err != nil || string(m[0]) != e {
			t.Fatalf("all: got %q, %v; want %q", m, err, e)
		}
	}
	for _, e := range []string{events[1], events[3]} {
		m, err := jobs.Recv(ctx)
		if err != nil || string(m[0]) != e {
			t.Fatalf("jobs: got %q, %v; want %q", m, err, e)
		}
	}
}

// freeAddr reserves a loopback port and releases it, for servers that must
// come back on the same address.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "tcp://" + l.Addr().String()
}

// The request client carries on when the server is stopped and another
// starts on the same address.
func TestReqClientServerRestart(t *testing.T) {
	ctx := ctxT(t)
	addr := freeAddr(t)
	first := echoServer(t, addr, func(_ context.Context, req []byte) []byte { return []byte("first") })
	stop := serve(t, first)
	c := newClient(t, addr)
	if r, err := c.Request(ctx, []byte("x")); err != nil || string(r) != "first" {
		t.Fatalf("before restart: %q, %v", r, err)
	}
	stop()
	// While it is down a request fails cleanly within its tries.
	down, err := NewReqClient(ReqClientConfig{Addr: addr, Tries: 2, Timeout: 50e6, Options: testOptions})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := down.Request(ctx, []byte("x")); !errors.Is(err, ErrTimeout) {
		t.Fatalf("server down: %v, want ErrTimeout", err)
	}
	down.Close()

	second := echoServer(t, addr, func(_ context.Context, req []byte) []byte { return []byte("second") })
	serve(t, second)
	if r, err := c.Request(ctx, []byte("x")); err != nil || string(r) != "second" {
		t.Fatalf("after restart: %q, %v", r, err)
	}
}

// The subscriber reconnects to a restarted publisher and resubscribes.
func TestSubscriberPublisherRestart(t *testing.T) {
	ctx := ctxT(t)
	addr := freeAddr(t)
	start := func() (*Publisher, *Push, func()) {
		dir := t.TempDir()
		p, err := NewMasterPublisher(dir, addr, nil, testOptions)
		if err != nil {
			t.Fatal(err)
		}
		stop := serve(t, p)
		push := NewPush(testOptions)
		push.Dial("ipc://" + filepath.Join(dir, PublishPullFile))
		return p, push, func() { push.Close(); stop() }
	}
	p, push, stop := start()
	s, err := NewSubscriber(SubscriberConfig{Addr: addr, Options: testOptions})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := p.WaitSubscribers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	push.Send(ctx, msg("one"))
	if m, err := s.Recv(ctx); err != nil || string(m[0]) != "one" {
		t.Fatalf("before restart: %q, %v", m, err)
	}
	stop()
	waitFor(t, "link down", func() bool { return !s.Connected() })

	p, push, stop = start()
	defer stop()
	if err := p.WaitSubscribers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	push.Send(ctx, msg("two"))
	if m, err := s.Recv(ctx); err != nil || string(m[0]) != "two" {
		t.Fatalf("after restart: %q, %v", m, err)
	}
}

// A publisher's Transform rewrites what it publishes: here one message
// becomes one copy per topic, and a message it refuses is dropped.
func TestPublisherTransform(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	transform := func(m [][]byte) ([][][]byte, error) {
		if string(m[0]) == "refuse" {
			return nil, errors.New("refused")
		}
		return [][][]byte{{[]byte("a"), m[0]}, {[]byte("b"), m[0]}}, nil
	}
	p, err := NewMasterPublisher(dir, "tcp://127.0.0.1:0", transform, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, p)
	sub := NewSub(testOptions)
	defer sub.Close()
	sub.Subscribe([]byte("b"))
	sub.Dial(dialable(p.PubAddr()))
	if err := p.WaitSubscribers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	push := NewPush(testOptions)
	defer push.Close()
	push.Dial("ipc://" + filepath.Join(dir, PublishPullFile))
	for _, s := range []string{"refuse", "one", "two"} {
		push.Send(ctx, msg(s))
	}
	for _, want := range []string{"one", "two"} {
		m, err := sub.Recv(ctx)
		if err != nil || len(m) != 2 || string(m[0]) != "b" || string(m[1]) != want {
			t.Fatalf("got %q, %v; want [b %s]", m, err, want)
		}
	}
}

package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of ReqServerConfig.
const (
	DefaultReqServerAddr = "tcp://0.0.0.0:4506"
	DefaultWorkers       = 5
	DefaultShutdownGrace = 5 * time.Second
)

// Handler answers one request. It is called from a worker goroutine and
// must honour ctx, which is cancelled when the server's shutdown grace runs
// out. A nil reply is sent as an empty frame: a REQ peer always gets an
// answer.
type Handler func(ctx context.Context, request []byte) (reply []byte)

// ReqServerConfig configures a ReqServer. The zero value of each field is
// its documented default; Handler is required.
type ReqServerConfig struct {
	// Addr is the ROUTER endpoint (default tcp://0.0.0.0:4506, Salt's
	// ret_port).
	Addr string
	// Workers is the number of requests handled at once (default 5,
	// Salt's worker_threads).
	Workers int
	// Handler answers requests.
	Handler Handler
	// ErrorReply builds the answer to a request the handler could not
	// answer (it panicked, or the request had several body frames). Nil:
	// an empty frame.
	ErrorReply func(err error) []byte
	// ShutdownGrace is how long in-flight requests may run on after Serve's
	// context ends before their context is cancelled (default 5s).
	ShutdownGrace time.Duration
	// Options are the ROUTER's socket options.
	Options Options
}

// ReqServer is Salt's request server: a ROUTER bound on the ret port
// feeding a pool of workers, each handling one request at a time and
// answering the peer it came from.
//
// Salt builds this as ROUTER → DEALER → REP workers (a queue device over
// workers.ipc) because its workers are processes. Here the workers are
// goroutines taking requests straight from the ROUTER: the same
// load-balancing shape without two extra socket hops per request (see
// BenchmarkReqServer for the device measured beside it).
//
// A request is any message with an envelope: routing frames up to an empty
// delimiter, then exactly one body frame. The reply carries the same
// envelope back, so REQ peers and DEALERs that add their own routing frames
// (as Salt's REQ_CORRELATE-like clients do) are answered alike.
type ReqServer struct {
	cfg    ReqServerConfig
	router *Router
	addr   net.Addr
	later  sync.WaitGroup // replies promised by ReplyLater, not yet sent
	taken  atomic.Int64   // requests taken off the ROUTER, not yet answered
}

// laterKey keys a handler's *deferral in its context; receivedKey the
// time its request arrived.
type (
	laterKey    struct{}
	receivedKey struct{}
)

// Received returns when the request a handler is answering was read off
// its connection: the handler can tell how long it queued for a worker
// (ok is false outside a ReqServer handler).
func Received(ctx context.Context) (at time.Time, ok bool) {
	at, ok = ctx.Value(receivedKey{}).(time.Time)
	return at, ok
}

// deferral is how a handler's reply is sent: by its worker, or, once the
// handler called ReplyLater, by the function ReplyLater gave it.
type deferral struct {
	taken   bool
	send    func(reply []byte)
	pending *sync.WaitGroup // counts taken deferrals until they send
}

// ReplyLater lets a handler give its worker back while it waits on
// something that is not CPU work (a disk commit): the server then sends
// not what the handler returns but what the handler (or a goroutine it
// starts) passes to reply, which must be called; later calls are no-ops.
// Without it, the workers, a bound on CPU-bound work like Salt's
// worker_threads, would also bound how many requests may wait on a disk.
// ok is false, and the handler must answer by returning, when ctx is not
// a ReqServer handler's or ReplyLater was already called with it.
func ReplyLater(ctx context.Context) (reply func([]byte), ok bool) {
	d, _ := ctx.Value(laterKey{}).(*deferral)
	if d == nil || d.taken {
		return nil, false
	}
	d.taken = true
	d.pending.Add(1)
	return d.send, true
}

// NewReqServer binds the server's ROUTER. Call Serve to answer requests.
func NewReqServer(cfg ReqServerConfig) (*ReqServer, error) {
	if cfg.Handler == nil {
		return nil, errors.New("transport: ReqServer needs a Handler")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultReqServerAddr
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.ErrorReply == nil {
		cfg.ErrorReply = func(error) []byte { return nil }
	}
	r := NewRouter(cfg.Options)
	addr, err := r.Listen(cfg.Addr)
	if err != nil {
		r.Close()
		return nil, err
	}
	return &ReqServer{cfg: cfg, router: r, addr: addr}, nil
}

// Pending returns how many requests have been received and not yet
// answered: those queued for a worker, those being handled, and those
// whose handler deferred its reply with ReplyLater. A metrics gauge reads
// it; it is safe for concurrent use.
func (s *ReqServer) Pending() int {
	return s.router.in.len() + int(s.taken.Load())
}

// Close closes a server that is not served (Serve closes it on return).
func (s *ReqServer) Close() error { return s.router.Close() }

// Addr returns the address the ROUTER is bound to.
func (s *ReqServer) Addr() net.Addr { return s.addr }

// Serve answers requests until ctx ends, then stops taking requests, lets
// those in flight finish (within ShutdownGrace), flushes their replies and
// closes the socket. It returns nil after a shutdown by ctx.
func (s *ReqServer) Serve(ctx context.Context) error {
	// Handlers outlive ctx by the grace period, so that a shutdown answers
	// what it has already taken.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(s.cfg.ShutdownGrace, hcancel)
		context.AfterFunc(hctx, func() { t.Stop() })
	})
	defer stop()

	type job struct {
		msg [][]byte
		at  time.Time
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				s.answer(context.WithValue(hctx, receivedKey{}, j.at), j.msg)
			}
		}()
	}
	var err error
	for {
		var j job
		j.msg, j.at, err = s.router.recvStamped(ctx)
		if err != nil {
			break
		}
		s.taken.Add(1)
		select {
		case jobs <- j:
		case <-ctx.Done():
			s.taken.Add(-1) // dropped: we are shutting down
		}
	}
	close(jobs)
	wg.Wait()
	s.later.Wait()
	s.router.Close()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// answer handles one request and queues its reply.
func (s *ReqServer) answer(ctx context.Context, m [][]byte) {
	log := s.router.log
	// m[0] is the routing id; the envelope runs to the first empty frame.
	delim := -1
	for i := 1; i < len(m); i++ {
		if len(m[i]) == 0 {
			delim = i
			break
		}
	}
	if delim < 0 || delim == len(m)-1 {
		s.taken.Add(-1)
		log.Info("transport: dropping request without envelope or body")
		return
	}
	envelope := m[: delim+1 : delim+1]
	// Each request reaches send at most once (d.send guards the deferred
	// path), so Pending counts it until its answer is queued.
	send := func(reply []byte) {
		defer s.taken.Add(-1)
		if err := s.router.Send(ctx, append(envelope, reply)); err != nil {
			// The peer left, or stopped reading: nothing to answer.
			log.Debug("transport: reply not sent", "err", err)
		}
	}
	if body := m[delim+1:]; len(body) != 1 {
		send(s.cfg.ErrorReply(fmt.Errorf("transport: request has %d body frames, want 1", len(body))))
		return
	}
	var once sync.Once
	d := &deferral{pending: &s.later}
	d.send = func(reply []byte) {
		once.Do(func() {
			send(reply)
			if d.taken {
				s.later.Done()
			}
		})
	}
	reply, panicked := s.call(context.WithValue(ctx, laterKey{}, d), m[delim+1])
	if !d.taken || panicked {
		// A handler that panicked after ReplyLater gets its error reply
		// out now (the one it would pass later is then dropped).
		d.send(reply)
	}
}

// call runs the handler, turning a panic into a logged error reply.
func (s *ReqServer) call(ctx context.Context, req []byte) (reply []byte, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			err := fmt.Errorf("transport: handler panic: %v", v)
			s.router.log.Error("transport: handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			reply = s.cfg.ErrorReply(err)
		}
	}()
	return s.cfg.Handler(ctx, req), false
}

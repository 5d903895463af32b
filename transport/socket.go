package transport

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brine-project/brine/transport/zmtp"
)

// pattern is what a socket type adds to the shared machinery: how peers join
// and leave its routing, what it does with a message or subscription a peer
// sends. attachLocked and detachLocked run with socket.mu held; deliver and
// subscribe run on the peer's reader goroutine.
type pattern interface {
	attachLocked(p *peer) error
	detachLocked(p *peer)
	deliver(p *peer, frames [][]byte) error
	subscribe(p *peer, topic []byte, on bool) error
}

// delivery is a received message and the peer it came from.
type delivery struct {
	peer   *peer
	frames [][]byte
	at     time.Time // when it was read off the connection (ROUTER only)
}

// socket is the machinery every socket type shares: listeners, dialers,
// handshakes, peers, the receive queue and shutdown.
type socket struct {
	typ     zmtp.SocketType
	opts    Options
	log     *slog.Logger
	pat     pattern
	reserve int // leading frames the reader leaves free (ROUTER: 1)

	in *inbox

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine of the socket

	mu        sync.Mutex // guards the fields below
	peers     map[*peer]struct{}
	pending   map[net.Conn]struct{} // connections still in their handshake
	listeners []net.Listener
	changed   chan struct{} // closed when a peer joins or frees queue room

	waiters     atomic.Int32 // senders waiting on changed
	lingerUntil atomic.Int64 // set by Close: unix ns by which writes must end
}

func newSocket(typ zmtp.SocketType, opts Options, pat pattern) *socket {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &socket{
		typ:     typ,
		opts:    opts,
		log:     opts.Logger.With("socket", string(typ)),
		pat:     pat,
		in:      newInbox(opts.RecvHWM),
		ctx:     ctx,
		cancel:  cancel,
		peers:   make(map[*peer]struct{}),
		pending: make(map[net.Conn]struct{}),
	}
	if opts.Heartbeat > 0 {
		s.wg.Add(1)
		go s.heartbeats()
	}
	return s
}

// heartbeats pings every ZMTP 3.1 peer each Heartbeat and hangs up on a
// peer from which nothing (data, PING or PONG) has come for
// HeartbeatTimeout. It looks four times per Heartbeat, so a dead peer is
// found within a quarter interval of its timeout rather than a whole one.
// One goroutine per socket rather than one per peer: a master's ten
// thousand idle peers would otherwise cost ten thousand goroutine stacks.
func (s *socket) heartbeats() {
	defer s.wg.Done()
	const looks = 4 // per Heartbeat
	t := time.NewTicker(s.opts.Heartbeat / looks)
	defer t.Stop()
	ttl := zmtp.PingData(s.opts.HeartbeatTimeout)
	var peers []*peer
	for tick := 0; ; tick++ {
		select {
		case now := <-t.C:
			s.mu.Lock()
			peers = peers[:0]
			for p := range s.peers {
				peers = append(peers, p)
			}
			s.mu.Unlock()
			ping := tick%looks == 0
			for _, p := range peers {
				p.beat(now, ttl, ping)
			}
			clear(peers) // let closed peers go
		case <-s.ctx.Done():
			return
		}
	}
}

// Listen binds the socket to a tcp:// or ipc:// endpoint and accepts peers
// on it until Close. It returns the bound address (useful with port 0).
func (s *socket) Listen(endpoint string) (net.Addr, error) {
	e, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	ln, cleanup, err := listenerOf(e)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		ln.Close()
		cleanup()
		return nil, ErrClosed
	}
	s.listeners = append(s.listeners, ln)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.acceptLoop(ln, cleanup)
	return ln.Addr(), nil
}

func (s *socket) acceptLoop(ln net.Listener, cleanup func()) {
	defer s.wg.Done()
	defer cleanup()
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			// Out of file descriptors and the like: back off and keep
			// serving the peers already connected.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("transport: accept failed", "addr", ln.Addr().String(), "err", err, "retry_in", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		delay = 0
		s.wg.Add(1)
		go s.serveConn(conn)
	}
}

// serveConn runs the handshake of an accepted connection and then becomes
// its reader.
func (s *socket) serveConn(conn net.Conn) {
	defer s.wg.Done()
	p, err := s.handshake(conn)
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Info("transport: handshake failed", "remote", conn.RemoteAddr().String(), "err", err)
		}
		return
	}
	s.runPeer(p)
}

// Dial connects the socket to an endpoint in the background and keeps it
// connected, reconnecting with the Reconnect backoff whenever the
// connection fails or drops, until Close.
func (s *socket) Dial(endpoint string) error {
	e, err := parseEndpoint(endpoint)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	s.wg.Add(1)
	go s.dialLoop(e)
	return nil
}

func (s *socket) dialLoop(e endpoint) {
	defer s.wg.Done()
	wait := s.opts.Reconnect.schedule()
	failures := 0
	for {
		conn, err := dialConn(s.ctx, e, s.opts.HandshakeTimeout)
		if err == nil {
			var p *peer
			if p, err = s.handshake(conn); err == nil {
				failures = 0
				s.runPeer(p) // until the connection ends
			}
		}
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Debug("transport: connect failed", "endpoint", e.String(), "err", err)
		}
		t := time.NewTimer(wait(failures))
		if err != nil {
			failures++
		}
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
}

// handshake runs the ZMTP handshake on conn under the handshake deadline
// and attaches the resulting peer. On error conn is closed.
func (s *socket) handshake(conn net.Conn) (*peer, error) {
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		conn.Close()
		return nil, ErrClosed
	}
	s.pending[conn] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, conn)
		s.mu.Unlock()
	}()

	conn.SetDeadline(time.Now().Add(s.opts.HandshakeTimeout))
	info, rd, err := zmtp.Handshake(conn, zmtp.Local{Type: s.typ, Identity: s.opts.Identity})
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	rd.Limit = s.opts.MaxMsgSize
	p := newPeer(s, conn, rd, info)
	if err := s.attach(p); err != nil {
		conn.Close()
		return nil, err
	}
	if s.opts.OnPeer != nil {
		s.opts.OnPeer(true, p.remote)
	}
	return p, nil
}

// runPeer runs the peer's reader on the calling goroutine until the
// connection ends, then waits for its writer; writers start on demand.
func (s *socket) runPeer(p *peer) {
	p.readLoop()
	p.waitWriter(time.Time{})
}

func (s *socket) attach(p *peer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	if err := s.pat.attachLocked(p); err != nil {
		return err
	}
	s.peers[p] = struct{}{}
	s.notifyLocked()
	return nil
}

func (s *socket) detach(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.peers[p]; ok {
		delete(s.peers, p)
		s.pat.detachLocked(p)
	}
}

// WaitPeers waits until at least n peers are connected (handshake
// complete), within ctx.
func (s *socket) WaitPeers(ctx context.Context, n int) error {
	for {
		changed := s.changedChan()
		ok := s.Peers() >= n
		if !ok {
			select {
			case <-changed:
			case <-ctx.Done():
				s.waiters.Add(-1)
				return ctx.Err()
			case <-s.ctx.Done():
				s.waiters.Add(-1)
				return ErrClosed
			}
		}
		s.waiters.Add(-1)
		if ok {
			return nil
		}
	}
}

// Peers returns the number of connected peers (handshake complete).
func (s *socket) Peers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
}

// Close stops listening and dialing, gives each peer up to Linger to write
// what is queued for it, closes every connection and waits for every
// goroutine of the socket to end. Calls after the first return nil.
func (s *socket) Close() error {
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	until := time.Now().Add(max(s.opts.Linger, 0))
	s.lingerUntil.Store(until.UnixNano())
	s.cancel()
	lns := s.listeners
	s.listeners = nil
	pend := make([]net.Conn, 0, len(s.pending))
	for c := range s.pending {
		pend = append(pend, c)
	}
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		// A write in progress to a slow peer ends by the linger deadline
		// too, not WriteTimeout later.
		p.conn.SetWriteDeadline(until)
		peers = append(peers, p)
	}
	s.mu.Unlock()
	for _, p := range peers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			p.shutdown(until)
		}()
	}
	for _, ln := range lns {
		ln.Close()
	}
	for _, c := range pend {
		c.Close()
	}
	s.wg.Wait()
	return nil
}

// push hands a received message to Recv, waiting while the receive queue
// is full (which stops this peer's reading: TCP pushes back on it alone).
func (s *socket) push(p *peer, frames [][]byte) error {
	return s.pushAt(p, frames, time.Time{})
}

// pushAt is push with the time the message arrived.
func (s *socket) pushAt(p *peer, frames [][]byte, at time.Time) error {
	if !s.in.put(delivery{p, frames, at}, p.done) {
		return errPeerGone
	}
	return nil
}

// recv takes the next received message.
func (s *socket) recv(ctx context.Context) (delivery, error) {
	return s.in.get(ctx, s.ctx.Done(), nil)
}

// changedChan returns a channel closed at the next notifyLocked: a peer
// joined or a peer's full queue drained. The caller must call s.waiters.Add(-1)
// when done waiting.
func (s *socket) changedChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters.Add(1)
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

func (s *socket) notifyLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// spaceFreed is called by a writer that just took a full queue: a sender
// blocked on every peer being full may now proceed.
func (s *socket) spaceFreed() {
	if s.waiters.Load() == 0 {
		return
	}
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
}

// basePattern is the behaviour of a socket type that routes nothing on
// attach and queues every message it receives for Recv.
type basePattern struct{}

func (basePattern) attachLocked(*peer) error                       { return nil }
func (basePattern) detachLocked(*peer)                             {}
func (basePattern) deliver(p *peer, frames [][]byte) error         { return p.s.push(p, frames) }
func (basePattern) subscribe(p *peer, topic []byte, on bool) error { return nil }

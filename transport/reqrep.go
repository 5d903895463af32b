package transport

import (
	"context"
	"errors"
	"sync"

	"github.com/brine-project/brine/transport/zmtp"
)

var errAbandoned = errors.New("transport: request abandoned, connection dropped")

// Req is a REQ socket: Send a request to the next peer in turn, then Recv
// its reply; replies from any other peer, or without the empty delimiter,
// are dropped.
//
// Unlike libzmq's REQ it never gets stuck: Recv honours its context, and if
// the peer's connection drops while a reply is awaited Recv returns
// ErrPeerLost. Calling Send while a reply is still awaited abandons that
// request: the connection it went over is dropped (a dialer reconnects), so
// its late reply can never be taken for the new request's.
//
// Calls are serialised; one exchange is in flight at a time.
type Req struct {
	*socket
	basePattern
	rr roundRobin

	mu      sync.Mutex // guards pending; held across Send and Recv
	pending *peer      // where the request awaiting its reply went
}

// NewReq returns an unconnected REQ socket.
func NewReq(opts Options) *Req {
	r := &Req{}
	r.socket = newSocket(zmtp.REQ, opts, r)
	return r
}

func (r *Req) attachLocked(p *peer) error { r.rr.addLocked(p); return nil }
func (r *Req) detachLocked(p *peer)       { r.rr.removeLocked(p) }

// Send sends a request, waiting while no peer is connected.
func (r *Req) Send(ctx context.Context, msg [][]byte) error {
	if len(msg) == 0 {
		return ErrBadMessage
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending != nil {
		r.pending.close(errAbandoned)
		r.pending = nil
	}
	frames := make([][]byte, 0, len(msg)+1)
	frames = append(frames, []byte{})
	frames = append(frames, msg...)
	p, err := r.rr.send(ctx, r.socket, outMsg{frames: frames})
	if err != nil {
		return err
	}
	r.pending = p
	return nil
}

// Recv returns the reply to the last request.
func (r *Req) Recv(ctx context.Context) ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending
	if p == nil {
		return nil, ErrState
	}
	for {
		d, err := r.in.get(ctx, r.ctx.Done(), p.done)
		if err == nil {
			if reply, ok := replyOf(d, p); ok {
				r.pending = nil
				return reply, nil
			}
			continue
		}
		if err != errPeerGone {
			return nil, err
		}
		// The peer is gone; its reply may have arrived just before.
		for {
			d, ok := r.in.tryGet()
			if !ok {
				break
			}
			if reply, ok := replyOf(d, p); ok {
				r.pending = nil
				return reply, nil
			}
		}
		r.pending = nil
		return nil, ErrPeerLost
	}
}

// replyOf returns the body of d if it is a reply from p: an empty delimiter
// and at least one frame.
func replyOf(d delivery, p *peer) ([][]byte, bool) {
	if d.peer != p || len(d.frames) < 2 || len(d.frames[0]) != 0 {
		return nil, false
	}
	return d.frames[1:], true
}

// Rep is a REP socket: Recv a request (the envelope up to the empty
// delimiter is kept aside), then Send its reply, which goes back to the peer
// the request came from with the same envelope. Requests without a
// delimiter are dropped. Calls are serialised.
type Rep struct {
	*socket
	basePattern

	mu       sync.Mutex // guards pending and envelope
	pending  *peer
	envelope [][]byte
}

// NewRep returns an unconnected REP socket.
func NewRep(opts Options) *Rep {
	r := &Rep{}
	r.socket = newSocket(zmtp.REP, opts, r)
	return r
}

// Recv returns the next request's body. It is ErrState to call it before
// the previous request has been answered.
func (r *Rep) Recv(ctx context.Context) ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending != nil {
		return nil, ErrState
	}
	for {
		d, err := r.recv(ctx)
		if err != nil {
			return nil, err
		}
		for i, f := range d.frames {
			if len(f) == 0 {
				if i == len(d.frames)-1 {
					break // no body
				}
				r.pending, r.envelope = d.peer, d.frames[:i+1]
				return d.frames[i+1:], nil
			}
		}
		r.log.Debug("transport: dropping request without envelope delimiter", "remote", d.peer.remote)
	}
}

// Send replies to the last request received, waiting while that peer's
// queue is full. If the peer has gone the reply is dropped and ErrPeerLost
// returned; either way the socket is ready for the next Recv. The frames
// must not be modified afterwards.
func (r *Rep) Send(ctx context.Context, msg [][]byte) error {
	if len(msg) == 0 {
		return ErrBadMessage
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending
	if p == nil {
		return ErrState
	}
	frames := make([][]byte, 0, len(r.envelope)+len(msg))
	frames = append(frames, r.envelope...)
	frames = append(frames, msg...)
	r.pending, r.envelope = nil, nil
	err := p.enqueue(ctx, outMsg{frames: frames})
	if err == errPeerGone {
		return ErrPeerLost
	}
	return err
}

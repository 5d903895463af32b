package transport

import (
	"context"

	"github.com/brine-project/brine/transport/zmtp"
)

// Dealer is a DEALER socket: messages are sent round-robin to the connected
// peers (skipping those whose queue is full) and received fair-queued from
// all of them. It is safe for concurrent use.
type Dealer struct {
	*socket
	basePattern
	rr roundRobin
}

// NewDealer returns an unconnected DEALER socket.
func NewDealer(opts Options) *Dealer {
	d := &Dealer{}
	d.socket = newSocket(zmtp.DEALER, opts, d)
	return d
}

func (d *Dealer) attachLocked(p *peer) error { d.rr.addLocked(p); return nil }
func (d *Dealer) detachLocked(p *peer)       { d.rr.removeLocked(p) }

// Send queues msg for the next peer in turn, waiting while no peer has room.
// The frames must not be modified afterwards.
func (d *Dealer) Send(ctx context.Context, msg [][]byte) error {
	if len(msg) == 0 {
		return ErrBadMessage
	}
	_, err := d.rr.send(ctx, d.socket, outMsg{frames: msg})
	return err
}

// Recv returns the next message from any peer.
func (d *Dealer) Recv(ctx context.Context) ([][]byte, error) {
	dl, err := d.recv(ctx)
	return dl.frames, err
}

// Push is a PUSH socket: messages go round-robin to the connected PULL
// peers, waiting while none has room. It is safe for concurrent use.
type Push struct {
	*socket
	basePattern
	rr roundRobin
}

// NewPush returns an unconnected PUSH socket.
func NewPush(opts Options) *Push {
	p := &Push{}
	p.socket = newSocket(zmtp.PUSH, opts, p)
	return p
}

func (s *Push) attachLocked(p *peer) error { s.rr.addLocked(p); return nil }
func (s *Push) detachLocked(p *peer)       { s.rr.removeLocked(p) }

// deliver drops what a peer sends: a PUSH socket receives nothing.
func (s *Push) deliver(*peer, [][]byte) error { return nil }

// Send queues msg for the next PULL peer in turn. The frames must not be
// modified afterwards.
func (s *Push) Send(ctx context.Context, msg [][]byte) error {
	if len(msg) == 0 {
		return ErrBadMessage
	}
	_, err := s.rr.send(ctx, s.socket, outMsg{frames: msg})
	return err
}

// Pull is a PULL socket: it receives fair-queued from its PUSH peers. It is
// safe for concurrent use.
type Pull struct {
	*socket
	basePattern
}

// NewPull returns an unconnected PULL socket.
func NewPull(opts Options) *Pull {
	p := &Pull{}
	p.socket = newSocket(zmtp.PULL, opts, p)
	return p
}

// Recv returns the next message from any peer.
func (p *Pull) Recv(ctx context.Context) ([][]byte, error) {
	d, err := p.recv(ctx)
	return d.frames, err
}

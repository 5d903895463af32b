package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/brine-project/brine/transport/zmtp"
)

var errDuplicateIdentity = errors.New("transport: a peer with this identity is already connected")

// Router is a ROUTER socket. Recv returns each message with the sender's
// routing id as its first frame; Send takes the routing id as first frame
// and queues the rest for that peer only. A peer's id is the Identity it
// announced or, without one, five bytes generated here (a zero byte and a
// counter, as libzmq does). A second connection announcing an identity
// already in use is refused, so no peer can take another's replies.
//
// The routing-id frame returned by Recv is shared by every message of that
// peer: do not modify it. Router is safe for concurrent use.
type Router struct {
	*socket
	basePattern

	rmu    sync.RWMutex // guards routes and nextID
	routes map[string]*peer
	nextID uint32
}

// NewRouter returns an unconnected ROUTER socket.
func NewRouter(opts Options) *Router {
	r := &Router{routes: make(map[string]*peer)}
	r.socket = newSocket(zmtp.ROUTER, opts, r)
	r.reserve = 1
	return r
}

func (r *Router) attachLocked(p *peer) error {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	id := p.info.Identity
	if len(id) == 0 || id[0] == 0 {
		// Ids starting with a zero byte are ours to generate.
		for {
			r.nextID++
			id = binary.BigEndian.AppendUint32([]byte{0}, r.nextID)
			if r.routes[string(id)] == nil {
				break
			}
		}
	} else if r.routes[string(id)] != nil {
		return errDuplicateIdentity
	}
	p.id = id
	r.routes[string(id)] = p
	return nil
}

func (r *Router) detachLocked(p *peer) {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if r.routes[string(p.id)] == p {
		delete(r.routes, string(p.id))
	}
}

func (r *Router) deliver(p *peer, frames [][]byte) error {
	frames[0] = p.id
	// Stamped: a ReqServer tells its handlers how long a request queued.
	return r.pushAt(p, frames, time.Now())
}

// Recv returns the next message, its first frame the sender's routing id.
func (r *Router) Recv(ctx context.Context) ([][]byte, error) {
	d, err := r.recv(ctx)
	return d.frames, err
}

// recvStamped is Recv with the time the message arrived.
func (r *Router) recvStamped(ctx context.Context) ([][]byte, time.Time, error) {
	d, err := r.recv(ctx)
	return d.frames, d.at, err
}

// Send queues msg[1:] for the peer whose routing id is msg[0]. It never
// waits: ErrNoRoute if no such peer is connected, ErrPeerFull if its queue
// is at the high-water mark (one slow peer never holds up the others). The
// frames must not be modified afterwards.
func (r *Router) Send(ctx context.Context, msg [][]byte) error {
	if len(msg) < 2 {
		return ErrBadMessage
	}
	if r.ctx.Err() != nil {
		return ErrClosed
	}
	r.rmu.RLock()
	p := r.routes[string(msg[0])]
	r.rmu.RUnlock()
	if p == nil {
		return ErrNoRoute
	}
	switch p.tryEnqueue(outMsg{frames: msg[1:]}) {
	case nil:
		return nil
	case errQueueFull:
		return ErrPeerFull
	default:
		return ErrNoRoute
	}
}

package transport

import (
	"context"
	"slices"
	"sync/atomic"
)

// roundRobin is the sending side of DEALER, PUSH and REQ: each message goes
// to the next peer in turn that has room in its queue.
type roundRobin struct {
	// peers is replaced, never modified, under socket.mu, so senders read
	// it without a lock.
	peers atomic.Pointer[[]*peer]
	next  atomic.Uint32
}

func (r *roundRobin) addLocked(p *peer) {
	var ps []*peer
	if old := r.peers.Load(); old != nil {
		ps = slices.Clone(*old)
	}
	ps = append(ps, p)
	r.peers.Store(&ps)
}

func (r *roundRobin) removeLocked(p *peer) {
	old := r.peers.Load()
	if old == nil {
		return
	}
	ps := slices.DeleteFunc(slices.Clone(*old), func(q *peer) bool { return q == p })
	r.peers.Store(&ps)
}

// tryOnce offers m to each peer once, starting after the last one used.
func (r *roundRobin) tryOnce(m outMsg) *peer {
	ps := r.peers.Load()
	if ps == nil || len(*ps) == 0 {
		return nil
	}
	n := uint32(len(*ps))
	start := r.next.Add(1)
	for i := range n {
		p := (*ps)[(start+i)%n]
		if p.tryEnqueue(m) == nil {
			return p
		}
	}
	return nil
}

// send queues m on the next peer with room, waiting while there is none
// (no peer connected, or every queue full).
func (r *roundRobin) send(ctx context.Context, s *socket, m outMsg) (*peer, error) {
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if p := r.tryOnce(m); p != nil {
		return p, nil
	}
	for {
		changed := s.changedChan()
		// Look again now that a change cannot be missed.
		p := r.tryOnce(m)
		if p == nil {
			select {
			case <-changed:
			case <-ctx.Done():
				s.waiters.Add(-1)
				return nil, ctx.Err()
			case <-s.ctx.Done():
				s.waiters.Add(-1)
				return nil, ErrClosed
			}
		}
		s.waiters.Add(-1)
		if p != nil {
			return p, nil
		}
	}
}

package transport

import (
	"context"
	"slices"
	"sync/atomic"
)

// peerList is a list of peers that is replaced, never modified, under
// socket.mu, so that a sender reads it without a lock.
type peerList struct {
	p atomic.Pointer[[]*peer]
}

func (l *peerList) load() []*peer {
	if ps := l.p.Load(); ps != nil {
		return *ps
	}
	return nil
}

func (l *peerList) addLocked(p *peer) {
	ps := append(slices.Clone(l.load()), p)
	l.p.Store(&ps)
}

func (l *peerList) removeLocked(p *peer) {
	ps := slices.DeleteFunc(slices.Clone(l.load()), func(q *peer) bool { return q == p })
	l.p.Store(&ps)
}

// roundRobin is the sending side of DEALER, PUSH and REQ: each message goes
// to the next peer in turn that has room in its queue.
type roundRobin struct {
	peerList
	next atomic.Uint32
}

// tryOnce offers m to each peer once, starting after the last one used.
func (r *roundRobin) tryOnce(m outMsg) *peer {
	ps := r.load()
	if len(ps) == 0 {
		return nil
	}
	n := uint32(len(ps))
	start := r.next.Add(1)
	for i := range n {
		p := ps[(start+i)%n]
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

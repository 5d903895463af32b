package transport

import (
	"context"
	"sync"
)

// inboxShrinkCap is the capacity past which an emptied inbox lets its
// buffer go, so that a burst does not pin memory on an idle socket.
const inboxShrinkCap = 64

// inbox is a socket's receive queue: bounded at RecvHWM, but holding
// memory only for what is queued (a channel would allocate all RecvHWM
// slots up front, on every socket of every simulated minion).
type inbox struct {
	hwm int

	mu   sync.Mutex // guards q and head
	q    []delivery
	head int

	ready chan struct{} // cap 1: the queue became non-empty
	space chan struct{} // cap 1: the queue dropped below hwm
}

func newInbox(hwm int) *inbox {
	return &inbox{hwm: hwm, ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

// tryPut queues d unless the inbox is full.
func (b *inbox) tryPut(d delivery) bool {
	b.mu.Lock()
	n := len(b.q) - b.head
	if n >= b.hwm {
		b.mu.Unlock()
		return false
	}
	b.q = append(b.q, d)
	b.mu.Unlock()
	if n == 0 {
		signal(b.ready)
	}
	return true
}

// put queues d, waiting while the inbox is full until done is closed.
func (b *inbox) put(d delivery, done <-chan struct{}) bool {
	if b.tryPut(d) {
		return true
	}
	for {
		select {
		case <-b.space:
		case <-done:
			return false
		}
		if b.tryPut(d) {
			signal(b.space) // pass the wake-up on to another waiting peer
			return true
		}
	}
}

// len returns how many deliveries are queued.
func (b *inbox) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.q) - b.head
}

// tryGet takes the oldest delivery, if any.
func (b *inbox) tryGet() (delivery, bool) {
	b.mu.Lock()
	n := len(b.q) - b.head
	if n == 0 {
		b.mu.Unlock()
		return delivery{}, false
	}
	d := b.q[b.head]
	b.q[b.head] = delivery{}
	b.head++
	if b.head == len(b.q) {
		b.head = 0
		if cap(b.q) > inboxShrinkCap {
			b.q = nil
		} else {
			b.q = b.q[:0]
		}
	}
	b.mu.Unlock()
	if n == b.hwm {
		signal(b.space)
	}
	if n > 1 {
		signal(b.ready) // more left: let another receiver in
	}
	return d, true
}

// get takes the oldest delivery, waiting until there is one. It gives up
// with ctx's error, ErrClosed once closed is closed, or errPeerGone once
// gone is (nil: never).
func (b *inbox) get(ctx context.Context, closed, gone <-chan struct{}) (delivery, error) {
	for {
		if d, ok := b.tryGet(); ok {
			return d, nil
		}
		select {
		case <-b.ready:
		case <-ctx.Done():
			return delivery{}, ctx.Err()
		case <-closed:
			return delivery{}, ErrClosed
		case <-gone:
			return delivery{}, errPeerGone
		}
	}
}

package transport

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/brine-project/brine/transport/zmtp"
)

// Limits on what one subscriber may ask a PUB to remember; a peer that
// goes past them is disconnected.
const (
	MaxTopicLen      = 1024
	MaxPeerTopics    = 1024
	subscribeMsgByte = 0x01 // ZMTP 3.0 subscription message: 0x01 + topic
	cancelMsgByte    = 0x00 // ZMTP 3.0 cancel message: 0x00 + topic
)

// topicSet is an immutable set of subscribed prefixes with reference
// counts (subscribing twice takes two cancels, as in libzmq). Changes make
// a new set, so matching, done once per message per subscriber, takes no
// lock.
type topicSet struct {
	counts map[string]int
	list   [][]byte // the keys of counts, for matching
	all    bool     // "" is subscribed: everything matches
}

func (t *topicSet) match(topic []byte) bool {
	if t == nil {
		return false
	}
	if t.all {
		return true
	}
	for _, p := range t.list {
		if bytes.HasPrefix(topic, p) {
			return true
		}
	}
	return false
}

// with returns the set after subscribing (on) or cancelling topic, and
// whether the topic appeared or disappeared.
func (t *topicSet) with(topic []byte, on bool) (*topicSet, bool) {
	counts := map[string]int{}
	if t != nil {
		counts = maps.Clone(t.counts)
	}
	k := string(topic)
	edge := false
	switch {
	case on:
		counts[k]++
		edge = counts[k] == 1
	case counts[k] > 0:
		counts[k]--
		if counts[k] == 0 {
			delete(counts, k)
			edge = true
		}
	default:
		return t, false
	}
	n := &topicSet{counts: counts}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if k == "" {
			n.all = true
		}
		n.list = append(n.list, []byte(k))
	}
	return n, edge
}

func (t *topicSet) len() int {
	if t == nil {
		return 0
	}
	return len(t.counts)
}

// Pub is a PUB socket: each message goes to every peer subscribed to a
// prefix of its first frame. Sending never waits: a subscriber whose queue
// is full misses the message, and no other subscriber notices. It accepts
// both ZMTP 3.1 SUBSCRIBE/CANCEL commands and ZMTP 3.0 subscription
// messages. It is safe for concurrent use.
type Pub struct {
	*socket
	peers   peerList
	dropped atomic.Uint64

	wmu      sync.Mutex    // guards subsWake
	subsWake chan struct{} // closed when a peer gains its first or loses its last subscription
}

// NewPub returns an unbound PUB socket.
func NewPub(opts Options) *Pub {
	p := &Pub{}
	p.socket = newSocket(zmtp.PUB, opts, p)
	return p
}

func (s *Pub) attachLocked(p *peer) error {
	s.peers.addLocked(p)
	return nil
}

func (s *Pub) detachLocked(p *peer) {
	s.peers.removeLocked(p)
	s.wakeWaiters()
}

func (s *Pub) wakeWaiters() {
	s.wmu.Lock()
	if s.subsWake != nil {
		close(s.subsWake)
		s.subsWake = nil
	}
	s.wmu.Unlock()
}

// WaitSubscribers waits until at least n peers have a subscription: a
// publication sent before a subscription arrives is not delivered (ZeroMQ's
// "slow joiner"), so a caller that must reach n subscribers waits first.
func (s *Pub) WaitSubscribers(ctx context.Context, n int) error {
	for {
		s.wmu.Lock()
		if s.subsWake == nil {
			s.subsWake = make(chan struct{})
		}
		wake := s.subsWake
		s.wmu.Unlock()
		if s.Subscribers() >= n {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return ErrClosed
		}
	}
}

// deliver takes ZMTP 3.0 subscription messages and ignores anything else a
// subscriber sends.
func (s *Pub) deliver(p *peer, frames [][]byte) error {
	if len(frames) == 1 && len(frames[0]) > 0 {
		switch frames[0][0] {
		case subscribeMsgByte:
			return s.subscribe(p, frames[0][1:], true)
		case cancelMsgByte:
			return s.subscribe(p, frames[0][1:], false)
		}
	}
	return nil
}

// subscribe runs on p's reader goroutine, the only writer of p.subs.
func (s *Pub) subscribe(p *peer, topic []byte, on bool) error {
	if len(topic) > MaxTopicLen {
		return fmt.Errorf("%w: subscription of %d bytes, limit %d", zmtp.ErrCommand, len(topic), MaxTopicLen)
	}
	cur := p.subs.Load()
	next, _ := cur.with(topic, on)
	if next.len() > MaxPeerTopics {
		return fmt.Errorf("%w: more than %d subscriptions", zmtp.ErrCommand, MaxPeerTopics)
	}
	p.subs.Store(next)
	if (cur.len() == 0) != (next.len() == 0) {
		s.wakeWaiters()
	}
	return nil
}

// Send queues msg for every subscriber whose subscription is a prefix of
// msg[0]. The frames are shared by all of them and must not be modified
// afterwards.
func (s *Pub) Send(ctx context.Context, msg [][]byte) error {
	if len(msg) == 0 {
		return ErrBadMessage
	}
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	m := outMsg{frames: msg}
	for _, p := range s.peers.load() {
		if p.subs.Load().match(msg[0]) {
			if p.tryEnqueue(m) == errQueueFull {
				s.dropped.Add(1)
				if !p.droppedSome.Swap(true) {
					s.log.Warn("transport: a subscriber does not keep up; dropping what it has no room for",
						"remote", p.remote, "send_hwm", s.opts.SendHWM)
				}
			}
		}
	}
	return nil
}

// Subscribers returns the number of peers with at least one subscription.
func (s *Pub) Subscribers() int {
	n := 0
	for _, p := range s.peers.load() {
		if p.subs.Load().len() > 0 {
			n++
		}
	}
	return n
}

// Dropped returns how many (message, subscriber) deliveries were dropped
// because the subscriber's queue was full.
func (s *Pub) Dropped() uint64 { return s.dropped.Load() }

// Sub is a SUB socket. It receives the messages whose first frame starts
// with one of its subscriptions; it has none until Subscribe is called. Its
// subscriptions are sent to every publisher it connects to, again after each
// reconnect. It is safe for concurrent use.
type Sub struct {
	*socket
	basePattern
	smu    sync.Mutex // serialises Subscribe/Unsubscribe
	topics atomic.Pointer[topicSet]
}

// NewSub returns an unconnected SUB socket.
func NewSub(opts Options) *Sub {
	s := &Sub{}
	s.socket = newSocket(zmtp.SUB, opts, s)
	return s
}

func (s *Sub) attachLocked(p *peer) error {
	if t := s.topics.Load(); t != nil {
		for _, topic := range t.list {
			sendSubscription(p, topic, true)
		}
	}
	return nil
}

func (s *Sub) deliver(p *peer, frames [][]byte) error {
	// Publishers filter too, but a 3.0 publisher or a race with Unsubscribe
	// can still send what we no longer want.
	if !s.topics.Load().match(frames[0]) {
		return nil
	}
	return s.push(p, frames)
}

// Subscribe adds a prefix subscription ("" receives everything).
func (s *Sub) Subscribe(topic []byte) error { return s.change(topic, true) }

// Unsubscribe cancels one Subscribe of topic.
func (s *Sub) Unsubscribe(topic []byte) error { return s.change(topic, false) }

func (s *Sub) change(topic []byte, on bool) error {
	if len(topic) > MaxTopicLen {
		return fmt.Errorf("transport: subscription of %d bytes, limit %d", len(topic), MaxTopicLen)
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	next, edge := s.topics.Load().with(topic, on)
	// Under socket.mu, so a peer attaching now gets either the old set and
	// this update, or the new set: never neither.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	s.topics.Store(next)
	if edge {
		for p := range s.peers {
			sendSubscription(p, topic, on)
		}
	}
	return nil
}

// sendSubscription sends a SUBSCRIBE or CANCEL command to a ZMTP 3.1 peer,
// or the equivalent message to a 3.0 one.
func sendSubscription(p *peer, topic []byte, on bool) {
	if p.info.Minor >= 1 {
		name := zmtp.CmdCancel
		if on {
			name = zmtp.CmdSubscribe
		}
		p.sendCommand(name, topic)
		return
	}
	b := cancelMsgByte
	if on {
		b = subscribeMsgByte
	}
	p.sendControl(outMsg{frames: [][]byte{append([]byte{byte(b)}, topic...)}})
}

// Recv returns the next message matching a subscription.
func (s *Sub) Recv(ctx context.Context) ([][]byte, error) {
	d, err := s.recv(ctx)
	return d.frames, err
}

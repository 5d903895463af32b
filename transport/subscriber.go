package transport

import (
	"context"
	"sync/atomic"
	"time"
)

// SubscriberConfig configures a Subscriber. Addr is required.
type SubscriberConfig struct {
	Addr string // e.g. tcp://master:4505
	// Topics are the prefixes to subscribe to (default: everything). A
	// Salt minion with zmq_filtering subscribes to "broadcast" and the
	// hex SHA-1 of its id.
	Topics [][]byte
	// Options are the SUB socket's options. Set Heartbeat to find a dead
	// link even when no publication is due; Reconnect defaults to Salt's
	// randomised 1s–10s backoff.
	Options Options
}

// Subscriber is the minion side of the publish channel: a SUB connected to
// the master that reconnects by itself, and reports its liveness so that a
// caller can tell a dead link (Connected false, or nothing received for
// longer than the master's heartbeat).
type Subscriber struct {
	sub  *Sub
	last atomic.Int64 // unix nanoseconds of the last message received
}

// NewSubscriber subscribes and starts connecting.
func NewSubscriber(cfg SubscriberConfig) (*Subscriber, error) {
	s := &Subscriber{sub: NewSub(cfg.Options)}
	topics := cfg.Topics
	if len(topics) == 0 {
		topics = [][]byte{{}}
	}
	for _, t := range topics {
		if err := s.sub.Subscribe(t); err != nil {
			s.sub.Close()
			return nil, err
		}
	}
	if err := s.sub.Dial(cfg.Addr); err != nil {
		s.sub.Close()
		return nil, err
	}
	return s, nil
}

// Recv returns the next publication.
func (s *Subscriber) Recv(ctx context.Context) ([][]byte, error) {
	m, err := s.sub.Recv(ctx)
	if err == nil {
		s.last.Store(time.Now().UnixNano())
	}
	return m, err
}

// Connected reports whether the link to the publisher is up (handshake
// done, not yet found dead).
func (s *Subscriber) Connected() bool { return s.sub.Peers() > 0 }

// LastMessage returns when Recv last returned a message (zero: never).
func (s *Subscriber) LastMessage() time.Time {
	n := s.last.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Close stops the subscriber.
func (s *Subscriber) Close() error { return s.sub.Close() }

// Package events is Salt's event bus as Brine carries it: each event is
// one ZeroMQ message, its tag, "\n\n", then its data as a msgpack map (the
// local form, use_bin_type=True) carrying a "_stamp". The master's bus is
// a PULL socket (master_event_pull.ipc) whose messages go out of a PUB
// socket (master_event_pub.ipc), so any local program can fire events and
// watch them; since every message starts with its tag, a subscription to a
// tag prefix filters at the publisher.
package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

// Separator ends the tag.
const Separator = "\n\n"

// StampFormat is Salt's _stamp: naive UTC isoformat with microseconds.
const StampFormat = "2006-01-02T15:04:05.000000"

// MaxSize bounds an event's data (Salt's max_event_size, 1 MiB): larger
// data is replaced by a note saying it was trimmed.
const MaxSize = 1 << 20

// Event is one event.
type Event struct {
	Tag  string
	Data map[string]any
}

// ErrMalformed reports bytes that are not an event.
var ErrMalformed = errors.New("events: malformed event")

// Encode returns the wire form of an event. It adds "_stamp" (now, UTC)
// unless data has one, without modifying data. A tag holding the separator,
// or ending in "\n" (the separator would then start inside it), is refused:
// it would not read back.
func Encode(tag string, data map[string]any, now time.Time) ([]byte, error) {
	if strings.Contains(tag, Separator) || strings.HasSuffix(tag, "\n") {
		return nil, fmt.Errorf("events: tag %q contains the separator or ends in a newline", tag)
	}
	d := make(map[string]any, len(data)+1)
	maps.Copy(d, data)
	if _, ok := d["_stamp"]; !ok {
		d["_stamp"] = now.UTC().Format(StampFormat)
	}
	body, err := wire.MarshalLocal(d)
	if err != nil {
		return nil, fmt.Errorf("events: encoding %s: %w", tag, err)
	}
	if len(body) > MaxSize {
		body, err = wire.MarshalLocal(map[string]any{
			"_stamp":  d["_stamp"],
			"trimmed": fmt.Sprintf("event data of %d bytes trimmed (max_event_size %d)", len(body), MaxSize),
		})
		if err != nil {
			return nil, err
		}
	}
	b := make([]byte, 0, len(tag)+len(Separator)+len(body))
	b = append(b, tag...)
	b = append(b, Separator...)
	return append(b, body...), nil
}

// Decode parses an event. The tag ends at the first "\n\n" (old-style
// tags padded to 20 characters with '|' are read too).
func Decode(b []byte) (Event, error) {
	i := bytes.Index(b, []byte(Separator))
	if i < 0 {
		return Event{}, fmt.Errorf("%w: no tag separator", ErrMalformed)
	}
	tag := strings.TrimRight(string(b[:i]), "|")
	data, err := wire.UnmarshalMap(b[i+len(Separator):])
	if err != nil {
		return Event{}, fmt.Errorf("%w: %s: %v", ErrMalformed, tag, err)
	}
	return Event{Tag: tag, Data: data}, nil
}

// Tagify joins Salt-style tag parts: Tagify("job", jid, "new") is
// "salt/job/<jid>/new".
func Tagify(parts ...string) string {
	return "salt/" + strings.Join(parts, "/")
}

// Firer sends events to a bus. It is safe for concurrent use.
type Firer interface {
	Fire(ctx context.Context, tag string, data map[string]any) error
}

// Pusher fires events into a bus's pull socket over ipc: how a process
// other than the bus's owner (brine-key, a minion's module) fires events.
type Pusher struct {
	push *transport.Push
}

// NewPusher connects to the pull socket at endpoint (e.g.
// ipc://<sock_dir>/master_event_pull.ipc) in the background.
func NewPusher(endpoint string, opts transport.Options) (*Pusher, error) {
	p := transport.NewPush(opts)
	if err := p.Dial(endpoint); err != nil {
		p.Close()
		return nil, err
	}
	return &Pusher{push: p}, nil
}

// Fire sends one event; it waits, within ctx, for the bus to be reachable.
func (p *Pusher) Fire(ctx context.Context, tag string, data map[string]any) error {
	b, err := Encode(tag, data, time.Now())
	if err != nil {
		return err
	}
	return p.push.Send(ctx, [][]byte{b})
}

// Close stops the pusher, giving queued events its Linger to go out.
func (p *Pusher) Close() error { return p.push.Close() }

// Subscriber watches a bus's pub socket for events whose tag matches.
type Subscriber struct {
	sub   *transport.Sub
	match func(tag string) bool
}

// Subscribe connects to the pub socket at endpoint (e.g.
// ipc://<sock_dir>/master_event_pub.ipc) and delivers the events whose tag
// matches pattern: a prefix ("salt/job/"), or an fnmatch glob
// ("salt/job/*/ret/*") which is filtered here after the publisher has
// filtered on the glob's literal prefix. "" matches everything.
func Subscribe(endpoint, pattern string, opts transport.Options) (*Subscriber, error) {
	s := &Subscriber{sub: transport.NewSub(opts), match: func(string) bool { return true }}
	prefix := pattern
	if fnmatch.HasMeta(pattern) {
		prefix = pattern[:strings.IndexAny(pattern, "*?[")]
		s.match = func(tag string) bool { return fnmatch.Match(pattern, tag) }
	}
	if err := s.sub.Subscribe([]byte(prefix)); err != nil {
		s.sub.Close()
		return nil, err
	}
	if err := s.sub.Dial(endpoint); err != nil {
		s.sub.Close()
		return nil, err
	}
	return s, nil
}

// Connected reports whether the subscriber is connected to the bus. Events
// fired before it is are not seen (ZeroMQ's slow joiner).
func (s *Subscriber) Connected() bool { return s.sub.Peers() > 0 }

// WaitConnected waits until the subscriber is connected to the bus.
func (s *Subscriber) WaitConnected(ctx context.Context) error { return s.sub.WaitPeers(ctx, 1) }

// Next returns the next matching event. Malformed messages are skipped.
func (s *Subscriber) Next(ctx context.Context) (Event, error) {
	for {
		m, err := s.sub.Recv(ctx)
		if err != nil {
			return Event{}, err
		}
		ev, err := Decode(m[0])
		if err != nil || !s.match(ev.Tag) {
			continue
		}
		return ev, nil
	}
}

// Close stops the subscriber.
func (s *Subscriber) Close() error { return s.sub.Close() }

// LocalFirer fires events straight onto a bus the caller owns (the
// master's own process), without a hop through the bus's pull socket.
type LocalFirer struct {
	bus *transport.Publisher
}

// NewLocalFirer fires onto bus.
func NewLocalFirer(bus *transport.Publisher) *LocalFirer { return &LocalFirer{bus: bus} }

// Fire publishes one event.
func (f *LocalFirer) Fire(ctx context.Context, tag string, data map[string]any) error {
	b, err := Encode(tag, data, time.Now())
	if err != nil {
		return err
	}
	return f.bus.Publish(ctx, [][]byte{b})
}

package transport

import (
	"context"
	"errors"
	"net"
	"path/filepath"
)

// Socket file names in Salt's sock_dir.
const (
	PublishPullFile = "publish_pull.ipc"
	// PublishDaemonFile is where a publish daemon in its own process
	// pulls the master's finished publications from (Brine's own).
	PublishDaemonFile  = "publish_daemon.ipc"
	EventPubFile       = "master_event_pub.ipc"
	EventPullFile      = "master_event_pull.ipc"
	DefaultPublishAddr = "tcp://0.0.0.0:4505"
)

// PublisherConfig configures a Publisher: Pull, and Pub or Forward.
type PublisherConfig struct {
	Pull string // where publishers push, e.g. ipc://<sock_dir>/publish_pull.ipc
	Pub  string // where subscribers connect, e.g. tcp://0.0.0.0:4505
	// Forward, instead of Pub, is the PULL endpoint of a Publisher in
	// another process that every message is pushed on to, waiting while
	// it is not there or has no room. The master hands its publications
	// to its publish daemon this way: the daemon then holds the publish
	// port's connections and the master the ret port's, each within its
	// own descriptor limit.
	Forward string
	// Transform, if set, turns each message received on the PULL side into
	// the messages to publish (the master encrypts and signs publication
	// loads here, and may address one copy per minion topic). A message it
	// returns an error for is dropped and logged.
	Transform func(msg [][]byte) ([][][]byte, error)
	Options   Options
}

// Publisher is a PULL socket whose messages go straight out of a PUB
// socket, frames unchanged: a one-frame payload, or [topic][payload] as
// Salt sends with zmq_filtering. The master's publish channel and its event
// bus are both this shape. With Forward, a PUSH socket takes the PUB's
// place.
type Publisher struct {
	transform func([][]byte) ([][][]byte, error)
	pull      *Pull
	pub       *Pub // nil when forwarding
	out       interface {
		Send(context.Context, [][]byte) error
		Close() error
	}
	pullAddr net.Addr
	pubAddr  net.Addr
}

// NewPublisher binds both sockets (ipc socket files get mode 0600), or
// binds the PULL and dials Forward.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if (cfg.Pub == "") == (cfg.Forward == "") {
		return nil, errors.New("transport: a publisher needs one of Pub and Forward")
	}
	p := &Publisher{transform: cfg.Transform, pull: NewPull(cfg.Options)}
	var err error
	if cfg.Forward != "" {
		push := NewPush(cfg.Options)
		p.out = push
		err = push.Dial(cfg.Forward)
	} else {
		p.pub = NewPub(cfg.Options)
		p.out = p.pub
		p.pubAddr, err = p.pub.Listen(cfg.Pub)
	}
	if err == nil {
		p.pullAddr, err = p.pull.Listen(cfg.Pull)
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// NewMasterPublisher is Salt's publish channel: PULL on
// <sockDir>/publish_pull.ipc, PUB on pubAddr (tcp://0.0.0.0:4505 if
// empty), each message passed through transform (nil: unchanged).
func NewMasterPublisher(sockDir, pubAddr string, transform func([][]byte) ([][][]byte, error), opts Options) (*Publisher, error) {
	if pubAddr == "" {
		pubAddr = DefaultPublishAddr
	}
	return NewPublisher(PublisherConfig{
		Pull:      "ipc://" + filepath.Join(sockDir, PublishPullFile),
		Pub:       pubAddr,
		Transform: transform,
		Options:   opts,
	})
}

// NewEventPublisher is the master event bus: PULL on
// <sockDir>/master_event_pull.ipc re-sent on PUB <sockDir>/master_event_pub.ipc,
// so that any local process (Go, zmq4, libzmq) can fire and watch events.
func NewEventPublisher(sockDir string, opts Options) (*Publisher, error) {
	return NewPublisher(PublisherConfig{
		Pull:    "ipc://" + filepath.Join(sockDir, EventPullFile),
		Pub:     "ipc://" + filepath.Join(sockDir, EventPubFile),
		Options: opts,
	})
}

// Publish sends msg straight out of the PUB side (or on to Forward): how
// the process that owns the publisher publishes, without a hop through
// its own PULL socket.
func (p *Publisher) Publish(ctx context.Context, msg [][]byte) error {
	return p.out.Send(ctx, msg)
}

// PullAddr and PubAddr return the bound addresses (PubAddr is nil when
// forwarding).
func (p *Publisher) PullAddr() net.Addr { return p.pullAddr }
func (p *Publisher) PubAddr() net.Addr  { return p.pubAddr }

// Subscribers returns the number of peers subscribed to the PUB side (0
// when forwarding).
func (p *Publisher) Subscribers() int {
	if p.pub == nil {
		return 0
	}
	return p.pub.Subscribers()
}

// WaitSubscribers waits until at least n peers are subscribed to the PUB
// side; a forwarding publisher has none to wait for.
func (p *Publisher) WaitSubscribers(ctx context.Context, n int) error {
	if p.pub == nil {
		return errors.New("transport: a forwarding publisher has no subscribers")
	}
	return p.pub.WaitSubscribers(ctx, n)
}

// Serve forwards until ctx ends, then closes both sockets (queued messages
// get the PUB's Linger to go out). It returns nil after a shutdown by ctx.
func (p *Publisher) Serve(ctx context.Context) error {
	defer p.Close()
	for {
		m, err := p.pull.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		out := [][][]byte{m}
		if p.transform != nil {
			if out, err = p.transform(m); err != nil {
				p.pull.log.Warn("transport: dropping a message the publisher cannot take", "err", err)
				continue
			}
		}
		for _, o := range out {
			if err := p.out.Send(ctx, o); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

// Close closes both sockets; Serve does it on return, so Close is for a
// publisher that is never served.
func (p *Publisher) Close() {
	p.pull.Close()
	if p.out != nil {
		p.out.Close()
	}
}

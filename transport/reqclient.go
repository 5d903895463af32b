package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/brine-project/brine/transport/zmtp"
)

// Defaults of ReqClientConfig, Salt's request_channel_timeout and
// request_channel_tries.
const (
	DefaultRequestTimeout = 60 * time.Second
	DefaultRequestTries   = 3
)

// ErrTimeout is returned by ReqClient.Request when no try got a reply.
var ErrTimeout = errors.New("transport: request timed out")

// ReqClientConfig configures a ReqClient. Addr is required; zero values of
// the other fields are their defaults.
type ReqClientConfig struct {
	Addr    string        // e.g. tcp://master:4506
	Timeout time.Duration // per try (default 60s)
	Tries   int           // default 3
	Options Options
}

// ReqClient is the minion and CLI side of the request channel: it sends a
// request to a ROUTER or REP server and waits for its reply, retrying on
// timeout, over one connection that reconnects in the background.
//
// Unlike a REQ socket it may have many requests in flight: each goes out as
// [request id][empty][body] on a DEALER, and the server echoes the id back
// in its reply envelope (as any REP, ROUTER-based server or Salt's master
// does), so replies are matched to requests and a late reply to an
// abandoned try is recognised and dropped. When the connection a request
// went over drops, the next try starts at once on the new connection; when a
// try times out without a single byte from the server, the connection is
// taken for dead and rebuilt. It is safe for concurrent use.
type ReqClient struct {
	cfg ReqClientConfig
	*socket
	basePattern
	rr roundRobin

	mu      sync.Mutex // guards waiting and nextID
	waiting map[uint32]chan [][]byte
	nextID  uint32
}

// NewReqClient starts connecting to cfg.Addr.
func NewReqClient(cfg ReqClientConfig) (*ReqClient, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRequestTimeout
	}
	if cfg.Tries <= 0 {
		cfg.Tries = DefaultRequestTries
	}
	c := &ReqClient{cfg: cfg, waiting: make(map[uint32]chan [][]byte)}
	c.socket = newSocket(zmtp.DEALER, cfg.Options, c)
	if err := c.Dial(cfg.Addr); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *ReqClient) attachLocked(p *peer) error { c.rr.addLocked(p); return nil }
func (c *ReqClient) detachLocked(p *peer)       { c.rr.removeLocked(p) }

// deliver hands a reply to the request waiting for it, on the reader
// goroutine; a reply nobody waits for any more is dropped.
func (c *ReqClient) deliver(p *peer, frames [][]byte) error {
	if len(frames) != 3 || len(frames[0]) != 4 || len(frames[1]) != 0 {
		c.log.Debug("transport: dropping malformed reply", "remote", p.remote, "frames", len(frames))
		return nil
	}
	id := binary.BigEndian.Uint32(frames[0])
	c.mu.Lock()
	ch := c.waiting[id]
	delete(c.waiting, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- frames // buffered: never blocks
	}
	return nil
}

// Request sends req and returns the reply, trying up to Tries times with
// Timeout each, within ctx.
func (c *ReqClient) Request(ctx context.Context, req []byte) ([]byte, error) {
	return c.RequestTries(ctx, req, c.cfg.Timeout, c.cfg.Tries)
}

// RequestTries is Request with its own per-try timeout and number of tries
// (a minion's _auth uses auth_timeout and auth_tries on the same channel).
func (c *ReqClient) RequestTries(ctx context.Context, req []byte, timeout time.Duration, tries int) ([]byte, error) {
	var last error
	for range max(tries, 1) {
		reply, err := c.try(ctx, req, timeout)
		if err == nil {
			return reply, nil
		}
		if ctx.Err() != nil || errors.Is(err, ErrClosed) {
			return nil, err
		}
		last = err
	}
	return nil, fmt.Errorf("transport: no reply after %d tries: %w", max(tries, 1), last)
}

// try sends req once and waits up to timeout for its reply.
func (c *ReqClient) try(parent context.Context, req []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeoutCause(parent, timeout, ErrTimeout)
	defer cancel()
	ch := make(chan [][]byte, 1)
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.waiting[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, id)
		c.mu.Unlock()
	}()

	idf := binary.BigEndian.AppendUint32(make([]byte, 0, 4), id)
	p, err := c.rr.send(ctx, c.socket, outMsg{frames: [][]byte{idf, {}, req}})
	if err != nil {
		if parent.Err() == nil && ctx.Err() != nil {
			return nil, fmt.Errorf("%w: not connected to %s", ErrTimeout, c.cfg.Addr)
		}
		return nil, err
	}
	rx := p.rx.Load()
	select {
	case reply := <-ch:
		return reply[2], nil
	case <-p.done:
		return nil, ErrPeerLost
	case <-ctx.Done():
		if p.rx.Load() == rx {
			// Not one frame from the server for a whole timeout: the
			// link is likely dead (a NAT or firewall dropped it silently).
			p.close(errors.New("transport: no answer within the request timeout"))
		}
		if err := parent.Err(); err != nil {
			return nil, err
		}
		return nil, ErrTimeout
	case <-c.ctx.Done():
		return nil, ErrClosed
	}
}

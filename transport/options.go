package transport

import (
	"log/slog"
	"math/rand/v2"
	"time"
)

// Defaults of Options.
const (
	DefaultSendHWM          = 1000
	DefaultRecvHWM          = 1000
	DefaultMaxMsgSize       = 64 << 20
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultWriteTimeout     = 15 * time.Second
	DefaultLinger           = time.Second
)

// Options configures a socket. The zero value gives every documented default.
type Options struct {
	// Identity is the routing id a REQ, DEALER or ROUTER announces in its
	// handshake: at most 255 bytes, not starting with a zero byte (those are
	// what a ROUTER generates). Empty means none.
	Identity []byte

	// SendHWM bounds the messages queued for each peer (default 1000). When a
	// peer's queue is full, PUB drops the message for that peer only, ROUTER
	// returns ErrPeerFull, and the other types wait for room.
	SendHWM int
	// RecvHWM bounds the messages received but not yet taken by Recv
	// (default 1000). A full queue stops reading from the network.
	RecvHWM int
	// MaxMsgSize bounds a received message: the sum of its frames plus a
	// small per-frame overhead (default 64 MiB). A larger one closes the
	// connection. Before the handshake completes the bound is 8 KiB.
	MaxMsgSize int64

	// HandshakeTimeout bounds connecting and the ZMTP handshake (default 10s).
	HandshakeTimeout time.Duration
	// WriteTimeout bounds each write to a peer (default 15s); a peer that
	// takes longer to accept its data is disconnected.
	WriteTimeout time.Duration
	// Linger is how long Close waits for queued messages to be written
	// (default 1s). Negative: Close discards them at once.
	Linger time.Duration

	// Heartbeat, when positive, sends a ZMTP PING to each ZMTP 3.1 peer this
	// often, and disconnects a peer from which nothing (data, PING or PONG)
	// arrived for HeartbeatTimeout (default 3 × Heartbeat). ZMTP 3.0 peers
	// cannot be pinged; a dead one is found by TCP keepalive only.
	Heartbeat        time.Duration
	HeartbeatTimeout time.Duration

	// Reconnect is the backoff of dialed endpoints.
	Reconnect Backoff

	// Logger receives connection events (nil: discarded).
	Logger *slog.Logger

	// OnPeer, if set, is called when a peer's handshake completes (up) and
	// when its connection ends. It runs on the connection's goroutine and
	// must not block.
	OnPeer func(up bool, remote string)
}

// Backoff is the reconnect schedule of a dialer, as Salt's minion configures
// libzmq with recon_default, recon_max and recon_randomize.
//
// After a connection is lost, or an attempt fails, the dialer waits
// d + jitter, where d starts at the base interval and doubles with each
// consecutive failure up to Max (or the base, if larger), and jitter is
// uniform in [0, base). The base is Initial, plus — unless NoRandomize —
// a uniform [0, Max) drawn once per dialer, so that a crowd of minions
// cut off together does not come back in the same second.
type Backoff struct {
	Initial     time.Duration // recon_default; default 1s
	Max         time.Duration // recon_max; default 10s
	NoRandomize bool          // recon_randomize: False
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max <= 0 {
		b.Max = 10 * time.Second
	}
	return b
}

// schedule returns the wait function of one dialer: wait(n) is the delay
// before attempt n+1 after n consecutive failures (n ≥ 0).
func (b Backoff) schedule() func(n int) time.Duration {
	b = b.withDefaults()
	base := b.Initial
	if !b.NoRandomize {
		base += rand.N(b.Max)
	}
	ceiling := max(b.Max, base)
	return func(n int) time.Duration {
		d := base
		for i := 0; i < n && d < ceiling; i++ {
			d *= 2
		}
		return min(d, ceiling) + rand.N(base)
	}
}

func (o Options) withDefaults() Options {
	if o.SendHWM <= 0 {
		o.SendHWM = DefaultSendHWM
	}
	if o.RecvHWM <= 0 {
		o.RecvHWM = DefaultRecvHWM
	}
	if o.MaxMsgSize <= 0 {
		o.MaxMsgSize = DefaultMaxMsgSize
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Linger == 0 {
		o.Linger = DefaultLinger
	}
	if o.Heartbeat > 0 && o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 3 * o.Heartbeat
	}
	o.Reconnect = o.Reconnect.withDefaults()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brine-project/brine/transport/zmtp"
)

const (
	// writeBufSize is the buffer a writer borrows from writerPool while it
	// has something to write; idle peers hold none.
	writeBufSize = 16 << 10
	// maxSpareCap bounds the capacity of the batch slice a peer keeps for
	// reuse, so that one burst does not pin memory on an idle peer.
	maxSpareCap = 64
	// controlSlack is how far past the HWM control commands (PONG, PING,
	// SUBSCRIBE) may still be queued before they are dropped too.
	controlSlack = 64
)

var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufSize) }}

var (
	errQueueFull = errors.New("transport: queue full")
	errPeerGone  = errors.New("transport: peer gone")
	errHeartbeat = errors.New("transport: heartbeat timeout")
)

// outMsg is a message queued for one peer. Its frames are shared, never
// copied: a PUB queues the same frames for every subscriber.
type outMsg struct {
	frames [][]byte
	cmd    bool // one command frame
}

// A peer is one established connection: a reader goroutine feeding the
// socket, and a writer goroutine draining a bounded queue into a buffered
// writer, flushed once per batch.
type peer struct {
	s      *socket
	conn   net.Conn
	rd     *zmtp.Reader // carries on from the handshake
	info   zmtp.Peer
	id     []byte // ROUTER: routing id
	remote string

	rx atomic.Uint64 // frames received; the heartbeat watches it move
	// beatRx and beatAt are rx as the last heartbeat tick saw it, and when
	// it last moved: the socket's heartbeat goroutine's alone.
	beatRx uint64
	beatAt time.Time

	wdeadline time.Time // the write deadline set on conn; writer goroutine only

	mu      sync.Mutex // guards queue, spare, closed, writing, idle
	queue   []outMsg
	spare   []outMsg
	closed  bool
	writing bool          // a writer goroutine is running
	idle    chan struct{} // closed when the running writer stops

	space     chan struct{} // cap 1: the queue dropped below the HWM
	done      chan struct{} // closed when the peer is gone
	closeOnce sync.Once

	subs        atomic.Pointer[topicSet] // PUB: what the peer subscribed to
	droppedSome atomic.Bool              // PUB: a message was dropped for it (logged once)
}

func newPeer(s *socket, conn net.Conn, rd *zmtp.Reader, info zmtp.Peer) *peer {
	return &peer{
		s: s, conn: conn, rd: rd, info: info,
		remote: conn.RemoteAddr().String(),
		space:  make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

// tryEnqueue queues m without waiting: errQueueFull at the HWM, errPeerGone
// once the peer is closed.
func (p *peer) tryEnqueue(m outMsg) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errPeerGone
	}
	if len(p.queue) >= p.s.opts.SendHWM {
		p.mu.Unlock()
		return errQueueFull
	}
	p.queue = append(p.queue, m)
	p.kickLocked()
	p.mu.Unlock()
	return nil
}

// enqueue queues m, waiting for room while the queue is full.
func (p *peer) enqueue(ctx context.Context, m outMsg) error {
	waited := false
	for {
		err := p.tryEnqueue(m)
		if err != errQueueFull {
			if waited && err == nil {
				// Pass the wake-up on: another sender may be waiting too.
				signal(p.space)
			}
			return err
		}
		waited = true
		select {
		case <-p.space:
		case <-p.done:
			return errPeerGone
		case <-ctx.Done():
			return ctx.Err()
		case <-p.s.ctx.Done():
			return ErrClosed
		}
	}
}

// sendCommand queues a command frame past the HWM (see sendControl).
func (p *peer) sendCommand(name string, data []byte) {
	p.sendControl(outMsg{frames: [][]byte{zmtp.CommandBody(name, data)}, cmd: true})
}

// sendControl queues protocol traffic (PONG, PING, subscriptions) past the
// HWM if need be, so it does not wait behind data; it is dropped only if
// the peer lets even that pile up.
func (p *peer) sendControl(m outMsg) {
	p.mu.Lock()
	if p.closed || len(p.queue) >= p.s.opts.SendHWM+controlSlack {
		p.mu.Unlock()
		return
	}
	p.queue = append(p.queue, m)
	p.kickLocked()
	p.mu.Unlock()
}

// close ends the peer once: it wakes every waiter, closes the connection
// (which ends the reader) and takes the peer out of its socket's routing.
func (p *peer) close(err error) {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.queue, p.spare = nil, nil
		p.mu.Unlock()
		close(p.done)
		p.conn.Close()
		p.s.detach(p)
		if p.s.opts.OnPeer != nil {
			p.s.opts.OnPeer(false, p.remote)
		}
		if err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, net.ErrClosed) {
			p.s.log.Debug("transport: connection closed", "remote", p.remote, "err", err)
		}
	})
}

// readLoop reads until the connection fails, then closes the peer.
func (p *peer) readLoop() {
	var err error
	for {
		var frames [][]byte
		var cmd []byte
		frames, cmd, err = p.rd.Next(p.s.reserve)
		if err != nil {
			break
		}
		p.rx.Add(1)
		if cmd != nil {
			err = p.command(cmd)
		} else {
			err = p.s.pat.deliver(p, frames)
		}
		if err != nil {
			break
		}
	}
	if errors.Is(err, zmtp.ErrFrame) || errors.Is(err, zmtp.ErrTooLarge) || errors.Is(err, zmtp.ErrCommand) {
		p.s.log.Info("transport: protocol error, dropping connection", "remote", p.remote, "err", err)
	}
	p.close(err)
}

// command handles a command received after the handshake.
func (p *peer) command(body []byte) error {
	c, err := zmtp.ParseCommand(body)
	if err != nil {
		return err
	}
	switch c.Name {
	case zmtp.CmdPing:
		if ttl := zmtp.PingTTL(c.Data); ttl > 0 {
			// The peer promises to speak again within ttl: hold it to that.
			p.conn.SetReadDeadline(time.Now().Add(time.Duration(ttl) * 100 * time.Millisecond))
		}
		p.sendCommand(zmtp.CmdPong, zmtp.PingContext(c.Data))
	case zmtp.CmdPong:
	case zmtp.CmdSubscribe, zmtp.CmdCancel:
		return p.s.pat.subscribe(p, c.Data, c.Name == zmtp.CmdSubscribe)
	case zmtp.CmdError:
		return fmt.Errorf("%w: peer sent ERROR", zmtp.ErrHandshake)
	case zmtp.CmdReady:
		return fmt.Errorf("%w: READY after the handshake", zmtp.ErrCommand)
	default:
		// Unknown commands are ignored, for commands a later ZMTP may add.
	}
	return nil
}

// kickLocked starts a writer goroutine unless one runs: a peer holds a
// writer (its stack, its buffer) only while it has something to write, so
// ten thousand idle minions cost no goroutine each on that side. p.mu is
// held.
func (p *peer) kickLocked() {
	if p.writing || p.closed {
		return
	}
	p.writing = true
	p.idle = make(chan struct{})
	// The peer's reader holds a count of s.wg until the writer is done
	// (see runPeer), so this Add never races with Close's Wait.
	p.s.wg.Add(1)
	go p.writer()
}

// writer writes until the queue is empty, then stops.
func (p *peer) writer() {
	defer p.s.wg.Done()
	for {
		err := p.flush()
		p.mu.Lock()
		if err != nil || len(p.queue) == 0 || p.closed {
			p.writing = false
			close(p.idle)
			p.mu.Unlock()
			if err != nil {
				p.close(fmt.Errorf("writing: %w", err))
			}
			return
		}
		p.mu.Unlock()
	}
}

// waitWriter waits until no writer runs, or until the deadline (zero:
// none) passes.
func (p *peer) waitWriter(deadline time.Time) {
	p.mu.Lock()
	idle, writing := p.idle, p.writing
	p.mu.Unlock()
	if !writing {
		return
	}
	if deadline.IsZero() {
		<-idle
		return
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// beat is one heartbeat look at the peer (see socket.heartbeats): hang up
// if nothing has come since HeartbeatTimeout ago, else PING it if ping.
// ZMTP 3.0 peers cannot be pinged; a dead one is found by TCP keepalive
// only.
func (p *peer) beat(now time.Time, ttl []byte, ping bool) {
	if p.info.Minor < 1 {
		return
	}
	if rx := p.rx.Load(); rx != p.beatRx || p.beatAt.IsZero() {
		p.beatRx, p.beatAt = rx, now
	} else if now.Sub(p.beatAt) >= p.s.opts.HeartbeatTimeout {
		p.close(errHeartbeat)
		return
	}
	if ping {
		p.sendCommand(zmtp.CmdPing, ttl)
	}
}

// shutdown closes the peer when the socket closes: after its queue is
// written out, or at the linger deadline.
func (p *peer) shutdown(linger time.Time) {
	if p.s.opts.Linger > 0 {
		p.waitWriter(linger)
	}
	p.close(ErrClosed)
}

// flush writes the queue in batches until it is empty. Each batch gets a
// fresh write deadline, WriteTimeout from now, or the linger deadline once
// the socket is closing.
func (p *peer) flush() error {
	var bw *bufio.Writer
	defer func() {
		if bw != nil {
			bw.Reset(nil)
			writerPool.Put(bw)
		}
	}()
	hwm := p.s.opts.SendHWM
	for {
		p.mu.Lock()
		batch := p.queue
		p.queue, p.spare = p.spare[:0], nil
		p.mu.Unlock()
		if len(batch) == 0 {
			break
		}
		if len(batch) >= hwm {
			signal(p.space)
			p.s.spaceFreed()
		}
		if bw == nil {
			bw = writerPool.Get().(*bufio.Writer)
			bw.Reset(p.conn)
		}
		p.setWriteDeadline()
		for i := range batch {
			if err := writeMsg(bw, batch[i]); err != nil {
				return err
			}
			batch[i] = outMsg{}
		}
		if cap(batch) <= maxSpareCap {
			p.mu.Lock()
			if !p.closed {
				p.spare = batch[:0]
			}
			p.mu.Unlock()
		}
	}
	if bw == nil {
		return nil
	}
	return bw.Flush()
}

// setWriteDeadline bounds the writes of a batch by WriteTimeout. Re-arming
// a deadline costs a timer update, so a deadline still at least half a
// timeout away is kept: a write then gets between half and all of
// WriteTimeout. Once the socket is closing the linger deadline rules.
func (p *peer) setWriteDeadline() {
	if lu := p.s.lingerUntil.Load(); lu != 0 {
		p.conn.SetWriteDeadline(time.Unix(0, lu))
		return
	}
	now := time.Now()
	if now.Add(p.s.opts.WriteTimeout / 2).Before(p.wdeadline) {
		return
	}
	p.wdeadline = now.Add(p.s.opts.WriteTimeout)
	p.conn.SetWriteDeadline(p.wdeadline)
	// Close may have set the linger deadline on the connection between our
	// check and our set: if so, ours must not stand.
	if lu := p.s.lingerUntil.Load(); lu != 0 {
		p.conn.SetWriteDeadline(time.Unix(0, lu))
	}
}

func writeMsg(bw *bufio.Writer, m outMsg) error {
	last := len(m.frames) - 1
	for i, f := range m.frames {
		var flags byte
		switch {
		case m.cmd:
			flags = zmtp.FlagCommand
		case i < last:
			flags = zmtp.FlagMore
		}
		// AvailableBuffer lets the header be built in place, without an
		// allocation per frame.
		bw.Write(zmtp.AppendHeader(bw.AvailableBuffer(), flags, len(f)))
		if _, err := bw.Write(f); err != nil {
			return err
		}
	}
	return nil
}

// signal does a non-blocking send on a 1-buffered channel.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

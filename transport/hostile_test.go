package transport

// Hostile peers. Every attack here is made of raw bytes written on a plain
// net.Conn, against both listening sides the master exposes: a ReqServer's
// ROUTER port and a Publisher's PUB port. For each attack we check that
//
//   - the attacking connection is closed by us (its read returns EOF or a
//     reset) when the attack is a protocol violation, and promptly: the
//     servers under attack have a one-minute handshake timeout, so a close
//     within closeBound is the violation being detected, not a deadline;
//   - the process survives (a panic in any server goroutine ends the test
//     binary);
//   - while the hostile connection is still open on our side, a healthy
//     peer (a ReqClient, or a Subscriber) connects and is served within
//     healthyBound, and a bystander that connected before the attack is
//     still served on its own connection afterwards.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/brine-project/brine/transport/zmtp"
)

const (
	// healthyBound bounds a healthy peer's whole exchange (connect,
	// handshake, request and reply or subscription and publication).
	healthyBound = 10 * time.Second
	// closeBound bounds how long we may take to close a connection that
	// broke the protocol. It is far below hostileOptions' handshake timeout.
	closeBound = 10 * time.Second
)

// hostileOptions are the options of a server under attack: the handshake
// timeout is long, so that only the detection of a violation, never the
// deadline, can close an attacker within closeBound.
func hostileOptions() Options {
	o := testOptions
	o.HandshakeTimeout = time.Minute
	return o
}

// ---- Raw ZMTP bytes ----

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// greeting is a ZMTP greeting of the given major version, NULL mechanism.
func greeting(major uint8) []byte {
	return zmtp.Greeting{Major: major, Minor: 1, Mechanism: zmtp.MechanismNull}.Append(nil)
}

// greet31 is a valid ZMTP 3.1 greeting.
func greet31() []byte { return greeting(3) }

// readyCmd is a READY command frame carrying md.
func readyCmd(md zmtp.Metadata) []byte {
	return zmtp.AppendCommand(nil, zmtp.CmdReady, md.Append(nil))
}

// readyRaw is a READY command frame whose metadata is data, as is.
func readyRaw(data []byte) []byte { return zmtp.AppendCommand(nil, zmtp.CmdReady, data) }

// readyOf is a valid READY for socket type typ.
func readyOf(typ zmtp.SocketType) []byte {
	return readyCmd(zmtp.Metadata{{Name: zmtp.PropSocketType, Value: []byte(typ)}})
}

// longHeader is a frame header with an 8-byte size, built by hand so that
// any size (up to 2^64-1) can be announced.
func longHeader(flags byte, n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{flags | zmtp.FlagLong}, n)
}

// frame is a whole data frame.
func frame(flags byte, body []byte) []byte {
	return append(zmtp.AppendHeader(nil, flags, len(body)), body...)
}

// message is a whole multipart data message.
func message(parts ...[]byte) []byte {
	var b []byte
	for i, p := range parts {
		var flags byte
		if i < len(parts)-1 {
			flags = zmtp.FlagMore
		}
		b = append(b, frame(flags, p)...)
	}
	return b
}

// property is the wire form of one READY property, with the value length
// given explicitly (it may lie).
func property(name string, vlen uint32, value []byte) []byte {
	b := append([]byte{byte(len(name))}, name...)
	b = binary.BigEndian.AppendUint32(b, vlen)
	return append(b, value...)
}

// ---- Raw connections ----

// rawConn is a plain TCP connection speaking hand-built ZMTP.
type rawConn struct {
	net.Conn
	rd *zmtp.Reader // one per connection: it buffers what it reads ahead
}

// rawDial connects to addr (host:port); the test closes it at its end.
func rawDial(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, rd: zmtp.NewReader(c, 1<<20)}
}

// send writes b. A write refused because we already closed the connection
// is not an error: the attack got its answer.
func (rc *rawConn) send(t testing.TB, b []byte) {
	t.Helper()
	if err := rc.write(b); err != nil {
		t.Fatal(err)
	}
}

func (rc *rawConn) write(b []byte) error {
	rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := rc.Write(b)
	if err != nil && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		return nil
	}
	return err
}

// rawHandshake connects to addr and completes a ZMTP 3.1 handshake as a
// socketType peer, checking the server's greeting and READY.
func rawHandshake(t testing.TB, addr string, socketType zmtp.SocketType) *rawConn {
	t.Helper()
	return rawHandshakeMD(t, addr, zmtp.Metadata{{Name: zmtp.PropSocketType, Value: []byte(socketType)}})
}

// rawHandshakeMD is rawHandshake with the READY metadata given.
func rawHandshakeMD(t testing.TB, addr string, md zmtp.Metadata) *rawConn {
	t.Helper()
	rc := rawDial(t, addr)
	rc.send(t, cat(greet31(), readyCmd(md)))
	rc.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer rc.SetReadDeadline(time.Time{})
	var g [zmtp.GreetingSize]byte
	if err := rc.rd.ReadFull(g[:]); err != nil {
		t.Fatalf("reading the server's greeting: %v", err)
	}
	gr, err := zmtp.ParseGreeting(g[:])
	if err != nil || gr.Major != 3 || gr.Mechanism != zmtp.MechanismNull {
		t.Fatalf("server greeting %+v, %v", gr, err)
	}
	rc.rd.Limit = zmtp.HandshakeLimit
	_, body, err := rc.rd.Next(0)
	rc.rd.Limit = 1 << 20
	if err != nil {
		t.Fatalf("reading the server's READY: %v", err)
	}
	cmd, err := zmtp.ParseCommand(body)
	if err != nil || cmd.Name != zmtp.CmdReady {
		t.Fatalf("server sent %q (%v), want READY", cmd.Name, err)
	}
	return rc
}

// readMsg reads the next data message, skipping commands.
func (rc *rawConn) readMsg(within time.Duration) ([][]byte, error) {
	rc.SetReadDeadline(time.Now().Add(within))
	defer rc.SetReadDeadline(time.Time{})
	for {
		frames, cmd, err := rc.rd.Next(0)
		if err != nil || cmd == nil {
			return frames, err
		}
	}
}

// isClosedByPeer reports whether a read error means the other side closed
// (or reset) the connection.
func isClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// closeWatch reads (and discards) everything a connection receives until
// it ends, and records when and how.
type closeWatch struct {
	start time.Time
	done  chan struct{}
	err   error
	at    time.Time
}

// watch starts reading rc until the server closes it or bound passes.
func (rc *rawConn) watch(bound time.Duration) *closeWatch {
	w := &closeWatch{start: time.Now(), done: make(chan struct{})}
	rc.SetReadDeadline(w.start.Add(bound))
	go func() {
		defer close(w.done)
		buf := make([]byte, 32<<10)
		for {
			if _, err := rc.Conn.Read(buf); err != nil {
				w.err, w.at = err, time.Now()
				return
			}
		}
	}()
	return w
}

// closed reports whether the watched connection has ended, without waiting.
func (w *closeWatch) closed() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// result waits for the watch to end and says whether the server closed
// the connection, and how long after the watch started.
func (w *closeWatch) result() (time.Duration, error) {
	<-w.done
	elapsed := w.at.Sub(w.start)
	if isClosedByPeer(w.err) {
		return elapsed, nil
	}
	if errors.Is(w.err, os.ErrDeadlineExceeded) {
		return elapsed, fmt.Errorf("not closed by the server within %v", elapsed.Round(time.Millisecond))
	}
	return elapsed, fmt.Errorf("read ended with %v, want EOF or reset", w.err)
}

// wait fails the test unless the server closed the connection.
func (w *closeWatch) wait(t testing.TB, what string) time.Duration {
	t.Helper()
	elapsed, err := w.result()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return elapsed
}

// waitCtx polls cond until it holds or ctx ends.
func waitCtx(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// ---- The two servers under attack ----

// hostileTarget is a server under attack.
type hostileTarget struct {
	kind     string          // "router" or "pub"
	addr     string          // host:port of the attacked port
	peerType zmtp.SocketType // a socket type it accepts: DEALER or SUB
	peers    func() int      // connections past the handshake
	pub      *Pub            // the PUB socket (pub only)
	// healthy connects a well-behaved peer, has it served, and disconnects it.
	healthy func(t *testing.T)
	// bystander handshakes a raw peer now and returns a check that it is
	// still served on that connection.
	bystander func(t *testing.T) (check func(t *testing.T))
}

var hostileSeq atomic.Int64

var targetKinds = []string{"router", "pub"}

// startTarget starts a ReqServer ("router") or a Publisher ("pub") on
// 127.0.0.1 with opts, served until the test ends.
func startTarget(t *testing.T, kind string, opts Options) *hostileTarget {
	t.Helper()
	switch kind {
	case "router":
		return startRouterTarget(t, opts)
	case "pub":
		return startPubTarget(t, opts)
	}
	t.Fatalf("unknown target %q", kind)
	return nil
}

func startRouterTarget(t *testing.T, opts Options) *hostileTarget {
	s, err := NewReqServer(ReqServerConfig{
		Addr:    "tcp://127.0.0.1:0",
		Handler: func(_ context.Context, req []byte) []byte { return append([]byte("re:"), req...) },
		Options: opts,
	})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	tg := &hostileTarget{kind: "router", addr: s.Addr().String(), peerType: zmtp.DEALER, peers: s.router.Peers}
	tg.healthy = func(t *testing.T) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), healthyBound)
		defer cancel()
		c, err := NewReqClient(ReqClientConfig{Addr: dialable(s.Addr()), Options: testOptions})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := fmt.Sprintf("healthy %d", hostileSeq.Add(1))
		reply, err := c.Request(ctx, []byte(req))
		if err != nil {
			t.Fatalf("healthy ReqClient not served within %v: %v", healthyBound, err)
		}
		if string(reply) != "re:"+req {
			t.Fatalf("healthy ReqClient got %q, want %q", reply, "re:"+req)
		}
	}
	tg.bystander = func(t *testing.T) func(t *testing.T) {
		rc := rawHandshake(t, tg.addr, zmtp.DEALER)
		return func(t *testing.T) {
			t.Helper()
			body := fmt.Sprintf("bystander %d", hostileSeq.Add(1))
			rc.send(t, message(nil, []byte(body)))
			m, err := rc.readMsg(healthyBound)
			if err != nil {
				t.Fatalf("bystander: no reply on its connection: %v", err)
			}
			if len(m) != 2 || len(m[0]) != 0 || string(m[1]) != "re:"+body {
				t.Fatalf("bystander got %q, want [\"\" %q]", m, "re:"+body)
			}
		}
	}
	return tg
}

func startPubTarget(t *testing.T, opts Options) *hostileTarget {
	p, err := NewPublisher(PublisherConfig{Pull: "tcp://127.0.0.1:0", Pub: "tcp://127.0.0.1:0", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, p)
	tg := &hostileTarget{kind: "pub", addr: p.PubAddr().String(), peerType: zmtp.SUB, peers: p.pub.Peers, pub: p.pub}
	tg.healthy = func(t *testing.T) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), healthyBound)
		defer cancel()
		topic := fmt.Appendf(nil, "healthy/%d", hostileSeq.Add(1))
		s, err := NewSubscriber(SubscriberConfig{Addr: dialable(p.PubAddr()), Topics: [][]byte{topic}, Options: testOptions})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := waitCtx(ctx, func() bool { return pubHasTopic(p.pub, topic) }); err != nil {
			t.Fatalf("healthy Subscriber's subscription did not reach the PUB within %v", healthyBound)
		}
		if err := p.pub.Send(ctx, [][]byte{topic, []byte("publication")}); err != nil {
			t.Fatal(err)
		}
		m, err := s.Recv(ctx)
		if err != nil {
			t.Fatalf("healthy Subscriber got no publication within %v: %v", healthyBound, err)
		}
		if len(m) != 2 || !bytes.Equal(m[0], topic) || string(m[1]) != "publication" {
			t.Fatalf("healthy Subscriber got %q", m)
		}
	}
	tg.bystander = func(t *testing.T) func(t *testing.T) {
		rc := rawHandshake(t, tg.addr, zmtp.SUB)
		topic := fmt.Appendf(nil, "bystander/%d", hostileSeq.Add(1))
		rc.send(t, zmtp.AppendCommand(nil, zmtp.CmdSubscribe, topic))
		waitFor(t, "bystander's subscription", func() bool { return pubHasTopic(p.pub, topic) })
		return func(t *testing.T) {
			t.Helper()
			body := fmt.Appendf(nil, "news %d", hostileSeq.Add(1))
			if err := p.pub.Send(context.Background(), [][]byte{topic, body}); err != nil {
				t.Fatal(err)
			}
			m, err := rc.readMsg(healthyBound)
			if err != nil {
				t.Fatalf("bystander: no publication on its connection: %v", err)
			}
			if len(m) != 2 || !bytes.Equal(m[0], topic) || !bytes.Equal(m[1], body) {
				t.Fatalf("bystander (local %v) got %q, want [%q %q]; PUB peers: %s",
					rc.LocalAddr(), m, topic, body, describePubPeers(p.pub))
			}
		}
	}
	return tg
}

// describePubPeers lists the PUB's peers and their subscriptions, for
// failure messages.
func describePubPeers(pub *Pub) string {
	var b strings.Builder
	for _, p := range pub.peers.load() {
		var topics []string
		if s := p.subs.Load(); s != nil {
			for _, k := range s.list {
				topics = append(topics, string(k))
			}
		}
		fmt.Fprintf(&b, "[%s %q] ", p.remote, topics)
	}
	return b.String()
}

// pubHasTopic reports whether a peer of the PUB is subscribed to topic.
func pubHasTopic(pub *Pub, topic []byte) bool {
	for _, p := range pub.peers.load() {
		if s := p.subs.Load(); s != nil && s.counts[string(topic)] > 0 {
			return true
		}
	}
	return false
}

// ---- 1, 2, 3, 9: protocol violations ----

// violation is one attack that breaks the protocol: the connection must be
// closed by the server.
type violation struct {
	name string
	// handshake: complete a valid handshake before sending payload.
	handshake bool
	// payload is the attack, given the socket type the target accepts.
	payload func(peerType zmtp.SocketType) []byte
	// opts adjusts the server's options, if set.
	opts func(*Options)
	// only restricts the attack to one target kind, if set.
	only string
}

func bytesOf(b ...[]byte) func(zmtp.SocketType) []byte {
	return func(zmtp.SocketType) []byte { return cat(b...) }
}

func smallMaxMsg(o *Options) { o.MaxMsgSize = 4096 }

// runViolations runs each attack against each target: a bystander peer
// connects, the attack is sent, a healthy peer is served while the
// attacking connection is still open on our side, the server closes the
// attacking connection, the bystander is still served, and the attacker
// holds no peer slot.
func runViolations(t *testing.T, attacks []violation) {
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			for _, kind := range targetKinds {
				if a.only != "" && a.only != kind {
					continue
				}
				t.Run(kind, func(t *testing.T) {
					opts := hostileOptions()
					if a.opts != nil {
						a.opts(&opts)
					}
					tg := startTarget(t, kind, opts)
					check := tg.bystander(t)
					var rc *rawConn
					if a.handshake {
						rc = rawHandshake(t, tg.addr, tg.peerType)
					} else {
						rc = rawDial(t, tg.addr)
					}
					rc.send(t, a.payload(tg.peerType))
					w := rc.watch(closeBound)
					tg.healthy(t)
					w.wait(t, "attacking connection")
					check(t)
					waitFor(t, "only the bystander connected", func() bool { return tg.peers() == 1 })
				})
			}
		})
	}
}

// Attacks on the handshake (1, 2, 3 before READY, and malformed
// greetings): a READY with an unknown or missing Socket-Type, truncated
// metadata, a frame announcing 2^62 bytes before the handshake is done.
func TestHostileHandshake(t *testing.T) {
	long := func(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }
	runViolations(t, []violation{
		// 1. Socket-Type.
		{name: "ready-socket-type-BOGUS", payload: bytesOf(greet31(),
			readyCmd(zmtp.Metadata{{Name: zmtp.PropSocketType, Value: []byte("BOGUS")}}))},
		{name: "ready-without-socket-type", payload: bytesOf(greet31(), readyCmd(nil))},
		{name: "ready-identity-only", payload: bytesOf(greet31(),
			readyCmd(zmtp.Metadata{{Name: zmtp.PropIdentity, Value: []byte("x")}}))},
		{name: "ready-incompatible-socket-type", payload: bytesOf(greet31(), readyOf(zmtp.PUB))},
		{name: "ready-socket-type-255-bytes", payload: bytesOf(greet31(),
			readyCmd(zmtp.Metadata{{Name: zmtp.PropSocketType, Value: long(255)}}))},
		// 2. Truncated metadata.
		{name: "ready-name-length-past-end", payload: bytesOf(greet31(),
			readyRaw(append([]byte{40}, "Socket"...)))},
		{name: "ready-value-length-ffffffff", payload: func(pt zmtp.SocketType) []byte {
			return cat(greet31(), readyRaw(property(zmtp.PropSocketType, math.MaxUint32, []byte(pt))))
		}},
		{name: "ready-value-length-7fffffff", payload: func(pt zmtp.SocketType) []byte {
			return cat(greet31(), readyRaw(property(zmtp.PropSocketType, math.MaxInt32, []byte(pt))))
		}},
		{name: "ready-value-one-past-end", payload: func(pt zmtp.SocketType) []byte {
			return cat(greet31(), readyRaw(property(zmtp.PropSocketType, uint32(len(pt))+1, []byte(pt))))
		}},
		{name: "ready-value-length-cut", payload: bytesOf(greet31(),
			readyRaw(append(append([]byte{11}, zmtp.PropSocketType...), 0, 0)))},
		{name: "ready-valid-then-truncated-property", payload: func(pt zmtp.SocketType) []byte {
			md := zmtp.Metadata{{Name: zmtp.PropSocketType, Value: []byte(pt)}}.Append(nil)
			return cat(greet31(), readyRaw(append(md, 200, 'X')))
		}},
		{name: "ready-empty-property-name", payload: bytesOf(greet31(), readyRaw([]byte{0, 0, 0, 0, 0}))},
		{name: "empty-command", payload: bytesOf(greet31(), zmtp.AppendHeader(nil, zmtp.FlagCommand, 0))},
		{name: "command-name-past-end", payload: bytesOf(greet31(), frame(zmtp.FlagCommand, []byte{9, 'R', 'E'}))},
		// 3. Huge frames before the handshake is done.
		{name: "frame-2^62-before-ready", payload: bytesOf(greet31(), longHeader(0, 1<<62))},
		{name: "command-2^62-before-ready", payload: bytesOf(greet31(), longHeader(zmtp.FlagCommand, 1<<62))},
		{name: "command-2^64-1-before-ready", payload: bytesOf(greet31(), longHeader(zmtp.FlagCommand, math.MaxUint64))},
		{name: "command-over-handshake-limit", payload: bytesOf(greet31(),
			longHeader(zmtp.FlagCommand, zmtp.HandshakeLimit+1))},
		// Anything but READY first.
		{name: "message-before-ready", payload: bytesOf(greet31(), frame(0, []byte("hello")))},
		{name: "unknown-command-before-ready", payload: bytesOf(greet31(), zmtp.AppendCommand(nil, "HELLO", nil))},
		{name: "ping-before-ready", payload: bytesOf(greet31(), zmtp.AppendCommand(nil, zmtp.CmdPing, []byte{0, 1}))},
		{name: "error-instead-of-ready", payload: bytesOf(greet31(),
			zmtp.AppendCommand(nil, zmtp.CmdError, append([]byte{4}, "nope"...)))},
		{name: "reserved-flags-before-ready", payload: bytesOf(greet31(), []byte{0x08, 0})},
		{name: "command-with-more-before-ready", payload: func(pt zmtp.SocketType) []byte {
			r := readyOf(pt)
			r[0] |= zmtp.FlagMore
			return cat(greet31(), r)
		}},
		// Malformed greetings.
		{name: "greeting-mechanism-CURVE", payload: func(pt zmtp.SocketType) []byte {
			return cat(zmtp.Greeting{Major: 3, Minor: 1, Mechanism: "CURVE"}.Append(nil), readyOf(pt))
		}},
		{name: "greeting-mechanism-not-nul-padded", payload: func(pt zmtp.SocketType) []byte {
			g := greet31()
			g[20] = 'Z' // after "NULL\x00..."
			return cat(g, readyOf(pt))
		}},
		{name: "greeting-as-server-2", payload: func(pt zmtp.SocketType) []byte {
			g := greet31()
			g[32] = 2
			return cat(g, readyOf(pt))
		}},
		{name: "greeting-bad-signature", payload: func(pt zmtp.SocketType) []byte {
			g := greet31()
			g[9] = 0x7e
			return cat(g, readyOf(pt))
		}},
		{name: "not-zmtp-http", payload: bytesOf([]byte("GET / HTTP/1.1\r\nHost: master\r\n\r\n"))},
	})
}

// Attacks after a valid handshake (3 and 9): huge frames, messages over
// MaxMsgSize, reserved flag bits, commands with MORE and other commands
// out of place.
func TestHostileAfterHandshake(t *testing.T) {
	attacks := []violation{
		// 3. Huge frames.
		{name: "frame-2^62", payload: bytesOf(longHeader(0, 1<<62))},
		{name: "frame-2^62-more", payload: bytesOf(longHeader(zmtp.FlagMore, 1<<62))},
		{name: "frame-2^63", payload: bytesOf(longHeader(0, 1<<63))},
		{name: "frame-2^64-1", payload: bytesOf(longHeader(0, math.MaxUint64))},
		{name: "command-2^62", payload: bytesOf(longHeader(zmtp.FlagCommand, 1<<62))},
		{name: "second-frame-2^62", payload: bytesOf(frame(zmtp.FlagMore, []byte("abc")), longHeader(0, 1<<62))},
		// 9. MaxMsgSize.
		{name: "frame-over-max-msg-size", opts: smallMaxMsg, payload: bytesOf(frame(0, make([]byte, 5000)))},
		{name: "frame-header-over-max-msg-size", opts: smallMaxMsg, payload: bytesOf(longHeader(0, 4097))},
		{name: "parts-over-max-msg-size", opts: smallMaxMsg, payload: bytesOf(
			message(make([]byte, 1500), make([]byte, 1500), make([]byte, 1500)))},
		{name: "empty-frames-over-max-msg-size", opts: smallMaxMsg, payload: bytesOf(
			message(make([][]byte, 200)...))},
		{name: "command-over-max-msg-size", opts: smallMaxMsg, payload: bytesOf(
			zmtp.AppendCommand(nil, zmtp.CmdPing, make([]byte, 5000)))},
		// 9. Reserved flag bits.
		{name: "flags-0x08", payload: bytesOf([]byte{0x08, 1, 'x'})},
		{name: "flags-0x10", payload: bytesOf([]byte{0x10, 1, 'x'})},
		{name: "flags-0x20", payload: bytesOf([]byte{0x20, 1, 'x'})},
		{name: "flags-0x40", payload: bytesOf([]byte{0x40, 1, 'x'})},
		{name: "flags-0x80", payload: bytesOf([]byte{0x80, 1, 'x'})},
		{name: "flags-0xff", payload: bytesOf([]byte{0xff, 1, 'x'})},
		{name: "flags-reserved-in-second-frame", payload: bytesOf(frame(zmtp.FlagMore, []byte("a")), []byte{0x21, 1, 'b'})},
		// 9. Commands with MORE, or out of place.
		{name: "command-with-more", payload: func(zmtp.SocketType) []byte {
			c := zmtp.AppendCommand(nil, zmtp.CmdPing, nil)
			c[0] |= zmtp.FlagMore
			return c
		}},
		{name: "long-command-with-more", payload: bytesOf(longHeader(zmtp.FlagCommand|zmtp.FlagMore, 5), []byte{4, 'P', 'I', 'N', 'G'})},
		{name: "command-inside-multipart", payload: bytesOf(frame(zmtp.FlagMore, []byte("a")), zmtp.AppendCommand(nil, zmtp.CmdPing, nil))},
		{name: "ready-after-handshake", payload: readyOf},
		{name: "error-after-handshake", payload: bytesOf(zmtp.AppendCommand(nil, zmtp.CmdError, append([]byte{3}, "bye"...)))},
		{name: "empty-command", payload: bytesOf(zmtp.AppendHeader(nil, zmtp.FlagCommand, 0))},
		{name: "command-name-past-end", payload: bytesOf(frame(zmtp.FlagCommand, []byte{200, 'S', 'U', 'B'}))},
		// A PUB's limits on what a subscriber may make it remember.
		{name: "subscribe-topic-too-long", only: "pub", payload: bytesOf(
			zmtp.AppendCommand(nil, zmtp.CmdSubscribe, make([]byte, MaxTopicLen+1)))},
		{name: "too-many-subscriptions", only: "pub", payload: func(zmtp.SocketType) []byte {
			var b []byte
			for i := range MaxPeerTopics + 1 {
				b = zmtp.AppendCommand(b, zmtp.CmdSubscribe, fmt.Appendf(nil, "t%d", i))
			}
			return b
		}},
		{name: "zmtp3.0-subscription-too-long", only: "pub", payload: bytesOf(
			frame(0, append([]byte{1}, make([]byte, MaxTopicLen+1)...)))},
	}
	for i := range attacks {
		attacks[i].handshake = true
	}
	runViolations(t, attacks)
}

// 9. A peer speaking an older ZMTP is refused promptly: long before the
// handshake timeout, which the server here has at 3s. That holds for a
// ZMTP 2.0 peer, or any that sends 11 bytes or more; a ZMTP 1.0 peer whose
// greeting is shorter (an anonymous identity is 2 bytes) is held until the
// timeout, because the handshake reads 11 bytes before it looks at any.
func TestHostileOldGreeting(t *testing.T) {
	sig := func(major byte) []byte {
		// The ZMTP 2.0 signature: 0xff, an 8-byte length (identity + 1),
		// 0x7f; then the revision (major) byte.
		return []byte{0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, major}
	}
	cases := []struct {
		name    string
		payload []byte
	}{
		{"major-1-full-greeting", greeting(1)},
		{"major-2-full-greeting", greeting(2)},
		{"major-0-full-greeting", greeting(0)},
		// What libzmq 3.x (ZMTP 2.0, revision 1) sends: signature,
		// revision, socket type, an empty identity frame.
		{"zmtp2.0-libzmq3", cat(sig(1), []byte{5, 0, 0})},
		{"major-2-signature-only", sig(2)},
		// A ZMTP 1.0 peer (libzmq 2.x, RFC 13) has no signature: its
		// greeting is its identity as a frame (length incl. flags, flags,
		// body), then it waits for ours.
		{"zmtp1.0-anonymous-identity", []byte{1, 0}},
		{"zmtp1.0-identity", append([]byte{7, 0}, "minion"...)},
	}
	const handshakeTimeout = 3 * time.Second
	const prompt = time.Second
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // a failure waits out the handshake timeout
			for _, kind := range targetKinds {
				t.Run(kind, func(t *testing.T) {
					t.Parallel()
					opts := hostileOptions()
					opts.HandshakeTimeout = handshakeTimeout
					tg := startTarget(t, kind, opts)
					rc := rawDial(t, tg.addr)
					rc.send(t, c.payload)
					w := rc.watch(closeBound)
					tg.healthy(t)
					if elapsed := w.wait(t, "old peer"); elapsed > prompt {
						t.Fatalf("old peer refused only after %v (handshake timeout %v), want within %v",
							elapsed.Round(time.Millisecond), handshakeTimeout, prompt)
					}
				})
			}
		})
	}
}

// ---- 3: announced sizes cost no memory ----

// stallReader serves data, then blocks as a peer that stops sending
// would, telling stalled when it does.
type stallReader struct {
	data    []byte
	stalled chan struct{}
	release chan struct{}
}

func (r *stallReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	close(r.stalled)
	<-r.release
	return 0, io.ErrUnexpectedEOF
}

// totalAlloc returns the bytes allocated by the process so far.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// The frame reader believes an announced size only as far as bytes arrive:
// a 2^62-byte frame is refused without allocating, and a 60 MiB frame
// (under the 64 MiB limit) of which only a little is sent costs what was
// sent, not 60 MiB.
func TestHostileAnnouncedSizeReaderAllocs(t *testing.T) {
	const limit = DefaultMaxMsgSize
	cases := []struct {
		name      string
		header    []byte
		sent      int    // body bytes that arrive before the peer stalls
		maxAlloc  uint64 // what reading may allocate
		wantLarge bool   // refused at the header with ErrTooLarge
	}{
		{"frame-2^62", longHeader(0, 1<<62), 0, 64 << 10, true},
		{"frame-2^64-1", longHeader(0, math.MaxUint64), 0, 64 << 10, true},
		{"command-2^62", longHeader(zmtp.FlagCommand, 1<<62), 0, 64 << 10, true},
		{"frame-limit+1", longHeader(0, limit+1), 0, 64 << 10, true},
		{"60MiB-nothing-sent", longHeader(0, 60<<20), 0, 1 << 20, false},
		{"60MiB-10KiB-sent", longHeader(0, 60<<20), 10 << 10, 1 << 20, false},
		{"60MiB-1MiB-sent", longHeader(0, 60<<20), 1 << 20, 8 << 20, false},
		{"60MiB-command-100KiB-sent", longHeader(zmtp.FlagCommand, 60<<20), 100 << 10, 2 << 20, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sr := &stallReader{
				data:    append(c.header, make([]byte, c.sent)...),
				stalled: make(chan struct{}),
				release: make(chan struct{}),
			}
			rd := zmtp.NewReader(bufio.NewReader(sr), limit)
			runtime.GC()
			before := totalAlloc()
			done := make(chan error, 1)
			go func() {
				_, _, err := rd.Next(0)
				done <- err
			}()
			var err error
			var stalled bool
			select {
			case err = <-done:
			case <-sr.stalled:
				// The reader has taken every byte sent and waits for more.
				stalled = true
			}
			allocated := totalAlloc() - before
			if stalled {
				close(sr.release)
				err = <-done
			}
			t.Logf("announced %d bytes, sent %d: allocated %d bytes, err %v",
				binary.BigEndian.Uint64(c.header[1:]), c.sent, allocated, err)
			if c.wantLarge {
				if stalled || !errors.Is(err, zmtp.ErrTooLarge) {
					t.Fatalf("stalled %v, err %v; want ErrTooLarge at once", stalled, err)
				}
			} else if !stalled || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("stalled %v, err %v; want the reader waiting for the body", stalled, err)
			}
			if allocated > c.maxAlloc {
				t.Fatalf("allocated %d bytes for an announced frame with %d bytes sent, want at most %d",
					allocated, c.sent, c.maxAlloc)
			}
		})
	}
	t.Run("AllocsPerRun-2^62", func(t *testing.T) {
		in := longHeader(0, 1<<62)
		r := bytes.NewReader(in)
		br := bufio.NewReader(r)
		rd := zmtp.NewReader(br, limit)
		allocs := testing.AllocsPerRun(100, func() {
			r.Reset(in)
			br.Reset(r)
			if _, _, err := rd.Next(0); !errors.Is(err, zmtp.ErrTooLarge) {
				panic(err)
			}
		})
		// The error value only: fmt.Errorf and its arguments.
		if allocs > 8 {
			t.Fatalf("%v allocations to refuse a 2^62-byte frame", allocs)
		}
	})
}

// The same on a live server: a peer past the handshake announces a huge
// frame, sends a little of it and stops; the server keeps serving and
// allocates nothing near the announced size.
func TestHostileAnnouncedSizeServerMemory(t *testing.T) {
	cases := []struct {
		name   string
		header []byte
		sent   int
	}{
		{"frame-60MiB", longHeader(0, 60<<20), 4 << 10},
		{"frame-2^62", longHeader(0, 1<<62), 4 << 10},
	}
	const maxAlloc = 16 << 20
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, kind := range targetKinds {
				t.Run(kind, func(t *testing.T) {
					tg := startTarget(t, kind, hostileOptions())
					rc := rawHandshake(t, tg.addr, tg.peerType)
					waitFor(t, "the attacker's handshake", func() bool { return tg.peers() == 1 })
					runtime.GC()
					before := totalAlloc()
					rc.send(t, cat(c.header, make([]byte, c.sent)))
					tg.healthy(t) // while the huge frame is pending
					// Stop sending: the server is mid-frame, and closes.
					rc.Conn.(*net.TCPConn).CloseWrite()
					rc.watch(closeBound).wait(t, "attacker")
					allocated := totalAlloc() - before
					t.Logf("allocated %d bytes (healthy peer included)", allocated)
					if allocated > maxAlloc {
						t.Fatalf("allocated %d bytes while a peer announced a huge frame, want under %d", allocated, maxAlloc)
					}
					waitFor(t, "no peers", func() bool { return tg.peers() == 0 })
				})
			}
		})
	}
}

// ---- 4: idle connections and partial greetings ----

// idleAttacks are connections that stop mid-handshake: the server cannot
// tell them from a slow peer until its handshake timeout.
func idleAttacks(peerType zmtp.SocketType) map[string][]byte {
	full := cat(greet31(), readyOf(peerType))
	return map[string][]byte{
		"idle":                    nil,
		"greeting-5-bytes":        full[:5],
		"greeting-signature-only": full[:10],
		"greeting-11-bytes":       full[:11],
		"greeting-no-ready":       full[:zmtp.GreetingSize],
		"greeting-half-ready":     full[:zmtp.GreetingSize+5],
		"ready-header-only":       full[:zmtp.GreetingSize+2],
	}
}

func TestHostileIdleAndPartialGreeting(t *testing.T) {
	for _, kind := range targetKinds {
		t.Run(kind, func(t *testing.T) {
			// With the default-like long timeout, they stay open while a
			// healthy peer is served.
			t.Run("served-while-open", func(t *testing.T) {
				tg := startTarget(t, kind, hostileOptions())
				watches := map[string]*closeWatch{}
				for name, b := range idleAttacks(tg.peerType) {
					rc := rawDial(t, tg.addr)
					if len(b) > 0 {
						rc.send(t, b)
					}
					watches[name] = rc.watch(time.Minute)
				}
				tg.healthy(t)
				for name, w := range watches {
					if w.closed() {
						_, err := w.result()
						t.Errorf("%s: closed before its handshake timeout (%v)", name, err)
					}
				}
				// Once the healthy peer has left, none is attached: no
				// unfinished handshake took a peer slot.
				waitFor(t, "no peers", func() bool { return tg.peers() == 0 })
			})
			// With a short handshake timeout they are closed once it passes.
			t.Run("closed-after-handshake-timeout", func(t *testing.T) {
				const timeout = 300 * time.Millisecond
				opts := hostileOptions()
				opts.HandshakeTimeout = timeout
				tg := startTarget(t, kind, opts)
				watches := map[string]*closeWatch{}
				for name, b := range idleAttacks(tg.peerType) {
					rc := rawDial(t, tg.addr)
					w := rc.watch(closeBound) // from the connection's start
					if len(b) > 0 {
						rc.send(t, b)
					}
					watches[name] = w
				}
				tg.healthy(t)
				for name, w := range watches {
					elapsed := w.wait(t, name)
					if elapsed < timeout-10*time.Millisecond {
						t.Errorf("%s: closed after %v, before the %v handshake timeout", name, elapsed, timeout)
					}
				}
			})
		})
	}
}

// ---- 5: a flood of garbage connections ----

// garbage returns the i-th garbage connection's bytes, and whether we close
// it ourselves right after writing (with a reset if rst).
func garbage(rng *rand.Rand, i int, peerType zmtp.SocketType) (b []byte, selfClose, rst bool) {
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	tail := random(rng.IntN(300))
	switch i % 10 {
	case 0: // random bytes that are not a signature
		b = random(11 + rng.IntN(500))
		if b[0] == 0xff {
			b[0] = 0
		}
	case 1: // signature broken at its last byte
		b = cat(greet31(), tail)
		b[9] = byte(rng.IntN(0x7f))
	case 2: // a valid signature, then garbage for the rest of the greeting
		b = cat(greet31()[:11], random(53), tail)
		b[12] = 'X' // never the NULL mechanism
	case 3: // a greeting, then random READY metadata
		b = cat(greet31(), readyRaw(random(rng.IntN(200))), tail)
	case 4: // a greeting, then a frame with reserved flag bits
		b = cat(greet31(), []byte{byte(rng.IntN(0x1f)+1) << 3}, tail)
	case 5: // an old major version
		b = cat(greeting(uint8(rng.IntN(3))), tail)
	case 6: // a greeting, then a huge frame
		b = cat(greet31(), longHeader(byte(rng.IntN(2))<<2, rng.Uint64()|1<<40))
	case 7: // a valid handshake, then garbage
		b = cat(greet31(), readyOf(peerType), []byte{0x80 | byte(rng.IntN(0x80))}, tail)
	case 8: // random bytes, then we reset the connection
		b, selfClose, rst = random(1+rng.IntN(200)), true, true
	case 9: // half a handshake, then we close
		b, selfClose = cat(greet31(), readyOf(peerType))[:zmtp.GreetingSize+rng.IntN(10)], true
	}
	return b, selfClose, rst
}

func TestHostileGarbageFlood(t *testing.T) {
	const conns = 500
	for _, kind := range targetKinds {
		t.Run(kind, func(t *testing.T) {
			tg := startTarget(t, kind, hostileOptions())
			check := tg.bystander(t)
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			type attacker struct {
				conn net.Conn
				w    *closeWatch // nil: we closed it ourselves
				err  error
			}
			attackers := make([]attacker, conns)
			payloads := make([][]byte, conns)
			closes := make([][2]bool, conns)
			rng := rand.New(rand.NewPCG(seed, 0))
			for i := range conns {
				b, self, rst := garbage(rng, i, tg.peerType)
				payloads[i], closes[i] = b, [2]bool{self, rst}
			}
			t.Cleanup(func() {
				for _, a := range attackers {
					if a.conn != nil {
						a.conn.Close() // ends its watch
					}
				}
			})
			var wg sync.WaitGroup
			for i := range conns {
				wg.Go(func() {
					a := &attackers[i]
					c, err := net.DialTimeout("tcp", tg.addr, closeBound)
					if err != nil {
						a.err = err
						return
					}
					a.conn = c
					rc := &rawConn{Conn: c, rd: zmtp.NewReader(c, 1<<20)}
					if err := rc.write(payloads[i]); err != nil {
						a.err = err
					}
					if self, rst := closes[i][0], closes[i][1]; self {
						if rst {
							c.(*net.TCPConn).SetLinger(0)
						}
						c.Close()
						return
					}
					a.w = rc.watch(closeBound)
				})
			}
			wg.Wait()
			for i, a := range attackers {
				if a.err != nil {
					t.Fatalf("attacker %d: %v", i, a.err)
				}
			}
			// Served while the flood is open or closing.
			tg.healthy(t)
			var open int
			for i, a := range attackers {
				if a.w == nil {
					continue
				}
				if _, err := a.w.result(); err != nil {
					open++
					if open <= 5 {
						t.Errorf("attacker %d (kind %d, %q...): %v", i, i%10, payloads[i][:min(len(payloads[i]), 16)], err)
					}
				}
			}
			if open > 0 {
				t.Fatalf("%d of %d garbage connections not closed by the server", open, conns)
			}
			check(t)
			waitFor(t, "only the bystander connected", func() bool { return tg.peers() == 1 })
		})
	}
}

// ---- 6: a disconnect mid-frame ----

func TestHostileDisconnectMidFrame(t *testing.T) {
	cases := []struct {
		name      string
		handshake bool
		payload   func(zmtp.SocketType) []byte
	}{
		{"mid-greeting", false, bytesOf(greet31()[:30])},
		{"mid-ready", false, func(pt zmtp.SocketType) []byte {
			b := cat(greet31(), readyOf(pt))
			return b[:len(b)-3]
		}},
		{"flags-byte-only", true, bytesOf([]byte{0})},
		{"mid-long-header", true, bytesOf(longHeader(0, 1000)[:5])},
		{"half-short-frame", true, bytesOf(frame(0, make([]byte, 200))[:102])},
		{"half-long-frame", true, bytesOf(frame(0, make([]byte, 4000))[:2000])},
		{"part-of-1MiB-frame", true, bytesOf(longHeader(0, 1<<20), make([]byte, 300<<10))},
		{"after-first-part", true, bytesOf(frame(zmtp.FlagMore, []byte("first")))},
		{"mid-command", true, bytesOf(zmtp.AppendCommand(nil, zmtp.CmdSubscribe, []byte("topic"))[:5])},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, kind := range targetKinds {
				t.Run(kind, func(t *testing.T) {
					tg := startTarget(t, kind, hostileOptions())
					check := tg.bystander(t)
					var rc *rawConn
					if c.handshake {
						rc = rawHandshake(t, tg.addr, tg.peerType)
						waitFor(t, "the attacker attached", func() bool { return tg.peers() == 2 })
					} else {
						rc = rawDial(t, tg.addr)
					}
					rc.send(t, c.payload(tg.peerType))
					rc.Close()
					tg.healthy(t)
					check(t)
					waitFor(t, "only the bystander connected", func() bool { return tg.peers() == 1 })
				})
			}
		})
	}
}

// ---- 7: duplicate and forged identities ----

// logWatch is a slog handler that reports log records whose error matches.
type logWatch struct {
	match string
	hits  chan string
}

func (h *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (h *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logWatch) WithGroup(string) slog.Handler            { return h }
func (h *logWatch) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" && strings.Contains(a.Value.String(), h.match) {
			select {
			case h.hits <- r.Message + ": " + a.Value.String():
			default:
			}
		}
		return true
	})
	return nil
}

func TestHostileDuplicateIdentity(t *testing.T) {
	ctx := ctxT(t)
	refused := &logWatch{match: errDuplicateIdentity.Error(), hits: make(chan string, 100)}
	ropts := hostileOptions()
	ropts.Logger = slog.New(refused)
	r := NewRouter(ropts)
	defer r.Close()
	addr := listen(t, r, "tcp://127.0.0.1:0")
	hostPort := strings.TrimPrefix(addr, "tcp://")

	id := []byte("minion-a")
	dopts := testOptions
	dopts.Identity = id
	first := NewDealer(dopts)
	defer first.Close()
	first.Dial(addr)
	waitFor(t, "the first DEALER", func() bool { return r.Peers() == 1 && first.Peers() == 1 })

	// The impostor, our own DEALER with the same identity: each of its
	// connections is refused right after the handshake, and it keeps
	// reconnecting.
	impostor := NewDealer(dopts)
	defer impostor.Close()
	impostor.Dial(addr)
	for i := range 3 {
		select {
		case hit := <-refused.hits:
			t.Logf("refusal %d: %s", i+1, hit)
		case <-ctx.Done():
			t.Fatalf("impostor's connection %d not refused", i+1)
		}
		if n := r.Peers(); n != 1 {
			t.Fatalf("router has %d peers after refusing an impostor, want 1", n)
		}
	}
	// A raw impostor sees its connection closed by the router.
	raw := rawHandshakeMD(t, hostPort, zmtp.Metadata{
		{Name: zmtp.PropSocketType, Value: []byte(zmtp.DEALER)},
		{Name: zmtp.PropIdentity, Value: id},
	})
	raw.watch(closeBound).wait(t, "raw impostor")
	if n := r.Peers(); n != 1 {
		t.Fatalf("router has %d peers, want 1", n)
	}

	// Replies to the identity go to the first DEALER, every one of them.
	for i := range 20 {
		body := fmt.Appendf(nil, "for minion-a %d", i)
		if err := r.Send(ctx, [][]byte{id, body}); err != nil {
			t.Fatal(err)
		}
		m, err := first.Recv(ctx)
		if err != nil || len(m) != 1 || !bytes.Equal(m[0], body) {
			t.Fatalf("first DEALER got %q, %v; want %q", m, err, body)
		}
	}
	// And what the router receives under that identity comes from it.
	if err := first.Send(ctx, msg("from the real minion-a")); err != nil {
		t.Fatal(err)
	}
	if m, err := r.Recv(ctx); err != nil || !bytes.Equal(m[0], id) || string(m[1]) != "from the real minion-a" {
		t.Fatalf("router got %q, %v", m, err)
	}
	// The impostor got none of it.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if m, err := impostor.Recv(short); err == nil {
		t.Fatalf("impostor received %q", m)
	}
}

// An identity starting with a zero byte is the router's to generate: a peer
// announcing one (here the very id the router gave another peer) gets a
// generated id instead, and cannot take the other's replies.
func TestHostileZeroByteIdentity(t *testing.T) {
	ctx := ctxT(t)
	r := NewRouter(hostileOptions())
	defer r.Close()
	addr := listen(t, r, "tcp://127.0.0.1:0")

	first := NewDealer(testOptions)
	defer first.Close()
	first.Dial(addr)
	if err := first.Send(ctx, msg("hello")); err != nil {
		t.Fatal(err)
	}
	m, err := r.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	firstID := bytes.Clone(m[0])
	if len(firstID) != 5 || firstID[0] != 0 {
		t.Fatalf("generated id %x, want a zero byte and a counter", firstID)
	}

	for _, forged := range [][]byte{firstID, {0}, {0, 'x'}, append([]byte{0}, "minion-b"...)} {
		opts := testOptions
		opts.Identity = forged
		imp := NewDealer(opts)
		defer imp.Close()
		imp.Dial(addr)
		if err := imp.Send(ctx, msg("forged")); err != nil {
			t.Fatal(err)
		}
		m, err := r.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(m[1]) != "forged" {
			t.Fatalf("router got %q", m)
		}
		impID := m[0]
		if bytes.Equal(impID, forged) || bytes.Equal(impID, firstID) || len(impID) != 5 || impID[0] != 0 {
			t.Fatalf("peer announcing %x routed as %x; want a fresh generated id", forged, impID)
		}
		if err := r.Send(ctx, [][]byte{firstID, []byte("for the first")}); err != nil {
			t.Fatal(err)
		}
		if m, err := first.Recv(ctx); err != nil || string(m[0]) != "for the first" {
			t.Fatalf("first DEALER got %q, %v", m, err)
		}
		if err := r.Send(ctx, [][]byte{impID, []byte("for the impostor")}); err != nil {
			t.Fatal(err)
		}
		if m, err := imp.Recv(ctx); err != nil || string(m[0]) != "for the impostor" {
			t.Fatalf("impostor got %q, %v; want only its own reply", m, err)
		}
	}
	if n := r.Peers(); n != 5 {
		t.Fatalf("router has %d peers, want 5", n)
	}
}

// ---- 8: a subscriber that stops reading ----

func TestHostileStuckSubscriber(t *testing.T) {
	ctx := ctxT(t)
	opts := hostileOptions()
	opts.SendHWM = 16
	opts.WriteTimeout = time.Second
	tg := startTarget(t, "pub", opts)
	pub := tg.pub

	var healthy []*Subscriber
	for range 2 {
		s, err := NewSubscriber(SubscriberConfig{Addr: "tcp://" + tg.addr, Options: testOptions})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		healthy = append(healthy, s)
	}
	stuck := rawHandshake(t, tg.addr, zmtp.SUB)
	stuck.send(t, zmtp.AppendCommand(nil, zmtp.CmdSubscribe, nil)) // everything
	waitFor(t, "3 subscribers", func() bool { return pub.Subscribers() == 3 })

	payload := make([]byte, 64<<10)
	for i := range payload {
		payload[i] = byte(i)
	}
	// Publish as fast as the healthy subscribers take it, each message
	// checked by both before the next, until the stuck one is cut off.
	publish := func(i int) {
		t.Helper()
		seq := fmt.Appendf(nil, "%08d", i)
		if err := pub.Send(ctx, [][]byte{seq, payload}); err != nil {
			t.Fatal(err)
		}
		for n, s := range healthy {
			m, err := s.Recv(ctx)
			if err != nil {
				t.Fatalf("healthy subscriber %d, message %d: %v", n, i, err)
			}
			if len(m) != 2 || !bytes.Equal(m[0], seq) || !bytes.Equal(m[1], payload) {
				t.Fatalf("healthy subscriber %d: got message %q, want %s (a healthy subscriber missed one)", n, m[0], seq)
			}
		}
	}
	const maxMsgs = 20000
	start := time.Now()
	sent := 0
	for ; pub.Peers() == 3; sent++ {
		if sent == maxMsgs {
			t.Fatalf("stuck subscriber still connected after %d messages of %d bytes (%v); dropped %d",
				sent, len(payload), time.Since(start), pub.Dropped())
		}
		publish(sent)
	}
	dropped := pub.Dropped()
	t.Logf("stuck subscriber cut off after %d messages (%v), %d drops", sent, time.Since(start).Round(time.Millisecond), dropped)
	if dropped == 0 {
		t.Fatal("no message dropped for the stuck subscriber")
	}
	if dropped >= uint64(sent) {
		t.Fatalf("%d drops for %d messages: more than the stuck subscriber's share", dropped, sent)
	}
	// Its connection is closed by us: after what the kernel buffered, EOF.
	stuck.watch(closeBound).wait(t, "stuck subscriber")
	// The healthy ones go on, with no more drops.
	for i := range 50 {
		publish(sent + i)
	}
	if d := pub.Dropped(); d != dropped {
		t.Fatalf("dropped grew from %d to %d with only healthy subscribers", dropped, d)
	}
	tg.healthy(t)
}

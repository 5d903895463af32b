// Package interop checks Brine's ZMTP sockets against two foreign
// implementations: go-zeromq/zmq4 (pure Go, greets as ZMTP 3.0) and libzmq
// 4.3 through pyzmq (greets as ZMTP 3.1), in both directions, over tcp and
// ipc. The libzmq side is testdata/zmqpeer.py, driven line by line over its
// stdin and stdout.
//
// Some cells put a tap between the two sides: a relay that parses the ZMTP
// stream as it forwards it, so that a test can wait on what went over the
// wire (PING, PONG, SUBSCRIBE...) and see whether a connection was dropped
// and redialled.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"go.uber.org/goleak"
	"golang.org/x/sync/errgroup"

	"github.com/brine-project/brine/transport"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// zmq4's PUB starts a writer goroutine that waits on a sync.Cond
		// for messages to send; only the writer's own Close wakes it to
		// exit, and zmq4's Socket.Close never calls that, so every zmq4 PUB
		// leaves it behind (zmq4 v0.17.0, pub.go). Its top frame is the
		// runtime's Cond wait, hence IgnoreAnyFunction.
		goleak.IgnoreAnyFunction("github.com/go-zeromq/zmq4.(*pubMWriter).run"),
	)
}

const (
	pythonBin  = "/usr/bin/python3"
	peerScript = "testdata/zmqpeer.py"
	// installHint is what a machine without the libzmq peer needs.
	installHint = "install Debian's python3-zmq (apt-get install -y python3-zmq python3-msgpack)"
)

// fast reconnects quickly, so a test that sees a reconnect does not wait
// for Salt's one-second default.
var fast = transport.Options{Reconnect: transport.Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}}

var kinds = []string{"tcp", "ipc"}

// cellCtx returns the deadline of one matrix cell, and abort, with which a
// server goroutine fails the cell at once rather than leaving its client to
// wait out the deadline.
func cellCtx(t testing.TB) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	ctx, abort := context.WithCancelCause(ctx)
	t.Cleanup(func() { abort(nil) })
	return ctx, abort
}

// failed fails the test with err, or with why ctx ended if it did.
func failed(t testing.TB, ctx context.Context, err error) {
	t.Helper()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
		t.Fatalf("%v (cell aborted: %v)", err, cause)
	}
	t.Fatal(err)
}

// shortDir returns a new directory with a short path. ipc socket paths must
// fit in a sockaddr_un (107 bytes, less the temporary suffix our listener
// binds at first); t.TempDir's, made from the long subtest name, may not.
func shortDir(t testing.TB) string {
	d, err := os.MkdirTemp("", "brine-interop")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// bindEndpoint returns an endpoint to bind for a transport kind.
func bindEndpoint(t testing.TB, kind string) string {
	if kind == "ipc" {
		return "ipc://" + filepath.Join(shortDir(t), "s.ipc")
	}
	return "tcp://127.0.0.1:0"
}

func dialable(a net.Addr) string {
	if a.Network() == "unix" {
		return "ipc://" + a.String()
	}
	return "tcp://" + a.String()
}

type listener interface {
	Listen(endpoint string) (net.Addr, error)
}

// listen binds l to ep and returns the endpoint to dial.
func listen(t testing.TB, l listener, ep string) string {
	t.Helper()
	a, err := l.Listen(ep)
	if err != nil {
		t.Fatal(err)
	}
	return dialable(a)
}

// poll waits for cond, checking every millisecond. It is only for state
// that no event announces (a subscription reaching a publisher).
func poll(t testing.TB, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			failed(t, ctx, fmt.Errorf("timed out waiting for %s", what))
		}
	}
}

// run runs loop on a goroutine until the test ends. An error that is not
// the shutdown aborts the cell, and fails the test even if the client side
// had already finished.
func run(t testing.TB, abort context.CancelCauseFunc, loop func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := loop(ctx)
		if err != nil && ctx.Err() == nil && !errors.Is(err, transport.ErrClosed) {
			abort(err)
			done <- err
			return
		}
		done <- nil
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
}

// --- Messages ---------------------------------------------------------------

// body returns request or payload number i: parts frames of varied sizes,
// some over 255 bytes (long frames), some holding every byte value. No frame
// is empty, so that an envelope delimiter is never mistaken for one.
func body(i, parts int) [][]byte {
	m := make([][]byte, parts)
	for j := range m {
		f := fmt.Appendf(nil, "m%d.%d|", i, j)
		if j == parts-1 && i%3 == 1 {
			for b := range 256 {
				f = append(f, byte(b+i))
			}
		} else {
			f = append(f, bytes.Repeat([]byte{byte('a' + (i+j)%26)}, (i*131+j*71)%700)...)
		}
		m[j] = f
	}
	return m
}

// answer is every echo server's reply to a request (REP: the body after its
// envelope, which the socket keeps aside): the envelope, up to and
// including the first empty frame, as it came, and "re:" before each
// remaining frame. testdata/zmqpeer.py answers the same way.
func answer(frames [][]byte, envelope bool) [][]byte {
	start := 0
	if envelope {
		for i, f := range frames {
			if len(f) == 0 {
				start = i + 1
				break
			}
		}
	}
	out := slices.Clone(frames[:start])
	for _, f := range frames[start:] {
		out = append(out, append([]byte("re:"), f...))
	}
	return out
}

func sameMsg(a, b [][]byte) bool { return slices.EqualFunc(a, b, bytes.Equal) }

// show prints a message briefly.
func show(m [][]byte) string {
	parts := make([]string, len(m))
	for i, f := range m {
		if len(f) > 24 {
			parts[i] = fmt.Sprintf("%q…(%d bytes)", f[:24], len(f))
		} else {
			parts[i] = fmt.Sprintf("%q", f)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func encodeMsg(m [][]byte) string {
	parts := make([]string, len(m))
	for i, f := range m {
		parts[i] = hex.EncodeToString(f)
	}
	return strings.Join(parts, ",")
}

func decodeMsg(s string) ([][]byte, error) {
	parts := strings.Split(s, ",")
	m := make([][]byte, len(parts))
	for i, p := range parts {
		f, err := hex.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("bad message %q: %w", s, err)
		}
		m[i] = f
	}
	return m, nil
}

// pubStream returns n messages the subscriber to "a" wants, each preceded
// by messages it must not get: one on "b", one on "xa" (an "a", but not as
// a prefix) and, every fifth, one with an empty topic frame. The last
// message is a wanted one, so a leak anywhere shows before it.
func pubStream(n int) [][][]byte {
	var s [][][]byte
	for i := range n {
		s = append(s,
			append([][]byte{fmt.Appendf(nil, "b.%d", i)}, body(i, 1)...),
			append([][]byte{fmt.Appendf(nil, "xa.%d", i)}, body(i, 1)...))
		if i%5 == 0 {
			s = append(s, [][]byte{{}, []byte("no topic")})
		}
		topic := fmt.Appendf(nil, "a.%d", i)
		if i%7 == 0 {
			topic = []byte("a") // the prefix itself is a match
		}
		s = append(s, append([][]byte{topic}, body(i, 2)...))
	}
	return s
}

func wanted(stream [][][]byte, prefix string) [][][]byte {
	var w [][][]byte
	for _, m := range stream {
		if bytes.HasPrefix(m[0], []byte(prefix)) {
			w = append(w, m)
		}
	}
	return w
}

// pushMessages returns n ordinary messages and, among them, the odd ones a
// pipeline must carry too: a lone empty frame, empty frames between others,
// and a 300 KiB frame (past every read buffer on the way).
func pushMessages(n int) [][][]byte {
	var s [][][]byte
	for i := range n {
		s = append(s, body(i, 3))
	}
	big := make([]byte, 300<<10)
	for i := range big {
		big[i] = byte(i*7 + i>>9)
	}
	s = slices.Insert(s, n/3, [][]byte{{}})
	s = slices.Insert(s, n/2, [][]byte{[]byte("x"), {}, {}, []byte("y")})
	s = slices.Insert(s, 2*n/3, [][]byte{[]byte("big"), big})
	return s
}

// probe is what a libzmq publisher repeats until our subscriber has shown
// that its subscription arrived; it matches the subscription "a".
var probe = [][]byte{[]byte("a.probe"), []byte("probe")}

// --- Sockets, whatever their implementation -----------------------------------

// peerSocket is one side of a cell seen from the test: ours, zmq4's or
// libzmq's.
type peerSocket interface {
	send(ctx context.Context, m [][]byte) error
	recv(ctx context.Context) ([][]byte, error)
}

type ourSocket struct{ s transport.Socket }

func (o ourSocket) send(ctx context.Context, m [][]byte) error { return o.s.Send(ctx, m) }
func (o ourSocket) recv(ctx context.Context) ([][]byte, error) { return o.s.Recv(ctx) }

type zSocket struct{ s zmq4.Socket }

func (z zSocket) send(_ context.Context, m [][]byte) error { return z.s.Send(zmq4.NewMsgFrom(m...)) }

// recv bounds zmq4's Recv, which takes no context, by ctx. A Recv left
// behind ends when the test closes the socket.
func (z zSocket) recv(ctx context.Context) ([][]byte, error) {
	type result struct {
		m   zmq4.Msg
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := z.s.Recv()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		return r.m.Frames, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// newZmq4 makes a zmq4 socket that the test closes, quiet and with a send
// timeout under the cell's deadline.
func newZmq4(t testing.TB, mk func(context.Context, ...zmq4.Option) zmq4.Socket, opts ...zmq4.Option) zmq4.Socket {
	opts = append(opts, zmq4.WithLogger(log.New(io.Discard, "", 0)), zmq4.WithTimeout(20*time.Second))
	s := mk(context.Background(), opts...)
	t.Cleanup(func() { s.Close() })
	return s
}

// --- The libzmq peer ------------------------------------------------------------

var pythonErr = sync.OnceValue(func() error {
	out, err := exec.Command(pythonBin, "-c", "import zmq").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return nil
})

// syncBuffer is a bytes.Buffer that the process's stderr copier and the test
// may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pyPeer is a running testdata/zmqpeer.py.
type pyPeer struct {
	desc   string
	stdin  io.WriteCloser
	lines  <-chan string
	stderr *syncBuffer
	ep     string // the endpoint it bound or connects to, from READY
	proc   *os.Process
}

// freeze stops the peer's process (SIGSTOP): its sockets stay open but it
// sends nothing, as a hung or cut-off peer. It resumes when the test ends.
func (p *pyPeer) freeze(t testing.TB) {
	t.Helper()
	if err := p.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.proc.Signal(syscall.SIGCONT) })
}

// startPy starts the libzmq peer with args (see testdata/zmqpeer.py) and
// waits for its READY. The test's end closes its stdin, which makes it exit,
// or kills it if it does not within seconds.
func startPy(t testing.TB, ctx context.Context, args ...string) *pyPeer {
	t.Helper()
	if err := pythonErr(); err != nil {
		t.Skipf("libzmq peer unavailable: %s; %s -c 'import zmq': %v", installHint, pythonBin, err)
	}
	cmd := exec.Command(pythonBin, append([]string{peerScript}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &pyPeer{desc: "libzmq " + strings.Join(args, " "), stdin: stdin, stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.proc = cmd.Process
	lines := make(chan string, 256)
	p.lines = lines
	quit := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-quit: // the test is over: drain, so the peer never blocks
			}
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		close(quit)
		killed := false
		timer := time.NewTimer(5 * time.Second)
		select {
		case <-readDone:
		case <-timer.C:
			cmd.Process.Kill()
			killed = true
			<-readDone
		}
		timer.Stop()
		if err := cmd.Wait(); err != nil && !killed && !t.Failed() {
			t.Errorf("%s: %v; stderr: %s", p.desc, err, p.stderr)
		}
	})
	ready, err := p.expect(ctx, "READY")
	if err != nil {
		t.Fatal(err)
	}
	p.ep = ready
	return p
}

// next returns the next line the peer printed.
func (p *pyPeer) next(ctx context.Context) (string, error) {
	select {
	case l, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("%s exited; stderr: %s", p.desc, p.stderr)
		}
		if strings.HasPrefix(l, "ERR") {
			return "", fmt.Errorf("%s: %s; stderr: %s", p.desc, l, p.stderr)
		}
		return l, nil
	case <-ctx.Done():
		return "", fmt.Errorf("%s: no answer: %w", p.desc, ctx.Err())
	}
}

// expect reads the next line, which must start with word, and returns the
// rest of it.
func (p *pyPeer) expect(ctx context.Context, word string) (string, error) {
	l, err := p.next(ctx)
	if err != nil {
		return "", err
	}
	rest, ok := strings.CutPrefix(l, word)
	if !ok || (rest != "" && rest[0] != ' ') {
		return "", fmt.Errorf("%s: printed %q, want %s", p.desc, l, word)
	}
	return strings.TrimPrefix(rest, " "), nil
}

// do sends the peer commands.
func (p *pyPeer) do(cmds ...string) error {
	if _, err := io.WriteString(p.stdin, strings.Join(cmds, "\n")+"\n"); err != nil {
		return fmt.Errorf("%s: %w; stderr: %s", p.desc, err, p.stderr)
	}
	return nil
}

type pySocket struct{ *pyPeer }

func (p pySocket) send(_ context.Context, m [][]byte) error { return p.do("SEND " + encodeMsg(m)) }

func (p pySocket) recv(ctx context.Context) ([][]byte, error) {
	if err := p.do("RECV"); err != nil {
		return nil, err
	}
	s, err := p.expect(ctx, "MSG")
	if err != nil {
		return nil, err
	}
	return decodeMsg(s)
}

// --- Exchanges ------------------------------------------------------------------

// reqExchanges makes n requests one at a time, numbered from first, each
// of parts frames, and checks each reply.
func reqExchanges(ctx context.Context, c peerSocket, first, n, parts int) error {
	for i := first; i < first+n; i++ {
		req := body(i, parts)
		if err := c.send(ctx, req); err != nil {
			return fmt.Errorf("request %d: send: %w", i, err)
		}
		rep, err := c.recv(ctx)
		if err != nil {
			return fmt.Errorf("request %d: recv: %w", i, err)
		}
		if want := answer(req, false); !sameMsg(rep, want) {
			return fmt.Errorf("request %d: reply %s, want %s", i, show(rep), show(want))
		}
	}
	return nil
}

// dealerExchanges sends n requests [id][""][body...] at once, then takes n
// replies in whatever order they come, each matched to its request by id.
func dealerExchanges(ctx context.Context, c peerSocket, first, n, parts int) error {
	pending := make(map[string][][]byte)
	for i := first; i < first+n; i++ {
		id := fmt.Sprintf("rq%04d", i)
		req := append([][]byte{[]byte(id), {}}, body(i, parts)...)
		pending[id] = req
		if err := c.send(ctx, req); err != nil {
			return fmt.Errorf("request %s: send: %w", id, err)
		}
	}
	for range n {
		rep, err := c.recv(ctx)
		if err != nil {
			return fmt.Errorf("recv with %d replies outstanding: %w", len(pending), err)
		}
		if len(rep) == 0 {
			return errors.New("empty reply")
		}
		req, ok := pending[string(rep[0])]
		if !ok {
			return fmt.Errorf("reply %s answers no outstanding request", show(rep))
		}
		delete(pending, string(rep[0]))
		if want := answer(req, true); !sameMsg(rep, want) {
			return fmt.Errorf("request %q: reply %s, want %s", rep[0], show(rep), show(want))
		}
	}
	return nil
}

// reqClientExchanges makes streams×each requests on a ReqClient, streams at
// a time, and checks that each reply is its own request's.
func reqClientExchanges(ctx context.Context, rc *transport.ReqClient, streams, each int) error {
	g, ctx := errgroup.WithContext(ctx)
	for s := range streams {
		g.Go(func() error {
			for i := range each {
				req := body(s*each+i, 1)[0]
				rep, err := rc.Request(ctx, req)
				if err != nil {
					return fmt.Errorf("request %d/%d: %w", s, i, err)
				}
				if want := append([]byte("re:"), req...); !bytes.Equal(rep, want) {
					return fmt.Errorf("request %s: reply %s", show([][]byte{req}), show([][]byte{rep}))
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// idLog records the distinct routing ids a ROUTER server saw.
type idLog struct {
	mu  sync.Mutex
	ids [][]byte
}

func (l *idLog) add(id []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.ContainsFunc(l.ids, func(x []byte) bool { return bytes.Equal(x, id) }) {
		l.ids = append(l.ids, bytes.Clone(id))
	}
}

func (l *idLog) get() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ids)
}

// checkIDs checks the routing ids a ROUTER saw: one client, one connection,
// so one id, and the client's identity if it announced one.
func checkIDs(t testing.TB, ids [][]byte, identity string) {
	t.Helper()
	if len(ids) != 1 {
		t.Fatalf("ROUTER saw routing ids %q, want exactly one", ids)
	}
	if identity != "" && string(ids[0]) != identity {
		t.Fatalf("ROUTER saw routing id %q, want the client's identity %q", ids[0], identity)
	}
}

// --- The tap ----------------------------------------------------------------------

// tapFrame is one thing the tap saw go over a connection.
type tapFrame struct {
	conn     int    // which connection: 1 is the first accepted
	toServer bool   // sent by the dialing side
	greeting bool   // the 64-byte greeting, in body
	first    bool   // the first frame of a message
	more     bool   // more frames follow in this message
	command  string // the command's name; "" for a message frame
	body     []byte // the frame's body; for a command, its data after the name
}

// tap relays connections to target, parsing the ZMTP stream both ways. It
// records each frame after forwarding it.
type tap struct {
	ln      net.Listener
	network string
	target  string

	mu       sync.Mutex
	conns    []net.Conn
	closed   bool
	accepted int
	ended    int
	closers  []string // per ended connection: which side hung up first
	frames   []tapFrame
	changed  chan struct{} // closed and replaced at each record

	wg sync.WaitGroup
}

func newTap(t testing.TB, upstream string) *tap {
	t.Helper()
	scheme, target, _ := strings.Cut(upstream, "://")
	tp := &tap{network: "tcp", target: target, changed: make(chan struct{})}
	var err error
	if scheme == "ipc" {
		tp.network = "unix"
		tp.ln, err = net.Listen("unix", filepath.Join(shortDir(t), "tap.ipc"))
	} else {
		tp.ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	tp.wg.Add(1)
	go tp.accept()
	t.Cleanup(tp.close)
	return tp
}

func (tp *tap) endpoint() string { return dialable(tp.ln.Addr()) }

func (tp *tap) accept() {
	defer tp.wg.Done()
	for {
		c, err := tp.ln.Accept()
		if err != nil {
			return
		}
		tp.mu.Lock()
		if tp.closed {
			tp.mu.Unlock()
			c.Close()
			return
		}
		tp.accepted++
		n := tp.accepted
		tp.conns = append(tp.conns, c)
		tp.mu.Unlock()
		tp.wg.Add(1)
		go tp.relay(n, c)
	}
}

func (tp *tap) relay(n int, c net.Conn) {
	defer tp.wg.Done()
	var once sync.Once
	var u net.Conn
	// end closes both sides once either is done; closer is the side whose
	// stream ended first.
	end := func(closer string) {
		once.Do(func() {
			c.Close()
			if u != nil {
				u.Close()
			}
			tp.record(func() {
				tp.ended++
				tp.closers = append(tp.closers, closer)
			})
		})
	}
	u, err := net.Dial(tp.network, tp.target)
	if err != nil {
		end("tap (cannot reach the listener)")
		return
	}
	tp.mu.Lock()
	tp.conns = append(tp.conns, u)
	closed := tp.closed
	tp.mu.Unlock()
	if closed {
		end("tap")
		return
	}
	tp.wg.Add(1)
	go func() {
		defer tp.wg.Done()
		tp.pipe(n, true, c, u)
		end("dialer")
	}()
	tp.pipe(n, false, u, c)
	end("listener")
}

func (tp *tap) pipe(n int, toServer bool, src, dst net.Conn) {
	sc := zmtpScanner{emit: func(f tapFrame) {
		f.conn, f.toServer = n, toServer
		tp.record(func() { tp.frames = append(tp.frames, f) })
	}}
	buf := make([]byte, 32<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return
			}
			sc.feed(buf[:k])
		}
		if err != nil {
			return
		}
	}
}

func (tp *tap) record(change func()) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	change()
	close(tp.changed)
	tp.changed = make(chan struct{})
}

func (tp *tap) close() {
	tp.mu.Lock()
	tp.closed = true
	conns := tp.conns
	tp.mu.Unlock()
	tp.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	tp.wg.Wait()
}

// tapState is a snapshot of what the tap saw.
type tapState struct {
	accepted, ended int
	closers         []string
	frames          []tapFrame
}

func (tp *tap) state() tapState {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tapState{tp.accepted, tp.ended, slices.Clone(tp.closers), slices.Clone(tp.frames)}
}

// wait waits until cond holds for what the tap saw.
func (tp *tap) wait(t testing.TB, ctx context.Context, what string, cond func(tapState) bool) tapState {
	t.Helper()
	for {
		tp.mu.Lock()
		s := tapState{tp.accepted, tp.ended, tp.closers, tp.frames}
		ok := cond(s)
		ch := tp.changed
		tp.mu.Unlock()
		if ok {
			return tp.state()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			failed(t, ctx, fmt.Errorf("timed out waiting for %s; the tap saw %s", what, tp.state().summary()))
		}
	}
}

// commands returns the commands named name that went over connection 1 in
// one direction.
func (s tapState) commands(toServer bool, name string) []tapFrame {
	var out []tapFrame
	for _, f := range s.frames {
		if f.conn == 1 && f.toServer == toServer && f.command == name {
			out = append(out, f)
		}
	}
	return out
}

// minor returns the ZMTP minor version one side of connection 1 greeted
// with (-1: no greeting seen).
func (s tapState) minor(toServer bool) int {
	for _, f := range s.frames {
		if f.conn == 1 && f.toServer == toServer && f.greeting {
			return int(f.body[11])
		}
	}
	return -1
}

// subscriptionOps lists in order the subscriptions and cancels the
// dialing side sent over connection 1: ZMTP 3.1 commands as "SUBSCRIBE a"
// and "CANCEL a", ZMTP 3.0 messages (0x01 or 0x00, then the topic) quoted,
// as "\x01a" and "\x00a".
func (s tapState) subscriptionOps() []string {
	var ops []string
	for _, f := range s.frames {
		if f.conn != 1 || !f.toServer {
			continue
		}
		switch {
		case f.command == "SUBSCRIBE" || f.command == "CANCEL":
			ops = append(ops, f.command+" "+string(f.body))
		case f.command == "" && !f.greeting && f.first && !f.more && len(f.body) > 0 && f.body[0] <= 1:
			ops = append(ops, fmt.Sprintf("%q", f.body))
		}
	}
	return ops
}

func (s tapState) summary() string {
	counts := map[string]int{}
	for _, f := range s.frames {
		dir := "<-"
		if f.toServer {
			dir = "->"
		}
		key := "message frame"
		switch {
		case f.greeting:
			key = "greeting"
		case f.command != "":
			key = f.command
		}
		counts[fmt.Sprintf("conn %d %s %s", f.conn, dir, key)]++
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range counts {
			if !yield(k) {
				return
			}
		}
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%d connection(s) accepted, %d ended", s.accepted, s.ended)
	if len(s.closers) > 0 {
		fmt.Fprintf(&b, " (first hung up by: %s)", strings.Join(s.closers, ", "))
	}
	b.WriteString(";")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s ×%d;", k, counts[k])
	}
	return b.String()
}

// oneConnection fails the test unless the tap saw exactly one connection,
// still open: nothing was dropped and redialled.
func (s tapState) oneConnection(t testing.TB) {
	t.Helper()
	if s.accepted != 1 || s.ended != 0 {
		t.Fatalf("connection dropped or redialled: %s", s.summary())
	}
}

// zmtpScanner splits one direction of a ZMTP connection into frames.
type zmtpScanner struct {
	buf     []byte
	greeted bool
	inMsg   bool // the last message frame had MORE set
	emit    func(tapFrame)
}

func (s *zmtpScanner) feed(p []byte) {
	s.buf = append(s.buf, p...)
	for {
		if !s.greeted {
			if len(s.buf) < 64 {
				return
			}
			s.emit(tapFrame{greeting: true, body: bytes.Clone(s.buf[:64])})
			s.buf, s.greeted = s.buf[64:], true
			continue
		}
		if len(s.buf) < 2 {
			break
		}
		flags, hdr, size := s.buf[0], 2, uint64(s.buf[1])
		if flags&0x02 != 0 { // long frame
			if len(s.buf) < 9 {
				break
			}
			hdr, size = 9, binary.BigEndian.Uint64(s.buf[1:9])
		}
		if uint64(len(s.buf)-hdr) < size {
			break
		}
		end := hdr + int(size)
		f := tapFrame{body: bytes.Clone(s.buf[hdr:end])}
		s.buf = s.buf[end:]
		if flags&0x04 != 0 {
			if n := int(f.body[0]); len(f.body) > n {
				f.command, f.body = string(f.body[1:1+n]), f.body[1+n:]
			}
		} else {
			f.first, f.more = !s.inMsg, flags&0x01 != 0
			s.inMsg = f.more
		}
		s.emit(f)
	}
	if len(s.buf) == 0 {
		s.buf = nil // let a large frame's buffer go
	}
}

// --- Our servers, foreign clients --------------------------------------------------

// ourEchoServer starts one of our request servers on ep and returns the
// endpoint to dial and, for a bare ROUTER, the routing ids it saw.
func ourEchoServer(t testing.TB, abort context.CancelCauseFunc, kind, ep string) (string, *idLog) {
	t.Helper()
	switch kind {
	case "ReqServer":
		s, err := transport.NewReqServer(transport.ReqServerConfig{
			Addr:    ep,
			Handler: func(_ context.Context, req []byte) []byte { return append([]byte("re:"), req...) },
			Options: fast,
		})
		if err != nil {
			t.Fatal(err)
		}
		run(t, abort, s.Serve)
		return dialable(s.Addr()), nil
	case "ROUTER":
		r := transport.NewRouter(fast)
		t.Cleanup(func() { r.Close() })
		addr := listen(t, r, ep)
		return addr, routerEcho(t, abort, r)
	case "REP":
		r := transport.NewRep(fast)
		t.Cleanup(func() { r.Close() })
		addr := listen(t, r, ep)
		run(t, abort, func(ctx context.Context) error {
			for {
				req, err := r.Recv(ctx)
				if err != nil {
					return err
				}
				if err := r.Send(ctx, answer(req, false)); err != nil {
					return fmt.Errorf("our REP: send: %w", err)
				}
			}
		})
		return addr, nil
	}
	panic(kind)
}

// routerEcho answers every message r receives.
func routerEcho(t testing.TB, abort context.CancelCauseFunc, r *transport.Router) *idLog {
	ids := &idLog{}
	run(t, abort, func(ctx context.Context) error {
		for {
			m, err := r.Recv(ctx)
			if err != nil {
				return err
			}
			ids.add(m[0])
			if err := r.Send(ctx, append([][]byte{m[0]}, answer(m[1:], true)...)); err != nil {
				return fmt.Errorf("our ROUTER: send: %w", err)
			}
		}
	})
	return ids
}

// foreignClient connects a zmq4 or libzmq socket of type typ to addr. A
// zmq4 SUB subscribes to "a"; a libzmq one takes --subscribe in extra.
func foreignClient(t testing.TB, ctx context.Context, impl, typ, addr, identity string, extra ...string) peerSocket {
	t.Helper()
	if impl == "libzmq" {
		args := append([]string{typ, "connect", addr}, extra...)
		if identity != "" {
			args = append(args, "--identity", identity)
		}
		return pySocket{startPy(t, ctx, args...)}
	}
	var opts []zmq4.Option
	if identity != "" {
		opts = append(opts, zmq4.WithID(zmq4.SocketIdentity(identity)))
	}
	mk := map[string]func(context.Context, ...zmq4.Option) zmq4.Socket{
		"REQ": zmq4.NewReq, "DEALER": zmq4.NewDealer, "PUSH": zmq4.NewPush, "SUB": zmq4.NewSub,
	}[typ]
	s := newZmq4(t, mk, opts...)
	if typ == "SUB" {
		// Before Dial: zmq4 sends its subscriptions when it connects.
		if err := s.SetOption(zmq4.OptionSubscribe, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Dial(addr); err != nil {
		t.Fatal(err)
	}
	return zSocket{s}
}

func TestForeignClientsOurServers(t *testing.T) {
	const n = 20
	for _, impl := range []string{"zmq4", "libzmq"} {
		clients := []string{"REQ", "DEALER"}
		if impl == "libzmq" {
			// REQ_CORRELATE puts a request id before the delimiter and
			// expects it back; REQ_RELAXED goes with it.
			clients = append(clients, "REQ+correlate")
		}
		for _, client := range clients {
			for _, server := range []string{"ReqServer", "ROUTER", "REP"} {
				for _, kind := range kinds {
					t.Run(fmt.Sprintf("%s/%s->ours/%s/%s", impl, client, server, kind), func(t *testing.T) {
						t.Parallel()
						ctx, abort := cellCtx(t)
						addr, ids := ourEchoServer(t, abort, server, bindEndpoint(t, kind))
						parts := 3
						if server == "ReqServer" {
							parts = 1 // it answers single-frame requests
						}
						identity := ""
						if client == "DEALER" {
							identity = impl + "-dealer"
						}
						var extra []string
						typ, correlate := strings.CutSuffix(client, "+correlate")
						if correlate {
							extra = append(extra, "--req-correlate")
						}
						c := foreignClient(t, ctx, impl, typ, addr, identity, extra...)
						exchange := reqExchanges
						if client == "DEALER" {
							exchange = dealerExchanges
						}
						if err := exchange(ctx, c, 0, n, parts); err != nil {
							failed(t, ctx, err)
						}
						if ids != nil {
							checkIDs(t, ids.get(), identity)
						}
					})
				}
			}
		}

		subTypes := []string{"SUB"}
		if impl == "libzmq" {
			// An XSUB does not filter what it receives, so it shows
			// whether our PUB filtered; a libzmq SUB would hide a leak.
			subTypes = append(subTypes, "XSUB")
		}
		for _, sub := range subTypes {
			for _, kind := range kinds {
				t.Run(fmt.Sprintf("%s/%s->ours/PUB/%s", impl, sub, kind), func(t *testing.T) {
					t.Parallel()
					ctx, _ := cellCtx(t)
					pub := transport.NewPub(fast)
					t.Cleanup(func() { pub.Close() })
					tp := newTap(t, listen(t, pub, bindEndpoint(t, kind)))
					c := foreignClient(t, ctx, impl, sub, tp.endpoint(), "", "--subscribe", hex.EncodeToString([]byte("a")))
					if err := pub.WaitSubscribers(ctx, 1); err != nil {
						failed(t, ctx, err)
					}
					stream := pubStream(n)
					for _, m := range stream {
						if err := pub.Send(ctx, m); err != nil {
							t.Fatal(err)
						}
					}
					for i, want := range wanted(stream, "a") {
						got, err := c.recv(ctx)
						if err != nil {
							failed(t, ctx, fmt.Errorf("publication %d: %w", i, err))
						}
						if !sameMsg(got, want) {
							t.Fatalf("publication %d: got %s, want %s", i, show(got), show(want))
						}
					}
					checkSubscriptionForm(t, ctx, tp, impl == "zmq4", "+a")
				})
			}
		}

		for _, kind := range kinds {
			t.Run(fmt.Sprintf("%s/PUSH->ours/PULL/%s", impl, kind), func(t *testing.T) {
				t.Parallel()
				ctx, _ := cellCtx(t)
				pull := transport.NewPull(fast)
				t.Cleanup(func() { pull.Close() })
				c := foreignClient(t, ctx, impl, "PUSH", listen(t, pull, bindEndpoint(t, kind)), "")
				msgs := pushMessages(3 * n)
				for _, m := range msgs {
					if err := c.send(ctx, m); err != nil {
						t.Fatal(err)
					}
				}
				for i, want := range msgs {
					got, err := pull.Recv(ctx)
					if err != nil {
						failed(t, ctx, fmt.Errorf("message %d: %w", i, err))
					}
					if !sameMsg(got, want) {
						t.Fatalf("message %d: got %s, want %s", i, show(got), show(want))
					}
				}
			})
		}
	}
}

// checkSubscriptionForm checks how subscriptions went over the wire: as
// ZMTP 3.0 messages (0x01 or 0x00 and the topic) when either side greeted
// as 3.0, else as ZMTP 3.1 SUBSCRIBE and CANCEL commands. ops are the
// subscriptions in order: "+topic" subscribes, "-topic" cancels.
func checkSubscriptionForm(t testing.TB, ctx context.Context, tp *tap, want30 bool, ops ...string) {
	t.Helper()
	var want []string
	for _, op := range ops {
		on, topic := op[0] == '+', op[1:]
		switch {
		case want30 && on:
			want = append(want, fmt.Sprintf("%q", "\x01"+topic))
		case want30:
			want = append(want, fmt.Sprintf("%q", "\x00"+topic))
		case on:
			want = append(want, "SUBSCRIBE "+topic)
		default:
			want = append(want, "CANCEL "+topic)
		}
	}
	s := tp.wait(t, ctx, fmt.Sprintf("subscriptions %q on the wire", want), func(s tapState) bool {
		return len(s.subscriptionOps()) >= len(want)
	})
	if is30 := s.minor(true) == 0 || s.minor(false) == 0; is30 != want30 {
		t.Fatalf("greetings: dialer ZMTP 3.%d, listener 3.%d; want a 3.0 side: %v", s.minor(true), s.minor(false), want30)
	}
	if got := s.subscriptionOps(); !slices.Equal(got, want) {
		t.Fatalf("subscriptions on the wire: %q, want %q", got, want)
	}
}

// --- Our clients, foreign servers ------------------------------------------------

// echoServer is a foreign REP or ROUTER answering requests with answer().
type echoServer interface {
	// arm readies it for n more requests.
	arm(n int) error
	// answered waits until those are answered and returns the distinct
	// routing ids a ROUTER saw.
	answered(ctx context.Context) ([][]byte, error)
}

type zmq4Echo struct{ ids *idLog }

func (zmq4Echo) arm(int) error { return nil }

func (z zmq4Echo) answered(context.Context) ([][]byte, error) { return z.ids.get(), nil }

type pyEcho struct{ p *pyPeer }

func (e pyEcho) arm(n int) error { return e.p.do(fmt.Sprintf("ECHO %d", n)) }

func (e pyEcho) answered(ctx context.Context) ([][]byte, error) {
	s, err := e.p.expect(ctx, "ECHOED")
	if err != nil {
		return nil, err
	}
	_, ids, _ := strings.Cut(s, " ")
	if ids == "" {
		return nil, nil
	}
	return decodeMsg(ids)
}

// foreignEchoServer binds a zmq4 or libzmq REP or ROUTER echo server.
func foreignEchoServer(t testing.TB, ctx context.Context, abort context.CancelCauseFunc, impl, typ, kind string) (string, echoServer) {
	t.Helper()
	if impl == "libzmq" {
		p := startPy(t, ctx, typ, "bind", bindEndpoint(t, kind))
		return p.ep, pyEcho{p}
	}
	mk := zmq4.NewRep
	if typ == "ROUTER" {
		mk = zmq4.NewRouter
	}
	s := newZmq4(t, mk)
	if err := s.Listen(bindEndpoint(t, kind)); err != nil {
		t.Fatal(err)
	}
	z := zSocket{s}
	ids := &idLog{}
	run(t, abort, func(ctx context.Context) error {
		for {
			m, err := z.recv(ctx)
			if err != nil {
				return err
			}
			reply := answer(m, false)
			if typ == "ROUTER" {
				ids.add(m[0])
				reply = append([][]byte{m[0]}, answer(m[1:], true)...)
			}
			if err := z.send(ctx, reply); err != nil {
				return fmt.Errorf("zmq4 %s: send: %w", typ, err)
			}
		}
	})
	return dialable(s.Addr()), zmq4Echo{ids}
}

func TestOurClientsForeignServers(t *testing.T) {
	const n = 20
	for _, impl := range []string{"zmq4", "libzmq"} {
		for _, client := range []string{"REQ", "DEALER", "ReqClient"} {
			for _, server := range []string{"REP", "ROUTER"} {
				for _, kind := range kinds {
					t.Run(fmt.Sprintf("ours/%s->%s/%s/%s", client, impl, server, kind), func(t *testing.T) {
						t.Parallel()
						ctx, abort := cellCtx(t)
						addr, srv := foreignEchoServer(t, ctx, abort, impl, server, kind)
						identity := ""
						var err error
						switch client {
						case "REQ":
							req := transport.NewReq(fast)
							t.Cleanup(func() { req.Close() })
							if err := req.Dial(addr); err != nil {
								t.Fatal(err)
							}
							if err := srv.arm(n); err != nil {
								t.Fatal(err)
							}
							err = reqExchanges(ctx, ourSocket{req}, 0, n, 3)
						case "DEALER":
							identity = "brine-dealer"
							opts := fast
							opts.Identity = []byte(identity)
							d := transport.NewDealer(opts)
							t.Cleanup(func() { d.Close() })
							if err := d.Dial(addr); err != nil {
								t.Fatal(err)
							}
							if err := srv.arm(n); err != nil {
								t.Fatal(err)
							}
							err = dealerExchanges(ctx, ourSocket{d}, 0, n, 3)
						case "ReqClient":
							rc, cerr := transport.NewReqClient(transport.ReqClientConfig{Addr: addr, Timeout: 20 * time.Second, Options: fast})
							if cerr != nil {
								t.Fatal(cerr)
							}
							t.Cleanup(func() { rc.Close() })
							if err := srv.arm(4 * 8); err != nil {
								t.Fatal(err)
							}
							err = reqClientExchanges(ctx, rc, 4, 8)
						}
						if err != nil {
							failed(t, ctx, err)
						}
						ids, err := srv.answered(ctx)
						if err != nil {
							failed(t, ctx, err)
						}
						if server == "ROUTER" {
							checkIDs(t, ids, identity)
						}
					})
				}
			}
		}

		for _, topic := range []string{"a", ""} {
			for _, kind := range kinds {
				name := "SUB"
				if topic == "" {
					name = "SUB(all)" // Salt's minion without zmq_filtering
				}
				t.Run(fmt.Sprintf("ours/%s->%s/PUB/%s", name, impl, kind), func(t *testing.T) {
					t.Parallel()
					ctx, _ := cellCtx(t)
					var pubEP string
					var publish func([][]byte) error
					var py *pyPeer
					var zpub zmq4.Socket
					if impl == "libzmq" {
						py = startPy(t, ctx, "PUB", "bind", bindEndpoint(t, kind))
						pubEP = py.ep
						publish = func(m [][]byte) error { return py.do("SEND " + encodeMsg(m)) }
					} else {
						zpub = newZmq4(t, zmq4.NewPub)
						if err := zpub.Listen(bindEndpoint(t, kind)); err != nil {
							t.Fatal(err)
						}
						pubEP = dialable(zpub.Addr())
						publish = func(m [][]byte) error { return zpub.Send(zmq4.NewMsgFrom(m...)) }
					}
					tp := newTap(t, pubEP)
					sub := transport.NewSub(fast)
					t.Cleanup(func() { sub.Close() })
					if err := sub.Subscribe([]byte(topic)); err != nil {
						t.Fatal(err)
					}
					if err := sub.Dial(tp.endpoint()); err != nil {
						t.Fatal(err)
					}
					if py != nil {
						// The publisher repeats a probe until our SUB gets one:
						// then its subscription has arrived, and the next
						// command stops the probes.
						if err := py.do("PROBE " + encodeMsg(probe)); err != nil {
							t.Fatal(err)
						}
						m, err := sub.Recv(ctx)
						if err != nil {
							failed(t, ctx, fmt.Errorf("waiting for the probe: %w", err))
						}
						if !sameMsg(m, probe) {
							t.Fatalf("got %s before any probe", show(m))
						}
					} else {
						// No event tells that a subscription reached zmq4's PUB.
						poll(t, ctx, "the subscription to reach zmq4's PUB", func() bool {
							return slices.Contains(zpub.(zmq4.Topics).Topics(), topic)
						})
					}
					stream := pubStream(n)
					for _, m := range stream {
						if err := publish(m); err != nil {
							t.Fatal(err)
						}
					}
					for i, want := range wanted(stream, topic) {
						got, err := sub.Recv(ctx)
						for err == nil && i == 0 && sameMsg(got, probe) {
							got, err = sub.Recv(ctx) // probes sent before the stream
						}
						if err != nil {
							failed(t, ctx, fmt.Errorf("publication %d: %w", i, err))
						}
						if !sameMsg(got, want) {
							t.Fatalf("publication %d: got %s, want %s", i, show(got), show(want))
						}
					}
					checkSubscriptionForm(t, ctx, tp, impl == "zmq4", "+"+topic)
				})
			}
		}

		for _, kind := range kinds {
			t.Run(fmt.Sprintf("ours/PUSH->%s/PULL/%s", impl, kind), func(t *testing.T) {
				t.Parallel()
				ctx, _ := cellCtx(t)
				var addr string
				var pull peerSocket
				if impl == "libzmq" {
					p := startPy(t, ctx, "PULL", "bind", bindEndpoint(t, kind))
					addr, pull = p.ep, pySocket{p}
				} else {
					s := newZmq4(t, zmq4.NewPull)
					if err := s.Listen(bindEndpoint(t, kind)); err != nil {
						t.Fatal(err)
					}
					addr, pull = dialable(s.Addr()), zSocket{s}
				}
				push := transport.NewPush(fast)
				t.Cleanup(func() { push.Close() })
				if err := push.Dial(addr); err != nil {
					t.Fatal(err)
				}
				msgs := pushMessages(3 * n)
				for _, m := range msgs {
					if err := push.Send(ctx, m); err != nil {
						failed(t, ctx, err)
					}
				}
				for i, want := range msgs {
					got, err := pull.recv(ctx)
					if err != nil {
						failed(t, ctx, fmt.Errorf("message %d: %w", i, err))
					}
					if !sameMsg(got, want) {
						t.Fatalf("message %d: got %s, want %s", i, show(got), show(want))
					}
				}
			})
		}
	}
}

// --- Heartbeats -------------------------------------------------------------------

const (
	hbInterval = 50 * time.Millisecond
	// hbTimeout is our HeartbeatTimeout, announced as PING TTL, and
	// libzmq's: generous, so that a busy machine's pause does not drop a
	// connection. Whether PINGs are answered is counted on the wire.
	hbTimeout = time.Second
	hbPings   = 8 // heartbeats to see answered on one connection
)

// heartbeats waits until, on the tap's first connection, hbPings PINGs
// went one way and as many PONGs came back, and checks that the connection
// was neither dropped nor redialled meanwhile. The PINGs must announce ttl
// (tenths of a second).
func heartbeats(t testing.TB, ctx context.Context, tp *tap, pingerDials bool, ttl uint16) {
	t.Helper()
	s := tp.wait(t, ctx, fmt.Sprintf("%d PINGs answered by PONGs", hbPings), func(s tapState) bool {
		return s.accepted > 1 || s.ended > 0 ||
			len(s.commands(pingerDials, "PING")) >= hbPings && len(s.commands(!pingerDials, "PONG")) >= hbPings
	})
	s.oneConnection(t)
	for _, p := range s.commands(pingerDials, "PING") {
		if len(p.body) < 2 || binary.BigEndian.Uint16(p.body) != ttl {
			t.Fatalf("PING data %x, want TTL %d", p.body, ttl)
		}
	}
}

func TestHeartbeat(t *testing.T) {
	for _, kind := range kinds {
		// libzmq pings our socket (with a TTL, which we then hold it to);
		// we must PONG, or libzmq drops the connection after its heartbeat
		// timeout and redials through the tap.
		t.Run("libzmq/DEALER+heartbeat->ours/ROUTER/"+kind, func(t *testing.T) {
			t.Parallel()
			ctx, abort := cellCtx(t)
			r := transport.NewRouter(fast)
			t.Cleanup(func() { r.Close() })
			ids := routerEcho(t, abort, r)
			tp := newTap(t, listen(t, r, bindEndpoint(t, kind)))
			c := foreignClient(t, ctx, "libzmq", "DEALER", tp.endpoint(), "hb-dealer",
				"--heartbeat-ivl", ms(hbInterval), "--heartbeat-timeout", ms(hbTimeout), "--heartbeat-ttl", ms(hbTimeout))
			if err := dealerExchanges(ctx, c, 0, 3, 2); err != nil {
				failed(t, ctx, err)
			}
			heartbeats(t, ctx, tp, true, uint16(hbTimeout/(100*time.Millisecond)))
			if err := dealerExchanges(ctx, c, 3, 3, 2); err != nil {
				failed(t, ctx, err)
			}
			if n := r.Peers(); n != 1 {
				t.Fatalf("our ROUTER has %d peers, want 1", n)
			}
			checkIDs(t, ids.get(), "hb-dealer")
			tp.state().oneConnection(t)
		})

		// We ping a passive libzmq socket: it must PONG, and our
		// HeartbeatTimeout must not drop it.
		t.Run("ours/DEALER+heartbeat->libzmq/ROUTER/"+kind, func(t *testing.T) {
			t.Parallel()
			ctx, abort := cellCtx(t)
			addr, srv := foreignEchoServer(t, ctx, abort, "libzmq", "ROUTER", kind)
			tp := newTap(t, addr)
			opts := fast
			opts.Heartbeat, opts.HeartbeatTimeout = hbInterval, hbTimeout
			d := transport.NewDealer(opts)
			t.Cleanup(func() { d.Close() })
			if err := d.Dial(tp.endpoint()); err != nil {
				t.Fatal(err)
			}
			exchange := func(first int) {
				t.Helper()
				if err := srv.arm(3); err != nil {
					t.Fatal(err)
				}
				if err := dealerExchanges(ctx, ourSocket{d}, first, 3, 2); err != nil {
					failed(t, ctx, err)
				}
				if _, err := srv.answered(ctx); err != nil {
					failed(t, ctx, err)
				}
			}
			exchange(0)
			heartbeats(t, ctx, tp, true, uint16(hbTimeout/(100*time.Millisecond)))
			exchange(3)
			if n := d.Peers(); n != 1 {
				t.Fatalf("our DEALER has %d peers, want 1", n)
			}
			tp.state().oneConnection(t)
		})

		// libzmq pings with a TTL, then hangs (SIGSTOP): our socket must
		// hold it to that TTL and drop it, though its connection is open.
		t.Run("libzmq/DEALER+heartbeat(frozen)->ours/ROUTER/"+kind, func(t *testing.T) {
			t.Parallel()
			ctx, abort := cellCtx(t)
			r := transport.NewRouter(fast) // no Heartbeat of its own
			t.Cleanup(func() { r.Close() })
			routerEcho(t, abort, r)
			tp := newTap(t, listen(t, r, bindEndpoint(t, kind)))
			c := foreignClient(t, ctx, "libzmq", "DEALER", tp.endpoint(), "",
				"--heartbeat-ivl", ms(hbInterval), "--heartbeat-timeout", ms(10*hbTimeout), "--heartbeat-ttl", "500")
			if err := dealerExchanges(ctx, c, 0, 1, 1); err != nil {
				failed(t, ctx, err)
			}
			tp.wait(t, ctx, "a PING announcing the TTL", func(s tapState) bool { return len(s.commands(true, "PING")) > 0 })
			c.(pySocket).freeze(t)
			s := tp.wait(t, ctx, "the silent peer to be dropped", func(s tapState) bool { return s.ended > 0 })
			if s.closers[0] != "listener" {
				t.Fatalf("connection ended by the %s, want our ROUTER to drop the silent peer: %s", s.closers[0], s.summary())
			}
			poll(t, ctx, "our ROUTER to forget the peer", func() bool { return r.Peers() == 0 })
		})

		// A passive libzmq socket hangs (SIGSTOP): our heartbeat must find
		// it dead within HeartbeatTimeout.
		t.Run("ours/DEALER+heartbeat->libzmq/ROUTER(frozen)/"+kind, func(t *testing.T) {
			t.Parallel()
			ctx, abort := cellCtx(t)
			addr, srv := foreignEchoServer(t, ctx, abort, "libzmq", "ROUTER", kind)
			tp := newTap(t, addr)
			opts := fast
			opts.Heartbeat, opts.HeartbeatTimeout = hbInterval, 500*time.Millisecond
			d := transport.NewDealer(opts)
			t.Cleanup(func() { d.Close() })
			if err := d.Dial(tp.endpoint()); err != nil {
				t.Fatal(err)
			}
			if err := srv.arm(1); err != nil {
				t.Fatal(err)
			}
			if err := dealerExchanges(ctx, ourSocket{d}, 0, 1, 1); err != nil {
				failed(t, ctx, err)
			}
			if _, err := srv.answered(ctx); err != nil {
				failed(t, ctx, err)
			}
			tp.wait(t, ctx, "a PONG", func(s tapState) bool { return len(s.commands(false, "PONG")) > 0 })
			srv.(pyEcho).p.freeze(t)
			s := tp.wait(t, ctx, "the silent peer to be dropped", func(s tapState) bool { return s.ended > 0 })
			if s.closers[0] != "dialer" {
				t.Fatalf("connection ended by the %s, want our DEALER to drop the silent peer: %s", s.closers[0], s.summary())
			}
		})

		// Both ends ping, as a Salt minion's subscriber and its master's
		// publisher may: each must answer the other.
		t.Run("libzmq/SUB+heartbeat->ours/PUB+heartbeat/"+kind, func(t *testing.T) {
			t.Parallel()
			ctx, _ := cellCtx(t)
			opts := fast
			opts.Heartbeat, opts.HeartbeatTimeout = hbInterval, hbTimeout
			pub := transport.NewPub(opts)
			t.Cleanup(func() { pub.Close() })
			tp := newTap(t, listen(t, pub, bindEndpoint(t, kind)))
			c := foreignClient(t, ctx, "libzmq", "SUB", tp.endpoint(), "", "--subscribe", hex.EncodeToString([]byte("a")),
				"--heartbeat-ivl", ms(hbInterval), "--heartbeat-timeout", ms(hbTimeout), "--heartbeat-ttl", ms(2*hbTimeout))
			heartbeats(t, ctx, tp, true, uint16(2*hbTimeout/(100*time.Millisecond)))
			heartbeats(t, ctx, tp, false, uint16(hbTimeout/(100*time.Millisecond)))
			if err := pub.WaitSubscribers(ctx, 1); err != nil {
				failed(t, ctx, err)
			}
			stream := pubStream(5)
			for _, m := range stream {
				if err := pub.Send(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			for i, want := range wanted(stream, "a") {
				got, err := c.recv(ctx)
				if err != nil {
					failed(t, ctx, fmt.Errorf("publication %d: %w", i, err))
				}
				if !sameMsg(got, want) {
					t.Fatalf("publication %d: got %s, want %s", i, show(got), show(want))
				}
			}
			tp.state().oneConnection(t)
		})

		// zmq4 greets as ZMTP 3.0, which has no PING: our heartbeat must
		// stay off, neither pinging it nor holding its silence against it.
		t.Run("ours/DEALER+heartbeat->zmq4/ROUTER/"+kind, func(t *testing.T) {
			t.Parallel()
			ctx, abort := cellCtx(t)
			addr, srv := foreignEchoServer(t, ctx, abort, "zmq4", "ROUTER", kind)
			tp := newTap(t, addr)
			opts := fast
			opts.Heartbeat = 10 * time.Millisecond // HeartbeatTimeout: 30ms
			d := transport.NewDealer(opts)
			t.Cleanup(func() { d.Close() })
			if err := d.Dial(tp.endpoint()); err != nil {
				t.Fatal(err)
			}
			if err := dealerExchanges(ctx, ourSocket{d}, 0, 3, 2); err != nil {
				failed(t, ctx, err)
			}
			// What is checked is an absence (no PING, no drop), which no
			// event marks: wait 20 heartbeat periods, over 6 heartbeat
			// timeouts, in which a 3.1 peer would have been pinged 20
			// times and a silent one dropped and redialled.
			timer := time.NewTimer(20 * opts.Heartbeat)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				failed(t, ctx, ctx.Err())
			}
			if err := dealerExchanges(ctx, ourSocket{d}, 3, 3, 2); err != nil {
				failed(t, ctx, err)
			}
			s := tp.state()
			if s.minor(true) != 1 || s.minor(false) != 0 {
				t.Fatalf("greetings: ours ZMTP 3.%d, zmq4 3.%d; want 3.1 and 3.0", s.minor(true), s.minor(false))
			}
			for _, f := range s.frames {
				if f.command != "" && f.command != "READY" {
					t.Fatalf("a %s command went over a ZMTP 3.0 connection (sent by the dialer: %v)", f.command, f.toServer)
				}
			}
			s.oneConnection(t)
			if n := d.Peers(); n != 1 {
				t.Fatalf("our DEALER has %d peers, want 1", n)
			}
			if ids, _ := srv.answered(ctx); len(ids) != 1 {
				t.Fatalf("zmq4 ROUTER saw routing ids %q, want one", ids)
			}
		})
	}
}

// ms formats d in milliseconds, as zmqpeer.py takes it.
func ms(d time.Duration) string { return fmt.Sprint(d.Milliseconds()) }

// --- Unsubscribing ------------------------------------------------------------------

// onWire reports whether the publisher (the listening side) sent a message
// whose first frame is topic over connection 1.
func (s tapState) onWire(topic string) bool {
	for _, f := range s.frames {
		if f.conn == 1 && !f.toServer && f.command == "" && !f.greeting && f.first && string(f.body) == topic {
			return true
		}
	}
	return false
}

// sentAfterCancel checks, on the wire, that the publisher sent marker but
// not gone, which it was given before marker after the subscription to
// gone was cancelled: the cancel took effect at the publisher itself, not
// only in the subscriber's own filter.
func sentAfterCancel(t testing.TB, ctx context.Context, tp *tap, gone, marker string) {
	t.Helper()
	s := tp.wait(t, ctx, marker+" on the wire", func(s tapState) bool { return s.onWire(marker) })
	if s.onWire(gone) {
		t.Fatalf("the publisher sent %q after the subscription was cancelled", gone)
	}
}

func TestUnsubscribe(t *testing.T) {
	for _, impl := range []string{"zmq4", "libzmq"} {
		for _, kind := range kinds {
			// Our SUB subscribes before connecting and on a live
			// connection, then cancels; the foreign publisher must see
			// each change (libzmq: an XPUB, which hands them to its
			// application) and stop sending what was cancelled.
			pubType := map[string]string{"zmq4": "PUB", "libzmq": "XPUB"}[impl]
			t.Run(fmt.Sprintf("ours/SUB+unsubscribe->%s/%s/%s", impl, pubType, kind), func(t *testing.T) {
				t.Parallel()
				ctx, _ := cellCtx(t)
				var pubEP string
				var publish func([][]byte) error
				var saw func(change []byte, topics ...string)
				if impl == "libzmq" {
					py := startPy(t, ctx, "XPUB", "bind", bindEndpoint(t, kind))
					pubEP = py.ep
					publish = func(m [][]byte) error { return py.do("SEND " + encodeMsg(m)) }
					saw = func(change []byte, _ ...string) {
						t.Helper()
						got, err := pySocket{py}.recv(ctx)
						if err != nil {
							failed(t, ctx, err)
						}
						if !sameMsg(got, [][]byte{change}) {
							t.Fatalf("XPUB got %s, want %q", show(got), change)
						}
					}
				} else {
					zpub := newZmq4(t, zmq4.NewPub)
					if err := zpub.Listen(bindEndpoint(t, kind)); err != nil {
						t.Fatal(err)
					}
					pubEP = dialable(zpub.Addr())
					publish = func(m [][]byte) error { return zpub.Send(zmq4.NewMsgFrom(m...)) }
					saw = func(change []byte, topics ...string) {
						t.Helper()
						// No event tells that zmq4's PUB took a change.
						poll(t, ctx, fmt.Sprintf("zmq4's PUB to have topics %q", topics), func() bool {
							return slices.Equal(zpub.(zmq4.Topics).Topics(), topics)
						})
					}
				}
				tp := newTap(t, pubEP)
				sub := transport.NewSub(fast)
				t.Cleanup(func() { sub.Close() })
				if err := sub.Subscribe([]byte("a")); err != nil {
					t.Fatal(err)
				}
				if err := sub.Dial(tp.endpoint()); err != nil {
					t.Fatal(err)
				}
				saw([]byte("\x01a"), "a")
				if err := sub.Subscribe([]byte("b")); err != nil {
					t.Fatal(err)
				}
				saw([]byte("\x01b"), "a", "b")
				if err := sub.Unsubscribe([]byte("b")); err != nil {
					t.Fatal(err)
				}
				saw([]byte("\x00b"), "a")
				for _, m := range [][][]byte{{[]byte("b.after")}, {[]byte("a.after")}} {
					if err := publish(m); err != nil {
						t.Fatal(err)
					}
				}
				got, err := sub.Recv(ctx)
				if err != nil {
					failed(t, ctx, err)
				}
				if !sameMsg(got, [][]byte{[]byte("a.after")}) {
					t.Fatalf("got %s, want a.after", show(got))
				}
				sentAfterCancel(t, ctx, tp, "b.after", "a.after")
				checkSubscriptionForm(t, ctx, tp, impl == "zmq4", "+a", "+b", "-b")
			})

			// A foreign SUB cancels its only subscription and takes
			// another: our PUB must stop sending the first.
			t.Run(fmt.Sprintf("%s/SUB+unsubscribe->ours/PUB/%s", impl, kind), func(t *testing.T) {
				t.Parallel()
				ctx, _ := cellCtx(t)
				pub := transport.NewPub(fast)
				t.Cleanup(func() { pub.Close() })
				tp := newTap(t, listen(t, pub, bindEndpoint(t, kind)))
				c := foreignClient(t, ctx, impl, "SUB", tp.endpoint(), "", "--subscribe", hex.EncodeToString([]byte("a")))
				change := func(topic string, on bool) {
					t.Helper()
					var err error
					switch c := c.(type) {
					case pySocket:
						cmd := "UNSUB "
						if on {
							cmd = "SUB "
						}
						err = c.do(cmd + hex.EncodeToString([]byte(topic)))
					case zSocket:
						opt := zmq4.OptionUnsubscribe
						if on {
							opt = zmq4.OptionSubscribe
						}
						err = c.s.SetOption(opt, topic)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				deliver := func(m string) {
					t.Helper()
					if err := pub.WaitSubscribers(ctx, 1); err != nil {
						failed(t, ctx, err)
					}
					if err := pub.Send(ctx, [][]byte{[]byte(m)}); err != nil {
						t.Fatal(err)
					}
					got, err := c.recv(ctx)
					if err != nil {
						failed(t, ctx, err)
					}
					if !sameMsg(got, [][]byte{[]byte(m)}) {
						t.Fatalf("got %s, want %s", show(got), m)
					}
				}
				deliver("a.1")
				change("a", false)
				// No event tells that a peer lost its last subscription.
				poll(t, ctx, "our PUB to see the cancel", func() bool { return pub.Subscribers() == 0 })
				if err := pub.Send(ctx, [][]byte{[]byte("a.2")}); err != nil {
					t.Fatal(err)
				}
				change("z", true)
				deliver("z.3")
				sentAfterCancel(t, ctx, tp, "a.2", "z.3")
				checkSubscriptionForm(t, ctx, tp, impl == "zmq4", "+a", "-a", "+z")
			})
		}
	}
}

// --- Mixed peers ---------------------------------------------------------------------

// A master serves minions of every kind at once: ZMTP 3.0 and 3.1 peers on
// one socket, each with its own subscriptions and its own replies.
func TestMixedPeers(t *testing.T) {
	for _, kind := range kinds {
		t.Run("zmq4/SUB+libzmq/SUB(all)+libzmq/XSUB->ours/PUB/"+kind, func(t *testing.T) {
			t.Parallel()
			ctx, _ := cellCtx(t)
			pub := transport.NewPub(fast)
			t.Cleanup(func() { pub.Close() })
			addr := listen(t, pub, bindEndpoint(t, kind))
			subs := map[string]peerSocket{
				"a": foreignClient(t, ctx, "zmq4", "SUB", addr, ""), // subscribes to "a"
				"":  foreignClient(t, ctx, "libzmq", "SUB", addr, "", "--subscribe", ""),
				"b": foreignClient(t, ctx, "libzmq", "XSUB", addr, "", "--subscribe", hex.EncodeToString([]byte("b"))),
			}
			if err := pub.WaitSubscribers(ctx, len(subs)); err != nil {
				failed(t, ctx, err)
			}
			stream := pubStream(20)
			for _, m := range stream {
				if err := pub.Send(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			for topic, c := range subs {
				for i, want := range wanted(stream, topic) {
					got, err := c.recv(ctx)
					if err != nil {
						failed(t, ctx, fmt.Errorf("subscriber to %q, publication %d: %w", topic, i, err))
					}
					if !sameMsg(got, want) {
						t.Fatalf("subscriber to %q, publication %d: got %s, want %s", topic, i, show(got), show(want))
					}
				}
			}
		})

		t.Run("zmq4+libzmq/REQ+DEALER->ours/ReqServer/"+kind, func(t *testing.T) {
			t.Parallel()
			ctx, abort := cellCtx(t)
			addr, _ := ourEchoServer(t, abort, "ReqServer", bindEndpoint(t, kind))
			g, gctx := errgroup.WithContext(ctx)
			for _, impl := range []string{"zmq4", "libzmq"} {
				req := foreignClient(t, ctx, impl, "REQ", addr, "")
				dealer := foreignClient(t, ctx, impl, "DEALER", addr, impl+"-dealer")
				g.Go(func() error { return reqExchanges(gctx, req, 0, 20, 1) })
				g.Go(func() error { return dealerExchanges(gctx, dealer, 0, 20, 1) })
			}
			if err := g.Wait(); err != nil {
				failed(t, ctx, err)
			}
		})
	}
}

// --- Bugs ----------------------------------------------------------------------------

// TestPingTTLWithinLibzmqRange shows an interop bug: our PING announces
// HeartbeatTimeout as its TTL in deciseconds, up to the field's 6553.5 s,
// but libzmq 4.3 (zmtp_engine.cpp, process_heartbeat_message) multiplies
// the TTL by 100 in a uint16_t, so a TTL of 65.6 s or more wraps to a short
// timer (TTL×100 mod 65536 ms) after which libzmq drops us, unless we speak
// again first. With the default HeartbeatTimeout of 3 × Heartbeat, any
// Heartbeat of 21.9 s or more is hit: Heartbeat 30 s announces 900, which
// libzmq reads as 24.464 s, and so it drops us 24.5 s after each PING,
// 5.5 s before the next. Here a 65.6 s timeout wraps to 64 ms, under
// the 100 ms heartbeat, so that the test takes well under a second; the
// same cell with 65.5 s (TTL 655, read as 65500 ms) is the control, and
// passes. The fix belongs in our PING: announce at most 655 (65.5 s).
func TestPingTTLWithinLibzmqRange(t *testing.T) {
	for _, timeout := range []time.Duration{65500 * time.Millisecond, 65600 * time.Millisecond} {
		for _, kind := range kinds {
			t.Run(fmt.Sprintf("ours/DEALER+heartbeat(timeout %v)->libzmq/ROUTER/%s", timeout, kind), func(t *testing.T) {
				t.Parallel()
				ctx, abort := cellCtx(t)
				addr, srv := foreignEchoServer(t, ctx, abort, "libzmq", "ROUTER", kind)
				tp := newTap(t, addr)
				opts := fast
				opts.Heartbeat, opts.HeartbeatTimeout = 100*time.Millisecond, timeout
				d := transport.NewDealer(opts)
				t.Cleanup(func() { d.Close() })
				if err := d.Dial(tp.endpoint()); err != nil {
					t.Fatal(err)
				}
				if err := srv.arm(1); err != nil {
					t.Fatal(err)
				}
				if err := dealerExchanges(ctx, ourSocket{d}, 0, 1, 1); err != nil {
					failed(t, ctx, err)
				}
				s := tp.wait(t, ctx, "3 PINGs answered, or the connection dropped", func(s tapState) bool {
					return s.ended > 0 || len(s.commands(false, "PONG")) >= 3
				})
				if s.ended > 0 {
					pings := s.commands(true, "PING")
					ttl := binary.BigEndian.Uint16(pings[0].body)
					t.Fatalf("libzmq (the %s) dropped our connection after %d PING(s) announcing TTL %d (%.1f s, which libzmq reads as %d ms): %s",
						s.closers[0], len(pings), ttl, float64(ttl)/10, ttl*100, s.summary())
				}
				s.oneConnection(t)
			})
		}
	}
}

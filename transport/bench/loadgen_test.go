package bench

// The load generator of BenchmarkRouterPeers: thousands of DEALER peers in a
// separate process, so that the ROUTER under test has the benchmark
// process's descriptors to itself (10,000 client plus 10,000 server
// connections would not fit one 20,000-descriptor process).
//
// The helper is this test binary re-executed with BRINE_BENCH_HELPER=loadgen
// (TestMain dispatches on it). It opens BENCH_CONNS raw ZMTP connections to
// BENCH_ADDR, each a DEALER whose greeting, READY and request frames are
// built with the transport/zmtp codec, one goroutine per connection doing
// blocking write-request/read-reply: about the least a peer can cost. It
// synchronises with the benchmark over its stdin and stdout, one line per
// step, and never sleeps:
//
//	helper → "ready N"              all N handshakes done
//	bench  → "each"                 every connection does one round trip
//	helper → "done N"
//	bench  → "run K CAPNS"          K round trips over all connections, one
//	                                in flight per connection; no new request
//	                                starts after CAPNS ns (0: no cap)
//	helper → "done COMPLETED"
//	bench closes stdin              helper closes its connections and exits
//
// Any failure is reported as "error MESSAGE" and ends the helper.
//
// The request is [empty][body]; a ROUTER echoing [id][empty][body] sends
// back the very same bytes, which the helper checks.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brine-project/brine/transport/zmtp"
)

const (
	envAddr  = "BENCH_ADDR"
	envConns = "BENCH_CONNS"
	envSize  = "BENCH_SIZE"
)

// request returns the wire bytes of a DEALER request [empty][body of size
// bytes], which is also the exact reply an echoing ROUTER sends back.
func request(size int) []byte {
	body := payload(size)
	b := zmtp.AppendHeader(nil, zmtp.FlagMore, 0)
	b = zmtp.AppendHeader(b, 0, len(body))
	return append(b, body...)
}

type lgConn struct {
	conn   net.Conn
	br     *zmtp.Reader
	buf    []byte
	rounds chan *round
}

// roundTrip sends one request and reads its reply.
func (c *lgConn) roundTrip(req []byte) error {
	if _, err := c.conn.Write(req); err != nil {
		return err
	}
	if err := c.br.ReadFull(c.buf); err != nil {
		return err
	}
	if !bytes.Equal(c.buf, req) {
		return fmt.Errorf("unexpected reply % x", c.buf[:min(len(c.buf), 16)])
	}
	return nil
}

// A round is one "each" or "run" command.
type round struct {
	each      bool
	tickets   atomic.Int64
	deadline  time.Time // zero: no cap
	pending   atomic.Int64
	completed atomic.Int64
	finished  chan struct{}
}

func (r *round) work(c *lgConn, req []byte, fail func(error)) {
	defer func() {
		if r.pending.Add(-1) == 0 {
			close(r.finished)
		}
	}()
	if r.each {
		if err := c.roundTrip(req); err != nil {
			fail(err)
			return
		}
		r.completed.Add(1)
		return
	}
	capped := !r.deadline.IsZero()
	for r.tickets.Add(-1) >= 0 {
		if capped && time.Now().After(r.deadline) {
			return
		}
		if err := c.roundTrip(req); err != nil {
			fail(err)
			return
		}
		r.completed.Add(1)
	}
}

func loadgenMain() int {
	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	var failMu sync.Mutex
	fail := func(err error) {
		failMu.Lock() // the first failure is the one reported
		say("error %v", err)
		os.Exit(1)
	}

	addr := os.Getenv(envAddr)
	n, err1 := strconv.Atoi(os.Getenv(envConns))
	size, err2 := strconv.Atoi(os.Getenv(envSize))
	if err := errors.Join(err1, err2); err != nil || addr == "" || n <= 0 {
		fail(fmt.Errorf("bad environment: %s=%q %s=%q %s=%q", envAddr, addr, envConns, os.Getenv(envConns), envSize, os.Getenv(envSize)))
	}
	req := request(size)

	conns := make([]*lgConn, n)
	err := parallel(n, 64, func(i int) error {
		conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
		if err != nil {
			return err
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		_, br, err := zmtp.Handshake(conn, zmtp.Local{Type: zmtp.DEALER})
		if err != nil {
			conn.Close()
			return fmt.Errorf("handshake: %w", err)
		}
		conn.SetDeadline(time.Time{})
		conns[i] = &lgConn{conn: conn, br: br, buf: make([]byte, len(req)), rounds: make(chan *round, 1)}
		return nil
	})
	if err != nil {
		fail(err)
	}
	for _, c := range conns {
		go func() {
			for r := range c.rounds {
				r.work(c, req, fail)
			}
		}()
	}
	say("ready %d", n)

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		r := &round{finished: make(chan struct{})}
		switch {
		case len(f) == 1 && f[0] == "each":
			r.each = true
		case len(f) == 3 && f[0] == "run":
			k, err1 := strconv.ParseInt(f[1], 10, 64)
			capNS, err2 := strconv.ParseInt(f[2], 10, 64)
			if err := errors.Join(err1, err2); err != nil {
				fail(fmt.Errorf("bad command %q", sc.Text()))
			}
			r.tickets.Store(k)
			if capNS > 0 {
				r.deadline = time.Now().Add(time.Duration(capNS))
			}
		default:
			fail(fmt.Errorf("bad command %q", sc.Text()))
		}
		r.pending.Store(int64(n))
		for _, c := range conns {
			c.rounds <- r
		}
		<-r.finished
		say("done %d", r.completed.Load())
	}
	for _, c := range conns {
		close(c.rounds)
		c.conn.Close()
	}
	return 0
}

// loadgen is the benchmark's handle on a helper process.
type loadgen struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	n   int
}

// startLoadgen starts a helper with n peers connected to addr (host:port)
// sending size-byte requests, and waits until all of them are connected.
func startLoadgen(addr string, n, size int) (*loadgen, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(),
		helperEnv+"=loadgen",
		envAddr+"="+addr,
		envConns+"="+strconv.Itoa(n),
		envSize+"="+strconv.Itoa(size))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	l := &loadgen{cmd: cmd, in: in, out: bufio.NewReader(outPipe), n: n}
	if _, err := l.expect("ready"); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// expect reads the helper's next line, which must start with word, and
// returns its numeric argument.
func (l *loadgen) expect(word string) (int64, error) {
	line, err := l.out.ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("loadgen: %w (helper died?)", err)
	}
	f := strings.Fields(line)
	if len(f) == 2 && f[0] == word {
		return strconv.ParseInt(f[1], 10, 64)
	}
	return 0, fmt.Errorf("loadgen: %s", strings.TrimSpace(line))
}

// each makes every peer do one round trip.
func (l *loadgen) each() error {
	if _, err := io.WriteString(l.in, "each\n"); err != nil {
		return err
	}
	got, err := l.expect("done")
	if err == nil && got != int64(l.n) {
		err = fmt.Errorf("loadgen: %d of %d peers answered", got, l.n)
	}
	return err
}

// run makes the peers do k round trips in all, starting none after limit
// (0: no limit), and returns how many completed and how long it took.
func (l *loadgen) run(k int64, limit time.Duration) (int64, time.Duration, error) {
	start := time.Now()
	if _, err := fmt.Fprintf(l.in, "run %d %d\n", k, limit.Nanoseconds()); err != nil {
		return 0, 0, err
	}
	got, err := l.expect("done")
	return got, time.Since(start), err
}

// close ends the helper and waits for it.
func (l *loadgen) close() error {
	l.in.Close()
	return l.cmd.Wait()
}

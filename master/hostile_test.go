package master

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
	"github.com/brine-project/brine/transport/zmtp"
)

// runMaster serves m until the test ends and returns its ret port's
// endpoint.
func runMaster(t *testing.T, m *Master) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- m.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return "tcp://" + m.RetAddr().String()
}

// newClient is a request channel to addr, one try per request.
func newClient(t *testing.T, addr string) *transport.ReqClient {
	t.Helper()
	c, err := transport.NewReqClient(transport.ReqClientConfig{Addr: addr, Timeout: 20 * time.Second, Tries: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The refusals of the clear and AES channels hold on the ret port itself,
// for requests that crossed a real socket: nothing is run, nothing is
// stored, and the master goes on answering.
func TestRetPortRefusesOverTheWire(t *testing.T) {
	m, rec := newTestMaster(t, nil)
	a := newMinionSide(t, "web-1", "minion-a")
	m.keys.Put(pki.Accepted, a.id, a.pub())
	c := newClient(t, runMaster(t, m))
	ctx := context.Background()
	ask := func(t *testing.T, raw []byte) string {
		t.Helper()
		reply, err := c.Request(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		return describeReply(t, m, reply)
	}
	clear := func(load wire.Map) []byte {
		return request(t, &wire.Request{Enc: "clear", Load: load, Version: 3})
	}
	badHMAC := func() []byte {
		raw, _ := aesRequest(t, m, a, a.id, wire.Map{{Key: "id", Value: a.id}, {Key: "cmd", Value: "_minion_event"}, {Key: "tag", Value: "forged"}, {Key: "data", Value: "x"}})
		env, _ := wire.DecodeRequest(raw)
		blob := env.Load.([]byte)
		blob[len(blob)/2] ^= 1
		return request(t, env)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"clear command not exposed", clear(wire.Map{{Key: "cmd", Value: "_prep_auth_info"}}), "map[]"},
		{"dunder clear command", clear(wire.Map{{Key: "cmd", Value: "__init__"}}), "map[]"},
		{"publish with a wrong key", clear(wire.Map{{Key: "cmd", Value: "publish"}, {Key: "tgt", Value: "*"}, {Key: "fun", Value: "cmd.run"},
			{Key: "arg", Value: []any{"id"}}, {Key: "key", Value: "not the key"}}), "AuthenticationError"},
		{"runner without a key", clear(wire.Map{{Key: "cmd", Value: "runner"}, {Key: "fun", Value: "manage.up"}}), "AuthenticationError"},
		{"AES request with a bad HMAC", badHMAC(), "bad load"},
		{"garbage", []byte("\xc1\xc1\xc1 not msgpack"), "bad load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fired := rec.count()
			if got := ask(t, tc.raw); !strings.Contains(got, tc.want) {
				t.Fatalf("answered %s, want %s", got, tc.want)
			}
			if rec.count() != fired {
				t.Fatal("a refused request fired an event")
			}
		})
	}
	if jobs, _ := m.jobs.Jobs(ctx, time.Time{}); len(jobs) != 0 {
		t.Fatalf("refused requests made jobs: %v", jobs)
	}
	if got := ask(t, clear(wire.Map{{Key: "cmd", Value: "ping"}})); got != "map[cmd:ping]" {
		t.Fatalf("ping after the refusals answered %s", got)
	}
}

// max_message_size from the master's configuration bounds what the ret
// port reads: a message announced past it closes that connection at its
// header, before the master buffers it, and the master goes on serving
// others. Under the default limit the same message is read and answered.
func TestMaxMessageSize(t *testing.T) {
	const limit = 64 << 10
	small, _ := newTestMaster(t, func(c *config.Master) { c.MaxMessageSize = limit })
	addr := runMaster(t, small)
	ping := func(size int) []byte {
		return request(t, &wire.Request{Enc: "clear", Version: 3,
			Load: wire.Map{{Key: "cmd", Value: "ping"}, {Key: "pad", Value: strings.Repeat("x", size)}}})
	}

	t.Run("over the limit", func(t *testing.T) {
		conn := dealerConn(t, addr)
		runtime.GC()
		before := totalAlloc()
		// Announce 32 MiB and stream up to 4 MiB of it: with no bound the
		// master would buffer all it receives.
		header := zmtp.AppendHeader(zmtp.AppendHeader(nil, zmtp.FlagMore, 0), 0, 32<<20)
		if _, err := conn.Write(header); err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 32<<10)
		for sent := 0; sent < 4<<20; sent += len(chunk) {
			if _, err := conn.Write(chunk); err != nil {
				break // the master closed the connection
			}
		}
		if err := conn.readUntilClosed(); err != nil {
			t.Fatalf("the master did not close the connection: %v", err)
		}
		if allocated := totalAlloc() - before; allocated > 2<<20 {
			t.Fatalf("the master allocated %d bytes for a message it refused", allocated)
		}
		if _, err := newClient(t, addr).Request(context.Background(), ping(limit/2)); err != nil {
			t.Fatalf("a message under the limit, afterwards: %v", err)
		}
	})
	t.Run("just over the limit", func(t *testing.T) {
		// What the ReqClient sends: a whole message, not a hostile header.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if reply, err := newClient(t, addr).Request(ctx, ping(limit)); err == nil {
			t.Fatalf("a message past max_message_size was answered (%d bytes)", len(reply))
		}
	})
	t.Run("the same message under the default limit", func(t *testing.T) {
		def, _ := newTestMaster(t, nil)
		if _, err := newClient(t, runMaster(t, def)).Request(context.Background(), ping(limit)); err != nil {
			t.Fatalf("a %d-byte message under the default max_message_size: %v", limit, err)
		}
	})
}

// rawDealer is a connection to a ROUTER after a ZMTP handshake as a
// DEALER, for writing what no transport socket would send.
type rawDealer struct {
	net.Conn
	rd *zmtp.Reader
}

func dealerConn(t *testing.T, addr string) *rawDealer {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	_, rd, err := zmtp.Handshake(conn, zmtp.Local{Type: zmtp.DEALER})
	if err != nil {
		t.Fatal(err)
	}
	rd.Limit = 1 << 20
	return &rawDealer{Conn: conn, rd: rd}
}

// readUntilClosed reads (commands, heartbeats) until the peer closes the
// connection; any other end, a timeout included, is an error.
func (d *rawDealer) readUntilClosed() error {
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := d.rd.Next(0)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return err
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		return nil
	}
}

// totalAlloc is the bytes this process has allocated so far.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

package transport

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/transport/zmtp"
)

// rawPeer connects to addr and completes a handshake as typ by hand.
func rawPeer(t *testing.T, addr string, typ zmtp.SocketType) (net.Conn, *zmtp.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	_, rd, err := zmtp.Handshake(c, zmtp.Local{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	rd.Limit = 1 << 20
	return c, rd
}

// nextCommand reads until a command arrives.
func nextCommand(t *testing.T, r *zmtp.Reader) zmtp.Command {
	t.Helper()
	for {
		_, body, err := r.Next(0)
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			c, err := zmtp.ParseCommand(body)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
}

// A PING is answered with a PONG echoing its context.
func TestPingAnswered(t *testing.T) {
	r := NewRouter(testOptions)
	defer r.Close()
	addr := listen(t, r, "tcp://127.0.0.1:0")
	c, rd := rawPeer(t, addr, zmtp.DEALER)
	c.Write(zmtp.AppendCommand(nil, zmtp.CmdPing, append(zmtp.PingData(0), "ctx-42"...)))
	if got := nextCommand(t, rd); got.Name != zmtp.CmdPong || string(got.Data) != "ctx-42" {
		t.Fatalf("got %s %q, want PONG \"ctx-42\"", got.Name, got.Data)
	}
}

// With heartbeats on, a peer that goes silent (answers no PING) is
// dropped after HeartbeatTimeout, while a live one stays connected.
func TestHeartbeatDropsSilentPeer(t *testing.T) {
	opts := testOptions
	opts.Heartbeat = 50 * time.Millisecond
	opts.HeartbeatTimeout = 500 * time.Millisecond
	r := NewRouter(opts)
	defer r.Close()
	addr := listen(t, r, "tcp://127.0.0.1:0")

	live := NewDealer(testOptions) // answers PINGs, sends no heartbeats itself
	defer live.Close()
	live.Dial(addr)
	ctx := ctxT(t)
	live.Send(ctx, msg("hello"))
	first, err := r.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}

	c, rd := rawPeer(t, addr, zmtp.DEALER)
	waitFor(t, "silent peer", func() bool { return r.Peers() == 2 })
	if got := nextCommand(t, rd); got.Name != zmtp.CmdPing || zmtp.PingTTL(got.Data) != 5 {
		t.Fatalf("got %s TTL %d, want PING with TTL 5 (500ms)", got.Name, zmtp.PingTTL(got.Data))
	}
	// Say nothing more: the router must hang up on us.
	for {
		if _, _, err := rd.Next(0); err != nil {
			break
		}
	}
	c.Close()
	waitFor(t, "silent peer dropped", func() bool { return r.Peers() == 1 })
	// The live dealer, pinged all along, is still on its first connection
	// (a reconnect would have a new routing id).
	live.Send(ctx, msg("still here"))
	if m, err := r.Recv(ctx); err != nil || string(m[1]) != "still here" || string(m[0]) != string(first[0]) {
		t.Fatalf("live peer: %q, %v (first id %q)", m, err, first[0])
	}
}

package zmtp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func TestGreetingRoundTrip(t *testing.T) {
	for _, g := range []Greeting{
		{Major: 3, Minor: 1, Mechanism: "NULL"},
		{Major: 3, Minor: 0, Mechanism: "CURVE", AsServer: true},
		{Major: 4, Minor: 7, Mechanism: "PLAIN"},
	} {
		b := g.Append(nil)
		if len(b) != GreetingSize {
			t.Fatalf("%+v: %d bytes", g, len(b))
		}
		got, err := ParseGreeting(b)
		if err != nil || got != g {
			t.Fatalf("%+v: round trip gave %+v, %v", g, got, err)
		}
	}
}

func TestParseGreetingErrors(t *testing.T) {
	good := Greeting{Major: 3, Minor: 1, Mechanism: "NULL"}.Append(nil)
	mut := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"short", good[:63]},
		{"no 0xff", mut(func(b []byte) { b[0] = 0 })},
		{"no 0x7f", mut(func(b []byte) { b[9] = 0x7e })},
		{"ZMTP 2.0", mut(func(b []byte) { b[10] = 1 })},
		{"mechanism not NUL-padded", mut(func(b []byte) { b[20] = 'X' })},
		{"as-server 2", mut(func(b []byte) { b[32] = 2 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseGreeting(tc.in); !errors.Is(err, ErrGreeting) {
				t.Fatalf("err = %v, want ErrGreeting", err)
			}
		})
	}
}

// frames encodes a message as the reader expects it on the wire.
func encode(cmd bool, frames ...[]byte) []byte {
	var b []byte
	for i, f := range frames {
		var flags byte
		if cmd {
			flags = FlagCommand
		} else if i < len(frames)-1 {
			flags = FlagMore
		}
		b = AppendHeader(b, flags, len(f))
		b = append(b, f...)
	}
	return b
}

func reader(b []byte, limit int64) *Reader {
	return NewReader((bytes.NewReader(b)), limit)
}

func TestReaderMessages(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300)
	huge := bytes.Repeat([]byte("y"), 3*directAlloc+17) // grows its buffer
	var wire []byte
	wire = append(wire, encode(false, []byte("one"))...)
	wire = append(wire, encode(true, []byte("\x04PING\x00\x0a"))...)
	wire = append(wire, encode(false, nil, long, []byte("z"))...)
	wire = append(wire, encode(false, huge)...)
	r := reader(wire, 1<<20)

	f, c, err := r.Next(0)
	if err != nil || c != nil || len(f) != 1 || string(f[0]) != "one" {
		t.Fatalf("message 1: %q %q %v", f, c, err)
	}
	f, c, err = r.Next(0)
	if err != nil || f != nil || string(c) != "\x04PING\x00\x0a" {
		t.Fatalf("command: %q %q %v", f, c, err)
	}
	f, _, err = r.Next(1)
	if err != nil || len(f) != 4 || f[0] != nil || len(f[1]) != 0 || !bytes.Equal(f[2], long) || string(f[3]) != "z" {
		t.Fatalf("multipart with reserve: %d frames, %v", len(f), err)
	}
	f, _, err = r.Next(0)
	if err != nil || len(f) != 1 || !bytes.Equal(f[0], huge) {
		t.Fatalf("large frame: %v", err)
	}
	if _, _, err = r.Next(0); err != io.EOF {
		t.Fatalf("at end: %v, want io.EOF", err)
	}
}

func TestReaderErrors(t *testing.T) {
	long62 := []byte{FlagLong, 0x40, 0, 0, 0, 0, 0, 0, 0}
	for _, tc := range []struct {
		name  string
		in    []byte
		limit int64
		want  error
	}{
		{"reserved flag", []byte{0x08, 0}, 100, ErrFrame},
		{"command with more", []byte{FlagCommand | FlagMore, 0}, 100, ErrFrame},
		{"command inside message", append(encode(false, []byte("a"), nil)[:3], encode(true, []byte("\x04PING"))...), 100, ErrFrame},
		{"2^62 frame", long62, 1 << 20, ErrTooLarge},
		{"over limit", encode(false, make([]byte, 100)), 100, ErrTooLarge},
		{"many empty frames", bytes.Repeat([]byte{FlagMore, 0}, 10), 5 * FrameOverhead, ErrTooLarge},
		{"eof in header", []byte{FlagLong, 0, 0}, 100, io.ErrUnexpectedEOF},
		{"eof in body", []byte{0, 10, 'a'}, 100, io.ErrUnexpectedEOF},
		{"eof in large body", append([]byte{FlagLong, 0, 0, 0, 0, 0, 2, 0, 0}, make([]byte, directAlloc+5)...), 1 << 20, io.ErrUnexpectedEOF},
		{"eof between frames", encode(false, []byte("a"), nil)[:3], 100, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := reader(tc.in, tc.limit).Next(0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// A frame announced at the limit but never sent costs what was sent, not
// what was announced.
func TestReaderAllocatesWhatArrives(t *testing.T) {
	const announced = 60 << 20
	in := AppendHeader(nil, 0, announced)
	in = append(in, make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := reader(in, 64<<20).Next(0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4*directAlloc {
		t.Fatalf("a %d-byte announcement with 1000 bytes sent allocated %d bytes", announced, n)
	}
}

func TestCommandAndMetadata(t *testing.T) {
	md := Metadata{{PropSocketType, []byte("ROUTER")}, {PropIdentity, nil}, {"X-Custom", []byte("v")}}
	frame := AppendCommand(nil, CmdReady, md.Append(nil))
	_, body, err := reader(frame, HandshakeLimit).Next(0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCommand(body)
	if err != nil || c.Name != CmdReady {
		t.Fatalf("%+v %v", c, err)
	}
	got, err := ParseMetadata(c.Data)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := got.Get("socket-type"); !ok || string(v) != "ROUTER" {
		t.Fatalf("case-insensitive Get: %q %v", v, ok)
	}
	if v, ok := got.Get("Identity"); !ok || len(v) != 0 {
		t.Fatalf("empty Identity: %q %v", v, ok)
	}
	if !bytes.Equal(got.Append(nil), c.Data) {
		t.Fatal("metadata does not round-trip")
	}

	for name, bad := range map[string][]byte{
		"empty name":          {0, 0, 0, 0, 0},
		"name past end":       {11, 'S', 'o'},
		"value past end":      append([]byte{1, 'a'}, 0, 0, 0, 9, 'x'),
		"value length 2^32-1": append([]byte{1, 'a'}, 0xff, 0xff, 0xff, 0xff),
	} {
		if _, err := ParseMetadata(bad); !errors.Is(err, ErrCommand) {
			t.Errorf("%s: err = %v, want ErrCommand", name, err)
		}
	}
	for _, bad := range [][]byte{nil, {0}, {5, 'P', 'I'}} {
		if _, err := ParseCommand(bad); !errors.Is(err, ErrCommand) {
			t.Errorf("ParseCommand(%q): err = %v, want ErrCommand", bad, err)
		}
	}
}

func TestPing(t *testing.T) {
	data := append(PingData(2500e6), "0123456789abcdefXYZ"...)
	if ttl := PingTTL(data); ttl != 25 {
		t.Fatalf("TTL %d, want 25 deciseconds", ttl)
	}
	if ctx := PingContext(data); string(ctx) != "0123456789abcdef" {
		t.Fatalf("context %q, want it capped at 16 bytes", ctx)
	}
	if ttl := PingTTL(PingData(math.MaxInt64)); ttl != MaxPingTTL {
		t.Fatalf("huge TTL %d, want %d (what libzmq can take)", ttl, MaxPingTTL)
	}
}

func TestSocketTypes(t *testing.T) {
	pairs := map[SocketType][]SocketType{
		REQ: {REP, ROUTER}, REP: {REQ, DEALER}, DEALER: {REP, DEALER, ROUTER},
		ROUTER: {REQ, DEALER, ROUTER}, PUB: {SUB, XSUB}, SUB: {PUB, XPUB},
		PUSH: {PULL}, PULL: {PUSH}, PAIR: {PAIR},
	}
	all := []SocketType{REQ, REP, DEALER, ROUTER, PUB, SUB, XPUB, XSUB, PUSH, PULL, PAIR, "BOGUS", ""}
	for a, ok := range pairs {
		for _, b := range all {
			want := false
			for _, c := range ok {
				want = want || c == b
			}
			if got := a.Compatible(b); got != want {
				t.Errorf("%s with %s: %v, want %v", a, b, got, want)
			}
		}
	}
	if SocketType("BOGUS").Known() || SocketType("BOGUS").Compatible(REQ) {
		t.Error("unknown type must be compatible with nothing")
	}
}

// pipeConn joins a scripted peer to Handshake.
type pipeConn struct {
	io.Reader
	out bytes.Buffer
}

func (p *pipeConn) Write(b []byte) (int, error) { return p.out.Write(b) }

func peerBytes(g Greeting, ready []byte) []byte {
	return append(g.Append(nil), ready...)
}

func readyOf(props ...string) []byte {
	var md Metadata
	for i := 0; i+1 < len(props); i += 2 {
		md = append(md, Property{props[i], []byte(props[i+1])})
	}
	return AppendCommand(nil, CmdReady, md.Append(nil))
}

func TestHandshake(t *testing.T) {
	g31 := Greeting{Major: 3, Minor: 1, Mechanism: MechanismNull}
	g30 := Greeting{Major: 3, Minor: 0, Mechanism: MechanismNull}
	for _, tc := range []struct {
		name    string
		local   SocketType
		in      []byte
		wantErr error
		want    Peer
	}{
		{"REQ to ROUTER", ROUTER, peerBytes(g31, readyOf("Socket-Type", "REQ", "Identity", "me")), nil,
			Peer{Minor: 1, Type: REQ, Identity: []byte("me")}},
		{"3.0 SUB", PUB, peerBytes(g30, readyOf("Socket-Type", "SUB")), nil, Peer{Minor: 0, Type: SUB}},
		{"future 4.0 peer", PULL, peerBytes(Greeting{Major: 4, Mechanism: "NULL"}, readyOf("Socket-Type", "PUSH")), nil, Peer{Minor: 1, Type: PUSH}},
		{"identity ignored from SUB", PUB, peerBytes(g31, readyOf("Socket-Type", "SUB", "Identity", "x")), nil, Peer{Minor: 1, Type: SUB}},
		{"unknown type", ROUTER, peerBytes(g31, readyOf("Socket-Type", "BOGUS")), ErrHandshake, Peer{}},
		{"no type", ROUTER, peerBytes(g31, readyOf("Identity", "")), ErrHandshake, Peer{}},
		{"incompatible", PUB, peerBytes(g31, readyOf("Socket-Type", "REQ")), ErrHandshake, Peer{}},
		{"CURVE", PUB, peerBytes(Greeting{Major: 3, Minor: 1, Mechanism: "CURVE"}, nil), ErrHandshake, Peer{}},
		{"ERROR instead of READY", PUB, peerBytes(g31, AppendCommand(nil, CmdError, []byte("\x03bad"))), ErrHandshake, Peer{}},
		{"message instead of READY", PUB, peerBytes(g31, AppendHeader(nil, 0, 0)), ErrHandshake, Peer{}},
		{"truncated metadata", PUB, peerBytes(g31, AppendCommand(nil, CmdReady, []byte{11, 'S'})), ErrCommand, Peer{}},
		{"2^62 READY", PUB, peerBytes(g31, []byte{FlagCommand | FlagLong, 0x40, 0, 0, 0, 0, 0, 0, 0}), ErrTooLarge, Peer{}},
		{"ZMTP 2.0", PUB, []byte{0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1, 1}, ErrGreeting, Peer{}},
		{"partial greeting", PUB, []byte{0xff, 0, 0}, io.ErrUnexpectedEOF, Peer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &pipeConn{Reader: bytes.NewReader(tc.in)}
			got, _, err := Handshake(c, Local{Type: tc.local})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Minor != tc.want.Minor || got.Type != tc.want.Type || !bytes.Equal(got.Identity, tc.want.Identity) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			// What we sent: a 3.1 NULL greeting and a READY naming us.
			out := c.out.Bytes()
			if g, err := ParseGreeting(out[:GreetingSize]); err != nil || g != (Greeting{Major: 3, Minor: 1, Mechanism: "NULL"}) {
				t.Fatalf("our greeting: %+v %v", g, err)
			}
			if !strings.Contains(string(out[GreetingSize:]), "Socket-Type\x00\x00\x00"+string(rune(len(tc.local)))+string(tc.local)) {
				t.Fatalf("our READY %q does not name %s", out[GreetingSize:], tc.local)
			}
		})
	}
}

// Messages parse the same however the stream is cut, and a reader that
// keeps filling its buffer grows it (fewer syscalls while streaming) up to
// maxReadBuf and no further.
func TestReaderChunkingAndGrowth(t *testing.T) {
	var wire []byte
	var want [][]byte
	for i := range 200 {
		f := bytes.Repeat([]byte{byte(i)}, i*97%3000)
		want = append(want, f)
		wire = append(wire, encode(false, []byte("k"), f)...)
	}
	for name, src := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(wire) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(wire)) },
		"halves":   func() io.Reader { return iotest.HalfReader(bytes.NewReader(wire)) },
		"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(wire)) },
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(src(), 1<<20)
			grown := 0
			for i, w := range want {
				f, _, err := r.Next(0)
				if err != nil || len(f) != 2 || !bytes.Equal(f[1], w) {
					t.Fatalf("message %d: %v", i, err)
				}
				grown = max(grown, len(r.buf))
			}
			if _, _, err := r.Next(0); err != io.EOF {
				t.Fatalf("at end: %v", err)
			}
			if name == "whole" && grown != maxReadBuf {
				t.Errorf("streaming reader grew its buffer to %d bytes, want %d", grown, maxReadBuf)
			}
			if name == "one byte" && grown != minReadBuf {
				t.Errorf("trickling reader grew its buffer to %d", grown)
			}
		})
	}
}

// A buffer grown by a burst of messages shrinks back once the peer stops
// streaming: an idle connection holds minReadBuf bytes.
func TestReaderShrinksWhenIdle(t *testing.T) {
	pr, pw := io.Pipe()
	var burst []byte
	for range 200 {
		burst = append(burst, encode(false, bytes.Repeat([]byte("b"), 100))...)
	}
	go func() {
		pw.Write(burst)                          // read in chunks that fill the buffer
		pw.Write(encode(false, []byte("small"))) // after a pause: a new Write
		pw.Close()
	}()
	r := NewReader(pr, 1<<20)
	grown := 0
	for i := range 200 {
		if f, _, err := r.Next(0); err != nil || len(f[0]) != 100 {
			t.Fatalf("message %d of the burst: %v", i, err)
		}
		grown = max(grown, len(r.buf))
	}
	if grown <= minReadBuf {
		t.Fatalf("the buffer did not grow while streaming (%d bytes)", grown)
	}
	if f, _, err := r.Next(0); err != nil || string(f[0]) != "small" {
		t.Fatalf("small message: %q, %v", f, err)
	}
	if len(r.buf) != minReadBuf {
		t.Errorf("after the stream paused the buffer is %d bytes, want %d", len(r.buf), minReadBuf)
	}
}

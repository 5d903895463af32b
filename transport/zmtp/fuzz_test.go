package zmtp

import (
	"bytes"
	"testing"

	"github.com/brine-project/brine/internal/saltvectors"
)

const fuzzLimit = 1 << 16

// FuzzReader feeds arbitrary bytes to the frame reader: it must not panic,
// must respect its limit, and every message it returns must re-encode to
// bytes that parse back to the same message.
func FuzzReader(f *testing.F) {
	f.Add(encode(false, []byte("hello"), nil, bytes.Repeat([]byte("x"), 300)))
	f.Add(AppendCommand(nil, CmdSubscribe, []byte("topic")))
	f.Add([]byte{FlagLong, 0x40, 0, 0, 0, 0, 0, 0, 0})
	for _, s := range saltvectors.Streams() {
		if len(s) > GreetingSize {
			f.Add(s[GreetingSize:])
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader((bytes.NewReader(in)), fuzzLimit)
		for {
			frames, cmd, err := r.Next(0)
			if err != nil {
				return
			}
			if cmd != nil {
				if len(cmd) > fuzzLimit {
					t.Fatalf("command of %d bytes over the limit", len(cmd))
				}
				c, err := ParseCommand(cmd)
				if err == nil && !bytes.Equal(AppendCommand(nil, c.Name, c.Data)[len(AppendHeader(nil, FlagCommand, len(cmd))):], cmd) {
					t.Fatal("command does not re-encode")
				}
				continue
			}
			var size int64
			for _, f := range frames {
				size += int64(len(f)) + FrameOverhead
			}
			if size > fuzzLimit {
				t.Fatalf("message of %d charged bytes over the limit", size)
			}
			again, _, err := NewReader((bytes.NewReader(encode(false, frames...))), fuzzLimit).Next(0)
			if err != nil || len(again) != len(frames) {
				t.Fatalf("re-encoded message does not parse: %v", err)
			}
			for i := range frames {
				if !bytes.Equal(again[i], frames[i]) {
					t.Fatal("re-encoded message differs")
				}
			}
		}
	})
}

// FuzzHandshake plays arbitrary peer bytes against each socket type's
// handshake: no panic, and a success only with a compatible peer.
func FuzzHandshake(f *testing.F) {
	g := Greeting{Major: 3, Minor: 1, Mechanism: MechanismNull}
	f.Add(peerBytes(g, readyOf("Socket-Type", "REQ", "Identity", "")))
	f.Add(peerBytes(g, readyOf("Socket-Type", "SUB")))
	f.Add(peerBytes(g, AppendCommand(nil, CmdReady, []byte{11, 'S'})))
	for _, s := range saltvectors.Streams() {
		f.Add(s)
	}
	types := []SocketType{ROUTER, PUB, PULL, REP, DEALER, SUB}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, local := range types {
			c := &pipeConn{Reader: bytes.NewReader(in)}
			p, _, err := Handshake(c, Local{Type: local})
			if err == nil && !local.Compatible(p.Type) {
				t.Fatalf("%s accepted a %q peer", local, p.Type)
			}
		}
	})
}

// FuzzMetadata: whatever parses re-encodes to the same bytes.
func FuzzMetadata(f *testing.F) {
	f.Add(Metadata{{PropSocketType, []byte("ROUTER")}, {PropIdentity, nil}}.Append(nil))
	f.Add([]byte{1, 'a', 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		md, err := ParseMetadata(in)
		if err != nil {
			return
		}
		if !bytes.Equal(md.Append(nil), in) {
			t.Fatal("metadata does not re-encode to its input")
		}
	})
}

package zmtp

import (
	"bytes"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/brine-project/brine/internal/saltvectors"
)

// Every byte stream a stock Salt master and minion (libzmq 4.3.4) exchanged
// parses: greeting, READY, SUBSCRIBE, every message, to a clean EOF; every
// command and frame header re-encodes to the captured bytes; our greeting
// equals libzmq's.
func TestSaltCaptures(t *testing.T) {
	dir := saltvectors.Dir(t)
	ours := Greeting{Major: 3, Minor: 1, Mechanism: MechanismNull}.Append(nil)
	for _, capture := range saltvectors.Captures {
		d := saltvectors.Load(t, dir, capture)
		byIndex := map[int]saltvectors.Message{}
		for _, m := range d.Messages {
			byIndex[m.Index] = m
		}
		for _, c := range d.Connections {
			for dirn, file := range c.Streams {
				t.Run(capture+"/"+c.ID+"/"+dirn, func(t *testing.T) {
					stream, err := os.ReadFile(filepath.Join(dir, capture, file))
					if err != nil {
						t.Fatal(err)
					}
					var want []saltvectors.Message
					for _, i := range c.Messages {
						if m := byIndex[i]; m.Dir == dirn {
							want = append(want, m)
						}
					}
					checkStream(t, filepath.Join(dir, capture), stream, c.Greeting[dirn], c.Commands[dirn], want, ours)
				})
			}
		}
	}
}

func checkStream(t *testing.T, dir string, stream []byte, g *saltvectors.Greeting, cmds []saltvectors.Command, want []saltvectors.Message, ours []byte) {
	if len(stream) < GreetingSize {
		t.Fatalf("stream of %d bytes", len(stream))
	}
	greet, err := ParseGreeting(stream[:GreetingSize])
	if err != nil {
		t.Fatal(err)
	}
	if greet.Mechanism != g.Mechanism || greet.AsServer != (g.AsServer == 1) || g.Version != "3.1" {
		t.Fatalf("greeting %+v, decoded %+v", greet, g)
	}
	if g.SignaturePadding == "0000000000000001" && !bytes.Equal(stream[:GreetingSize], ours) {
		t.Errorf("our greeting differs from libzmq's:\n ours %x\n salt %x", ours, stream[:GreetingSize])
	}
	r := NewReader(bytes.NewReader(stream[GreetingSize:]), 64<<20)
	var nc, nm int
	for {
		frames, cmd, err := r.Next(0)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d commands and %d messages: %v", nc, nm, err)
		}
		if cmd != nil {
			if nc >= len(cmds) {
				t.Fatalf("unexpected command %q", cmd)
			}
			c, err := ParseCommand(cmd)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != cmds[nc].Name {
				t.Fatalf("command %d: %s, decoded %s", nc, c.Name, cmds[nc].Name)
			}
			if got := hex.EncodeToString(AppendCommand(nil, c.Name, c.Data)); got != cmds[nc].FrameHex {
				t.Errorf("command %s re-encodes to %s, captured %s", c.Name, got, cmds[nc].FrameHex)
			}
			if c.Name == CmdReady {
				md, err := ParseMetadata(c.Data)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range cmds[nc].Props {
					if got, ok := md.Get(k); !ok || string(got) != v {
						t.Errorf("READY %s = %q, decoded %q", k, got, v)
					}
				}
			}
			nc++
			continue
		}
		if nm >= len(want) {
			t.Fatalf("unexpected message of %d frames", len(frames))
		}
		m := want[nm]
		if len(frames) != len(m.Frames) {
			t.Fatalf("message %d: %d frames, decoded %d", m.Index, len(frames), len(m.Frames))
		}
		for i, f := range frames {
			part, err := os.ReadFile(filepath.Join(dir, m.Frames[i]))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f, part) {
				t.Fatalf("message %d frame %d differs from %s", m.Index, i, m.Frames[i])
			}
			flags := byte(0)
			if i < len(frames)-1 {
				flags = FlagMore
			}
			if got := hex.EncodeToString(AppendHeader(nil, flags, len(f))); got != m.FrameHeaders[i] {
				t.Errorf("message %d frame %d header %s, captured %s", m.Index, i, got, m.FrameHeaders[i])
			}
		}
		nm++
	}
	if nc != len(cmds) || nm != len(want) {
		t.Fatalf("parsed %d commands and %d messages, decoded %d and %d", nc, nm, len(cmds), len(want))
	}
}

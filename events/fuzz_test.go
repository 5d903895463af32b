package events

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/internal/saltvectors"
	"github.com/brine-project/brine/transport/wire"
)

// FuzzDecode: any message from a bus decodes to an event or to an error
// wrapping ErrMalformed; a decoded event encodes again (as the master
// re-fires a minion's events) to one that decodes to the same tag and data.
func FuzzDecode(f *testing.F) {
	for _, b := range capturedEvents(f) {
		f.Add(b)
	}
	now := time.Date(2026, 11, 27, 5, 45, 7, 357865000, time.UTC)
	for _, tc := range []struct {
		tag  string
		data map[string]any
	}{
		{"salt/job/20261127054507357865/new", map[string]any{"jid": "20261127054507357865", "minions": []any{"m1"}, "arg": []any{1, 2.5, nil, true}}},
		{"salt/job/20261127054507357865/ret/m1", map[string]any{"return": map[string]any{"a": []byte{0xff, 0}}, "retcode": 0}},
		{"minion_start||||||||", map[string]any{"data": "Minion m1 started"}},
		{"", nil},
	} {
		b, err := Encode(tc.tag, tc.data, now)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"no separator", "tag\n\n\xc1", "a\n|\n\n\x80", "\n\n\n\x80", "|\n\n\x81\xa1a\xc0"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if ev.Data == nil {
			t.Fatal("a decoded event has nil data")
		}
		re, err := Encode(ev.Tag, ev.Data, now)
		if err != nil {
			// Only a tag that could not be read back may be refused.
			if !strings.HasSuffix(ev.Tag, "\n") {
				t.Fatalf("Encode of a decoded event: %v", err)
			}
			return
		}
		if len(re) > len(ev.Tag)+len(Separator)+MaxSize {
			t.Fatalf("encoded event of %d bytes is over MaxSize", len(re))
		}
		ev2, err := Decode(re)
		if err != nil {
			t.Fatalf("Decode(Encode(event)) = %v", err)
		}
		// Decode drops old-style '|' padding: a tag ending in '|' reads
		// back without it.
		if want := strings.TrimRight(ev.Tag, "|"); ev2.Tag != want {
			t.Fatalf("tag %q read back as %q", want, ev2.Tag)
		}
		if _, trimmed := ev2.Data["trimmed"]; trimmed {
			return
		}
		if _, ok := ev.Data["_stamp"]; !ok {
			delete(ev2.Data, "_stamp")
		}
		if a, b := mustLocal(t, ev.Data), mustLocal(t, ev2.Data); !bytes.Equal(a, b) {
			t.Fatalf("data changed:\n got %x\nwant %x", b, a)
		}
	})
}

// capturedEvents are the bodies of the events a stock Salt master put on
// its bus during the captures: events.raw holds {"head": {}, "body": <bin>}
// frames one after another, each body an event.
func capturedEvents(f *testing.F) [][]byte {
	dir, ok := saltvectors.Find()
	if !ok {
		return nil
	}
	var out [][]byte
	for _, capture := range saltvectors.Captures {
		raw, err := os.ReadFile(filepath.Join(dir, capture, "events.raw"))
		if err != nil {
			f.Fatal(err)
		}
		for len(raw) > 0 {
			v, n, err := wire.UnmarshalNext(raw)
			if err != nil {
				f.Fatalf("%s/events.raw: %v", capture, err)
			}
			raw = raw[n:]
			frame, ok := v.(map[string]any)
			if !ok {
				f.Fatalf("%s/events.raw: a frame is a %T", capture, v)
			}
			body, err := wire.Bytes(frame, "body")
			if err != nil {
				f.Fatalf("%s/events.raw: %v", capture, err)
			}
			out = append(out, body)
		}
	}
	if len(out) == 0 {
		f.Fatal("no events in the captures")
	}
	return out
}

func mustLocal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := wire.MarshalLocal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

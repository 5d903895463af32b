package events

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEncodeDecode(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 45, 7, 357865000, time.UTC)
	data := map[string]any{"jid": "20261127054507357865", "minions": []any{"m1"}}
	b, err := Encode("salt/job/20261127054507357865/new", data, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := data["_stamp"]; ok {
		t.Fatal("Encode modified its argument")
	}
	if !strings.HasPrefix(string(b), "salt/job/20261127054507357865/new\n\n") {
		t.Fatalf("wire form %q", b)
	}
	ev, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Tag != "salt/job/20261127054507357865/new" || ev.Data["_stamp"] != "2026-11-27T05:45:07.357865" || ev.Data["jid"] != data["jid"] {
		t.Fatalf("%+v", ev)
	}
	// Old-style tags padded with '|' to 20 characters read back clean.
	body, _ := wire.MarshalLocal(map[string]any{"a": 1})
	if ev, err := Decode(append([]byte("minion_start||||||||\n\n"), body...)); err != nil || ev.Tag != "minion_start" {
		t.Fatalf("padded tag: %+v %v", ev, err)
	}
	for _, bad := range []string{"no separator", "tag\n\n\xc1"} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) succeeded", bad)
		}
	}
	if _, err := Encode("bad\n\ntag", nil, now); err == nil {
		t.Error("a tag with the separator was encoded")
	}
	big, err := Encode("big", map[string]any{"blob": strings.Repeat("x", MaxSize+1)}, now)
	if err != nil || len(big) > 1000 {
		t.Fatalf("oversized data was not trimmed: %d bytes, %v", len(big), err)
	}
}

func TestPushAndSubscribe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	bus, err := transport.NewEventPublisher(dir, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	go func() { done <- bus.Serve(sctx) }()
	defer func() { stop(); <-done }()

	pub := "ipc://" + filepath.Join(dir, transport.EventPubFile)
	rets, err := Subscribe(pub, "salt/job/*/ret/*", transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rets.Close()
	all, err := Subscribe(pub, "", transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if err := bus.WaitSubscribers(ctx, 2); err != nil {
		t.Fatal(err)
	}
	fire, err := NewPusher("ipc://"+filepath.Join(dir, transport.EventPullFile), transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fire.Close()
	local := NewLocalFirer(bus)
	tags := []string{"salt/job/1/new", "salt/job/1/ret/m1", "salt/auth", "salt/job/1/retry", "salt/job/2/ret/m2"}
	for i, tag := range tags {
		var f Firer = fire
		if i%2 == 1 {
			f = local // both ways onto the bus
		}
		if err := f.Fire(ctx, tag, map[string]any{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	// Pushed and local events may interleave; each subscriber sees every
	// one it matches.
	seen := map[string]bool{}
	for range tags {
		ev, err := all.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen[ev.Tag] = true
	}
	if len(seen) != len(tags) {
		t.Fatalf("all: saw %v", seen)
	}
	got := map[string]bool{}
	for range 2 {
		ev, err := rets.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got[ev.Tag] = true
	}
	if !got["salt/job/1/ret/m1"] || !got["salt/job/2/ret/m2"] {
		t.Fatalf("glob subscriber saw %v", got)
	}
}

package proctest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/transport"
)

// Watch subscribes to the event bus of the master whose sock_dir is
// sockDir, and returns once a probe event fired into the bus has come
// back: from then on no event is missed. The subscription is closed when
// the test ends.
func Watch(t testing.TB, ctx context.Context, sockDir string) *events.Subscriber {
	t.Helper()
	opts := transport.Options{Reconnect: transport.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}}
	sub, err := events.Subscribe("ipc://"+filepath.Join(sockDir, transport.EventPubFile), "", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	push, err := events.NewPusher("ipc://"+filepath.Join(sockDir, transport.EventPullFile), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	probe := fmt.Sprintf("test/probe/%d", time.Now().UnixNano())
	for {
		// Until the subscription reaches the bus, probes are lost; send
		// them until one comes back.
		if err := push.Fire(ctx, probe, map[string]any{}); err != nil {
			t.Fatal(err)
		}
		for {
			wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			ev, err := sub.Next(wctx)
			cancel()
			if err != nil {
				break
			}
			if ev.Tag == probe {
				return sub
			}
		}
		if ctx.Err() != nil {
			t.Fatal("the event bus never answered a probe")
		}
	}
}

// WaitEvents waits up to Timeout until every one of tags has been seen on
// sub, in any order.
func WaitEvents(t testing.TB, ctx context.Context, sub *events.Subscriber, tags ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	want := map[string]bool{}
	for _, tag := range tags {
		want[tag] = true
	}
	for len(want) > 0 {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for events %v: %v", want, err)
		}
		delete(want, ev.Tag)
	}
}

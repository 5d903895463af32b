package transport

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// Pending counts a request from its arrival until its answer is queued:
// waiting for a worker, in a worker, and deferred with ReplyLater.
func TestReqServerPending(t *testing.T) {
	ctx := ctxT(t)
	release := make(chan struct{})
	deferred := make(chan func([]byte), 1)
	s, err := NewReqServer(ReqServerConfig{Addr: "tcp://127.0.0.1:0", Workers: 1, Options: testOptions,
		Handler: func(ctx context.Context, req []byte) []byte {
			if string(req) == "later" {
				reply, _ := ReplyLater(ctx)
				deferred <- reply
				return nil
			}
			<-release
			return req
		}})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	// Registered after serve, so it runs first: a failing test must not
	// leave the worker blocked while Serve waits for it.
	releaseAll := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseAll)
	addr := dialable(s.Addr())

	// Three requests on one worker: one in it, two waiting for it.
	errs := make(chan error, 3)
	for i := range 3 {
		c := newClient(t, addr)
		go func() {
			_, err := c.Request(ctx, fmt.Appendf(nil, "request %d", i))
			errs <- err
		}()
	}
	waitFor(t, "three pending requests", func() bool { return s.Pending() == 3 })
	releaseAll()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "no pending request", func() bool { return s.Pending() == 0 })

	// A deferred reply keeps its request pending until it is sent.
	c := newClient(t, addr)
	done := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, []byte("later"))
		done <- err
	}()
	reply := <-deferred
	if n := s.Pending(); n != 1 {
		t.Errorf("a deferred reply not yet sent: Pending() = %d, want 1", n) // not Fatal: reply must still go out
	}
	reply([]byte("done"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "no pending request", func() bool { return s.Pending() == 0 })
}

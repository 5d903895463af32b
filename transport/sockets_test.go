package transport

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestDealerRouterEcho(t *testing.T) {
	for name, ep := range endpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			r := NewRouter(testOptions)
			defer r.Close()
			addr := listen(t, r, ep)
			d := NewDealer(testOptions)
			defer d.Close()
			if err := d.Dial(addr); err != nil {
				t.Fatal(err)
			}
			for i := range 100 {
				want := msg("hello", fmt.Sprint(i))
				if err := d.Send(ctx, want); err != nil {
					t.Fatal(err)
				}
				got, err := r.Recv(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(str(got[1:]), str(want)) {
					t.Fatalf("router got %q, want id + %q", got, want)
				}
				if err := r.Send(ctx, append([][]byte{got[0]}, []byte("re"), got[2])); err != nil {
					t.Fatal(err)
				}
				back, err := d.Recv(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(str(back), []string{"re", fmt.Sprint(i)}) {
					t.Fatalf("dealer got %q", back)
				}
			}
		})
	}
}

func TestReqRep(t *testing.T) {
	for name, ep := range endpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			rep := NewRep(testOptions)
			defer rep.Close()
			addr := listen(t, rep, ep)
			req := NewReq(testOptions)
			defer req.Close()
			req.Dial(addr)
			for i := range 50 {
				if err := req.Send(ctx, msg("ping", fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
				got, err := rep.Recv(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := rep.Send(ctx, msg("pong:"+string(got[1]))); err != nil {
					t.Fatal(err)
				}
				back, err := req.Recv(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := "pong:" + fmt.Sprint(i); string(back[0]) != want || len(back) != 1 {
					t.Fatalf("got %q, want %q", back, want)
				}
			}
			if _, err := req.Recv(ctx); err != ErrState {
				t.Fatalf("Recv without Send: %v, want ErrState", err)
			}
		})
	}
}

func TestPushPull(t *testing.T) {
	for name, ep := range endpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			pull := NewPull(testOptions)
			defer pull.Close()
			addr := listen(t, pull, ep)
			const pushers, each = 4, 500
			var ps []*Push
			for range pushers {
				p := NewPush(testOptions)
				defer p.Close()
				p.Dial(addr)
				ps = append(ps, p)
			}
			for i, p := range ps {
				go func() {
					for j := range each {
						p.Send(ctx, msg(fmt.Sprint(i), fmt.Sprint(j)))
					}
				}()
			}
			next := make([]int, pushers)
			for range pushers * each {
				m, err := pull.Recv(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var i, j int
				fmt.Sscan(string(m[0]), &i)
				fmt.Sscan(string(m[1]), &j)
				if next[i] != j {
					t.Fatalf("from pusher %d got %d, want %d (order per peer must hold)", i, j, next[i])
				}
				next[i]++
			}
		})
	}
}

// Close is bounded by Linger even while a write to a peer that stopped
// reading is in progress (not by the much longer WriteTimeout).
func TestCloseBoundedByLinger(t *testing.T) {
	ctx := ctxT(t)
	stuck := NewPull(Options{RecvHWM: 1})
	defer stuck.Close()
	addr := listen(t, stuck, "tcp://127.0.0.1:0")
	push := NewPush(Options{SendHWM: 8, WriteTimeout: time.Minute, Linger: 100 * time.Millisecond})
	push.Dial(addr)
	big := make([]byte, 1<<20)
	// Fill the puller's inbox, both kernel buffers and our queue: Send
	// then waits for room that never comes.
	for {
		sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := push.Send(sctx, [][]byte{big})
		cancel()
		if err != nil {
			break
		}
	}
	start := time.Now()
	push.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with Linger 100ms", d)
	}
}

func TestWaitPeers(t *testing.T) {
	ctx := ctxT(t)
	r := NewRouter(testOptions)
	defer r.Close()
	addr := listen(t, r, "tcp://127.0.0.1:0")
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := r.WaitPeers(short, 1); err != context.DeadlineExceeded {
		t.Fatalf("no peer yet: %v", err)
	}
	d := NewDealer(testOptions)
	d.Dial(addr)
	if err := r.WaitPeers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := d.WaitPeers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	d.Close()
	done := make(chan error, 1)
	go func() { done <- r.WaitPeers(ctx, 2) }()
	r.Close()
	if err := <-done; err != ErrClosed {
		t.Fatalf("after Close: %v", err)
	}
}

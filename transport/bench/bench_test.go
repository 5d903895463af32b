package bench

import (
	"context"
	"testing"
	"time"
)

// The tests below run the benchmarks' machinery at toy sizes, so that
// `go test ./transport/bench/` (with or without -race) checks it quickly.

func TestLoadgen(t *testing.T) {
	for name, start := range map[string]func() (*echoServer, error){
		"brine": startBrineEcho,
		"zmq4":  startZmq4Echo,
	} {
		t.Run(name, func(t *testing.T) {
			srv, err := start()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.close()
			lg, err := startLoadgen(srv.addr.String(), 8, routerReqSize)
			if err != nil {
				t.Fatal(err)
			}
			defer lg.close()
			if err := lg.each(); err != nil {
				t.Fatal(err)
			}
			if p := srv.peers(); p >= 0 && p != 8 {
				t.Errorf("server has %d peers, want 8", p)
			}
			done, _, err := lg.run(100, 0)
			if err != nil || done != 100 {
				t.Fatalf("run 100: %d done, err %v", done, err)
			}
			// A run of fewer round trips than peers, and a capped one.
			if done, _, err := lg.run(3, time.Minute); err != nil || done != 3 {
				t.Fatalf("run 3: %d done, err %v", done, err)
			}
			if e := srv.sendErrs.Load(); e != 0 {
				t.Errorf("%d send errors", e)
			}
		})
	}
}

func TestFanout(t *testing.T) {
	for name, build := range map[string]func(context.Context, int) (*fanout, func(), error){
		"brine": buildBrineFanout,
		"zmq4":  buildZmq4Fanout,
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			f, closeFn, err := build(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			if d, err := f.one(ctx); err != nil || d <= 0 {
				t.Fatalf("latency sample %v, err %v", d, err)
			}
			// More than the tracker's ring, a window at a time.
			for range trackRing + 100 {
				if err := f.t.waitCompleted(ctx, f.next-pubWindow); err != nil {
					t.Fatal(err)
				}
				if _, err := f.send(kindData); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.t.waitCompleted(ctx, f.next-1); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	s := make([]time.Duration, 100)
	for i := range s {
		s[i] = time.Duration(i + 1)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := percentile(s, c.q); got != c.want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("percentile of one sample = %v", got)
	}
}

package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/brine-project/brine/transport"
)

// BenchmarkPushPull is figure 1: messages/s from one PUSH to one PULL over
// loopback tcp, one frame of 100 B or 10 KB per message. Goal: at 100 B,
// brine ≥ 10× zmq4.
func BenchmarkPushPull(b *testing.B) {
	for _, size := range []int{100, 10 << 10} {
		name := fmt.Sprintf("size=%dB", size)
		if size >= 1<<10 {
			name = fmt.Sprintf("size=%dKB", size>>10)
		}
		b.Run(name, func(b *testing.B) {
			runImpls(b,
				func(b *testing.B) { pushPullBrine(b, size) },
				func(b *testing.B) { pushPullZmq4(b, size) })
		})
	}
}

func pushPullBrine(b *testing.B, size int) {
	ctx := benchCtx(b)
	pull := transport.NewPull(brineOpts)
	defer pull.Close()
	addr, err := pull.Listen(localTCP)
	if err != nil {
		b.Fatal(err)
	}
	push := transport.NewPush(brineOpts)
	defer push.Close()
	if err := push.Dial(tcpEndpoint(addr)); err != nil {
		b.Fatal(err)
	}
	// The frames are never modified, so every message may share them.
	msg := [][]byte{payload(size)}
	// Warm up: one message through proves the connection is up.
	if err := push.Send(ctx, msg); err != nil {
		b.Fatal(err)
	}
	if _, err := pull.Recv(ctx); err != nil {
		b.Fatal(err)
	}

	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for range b.N {
			if err := push.Send(ctx, msg); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range b.N {
		m, err := pull.Recv(ctx)
		if err != nil {
			b.Fatalf("recv %d: %v", i, err)
		}
		if len(m) != 1 || len(m[0]) != size {
			b.Fatalf("recv %d: got %d frames", i, len(m))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	perSecond(b, int64(b.N), elapsed, "msgs/s")
}

func pushPullZmq4(b *testing.B, size int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pull := zmq4.NewPull(ctx, zmq4.WithLogger(quietLog))
	defer pull.Close()
	if err := pull.Listen(localTCP); err != nil {
		b.Fatal(err)
	}
	push := zmq4.NewPush(ctx, zmq4.WithLogger(quietLog))
	defer push.Close()
	if err := push.Dial(tcpEndpoint(pull.Addr())); err != nil {
		b.Fatal(err)
	}
	msg := zmq4.NewMsg(payload(size))
	if err := push.Send(msg); err != nil {
		b.Fatal(err)
	}
	if _, err := pull.Recv(); err != nil {
		b.Fatal(err)
	}

	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for range b.N {
			if err := push.Send(msg); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range b.N {
		m, err := pull.Recv()
		if err != nil {
			b.Fatalf("recv %d: %v", i, err)
		}
		if len(m.Frames) != 1 || len(m.Frames[0]) != size {
			b.Fatalf("recv %d: got %d frames", i, len(m.Frames))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	perSecond(b, int64(b.N), elapsed, "msgs/s")
}

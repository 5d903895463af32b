package minion

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/transport"
)

// A running minion, authenticated with fm over loopback tcp and
// subscribed to a real PUB socket, drops hostile publications and goes on
// running genuine ones: what crosses the publish port is checked as it
// arrives, max_message_size included.
func TestPublicationsRefusedOverTheWire(t *testing.T) {
	const maxMsg = 64 << 10
	fm := newFakeMaster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	ret, err := transport.NewReqServer(transport.ReqServerConfig{Addr: "tcp://127.0.0.1:0", Handler: fm.handle})
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- ret.Serve(serveCtx) }()
	defer func() {
		stopServe()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	pub := transport.NewPub(transport.Options{})
	defer pub.Close()
	pubAddr, err := pub.Listen("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	root := t.TempDir()
	cfg := config.DefaultMinion()
	cfg.ID = "web-1"
	cfg.Master = "127.0.0.1"
	cfg.MasterPort, cfg.PublishPort = portOf(t, ret.Addr().String()), portOf(t, pubAddr.String())
	cfg.PKIDir, cfg.CacheDir, cfg.SockDir = filepath.Join(root, "pki"), filepath.Join(root, "cache"), filepath.Join(root, "sock")
	cfg.SignPubMessages = true
	cfg.MaxMessageSize = maxMsg
	cfg.RandomReauthDelay = 0
	cfg.ReconDefault, cfg.ReconMax = 50, 100
	logs := &syncBuffer{}
	ready := make(chan struct{})
	m, err := NewWith(&cfg, Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Key:    readKey(t, "minion"), Tok: []byte("tok"), Grains: map[string]any{"id": cfg.ID}, NoBus: true,
		OnReady: func() { close(ready) },
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- m.Run(runCtx) }()
	select {
	case <-ready:
	case err := <-ran:
		t.Fatalf("the minion stopped: %v", err)
	}
	if err := pub.WaitSubscribers(ctx, 1); err != nil {
		t.Fatal(err)
	}

	forger := readKey(t, "forger")
	replayed := fm.wrap(job("20260101000000000001"), fm.priv)
	truncated := fm.wrap(job("20260101000000000002"), fm.priv)[0]
	bigJob := job("20260101000000000005")
	bigJob["pad"] = strings.Repeat("x", maxMsg)
	hostile := []struct {
		name string
		msg  [][]byte
	}{
		{"garbage frame", [][]byte{[]byte("\xff\x00garbage")}},
		{"truncated frame", [][]byte{truncated[:len(truncated)/2]}},
		{"forged signature", fm.wrap(job("20260101000000000003"), forger)},
		{"unsigned", fm.wrap(job("20260101000000000004"), nil)},
		{"replayed serial", replayed},
		{"over max_message_size", fm.wrap(bigJob, fm.priv)},
	}
	send := func(msg [][]byte) {
		if err := pub.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	send(replayed) // genuine, the first time
	for _, h := range hostile {
		send(h.msg)
	}
	// The oversized publication drops the link; the minion reconnects.
	// Until it has, a publication is lost, so the genuine one goes out
	// again until it is returned: the serial guard runs it once.
	const good = "20260101000000000009"
	genuine := fm.wrap(job(good), fm.priv)
	resend := time.NewTicker(100 * time.Millisecond)
	defer resend.Stop()
	for !slices.Contains(fm.returns(), good) {
		send(genuine)
		select {
		case <-fm.arrived:
		case <-resend.C:
		case <-ctx.Done():
			t.Fatalf("the genuine publication was not returned; log:\n%s", logs)
		}
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := fm.returns()
	slices.Sort(got)
	if want := []string{"20260101000000000001", good}; !slices.Equal(got, want) {
		t.Fatalf("the minion returned %v, want %v", got, want)
	}
	for _, want := range []string{"malformed publication", "signature does not verify", "replayed publication", "message too large"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no log line says %q", want)
		}
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

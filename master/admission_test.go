package master

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

// Past max_pending_keys a new key is refused as "full" and nothing is
// written: a flood of ids cannot fill the disk.
func TestAuthPendingKeysCap(t *testing.T) {
	m, rec := newTestMaster(t, func(c *config.Master) { c.MaxPendingKeys = 2 })
	for i, want := range []any{true, true, "full", "full"} {
		ms := newMinionSide(t, fmt.Sprintf("flood-%d", i), "minion-a")
		if got := ms.auth(t, m, false)["ret"]; got != want {
			t.Fatalf("key %d: ret %v, want %v", i, got, want)
		}
	}
	if files := keyFiles(t, m); len(files) != 4 { // master.pem, master.pub and two pending
		t.Fatalf("key files %v, want the master's pair and 2 pending", files)
	}
	if act := rec.lastAuth(); act != "full" {
		t.Fatalf("last salt/auth act %q, want full", act)
	}
}

// An _auth that queued past auth_queue_timeout is answered "retry" with a
// retry_after, signed and with its nonce, instead of authenticated; once
// the queue is gone the same minion is accepted.
func TestAuthQueueTimeout(t *testing.T) {
	m, _ := newTestMaster(t, func(c *config.Master) {
		c.WorkerThreads = 1
		c.AuthQueueTimeout = 0.001
		c.AutoAccept = true
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- m.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	addr := "tcp://" + m.RetAddr().String()
	authOnce := func(ms *minionSide) (map[string]any, error) {
		c, err := transport.NewReqClient(transport.ReqClientConfig{Addr: addr, Timeout: 30 * time.Second, Tries: 1})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		nonce := strings.Repeat("cd", 16)
		raw, err := c.Request(ctx, request(t, &wire.Request{Enc: "clear", Load: ms.authLoad(t, m, nonce, false), Version: 3}))
		if err != nil {
			return nil, err
		}
		signed, err := wire.DecodeSignedReply(raw)
		if err != nil {
			return nil, fmt.Errorf("unsigned reply: %w", err)
		}
		if err := crypto.Verify(&m.priv.PublicKey, crypto.PKCS1v15SHA1, signed.Load, signed.Sig); err != nil {
			return nil, err
		}
		inner, err := wire.UnmarshalMap(signed.Load)
		if err == nil && inner["nonce"] != nonce {
			err = fmt.Errorf("nonce %v", inner["nonce"])
		}
		return inner, err
	}

	// Sixteen at once on one worker: all but the first queue for at least
	// one authentication's worth of RSA, far past a millisecond.
	const n = 16
	replies := make([]map[string]any, n)
	var g errgroup.Group
	for i := range n {
		g.Go(func() (err error) {
			replies[i], err = authOnce(newMinionSide(t, fmt.Sprintf("storm-%d", i), "minion-a"))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	retries := 0
	for i, r := range replies {
		switch {
		case r["enc"] == "pub":
		case r["ret"] == "retry":
			if after, err := wire.Int(r, "retry_after"); err != nil || after < 1 || after > 60 {
				t.Fatalf("reply %d: retry_after %v, %v", i, r["retry_after"], err)
			}
			retries++
		default:
			t.Fatalf("reply %d: %v", i, r)
		}
	}
	if retries == 0 {
		t.Fatalf("no auth of %d queued on one worker was asked to retry", n)
	}
	r, err := authOnce(newMinionSide(t, "storm-1", "minion-a"))
	if err != nil || r["enc"] != "pub" {
		t.Fatalf("alone afterwards: %v, %v; want accepted", r, err)
	}
}

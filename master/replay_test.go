package master

import (
	"fmt"
	"testing"
)

func TestReplayGuard(t *testing.T) {
	g := newReplayGuard()
	if err := g.check("a", "n1", 1000, true); err != nil {
		t.Fatal(err)
	}
	if err := g.check("a", "n1", 1000, true); err != errReplayed {
		t.Fatalf("same nonce: %v", err)
	}
	if err := g.check("b", "n1", 1000, true); err != nil {
		t.Fatalf("another minion's nonces are its own: %v", err)
	}
	if err := g.check("a", "n2", 1000+replayWindow, true); err != nil {
		t.Fatal(err)
	}
	if err := g.check("a", "n3", 999, true); err != errStale {
		t.Fatalf("a request lagging the newest by more than the window: %v", err)
	}
	if err := g.check("a", "n4", 1000, true); err != nil {
		t.Fatalf("within the window: %v", err)
	}
	if err := g.check("a", "", 0, false); err != nil {
		t.Fatalf("no nonce: %v", err)
	}
	// Memory stays bounded: old nonces are pruned as time moves on.
	for i := range 10000 {
		if err := g.check("c", fmt.Sprint(i), int64(i), true); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(g.minion["c"].nonces); n > 2*(replayWindow+1)+64 {
		t.Fatalf("%d nonces kept for a %ds window", n, replayWindow)
	}
}

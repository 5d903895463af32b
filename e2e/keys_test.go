package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

// A minion with no keys shows up pending, is accepted with brine-key,
// authenticates, and carries on through a master restart (new AES key) and
// a key delete and re-accept.
func TestKeyLifecycle(t *testing.T) {
	ctx := ctxT(t)
	c := newCluster(t)
	master := c.startMaster("master", "")
	master.Log.WaitLines(t, 1, "master: serving")
	bus := c.watch(ctx, "master")

	minion := c.startMinion("m1", "")
	waitEvent(t, ctx, bus, "salt/auth", map[string]any{"act": "pend", "id": "m1", "result": true})
	if out := c.key("master", "-L"); !strings.Contains(out, "Unaccepted Keys:\nm1\n") {
		t.Fatalf("brine-key -L:\n%s", out)
	}
	if out := c.key("master", "-a", "m1", "-y"); !strings.Contains(out, "Key for minion m1 accepted.") {
		t.Fatalf("brine-key -a:\n%s", out)
	}
	waitEvent(t, ctx, bus, "salt/key", map[string]any{"act": "accept", "id": "m1"})
	waitEvent(t, ctx, bus, "salt/auth", map[string]any{"act": "accept", "id": "m1"})
	// The start event comes over the AES channel: session key and tok work.
	waitEvent(t, ctx, bus, "salt/minion/m1/start", nil)
	minion.Log.WaitLines(t, 1, "trusting the master's key on first use")

	// Master restart: a new AES key; the minion authenticates again when
	// its publish link comes back.
	master.Stop(t)
	master = c.startMaster("master", "")
	master.Log.WaitLines(t, 1, "authentication accepted", "minion=m1")
	minion.Log.WaitLines(t, 2, "authenticated with the master")

	// Delete the key: the master rotates its AES key, so the next
	// publication fails the minion's HMAC, it authenticates again, and
	// finds itself pending until re-accepted.
	c.key("master", "-d", "m1", "-y")
	master.Log.WaitLines(t, 1, "AES key rotated")
	publish(t, c, "master")
	master.Log.WaitLines(t, 1, "new public key placed in pending", "minion=m1")
	c.key("master", "-a", "m1", "-y")
	master.Log.WaitLines(t, 2, "authentication accepted", "minion=m1")
	minion.Log.WaitLines(t, 3, "authenticated with the master")
	if n := minion.Log.Count("level=ERROR"); n != 0 {
		t.Fatalf("the minion logged %d errors:\n%s", n, minion.Log.String())
	}
}

// publish pushes a clear publication load into the master's publish_pull
// socket, as the master's own publish path does.
func publish(t *testing.T, c *cluster, name string) {
	t.Helper()
	push := transport.NewPush(transport.Options{})
	defer push.Close()
	push.Dial("ipc://" + filepath.Join(c.sockDir(name), transport.PublishPullFile))
	load, _ := wire.Marshal(map[string]any{"fun": "test.ping", "arg": []any{}, "tgt": "*", "tgt_type": "glob", "jid": "20261127080000000000", "ret": "", "user": "root"})
	if err := push.Send(ctxT(t), [][]byte{load}); err != nil {
		t.Fatal(err)
	}
}

// A minion whose stored master key differs from the master's refuses to
// go on, says why, and keeps its stored key.
func TestMasterKeyChanged(t *testing.T) {
	ctx := ctxT(t)
	c := newCluster(t)
	first := c.startMaster("first", "auto_accept: True\n")
	first.Log.WaitLines(t, 1, "master: serving")
	bus := c.watch(ctx, "first")
	minion := c.startMinion("m1", "")
	waitEvent(t, ctx, bus, "salt/minion/m1/start", nil) // fully up
	trusted := filepath.Join(c.root, "m1/etc/brine/pki/minion/minion_master.pub")
	before, err := os.ReadFile(trusted)
	if err != nil {
		t.Fatal(err)
	}

	// Another master, with its own key, on the same address: when the
	// minion's publish link comes back it authenticates, and refuses.
	first.Stop(t)
	second := c.startMaster("second", "auto_accept: True\n")
	second.Log.WaitLines(t, 1, "master: serving")
	minion.Log.WaitLines(t, 1, "the master's public key has changed")
	after, _ := os.ReadFile(trusted)
	if string(after) != string(before) {
		t.Fatal("the minion replaced its trusted master key")
	}
}

// With master_sign_pubkey the master signs its public key, and a minion
// with verify_master_pubkey_sign trusts it only if that signature checks
// with the master_sign.pub it was given.
func TestVerifyMasterPubkeySign(t *testing.T) {
	c := newCluster(t)
	master := c.startMaster("master", "auto_accept: True\nmaster_sign_pubkey: True\n")
	master.Log.WaitLines(t, 1, "master: serving")
	signPub, err := os.ReadFile(filepath.Join(c.root, "master/etc/brine/pki/master/master_sign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, key, want string
	}{
		{"good", string(signPub), "authenticated with the master"},
		{"bad", string(otherPub(t, c)), "pub_sig does not verify"},
	} {
		writeFile(t, filepath.Join(c.root, tc.id, "etc/brine/pki/minion/master_sign.pub"), tc.key)
		m := c.startMinion(tc.id, "verify_master_pubkey_sign: True\n")
		m.Log.WaitLines(t, 1, tc.want)
		_, err := os.Stat(filepath.Join(c.root, tc.id, "etc/brine/pki/minion/minion_master.pub"))
		if trusted := err == nil; trusted != (tc.id == "good") {
			t.Fatalf("minion %s: trusted the master key: %v", tc.id, trusted)
		}
	}
}

// otherPub makes a key pair that is not the master's signing key.
func otherPub(t *testing.T, c *cluster) []byte {
	dir := filepath.Join(c.root, "other")
	if out, err := run(t, "brine-key", "--gen-keys", "other", "--gen-keys-dir", dir); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "other.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

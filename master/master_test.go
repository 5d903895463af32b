package master

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is an events.Firer that remembers what was fired.
type recorder struct {
	mu   sync.Mutex
	evs  []fired
	logs *syncBuffer // the master's log
}

type fired struct {
	tag  string
	data map[string]any
}

func (r *recorder) Fire(_ context.Context, tag string, data map[string]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, fired{tag, data})
	return nil
}

// last returns the act of the last salt/auth event.
func (r *recorder) lastAuth() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.evs) - 1; i >= 0; i-- {
		if r.evs[i].tag == "salt/auth" {
			return fmt.Sprint(r.evs[i].data["act"])
		}
	}
	return ""
}

func readKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	k, err := crypto.ReadPrivateKey(filepath.Join("testdata", name+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newTestMaster starts a master in a temp root with the committed test
// master key, tcp on loopback port 0; mutate adjusts its config.
func newTestMaster(t testing.TB, mutate func(*config.Master)) (*Master, *recorder) {
	t.Helper()
	root := t.TempDir()
	cfg := config.DefaultMaster()
	cfg.RootDir = root
	cfg.PKIDir = filepath.Join(root, "pki")
	cfg.CacheDir = filepath.Join(root, "cache")
	// Socket paths must be short (sun_path): not under t.TempDir's long names.
	sock, err := os.MkdirTemp("", "brine")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock) })
	cfg.SockDir = sock
	cfg.AutosignFile = filepath.Join(root, "autosign.conf")
	cfg.AutorejectFile = filepath.Join(root, "autoreject.conf")
	cfg.Interface = "127.0.0.1"
	cfg.RetPort, cfg.PublishPort = 0, 0
	if mutate != nil {
		mutate(&cfg)
	}
	os.MkdirAll(cfg.PKIDir, 0o700)
	for _, f := range []string{"master.pem", "master.pub"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(cfg.PKIDir, f), b, 0o600)
	}
	logs := &syncBuffer{}
	m, err := New(&cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	rec := &recorder{logs: logs}
	m.events = rec
	return m, rec
}

// syncBuffer is a bytes.Buffer safe for the master's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// minionSide is what a test minion knows.
type minionSide struct {
	id    string
	key   *rsa.PrivateKey
	token string
}

func newMinionSide(t testing.TB, id, keyName string) *minionSide {
	tok, _ := crypto.GenerateCrypticleKey(rand.Reader)
	return &minionSide{id: id, key: readKey(t, keyName), token: tok}
}

func (ms *minionSide) pub() string { return crypto.CleanKey(crypto.PublicKeyPEM(&ms.key.PublicKey)) }

// authLoad builds an _auth load; withToken adds the token encrypted to the
// master's key.
func (ms *minionSide) authLoad(t *testing.T, m *Master, nonce string, withToken bool) wire.Map {
	load := wire.Map{
		{Key: "cmd", Value: "_auth"}, {Key: "id", Value: ms.id}, {Key: "nonce", Value: nonce},
		{Key: "enc_algo", Value: "OAEP-SHA1"}, {Key: "sig_algo", Value: "PKCS1v15-SHA1"},
	}
	if withToken {
		ct, err := crypto.Encrypt(rand.Reader, &m.priv.PublicKey, crypto.OAEPSHA1, []byte(ms.token))
		if err != nil {
			t.Fatal(err)
		}
		load = append(load, wire.Field{Key: "token", Value: ct})
	}
	return append(load, wire.Field{Key: "pub", Value: ms.pub()})
}

func request(t testing.TB, env *wire.Request) []byte {
	t.Helper()
	b, err := env.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// auth sends an _auth request through the master's handler and returns the
// verified inner reply.
func (ms *minionSide) auth(t *testing.T, m *Master, withToken bool) map[string]any {
	t.Helper()
	nonce := strings.Repeat("ab", 16)
	raw := m.handle(context.Background(), request(t, &wire.Request{Enc: "clear", Load: ms.authLoad(t, m, nonce, withToken), Version: 3}))
	signed, err := wire.DecodeSignedReply(raw)
	if err != nil {
		t.Fatalf("reply is not a signed reply: %v", err)
	}
	if err := crypto.Verify(&m.priv.PublicKey, crypto.PKCS1v15SHA1, signed.Load, signed.Sig); err != nil {
		t.Fatalf("reply signature: %v", err)
	}
	inner, err := wire.UnmarshalMap(signed.Load)
	if err != nil {
		t.Fatal(err)
	}
	if inner["nonce"] != nonce {
		t.Fatalf("reply nonce %v, want %s", inner["nonce"], nonce)
	}
	return inner
}

func keyFiles(t *testing.T, m *Master) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(m.cfg.PKIDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, m.cfg.PKIDir))
		}
		return nil
	})
	return out
}

func TestAuthLifecycle(t *testing.T) {
	m, rec := newTestMaster(t, nil)
	a := newMinionSide(t, "web-1", "minion-a")
	impostor := newMinionSide(t, "web-1", "minion-b")

	if r := a.auth(t, m, false); r["ret"] != true || rec.lastAuth() != "pend" {
		t.Fatalf("new key: %v, event %s; want pending", r, rec.lastAuth())
	}
	if k, err := m.keys.Get(pki.Pending, "web-1"); err != nil || k != a.pub() {
		t.Fatalf("pending key %q, %v", k, err)
	}
	if r := a.auth(t, m, false); r["ret"] != true || rec.lastAuth() != "pend" {
		t.Fatalf("still pending: %v", r)
	}
	if r := impostor.auth(t, m, false); r["ret"] != false || rec.lastAuth() != "denied" {
		t.Fatalf("other key while pending: %v, event %s; want denied", r, rec.lastAuth())
	}
	if k, _ := m.keys.Get(pki.Denied, "web-1"); k != impostor.pub() {
		t.Fatal("the denied key was not kept in minions_denied")
	}

	if err := m.keys.Move("web-1", pki.Pending, pki.Accepted); err != nil {
		t.Fatal(err)
	}
	r := a.auth(t, m, false)
	checkAccepted(t, m, a, r, false)
	if rec.lastAuth() != "accept" {
		t.Fatalf("event %s, want accept", rec.lastAuth())
	}
	checkAccepted(t, m, a, a.auth(t, m, true), true)

	if r := impostor.auth(t, m, true); r["ret"] != false || rec.lastAuth() != "denied" {
		t.Fatalf("other key for an accepted id: %v, event %s; want denied", r, rec.lastAuth())
	}
	if k, _ := m.keys.Get(pki.Accepted, "web-1"); k != a.pub() {
		t.Fatal("an impostor changed the accepted key")
	}

	if err := m.keys.Move("web-1", pki.Accepted, pki.Rejected); err != nil {
		t.Fatal(err)
	}
	if r := a.auth(t, m, true); r["ret"] != false || rec.lastAuth() != "reject" {
		t.Fatalf("rejected key: %v, event %s", r, rec.lastAuth())
	}
}

// checkAccepted checks an accepted reply as a minion would.
func checkAccepted(t *testing.T, m *Master, ms *minionSide, r map[string]any, token bool) {
	t.Helper()
	if r["enc"] != "pub" || r["pub_key"] != m.pubPEM || r["publish_port"] != int64(m.cfg.PublishPort) {
		t.Fatalf("accepted reply %v", r)
	}
	dec := func(field string) string {
		ct, err := wire.Bytes(r, field)
		if err != nil {
			t.Fatalf("%s: %v", field, err)
		}
		pt, err := crypto.Decrypt(ms.key, crypto.OAEPSHA1, ct)
		if err != nil {
			t.Fatalf("%s: %v", field, err)
		}
		return string(pt)
	}
	aes := dec("aes")
	if aes != m.aes.current().key {
		t.Fatal("aes is not the master AES key")
	}
	sig, _ := wire.Bytes(r, "sig")
	digest, err := crypto.VerifyX931(&m.priv.PublicKey, sig)
	sum := sha256.Sum256([]byte(aes))
	if err != nil || string(digest) != hex.EncodeToString(sum[:]) {
		t.Fatalf("sig does not recover sha256(aes): %v", err)
	}
	sess, _ := os.ReadFile(filepath.Join(m.cfg.CacheDir, "sessions", ms.id))
	if got := dec("session"); got != string(sess) {
		t.Fatal("session is not the minion's session key")
	}
	if fi, _ := os.Stat(filepath.Join(m.cfg.CacheDir, "sessions", ms.id)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file mode %v", fi.Mode())
	}
	_, hasToken := r["token"]
	if hasToken != token || (token && dec("token") != ms.token) {
		t.Fatalf("token echo: present %v, want %v", hasToken, token)
	}
}

func TestAuthPolicies(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mutate   func(*config.Master)
		setup    func(t *testing.T, m *Master)
		want     any // ret, or "accept"
		wantAct  string
		wantFile pki.State
	}{
		{name: "auto_accept", mutate: func(c *config.Master) { c.AutoAccept = true }, want: "accept", wantAct: "accept", wantFile: pki.Accepted},
		{name: "autosign_file glob", setup: func(t *testing.T, m *Master) {
			os.WriteFile(m.cfg.AutosignFile, []byte("# web servers\nweb-*\n"), 0o600)
		}, want: "accept", wantAct: "accept", wantFile: pki.Accepted},
		{name: "autosign_file regex", setup: func(t *testing.T, m *Master) {
			os.WriteFile(m.cfg.AutosignFile, []byte("w.b-[0-9]+\n"), 0o600)
		}, want: "accept", wantAct: "accept", wantFile: pki.Accepted},
		{name: "autosign_file writable by others is ignored", setup: func(t *testing.T, m *Master) {
			os.WriteFile(m.cfg.AutosignFile, []byte("*\n"), 0o600)
			os.Chmod(m.cfg.AutosignFile, 0o666)
		}, want: true, wantAct: "pend", wantFile: pki.Pending},
		{name: "autoreject_file", setup: func(t *testing.T, m *Master) {
			os.WriteFile(m.cfg.AutorejectFile, []byte("web-1\n"), 0o600)
		}, want: false, wantAct: "reject", wantFile: pki.Rejected},
		{name: "autoreject beats auto_accept", mutate: func(c *config.Master) { c.AutoAccept = true }, setup: func(t *testing.T, m *Master) {
			os.WriteFile(m.cfg.AutorejectFile, []byte("*\n"), 0o600)
		}, want: false, wantAct: "reject", wantFile: pki.Rejected},
		{name: "open_mode overwrites a rejected key", mutate: func(c *config.Master) { c.OpenMode = true }, setup: func(t *testing.T, m *Master) {
			m.keys.Put(pki.Rejected, "web-1", "old")
		}, want: "accept", wantAct: "accept", wantFile: pki.Accepted},
		{name: "max_minions full", mutate: func(c *config.Master) { c.MaxMinions = 1 }, setup: func(t *testing.T, m *Master) {
			m.keys.Put(pki.Accepted, "other", newMinionSide(t, "other", "minion-b").pub())
		}, want: "full", wantAct: "full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, rec := newTestMaster(t, tc.mutate)
			if tc.setup != nil {
				tc.setup(t, m)
			}
			a := newMinionSide(t, "web-1", "minion-a")
			r := a.auth(t, m, false)
			if tc.want == "accept" {
				checkAccepted(t, m, a, r, false)
			} else if r["ret"] != tc.want {
				t.Fatalf("ret %v, want %v", r["ret"], tc.want)
			}
			if got := rec.lastAuth(); got != tc.wantAct {
				t.Fatalf("event act %q, want %q", got, tc.wantAct)
			}
			if tc.wantFile != "" {
				if k, err := m.keys.Get(tc.wantFile, "web-1"); err != nil || k != a.pub() {
					t.Fatalf("key in %s: %q, %v", tc.wantFile, k, err)
				}
			}
		})
	}
}

// Bad input is answered, writes nothing to the pki dir, and the master
// goes on serving a good minion.
func TestAuthBadInput(t *testing.T) {
	m, rec := newTestMaster(t, nil)
	a := newMinionSide(t, "web-1", "minion-a")
	before := keyFiles(t, m)
	good := func(mod func(wire.Map) wire.Map) []byte {
		load := a.authLoad(t, m, strings.Repeat("cd", 16), false)
		return request(t, &wire.Request{Enc: "clear", Load: mod(load), Version: 3})
	}
	set := func(key string, v any) func(wire.Map) wire.Map {
		return func(l wire.Map) wire.Map {
			out := slices.Clone(l)
			for i := range out {
				if out[i].Key == key {
					out[i].Value = v
				}
			}
			return out
		}
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want string // substring of the decoded reply
	}{
		{"id with a slash", good(set("id", "../../etc/passwd")), "false"},
		{"id with a backslash", good(set("id", `web\1`)), "false"},
		{"id with dot-dot", good(set("id", "web..1")), "false"},
		{"id of 256 bytes", good(set("id", strings.Repeat("a", 256))), "false"},
		{"id with NUL", good(set("id", "web\x001")), "null byte"},
		{"bad enc algo", good(set("enc_algo", "RSA-OOPS")), "bad enc algo"},
		{"bad sig algo", good(set("sig_algo", "MD5")), "bad sig algo"},
		{"unreadable pub", good(set("pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")), "false"},
		{"no nonce", good(set("nonce", "")), "false"},
		{"garbage", []byte("\xff\x00garbage"), "bad load"},
		{"truncated", good(set("id", "web-1"))[:40], "bad load"},
		{"load not a map", request(t, &wire.Request{Enc: "aes", Load: []byte("x"), Version: 2}), "bad load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged := len(rec.logs.String())
			raw := m.handle(context.Background(), tc.raw)
			if got := describeReply(t, m, raw); !strings.Contains(got, tc.want) {
				t.Fatalf("reply %s, want it to say %q", got, tc.want)
			}
			if after := keyFiles(t, m); !slices.Equal(before, after) {
				t.Fatalf("pki dir changed: %v → %v", before, after)
			}
			if line := rec.logs.String()[logged:]; !strings.Contains(line, "msg=\"master: ") {
				t.Fatalf("no log line says what was refused (log: %q)", line)
			}
		})
	}
	if r := a.auth(t, m, false); r["ret"] != true {
		t.Fatalf("a good minion after the bad input: %v", r)
	}
}

// describeReply renders any master reply as text: the signed inner map,
// a clear map, or a bare string.
func describeReply(t *testing.T, m *Master, raw []byte) string {
	if s, err := wire.DecodeSignedReply(raw); err == nil {
		inner, err := wire.UnmarshalMap(s.Load)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(inner)
	}
	v, err := wire.Unmarshal(raw)
	if err != nil {
		t.Fatalf("undecodable reply: %v", err)
	}
	return fmt.Sprint(v)
}

// aesRequest seals a version 3 AES request for ms with its session key.
func aesRequest(t testing.TB, m *Master, ms *minionSide, envID string, load wire.Map) ([]byte, string) {
	t.Helper()
	sess, err := m.sessions.get(ms.id)
	if err != nil {
		t.Fatal(err)
	}
	nonce := hex.EncodeToString([]byte(fmt.Sprintf("%016d", time.Now().UnixNano()%1e16)))
	tok, err := crypto.SignX931(rand.Reader, ms.key, []byte("salt"))
	if err != nil {
		t.Fatal(err)
	}
	full := append(slices.Clone(load), wire.Field{Key: "nonce", Value: nonce}, wire.Field{Key: "ts", Value: time.Now().Unix()}, wire.Field{Key: "tok", Value: tok})
	payload, _ := wire.Marshal(full)
	sealed, err := sess.c.Seal(rand.Reader, "", payload)
	if err != nil {
		t.Fatal(err)
	}
	return request(t, &wire.Request{Enc: "aes", Load: sealed, Version: 3, ID: envID, EncAlgo: "OAEP-SHA1", SigAlgo: "PKCS1v15-SHA1"}), nonce
}

// openReply decrypts an AES reply with the session key and nonce.
func openReply(t *testing.T, m *Master, id, nonce string, raw []byte) (any, error) {
	t.Helper()
	v, err := wire.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	blob, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("reply %v", v)
	}
	sess, _ := m.sessions.get(id)
	plain, err := sess.c.Open(blob, nonce)
	if err != nil {
		return nil, err
	}
	return wire.Unmarshal(plain)
}

func TestAESRequests(t *testing.T) {
	m, rec := newTestMaster(t, nil)
	a := newMinionSide(t, "web-1", "minion-a")
	b := newMinionSide(t, "web-2", "minion-b")
	m.keys.Put(pki.Accepted, a.id, a.pub())
	m.keys.Put(pki.Accepted, b.id, b.pub())
	event := wire.Map{{Key: "id", Value: "web-1"}, {Key: "cmd", Value: "_minion_event"}, {Key: "pretag", Value: nil},
		{Key: "data", Value: "Minion web-1 started"}, {Key: "tag", Value: "minion_start"}}

	raw, nonce := aesRequest(t, m, a, a.id, event)
	got, err := openReply(t, m, a.id, nonce, m.handle(context.Background(), raw))
	if err != nil || got != nil {
		t.Fatalf("_minion_event reply %v, %v; want nil", got, err)
	}
	rec.mu.Lock()
	last := rec.evs[len(rec.evs)-1]
	rec.mu.Unlock()
	if last.tag != "minion_start" || last.data["data"] != "Minion web-1 started" || last.data["tok"] != nil || last.data["nonce"] != nil {
		t.Fatalf("fired %s %v; want minion_start with the load minus tok and nonce", last.tag, last.data)
	}

	t.Run("replayed", func(t *testing.T) {
		if r := describeReply(t, m, m.handle(context.Background(), raw)); r != "bad load" {
			t.Fatalf("replay answered %s", r)
		}
	})
	t.Run("bad HMAC", func(t *testing.T) {
		raw, _ := aesRequest(t, m, a, a.id, event)
		env, _ := wire.DecodeRequest(raw)
		blob := env.Load.([]byte)
		blob[len(blob)-1] ^= 1
		if r := describeReply(t, m, m.handle(context.Background(), request(t, env))); r != "bad load" {
			t.Fatalf("answered %s", r)
		}
	})
	t.Run("envelope id is not the load id", func(t *testing.T) {
		load := slices.Clone(event)
		load[0].Value = "web-2"
		raw, _ := aesRequest(t, m, a, a.id, load)
		if r := describeReply(t, m, m.handle(context.Background(), raw)); r != "bad load" {
			t.Fatalf("answered %s", r)
		}
	})
	t.Run("tok of another key", func(t *testing.T) {
		liar := &minionSide{id: a.id, key: b.key}
		raw, _ := aesRequest(t, m, liar, a.id, event)
		if r := describeReply(t, m, m.handle(context.Background(), raw)); r != "bad load" {
			t.Fatalf("answered %s", r)
		}
	})
	t.Run("the accepted key replaced", func(t *testing.T) {
		// a's tok verified above and is remembered; once web-1's accepted
		// key is b's, only b's tok counts, and a's counts again after.
		m.keys.Put(pki.Accepted, a.id, b.pub())
		defer m.keys.Put(pki.Accepted, a.id, a.pub())
		if raw, _ := aesRequest(t, m, a, a.id, event); describeReply(t, m, m.handle(context.Background(), raw)) != "bad load" {
			t.Fatal("the tok of the replaced key still counts")
		}
		now := &minionSide{id: a.id, key: b.key}
		raw, nonce := aesRequest(t, m, now, a.id, event)
		if got, err := openReply(t, m, a.id, nonce, m.handle(context.Background(), raw)); err != nil || got != nil {
			t.Fatalf("the new key's tok: %v, %v", got, err)
		}
	})
	t.Run("unknown minion", func(t *testing.T) {
		ghost := &minionSide{id: "ghost", key: a.key}
		load := slices.Clone(event)
		load[0].Value = "ghost"
		raw, _ := aesRequest(t, m, ghost, "ghost", load)
		if r := describeReply(t, m, m.handle(context.Background(), raw)); r != "bad load" {
			t.Fatalf("answered %s", r)
		}
	})
	for _, cmd := range []string{"__hidden", "no_such_command"} {
		t.Run(cmd, func(t *testing.T) {
			raw, nonce := aesRequest(t, m, a, a.id, wire.Map{{Key: "id", Value: "web-1"}, {Key: "cmd", Value: cmd}})
			got, err := openReply(t, m, a.id, nonce, m.handle(context.Background(), raw))
			if err != nil || fmt.Sprint(got) != "map[]" {
				t.Fatalf("reply %v, %v; want {}", got, err)
			}
		})
	}
}

func TestClearCommands(t *testing.T) {
	m, _ := newTestMaster(t, nil)
	load := wire.Map{{Key: "cmd", Value: "ping"}, {Key: "hello", Value: "world"}}
	got := describeReply(t, m, m.handle(context.Background(), request(t, &wire.Request{Enc: "clear", Load: load, Version: 3})))
	if got != "map[cmd:ping hello:world]" {
		t.Fatalf("ping answered %s, want the load echoed", got)
	}
	got = describeReply(t, m, m.handle(context.Background(), request(t, &wire.Request{Enc: "clear", Load: wire.Map{{Key: "cmd", Value: "_prep_auth_info"}}, Version: 3})))
	if got != "map[]" {
		t.Fatalf("a clear command that is not exposed answered %s, want {}", got)
	}
}

func TestPublicationWrap(t *testing.T) {
	m, _ := newTestMaster(t, nil)
	load, _ := wire.Marshal(map[string]any{"fun": "test.ping", "arg": []any{}, "tgt": "*", "jid": "20261127054507357865", "tgt_type": "glob"})
	for want := int64(1); want <= 2; want++ {
		out, err := m.wrapPublication([][]byte{load})
		if err != nil || len(out) != 1 || len(out[0]) != 1 {
			t.Fatalf("%v %v", out, err)
		}
		pub, err := wire.DecodePublication(out[0][0])
		if err != nil {
			t.Fatal(err)
		}
		if err := crypto.Verify(&m.priv.PublicKey, crypto.PKCS1v15SHA1, pub.Load, pub.Sig); err != nil || pub.SigAlgo != "PKCS1v15-SHA1" {
			t.Fatalf("signature: %v (%s)", err, pub.SigAlgo)
		}
		plain, err := m.aes.current().c.Open(pub.Load, "")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := wire.UnmarshalMap(plain)
		if got["serial"] != want || got["fun"] != "test.ping" {
			t.Fatalf("load %v, want serial %d", got, want)
		}
	}
	if _, err := m.wrapPublication([][]byte{[]byte("not msgpack \xc1")}); err == nil {
		t.Fatal("garbage wrapped")
	}
}

func TestRotateAES(t *testing.T) {
	m, rec := newTestMaster(t, nil)
	before := m.aes.current()
	m.rotateAES(context.Background(), "test")
	after := m.aes.current()
	if before.key == after.key || after.serial.Load() != 0 {
		t.Fatal("rotation kept the key or the serial")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if ev := rec.evs[len(rec.evs)-1]; ev.tag != "key" || ev.data["rotate_aes_key"] != true {
		t.Fatalf("event %v", ev)
	}
}

// With master_sign_pubkey the accepted reply carries pub_sig: base64 and
// a newline of master_sign.pem's signature over the master's public key.
func TestMasterSignPubkey(t *testing.T) {
	m, _ := newTestMaster(t, func(c *config.Master) { c.MasterSignPubkey = true; c.AutoAccept = true })
	a := newMinionSide(t, "web-1", "minion-a")
	r := a.auth(t, m, false)
	checkAccepted(t, m, a, r, false)
	s, _ := r["pub_sig"].(string)
	if !strings.HasSuffix(s, "\n") {
		t.Fatalf("pub_sig %q is not a base64 line", s)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(s, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	signPub, err := crypto.ReadPublicKey(filepath.Join(m.cfg.PKIDir, "master_sign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := crypto.Verify(signPub, crypto.PKCS1v15SHA1, []byte(m.pubPEM), sig); err != nil {
		t.Fatalf("pub_sig does not verify with master_sign.pub: %v", err)
	}
}

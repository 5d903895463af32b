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

// count is how many events were fired so far.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
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
func (ms *minionSide) authLoad(t testing.TB, m *Master, nonce string, withToken bool) wire.Map {
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

// keyFiles lists the files an _auth or a request may create for a minion
// id: its keys in the pki dir and its session key.
func keyFiles(t *testing.T, m *Master) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{m.cfg.PKIDir, filepath.Join(m.cfg.CacheDir, "sessions")} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
	}
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

// Bad input is answered, writes nothing to the pki dir or the session
// keys, and the master goes on serving a good minion.
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
		{"id dot-dot", good(set("id", "..")), "false"},
		{"id dot", good(set("id", ".")), "false"},
		{"empty id", good(set("id", "")), "false"},
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
	full, nonce := channelLoad(t, ms, load)
	return sealRequest(t, sess.c, 3, envID, full), nonce
}

// channelLoad is load with what a minion's request channel adds: nonce,
// ts and tok.
func channelLoad(t testing.TB, ms *minionSide, load wire.Map) (wire.Map, string) {
	t.Helper()
	// Random, as a minion's: two requests made within one tick of a
	// coarse clock must not share a nonce and be refused as a replay.
	var b [16]byte
	rand.Read(b[:])
	nonce := hex.EncodeToString(b[:])
	tok, err := crypto.SignX931(rand.Reader, ms.key, []byte("salt"))
	if err != nil {
		t.Fatal(err)
	}
	return append(slices.Clone(load), wire.Field{Key: "nonce", Value: nonce}, wire.Field{Key: "ts", Value: time.Now().Unix()}, wire.Field{Key: "tok", Value: tok}), nonce
}

// sealRequest seals a whole load under c as an AES request envelope.
func sealRequest(t testing.TB, c *crypto.Crypticle, version int, envID string, full wire.Map) []byte {
	t.Helper()
	payload, err := wire.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := c.Seal(rand.Reader, "", payload)
	if err != nil {
		t.Fatal(err)
	}
	return request(t, &wire.Request{Enc: "aes", Load: sealed, Version: version, ID: envID, EncAlgo: "OAEP-SHA1", SigAlgo: "PKCS1v15-SHA1"})
}

// withField returns a copy of l with key set to v (added if missing).
func withField(l wire.Map, key string, v any) wire.Map {
	out := slices.Clone(l)
	for i := range out {
		if out[i].Key == key {
			out[i].Value = v
			return out
		}
	}
	return append(out, wire.Field{Key: key, Value: v})
}

// withoutField returns a copy of l without key.
func withoutField(l wire.Map, key string) wire.Map {
	return slices.DeleteFunc(slices.Clone(l), func(f wire.Field) bool { return f.Key == key })
}

// refusedAES checks that an AES request is answered "bad load", runs
// nothing (no event fired) and is logged.
func refusedAES(t *testing.T, m *Master, rec *recorder, raw []byte) {
	t.Helper()
	fired, logged := rec.count(), len(rec.logs.String())
	if r := describeReply(t, m, m.handle(context.Background(), raw)); r != "bad load" {
		t.Fatalf("answered %s, want bad load", r)
	}
	if rec.count() != fired {
		t.Fatal("a refused request fired an event")
	}
	if line := rec.logs.String()[logged:]; !strings.Contains(line, "msg=\"master: ") {
		t.Fatalf("no log line says what was refused (log: %q)", line)
	}
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
	sessA, _ := m.sessions.get(a.id)
	sessB, _ := m.sessions.get(b.id)

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

	t.Run("replayed nonce", func(t *testing.T) {
		refusedAES(t, m, rec, raw)
	})
	t.Run("bad HMAC", func(t *testing.T) {
		raw, _ := aesRequest(t, m, a, a.id, event)
		env, _ := wire.DecodeRequest(raw)
		blob := env.Load.([]byte)
		blob[len(blob)-1] ^= 1
		refusedAES(t, m, rec, request(t, env))
	})
	t.Run("wrong session key", func(t *testing.T) {
		full, _ := channelLoad(t, a, event)
		refusedAES(t, m, rec, sealRequest(t, sessB.c, 3, a.id, full))
	})
	t.Run("master AES key instead of the session key", func(t *testing.T) {
		full, _ := channelLoad(t, a, event)
		refusedAES(t, m, rec, sealRequest(t, m.aes.current().c, 3, a.id, full))
	})
	t.Run("envelope id is not the load id", func(t *testing.T) {
		raw, _ := aesRequest(t, m, a, a.id, withField(event, "id", "web-2"))
		refusedAES(t, m, rec, raw)
	})
	t.Run("envelope id is not the load id, with the load id's tok", func(t *testing.T) {
		// A tok is the same bytes on every request (version 2 sent it
		// under the key all minions hold): holding web-2's is not being
		// web-2.
		withBTok := &minionSide{id: a.id, key: b.key}
		raw, _ := aesRequest(t, m, withBTok, a.id, withField(event, "id", b.id))
		refusedAES(t, m, rec, raw)
	})
	t.Run("missing tok", func(t *testing.T) {
		full, _ := channelLoad(t, a, event)
		refusedAES(t, m, rec, sealRequest(t, sessA.c, 3, a.id, withoutField(full, "tok")))
	})
	t.Run("garbage tok", func(t *testing.T) {
		full, _ := channelLoad(t, a, event)
		refusedAES(t, m, rec, sealRequest(t, sessA.c, 3, a.id, withField(full, "tok", bytes.Repeat([]byte{0x5a}, 256))))
	})
	t.Run("tok of another key", func(t *testing.T) {
		liar := &minionSide{id: a.id, key: b.key}
		raw, _ := aesRequest(t, m, liar, a.id, event)
		refusedAES(t, m, rec, raw)
	})
	t.Run("version 2 tok of another key", func(t *testing.T) {
		// Version 2 requests are under the master AES key, which every
		// accepted minion holds; a tok, when there is one, still has to
		// be the claimed id's.
		liar := &minionSide{id: a.id, key: b.key}
		full, _ := channelLoad(t, liar, event)
		refusedAES(t, m, rec, sealRequest(t, m.aes.current().c, 2, "", full))
	})
	t.Run("version 2 without a tok", func(t *testing.T) {
		full, _ := channelLoad(t, a, withField(event, "id", "web-2"))
		refusedAES(t, m, rec, sealRequest(t, m.aes.current().c, 2, "", withoutField(full, "tok")))
	})
	t.Run("the accepted key replaced", func(t *testing.T) {
		// a's tok verified above and is remembered; once web-1's accepted
		// key is b's, only b's tok counts, and a's counts again after.
		m.keys.Put(pki.Accepted, a.id, b.pub())
		defer m.keys.Put(pki.Accepted, a.id, a.pub())
		raw, _ := aesRequest(t, m, a, a.id, event)
		refusedAES(t, m, rec, raw)
		now := &minionSide{id: a.id, key: b.key}
		raw, nonce := aesRequest(t, m, now, a.id, event)
		if got, err := openReply(t, m, a.id, nonce, m.handle(context.Background(), raw)); err != nil || got != nil {
			t.Fatalf("the new key's tok: %v, %v", got, err)
		}
	})
	t.Run("unknown minion", func(t *testing.T) {
		// Anyone who reaches the ret port can name any id: none may cost
		// the master a session key file.
		before := keyFiles(t, m)
		key, err := crypto.GenerateCrypticleKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		c, err := crypto.NewCrypticle(key)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			id := fmt.Sprintf("ghost-%d", i)
			full, _ := channelLoad(t, a, withField(event, "id", id))
			refusedAES(t, m, rec, sealRequest(t, c, 3, id, full))
		}
		if after := keyFiles(t, m); !slices.Equal(before, after) {
			t.Fatalf("key or session files changed: %v → %v", before, after)
		}
	})
	t.Run("envelope id with a path", func(t *testing.T) {
		before := keyFiles(t, m)
		for _, id := range []string{"../web-1", "web-1/../../x", "..", "web\\1", "web-1\x00"} {
			full, _ := channelLoad(t, a, withField(event, "id", id))
			refusedAES(t, m, rec, sealRequest(t, sessA.c, 3, id, full))
		}
		if after := keyFiles(t, m); !slices.Equal(before, after) {
			t.Fatalf("key or session files changed: %v → %v", before, after)
		}
	})
	t.Run("ts outside request_server_ttl", func(t *testing.T) {
		m.cfg.RequestServerTTL = 60
		defer func() { m.cfg.RequestServerTTL = 0 }()
		fresh, nonce := aesRequest(t, m, a, a.id, event)
		if got, err := openReply(t, m, a.id, nonce, m.handle(context.Background(), fresh)); err != nil || got != nil {
			t.Fatalf("a fresh request under request_server_ttl: %v, %v", got, err)
		}
		full, _ := channelLoad(t, a, event)
		refusedAES(t, m, rec, sealRequest(t, sessA.c, 3, a.id, withField(full, "ts", time.Now().Unix()-61)))
		full, _ = channelLoad(t, a, event)
		refusedAES(t, m, rec, sealRequest(t, sessA.c, 3, a.id, withoutField(full, "ts")))
	})
	for _, cmd := range []string{"__hidden", "no_such_command"} {
		t.Run(cmd, func(t *testing.T) {
			fired := rec.count()
			raw, nonce := aesRequest(t, m, a, a.id, wire.Map{{Key: "id", Value: "web-1"}, {Key: "cmd", Value: cmd}})
			got, err := openReply(t, m, a.id, nonce, m.handle(context.Background(), raw))
			if err != nil || fmt.Sprint(got) != "map[]" {
				t.Fatalf("reply %v, %v; want {}", got, err)
			}
			if rec.count() != fired {
				t.Fatal("an unknown command fired an event")
			}
		})
	}
}

// The clear channel (no key needed to reach it) runs _auth, ping, and
// publish and runner for a local client holding a root key; anything else
// is answered without being run, and logged: CVE-2020-11651's way in
// (_prep_auth_info, _send_pub and other methods reachable unauthenticated)
// is closed.
func TestClearCommands(t *testing.T) {
	m, rec := newTestMaster(t, func(c *config.Master) { c.FileRecv = true })
	a := newMinionSide(t, "web-1", "minion-a")
	m.keys.Put(pki.Accepted, a.id, a.pub())
	ctx := context.Background()
	clear := func(fields ...wire.Field) []byte {
		return request(t, &wire.Request{Enc: "clear", Load: wire.Map(fields), Version: 3})
	}
	f := func(k string, v any) wire.Field { return wire.Field{Key: k, Value: v} }

	got := describeReply(t, m, m.handle(ctx, clear(f("cmd", "ping"), f("hello", "world"))))
	if got != "map[cmd:ping hello:world]" {
		t.Fatalf("ping answered %s, want the load echoed", got)
	}
	v, _ := wire.UnmarshalMap(m.handle(ctx, publishReq(t, m, "*", "glob", m.rootKeys["root"])))
	jid, _ := v["load"].(map[string]any)["jid"].(string)
	if !jidValid(jid) {
		t.Fatalf("publish with the root key: %v", v)
	}
	jobs, _ := m.jobs.Jobs(ctx, time.Time{})
	fileRecv := filepath.Join(m.cfg.CacheDir, "minions", a.id, "files")

	publish := func(key ...wire.Field) []byte {
		return clear(append([]wire.Field{f("cmd", "publish"), f("tgt", "*"), f("fun", "cmd.run"), f("arg", []any{"id"}), f("tgt_type", "glob")}, key...)...)
	}
	runner := func(key ...wire.Field) []byte {
		return clear(append([]wire.Field{f("cmd", "runner"), f("fun", "manage.up"), f("arg", []any{}), f("kwarg", map[string]any{})}, key...)...)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want string // the reply, as describeReply renders it
	}{
		{"no cmd", clear(f("hello", "world")), "map[]"},
		{"_prep_auth_info", clear(f("cmd", "_prep_auth_info")), "map[]"},
		{"_send_pub", clear(f("cmd", "_send_pub"), f("fun", "cmd.run"), f("arg", []any{"id"}), f("tgt", "*"), f("jid", jid)), "map[]"},
		{"dunder method", clear(f("cmd", "__init__")), "map[]"},
		{"wheel with the root key", clear(f("cmd", "wheel"), f("fun", "key.accept"), f("match", "*"), f("key", m.rootKeys["root"])), "map[]"},
		{"mk_token", clear(f("cmd", "mk_token"), f("eauth", "pam"), f("username", "root"), f("password", "x")), "map[]"},
		{"get_token", clear(f("cmd", "get_token"), f("token", "x")), "map[]"},
		{"_return over clear", clear(f("cmd", "_return"), f("id", a.id), f("jid", jid), f("return", "forged"), f("success", true)), "map[]"},
		{"_file_recv over clear", clear(f("cmd", "_file_recv"), f("id", a.id), f("path", []any{"x"}), f("loc", int64(0)), f("data", "x"), f("size", int64(1))), "map[]"},
		{"_minion_event over clear", clear(f("cmd", "_minion_event"), f("id", a.id), f("tag", "salt/job/"+jid+"/ret/web-1"), f("data", "forged")), "map[]"},
		{"publish without a key", publish(), "AuthenticationError"},
		{"publish with an empty key", publish(f("key", "")), "AuthenticationError"},
		{"publish with a wrong key", publish(f("key", "not the key")), "AuthenticationError"},
		{"runner without a key", runner(), "AuthenticationError"},
		{"runner with a wrong key", runner(f("key", strings.Repeat("A", len(m.rootKeys["root"])))), "AuthenticationError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fired, logged := rec.count(), len(rec.logs.String())
			if got := describeReply(t, m, m.handle(ctx, tc.raw)); !strings.Contains(got, tc.want) {
				t.Fatalf("answered %s, want %s", got, tc.want)
			}
			if rec.count() != fired {
				t.Fatal("a refused clear command fired an event")
			}
			if now, _ := m.jobs.Jobs(ctx, time.Time{}); len(now) != len(jobs) {
				t.Fatalf("a refused clear command made a job: %d jobs, want %d", len(now), len(jobs))
			}
			if rets, _ := m.jobs.Returns(ctx, jid); len(rets) != 0 {
				t.Fatalf("a refused clear command stored a return: %v", rets)
			}
			if _, err := os.Stat(fileRecv); err == nil {
				t.Fatal("a refused clear command received a file")
			}
			if line := rec.logs.String()[logged:]; !strings.Contains(line, "msg=\"master: ") {
				t.Fatalf("no log line says what was refused (log: %q)", line)
			}
		})
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

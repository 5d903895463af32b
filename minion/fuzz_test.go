package minion

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/internal/saltvectors"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

// fuzzID is the minion of Salt's captures, so that their publications
// target it.
const fuzzID = "real-minion-1"

// FuzzPublication feeds the minion's handler of the publish port whole
// messages: decoding, the signature check (sign_pub_messages on or off),
// decryption, the serial and target matching, and the start of the job.
// Nothing may panic; a job runs only for a publication that opens under
// the minion's AES key and, when signatures are checked, carries the
// master's signature; a dropped publication changes nothing (not the
// credentials, not the serial guard); an accepted serial is remembered,
// so the same publication played again runs no job.
//
// The handler runs with a context that has ended: a publication that
// fails its HMAC makes the minion authenticate again, which needs a
// master, and a job's return would go to one. With the context ended both
// give up at once, and no byte leaves the process.
func FuzzPublication(f *testing.F) {
	master, aesKey := publicationKeys(f)
	aes, err := crypto.NewCrypticle(aesKey)
	if err != nil {
		f.Fatal(err)
	}
	var ran atomic.Int64
	m := fuzzMinion(f, master, aes, aesKey, &ran)

	for _, b := range capturedPublications() {
		f.Add(false, b)
		f.Add(true, b)
	}
	other, err := crypto.GenerateCrypticleKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	otherAES, _ := crypto.NewCrypticle(other)
	var first []byte // a signed publication of test.ping to '*'
	for _, load := range []map[string]any{
		{"fun": "test.ping", "arg": []any{}, "tgt": "*", "jid": "20261127055816392985", "ret": "", "tgt_type": "glob", "user": "root", "serial": int64(1)},
		{"fun": "test.ping", "arg": []any{"a", map[string]any{"__kwarg__": true, "k": 1}}, "tgt": []any{fuzzID, "other"}, "jid": "20261127055816392986", "tgt_type": "list"},
		{"fun": "test.ping", "arg": []any{}, "tgt": "G@os:Debian and real-*", "jid": "20261127055816392987", "tgt_type": "compound", "serial": int64(7)},
		{"fun": "test.ping", "arg": []any{}, "tgt": "roles|web", "jid": "20261127055816392988", "tgt_type": "grain", "delimiter": "|"},
		{"fun": "test.ping", "arg": []any{}, "tgt": "nobody", "jid": "20261127055816392989", "tgt_type": "glob"},
		{"fun": "test.ping", "arg": []any{}, "tgt": "( x", "jid": "20261127055816392990", "tgt_type": "compound"},
		{"fun": "no.such", "arg": []any{}, "tgt": "*", "jid": "20261127055816392991"},
		{"arg": []any{}, "tgt": "*", "jid": "20261127055816392992"},
	} {
		payload, err := wire.Marshal(load)
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range []*crypto.Crypticle{aes, otherAES} {
			sealed, err := c.Seal(rand.Reader, "", payload)
			if err != nil {
				f.Fatal(err)
			}
			sig, err := crypto.Sign(master, crypto.PKCS1v15SHA1, sealed)
			if err != nil {
				f.Fatal(err)
			}
			for _, p := range []*wire.Publication{{Load: sealed, SigAlgo: "PKCS1v15-SHA1", Sig: sig}, {Load: sealed}} {
				b, err := p.Marshal()
				if err != nil {
					f.Fatal(err)
				}
				if first == nil {
					first = b
				}
				f.Add(true, b)
				f.Add(false, b)
			}
		}
	}

	// Truncated and garbled publications, and garbage.
	for _, cut := range []int{0, 1, len(first) / 2, len(first) - 1} {
		f.Add(true, first[:cut])
		f.Add(false, first[:cut])
	}
	f.Add(true, append(bytes.Clone(first), 0))
	f.Add(false, bytes.ReplaceAll(bytes.Clone(first), []byte("load"), []byte("lead")))
	for _, s := range []string{"\xc0", "\x80", "\x81\xa4load\x01", "\x82\xa4load\xc4\x00\xa3sig\xc4\x00", "\x93\x01\x02\x03"} {
		f.Add(false, []byte(s))
	}

	ended, cancel := context.WithCancel(context.Background())
	cancel()
	publish := func(raw []byte) (jobRan bool) {
		before := ran.Load()
		m.publication(ended, [][]byte{raw})
		m.jobsWG.Wait()
		return ran.Load() != before
	}
	handle := func(signed bool, raw []byte) (jobRan bool) {
		m.cfg.SignPubMessages = signed
		m.creds.serials.Reset() // each input on its own: a seed is no replay of itself
		return publish(raw)
	}
	// The harness must reach the jobs, or it fuzzes less than it says.
	if !handle(true, first) {
		f.Fatal("a signed publication of test.ping to '*' ran no job")
	}
	f.Fuzz(func(t *testing.T, signed bool, raw []byte) {
		c := m.currentCreds()
		jobRan := handle(signed, raw)
		if m.currentCreds() != c {
			t.Fatal("a publication changed the minion's credentials")
		}
		load, why := acceptable(master, aes, signed, raw)
		if why != "" {
			if jobRan {
				t.Fatalf("a job ran for a publication that %s", why)
			}
			// Nothing was taken from it, not even its serial.
			if !c.serials.Check(1) {
				t.Fatalf("a publication that %s moved the serial guard", why)
			}
			return
		}
		serial, err := wire.Int(load, "serial")
		if err != nil {
			return // no serial: nothing to remember
		}
		if c.serials.Check(serial) {
			t.Fatalf("the serial %d of an accepted publication was not remembered", serial)
		}
		if jobRan && publish(raw) {
			t.Fatalf("a publication played again (serial %d) ran its job again", serial)
		}
	})
}

// acceptable is what the minion may take from a publication: its load, or
// why it must drop it (it does not decode, its signature does not verify
// when signatures are checked, it does not open under the AES key, or its
// load is not a map).
func acceptable(master *rsa.PrivateKey, aes *crypto.Crypticle, signed bool, raw []byte) (map[string]any, string) {
	pub, err := wire.DecodePublication(raw)
	if err != nil {
		return nil, "does not decode"
	}
	if signed {
		algo, err := crypto.ParseSigAlgo(pub.SigAlgo)
		if err == nil {
			err = crypto.Verify(&master.PublicKey, algo, pub.Load, pub.Sig)
		}
		if err != nil {
			return nil, "has no valid signature"
		}
	}
	plain, err := aes.Open(pub.Load, "")
	if err != nil {
		return nil, "does not open"
	}
	load, err := wire.UnmarshalMap(plain)
	if err != nil {
		return nil, "carries no map"
	}
	return load, ""
}

// fuzzMinion is a minion that has authenticated (its creds are set: the
// master key and the AES key) and whose only function, test.ping, counts
// its calls in ran. Its request channel points at a socket nobody serves.
func fuzzMinion(f *testing.F, master *rsa.PrivateKey, aes *crypto.Crypticle, aesKey string, ran *atomic.Int64) *Minion {
	root := f.TempDir()
	cfg := config.DefaultMinion()
	cfg.RootDir, cfg.ConfDir, cfg.ID = root, root, fuzzID
	cfg.PKIDir, cfg.CacheDir = filepath.Join(root, "pki"), filepath.Join(root, "cache")
	cfg.SockDir = filepath.Join(root, "sock")
	reg := modules.NewRegistry()
	reg.Register(&modules.Spec{Name: "test.ping", VarArgs: true, VarKw: true, Fn: func(context.Context, *modules.Call) (any, error) {
		ran.Add(1)
		return true, nil
	}})
	// The minion's own key does not matter here: it signs nothing.
	m, err := NewWith(&cfg, Options{Key: master, Grains: map[string]any{"id": fuzzID, "os": "Debian", "roles": []any{"web", "db"}},
		Registry: reg, NoBus: true})
	if err != nil {
		f.Fatal(err)
	}
	m.creds = &creds{aes: aes, aesKey: aesKey, serials: &crypto.SerialGuard{}, session: aes, masterPub: &master.PublicKey}
	m.req, err = transport.NewReqClient(transport.ReqClientConfig{Addr: "ipc://" + filepath.Join(root, "nobody.ipc")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.req.Close() })
	return m
}

// publicationKeys are the master key and AES key of Salt's first capture
// run, whose publications then verify and open; without the captures, new
// ones.
func publicationKeys(f *testing.F) (*rsa.PrivateKey, string) {
	if dir, ok := saltvectors.Find(); ok {
		master, err := crypto.ReadPrivateKey(filepath.Join(dir, "keys", "master.pem"))
		if err != nil {
			f.Fatal(err)
		}
		aes, err := os.ReadFile(filepath.Join(dir, "keys", "run1.master_aes"))
		if err != nil {
			f.Fatal(err)
		}
		return master, strings.TrimSpace(string(aes))
	}
	master, err := crypto.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	aes, err := crypto.GenerateCrypticleKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	return master, aes
}

// capturedPublications are the publications a stock Salt master sent
// (frames/*-14505_s2c_part0.bin on the publish port).
func capturedPublications() [][]byte {
	dir, ok := saltvectors.Find()
	if !ok {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "frames", "*-14505_s2c_part0.bin"))
	var out [][]byte
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// FuzzAuthReply feeds the minion's check of an _auth answer whatever a
// server on the ret port may send: on first contact (no minion_master.pub
// yet, when any peer could answer) or with the master's key pinned. The
// answer comes from a request server of the test on an ipc socket, over
// the minion's real request channel. Nothing may panic, and an accepted
// answer must carry a signature that verifies with the key the minion then
// trusts (and, when pinned, that key must be the pinned one).
//
// The seeds are the _auth answers of Salt's captures, each with the nonce
// of its request, which the fuzzed nonce bytes become (newNonce's
// randomness).
func FuzzAuthReply(f *testing.F) {
	var priv, master *rsa.PrivateKey
	var seeds []authSeed
	if dir, ok := saltvectors.Find(); ok {
		var err error
		if priv, err = crypto.ReadPrivateKey(filepath.Join(dir, "keys", fuzzID+".pem")); err != nil {
			f.Fatal(err)
		}
		if master, err = crypto.ReadPrivateKey(filepath.Join(dir, "keys", "master.pem")); err != nil {
			f.Fatal(err)
		}
		seeds = capturedAuthReplies(f, dir)
		for _, s := range seeds {
			f.Add(false, s.nonce, s.reply)
			f.Add(true, s.nonce, s.reply)
		}
	} else {
		priv, _ = publicationKeys(f)
		master = priv
	}
	f.Add(false, make([]byte, 16), []byte("\x81\xa3enc\xa5clear"))

	root := f.TempDir()
	cfg := config.DefaultMinion()
	cfg.RootDir, cfg.ConfDir, cfg.ID = root, root, fuzzID
	cfg.PKIDir, cfg.CacheDir = filepath.Join(root, "pki"), filepath.Join(root, "cache")
	cfg.SockDir = filepath.Join(root, "sock")
	cfg.AuthTries = 1 // the server always answers: one try
	m, err := NewWith(&cfg, Options{Key: priv, Grains: map[string]any{"id": fuzzID}, Registry: modules.NewRegistry(), NoBus: true})
	if err != nil {
		f.Fatal(err)
	}
	var answer atomic.Pointer[[]byte]
	srv, err := transport.NewReqServer(transport.ReqServerConfig{
		Addr:    "ipc://" + filepath.Join(root, "ret.ipc"),
		Workers: 1,
		// A nil answer would mean "answered later" (transport.ReplyLater).
		Handler: func(context.Context, []byte) []byte { return append([]byte{}, *answer.Load()...) },
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	f.Cleanup(func() { stop(); <-served })
	if m.req, err = transport.NewReqClient(transport.ReqClientConfig{Addr: "ipc://" + filepath.Join(root, "ret.ipc")}); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.req.Close() })

	pinnedPath := filepath.Join(cfg.PKIDir, "minion_master.pub")
	pinned := crypto.PublicKeyPEM(&master.PublicKey)
	auth := func(t testing.TB, pin bool, nonce, reply []byte) *creds {
		if err := os.Remove(pinnedPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if pin {
			if err := os.WriteFile(pinnedPath, pinned, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		answer.Store(&reply)
		// The nonce, then real randomness for the token's encryption.
		m.rand = io.MultiReader(bytes.NewReader(append(bytes.Clone(nonce), make([]byte, 16)...)[:16]), rand.Reader)
		c, _ := m.authenticate(context.Background())
		return c
	}
	// The harness must reach acceptance: Salt's first accepted answer is
	// one, on first contact.
	accepted := 0
	for _, s := range seeds {
		if auth(f, false, s.nonce, s.reply) != nil {
			accepted++
		}
	}
	if len(seeds) > 0 && accepted == 0 {
		f.Fatal("no _auth answer of the captures was accepted")
	}
	f.Fuzz(func(t *testing.T, pin bool, nonce, reply []byte) {
		c := auth(t, pin, nonce, reply)
		if c == nil {
			return
		}
		signed, err := wire.DecodeSignedReply(reply)
		if err != nil {
			t.Fatalf("accepted an answer that is not signed: %v", err)
		}
		if err := crypto.Verify(c.masterPub, m.sigAlgo, signed.Load, signed.Sig); err != nil {
			t.Fatalf("accepted an answer whose signature does not verify with the trusted key: %v", err)
		}
		if pin && !c.masterPub.Equal(&master.PublicKey) {
			t.Fatal("accepted another master key than the pinned one")
		}
	})
}

type authSeed struct{ nonce, reply []byte }

// capturedAuthReplies are the _auth answers of the captures, each with the
// 16 bytes of its request's nonce.
func capturedAuthReplies(f *testing.F, dir string) []authSeed {
	var out []authSeed
	for _, capture := range saltvectors.Captures {
		d := saltvectors.Load(f, dir, capture)
		for _, msg := range d.Messages {
			if msg.ReplyTo == nil || *msg.ReplyTo >= len(d.Messages) {
				continue
			}
			req := d.Messages[*msg.ReplyTo]
			if req.Cmd != "_auth" {
				continue
			}
			r, err := wire.DecodeRequest(req.Payload(f, dir, capture))
			if err != nil {
				f.Fatal(err)
			}
			load, _ := r.Load.(map[string]any)
			nonce, err := hex.DecodeString(fmt.Sprint(load["nonce"]))
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, authSeed{nonce, msg.Payload(f, dir, capture)})
		}
	}
	if len(out) == 0 {
		f.Fatal("no _auth answers in the captures")
	}
	return out
}

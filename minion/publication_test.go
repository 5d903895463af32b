package minion

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func readKey(t *testing.T, name string) *rsa.PrivateKey {
	t.Helper()
	k, err := crypto.ReadPrivateKey(filepath.Join("testdata", name+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fakeMaster is what a minion's publications and returns meet: it wraps
// publications as the master's wrapLoad does (a serial, sealed under the
// master AES key, signed with master.pem) and answers the minion's
// requests under its session key, remembering the jids of the returns.
type fakeMaster struct {
	t          *testing.T
	priv       *rsa.PrivateKey
	aesKey     string
	aes        *crypto.Crypticle
	sessionKey string
	session    *crypto.Crypticle
	serial     int64

	mu       sync.Mutex    // guards returned and auths
	returned []string      // jids of the returns, in order
	auths    int           // _auth requests answered
	arrived  chan struct{} // receives when a return comes
}

func newFakeMaster(t *testing.T) *fakeMaster {
	fm := &fakeMaster{t: t, priv: readKey(t, "master"), arrived: make(chan struct{}, 100)}
	var err error
	if fm.aesKey, err = crypto.GenerateCrypticleKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	if fm.aes, err = crypto.NewCrypticle(fm.aesKey); err != nil {
		t.Fatal(err)
	}
	if fm.sessionKey, err = crypto.GenerateCrypticleKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	if fm.session, err = crypto.NewCrypticle(fm.sessionKey); err != nil {
		t.Fatal(err)
	}
	return fm
}

// handle accepts a minion's _auth, and answers its AES requests with nil,
// as the master answers _return, keeping the return's jid.
func (fm *fakeMaster) handle(_ context.Context, raw []byte) []byte {
	req, err := wire.DecodeRequest(raw)
	if err == nil && req.Enc == wire.EncClear {
		return fm.auth(req.Load.(map[string]any))
	}
	if err != nil || req.Enc != wire.EncAES {
		fm.t.Errorf("fake master: unexpected request %q (%v)", raw, err)
		return nil
	}
	plain, err := fm.session.Open(req.Load.([]byte), "")
	if err != nil {
		fm.t.Errorf("fake master: request does not open: %v", err)
		return nil
	}
	load, err := wire.UnmarshalMap(plain)
	if err != nil {
		fm.t.Errorf("fake master: request load: %v", err)
		return nil
	}
	if cmd, _ := wire.OptString(load, "cmd"); cmd == "_return" {
		jid, _ := wire.OptString(load, "jid")
		fm.mu.Lock()
		fm.returned = append(fm.returned, jid)
		fm.mu.Unlock()
		select {
		case fm.arrived <- struct{}{}:
		default:
		}
	}
	nonce, _ := wire.OptString(load, "nonce")
	payload, _ := wire.Marshal(nil)
	sealed, err := fm.session.Seal(rand.Reader, nonce, payload)
	if err != nil {
		fm.t.Errorf("fake master: sealing the reply: %v", err)
		return nil
	}
	b, _ := wire.Marshal(sealed)
	return b
}

// auth accepts any _auth as a master accepts a minion: its key, the AES
// key, the session key and their signatures, as Salt's signed reply.
func (fm *fakeMaster) auth(load map[string]any) []byte {
	if cmd, _ := wire.OptString(load, "cmd"); cmd != "_auth" {
		fm.t.Errorf("fake master: unexpected clear command %q", cmd)
		return nil
	}
	fm.mu.Lock()
	fm.auths++
	fm.mu.Unlock()
	pubText, _ := wire.OptString(load, "pub")
	pub, err := crypto.ParsePublicKey([]byte(pubText))
	if err != nil {
		fm.t.Errorf("fake master: the minion's key: %v", err)
		return nil
	}
	seal := func(s string) []byte {
		ct, err := crypto.Encrypt(rand.Reader, pub, crypto.OAEPSHA1, []byte(s))
		if err != nil {
			fm.t.Error(err)
		}
		return ct
	}
	sum := sha256.Sum256([]byte(fm.aesKey))
	aesSig, err := crypto.SignX931(rand.Reader, fm.priv, []byte(hex.EncodeToString(sum[:])))
	if err != nil {
		fm.t.Error(err)
	}
	nonce, _ := wire.OptString(load, "nonce")
	reply := wire.Map{
		{Key: "enc", Value: "pub"}, {Key: "pub_key", Value: crypto.CleanKey(crypto.PublicKeyPEM(&fm.priv.PublicKey))},
		{Key: "aes", Value: seal(fm.aesKey)}, {Key: "session", Value: seal(fm.sessionKey)},
		{Key: "sig", Value: aesSig}, {Key: "nonce", Value: nonce},
	}
	if ct, err := wire.Bytes(load, "token"); err == nil {
		// Once the minion trusts our key it sends a token to echo.
		token, err := crypto.Decrypt(fm.priv, crypto.OAEPSHA1, ct)
		if err != nil {
			fm.t.Errorf("fake master: the token: %v", err)
		}
		reply = append(reply, wire.Field{Key: "token", Value: seal(string(token))})
	}
	inner, err := wire.Marshal(reply)
	if err != nil {
		fm.t.Error(err)
	}
	sig, err := crypto.Sign(fm.priv, crypto.PKCS1v15SHA1, inner)
	if err != nil {
		fm.t.Error(err)
	}
	b, _ := (&wire.SignedReply{Load: inner, Sig: sig}).Marshal()
	return b
}

func (fm *fakeMaster) returns() []string {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return slices.Clone(fm.returned)
}

// job is the load of a test.ping publication to every minion.
func job(jid string) map[string]any {
	return map[string]any{"fun": "test.ping", "arg": []any{}, "tgt": "*", "tgt_type": "glob", "jid": jid, "ret": "", "user": "root"}
}

// wrap is the publication of load: numbered with the next serial, sealed
// under the AES key and, when signer is set, signed.
func (fm *fakeMaster) wrap(load map[string]any, signer *rsa.PrivateKey) [][]byte {
	fm.serial++
	load["serial"] = fm.serial
	payload, err := wire.Marshal(load)
	if err != nil {
		fm.t.Fatal(err)
	}
	return fm.seal(payload, signer)
}

// seal is the publication of a raw payload: sealed under the AES key and
// signed by signer (nil: unsigned).
func (fm *fakeMaster) seal(payload []byte, signer *rsa.PrivateKey) [][]byte {
	sealed, err := fm.aes.Seal(rand.Reader, "", payload)
	if err != nil {
		fm.t.Fatal(err)
	}
	pub := &wire.Publication{Load: sealed}
	if signer != nil {
		if pub.Sig, err = crypto.Sign(signer, crypto.PKCS1v15SHA1, sealed); err != nil {
			fm.t.Fatal(err)
		}
		pub.SigAlgo = string(crypto.PKCS1v15SHA1)
	}
	b, err := pub.Marshal()
	if err != nil {
		fm.t.Fatal(err)
	}
	return [][]byte{b}
}

// syncBuffer is a bytes.Buffer safe for the minion's goroutines.
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

// newAuthenticatedMinion is a minion (sign_pub_messages: sign) holding
// the credentials an accepted _auth from fm would have given it, its
// request channel connected to fm over loopback tcp. The credentials are
// set directly: what is under test comes after authentication.
func newAuthenticatedMinion(t *testing.T, fm *fakeMaster, sign bool) (*Minion, *syncBuffer) {
	t.Helper()
	srv, err := transport.NewReqServer(transport.ReqServerConfig{Addr: "tcp://127.0.0.1:0", Handler: fm.handle})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})

	root := t.TempDir()
	cfg := config.DefaultMinion()
	cfg.ID = "web-1"
	cfg.PKIDir, cfg.CacheDir, cfg.SockDir = filepath.Join(root, "pki"), filepath.Join(root, "cache"), filepath.Join(root, "sock")
	cfg.SignPubMessages = sign
	logs := &syncBuffer{}
	m, err := NewWith(&cfg, Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Key:    readKey(t, "minion"), Tok: []byte("tok"), Grains: map[string]any{"id": cfg.ID}, NoBus: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	m.creds = &creds{aes: fm.aes, aesKey: fm.aesKey, serials: &crypto.SerialGuard{}, session: fm.session, masterPub: &fm.priv.PublicKey}
	if m.req, err = transport.NewReqClient(transport.ReqClientConfig{Addr: "tcp://" + srv.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.req.Close() })
	return m, logs
}

// Hostile publications are dropped, the drop is logged, and the minion
// goes on running the master's genuine publications. What ran is what the
// minion returned to the master.
func TestPublicationsRefused(t *testing.T) {
	forger := readKey(t, "forger")
	for _, tc := range []struct {
		name string
		sign bool // the minion's sign_pub_messages
		// hostile are the publications to drop, after any genuine ones
		// that may run (ran: their jids).
		hostile func(fm *fakeMaster) (msgs [][][]byte, ran []string)
		log     string // what the minion logs when it drops one
	}{
		{name: "garbage frame", log: "malformed publication", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			return [][][]byte{{[]byte("\xff\x00garbage")}}, nil
		}},
		{name: "empty frame", log: "malformed publication", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			return [][][]byte{{{}}}, nil
		}},
		{name: "truncated frame", log: "malformed publication", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			p := fm.wrap(job("20260101000000000001"), fm.priv)[0]
			return [][][]byte{{p[:len(p)/2]}}, nil
		}},
		{name: "clear publication", log: "malformed publication", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			b, _ := wire.Marshal(map[string]any{"enc": "clear", "load": job("20260101000000000001")})
			return [][][]byte{{b}}, nil
		}},
		{name: "forged signature", sign: true, log: "signature does not verify", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			// What any accepted minion could make: it holds the AES key,
			// not master.pem.
			return [][][]byte{fm.wrap(job("20260101000000000001"), forger)}, nil
		}},
		{name: "missing signature", sign: true, log: "signature does not verify", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			return [][][]byte{fm.wrap(job("20260101000000000001"), nil)}, nil
		}},
		{name: "signature of another publication", sign: true, log: "signature does not verify", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			genuine, _ := wire.DecodePublication(fm.wrap(job("20260101000000000001"), fm.priv)[0])
			forged, _ := wire.DecodePublication(fm.wrap(job("20260101000000000002"), nil)[0])
			forged.Sig, forged.SigAlgo = genuine.Sig, genuine.SigAlgo
			b, _ := forged.Marshal()
			return [][][]byte{{b}}, nil
		}},
		{name: "replayed serial", log: "replayed publication", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			p := fm.wrap(job("20260101000000000001"), fm.priv)
			return [][][]byte{p, p}, []string{"20260101000000000001"}
		}},
		{name: "older serial", log: "replayed publication", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			older := fm.wrap(job("20260101000000000001"), fm.priv)
			newer := fm.wrap(job("20260101000000000002"), fm.priv)
			return [][][]byte{newer, older}, []string{"20260101000000000002"}
		}},
		{name: "replayed signed publication", sign: true, log: "replayed publication", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			p := fm.wrap(job("20260101000000000001"), fm.priv)
			return [][][]byte{p, p}, []string{"20260101000000000001"}
		}},
		{name: "load not a map", log: "load is not a map", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			b, _ := wire.Marshal("cmd.run rm -rf /")
			return [][][]byte{fm.seal(b, fm.priv)}, nil
		}},
		{name: "load without fun", log: "without fun", hostile: func(fm *fakeMaster) ([][][]byte, []string) {
			load := job("20260101000000000001")
			delete(load, "fun")
			return [][][]byte{fm.wrap(load, fm.priv)}, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fm := newFakeMaster(t)
			m, logs := newAuthenticatedMinion(t, fm, tc.sign)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			msgs, ran := tc.hostile(fm)
			for _, msg := range msgs {
				m.publication(ctx, msg)
			}
			const good = "20260101000000000009"
			m.publication(ctx, fm.wrap(job(good), fm.priv))
			m.jobsWG.Wait() // every job started has returned
			got, want := fm.returns(), append(ran, good)
			slices.Sort(got) // jobs run concurrently
			if !slices.Equal(got, want) {
				t.Fatalf("the minion returned %v, want %v", got, want)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Fatalf("no log line says %q:\n%s", tc.log, logs)
			}
		})
	}
}

// Publications under another AES key (one who can write to the publish
// link, with sign_pub_messages off) make the minion authenticate again
// once, as a rotated key would, not once each: it goes on serving.
func TestForgedPublicationsReauthOnce(t *testing.T) {
	fm := newFakeMaster(t)
	m, logs := newAuthenticatedMinion(t, fm, false)
	m.cfg.RandomReauthDelay = 0
	forger := newFakeMaster(t) // its own AES key
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 5 {
		m.publication(ctx, forger.wrap(job(fmt.Sprintf("2026010100000000000%d", i)), nil))
	}
	fm.mu.Lock()
	auths := fm.auths
	fm.mu.Unlock()
	if auths != 1 {
		t.Fatalf("5 forged publications made the minion authenticate %d times, want 1\n%s", auths, logs)
	}
	const good = "20260101000000000009"
	m.publication(ctx, fm.wrap(job(good), nil))
	m.jobsWG.Wait()
	if got := fm.returns(); !slices.Equal(got, []string{good}) {
		t.Fatalf("the minion returned %v, want [%s]", got, good)
	}
}

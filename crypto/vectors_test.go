package crypto

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/brine-project/brine/internal/saltvectors"
	"github.com/vmihailenco/msgpack/v5"
)

// TestSaltVectors re-does, with this package alone, every cryptographic
// check the independent decoder (decode_capture.py) made on the captures of
// a stock Salt 3006.16 master and minions, and checks our encoders against
// the captured bytes wherever the output is deterministic:
//
//   - _auth replies: the PKCS1v15-SHA1 sig over the signed load bytes
//     verifies with master.pub and re-signs byte for byte with master.pem;
//     the OAEP-wrapped aes, session and echoed token decrypt with the
//     minion's key to the key files' strings; the X9.31 sig opens to the
//     hex SHA-256 of the AES key and SignX931 reproduces it; pub_key is
//     CleanKey(master.pub).
//   - _auth requests: pub is CleanKey of the minion's key; the token
//     decrypts with master.pem to a Crypticle key string.
//   - Every Crypticle blob (requests, replies, publications, _pillar)
//     authenticates and decrypts under the key the decoder names to the
//     plain/ file; Encrypt with the captured IV reproduces the blob; Open
//     with the request's nonce returns the payload.
//   - Requests: the tok opens to "salt" with the minion's key and SignX931
//     reproduces it.
//   - Publications: the sig over the ciphertext verifies and re-signs; the
//     serials pass a SerialGuard, and a replay does not.
//   - _pillar replies: the one-off key decrypts, and the inner data
//     signature verifies and re-signs.
//
// It fails if the decoder made a check that this test does not re-do.
func TestSaltVectors(t *testing.T) {
	dir := saltvectors.Dir(t)
	v := &vectorState{dir: dir, privs: map[string]*rsa.PrivateKey{}, pubs: map[string]*rsa.PublicKey{}}
	tally := map[string]int{}
	for _, capture := range saltvectors.Captures {
		t.Run(capture, func(t *testing.T) {
			d := saltvectors.Load(t, dir, capture)
			if len(d.CheckSummary.Failed) != 0 {
				t.Fatalf("the decoder reports failed checks: %v", d.CheckSummary.Failed)
			}
			c := &captureState{vectorState: v, capture: capture, requests: map[int]*request{}, tally: tally}
			decoderChecks := 0
			for i := range d.Messages {
				m := &d.Messages[i]
				decoderChecks += len(m.Checks)
				t.Run(fmt.Sprintf("%03d", m.Index), func(t *testing.T) { c.message(t, m) })
			}
			if decoderChecks != d.CheckSummary.Passed {
				t.Errorf("%d checks in messages, check_summary says %d", decoderChecks, d.CheckSummary.Passed)
			}
			tally["decoder checks re-done"] += decoderChecks
		})
	}
	var lines []string
	for k, n := range tally {
		lines = append(lines, fmt.Sprintf("%5d %s", n, k))
	}
	sort.Strings(lines)
	t.Logf("vector checks:\n%s", strings.Join(lines, "\n"))
}

// vectorState loads the key files of the vectors directory on demand.
type vectorState struct {
	dir   string
	privs map[string]*rsa.PrivateKey
	pubs  map[string]*rsa.PublicKey
}

func (v *vectorState) file(t *testing.T, rel string) []byte {
	t.Helper()
	return saltvectors.ReadFile(t, v.dir, rel)
}

func (v *vectorState) priv(t *testing.T, rel string) *rsa.PrivateKey {
	t.Helper()
	if k := v.privs[rel]; k != nil {
		return k
	}
	k, err := ParsePrivateKey(v.file(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	v.privs[rel] = k
	return k
}

func (v *vectorState) pub(t *testing.T, rel string) *rsa.PublicKey {
	t.Helper()
	if k := v.pubs[rel]; k != nil {
		return k
	}
	k, err := ParsePublicKey(v.file(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	v.pubs[rel] = k
	return k
}

// keyFileRE finds the key file named in the decoder's prose
// ("master AES key recovered from message #003 (== keys/run1.master_aes)").
var keyFileRE = regexp.MustCompile(`keys/[A-Za-z0-9._/-]*[A-Za-z0-9_]`)

func keyFileIn(t *testing.T, prose string) string {
	t.Helper()
	f := keyFileRE.FindString(prose)
	if f == "" {
		t.Fatalf("no key file named in %q", prose)
	}
	return f
}

// privFor is the private half of a public key file: keys/x.pub → keys/x.pem.
func privFor(pubFile string) string { return strings.TrimSuffix(pubFile, ".pub") + ".pem" }

// request is what a reply needs from its request.
type request struct {
	nonce string
	token string // the decrypted _auth token
}

type captureState struct {
	*vectorState
	capture  string
	requests map[int]*request
	tally    map[string]int
	serials  SerialGuard
	serial   int64
	// done holds the decoder check names this message's checks re-did.
	done map[string]bool
}

// pass records a check of ours: a tally category, and the decoder checks it
// re-does.
func (c *captureState) pass(category string, decoderChecks ...string) {
	c.tally[category]++
	for _, name := range decoderChecks {
		c.done[name] = true
	}
}

func (c *captureState) message(t *testing.T, m *saltvectors.Message) {
	c.done = map[string]bool{}
	const reqRep = "REQ/REP: 2 parts, part0 is the empty delimiter"
	if _, ok := m.Checks[reqRep]; ok && len(m.PartsLen) == 2 && m.PartsLen[0] == 0 {
		c.done[reqRep] = true // transport framing, not ours; trivially true
	}
	env := unpack(t, m.Payload(t, c.dir, c.capture))
	cr := m.Crypto
	if cr == nil {
		cr = &saltvectors.Crypto{}
	}
	switch e := env.(type) {
	case string: // the reply to an AES request: the bare Crypticle blob
		c.aesReply(t, m, cr, []byte(e))
	case map[string]any:
		switch {
		case e["enc"] == "clear" && e["sig"] != nil:
			c.authReply(t, m, cr, e)
		case e["enc"] == "clear":
			if load, ok := e["load"].(map[string]any); ok && m.Dir == "c2s" {
				c.clearRequest(t, m, cr, load)
			}
		case e["pillar"] != nil:
			c.pillarReply(t, m, cr, e)
		case e["enc"] == "aes" && m.Dir == "s2c":
			c.publication(t, m, cr, e)
		case e["enc"] == "aes":
			c.aesRequest(t, m, cr, e)
		}
	}
	for name := range m.Checks {
		ok, _ := m.Check(name)
		if !ok {
			t.Errorf("decoder check %q failed", name)
		}
		if !c.done[name] {
			t.Errorf("decoder check %q not re-done here", name)
		}
	}
}

func (c *captureState) clearRequest(t *testing.T, m *saltvectors.Message, cr *saltvectors.Crypto, load map[string]any) {
	r := &request{nonce: str(load["nonce"])}
	c.requests[m.Index] = r
	if pub, ok := load["pub"].(string); ok { // _auth
		want := v2s(c.file(t, cr.PubMatches))
		if CleanKey([]byte(want)) != pub {
			t.Errorf("pub is not CleanKey(%s)", cr.PubMatches)
		}
		if _, err := ParsePublicKey([]byte(pub)); err != nil {
			t.Error(err)
		}
		c.pass("CleanKey == _auth pub", "pub == clean_key("+cr.PubMatches+")")
	}
	if tok, ok := load["token"].(string); ok {
		if cr.Token == nil {
			t.Fatal("token without decoder info")
		}
		plain := c.oaep(t, cr.Token, []byte(tok))
		if _, err := NewCrypticle(plain); err != nil {
			t.Errorf("_auth token is not a Crypticle key string: %v", err)
		}
		r.token = plain
	}
	if key, ok := load["key"].(string); ok && load["cmd"] == "publish" {
		for _, f := range cr.RootKeyMatches {
			if key != v2s(c.file(t, f)) {
				t.Errorf("publish key differs from %s", f)
			}
		}
		if len(cr.RootKeyMatches) == 0 {
			t.Error("publish key matches no root key")
		}
		if _, err := NewCrypticle(key); err != nil {
			t.Errorf(".root_key is not a Crypticle key string: %v", err)
		}
		c.pass("root key", "load.key equals a master .root_key")
	}
}

func (c *captureState) authReply(t *testing.T, m *saltvectors.Message, cr *saltvectors.Crypto, e map[string]any) {
	signed, sig := []byte(str(e["load"])), []byte(str(e["sig"]))
	if want := c.plain(t, m, "_signed_load.bin"); !bytes.Equal(signed, want) {
		t.Error("signed load differs from the plain/ file")
	}
	c.pkcs1(t, cr.Sig, PKCS1v15SHA1, signed, sig,
		"outer sig PKCS1v15-SHA1 valid (keys/master.pub)", "outer sig re-computed with keys/master.pem identical")
	inner := unpack(t, signed).(map[string]any)
	req := c.reply(t, m)
	if str(inner["nonce"]) != req.nonce {
		t.Errorf("inner nonce %q, request nonce %q", inner["nonce"], req.nonce)
	}
	c.pass("nonce", "inner nonce == request nonce")

	if pk, ok := inner["pub_key"].(string); ok {
		if pk != CleanKey(c.file(t, "keys/master.pub")) {
			t.Error("pub_key is not CleanKey(master.pub)")
		}
		if pk != v2s(c.file(t, "keys/real-minion-1.minion_master.pub")) {
			t.Error("pub_key is not what the minion stored")
		}
		c.pass("CleanKey == pub_key", "pub_key == clean_key(keys/master.pub)")
	}
	if ct, ok := inner["aes"].(string); ok {
		aesKey := c.oaep(t, cr.AES, []byte(ct))
		if want := v2s(c.file(t, keyFileIn(t, cr.AES.Is))); aesKey != want {
			t.Errorf("aes decrypts to a key other than %s", keyFileIn(t, cr.AES.Is))
		}
		// The X9.31 sig over the hex SHA-256 of the AES key string.
		sum := sha256.Sum256([]byte(aesKey))
		want := []byte(hex.EncodeToString(sum[:]))
		x := cr.InnerSig
		c.x931(t, x, []byte(str(inner["sig"])), want,
			"inner sig X9.31 -> sha256(aes).hexdigest()", "inner sig re-computed with keys/master.pem identical")
		if x.Plain != string(want) || !x.EqualsSHA256HexOfAES {
			t.Errorf("decoder's inner sig plain %q, want %q", x.Plain, want)
		}
		// Our OAEP round-trips the same secret for the same minion key.
		ours, err := Encrypt(detReader(1), c.pub(t, strings.TrimSuffix(cr.AES.DecryptedWith, ".pem")+".pub"), OAEPSHA1, []byte(aesKey))
		if err != nil {
			t.Fatal(err)
		}
		if back := c.oaepPlain(t, cr.AES, ours); back != aesKey {
			t.Error("our OAEP does not round-trip the AES key")
		}
	}
	if ct, ok := inner["session"].(string); ok {
		s := c.oaep(t, cr.Session, []byte(ct))
		if s != v2s(c.file(t, cr.Session.EqualsSessionFile)) {
			t.Errorf("session decrypts to a key other than %s", cr.Session.EqualsSessionFile)
		}
		if _, err := NewCrypticle(s); err != nil {
			t.Error(err)
		}
		c.pass("session key file", "session == "+cr.Session.EqualsSessionFile)
	}
	if ct, ok := inner["token"].(string); ok {
		tok := c.oaep(t, cr.Token, []byte(ct))
		if tok != req.token || req.token == "" {
			t.Errorf("echoed token %q, request token %q", tok, req.token)
		}
		c.pass("echoed token", "echoed token == request token")
	}
}

func (c *captureState) aesRequest(t *testing.T, m *saltvectors.Message, cr *saltvectors.Crypto, e map[string]any) {
	key := keyFileIn(t, cr.Crypticle.Key)
	payload := c.crypticle(t, m, cr.Crypticle, v2s(c.file(t, key)), []byte(str(e["load"])), "", "request")
	load := unpack(t, payload).(map[string]any)
	if load["id"] != e["id"] || e["id"] == nil {
		t.Errorf("envelope id %v, load id %v", e["id"], load["id"])
	}
	c.pass("envelope id", "envelope id == load id")
	c.x931(t, cr.Tok, []byte(str(load["tok"])), []byte("salt"),
		"tok X9.31-decrypts to b'salt'", "tok re-computed with "+privFor(cr.Tok.VerifiedWith)+" is identical")
	c.requests[m.Index] = &request{nonce: str(load["nonce"])}
}

func (c *captureState) aesReply(t *testing.T, m *saltvectors.Message, cr *saltvectors.Crypto, blob []byte) {
	req := c.reply(t, m)
	info := cr.Crypticle
	if info == nil || info.NoncePrefix == nil || *info.NoncePrefix != req.nonce {
		t.Fatalf("decoder's nonce prefix is not the request nonce %q", req.nonce)
	}
	c.crypticle(t, m, info, v2s(c.file(t, keyFileIn(t, info.Key))), blob, req.nonce, "reply")
	c.pass("nonce", "reply nonce prefix == request nonce")
}

func (c *captureState) publication(t *testing.T, m *saltvectors.Message, cr *saltvectors.Crypto, e map[string]any) {
	ct, sig := []byte(str(e["load"])), []byte(str(e["sig"]))
	algo, err := ParseSigAlgo(str(e["sig_algo"]))
	if err != nil {
		t.Fatal(err)
	}
	c.pkcs1(t, cr.Sig, algo, ct, sig, "publication sig valid (keys/master.pub)", "publication sig re-computed identical")
	keyFile := keyFileIn(t, cr.Crypticle.Key)
	payload := c.crypticle(t, m, cr.Crypticle, v2s(c.file(t, keyFile)), ct, "", "publication")
	// The other run's master AES key does not open it.
	other := map[string]string{"keys/run1.master_aes": "keys/run2.master_aes", "keys/run2.master_aes": "keys/run1.master_aes"}[keyFile]
	if _, err := mustCrypticle(t, v2s(c.file(t, other))).Decrypt(ct); !errors.Is(err, ErrHMAC) {
		t.Errorf("decrypting with %s: %v, want ErrHMAC", other, err)
	}
	load := unpack(t, payload).(map[string]any)
	serial, err := msgpackInt(load["serial"])
	if err != nil {
		t.Fatal(err)
	}
	if serial != c.serial+1 {
		t.Errorf("serial %d after %d", serial, c.serial)
	}
	if !c.serials.Check(serial) || c.serials.Check(serial) {
		t.Errorf("SerialGuard: serial %d not accepted once, then refused", serial)
	}
	c.serial = serial
	c.pass("serial", "serial == previous + 1")
}

func (c *captureState) pillarReply(t *testing.T, m *saltvectors.Message, cr *saltvectors.Crypto, e map[string]any) {
	keyCT := []byte(str(e["key"]))
	oneOff := c.oaep(t, cr.Key, keyCT)
	payload := c.crypticle(t, m, cr.Crypticle, oneOff, []byte(str(e["pillar"])), "", "pillar")
	signed := unpack(t, payload).(map[string]any)
	data, sig := []byte(str(signed["data"])), []byte(str(signed["sig"]))
	if want := c.plain(t, m, "_pillar_signed_data.bin"); !bytes.Equal(data, want) {
		t.Error("signed data differs from the plain/ file")
	}
	c.pkcs1(t, cr.Sig, PKCS1v15SHA1, data, sig, "pillar data sig PKCS1v15-SHA1 valid", "pillar data sig re-computed identical")
	inner := unpack(t, data).(map[string]any)
	if str(inner["key"]) != string(keyCT) {
		t.Error("signed data.key differs from the reply's key")
	}
	c.pass("pillar key binding", "signed data.key == outer key bytes")
	if req := c.reply(t, m); str(inner["nonce"]) != req.nonce {
		t.Errorf("signed nonce %q, request nonce %q", inner["nonce"], req.nonce)
	}
	c.pass("nonce", "signed data.nonce == request nonce")
}

// reply returns the request m answers.
func (c *captureState) reply(t *testing.T, m *saltvectors.Message) *request {
	t.Helper()
	if m.ReplyTo == nil || c.requests[*m.ReplyTo] == nil {
		t.Fatalf("reply #%03d: request not seen", m.Index)
	}
	return c.requests[*m.ReplyTo]
}

// pkcs1 verifies a PKCS1v15 signature with the public key the decoder
// names, and re-signs with its private half.
func (c *captureState) pkcs1(t *testing.T, info *saltvectors.SigInfo, algo SigAlgo, msg, sig []byte, validCheck, resignCheck string) {
	t.Helper()
	if info == nil || !info.Valid || !info.Recomputed {
		t.Fatalf("decoder sig info %+v", info)
	}
	if err := Verify(c.pub(t, info.VerifiedWith), algo, msg, sig); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := Verify(c.pub(t, info.VerifiedWith), algo, append(bytes.Clone(msg), 0), sig); !errors.Is(err, ErrVerify) {
		t.Errorf("Verify of a longer message: %v, want ErrVerify", err)
	}
	c.pass("PKCS1v15-SHA1 sig verified", validCheck)
	ours, err := Sign(c.priv(t, privFor(info.VerifiedWith)), algo, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, sig) {
		t.Error("Sign differs from the captured signature")
	}
	c.pass("PKCS1v15-SHA1 sig re-signed identical", resignCheck)
}

// x931 opens an X9.31 signature with the public key the decoder names,
// and re-signs want with its private half.
func (c *captureState) x931(t *testing.T, info *saltvectors.X931Info, sig, want []byte, openCheck, resignCheck string) {
	t.Helper()
	if info == nil || !(info.RecomputedMaster || info.RecomputedMinion) {
		t.Fatalf("decoder X9.31 info %+v", info)
	}
	got, err := VerifyX931(c.pub(t, info.VerifiedWith), sig)
	if err != nil {
		t.Fatalf("VerifyX931: %v", err)
	}
	if !bytes.Equal(got, want) || info.Plain != string(want) {
		t.Errorf("X9.31 opens to %q, want %q", got, want)
	}
	c.pass("X9.31 opened", openCheck)
	ours, err := SignX931(detReader(2), c.priv(t, privFor(info.VerifiedWith)), want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, sig) {
		t.Error("SignX931 differs from the captured signature")
	}
	c.pass("X9.31 re-signed identical", resignCheck)
}

// oaep decrypts an OAEP-wrapped secret with the key the decoder names and
// checks it against the decoder's plaintext.
func (c *captureState) oaep(t *testing.T, info *saltvectors.OAEPInfo, ct []byte) string {
	t.Helper()
	if info == nil {
		t.Fatal("OAEP value without decoder info")
	}
	got := c.oaepPlain(t, info, ct)
	if got != info.Plain {
		t.Errorf("OAEP decrypts to %q, decoder says %q", got, info.Plain)
	}
	c.pass("OAEP-SHA1 decrypted")
	return got
}

func (c *captureState) oaepPlain(t *testing.T, info *saltvectors.OAEPInfo, ct []byte) string {
	t.Helper()
	got, err := Decrypt(c.priv(t, info.DecryptedWith), OAEPSHA1, ct)
	if err != nil {
		t.Fatalf("Decrypt with %s: %v", info.DecryptedWith, err)
	}
	if _, err := Decrypt(c.priv(t, info.DecryptedWith), OAEPSHA224, ct); err == nil {
		t.Error("OAEP-SHA1 ciphertext decrypts as OAEP-SHA224")
	}
	return string(got)
}

// crypticle checks a Crypticle blob against the decoder's description and
// the plain/ file, reproduces it from its IV, and returns the payload Open
// gives (after "pickle::" and the nonce).
func (c *captureState) crypticle(t *testing.T, m *saltvectors.Message, info *saltvectors.CrypticleInfo, key string, blob []byte, nonce, what string) []byte {
	t.Helper()
	if info == nil || !info.HMACValid || !info.PadOK {
		t.Fatalf("decoder Crypticle info %+v", info)
	}
	cr := mustCrypticle(t, key)
	pt, err := cr.Decrypt(blob)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	c.pass("Crypticle HMAC verified and decrypted", "Crypticle HMAC-SHA256 valid")
	want := saltvectors.ReadFile(t, c.dir, path.Join(c.capture, info.PlainFile))
	if !bytes.Equal(pt, want) || len(pt) != info.PlainLen {
		t.Errorf("plaintext differs from %s", info.PlainFile)
	}
	iv, tag := blob[:ivLen], blob[len(blob)-macLen:]
	if hex.EncodeToString(iv) != info.IVHex || hex.EncodeToString(tag) != info.HMACHex ||
		len(blob)-ivLen-macLen != info.CiphertextLen || info.CiphertextLen-info.PlainLen != info.PadLen {
		t.Errorf("blob layout differs from the decoder's: %+v", info)
	}
	payload, err := cr.Open(blob, nonce)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	c.pass("Crypticle opened", what+": plaintext starts with b'pickle::'")
	if nonce != "" {
		if _, err := cr.Open(blob, strings.Repeat("0", NonceLen)); !errors.Is(err, ErrNonce) {
			t.Errorf("Open with another nonce: %v, want ErrNonce", err)
		}
	}
	// Our encoder, given the same IV, makes the same bytes.
	ours, err := cr.Encrypt(bytes.NewReader(iv), pt)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := cr.Seal(bytes.NewReader(iv), nonce, payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, blob) || !bytes.Equal(sealed, blob) {
		t.Error("Encrypt/Seal with the captured IV differ from the captured blob")
	}
	c.pass("Crypticle re-encrypted identical")
	tampered := bytes.Clone(blob)
	tampered[len(tampered)/2] ^= 0x80
	if _, err := cr.Decrypt(tampered); !errors.Is(err, ErrHMAC) {
		t.Errorf("tampered blob: %v, want ErrHMAC", err)
	}
	return payload
}

// plain reads the message's plain/ file whose name ends in suffix.
func (c *captureState) plain(t *testing.T, m *saltvectors.Message, suffix string) []byte {
	t.Helper()
	for _, f := range m.PlainFiles {
		if strings.HasSuffix(f, suffix) {
			return saltvectors.ReadFile(t, c.dir, path.Join(c.capture, f))
		}
	}
	t.Fatalf("#%03d has no plain file *%s", m.Index, suffix)
	return nil
}

// unpack decodes msgpack as Salt's wire does it: str holds bytes too, and
// Go strings carry them unchanged.
func unpack(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := msgpack.Unmarshal(b, &v); err != nil {
		t.Fatalf("msgpack: %v", err)
	}
	return v
}

// msgpackInt is an integer however msgpack sized it.
func msgpackInt(v any) (int64, error) {
	switch n := v.(type) {
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	}
	return 0, fmt.Errorf("not a small integer: %T %v", v, v)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// v2s is a key string file's contents (they have no newline).
func v2s(b []byte) string { return string(b) }

// The key files: the formats Salt wrote them in, and what CleanKey,
// Fingerprint, PublicKeyPEM and WritePrivateKey make of them.
func TestSaltKeyFiles(t *testing.T) {
	dir := saltvectors.Dir(t)
	v := &vectorState{dir: dir, privs: map[string]*rsa.PrivateKey{}, pubs: map[string]*rsa.PublicKey{}}
	// CleanKey(master.pub) is what the minion stored from the wire.
	if got, want := CleanKey(v.file(t, "keys/master.pub")), v2s(v.file(t, "keys/real-minion-1.minion_master.pub")); got != want {
		t.Errorf("CleanKey(master.pub) = %q\nminion_master.pub  = %q", got, want)
	}
	tests := []struct {
		name  string
		pub   string // file form
		clean string // as stored by the other side, "" if none
	}{
		{"master", "keys/master.pub", "keys/real-minion-1.minion_master.pub"},
		{"real-minion-1", "keys/real-minion-1.pub", "keys/master_pki/minions/real-minion-1"},
		{"real-minion-2", "keys/real-minion-2.pub", "keys/master_pki/minions_rejected/real-minion-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, clean := v.file(t, tt.pub), v.file(t, tt.clean)
			if CleanKey(file) != string(clean) {
				t.Error("CleanKey of the .pub file is not the stored form")
			}
			priv := v.priv(t, privFor(tt.pub))
			if !bytes.Equal(PublicKeyPEM(&priv.PublicKey), file) {
				t.Errorf("PublicKeyPEM differs from the .pub file")
			}
			for _, form := range [][]byte{file, clean} {
				pub, err := ParsePublicKey(form)
				if err != nil {
					t.Fatal(err)
				}
				if !pub.Equal(&priv.PublicKey) {
					t.Error("parsed public key is not the private key's")
				}
			}
			// WritePrivateKey writes the very bytes Salt wrote.
			out := t.TempDir() + "/k.pem"
			if err := WritePrivateKey(out, priv); err != nil {
				t.Fatal(err)
			}
			if got, _ := ReadPrivateKey(out); got == nil || !got.Equal(priv) {
				t.Error("written key does not read back")
			}
			if got, _ := os.ReadFile(out); !bytes.Equal(got, v.file(t, privFor(tt.pub))) {
				t.Error("WritePrivateKey output differs from Salt's .pem file")
			}
			// What salt-key -f prints: derived here from the DER, not the
			// text. pem_finger hashes the base64 body lines of the file,
			// each with its "\n"; Salt (like Go) wraps base64 at 64.
			want := saltFinger(t, &priv.PublicKey)
			for _, form := range [][]byte{file, clean, bytes.ReplaceAll(file, []byte("\n"), []byte("\r\n"))} {
				got, err := Fingerprint(form, "sha256")
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("Fingerprint = %s, want %s", got, want)
				}
			}
			t.Logf("salt-key -f %s: %s", tt.name, want)
		})
	}
}

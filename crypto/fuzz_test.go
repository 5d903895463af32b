package crypto

import (
	"bytes"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/brine-project/brine/internal/saltvectors"
)

// capturedPlaintexts returns some of the Crypticle plaintexts Salt sent in
// the captures ("pickle::" + [nonce] + msgpack), as fuzz seeds. Nil
// without the vectors.
func capturedPlaintexts() [][]byte {
	dir, ok := saltvectors.Find()
	if !ok {
		return nil
	}
	var out [][]byte
	for _, pattern := range []string{"*_request.bin", "*_reply.bin", "*_publication.bin", "*_pillar.bin"} {
		files, _ := filepath.Glob(filepath.Join(dir, "a-new-minion", "plain", pattern))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && len(b) < 2048 {
				out = append(out, b)
				break
			}
		}
	}
	return out
}

// errCrypticle reports whether err is one of the errors Decrypt documents.
func errCrypticle(err error) bool {
	return errors.Is(err, ErrHMAC) || errors.Is(err, ErrPadding) || errors.Is(err, ErrCiphertext)
}

// FuzzCrypticleDecrypt feeds arbitrary blobs to Decrypt under a fixed key:
// it must not panic, must fail only with its documented errors, and what
// decrypts must re-encrypt (with the blob's own IV) to the same bytes. With
// authentic set, the input is instead taken as raw CBC plaintext and given
// a valid HMAC, so the fuzzer reaches the padding check: Decrypt must then
// accept exactly the inputs that end in valid PKCS#7 padding.
func FuzzCrypticleDecrypt(f *testing.F) {
	c := mustCrypticle(f, testCrypticleKey)
	for _, pt := range [][]byte{nil, []byte("pickle::\xc0"), seq(100)} {
		blob, _ := c.Encrypt(detReader(1), pt)
		f.Add(blob, false)
		f.Add(pt, true)
	}
	f.Add(make([]byte, 64), false)
	f.Add(bytes.Repeat([]byte{16}, 16), true)
	f.Add(append(seq(15), 0), true)
	for _, pt := range capturedPlaintexts() {
		blob, _ := c.Encrypt(detReader(1), pt)
		f.Add(blob, false)
	}
	f.Fuzz(func(t *testing.T, in []byte, authentic bool) {
		blob := in
		if authentic {
			if len(in) == 0 || len(in)%16 != 0 {
				return
			}
			blob = forge(t, testCrypticleKey, in)
		}
		pt, err := c.Decrypt(blob)
		if authentic {
			pad := int(in[len(in)-1])
			valid := pad >= 1 && pad <= 16 && bytes.Equal(in[len(in)-pad:], bytes.Repeat([]byte{byte(pad)}, pad))
			if valid != (err == nil) {
				t.Fatalf("padding %x: valid %v, Decrypt error %v", in[len(in)-16:], valid, err)
			}
			if valid && !bytes.Equal(pt, in[:len(in)-pad]) {
				t.Fatal("wrong plaintext")
			}
		}
		if err != nil {
			if !errCrypticle(err) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		again, err := c.Encrypt(bytes.NewReader(blob[:ivLen]), pt)
		if err != nil || !bytes.Equal(again, blob) {
			t.Fatalf("re-encryption differs (%v)", err)
		}
		if back, err := c.Decrypt(again); err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzOpen runs Open over arbitrary blobs and nonces, and, with encrypt
// set, over authentic blobs of arbitrary plaintext so the fuzzer reaches
// the prefix and nonce checks. Whatever opens must seal back to the blob.
func FuzzOpen(f *testing.F) {
	c := mustCrypticle(f, testCrypticleKey)
	nonce := "440ad92623684768bd15bee00c3889c6"
	f.Add([]byte("pickle::"+nonce+"\xc0"), nonce, true)
	f.Add([]byte("pickle::\x81\xa1a\x01"), "", true)
	f.Add([]byte("pickle:"), "", true)
	f.Add([]byte("pickle::short"), nonce, true)
	sealed, _ := c.Seal(detReader(1), nonce, []byte("\xc0"))
	f.Add(sealed, nonce, false)
	for _, pt := range capturedPlaintexts() {
		f.Add(pt, "", true)
		if len(pt) >= 8+NonceLen {
			f.Add(pt, string(pt[8:8+NonceLen]), true)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, nonce string, encrypt bool) {
		blob := in
		if encrypt {
			blob, _ = c.Encrypt(bytes.NewReader(seq(ivLen)), in)
		}
		payload, err := c.Open(blob, nonce)
		if encrypt {
			okNonce := nonce == "" || (len(nonce) == NonceLen && len(in) >= 8+NonceLen && string(in[8:8+NonceLen]) == nonce)
			want := bytes.HasPrefix(in, []byte(PicklePrefix)) && okNonce
			if want != (err == nil) {
				t.Fatalf("plaintext %q, nonce %q: error %v", in, nonce, err)
			}
		}
		if err != nil {
			if !errCrypticle(err) && !errors.Is(err, ErrNoPrefix) && !errors.Is(err, ErrNonce) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		again, err := c.Seal(bytes.NewReader(blob[:ivLen]), nonce, payload)
		if err != nil || !bytes.Equal(again, blob) {
			t.Fatalf("re-sealing differs (%v)", err)
		}
	})
}

// FuzzVerifyX931 opens arbitrary signatures with a fixed public key: no
// panic, only ErrVerify, and a signature that opens must be one of the two
// values (s, n-s) that SignX931 makes for its message.
func FuzzVerifyX931(f *testing.F) {
	k := mustTestKey(f)
	for _, msg := range []string{"salt", "b15a03d5a540ffcae047fd34dd3422d64c59da867529632df20cd899fffdbc88"} {
		sig, _ := SignX931(detReader(1), k, []byte(msg))
		f.Add(sig)
		f.Add(flip(sig, 0))
		f.Add(new(big.Int).Sub(k.N, new(big.Int).SetBytes(sig)).FillBytes(make([]byte, k.Size())))
	}
	f.Add([]byte{})
	f.Add(make([]byte, k.Size()))
	f.Add(k.N.Bytes())
	f.Fuzz(func(t *testing.T, sig []byte) {
		msg, err := VerifyX931(&k.PublicKey, sig)
		if err != nil {
			if !errors.Is(err, ErrVerify) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if len(msg) > k.Size()-2 {
			t.Fatalf("message of %d bytes", len(msg))
		}
		ours, err := SignX931(detReader(1), k, msg)
		if err != nil {
			t.Fatal(err)
		}
		s := new(big.Int).SetBytes(sig)
		if m := new(big.Int).SetBytes(ours); m.Cmp(s) != 0 && m.Cmp(s.Sub(k.N, s)) != 0 {
			t.Fatal("opened a signature SignX931 would not make")
		}
	})
}

// FuzzParsePublicKey parses arbitrary text: no panic, only ErrKey, and a
// key that parses writes out (PublicKeyPEM, CleanKey) and parses back to
// itself. CleanKey must be idempotent on anything, and Fingerprint must
// not fail.
func FuzzParsePublicKey(f *testing.F) {
	k := mustTestKey(f)
	pub := PublicKeyPEM(&k.PublicKey)
	f.Add(pub)
	f.Add([]byte(CleanKey(pub)))
	f.Add(bytes.ReplaceAll(pub, []byte("PUBLIC"), []byte("RSA PUBLIC")))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----"))
	f.Add([]byte(" \r\n\v\x1c\u2028x\u0085"))
	if dir, ok := saltvectors.Find(); ok {
		for _, name := range []string{"master.pub", "real-minion-1.minion_master.pub"} {
			if b, err := os.ReadFile(filepath.Join(dir, "keys", name)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		clean := CleanKey(data)
		if CleanKey([]byte(clean)) != clean {
			t.Fatalf("CleanKey not idempotent on %q", data)
		}
		if _, err := Fingerprint(data, ""); err != nil {
			t.Fatal(err)
		}
		key, err := ParsePublicKey(data)
		if err != nil {
			if !errors.Is(err, ErrKey) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		out := PublicKeyPEM(key)
		for _, form := range [][]byte{out, []byte(CleanKey(out))} {
			back, err := ParsePublicKey(form)
			if err != nil || !back.Equal(key) {
				t.Fatalf("written key does not parse back: %v", err)
			}
		}
	})
}

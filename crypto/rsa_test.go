package crypto

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"hash"
	"testing"
)

func TestParseAlgo(t *testing.T) {
	encs := []struct {
		in   string
		want EncAlgo
		ok   bool
	}{
		{"", OAEPSHA1, true},
		{"OAEP-SHA1", OAEPSHA1, true},
		{"OAEP-SHA224", OAEPSHA224, true},
		{"oaep-sha1", "", false}, // Salt compares exactly
		{"OAEP-SHA256", "", false},
		{"PKCS1v15-SHA1", "", false},
		{" OAEP-SHA1", "", false},
	}
	for _, tt := range encs {
		t.Run("enc/"+tt.in, func(t *testing.T) {
			got, err := ParseEncAlgo(tt.in)
			if got != tt.want || (err == nil) != tt.ok {
				t.Errorf("ParseEncAlgo(%q) = %q, %v", tt.in, got, err)
			}
			if !tt.ok && !errors.Is(err, ErrAlgorithm) {
				t.Errorf("error %v, want ErrAlgorithm", err)
			}
		})
	}
	sigs := []struct {
		in   string
		want SigAlgo
		ok   bool
	}{
		{"", PKCS1v15SHA1, true},
		{"PKCS1v15-SHA1", PKCS1v15SHA1, true},
		{"PKCS1v15-SHA224", PKCS1v15SHA224, true},
		{"pkcs1v15-sha1", "", false},
		{"PKCS1v15-SHA256", "", false},
		{"OAEP-SHA1", "", false},
		{"PSS-SHA1", "", false},
	}
	for _, tt := range sigs {
		t.Run("sig/"+tt.in, func(t *testing.T) {
			got, err := ParseSigAlgo(tt.in)
			if got != tt.want || (err == nil) != tt.ok {
				t.Errorf("ParseSigAlgo(%q) = %q, %v", tt.in, got, err)
			}
			if !tt.ok && !errors.Is(err, ErrAlgorithm) {
				t.Errorf("error %v, want ErrAlgorithm", err)
			}
		})
	}
	if EncAlgo("").String() != "OAEP-SHA1" || SigAlgo("").String() != "PKCS1v15-SHA1" {
		t.Error("zero values do not print as the defaults")
	}
	// A hostile name is truncated in the error.
	_, err := ParseSigAlgo(string(bytes.Repeat([]byte("A"), 10000)))
	if len(err.Error()) > 200 {
		t.Errorf("error of %d bytes", len(err.Error()))
	}
}

func TestOAEP(t *testing.T) {
	k := mustTestKey(t)
	// The largest message: k - 2·hLen - 2.
	tests := []struct {
		algo EncAlgo
		h    func() hash.Hash
		max  int
	}{
		{OAEPSHA1, sha1.New, 256 - 2*20 - 2},
		{OAEPSHA224, sha256.New224, 256 - 2*28 - 2},
		{"", sha1.New, 256 - 2*20 - 2},
	}
	for _, tt := range tests {
		t.Run(tt.algo.String(), func(t *testing.T) {
			for _, n := range []int{0, 1, CrypticleKeyLen, tt.max} {
				msg := seq(n)
				ct, err := Encrypt(detReader(uint64(n)), &k.PublicKey, tt.algo, msg)
				if err != nil {
					t.Fatal(err)
				}
				if len(ct) != k.Size() {
					t.Errorf("ciphertext of %d bytes", len(ct))
				}
				got, err := Decrypt(k, tt.algo, ct)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("round trip of %d bytes: %v", n, err)
				}
				// Cross-check with crypto/rsa both ways.
				std, err := rsa.DecryptOAEP(tt.h(), nil, k, ct, nil)
				if err != nil || !bytes.Equal(std, msg) {
					t.Errorf("crypto/rsa cannot decrypt ours: %v", err)
				}
				stdCT, err := rsa.EncryptOAEP(tt.h(), detReader(9), &k.PublicKey, msg, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := Decrypt(k, tt.algo, stdCT); err != nil || !bytes.Equal(got, msg) {
					t.Errorf("cannot decrypt crypto/rsa's: %v", err)
				}
				// Randomized: another seed, another ciphertext.
				if ct2, _ := Encrypt(detReader(uint64(n)+100), &k.PublicKey, tt.algo, msg); bytes.Equal(ct, ct2) {
					t.Error("OAEP ignored its random source")
				}
			}
			if _, err := Encrypt(detReader(1), &k.PublicKey, tt.algo, seq(tt.max+1)); err == nil {
				t.Error("message over the limit: no error")
			}
		})
	}
	ct, _ := Encrypt(detReader(1), &k.PublicKey, OAEPSHA1, []byte("secret"))
	if _, err := Decrypt(k, OAEPSHA224, ct); !errors.Is(err, rsa.ErrDecryption) {
		t.Errorf("wrong hash: %v", err)
	}
	ct[10] ^= 1
	if _, err := Decrypt(k, OAEPSHA1, ct); !errors.Is(err, rsa.ErrDecryption) {
		t.Errorf("corrupt ciphertext: %v", err)
	}
	if _, err := Decrypt(k, OAEPSHA1, ct[:100]); err == nil {
		t.Error("short ciphertext: no error")
	}
	if _, err := Encrypt(detReader(1), &k.PublicKey, "RSA1_5", nil); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("unknown algorithm: %v", err)
	}
	if _, err := Decrypt(k, "RSA1_5", ct); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("unknown algorithm: %v", err)
	}
	if _, err := Encrypt(failingReader{}, &k.PublicKey, OAEPSHA1, nil); !errors.Is(err, errRandFailed) {
		t.Errorf("failing random source: %v", err)
	}
}

func TestSignVerify(t *testing.T) {
	k := mustTestKey(t)
	msg := []byte("\x82\xa3ret\xc3\xa5nonce\xda\x00\x2021545c02f96847eeb020b32b1613c4f0")
	tests := []struct {
		algo SigAlgo
		h    crypto.Hash
	}{
		{PKCS1v15SHA1, crypto.SHA1},
		{PKCS1v15SHA224, crypto.SHA224},
		{"", crypto.SHA1},
	}
	for _, tt := range tests {
		t.Run(tt.algo.String(), func(t *testing.T) {
			sig, err := Sign(k, tt.algo, msg)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := Sign(k, tt.algo, msg); !bytes.Equal(again, sig) {
				t.Error("not deterministic")
			}
			if err := Verify(&k.PublicKey, tt.algo, msg, sig); err != nil {
				t.Error(err)
			}
			h := tt.h.New()
			h.Write(msg)
			if err := rsa.VerifyPKCS1v15(&k.PublicKey, tt.h, h.Sum(nil), sig); err != nil {
				t.Errorf("crypto/rsa rejects ours: %v", err)
			}
			bad := []struct {
				name     string
				msg, sig []byte
			}{
				{"other message", append(bytes.Clone(msg), '!'), sig},
				{"flipped bit", msg, flip(sig, 100)},
				{"short", msg, sig[1:]},
				{"empty", msg, nil},
			}
			for _, b := range bad {
				if err := Verify(&k.PublicKey, tt.algo, b.msg, b.sig); !errors.Is(err, ErrVerify) {
					t.Errorf("%s: %v, want ErrVerify", b.name, err)
				}
			}
		})
	}
	sig1, _ := Sign(k, PKCS1v15SHA1, msg)
	if err := Verify(&k.PublicKey, PKCS1v15SHA224, msg, sig1); !errors.Is(err, ErrVerify) {
		t.Errorf("SHA-1 signature checked as SHA-224: %v", err)
	}
	if _, err := Sign(k, "PSS", msg); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("unknown algorithm: %v", err)
	}
	if err := Verify(&k.PublicKey, "PSS", msg, sig1); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("unknown algorithm: %v", err)
	}
}

// flip returns b with bit 0 of byte i flipped.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

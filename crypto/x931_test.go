package crypto

import (
	"bytes"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// The block layout of RSA_padding_add_X931, on an 8-byte "modulus".
func TestX931Encode(t *testing.T) {
	tests := []struct {
		name string
		msg  string // hex
		want string // hex; "" for an error
	}{
		{"L = k-2: 6A form", "010203040506", "6a 010203040506 cc"},
		{"L = k-3: no BB", "0102030405", "6b ba 0102030405 cc"},
		{"L = k-4: one BB", "01020304", "6b bb ba 01020304 cc"},
		{"L = 1", "01", "6b bbbbbbbb ba 01 cc"},
		{"L = 0", "", "6b bbbbbbbbbb ba cc"},
		{"L = k-1: too long", "01020304050607", ""},
		{"L = k: too long", "0102030405060708", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := x931Encode(8, unhex(tt.msg))
			if tt.want == "" {
				if err == nil {
					t.Errorf("no error, block %x", got)
				}
				return
			}
			if err != nil || !bytes.Equal(got, unhex(tt.want)) {
				t.Errorf("got %x, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// What RSA_padding_check_X931 accepts, on 8-byte blocks.
func TestX931Decode(t *testing.T) {
	tests := []struct {
		name  string
		block string
		want  string // hex message; "-" for a rejection
	}{
		{"6A form", "6a 010203040506 cc", "010203040506"},
		{"one BB", "6b bb ba 01020304 cc", "01020304"},
		{"BA as late as OpenSSL looks", "6b bbbbbbbb ba 01 cc", "01"},
		{"message bytes that look like padding", "6b bb ba bbbaccbb cc", "bbbaccbb"},
		{"no BB (OpenSSL refuses its own L = k-3 block)", "6b ba 0102030405 cc", "-"},
		{"empty message (OpenSSL misses the BA)", "6b bbbbbbbbbb ba cc", "-"},
		{"no BA at all (OpenSSL opens to empty)", "6b bbbbbbbbbb cc 00", "-"},
		{"bad padding byte", "6b bb bc 01020304 cc", "-"},
		{"BB inside the message", "6b bb ba 0102 bb 04 cc", "0102bb04"},
		{"bad trailer", "6b bb ba 01020304 cd", "-"},
		{"6A with bad trailer", "6a 010203040506 cb", "-"},
		{"bad header", "6c bb ba 01020304 cc", "-"},
		{"zero header", "00 bb ba 01020304 cc", "-"},
		{"all zero", "0000000000000000", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := x931Decode(unhex(tt.block))
			if tt.want == "-" {
				if ok {
					t.Errorf("accepted, message %x", got)
				}
				return
			}
			if !ok || !bytes.Equal(got, unhex(tt.want)) {
				t.Errorf("got %x, %v; want %s", got, ok, tt.want)
			}
		})
	}
	// Every length OpenSSL can open round-trips: 1..k-4 and k-2.
	for k := 4; k <= 20; k++ {
		for l := 0; l <= k-2; l++ {
			em, err := x931Encode(k, seq(l))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := x931Decode(em)
			wantOK := (l >= 1 && l <= k-4) || l == k-2
			if ok != wantOK || (ok && !bytes.Equal(got, seq(l))) {
				t.Errorf("k = %d, L = %d: opened %v (%x), want %v", k, l, ok, got, wantOK)
			}
		}
	}
}

func TestSignX931(t *testing.T) {
	k := mustTestKey(t)
	size := k.Size()
	hexAES := []byte("b15a03d5a540ffcae047fd34dd3422d64c59da867529632df20cd899fffdbc88")
	tests := []struct {
		name     string
		msg      []byte
		openable bool // by RSA_public_decrypt and VerifyX931
	}{
		{"tok: salt", []byte("salt"), true},
		{"master sig: hex sha256", hexAES, true},
		{"one byte", []byte{0}, true},
		{"L = k-4", seq(size - 4), true},
		{"L = k-2 (6A)", seq(size - 2), true},
		{"L = k-3 (6B BA)", seq(size - 3), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := SignX931(detReader(1), k, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != size {
				t.Fatalf("%d bytes", len(sig))
			}
			// Deterministic whatever the blinding.
			if again, _ := SignX931(detReader(2), k, tt.msg); !bytes.Equal(again, sig) {
				t.Error("output depends on the random source")
			}
			s := new(big.Int).SetBytes(sig)
			ns := new(big.Int).Sub(k.N, s)
			if s.Cmp(ns) > 0 {
				t.Error("output is not min(s, n-s)")
			}
			// One of s, n-s raised to e is exactly OpenSSL's block.
			want, _ := x931Encode(size, tt.msg)
			if !bytes.Equal(rawPublic(&k.PublicKey, sig), want) && !bytes.Equal(rawPublic(&k.PublicKey, ns.FillBytes(make([]byte, size))), want) {
				t.Error("neither s^e nor (n-s)^e is the X9.31 block")
			}
			for _, form := range [][]byte{sig, ns.FillBytes(make([]byte, size))} {
				got, err := VerifyX931(&k.PublicKey, form)
				if tt.openable {
					if err != nil || !bytes.Equal(got, tt.msg) {
						t.Errorf("VerifyX931: %x, %v", got, err)
					}
				} else if !errors.Is(err, ErrVerify) {
					t.Errorf("VerifyX931 opened a block OpenSSL refuses: %x, %v", got, err)
				}
			}
		})
	}
	if _, err := SignX931(detReader(1), k, seq(size-1)); err == nil {
		t.Error("message of k-1 bytes: no error")
	}
}

// SignX931 keeps min(s, n-s): across messages both branches occur.
func TestSignX931Min(t *testing.T) {
	k := mustTestKey(t)
	var flipped, kept int
	for i := range 32 {
		msg := []byte(fmt.Sprintf("message %d", i))
		sig, err := SignX931(detReader(1), k, msg)
		if err != nil {
			t.Fatal(err)
		}
		em, _ := x931Encode(k.Size(), msg)
		if bytes.Equal(sig, rawPrivate(k, em)) {
			kept++
		} else {
			flipped++
		}
		if got, err := VerifyX931(&k.PublicKey, sig); err != nil || !bytes.Equal(got, msg) {
			t.Errorf("%q: %v", msg, err)
		}
	}
	if kept == 0 || flipped == 0 {
		t.Errorf("kept s %d times, n-s %d times", kept, flipped)
	}
}

func TestSignX931Blinding(t *testing.T) {
	k := mustTestKey(t)
	want, err := SignX931(detReader(1), k, []byte("salt"))
	if err != nil {
		t.Fatal(err)
	}
	r := &countingReader{r: detReader(3)}
	got, err := SignX931(r, k, []byte("salt"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%v", err)
	}
	if n := r.n.Load(); n < int64(k.Size()) {
		t.Errorf("read %d random bytes, want at least %d (one blinding factor)", n, k.Size())
	}
	if _, err := SignX931(failingReader{}, k, []byte("salt")); !errors.Is(err, errRandFailed) {
		t.Errorf("failing source: %v", err)
	}
	r = &countingReader{r: zeroReader{}}
	if _, err := SignX931(r, k, []byte("salt")); err == nil {
		t.Error("a source of zeros gave a blinding factor")
	} else if n := r.n.Load(); n != blindingAttempts*int64(k.Size()) {
		t.Errorf("read %d bytes from a source of zeros, want %d attempts' worth", n, blindingAttempts*k.Size())
	}
	if _, err := SignX931(nil, k, []byte("salt")); err == nil {
		t.Error("nil source: no error")
	}
}

func TestSignX931KeyForms(t *testing.T) {
	k := mustTestKey(t)
	want, _ := SignX931(detReader(1), k, []byte("salt"))
	// Without precomputed CRT values the plain exponent gives the same.
	noCRT := &rsa.PrivateKey{PublicKey: k.PublicKey, D: k.D, Primes: k.Primes}
	if got, err := SignX931(detReader(1), noCRT, []byte("salt")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("without CRT: %v", err)
	}
	// A fault in the CRT arithmetic is caught, not returned.
	faulty := &rsa.PrivateKey{PublicKey: k.PublicKey, D: k.D, Primes: k.Primes, Precomputed: rsa.PrecomputedValues{
		Dp: new(big.Int).Add(k.Precomputed.Dp, big.NewInt(2)), Dq: k.Precomputed.Dq, Qinv: k.Precomputed.Qinv,
	}}
	if got, err := SignX931(detReader(1), faulty, []byte("salt")); err == nil {
		t.Errorf("faulty CRT value: signature %x", got[:8])
	}
	for _, bad := range []*rsa.PrivateKey{nil, {}, {PublicKey: k.PublicKey}} {
		if _, err := SignX931(detReader(1), bad, []byte("salt")); !errors.Is(err, ErrKey) {
			t.Errorf("incomplete key: %v", err)
		}
	}
}

func TestVerifyX931Errors(t *testing.T) {
	k := mustTestKey(t)
	size := k.Size()
	sig, _ := SignX931(detReader(1), k, []byte("salt"))
	nBytes := k.N.FillBytes(make([]byte, size))
	em, _ := x931Encode(size, []byte("salt"))
	em[size-1] = 0xcd
	badTrailer := rawPrivate(k, em)
	em, _ = x931Encode(size, []byte("salt"))
	em[0] = 0x6c
	badHeader := rawPrivate(k, em)
	tests := []struct {
		name string
		sig  []byte
	}{
		{"empty", nil},
		{"short", sig[1:]},
		{"long", append([]byte{0}, sig...)},
		{"flipped bit", flip(sig, 200)},
		{"n", nBytes},
		{"above n", bytes.Repeat([]byte{0xff}, size)},
		{"zero", make([]byte, size)},
		{"one", append(make([]byte, size-1), 1)},
		{"bad trailer", badTrailer},
		{"bad header", badHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := VerifyX931(&k.PublicKey, tt.sig); !errors.Is(err, ErrVerify) {
				t.Errorf("got %x, %v; want ErrVerify", got, err)
			}
		})
	}
	// A signature by another key does not open.
	other, _ := ParsePublicKey([]byte(otherPub))
	if _, err := VerifyX931(other, sig); !errors.Is(err, ErrVerify) {
		t.Errorf("other key: %v", err)
	}
	huge := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 20000), E: 65537}
	for _, bad := range []*rsa.PublicKey{nil, {}, {N: k.N}, huge} {
		if _, err := VerifyX931(bad, sig); !errors.Is(err, ErrKey) {
			t.Errorf("incomplete key: %v", err)
		}
	}
}

// otherPub is a 2048-bit public key unrelated to the test key (the master
// key of the Salt captures).
const otherPub = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAovb6wsX7je9FxCfM5Fz1
4YXFMDf5H6pWzWlM+sUcJjKzitQ8tp8pY9xsyXeLmHgyUL17XUj9MzsgZcKRGUyk
j84f2Vk3laUGAr5NPuwIf6jaX1CKpiZbxFQZm3qjGlINb++5m3Cupb2PIIDCBpBN
STsm0bNy0X9m9yBkvzSGpTn6fxi2iNzRwUvmCN62Ji8gyrFW5C+v1n/ZI419oFiS
8RsZKEpYcfakVGb9+11RozH1LmxqszzG3En21K73hD5nDXdl36X2yUpq/BODLIYc
WNq+f/cpKsdEW6AfAdGj5ZNYeiqrWPuG7w1KcuiPudA2c4IClQJXOADJijAvi+Eb
hQIDAQAB
-----END PUBLIC KEY-----
`

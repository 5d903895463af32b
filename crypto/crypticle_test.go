package crypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestGenerateCrypticleKey(t *testing.T) {
	k, err := GenerateCrypticleKey(bytes.NewReader(seq(56)))
	if err != nil {
		t.Fatal(err)
	}
	if len(k) != CrypticleKeyLen {
		t.Fatalf("%d characters", len(k))
	}
	if raw, _ := base64.StdEncoding.DecodeString(k); !bytes.Equal(raw, seq(56)) {
		t.Error("key is not base64 of the 56 bytes read")
	}
	if _, err := NewCrypticle(k); err != nil {
		t.Error(err)
	}
	a, _ := GenerateCrypticleKey(rand.Reader)
	b, _ := GenerateCrypticleKey(rand.Reader)
	if a == b || len(a) != CrypticleKeyLen {
		t.Error("two random keys are equal")
	}
	if _, err := GenerateCrypticleKey(bytes.NewReader(seq(55))); err == nil {
		t.Error("short random source: no error")
	}
}

func TestNewCrypticle(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	good := b64(seq(56))
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"56 bytes", good, true},
		{"a captured session key", "juAr0tPcUYNzixdB2UXNRLB+2Pq1xtheer4oemxF7oEToQIVRPxOHFlPkxwDmfOSZLjx1O3ZwK8=", true},
		{"55 bytes (76 characters too)", b64(seq(55)), false},
		{"57 bytes (76 characters, no padding)", b64(seq(57)), false},
		{"54 bytes", b64(seq(54)), false},
		{"64 bytes", b64(seq(64)), false},
		{"unpadded", strings.TrimRight(good, "="), false},
		{"URL alphabet", strings.NewReplacer("+", "-", "/", "_").Replace("juAr0tPcUYNzixdB2UXNRLB+2Pq1xtheer4oemxF7oEToQIVRPxOHFlPkxwDmfOSZLjx1O3ZwK8="), false},
		{"non-canonical last bits", good[:74] + "x=", false},
		{"trailing newline", good + "\n", false},
		{"newline inside", good[:40] + "\n" + good[41:], false},
		{"space", " " + good[1:], false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCrypticle(tt.key)
			if tt.ok != (err == nil) || tt.ok != (c != nil) {
				t.Fatalf("error %v", err)
			}
			if !tt.ok {
				if !errors.Is(err, ErrKey) {
					t.Errorf("error %v, want ErrKey", err)
				}
				if len(tt.key) > 8 && strings.Contains(err.Error(), tt.key[2:10]) {
					t.Errorf("error quotes the key: %v", err)
				}
			}
		})
	}
}

// reference is Salt's Crypticle.encrypt written out with the standard
// library alone, to check ours against.
func reference(t *testing.T, key string, iv, pt []byte) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(raw[:24])
	pad := 16 - len(pt)%16
	padded := append(bytes.Clone(pt), bytes.Repeat([]byte{byte(pad)}, pad)...)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	data := append(bytes.Clone(iv), ct...)
	mac := hmac.New(sha256.New, raw[24:])
	mac.Write(data)
	return mac.Sum(data)
}

func TestCrypticleRoundTrip(t *testing.T) {
	c := mustCrypticle(t, testCrypticleKey)
	iv := seq(16)
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4029} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			pt := bytes.Repeat([]byte("x"), n)
			blob, err := c.Encrypt(bytes.NewReader(iv), pt)
			if err != nil {
				t.Fatal(err)
			}
			if want := 16 + (n/16+1)*16 + 32; len(blob) != want {
				t.Errorf("blob of %d bytes, want %d", len(blob), want)
			}
			if ref := reference(t, testCrypticleKey, iv, pt); !bytes.Equal(blob, ref) {
				t.Error("differs from the reference construction")
			}
			got, err := c.Decrypt(blob)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("round trip: %v", err)
			}
			again, _ := c.Encrypt(rand.Reader, pt)
			if bytes.Equal(again[:16], blob[:16]) {
				t.Error("IV not drawn from the random source")
			}
		})
	}
	if _, err := c.Encrypt(failingReader{}, nil); !errors.Is(err, errRandFailed) {
		t.Errorf("failing IV source: %v", err)
	}
	if _, err := c.Encrypt(bytes.NewReader(seq(15)), nil); err == nil {
		t.Error("15-byte IV source: no error")
	}
}

// Every single-byte change, anywhere, fails the HMAC.
func TestCrypticleTamper(t *testing.T) {
	c := mustCrypticle(t, testCrypticleKey)
	blob, err := c.Seal(rand.Reader, strings.Repeat("a", NonceLen), []byte("\xc0"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range blob {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(blob)
			b[i] ^= mask
			if _, err := c.Decrypt(b); !errors.Is(err, ErrHMAC) {
				t.Fatalf("byte %d ^ %#x: %v, want ErrHMAC", i, mask, err)
			}
		}
	}
	for n := 0; n < len(blob); n++ {
		_, err := c.Decrypt(blob[:n])
		aligned := n >= minBlobLen && (n-48)%16 == 0
		if aligned && !errors.Is(err, ErrHMAC) || !aligned && !errors.Is(err, ErrCiphertext) {
			t.Errorf("truncated to %d: %v", n, err)
		}
	}
	for _, extra := range []int{1, 15, 16, 32} {
		_, err := c.Decrypt(append(bytes.Clone(blob), make([]byte, extra)...))
		if !errors.Is(err, ErrHMAC) && !errors.Is(err, ErrCiphertext) {
			t.Errorf("%d bytes appended: %v", extra, err)
		}
	}
	otherKey, _ := GenerateCrypticleKey(detReader(5))
	other := mustCrypticle(t, otherKey)
	if _, err := other.Decrypt(blob); !errors.Is(err, ErrHMAC) {
		t.Errorf("wrong key: %v, want ErrHMAC", err)
	}
	// Same AES key, other HMAC key; and the other way round.
	raw := seq(56)
	raw[30] ^= 1
	if _, err := mustCrypticle(t, base64.StdEncoding.EncodeToString(raw)).Decrypt(blob); !errors.Is(err, ErrHMAC) {
		t.Errorf("other HMAC key: %v", err)
	}
}

// forge builds an authentic blob around raw CBC plaintext blocks (no
// padding added), as a broken sender with the key would.
func forge(t *testing.T, key string, blocks []byte) []byte {
	t.Helper()
	raw, _ := base64.StdEncoding.DecodeString(key)
	block, _ := aes.NewCipher(raw[:24])
	out := append(seq(16), make([]byte, len(blocks))...)
	cipher.NewCBCEncrypter(block, out[:16]).CryptBlocks(out[16:], blocks)
	mac := hmac.New(sha256.New, raw[24:])
	mac.Write(out)
	return mac.Sum(out)
}

func TestCrypticlePadding(t *testing.T) {
	c := mustCrypticle(t, testCrypticleKey)
	text := []byte("pickle::0123456789abcdef") // 24 bytes
	tests := []struct {
		name   string
		blocks []byte
		want   []byte // nil: ErrPadding
	}{
		{"one byte", append(text[:15], 1), text[:15]},
		{"full block", append(bytes.Clone(text[:16]), bytes.Repeat([]byte{16}, 16)...), text[:16]},
		{"only padding", bytes.Repeat([]byte{16}, 16), []byte{}},
		{"eight bytes", append(bytes.Clone(text), bytes.Repeat([]byte{8}, 8)...), text},
		{"zero", append(bytes.Clone(text[:15]), 0), nil},
		{"17", append(bytes.Clone(text[:16]), bytes.Repeat([]byte{17}, 16)...), nil},
		{"0xff", append(bytes.Clone(text[:15]), 0xff), nil},
		{"uneven bytes", append(bytes.Clone(text[:13]), 3, 2, 3), nil},
		{"one byte off, far end", append(append(bytes.Clone(text[:8]), 7), bytes.Repeat([]byte{8}, 7)...), nil},
		{"counting bytes", append(bytes.Clone(text[:13]), 1, 2, 3), nil},
		{"16 with one off", append(bytes.Clone(text[:16]), append([]byte{15}, bytes.Repeat([]byte{16}, 15)...)...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.blocks)%16 != 0 {
				t.Fatalf("test bug: %d bytes", len(tt.blocks))
			}
			got, err := c.Decrypt(forge(t, testCrypticleKey, tt.blocks))
			if tt.want == nil {
				if !errors.Is(err, ErrPadding) {
					t.Errorf("got %q, %v; want ErrPadding", got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	c := mustCrypticle(t, testCrypticleKey)
	nonce := "440ad92623684768bd15bee00c3889c6"
	payload := []byte("\x81\xa3fun\xa9test.ping")
	tests := []struct {
		name      string
		seal      string // nonce sealed with
		open      string // nonce opened with
		want      []byte
		wantError error
	}{
		{"no nonce", "", "", payload, nil},
		{"nonce", nonce, nonce, payload, nil},
		{"nonce not asked for stays in the payload", nonce, "", append([]byte(nonce), payload...), nil},
		{"other nonce", nonce, strings.Repeat("0", 32), nil, ErrNonce},
		{"nonce missing", "", nonce, nil, ErrNonce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blob, err := c.Seal(rand.Reader, tt.seal, payload)
			if err != nil {
				t.Fatal(err)
			}
			pt, _ := c.Decrypt(blob)
			if want := "pickle::" + tt.seal + string(payload); string(pt) != want {
				t.Errorf("plaintext %q, want %q", pt, want)
			}
			got, err := c.Open(blob, tt.open)
			if !errors.Is(err, tt.wantError) || !bytes.Equal(got, tt.want) {
				t.Errorf("Open = %q, %v; want %q, %v", got, err, tt.want, tt.wantError)
			}
		})
	}
	// A short plaintext cannot hold the nonce.
	short, _ := c.Seal(rand.Reader, "", []byte("x"))
	if _, err := c.Open(short, nonce); !errors.Is(err, ErrNonce) {
		t.Errorf("short plaintext: %v", err)
	}
	for _, bad := range []string{"x", nonce[:31], nonce + "0"} {
		if _, err := c.Seal(rand.Reader, bad, payload); !errors.Is(err, ErrNonce) {
			t.Errorf("Seal with a %d-character nonce: %v", len(bad), err)
		}
		if _, err := c.Open(short, bad); !errors.Is(err, ErrNonce) {
			t.Errorf("Open with a %d-character nonce: %v", len(bad), err)
		}
	}
	for _, pt := range []string{"", "pickle:", "PICKLE::x", "pickle;:x", "\x80pickle::"} {
		blob, _ := c.Encrypt(rand.Reader, []byte(pt))
		if _, err := c.Open(blob, ""); !errors.Is(err, ErrNoPrefix) {
			t.Errorf("plaintext %q: %v, want ErrNoPrefix", pt, err)
		}
	}
	if _, err := c.Open([]byte("short"), ""); !errors.Is(err, ErrCiphertext) {
		t.Errorf("garbage: %v", err)
	}
}

func TestCrypticleZero(t *testing.T) {
	var c Crypticle
	if _, err := c.Encrypt(rand.Reader, nil); !errors.Is(err, ErrKey) {
		t.Error(err)
	}
	if _, err := c.Seal(rand.Reader, "", nil); !errors.Is(err, ErrKey) {
		t.Error(err)
	}
	if _, err := c.Decrypt(make([]byte, 64)); !errors.Is(err, ErrKey) {
		t.Error(err)
	}
	if _, err := c.Open(make([]byte, 64), ""); !errors.Is(err, ErrKey) {
		t.Error(err)
	}
}

func TestCrypticleConcurrent(t *testing.T) {
	c := mustCrypticle(t, testCrypticleKey)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				msg := []byte(fmt.Sprintf("goroutine %d message %d", g, i))
				blob, err := c.Seal(rand.Reader, "", msg)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := c.Open(blob, ""); err != nil || !bytes.Equal(got, msg) {
					t.Errorf("round trip: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A Crypticle never prints its key, whatever prints it.
func TestCrypticleRedacted(t *testing.T) {
	c := mustCrypticle(t, testCrypticleKey)
	raw, _ := base64.StdEncoding.DecodeString(testCrypticleKey)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "crypticle", c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "crypticle", c, slog.Any("any", c))
	outputs := []string{logged.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, c))
	}
	outputs = append(outputs, fmt.Sprint(c), fmt.Sprintf("%v", []*Crypticle{c}), c.LogValue().String())
	secrets := []string{
		testCrypticleKey[:16], fmt.Sprintf("%x", raw[:8]), fmt.Sprintf("%x", raw[24:32]),
		fmt.Sprint(raw[:8]), fmt.Sprint(raw[24:32]), string(raw[:8]),
	}
	for _, out := range outputs {
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("output without REDACTED: %q", out)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output %q contains key material", out)
			}
		}
	}
}

func TestSerialGuard(t *testing.T) {
	tests := []struct {
		name    string
		serials []int64
		want    []bool
	}{
		{"counting up", []int64{1, 2, 3}, []bool{true, true, true}},
		{"replay", []int64{1, 2, 2, 1}, []bool{true, true, false, false}},
		{"gaps are fine", []int64{1, 5, 4, 6}, []bool{true, true, false, true}},
		{"zero is never new", []int64{0, 1}, []bool{false, true}},
		{"negative", []int64{-1, 1}, []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g SerialGuard
			for i, s := range tt.serials {
				if got := g.Check(s); got != tt.want[i] {
					t.Errorf("Check(%d) = %v, want %v", s, got, tt.want[i])
				}
			}
		})
	}
	var g SerialGuard
	g.Check(7)
	g.Reset() // a new master AES key: its publications start at 1 again
	if !g.Check(1) {
		t.Error("after Reset, serial 1 refused")
	}

	// Concurrent checks never accept a serial twice.
	var h SerialGuard
	accepted := make([]int, 1001)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for s := int64(1); s <= 1000; s++ {
				if h.Check(s) {
					mu.Lock()
					accepted[s]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for s, n := range accepted {
		if n > 1 {
			t.Errorf("serial %d accepted %d times", s, n)
		}
	}
	if accepted[1000] != 1 || h.Check(1000) {
		t.Error("the last serial was not accepted exactly once")
	}
}

func TestNilRand(t *testing.T) {
	k := mustTestKey(t)
	c := mustCrypticle(t, testCrypticleKey)
	calls := map[string]func() error{
		"GenerateKey":          func() error { _, err := GenerateKey(nil, 2048); return err },
		"GenerateCrypticleKey": func() error { _, err := GenerateCrypticleKey(nil); return err },
		"Encrypt":              func() error { _, err := Encrypt(nil, &k.PublicKey, OAEPSHA1, nil); return err },
		"SignX931":             func() error { _, err := SignX931(nil, k, nil); return err },
		"Crypticle.Encrypt":    func() error { _, err := c.Encrypt(nil, nil); return err },
		"Crypticle.Seal":       func() error { _, err := c.Seal(nil, "", nil); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, errNilRand) {
			t.Errorf("%s(nil): %v", name, err)
		}
	}
}

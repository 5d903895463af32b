package crypto

import (
	"crypto/rand"
	"fmt"
	"testing"
)

var benchSizes = []int{100, 10 << 10, 1 << 20}

func BenchmarkCrypticle(b *testing.B) {
	c := mustCrypticle(b, testCrypticleKey)
	for _, n := range benchSizes {
		pt := seq(n)
		b.Run(fmt.Sprintf("Encrypt/%s", size(n)), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := c.Encrypt(rand.Reader, pt); err != nil {
					b.Fatal(err)
				}
			}
		})
		blob, _ := c.Encrypt(rand.Reader, pt)
		b.Run(fmt.Sprintf("Decrypt/%s", size(n)), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := c.Decrypt(blob); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkRSA times each RSA operation at 2048 bits on the messages Salt
// uses: a 76-byte key string for OAEP, a signed load for PKCS1v15, "salt"
// for X9.31.
func BenchmarkRSA(b *testing.B) {
	k := mustTestKey(b)
	keyString := []byte(testCrypticleKey)
	load := seq(1320) // the size of an accepted _auth reply's signed load
	ct, _ := Encrypt(rand.Reader, &k.PublicKey, OAEPSHA1, keyString)
	sig, _ := Sign(k, PKCS1v15SHA1, load)
	tok, _ := SignX931(rand.Reader, k, []byte("salt"))
	benches := []struct {
		name string
		fn   func() error
	}{
		{"Encrypt/OAEP-SHA1", func() error { _, err := Encrypt(rand.Reader, &k.PublicKey, OAEPSHA1, keyString); return err }},
		{"Decrypt/OAEP-SHA1", func() error { _, err := Decrypt(k, OAEPSHA1, ct); return err }},
		{"Sign/PKCS1v15-SHA1", func() error { _, err := Sign(k, PKCS1v15SHA1, load); return err }},
		{"Verify/PKCS1v15-SHA1", func() error { return Verify(&k.PublicKey, PKCS1v15SHA1, load, sig) }},
		{"SignX931", func() error { _, err := SignX931(rand.Reader, k, []byte("salt")); return err }},
		{"VerifyX931", func() error { _, err := VerifyX931(&k.PublicKey, tok); return err }},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bb.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("GenerateKey/2048", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := GenerateKey(rand.Reader, 2048); err != nil {
				b.Fatal(err)
			}
		}
	})
}

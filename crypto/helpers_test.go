package crypto

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"io"
	"math/big"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// testKey is the throwaway key in testdata (see testdata/gen.go): unit
// tests, fuzz targets and benchmarks share it instead of generating keys.
var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return ReadPrivateKey("testdata/rsa2048.pem")
})

func mustTestKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testCrypticleKey is a fixed Crypticle key for tests (the bytes 0..55).
var testCrypticleKey = func() string {
	k, err := GenerateCrypticleKey(bytes.NewReader(seq(crypticleRawKeyLen)))
	if err != nil {
		panic(err)
	}
	return k
}()

func mustCrypticle(t testing.TB, key string) *Crypticle {
	t.Helper()
	c, err := NewCrypticle(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seq returns n bytes 0, 1, 2, ...
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// detReader is a deterministic, endless source of bytes for tests.
func detReader(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// failingReader fails every read.
type failingReader struct{}

var errRandFailed = errors.New("test: random source failed")

func (failingReader) Read([]byte) (int, error) { return 0, errRandFailed }

// zeroReader yields zeros forever: a broken random source.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// rawPrivate is textbook RSA, m^d mod n as k bytes, for building blocks
// that SignX931 would refuse to make.
func rawPrivate(priv *rsa.PrivateKey, m []byte) []byte {
	s := new(big.Int).Exp(new(big.Int).SetBytes(m), priv.D, priv.N)
	return s.FillBytes(make([]byte, priv.Size()))
}

// rawPublic is textbook RSA, s^e mod n as k bytes.
func rawPublic(pub *rsa.PublicKey, s []byte) []byte {
	m := new(big.Int).Exp(new(big.Int).SetBytes(s), big.NewInt(int64(pub.E)), pub.N)
	return m.FillBytes(make([]byte, pub.Size()))
}

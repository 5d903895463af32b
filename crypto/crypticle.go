package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Sizes of the Crypticle layer.
const (
	// CrypticleKeyLen is the length of a Crypticle key string: standard
	// base64, padded, of 56 bytes.
	CrypticleKeyLen = 76

	crypticleRawKeyLen = aesKeyLen + hmacKeyLen
	aesKeyLen          = 24 // AES-192: Salt's key_size=192
	hmacKeyLen         = 32
	ivLen              = aes.BlockSize
	macLen             = sha256.Size
	// minBlobLen is an IV, one block (PKCS#7 always adds at least a byte)
	// and the HMAC.
	minBlobLen = ivLen + aes.BlockSize + macLen
)

// The framing Salt puts inside every Crypticle plaintext.
const (
	// PicklePrefix starts every plaintext Salt encrypts. The name is
	// historical: the payload that follows is msgpack.
	PicklePrefix = "pickle::"
	// NonceLen is the length of a nonce (uuid4().hex) when a plaintext
	// carries one: in the master's replies to encrypted requests.
	NonceLen = 32
)

// GenerateCrypticleKey returns a new Crypticle key string made from 56
// bytes of rand: what Salt uses for the master AES key, session keys, the
// _auth token, one-off _pillar keys and the .root_key.
func GenerateCrypticleKey(rand io.Reader) (string, error) {
	if rand == nil {
		return "", errNilRand
	}
	raw := make([]byte, crypticleRawKeyLen)
	if _, err := io.ReadFull(rand, raw); err != nil {
		return "", fmt.Errorf("crypto: generating Crypticle key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// Crypticle is Salt's authenticated symmetric encryption under one key
// string: AES-192-CBC with PKCS#7 padding, then HMAC-SHA256 over IV and
// ciphertext. Make one with NewCrypticle; the zero value has no key and
// every method on it fails with ErrKey. A Crypticle is immutable and safe
// for concurrent use. It holds a secret: fmt and log/slog print it as
// redacted.
//
// It keeps no HMAC state between calls: a master holds one Crypticle per
// minion (its session key), and a pooled HMAC each would cost ~2 KiB per
// minion for ~0.2 µs per call saved.
type Crypticle struct {
	block   cipher.Block
	hmacKey []byte
}

// NewCrypticle returns the Crypticle for a key string. A key that is not
// standard padded base64 of exactly 56 bytes (76 characters, no
// whitespace) wraps ErrKey; the error never quotes the key.
func NewCrypticle(key string) (*Crypticle, error) {
	if len(key) != CrypticleKeyLen {
		return nil, fmt.Errorf("%w: Crypticle key is %d characters, want %d", ErrKey, len(key), CrypticleKeyLen)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(key)
	if err != nil || len(raw) != crypticleRawKeyLen {
		return nil, fmt.Errorf("%w: Crypticle key is not base64 of %d bytes", ErrKey, crypticleRawKeyLen)
	}
	block, err := aes.NewCipher(raw[:aesKeyLen])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return &Crypticle{block: block, hmacKey: raw[aesKeyLen:]}, nil
}

var errNoKey = fmt.Errorf("%w: zero Crypticle", ErrKey)

// Encrypt returns IV || AES-192-CBC(PKCS#7(plaintext)) || HMAC-SHA256(IV ||
// ciphertext), reading the 16-byte IV from rand: exactly Salt's
// Crypticle.encrypt. Salt frames what it encrypts; see Seal.
func (c *Crypticle) Encrypt(rand io.Reader, plaintext []byte) ([]byte, error) {
	return c.encrypt(rand, "", "", plaintext)
}

// Decrypt returns the plaintext of a blob made by Encrypt. The HMAC is
// checked first, in constant time (ErrHMAC); then the padding, strictly:
// 1 to 16 bytes, all equal to their count (ErrPadding; Salt strips the
// last byte's worth without looking). Input shorter than 64 bytes, or
// whose ciphertext is not whole blocks, wraps ErrCiphertext. The plaintext
// is a new slice; blob is not modified.
func (c *Crypticle) Decrypt(blob []byte) ([]byte, error) {
	if c.block == nil {
		return nil, errNoKey
	}
	if len(blob) < minBlobLen || (len(blob)-ivLen-macLen)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not IV, whole AES blocks and an HMAC", ErrCiphertext, len(blob))
	}
	body, tag := blob[:len(blob)-macLen], blob[len(blob)-macLen:]
	mac := hmac.New(sha256.New, c.hmacKey)
	mac.Write(body)
	var sum [macLen]byte
	if !hmac.Equal(mac.Sum(sum[:0]), tag) {
		return nil, ErrHMAC
	}
	iv, ct := body[:ivLen], body[ivLen:]
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(pt, ct)
	n, ok := unpad(pt)
	if !ok {
		return nil, ErrPadding
	}
	return pt[:n], nil
}

// unpad checks PKCS#7 padding and returns the length of the text before it.
// It runs in time independent of the padding's value; the HMAC has already
// been checked, so this is care rather than necessity.
func unpad(pt []byte) (int, bool) {
	last := pt[len(pt)-1]
	good := subtle.ConstantTimeLessOrEq(1, int(last)) & subtle.ConstantTimeLessOrEq(int(last), aes.BlockSize)
	tail := pt[len(pt)-aes.BlockSize:]
	for i := range aes.BlockSize {
		// Bytes within the padding (i ≥ 16-last) must equal last.
		inPad := subtle.ConstantTimeLessOrEq(aes.BlockSize, i+int(last))
		eq := subtle.ConstantTimeByteEq(tail[i], last)
		good &= eq | (inPad ^ 1)
	}
	return len(pt) - int(last), good == 1
}

// Seal frames and encrypts a message as Salt's Crypticle.dumps does:
// Encrypt("pickle::" + nonce + payload), payload being the msgpack bytes.
// nonce is "" (requests, publications, _pillar) or, in a reply to an
// encrypted request, that request's 32-character nonce; any other length
// wraps ErrNonce.
func (c *Crypticle) Seal(rand io.Reader, nonce string, payload []byte) ([]byte, error) {
	if nonce != "" && len(nonce) != NonceLen {
		return nil, fmt.Errorf("%w: nonce is %d characters, want %d", ErrNonce, len(nonce), NonceLen)
	}
	return c.encrypt(rand, PicklePrefix, nonce, payload)
}

// Open decrypts a blob made by Seal and returns the payload (msgpack
// bytes). Beyond Decrypt's errors, a plaintext without the "pickle::"
// prefix wraps ErrNoPrefix, and when nonce is not "" the plaintext must
// carry it right after the prefix (ErrNonce), as Salt's minion checks a
// reply to its request.
func (c *Crypticle) Open(blob []byte, nonce string) ([]byte, error) {
	if nonce != "" && len(nonce) != NonceLen {
		return nil, fmt.Errorf("%w: nonce is %d characters, want %d", ErrNonce, len(nonce), NonceLen)
	}
	pt, err := c.Decrypt(blob)
	if err != nil {
		return nil, err
	}
	if len(pt) < len(PicklePrefix) || string(pt[:len(PicklePrefix)]) != PicklePrefix {
		return nil, ErrNoPrefix
	}
	pt = pt[len(PicklePrefix):]
	if nonce == "" {
		return pt, nil
	}
	if len(pt) < NonceLen || string(pt[:NonceLen]) != nonce {
		return nil, ErrNonce
	}
	return pt[NonceLen:], nil
}

// encrypt encrypts prefix+nonce+body, building the blob in one allocation.
func (c *Crypticle) encrypt(rand io.Reader, prefix, nonce string, body []byte) ([]byte, error) {
	if c.block == nil {
		return nil, errNoKey
	}
	if rand == nil {
		return nil, errNilRand
	}
	n := len(prefix) + len(nonce) + len(body)
	pad := aes.BlockSize - n%aes.BlockSize // 1..16, never 0
	ctLen := n + pad
	out := make([]byte, ivLen+ctLen+macLen)
	iv := out[:ivLen]
	if _, err := io.ReadFull(rand, iv); err != nil {
		return nil, fmt.Errorf("crypto: reading Crypticle IV: %w", err)
	}
	pt := out[ivLen : ivLen+ctLen]
	i := copy(pt, prefix)
	i += copy(pt[i:], nonce)
	i += copy(pt[i:], body)
	for ; i < ctLen; i++ {
		pt[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(pt, pt)
	mac := hmac.New(sha256.New, c.hmacKey)
	mac.Write(out[:ivLen+ctLen])
	mac.Sum(out[:ivLen+ctLen]) // fills the last 32 bytes in place
	return out, nil
}

// LogValue implements slog.LogValuer: a Crypticle logs as redacted.
func (c *Crypticle) LogValue() slog.Value { return slog.StringValue("Crypticle(REDACTED)") }

// String returns a redacted description; the key is never printed.
func (c *Crypticle) String() string { return "Crypticle(REDACTED)" }

// GoString is String, so %#v does not print the key either.
func (c *Crypticle) GoString() string { return c.String() }

// Format implements fmt.Formatter so that no verb (%x, %d, %+v...) can
// print the key.
func (c *Crypticle) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// SerialGuard is the replay check a Salt minion applies to publications:
// each carries a serial that its master counts up from 1 per AES key, and a
// serial at or below the last one accepted is a replay (Salt answers it
// with {}). The zero value is ready: it accepts any serial above 0. Safe
// for concurrent use.
type SerialGuard struct {
	mu   sync.Mutex
	last int64 // mu guards last
}

// Check reports whether serial is above every serial accepted so far, and
// if so remembers it. A false result means drop the publication.
func (g *SerialGuard) Check(serial int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if serial <= g.last {
		return false
	}
	g.last = serial
	return true
}

// Reset forgets the serials seen: call it on a new master AES key, whose
// publications count from 1 again.
func (g *SerialGuard) Reset() {
	g.mu.Lock()
	g.last = 0
	g.mu.Unlock()
}

package crypto

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// X9.31 block bytes (ANSI X9.31 §A.2, as OpenSSL's rsa_x931.c lays them
// out): a header nibble 6, padding nibbles B ending in A, the message, the
// trailer CC.
const (
	x931HeaderShort = 0x6a // header and padding end in one byte: no padding
	x931Header      = 0x6b
	x931Pad         = 0xbb
	x931PadEnd      = 0xba
	x931Trailer     = 0xcc
)

// blindingAttempts bounds the draws of a blinding factor: a random source
// that keeps yielding 0 or a multiple of p or q is broken, not unlucky.
const blindingAttempts = 16

// SignX931 is OpenSSL's RSA_private_encrypt(RSA_X931_PADDING), which Salt
// uses for the minion's tok (msg = "salt") and the master's sig in an
// accepted _auth reply (msg = hex SHA-256 of the AES key string). With k
// the modulus length in bytes and L = len(msg) ≤ k-2, the block is
//
//	0x6B, 0xBB × (k-L-3), 0xBA, msg, 0xCC    (L < k-2)
//	0x6A, msg, 0xCC                          (L = k-2)
//
// raised to the private exponent; the output is min(s, n-s) as k bytes. It
// is deterministic: rand is read only for the blinding factor that shields
// the private-key operation from timing attacks, and the result is checked
// with the public exponent before it is returned (a fault in the CRT
// arithmetic would otherwise leak the key).
//
// Like OpenSSL, SignX931 signs an empty message and one of k-3 bytes, but
// neither RSA_public_decrypt nor VerifyX931 will open those; Salt never signs
// such lengths.
func SignX931(rand io.Reader, priv *rsa.PrivateKey, msg []byte) ([]byte, error) {
	if rand == nil {
		return nil, errNilRand
	}
	if priv == nil || priv.N == nil || priv.D == nil || priv.N.Sign() <= 0 || priv.E < 2 {
		return nil, fmt.Errorf("%w: X9.31 signature: incomplete RSA private key", ErrKey)
	}
	k := (priv.N.BitLen() + 7) / 8
	em, err := x931Encode(k, msg)
	if err != nil {
		return nil, err
	}
	m := new(big.Int).SetBytes(em)
	if m.Cmp(priv.N) >= 0 {
		return nil, errors.New("crypto: X9.31 signature: block too large for the modulus")
	}
	s, err := privateOp(rand, priv, m)
	if err != nil {
		return nil, fmt.Errorf("crypto: X9.31 signature: %w", err)
	}
	if ns := new(big.Int).Sub(priv.N, s); ns.Cmp(s) < 0 {
		s = ns
	}
	return s.FillBytes(make([]byte, k)), nil
}

// VerifyX931 is OpenSSL's RSA_public_decrypt(RSA_X931_PADDING): it opens
// sig with pub and returns the message inside. The master checks a tok by
// comparing the result with "salt"; the minion checks the master's sig by
// comparing it with the hex SHA-256 of the AES key it decrypted.
//
// m = sig^e mod n; a signer outputs min(s, n-s), so when m's low nibble is
// not the trailer's 0xC, m = n-m. The block must then be 0x6A msg 0xCC, or
// 0x6B, at least one 0xBB, 0xBA, msg (at least one byte), 0xCC. Anything
// else, a signature that is not exactly pub.Size() bytes, or one not below
// n, wraps ErrVerify. Two departures from OpenSSL, both stricter: it wants
// the signature at full length, and it refuses a block with no 0xBA (which
// OpenSSL opens to an empty message without checking the last byte).
func VerifyX931(pub *rsa.PublicKey, sig []byte) ([]byte, error) {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 || pub.E < 2 {
		return nil, fmt.Errorf("%w: X9.31: incomplete RSA public key", ErrKey)
	}
	if pub.N.BitLen() > maxKeyBits {
		return nil, fmt.Errorf("%w: X9.31: %d-bit RSA key is over the %d-bit limit", ErrKey, pub.N.BitLen(), maxKeyBits)
	}
	k := (pub.N.BitLen() + 7) / 8
	if len(sig) != k {
		return nil, fmt.Errorf("%w: X9.31 signature is %d bytes, want %d", ErrVerify, len(sig), k)
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(pub.N) >= 0 {
		return nil, fmt.Errorf("%w: X9.31 signature out of range", ErrVerify)
	}
	m := s.Exp(s, big.NewInt(int64(pub.E)), pub.N)
	if m.Bit(0) != 0 || m.Bit(1) != 0 || m.Bit(2) != 1 || m.Bit(3) != 1 { // m & 0xF != 0xC
		m.Sub(pub.N, m)
	}
	msg, ok := x931Decode(m.FillBytes(make([]byte, k)))
	if !ok {
		return nil, fmt.Errorf("%w: bad X9.31 padding", ErrVerify)
	}
	return msg, nil
}

// x931Encode lays msg out in a k-byte X9.31 block, as RSA_padding_add_X931.
func x931Encode(k int, msg []byte) ([]byte, error) {
	j := k - len(msg) - 2 // bytes of header+padding beyond the first nibble
	if j < 0 {
		return nil, fmt.Errorf("crypto: X9.31 signature: message of %d bytes is too long for a %d-byte key (at most %d)", len(msg), k, k-2)
	}
	em := make([]byte, k)
	if j == 0 {
		em[0] = x931HeaderShort
	} else {
		em[0] = x931Header
		for i := 1; i < j; i++ {
			em[i] = x931Pad
		}
		em[j] = x931PadEnd
	}
	copy(em[j+1:], msg)
	em[k-1] = x931Trailer
	return em, nil
}

// x931Decode returns the message of a k-byte X9.31 block, accepting what
// RSA_padding_check_X931 accepts (minus its no-0xBA quirk). The message
// aliases em.
func x931Decode(em []byte) ([]byte, bool) {
	k := len(em)
	if k < 3 || em[k-1] != x931Trailer {
		return nil, false
	}
	switch em[0] {
	case x931HeaderShort:
		return em[1 : k-1], true
	case x931Header:
		// OpenSSL scans em[1:k-2] for the 0xBA and insists on at least one
		// 0xBB before it. So the 0xBA sits somewhere in em[2:k-2], and the
		// message is at least one byte.
		i := 1
		for i < k-2 && em[i] == x931Pad {
			i++
		}
		if i == 1 || i >= k-2 || em[i] != x931PadEnd {
			return nil, false
		}
		return em[i+1 : k-1], true
	}
	return nil, false
}

// privateOp returns m^d mod n, computed with RSA blinding (m·r^e, then
// ·r^-1, r drawn from random) and the CRT when the key has two primes and
// its precomputed values, and checked with the public exponent.
//
// math/big is not constant time; the blinding keeps an attacker who times
// signatures of chosen messages from learning about d through m, as Go's
// crypto/rsa did before it moved to constant-time arithmetic.
func privateOp(random io.Reader, priv *rsa.PrivateKey, m *big.Int) (*big.Int, error) {
	n := priv.N
	e := big.NewInt(int64(priv.E))

	var r, rInv *big.Int
	for attempt := 0; ; attempt++ {
		if attempt == blindingAttempts {
			return nil, errors.New("no usable blinding factor from the random source")
		}
		var err error
		if r, err = rand.Int(random, n); err != nil {
			return nil, fmt.Errorf("drawing a blinding factor: %w", err)
		}
		if r.Sign() != 0 {
			if rInv = new(big.Int).ModInverse(r, n); rInv != nil {
				break
			}
		}
	}
	c := new(big.Int).Exp(r, e, n)
	c.Mul(c, m).Mod(c, n)

	var s *big.Int
	pc := &priv.Precomputed
	if len(priv.Primes) == 2 && pc.Dp != nil && pc.Dq != nil && pc.Qinv != nil {
		p, q := priv.Primes[0], priv.Primes[1]
		m1 := new(big.Int).Exp(c, pc.Dp, p)
		m2 := new(big.Int).Exp(c, pc.Dq, q)
		// s = m2 + q·(qInv·(m1-m2) mod p) (Garner); Mod is Euclidean, so
		// the difference ends up in [0, p).
		m1.Sub(m1, m2).Mul(m1, pc.Qinv).Mod(m1, p)
		s = m1.Mul(m1, q).Add(m1, m2)
	} else {
		s = new(big.Int).Exp(c, priv.D, n)
	}
	s.Mul(s, rInv).Mod(s, n)

	if new(big.Int).Exp(s, e, n).Cmp(m) != 0 {
		return nil, errors.New("private key operation failed its check (inconsistent key?)")
	}
	return s, nil
}

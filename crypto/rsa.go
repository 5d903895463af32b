package crypto

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
)

// EncAlgo names an RSA encryption scheme as Salt does in its
// encryption_algorithm option and the enc_algo field of requests. The zero
// value means OAEPSHA1, Salt's default, as a missing enc_algo does.
type EncAlgo string

// SigAlgo names an RSA signature scheme as Salt does in its
// signing_algorithm and publish_signing_algorithm options and the sig_algo
// field. The zero value means PKCS1v15SHA1, Salt's default.
type SigAlgo string

// The schemes Salt 3006 accepts. SHA-224 is the FIPS choice.
const (
	// OAEPSHA1 is RSAES-OAEP with SHA-1, MGF1-SHA-1 and an empty label.
	OAEPSHA1 EncAlgo = "OAEP-SHA1"
	// OAEPSHA224 is RSAES-OAEP with SHA-224, MGF1-SHA-224 and an empty label.
	OAEPSHA224 EncAlgo = "OAEP-SHA224"
	// PKCS1v15SHA1 is RSASSA-PKCS1-v1_5 over the SHA-1 of the message.
	PKCS1v15SHA1 SigAlgo = "PKCS1v15-SHA1"
	// PKCS1v15SHA224 is RSASSA-PKCS1-v1_5 over the SHA-224 of the message.
	PKCS1v15SHA224 SigAlgo = "PKCS1v15-SHA224"
)

// ParseEncAlgo returns the EncAlgo named s, exactly as Salt spells it (case
// matters); "" gives the default, OAEPSHA1. Any other name wraps
// ErrAlgorithm: Salt's master answers it with "bad enc algo".
func ParseEncAlgo(s string) (EncAlgo, error) {
	a := EncAlgo(s)
	if _, err := a.hash(); err != nil {
		return "", err
	}
	if a == "" {
		return OAEPSHA1, nil
	}
	return a, nil
}

// ParseSigAlgo returns the SigAlgo named s, exactly as Salt spells it; ""
// gives the default, PKCS1v15SHA1. Any other name wraps ErrAlgorithm: Salt's
// master answers it with "bad sig algo".
func ParseSigAlgo(s string) (SigAlgo, error) {
	a := SigAlgo(s)
	if _, err := a.hash(); err != nil {
		return "", err
	}
	if a == "" {
		return PKCS1v15SHA1, nil
	}
	return a, nil
}

// String returns the name Salt uses for a.
func (a EncAlgo) String() string {
	if a == "" {
		return string(OAEPSHA1)
	}
	return string(a)
}

// String returns the name Salt uses for a.
func (a SigAlgo) String() string {
	if a == "" {
		return string(PKCS1v15SHA1)
	}
	return string(a)
}

// hash returns the constructor of a's hash (OAEP uses it for MGF1 too).
func (a EncAlgo) hash() (func() hash.Hash, error) {
	switch a {
	case OAEPSHA1, "":
		return sha1.New, nil
	case OAEPSHA224:
		return sha256.New224, nil
	}
	return nil, badName(ErrAlgorithm, "encryption algorithm", string(a))
}

func (a SigAlgo) hash() (crypto.Hash, error) {
	switch a {
	case PKCS1v15SHA1, "":
		return crypto.SHA1, nil
	case PKCS1v15SHA224:
		return crypto.SHA224, nil
	}
	return 0, badName(ErrAlgorithm, "signing algorithm", string(a))
}

// Encrypt encrypts msg for the holder of pub with RSAES-OAEP: the hash of
// algo, MGF1 with the same hash, an empty label. This is how Salt wraps the
// master AES key, session keys, the _auth token and the _pillar key. msg can
// be at most pub.Size()-2·hLen-2 bytes (214 with SHA-1 and 2048 bits). rand
// supplies the OAEP seed.
func Encrypt(rand io.Reader, pub *rsa.PublicKey, algo EncAlgo, msg []byte) ([]byte, error) {
	if rand == nil {
		return nil, errNilRand
	}
	h, err := algo.hash()
	if err != nil {
		return nil, err
	}
	ct, err := rsa.EncryptOAEP(h(), rand, pub, msg, nil)
	if err != nil {
		return nil, fmt.Errorf("crypto: %s encryption: %w", algo, err)
	}
	return ct, nil
}

// Decrypt reverses Encrypt. A ciphertext that was not made for priv with
// algo gives an error wrapping rsa.ErrDecryption; the error says nothing
// more, so that it cannot serve as a padding oracle.
func Decrypt(priv *rsa.PrivateKey, algo EncAlgo, ct []byte) ([]byte, error) {
	h, err := algo.hash()
	if err != nil {
		return nil, err
	}
	msg, err := rsa.DecryptOAEP(h(), nil, priv, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("crypto: %s decryption: %w", algo, err)
	}
	return msg, nil
}

// Sign signs msg with RSASSA-PKCS1-v1_5 over its hash under algo: the
// signature on _auth replies (over the msgpack bytes of the load), on
// publications (over the Crypticle ciphertext) and on _pillar data. The
// signature is deterministic.
func Sign(priv *rsa.PrivateKey, algo SigAlgo, msg []byte) ([]byte, error) {
	h, err := algo.hash()
	if err != nil {
		return nil, err
	}
	sig, err := rsa.SignPKCS1v15(nil, priv, h, digest(h, msg))
	if err != nil {
		return nil, fmt.Errorf("crypto: %s signature: %w", algo, err)
	}
	return sig, nil
}

// Verify checks a signature made by Sign. A signature that does not match
// wraps ErrVerify.
func Verify(pub *rsa.PublicKey, algo SigAlgo, msg, sig []byte) error {
	h, err := algo.hash()
	if err != nil {
		return err
	}
	if err := rsa.VerifyPKCS1v15(pub, h, digest(h, msg), sig); err != nil {
		return fmt.Errorf("%w: %s signature", ErrVerify, algo)
	}
	return nil
}

func digest(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA1:
		d := sha1.Sum(msg)
		return d[:]
	case crypto.SHA224:
		d := sha256.Sum224(msg)
		return d[:]
	}
	panic("crypto: unreachable hash")
}

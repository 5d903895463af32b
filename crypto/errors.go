package crypto

import (
	"errors"
	"fmt"
)

// Sentinel errors, for the conditions a caller branches on; errors.Is finds
// them through the context added to them. Other failures (file I/O, the
// random source, a message too long for the key, crypto/rsa's
// rsa.ErrDecryption) are wrapped as they come.
var (
	// ErrAlgorithm is returned by ParseEncAlgo, ParseSigAlgo and Fingerprint
	// for a name they do not know, and by the RSA functions when handed such
	// a value.
	ErrAlgorithm = errors.New("crypto: unknown algorithm")
	// ErrVerify is returned by Verify for a signature that does not match,
	// and by VerifyX931 for one that does not open to a well-formed X9.31
	// block.
	ErrVerify = errors.New("crypto: verification failed")
	// ErrKey is returned for malformed keys: by NewCrypticle for a key
	// string that is not standard base64 of 56 bytes, and by the Parse and
	// Read functions for PEM that is not an RSA key of the expected kind.
	ErrKey = errors.New("crypto: invalid key")
	// ErrHMAC is returned by Crypticle.Decrypt and Open when the HMAC does
	// not match: tampering, or the wrong key (Salt's cue to re-authenticate).
	ErrHMAC = errors.New("crypto: message authentication failed")
	// ErrPadding is returned by Crypticle.Decrypt and Open when an
	// authentic blob has bad PKCS#7 padding: the sender is broken.
	ErrPadding = errors.New("crypto: bad padding")
	// ErrCiphertext is returned by Crypticle.Decrypt and Open for input too
	// short to be a blob, or whose ciphertext is not whole AES blocks.
	ErrCiphertext = errors.New("crypto: malformed ciphertext")
	// ErrNoPrefix is returned by Crypticle.Open when the plaintext does not
	// start with "pickle::" (Salt itself treats such a message as {}).
	ErrNoPrefix = errors.New(`crypto: plaintext lacks the "pickle::" prefix`)
	// ErrNonce is returned by Crypticle.Open when the expected nonce does
	// not follow the prefix, and by Seal and Open for a nonce that is
	// neither empty nor 32 characters.
	ErrNonce = errors.New("crypto: nonce mismatch")
)

// errNilRand is returned by every function that takes a random source and
// is handed nil.
var errNilRand = errors.New("crypto: nil random source")

// maxNameInError bounds how much of a peer-supplied name goes into an
// error, so that a hostile peer cannot blow up log lines.
const maxNameInError = 40

// badName wraps sentinel with a (truncated, quoted) peer-supplied name.
func badName(sentinel error, what, name string) error {
	if len(name) > maxNameInError {
		name = name[:maxNameInError] + "..."
	}
	return fmt.Errorf("%w: %s %q", sentinel, what, name)
}

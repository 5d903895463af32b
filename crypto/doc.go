// Package crypto is the cryptography of the Salt master/minion protocol
// (Salt 3006.16), byte-compatible with what a stock Salt master and minion
// send and accept.
//
// # The model
//
// Salt stacks three layers, and this package provides each as plain
// functions over standard types:
//
//   - RSA key pairs. Every master and minion has one (e = 65537, 2048 bits by
//     default). Private keys live in master.pem/minion.pem as PKCS#1 PEM, mode
//     0400; public keys in master.pub/minion.pub as SubjectPublicKeyInfo PEM,
//     mode 0644. On the wire, and whenever Salt compares two keys, a public
//     key travels in its "clean" form ([CleanKey]): the PEM text stripped,
//     lines joined with "\n", no trailing newline. [Fingerprint] is what
//     salt-key -f prints.
//
//   - RSA operations, used in three distinct ways:
//     RSAES-OAEP ([Encrypt], [Decrypt]) wraps secrets for one peer: the
//     master AES key, a minion's session key, the _auth token, the one-off
//     _pillar key. RSASSA-PKCS1-v1_5 ([Sign], [Verify]) signs _auth replies,
//     publications and _pillar data. X9.31 "private encrypt" ([SignX931],
//     [VerifyX931]) is OpenSSL's RSA_private_encrypt with RSA_X931_PADDING,
//     which Salt calls through ctypes for two things: the minion's tok (over
//     the four bytes "salt", sent with every encrypted request) and the
//     master's sig in an accepted _auth reply (over the hex SHA-256 of the
//     master AES key string). Unlike a real signature scheme it recovers the
//     message instead of checking a hash, and it is deterministic.
//     The hash of OAEP and PKCS1v15 is negotiated by name ([EncAlgo],
//     [SigAlgo]): SHA-1 by default, SHA-224 under FIPS.
//
//   - The Crypticle, Salt's symmetric layer. A key is a 76-character string
//     (standard base64 of 56 random bytes: an AES-192 key, then an
//     HMAC-SHA256 key); a blob is IV || AES-192-CBC(PKCS#7) || HMAC-SHA256
//     (encrypt-then-MAC). Salt prefixes every plaintext with "pickle::" (no
//     pickle is involved) and, in a reply to an encrypted request, the
//     request's 32-character nonce; [Crypticle.Seal] and [Crypticle.Open]
//     do that framing. Which key encrypts what: a minion's session key for
//     its requests and the master's replies to them (replies carry the
//     nonce), the master AES key for publications, a fresh one-off key for
//     each _pillar reply. [SerialGuard] is the minion's replay check on
//     publication serials.
//
// This package does no msgpack and no I/O beyond the key files: callers
// hand it bytes and get bytes back.
//
// # Randomness
//
// Functions that need randomness take it as an io.Reader (normally
// crypto/rand.Reader; nil is an error), so tests can make them
// deterministic; functions that do not take one are deterministic.
// [SignX931] reads its reader only to blind the private-key operation: its
// output never depends on it. [GenerateKey] passes its reader to
// crypto/rsa, which since Go 1.26 ignores it unless
// GODEBUG=cryptocustomrand=1 is set.
//
// # Errors and secrets
//
// Errors a caller may act on wrap the ErrX sentinels, for errors.Is; no
// error includes key material or plaintext. [Crypticle], the one
// secret-holding type defined here, prints as redacted through fmt and
// log/slog.
//
// Every function and method here is safe for concurrent use.
package crypto

package crypto

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultKeySize is the size in bits of the keys Salt generates (its
// keysize option), and the smallest GenerateKey accepts.
const DefaultKeySize = 2048

// PEM block types Salt reads and writes.
const (
	pemPKCS1Private = "RSA PRIVATE KEY" // what Salt writes (TraditionalOpenSSL)
	pemPKCS8Private = "PRIVATE KEY"     // what Salt writes under FIPS
	pemPKCS8Crypted = "ENCRYPTED PRIVATE KEY"
	pemSPKIPublic   = "PUBLIC KEY" // what Salt writes
	pemPKCS1Public  = "RSA PUBLIC KEY"
)

// maxKeyBits bounds the RSA keys this package accepts from outside: a
// peer's key of a million bits would make every operation with it a
// denial of service. It is crypto/rsa's own limit.
const maxKeyBits = 16384

// Modes of the key files, as Salt sets them.
const (
	privateKeyMode fs.FileMode = 0o400
	publicKeyMode  fs.FileMode = 0o644
)

// GenerateKey returns a new RSA key with e = 65537, as Salt makes them.
// bits below DefaultKeySize is an error. rand is handed to crypto/rsa,
// which since Go 1.26 always uses a secure source and ignores it unless
// GODEBUG=cryptocustomrand=1 is set.
func GenerateKey(rand io.Reader, bits int) (*rsa.PrivateKey, error) {
	if rand == nil {
		return nil, errNilRand
	}
	if bits < DefaultKeySize {
		return nil, fmt.Errorf("crypto: RSA key size %d is below the minimum of %d bits", bits, DefaultKeySize)
	}
	k, err := rsa.GenerateKey(rand, bits)
	if err != nil {
		return nil, fmt.Errorf("crypto: generating RSA key: %w", err)
	}
	if k.E != 65537 { // crypto/rsa's fixed choice; Salt relies on it
		return nil, fmt.Errorf("crypto: generated RSA key has e = %d, want 65537", k.E)
	}
	return k, nil
}

// WritePrivateKey writes k to path as Salt writes master.pem and
// minion.pem: PEM "RSA PRIVATE KEY" (PKCS#1, unencrypted), mode 0400. The
// file appears complete or not at all (it is written to a temporary file in
// the same directory, synced, then linked into place), and an existing file
// at path is never replaced: the error then wraps fs.ErrExist.
func WritePrivateKey(path string, k *rsa.PrivateKey) error {
	if k == nil || k.N == nil {
		return fmt.Errorf("crypto: writing private key %s: %w: nil key", path, ErrKey)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: pemPKCS1Private, Bytes: x509.MarshalPKCS1PrivateKey(k)})
	if err := writeFileAtomic(path, data, privateKeyMode, false); err != nil {
		return fmt.Errorf("crypto: writing private key: %w", err)
	}
	return nil
}

// WritePublicKey writes k to path as Salt writes master.pub and minion.pub:
// PublicKeyPEM(k), mode 0644. The file appears complete or not at all
// (temporary file, sync, rename); an existing file is replaced.
func WritePublicKey(path string, k *rsa.PublicKey) error {
	if k == nil || k.N == nil {
		return fmt.Errorf("crypto: writing public key %s: %w: nil key", path, ErrKey)
	}
	if err := writeFileAtomic(path, PublicKeyPEM(k), publicKeyMode, true); err != nil {
		return fmt.Errorf("crypto: writing public key: %w", err)
	}
	return nil
}

// ReadPrivateKey reads an RSA private key file: PKCS#1 ("RSA PRIVATE KEY",
// what Salt writes) or unencrypted PKCS#8 ("PRIVATE KEY"). Encrypted keys
// (Salt's key_pass) are not supported. Errors name the file, never its
// contents.
func ReadPrivateKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crypto: reading private key: %w", err)
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// ReadPublicKey reads an RSA public key file in any form ParsePublicKey
// accepts: master.pub, minion_master.pub, a key under the master's
// minions/ directory.
func ReadPublicKey(path string) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crypto: reading public key: %w", err)
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// ParsePrivateKey parses one PEM-encoded RSA private key, PKCS#1 or
// unencrypted PKCS#8, with nothing but whitespace around it. Errors wrap
// ErrKey and describe the problem without quoting the input.
func ParsePrivateKey(pemText []byte) (*rsa.PrivateKey, error) {
	block, err := onePEMBlock(pemText)
	if err != nil {
		return nil, err
	}
	if _, ok := block.Headers["DEK-Info"]; ok || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("%w: encrypted private keys are not supported", ErrKey)
	}
	var k *rsa.PrivateKey
	switch block.Type {
	case pemPKCS1Private:
		// The x509 error text is dropped on purpose: it can describe the
		// DER it choked on, and this is a private key.
		if k, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("%w: malformed PKCS#1 RSA private key", ErrKey)
		}
	case pemPKCS8Private:
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: malformed PKCS#8 private key", ErrKey)
		}
		var ok bool
		if k, ok = parsed.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("%w: PKCS#8 private key is %T, not RSA", ErrKey, parsed)
		}
	case pemPKCS8Crypted:
		return nil, fmt.Errorf("%w: encrypted private keys are not supported", ErrKey)
	default:
		return nil, badName(ErrKey, "PEM block type is not an RSA private key:", block.Type)
	}
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("%w: inconsistent RSA private key", ErrKey)
	}
	return k, nil
}

// ParsePublicKey parses one PEM-encoded RSA public key: SubjectPublicKeyInfo
// ("PUBLIC KEY", what Salt writes) or PKCS#1 ("RSA PUBLIC KEY"). It accepts
// the file form and the clean form (CleanKey: no trailing newline), with
// any whitespace around the block and CRLF line ends, but nothing else
// around it. Errors wrap ErrKey.
func ParsePublicKey(pemText []byte) (*rsa.PublicKey, error) {
	block, err := onePEMBlock(pemText)
	if err != nil {
		return nil, err
	}
	switch block.Type {
	case pemSPKIPublic:
		parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: malformed SubjectPublicKeyInfo: %v", ErrKey, err)
		}
		k, ok := parsed.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: public key is %T, not RSA", ErrKey, parsed)
		}
		return checkSize(k)
	case pemPKCS1Public:
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: malformed PKCS#1 RSA public key: %v", ErrKey, err)
		}
		return checkSize(k)
	default:
		return nil, badName(ErrKey, "PEM block type is not an RSA public key:", block.Type)
	}
}

func checkSize(k *rsa.PublicKey) (*rsa.PublicKey, error) {
	if n := k.N.BitLen(); n > maxKeyBits {
		return nil, fmt.Errorf("%w: %d-bit RSA key is over the %d-bit limit", ErrKey, n, maxKeyBits)
	}
	return k, nil
}

// onePEMBlock decodes the single PEM block that pemText must consist of,
// give or take surrounding whitespace.
func onePEMBlock(pemText []byte) (*pem.Block, error) {
	text := bytes.TrimSpace(pemText)
	if !bytes.HasPrefix(text, []byte("-----BEGIN ")) {
		// pem.Decode would skip leading junk; Salt's loaders would not.
		return nil, fmt.Errorf("%w: not a PEM block", ErrKey)
	}
	block, rest := pem.Decode(text)
	if block == nil {
		return nil, fmt.Errorf("%w: malformed PEM block", ErrKey)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the PEM block", ErrKey)
	}
	return block, nil
}

// PublicKeyPEM returns k as master.pub and minion.pub hold it: PEM "PUBLIC
// KEY" (SubjectPublicKeyInfo), 64-character lines, a trailing newline. Salt
// sends and compares keys in CleanKey form, which drops that newline. It
// panics if k is nil.
func PublicKeyPEM(k *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		// Only possible for a key that is not a key (nil modulus).
		panic("crypto: PublicKeyPEM: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemSPKIPublic, Bytes: der})
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that readers see the whole file or none of it. With replace
// false an existing path is an error wrapping fs.ErrExist; the check is the
// link(2) that publishes the file, so two writers racing cannot both win.
func writeFileAtomic(path string, data []byte, mode fs.FileMode, replace bool) (err error) {
	if !replace {
		if _, err := os.Lstat(path); err == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if tmp != "" {
			os.Remove(tmp)
		}
	}()
	// The mode is set before any byte is written, and explicitly, so the
	// umask cannot widen or narrow it.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if replace {
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
		tmp = ""
	} else if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
		// A file system without hard links: fall back to a rename, which
		// is atomic but leaves a window for a racing writer.
		if _, statErr := os.Lstat(path); statErr == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
		tmp = ""
	}
	syncDir(dir)
	return nil
}

// syncDir makes a new directory entry durable. It is best effort: not every
// platform can sync a directory, and the file is already complete.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

package crypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateKey(t *testing.T) {
	for _, bits := range []int{0, 512, 1024, 2047} {
		if _, err := GenerateKey(rand.Reader, bits); err == nil {
			t.Errorf("GenerateKey(%d): no error", bits)
		}
	}
	if testing.Short() {
		t.Skip("generating a 2048-bit key")
	}
	k, err := GenerateKey(rand.Reader, DefaultKeySize)
	if err != nil {
		t.Fatal(err)
	}
	if k.E != 65537 || k.N.BitLen() != 2048 || k.Validate() != nil {
		t.Errorf("key: e = %d, %d bits, Validate = %v", k.E, k.N.BitLen(), k.Validate())
	}
}

func TestWritePrivateKey(t *testing.T) {
	k := mustTestKey(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "master.pem")
	if err := WritePrivateKey(p, k); err != nil {
		t.Fatal(err)
	}
	checkMode(t, p, 0o400)
	data, _ := os.ReadFile(p)
	if !bytes.HasPrefix(data, []byte("-----BEGIN RSA PRIVATE KEY-----\n")) || !bytes.HasSuffix(data, []byte("-----END RSA PRIVATE KEY-----\n")) {
		t.Errorf("not PKCS#1 PEM:\n%s", data[:40])
	}
	got, err := ReadPrivateKey(p)
	if err != nil || !got.Equal(k) {
		t.Fatalf("read back: %v", err)
	}

	// A second write is refused and changes nothing.
	err = WritePrivateKey(p, k)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwriting: %v, want fs.ErrExist", err)
	}
	if again, _ := os.ReadFile(p); !bytes.Equal(again, data) {
		t.Error("refused write changed the file")
	}
	// Also refused when the name is taken by a dangling symlink.
	link := filepath.Join(dir, "dangling.pem")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), link); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateKey(link, k); !errors.Is(err, fs.ErrExist) {
		t.Errorf("over a dangling symlink: %v, want fs.ErrExist", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("wrote through the symlink")
	}
	if err := WritePrivateKey(filepath.Join(dir, "missing", "k.pem"), k); err == nil {
		t.Error("writing into a missing directory: no error")
	}
	if err := WritePrivateKey(filepath.Join(dir, "nil.pem"), nil); !errors.Is(err, ErrKey) {
		t.Errorf("nil key: %v", err)
	}
	checkOnly(t, dir, "dangling.pem", "master.pem")
}

func TestWritePublicKey(t *testing.T) {
	k := mustTestKey(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "minion.pub")
	for range 2 { // the second write replaces the first
		if err := WritePublicKey(p, &k.PublicKey); err != nil {
			t.Fatal(err)
		}
	}
	checkMode(t, p, 0o644)
	data, _ := os.ReadFile(p)
	if !bytes.Equal(data, PublicKeyPEM(&k.PublicKey)) {
		t.Error("file is not PublicKeyPEM")
	}
	if !bytes.HasPrefix(data, []byte("-----BEGIN PUBLIC KEY-----\n")) || !bytes.HasSuffix(data, []byte("-----END PUBLIC KEY-----\n")) {
		t.Errorf("not SPKI PEM with a trailing newline:\n%s", data)
	}
	got, err := ReadPublicKey(p)
	if err != nil || !got.Equal(&k.PublicKey) {
		t.Fatalf("read back: %v", err)
	}
	if err := WritePublicKey(filepath.Join(dir, "nil.pub"), nil); !errors.Is(err, ErrKey) {
		t.Errorf("nil key: %v", err)
	}
	checkOnly(t, dir, "minion.pub")
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s: mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), want)
	}
}

// checkOnly fails if dir holds anything but names (no temporary files left).
func checkOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %v, want %v", got, names)
	}
}

func TestParsePrivateKey(t *testing.T) {
	k := mustTestKey(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	der8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der8})
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k),
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}})
	corrupt := bytes.Clone(pkcs1)
	copy(corrupt[200:], "AAAAAAAAAAAA")

	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"PKCS#1 (what Salt writes)", pkcs1, true},
		{"PKCS#8", pkcs8, true},
		{"surrounding whitespace and CRLF", append([]byte("\r\n  "), bytes.ReplaceAll(pkcs1, []byte("\n"), []byte("\r\n"))...), true},
		{"no trailing newline", bytes.TrimSpace(pkcs8), true},
		{"encrypted PKCS#1", encrypted, false},
		{"encrypted PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der8}), false},
		{"EC key in PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), false},
		{"public key", PublicKeyPEM(&k.PublicKey), false},
		{"PKCS#8 bytes under the PKCS#1 type", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der8}), false},
		{"corrupt DER", corrupt, false},
		{"leading text", append([]byte("key:\n"), pkcs1...), false},
		{"trailing text", append(bytes.Clone(pkcs1), "junk"...), false},
		{"two keys", append(bytes.Clone(pkcs1), pkcs8...), false},
		{"empty", nil, false},
		{"not PEM", []byte("MIIEpAIBAAKCAQEA"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrivateKey(tt.in)
			if tt.ok {
				if err != nil || !got.Equal(k) {
					t.Fatalf("error %v", err)
				}
				return
			}
			if !errors.Is(err, ErrKey) {
				t.Fatalf("error %v, want ErrKey", err)
			}
			checkNoKeyMaterial(t, err, tt.in)
		})
	}
}

// checkNoKeyMaterial fails if err quotes any 12 bytes of the PEM body.
func checkNoKeyMaterial(t *testing.T, err error, pemText []byte) {
	t.Helper()
	msg := err.Error()
	for _, line := range strings.Split(string(pemText), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "-----") || strings.Contains(line, ":") {
			continue
		}
		for i := 0; i+12 <= len(line); i += 6 {
			if strings.Contains(msg, line[i:i+12]) {
				t.Fatalf("error quotes key material: %v", err)
			}
		}
	}
}

func TestReadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadPrivateKey(filepath.Join(dir, "none.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing private key: %v", err)
	}
	if _, err := ReadPublicKey(filepath.Join(dir, "none.pub")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing public key: %v", err)
	}
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o600)
	if _, err := ReadPrivateKey(bad); !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), bad) {
		t.Errorf("malformed private key: %v", err)
	}
	if _, err := ReadPublicKey(bad); !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), bad) {
		t.Errorf("private key read as public: %v", err)
	}
}

func TestParsePublicKey(t *testing.T) {
	k := mustTestKey(t)
	spki := PublicKeyPEM(&k.PublicKey)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)})
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)

	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"SPKI file form", spki, true},
		{"clean form", []byte(CleanKey(spki)), true},
		{"PKCS#1", pkcs1, true},
		{"PKCS#1 clean", []byte(CleanKey(pkcs1)), true},
		{"surrounding whitespace", append(append([]byte(" \n\t"), spki...), "\n\n "...), true},
		{"CRLF", bytes.ReplaceAll(spki, []byte("\n"), []byte("\r\n")), true},
		{"EC key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}), false},
		{"private key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), false},
		{"PKCS#1 bytes under the SPKI type", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)}), false},
		{"truncated", spki[:len(spki)-40], false},
		{"leading text", append([]byte("pub: "), spki...), false},
		{"trailing text", append(bytes.Clone(spki), '.'), false},
		{"two keys", append(bytes.Clone(spki), spki...), false},
		{"empty", nil, false},
		{"whitespace", []byte(" \n "), false},
		{"over 16384 bits", hugeKey(t), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("error %v", err)
			}
			if tt.ok && !got.Equal(&k.PublicKey) {
				t.Error("wrong key")
			}
			if !tt.ok && !errors.Is(err, ErrKey) {
				t.Errorf("error %v, want ErrKey", err)
			}
		})
	}
}

// hugeKey is a syntactically valid 16392-bit public key (not a real one).
func hugeKey(t *testing.T) []byte {
	n := new(big.Int).Lsh(big.NewInt(1), 16391)
	n.Add(n, big.NewInt(1))
	return PublicKeyPEM(&rsa.PublicKey{N: n, E: 65537})
}

func TestPublicKeyPEM(t *testing.T) {
	k := mustTestKey(t)
	p := PublicKeyPEM(&k.PublicKey)
	lines := strings.Split(string(p), "\n")
	if lines[0] != "-----BEGIN PUBLIC KEY-----" || lines[len(lines)-2] != "-----END PUBLIC KEY-----" || lines[len(lines)-1] != "" {
		t.Fatalf("framing:\n%s", p)
	}
	for _, l := range lines[1 : len(lines)-2] {
		if len(l) > 64 {
			t.Errorf("line of %d characters", len(l))
		}
	}
	if len(p) != 451 { // like every 2048-bit master.pub/minion.pub
		t.Errorf("%d bytes, want 451", len(p))
	}
	if len(CleanKey(p)) != 450 {
		t.Errorf("clean form %d bytes, want 450", len(CleanKey(p)))
	}
}

func TestCleanKey(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"file form", "-----BEGIN PUBLIC KEY-----\nAB\nCD\n-----END PUBLIC KEY-----\n", "-----BEGIN PUBLIC KEY-----\nAB\nCD\n-----END PUBLIC KEY-----"},
		{"already clean", "-----BEGIN X-----\nAB\n-----END X-----", "-----BEGIN X-----\nAB\n-----END X-----"},
		{"CRLF", "-----BEGIN X-----\r\nAB\r\n-----END X-----\r\n", "-----BEGIN X-----\nAB\n-----END X-----"},
		{"bare CR", "a\rb\r", "a\nb"},
		{"surrounding whitespace", " \t\n\v\f\r a\nb \n\n\t", "a\nb"},
		{"inner blank lines kept", "a\n\nb", "a\n\nb"},
		{"inner spaces kept", "a \n b", "a \n b"},
		{"CR CR LF is two breaks", "a\r\r\nb", "a\n\nb"},
		{"Python's other breaks", "a\vb\fc\x1cd\x1de\x1ef\u0085g\u2028h\u2029i", "a\nb\nc\nd\ne\nf\ng\nh\ni"},
		{"US and NBSP are space, not breaks", "\x1f\u00a0a\x1fb\u00a0\x1f", "a\x1fb"},
		{"empty", "", ""},
		{"only whitespace", " \r\n ", ""},
		{"invalid UTF-8 kept", "\xff\n\xfe", "\xff\n\xfe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CleanKey([]byte(tt.in))
			if got != tt.want {
				t.Errorf("CleanKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := CleanKey([]byte(got)); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
	k := mustTestKey(t)
	p := PublicKeyPEM(&k.PublicKey)
	if c := CleanKey(p); c != string(p[:len(p)-1]) {
		t.Error("CleanKey of a key file is not the file without its newline")
	}
}

// saltFinger derives what salt-key -f prints for pub independently of the
// PEM text: pem_finger hashes the file's lines minus BEGIN/END, newlines
// included, which for a key Salt wrote is the base64 of the DER wrapped at
// 64 characters, each line ending in "\n".
func saltFinger(t *testing.T, pub *rsa.PublicKey) string {
	return saltFingerHash(t, pub, sha256.New())
}

func saltFingerHash(t *testing.T, pub *rsa.PublicKey, h hash.Hash) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(der)
	for len(b64) > 0 {
		n := min(64, len(b64))
		h.Write([]byte(b64[:n] + "\n"))
		b64 = b64[n:]
	}
	var pairs []string
	for _, b := range h.Sum(nil) {
		pairs = append(pairs, fmt.Sprintf("%02x", b))
	}
	return strings.Join(pairs, ":")
}

func TestFingerprint(t *testing.T) {
	k := mustTestKey(t)
	file := PublicKeyPEM(&k.PublicKey)
	tests := []struct {
		hash string
		h    hash.Hash
	}{
		{"", sha256.New()}, // Salt's default hash_type
		{"sha256", sha256.New()},
		{"md5", md5.New()},
		{"sha1", sha1.New()},
		{"sha224", sha256.New224()},
		{"sha384", sha512.New384()},
		{"sha512", sha512.New()},
	}
	for _, tt := range tests {
		t.Run(tt.hash, func(t *testing.T) {
			want := saltFingerHash(t, &k.PublicKey, tt.h)
			forms := map[string][]byte{
				"file":         file,
				"clean":        []byte(CleanKey(file)),
				"CRLF":         bytes.ReplaceAll(file, []byte("\n"), []byte("\r\n")),
				"blank lines":  bytes.ReplaceAll(file, []byte("\n"), []byte("\n \n\n")),
				"leading junk": append([]byte("\n\n"), file...),
			}
			for name, form := range forms {
				got, err := Fingerprint(form, tt.hash)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s: %s, want %s", name, got, want)
				}
			}
		})
	}
	// pem_finger hashes lines as they are: spaces inside a line count.
	spaced := bytes.Replace(file, []byte("\n"), []byte(" \n"), 2)
	if got, _ := Fingerprint(spaced, ""); got == saltFinger(t, &k.PublicKey) {
		t.Error("trailing space on a body line did not change the fingerprint")
	}
	// Degenerate input hashes what pem_finger would: nothing.
	empty, _ := Fingerprint([]byte("one line\n"), "md5")
	if empty != "d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e" {
		t.Errorf("one-line input: %s, want md5 of nothing", empty)
	}
	for _, bad := range []string{"SHA256", "sha-256", "blake2b", "sha3_256"} {
		if _, err := Fingerprint(file, bad); !errors.Is(err, ErrAlgorithm) {
			t.Errorf("hash %q: %v, want ErrAlgorithm", bad, err)
		}
	}
}

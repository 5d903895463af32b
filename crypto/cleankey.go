package crypto

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanKey returns a PEM key in the form Salt sends it on the wire, stores
// it in minion_master.pub and minions/<id>, and compares it in: Salt's
// clean_key, "\n".join(key.strip().splitlines()). That is the text with
// surrounding whitespace removed and every line end (CRLF, CR, LF and the
// rarer breaks Python's str.splitlines knows) turned into "\n", without a
// trailing newline. CleanKey is idempotent; it does not check that the text
// is a key.
func CleanKey(pemText []byte) string {
	text := pyStrip(pemText)
	var b strings.Builder
	b.Grow(len(text))
	for len(text) > 0 {
		r, size := utf8.DecodeRune(text)
		if !isPyLineBreak(r) {
			b.Write(text[:size])
			text = text[size:]
			continue
		}
		b.WriteByte('\n')
		text = text[size:]
		if r == '\r' && len(text) > 0 && text[0] == '\n' { // CRLF is one break
			text = text[1:]
		}
	}
	return b.String()
}

// pyStrip is Python's str.strip() on UTF-8 text.
func pyStrip(text []byte) []byte {
	for len(text) > 0 {
		r, size := utf8.DecodeRune(text)
		if !isPySpace(r) {
			break
		}
		text = text[size:]
	}
	for len(text) > 0 {
		r, size := utf8.DecodeLastRune(text)
		if !isPySpace(r) {
			break
		}
		text = text[:len(text)-size]
	}
	return text
}

// isPySpace is Python's str.isspace for one character: unicode.IsSpace,
// plus the ASCII separators FS, GS, RS and US.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// isPyLineBreak reports whether Python's str.splitlines splits at r.
func isPyLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// fingerprintHashes are the hashes Fingerprint knows, by Python hashlib
// name.
var fingerprintHashes = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha224": sha256.New224,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// Fingerprint returns the fingerprint of a PEM key file's contents as
// salt-key -f (salt.utils.crypt.pem_finger on the file) prints it: the hex
// digest, in pairs joined by ':'. hash is the hash_type option: "sha256"
// (also when empty, Salt's default), "md5", "sha1", "sha224", "sha384" or
// "sha512"; anything else wraps ErrAlgorithm.
//
// What Salt hashes is neither the DER nor the whole text: it is the file's
// lines, newline included, that are not blank, minus the first and the last
// (the BEGIN and END lines), with CRLF turned into LF. A key therefore has
// the same fingerprint in file form and in CleanKey form.
func Fingerprint(pemText []byte, hash string) (string, error) {
	if hash == "" {
		hash = "sha256"
	}
	newHash, ok := fingerprintHashes[hash]
	if !ok {
		return "", badName(ErrAlgorithm, "fingerprint hash", hash)
	}
	h := newHash()
	h.Write(fingerprintInput(pemText))
	sum := hex.EncodeToString(h.Sum(nil))
	var b strings.Builder
	b.Grow(len(sum) * 3 / 2)
	for i := 0; i < len(sum); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(sum[i : i+2])
	}
	return b.String(), nil
}

// fingerprintInput is what pem_finger hashes: b"".join([x for x in
// fp.readlines() if x.strip()][1:-1]).replace(b"\r\n", b"\n").
func fingerprintInput(text []byte) []byte {
	var lines [][]byte
	for len(text) > 0 {
		end := bytes.IndexByte(text, '\n') + 1 // readlines keeps the "\n"
		if end == 0 {
			end = len(text)
		}
		if line := text[:end]; len(bytes.Trim(line, " \t\n\r\v\f")) > 0 {
			lines = append(lines, line)
		}
		text = text[end:]
	}
	if len(lines) < 2 {
		return nil
	}
	body := bytes.Join(lines[1:len(lines)-1], nil)
	return bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
}

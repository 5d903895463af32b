package saltvectors

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Plain is one file of a capture's plain/ folder: a decrypted plaintext or
// a signed msgpack load.
type Plain struct {
	Index int    // the message it came from (the NNN prefix)
	Name  string // the file name, e.g. "002_request.bin"
	// Kind is what follows the index: "request", "reply", "publication",
	// "pillar" (Crypticle plaintexts, which start with "pickle::"),
	// "signed_load" or "pillar_signed_data" (bare msgpack).
	Kind string
	Data []byte
}

// Plains reads <dir>/<capture>/plain/*.bin in index order. A capture
// without a plain/ folder has none.
func Plains(t testing.TB, dir, capture string) []Plain {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, capture, "plain", "*.bin"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []Plain
	for _, f := range files {
		name := filepath.Base(f)
		num, kind, ok := strings.Cut(strings.TrimSuffix(name, ".bin"), "_")
		if !ok {
			t.Fatalf("%s/plain/%s: not NNN_<kind>.bin", capture, name)
		}
		idx, err := strconv.Atoi(num)
		if err != nil {
			t.Fatalf("%s/plain/%s: %v", capture, name, err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Plain{Index: idx, Name: name, Kind: kind, Data: b})
	}
	return out
}

// Payloads returns every non-empty ZMTP message part (frames/*.bin) and
// every plaintext (plain/*.bin) of every capture, for fuzz seeds. It
// returns nil where the vectors are absent.
func Payloads() [][]byte {
	dir, ok := Find()
	if !ok {
		return nil
	}
	var out [][]byte
	for _, pattern := range []string{"frames", "plain"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*", pattern, "*.bin"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
				out = append(out, b)
			}
		}
	}
	return out
}

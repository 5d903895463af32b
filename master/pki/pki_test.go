package pki

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"web-1", true}, {"web1.example.com", true}, {".hidden", true}, {strings.Repeat("a", 255), true},
		{"", false}, {".", false}, {"..", false}, {"a/b", false}, {`a\b`, false}, {"a\x00b", false},
		{"a..b", false}, {"../etc", false}, {strings.Repeat("a", 256), false},
	} {
		if err := ValidID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestStore(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "pki"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(s.Dir()); fi.Mode().Perm() != 0o700 {
		t.Fatalf("pki dir mode %v", fi.Mode())
	}
	key := "-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n"
	if err := s.Put(Pending, "web-1", key); err != nil {
		t.Fatal(err)
	}
	if st, k, err := s.Lookup("web-1"); err != nil || st != Pending || k != strings.TrimSpace(key) {
		t.Fatalf("Lookup: %s %q %v", st, k, err)
	}
	if err := s.Move("web-1", Pending, Accepted); err != nil {
		t.Fatal(err)
	}
	s.Put(Rejected, "web-1", key)
	if st, _, _ := s.Lookup("web-1"); st != Rejected {
		t.Fatalf("a rejected key must count first, got %s", st)
	}
	s.Put(Accepted, "web-2", key)
	s.Put(Accepted, "db-1", key)
	if ids, _ := s.Match(Accepted, "web-*"); !slices.Equal(ids, []string{"web-1", "web-2"}) {
		t.Fatalf("Match: %v", ids)
	}
	if ids, _ := s.List(Accepted); !slices.Equal(ids, []string{"db-1", "web-1", "web-2"}) {
		t.Fatalf("List: %v", ids)
	}
	if err := s.Delete(Accepted, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete missing: %v", err)
	}
	if err := s.Move("nope", Pending, Accepted); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Move missing: %v", err)
	}
	if _, _, err := s.Lookup("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup missing: %v", err)
	}
	for _, bad := range []string{"../x", "a/b"} {
		if err := s.Put(Accepted, bad, key); !errors.Is(err, ErrInvalidID) {
			t.Fatalf("Put(%q): %v", bad, err)
		}
	}
	// A temporary file left by an interrupted write is not a key.
	os.WriteFile(filepath.Join(s.Dir(), "minions", ".web-3.tmp123"), nil, 0o600)
	if ids, _ := s.List(Accepted); len(ids) != 3 {
		t.Fatalf("List counts temp files: %v", ids)
	}
}

func TestParseState(t *testing.T) {
	for in, want := range map[string]State{"pre": Pending, "un": Pending, "unaccepted": Pending, "acc": Accepted, "accepted": Accepted, "rej": Rejected, "den": Denied} {
		if got, err := ParseState(in); err != nil || got != want {
			t.Errorf("ParseState(%q) = %s, %v", in, got, err)
		}
	}
	if _, err := ParseState("bogus"); err == nil {
		t.Error("bogus state parsed")
	}
}

func TestPatternFile(t *testing.T) {
	dir := t.TempDir()
	f := PatternFile{Path: filepath.Join(dir, "autosign.conf")}
	if ok, err := f.Match("web-1"); ok || err != nil {
		t.Fatalf("missing file: %v %v", ok, err)
	}
	os.WriteFile(f.Path, []byte("# comment\n\n  web-[0-9]  \ndb\\d+\n"), 0o600)
	for id, want := range map[string]bool{"web-1": true, "web-x": false, "db12": true, "db": false, "# comment": false} {
		if ok, err := f.Match(id); ok != want || err != nil {
			t.Errorf("Match(%q) = %v, %v; want %v", id, ok, err, want)
		}
	}
	os.Chmod(f.Path, 0o620)
	if ok, err := f.Match("web-1"); ok || err == nil {
		t.Fatalf("a group-writable file must be ignored: %v %v", ok, err)
	}
}

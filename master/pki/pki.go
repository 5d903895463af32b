// Package pki is the master's key store, laid out as Salt's pki_dir:
// master.pem/master.pub, and one file per minion key in minions/ (accepted),
// minions_pre/ (pending), minions_rejected/ and minions_denied/. Keys are
// stored in Salt's clean form. Every change is a rename or an atomic write,
// so the master and brine-key can work on the same directory at once: the
// master reads the store on each authentication, never a stale copy.
package pki

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/internal/fnmatch"
)

// State is where a minion key stands.
type State string

const (
	Accepted State = "accepted"
	Pending  State = "pending"
	Rejected State = "rejected"
	Denied   State = "denied"
)

// dirs maps each state to its directory, in Salt's names.
var dirs = map[State]string{
	Accepted: "minions",
	Pending:  "minions_pre",
	Rejected: "minions_rejected",
	Denied:   "minions_denied",
}

// States lists every state, in salt-key's listing order.
var States = []State{Accepted, Denied, Pending, Rejected}

// ParseState reads salt-key's names for key states: pre/un/unaccepted,
// acc/accepted, rej/rejected, den/denied.
func ParseState(s string) (State, error) {
	switch strings.ToLower(s) {
	case "pre", "un", "unaccepted", "pending":
		return Pending, nil
	case "acc", "accepted":
		return Accepted, nil
	case "rej", "rejected":
		return Rejected, nil
	case "den", "denied":
		return Denied, nil
	}
	return "", fmt.Errorf("pki: unknown key state %q: want pre, acc, rej or den", s)
}

// Errors.
var (
	ErrInvalidID = errors.New("pki: invalid minion id")
	ErrNotFound  = errors.New("pki: no such key")
)

// MaxIDLen bounds a minion id: it is a file name.
const MaxIDLen = 255

// ValidID reports whether id may name a minion: not empty, at most 255
// bytes, and nothing that could leave the key directories (/, \, NUL, ..).
func ValidID(id string) error {
	switch {
	case id == "" || id == ".":
		return fmt.Errorf("%w: %q", ErrInvalidID, id)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidID, len(id), MaxIDLen)
	case strings.ContainsAny(id, "/\\\x00"):
		return fmt.Errorf("%w: %q contains a path separator or NUL", ErrInvalidID, id)
	case strings.Contains(id, ".."):
		return fmt.Errorf("%w: %q contains a double dot", ErrInvalidID, id)
	}
	return nil
}

// Store is a pki directory. Its methods are safe for concurrent use by
// goroutines and processes: each is a single rename, write or read.
type Store struct {
	dir string
}

// Open returns the store in dir, creating dir (mode 0700) and the key
// directories as needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	return &Store{dir: dir}, nil
}

// Dir returns the pki directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(st State, id string) string { return filepath.Join(s.dir, dirs[st], id) }

// Get returns the key of id in state st (clean form).
func (s *Store) Get(st State, id string) (string, error) {
	if err := ValidID(id); err != nil {
		return "", err
	}
	b, err := os.ReadFile(s.path(st, id))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s key for %s", ErrNotFound, st, id)
	}
	if err != nil {
		return "", err
	}
	return crypto.CleanKey(b), nil
}

// Version tells one content of a key file from another without reading
// it: the file's inode, size and modification time. Keys change by atomic
// rename, which always brings a new inode.
type Version struct {
	ino, size uint64
	mtime     int64
}

// Version returns the Version of id's key in state st; ErrNotFound when
// there is none. It is one stat: the master checks a minion's standing on
// every request with it and reads the key only when it changed.
func (s *Store) Version(st State, id string) (Version, error) {
	if err := ValidID(id); err != nil {
		return Version{}, err
	}
	fi, err := os.Stat(s.path(st, id))
	if errors.Is(err, fs.ErrNotExist) {
		return Version{}, fmt.Errorf("%w: %s key for %s", ErrNotFound, st, id)
	}
	if err != nil {
		return Version{}, err
	}
	v := Version{size: uint64(fi.Size()), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		v.ino = uint64(sys.Ino)
	}
	return v, nil
}

// Lookup returns the state and key of id, as the master sees it when the
// minion authenticates: rejected first, then accepted, then pending (a key
// that is in several places counts as the first). Denied keys do not
// count: they are the keys that were refused, not the minion's standing.
func (s *Store) Lookup(id string) (State, string, error) {
	for _, st := range []State{Rejected, Accepted, Pending} {
		k, err := s.Get(st, id)
		if err == nil {
			return st, k, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return "", "", err
		}
	}
	return "", "", fmt.Errorf("%w: %s", ErrNotFound, id)
}

// Put writes the key of id in state st, replacing what is there.
func (s *Store) Put(st State, id, pub string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	return writeAtomic(s.path(st, id), []byte(crypto.CleanKey([]byte(pub))), 0o644)
}

// Move moves the key of id from one state to another (accept, reject).
func (s *Store) Move(id string, from, to State) error {
	if err := ValidID(id); err != nil {
		return err
	}
	err := os.Rename(s.path(from, id), s.path(to, id))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s key for %s", ErrNotFound, from, id)
	}
	return err
}

// Delete removes the key of id in state st.
func (s *Store) Delete(st State, id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	err := os.Remove(s.path(st, id))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s key for %s", ErrNotFound, st, id)
	}
	return err
}

// List returns the ids in state st, sorted.
func (s *Store) List(st State) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, dirs[st]))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		// Skip our own temporary files and anything not a plain file.
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") && ValidID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Match returns the ids in state st that match any of the patterns
// (fnmatch globs, as salt-key takes them).
func (s *Store) Match(st State, patterns ...string) ([]string, error) {
	ids, err := s.List(st)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		for _, p := range patterns {
			if fnmatch.Match(p, id) {
				out = append(out, id)
				break
			}
		}
	}
	return out, nil
}

// writeAtomic writes data to a temporary file beside path and renames it
// into place, so that a reader never sees half a key.
func writeAtomic(p string, data []byte, mode os.FileMode) error {
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp"+hex.EncodeToString(rnd[:]))
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// PatternFile is an autosign_file or autoreject_file: one pattern per
// line (a shell glob, or a regular expression as Salt's expr_match
// allows), # comments and blank lines ignored.
type PatternFile struct {
	Path string
}

// Match reports whether id matches a line of the file. A missing file
// matches nothing; a file others may write to is ignored, as Salt does,
// since it would let them accept keys.
func (f PatternFile) Match(id string) (bool, error) {
	if f.Path == "" {
		return false, nil
	}
	fi, err := os.Stat(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return false, fmt.Errorf("pki: %s is writable by group or others; ignored", f.Path)
	}
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if exprMatch(id, line) {
			return true, nil
		}
	}
	return false, nil
}

// exprMatch is Salt's expr_match: an fnmatch glob, else a full regular
// expression match.
func exprMatch(s, expr string) bool {
	if s == expr {
		return true
	}
	if fnmatch.Match(expr, s) {
		return true
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	return err == nil && re.MatchString(s)
}

// Package spool keeps what a minion could not deliver to its master (job
// returns) on disk until it can: one file per entry in a directory,
// oldest first, within a byte budget. Salt's minion drops a return once
// its tries run out; a Brine minion spools it and sends it when the master
// is back (the master ignores a jid+id it already has, so a return sent
// twice is stored once).
package spool

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrFull is returned by Put when the entry would take the spool past its
// budget.
var ErrFull = errors.New("spool: full")

const suffix = ".spool"

// Spool is a directory of entries. It is safe for concurrent use.
type Spool struct {
	dir string
	max int64

	mu   sync.Mutex // guards size and serializes Put and Remove
	size int64      // bytes of the entries on disk
}

// Open opens the spool in dir with a budget of max bytes, counting what
// earlier runs left there and removing the temporary files of writes a
// crash interrupted. The directory is made (mode 0700) by the first Put.
func Open(dir string, max int64) (*Spool, error) {
	s := &Spool{dir: dir, max: max}
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, de := range des {
		switch {
		case strings.HasPrefix(de.Name(), ".tmp"):
			os.Remove(filepath.Join(dir, de.Name()))
		case strings.HasSuffix(de.Name(), suffix):
			if fi, err := de.Info(); err == nil {
				s.size += fi.Size()
			}
		}
	}
	return s, nil
}

// Put stores b as the newest entry, durably (the file is synced before it
// is named). It fails with ErrFull rather than go past the budget.
func (s *Spool) Put(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size+int64(len(b)) > s.max {
		return fmt.Errorf("%w: %d of %d bytes used, entry of %d", ErrFull, s.size, s.max, len(b))
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	// Names sort by time: entries go out in the order they came.
	name := fmt.Sprintf("%020d-%s%s", time.Now().UnixNano(), hex.EncodeToString(rnd[:]), suffix)
	f, err := os.CreateTemp(s.dir, ".tmp")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(s.dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("spool: %w", err)
	}
	s.size += int64(len(b))
	return nil
}

// Entry is one spooled entry.
type Entry struct {
	Name string
	Data []byte
}

// Oldest returns up to n entries, oldest first. An entry that cannot be
// read is skipped (and left for Remove by name).
func (s *Spool) Oldest(n int) ([]Entry, error) {
	des, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	names := make([]string, 0, len(des))
	for _, de := range des {
		if strings.HasSuffix(de.Name(), suffix) {
			names = append(names, de.Name())
		}
	}
	slices.Sort(names)
	var out []Entry
	for _, name := range names {
		if len(out) == n {
			break
		}
		b, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			continue
		}
		out = append(out, Entry{Name: name, Data: b})
	}
	return out, nil
}

// Remove deletes the entry name (it was delivered, or is unreadable).
func (s *Spool) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := filepath.Join(s.dir, filepath.Base(name))
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = os.Remove(p)
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.size -= fi.Size()
	return nil
}

// Size returns the bytes spooled.
func (s *Spool) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

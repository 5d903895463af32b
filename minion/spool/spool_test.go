package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Entries come back oldest first, survive a reopen (which counts their
// size), and leave when removed.
func TestPutOldestRemove(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := s.Put(fmt.Appendf(nil, "entry %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s, err = Open(dir, 1<<20) // as after a restart
	if err != nil {
		t.Fatal(err)
	}
	if s.Size() != int64(5*len("entry 0")) {
		t.Fatalf("size after reopen %d", s.Size())
	}
	es, err := s.Oldest(3)
	if err != nil || len(es) != 3 {
		t.Fatalf("Oldest(3) = %d entries, %v", len(es), err)
	}
	for i, e := range es {
		if string(e.Data) != fmt.Sprintf("entry %d", i) {
			t.Fatalf("entry %d is %q", i, e.Data)
		}
		if err := s.Remove(e.Name); err != nil {
			t.Fatal(err)
		}
	}
	es, _ = s.Oldest(10)
	if len(es) != 2 || string(es[0].Data) != "entry 3" {
		t.Fatalf("after removing three: %v", es)
	}
	if s.Size() != int64(2*len("entry 0")) {
		t.Fatalf("size %d", s.Size())
	}
}

// The budget holds: an entry that does not fit is refused and nothing is
// written; room made by Remove is usable again.
func TestBudget(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put([]byte("123456")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put([]byte("12345")); !errors.Is(err, ErrFull) {
		t.Fatalf("over budget: %v, want ErrFull", err)
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 1 {
		t.Fatalf("%d files after a refused Put, want 1", len(des))
	}
	es, _ := s.Oldest(1)
	s.Remove(es[0].Name)
	if err := s.Put([]byte("12345")); err != nil {
		t.Fatalf("after Remove: %v", err)
	}
}

// A write a crash interrupted leaves a temporary file: Open removes it and
// does not count it.
func TestOpenDropsTemporaries(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".tmp123"), []byte("half a return"), 0o600)
	s, err := Open(dir, 100)
	if err != nil {
		t.Fatal(err)
	}
	if s.Size() != 0 {
		t.Fatalf("size %d", s.Size())
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp123")); !os.IsNotExist(err) {
		t.Fatal("temporary file left")
	}
}

// Package mcache is the master's minion data cache (minion_data_cache):
// for each minion, the grains and pillar it was last given in a _pillar
// request. The master targets by grain and pillar with it.
//
// It lives where Salt's localfs cache keeps it, one file per minion,
// <cachedir>/minions/<id>/data.p, holding Salt's local msgpack
// (use_bin_type=True) of {"grains": {...}, "pillar": {...}}, so a Salt master
// could read a Brine master's cache and the other way round. Open checks
// every entry once; memory then holds only a digest of each, and Get reads
// the file again (from the page cache, in practice), as Salt's localfs
// cache does: only grain and pillar targeting reads entries, and 10,000
// minions' grains in memory would cost the master ~30 MB (~12 KiB a minion
// decoded, ~3 KiB encoded) for nothing the rest of the time.
//
// A Put replaces the file atomically (a temporary file renamed over it), so
// a reader or a crash sees the old entry or the new one, never a mix. It
// does not fsync: like Salt's, the cache is rebuilt by the minions' next
// _pillar requests, and a master handling a highstate on thousands of
// minions should not pay a disk flush for each. After a power loss an entry
// may therefore be old, missing or unreadable; Open skips unreadable ones.
package mcache

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/brine-project/brine/transport/wire"
)

// ErrInvalidID is returned by Put and Delete for a minion id that cannot be
// a directory name under the cache.
var ErrInvalidID = errors.New("mcache: invalid minion id")

const (
	dataFile = "data.p"
	// tmpPrefix names Put's temporary files; Open removes any a crash
	// left behind.
	tmpPrefix = ".data.p."
	maxIDLen  = 255
)

// Cache is the minion data cache. It is safe for concurrent use.
type Cache struct {
	dir string

	// wmu serializes writers (Put, Delete), so that the file on disk and
	// the entry in memory change in the same order.
	wmu sync.Mutex

	mu      sync.RWMutex
	entries map[string]digest // of each data.p; mu guards entries
}

// digest identifies an entry's bytes: the first 128 bits of their SHA-256.
type digest [16]byte

func digestOf(b []byte) digest {
	sum := sha256.Sum256(b)
	return digest(sum[:16])
}

// Open opens the cache in dir (<cachedir>/minions), creating it with mode
// 0700 if needed, and loads every entry. An entry whose file cannot be read
// or decoded is left out (the minion's next Put replaces it); leftover
// temporary files of an interrupted Put are removed.
func Open(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mcache: creating %s: %w", dir, err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("mcache: reading %s: %w", dir, err)
	}
	c := &Cache{dir: dir, entries: make(map[string]digest, len(des))}
	for _, de := range des {
		id := de.Name()
		if !de.IsDir() || validID(id) != nil {
			continue
		}
		c.removeTemps(id)
		b, err := os.ReadFile(filepath.Join(dir, id, dataFile))
		if err != nil {
			continue // no data.p (yet), or unreadable
		}
		if _, _, err := decode(b); err != nil {
			continue
		}
		c.entries[id] = digestOf(b)
	}
	return c, nil
}

func (c *Cache) removeTemps(id string) {
	matches, _ := filepath.Glob(filepath.Join(c.dir, id, tmpPrefix+"*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

func decode(b []byte) (grains, pillar map[string]any, err error) {
	m, err := wire.UnmarshalMap(b)
	if err != nil {
		return nil, nil, err
	}
	var ok bool
	if grains, ok = m["grains"].(map[string]any); !ok && m["grains"] != nil {
		return nil, nil, fmt.Errorf("grains is a %T", m["grains"])
	}
	if pillar, ok = m["pillar"].(map[string]any); !ok && m["pillar"] != nil {
		return nil, nil, fmt.Errorf("pillar is a %T", m["pillar"])
	}
	return grains, pillar, nil
}

// validID accepts ids that name exactly one directory under the cache:
// not empty, at most 255 bytes, not "." or "..", and without '/', '\\' or
// NUL (Salt's valid_id refuses the same three characters).
func validID(id string) error {
	if id == "" || len(id) > maxIDLen || id == "." || id == ".." || strings.ContainsAny(id, "/\\\x00") {
		return fmt.Errorf("%w: %q", ErrInvalidID, id)
	}
	return nil
}

// Put records the grains and pillar minion id was last given, in memory and
// in <dir>/<id>/data.p (mode 0600, its directory 0700). When the encoded
// data is the same as what the file holds, the file is left alone. On an
// error the entry is unchanged. It returns ErrInvalidID for a bad id.
func (c *Cache) Put(id string, grains, pillar map[string]any) error {
	if err := validID(id); err != nil {
		return err
	}
	b, err := wire.MarshalLocal(map[string]any{"grains": grains, "pillar": pillar})
	if err != nil {
		return fmt.Errorf("mcache: encoding the data of %s: %w", id, err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.RLock()
	old, had := c.entries[id]
	c.mu.RUnlock()
	sum := digestOf(b)
	if had && old == sum {
		return nil
	}
	if err := c.writeFile(id, b); err != nil {
		return err
	}
	c.mu.Lock()
	c.entries[id] = sum
	c.mu.Unlock()
	return nil
}

// writeFile replaces <dir>/<id>/data.p with b.
func (c *Cache) writeFile(id string, b []byte) error {
	sub := filepath.Join(c.dir, id)
	if err := os.MkdirAll(sub, 0o700); err != nil {
		return fmt.Errorf("mcache: creating %s: %w", sub, err)
	}
	f, err := os.CreateTemp(sub, tmpPrefix+"*") // mode 0600
	if err != nil {
		return fmt.Errorf("mcache: writing the data of %s: %w", id, err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(sub, dataFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("mcache: writing the data of %s: %w", id, err)
	}
	return nil
}

// Get returns the grains and pillar last Put for minion id, read from its
// file (the caller may keep or change them); ok is false when there are
// none, or the file can no longer be read.
func (c *Cache) Get(id string) (grains, pillar map[string]any, ok bool) {
	c.mu.RLock()
	_, ok = c.entries[id]
	c.mu.RUnlock()
	if !ok {
		return nil, nil, false
	}
	b, err := os.ReadFile(filepath.Join(c.dir, id, dataFile))
	if err != nil {
		return nil, nil, false
	}
	grains, pillar, err = decode(b)
	return grains, pillar, err == nil
}

// Delete forgets minion id and removes its directory, as when its key is
// deleted. Deleting an unknown id is not an error; a bad id is ErrInvalidID.
func (c *Cache) Delete(id string) error {
	if err := validID(id); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
	if err := os.RemoveAll(filepath.Join(c.dir, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("mcache: deleting the data of %s: %w", id, err)
	}
	return nil
}

// IDs returns the ids of the minions in the cache, sorted.
func (c *Cache) IDs() []string {
	c.mu.RLock()
	ids := make([]string, 0, len(c.entries))
	for id := range c.entries {
		ids = append(ids, id)
	}
	c.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// Len returns the number of minions in the cache.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

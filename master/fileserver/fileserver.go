// Package fileserver is the master's file server: Salt's "roots" backend
// over file_roots, and the AES commands minions reach it with (_serve_file,
// _file_hash, _file_list, …, and _file_recv for cp.push). The pillar
// compiler uses a second Server over pillar_roots to read SLS files and
// templates.
//
// # Model
//
// An environment (saltenv) is an ordered list of directories. A file's
// path in an environment is relative ("apache/httpd.conf"); the first
// directory that holds a regular file of that path serves it, as in Salt.
// Listings are the union over the directories, sorted.
//
// # Safety
//
// Paths come from minions, so none may reach outside the roots. A path is
// first checked by relpath.Clean (no "..", no absolute path, no NUL), then
// opened through os.Root, which refuses, atomically at open time, any
// symbolic link that leads outside the directory: there is no window
// between checking a path and opening it. A link that os.Root refuses only
// because its target is absolute is resolved with filepath.EvalSymlinks and
// served if it stays inside the root, again opened through os.Root. Only
// regular files are served (opened non-blocking, so a FIFO cannot hang a
// worker). Every refusal is an error wrapping ErrRefused; Handle logs each
// one at Warn with the minion's id.
//
// A Server is safe for concurrent use.
package fileserver

import (
	"compress/gzip"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/brine-project/brine/internal/relpath"
)

// Defaults of Config's zero values, Salt's master defaults.
const (
	DefaultBufferSize  = 1 << 20   // file_buffer_size
	DefaultRecvMaxSize = 100 << 20 // file_recv_max_size: 100 (MiB)
	// Back is the name of the one backend, as Salt reports it in _file_find.
	Back = "roots"
)

// Errors. Open, Chunk, Hash and Recv return errors that wrap them.
var (
	// ErrNotFound: the environment has no regular file at that path.
	ErrNotFound = errors.New("fileserver: file not found")
	// ErrRefused: the request would reach outside the roots (or, for
	// Recv, is not allowed); Handle logs it.
	ErrRefused = errors.New("fileserver: refused")
)

// Config configures a Server. The zero value serves nothing.
type Config struct {
	// Roots maps each environment to its directories, searched in order
	// (file_roots). Salt's "__env__" entry serves any environment that is
	// not listed.
	Roots map[string][]string
	// HashType is the hash of _file_hash: md5, sha1, sha224, sha256,
	// sha384 or sha512; "" is sha256 (hash_type).
	HashType string
	// BufferSize is the chunk size of _serve_file; 0 is 1 MiB.
	BufferSize int
	// RecvDir is where _file_recv stores pushed files, as
	// <RecvDir>/<minion id>/files/<path> (Salt: <cachedir>/minions).
	RecvDir string
	// Recv enables _file_recv (file_recv); RecvMaxSize caps each pushed
	// file, in bytes (0 is 100 MiB).
	Recv        bool
	RecvMaxSize int64
	// Logger receives refusals and I/O errors; nil discards.
	Logger *slog.Logger
}

// Server serves the files of Config.Roots.
type Server struct {
	cfg     Config
	log     *slog.Logger
	newHash func() hash.Hash

	mu     sync.Mutex // guards hashes
	hashes map[hashKey]hashEntry
}

// hashKey names one file as found: its root directory and path.
type hashKey struct{ dir, rel string }

// hashEntry is a computed sum, valid while the file's identity and
// modification time are unchanged.
type hashEntry struct {
	dev, ino, size uint64
	mtime          time.Time
	sum            string
}

// New returns a Server. It fails for an unknown hash type.
func New(cfg Config) (*Server, error) {
	if cfg.HashType == "" {
		cfg.HashType = "sha256"
	}
	newHash, ok := hashes[cfg.HashType]
	if !ok {
		return nil, fmt.Errorf("fileserver: unknown hash_type %q", cfg.HashType)
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	if cfg.RecvMaxSize <= 0 {
		cfg.RecvMaxSize = DefaultRecvMaxSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: log, newHash: newHash, hashes: make(map[hashKey]hashEntry)}, nil
}

var hashes = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224, "sha256": sha256.New,
	"sha384": sha512.New384, "sha512": sha512.New,
}

// HashType is the hash the server uses.
func (s *Server) HashType() string { return s.cfg.HashType }

// Envs returns the environments, sorted ("__env__" included if configured).
func (s *Server) Envs() []string {
	return slices.Sorted(maps.Keys(s.cfg.Roots))
}

// dirs returns the directories of saltenv, or those of "__env__" for an
// environment that is not configured.
func (s *Server) dirs(saltenv string) []string {
	if d, ok := s.cfg.Roots[saltenv]; ok {
		return d
	}
	return s.cfg.Roots["__env__"]
}

// File is an open file found in an environment. Close it.
type File struct {
	*os.File
	// Path is the file's path on the master (root directory joined with
	// Rel), as Salt reports it in _file_find.
	Path string
	// Rel is the cleaned path within the environment.
	Rel  string
	Info fs.FileInfo

	dir, openedRel string
}

// Open finds name in saltenv: the first root holding a regular file at
// that path. Errors wrap ErrNotFound, or ErrRefused for a path that is
// unsafe or a link that leaves its root.
func (s *Server) Open(saltenv, name string) (*File, error) {
	rel, err := relpath.Clean(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	for _, dir := range s.dirs(saltenv) {
		f, err := openIn(dir, rel)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("%w: %s in saltenv %q", ErrNotFound, rel, saltenv)
}

// openIn opens dir/rel as a regular file without leaving dir.
func openIn(dir, rel string) (*File, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: root %s: %v", ErrNotFound, dir, err)
	}
	defer r.Close()
	use, err := resolveIn(r, dir, rel)
	if err != nil {
		return nil, err
	}
	f, err := r.OpenFile(use, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, classify(dir, rel, err)
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrNotFound, rel)
	}
	return &File{File: f, Path: filepath.Join(dir, filepath.FromSlash(rel)), Rel: rel, Info: info, dir: dir, openedRel: use}, nil
}

// resolveIn returns the path to use within r for rel: rel itself when
// os.Root can reach it, or, for a link os.Root refuses only because it is
// absolute, the path its target has inside the root. A target outside the
// root is refused.
func resolveIn(r *os.Root, dir, rel string) (string, error) {
	_, err := r.Stat(rel)
	if err == nil {
		return rel, nil
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return "", fmt.Errorf("%w: %s", ErrNotFound, rel)
	}
	realDir, err1 := filepath.EvalSymlinks(dir)
	real, err2 := filepath.EvalSymlinks(filepath.Join(dir, filepath.FromSlash(rel)))
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrRefused, rel, err)
	}
	inside, ok := within(realDir, real)
	if !ok {
		return "", fmt.Errorf("%w: %s leads outside %s (to %s)", ErrRefused, rel, dir, real)
	}
	if _, err := r.Stat(inside); err != nil {
		return "", classify(dir, rel, err)
	}
	return inside, nil
}

// within returns p relative to dir, as a slash path, if p is dir or under it.
func within(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// classify turns an os.Root error into ErrNotFound or ErrRefused.
func classify(dir, rel string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return fmt.Errorf("%w: %s", ErrNotFound, rel)
	}
	return fmt.Errorf("%w: %s in %s: %v", ErrRefused, rel, dir, err)
}

// Chunk is one piece of a file, as _serve_file sends it.
type Chunk struct {
	Data []byte // at most BufferSize bytes from Loc (gzipped if Gzip > 0); empty at the end
	Dest string // the file's path in the environment
	Gzip int    // the gzip level Data is compressed with, or 0
}

// Chunk reads the piece of name that starts at loc, compressed with gzip
// level gzipLevel (1-9) if that is not 0. A loc past the end gives empty
// Data.
func (s *Server) Chunk(saltenv, name string, loc int64, gzipLevel int) (Chunk, error) {
	if loc < 0 {
		return Chunk{}, fmt.Errorf("%w: negative offset %d", ErrRefused, loc)
	}
	if gzipLevel < 0 || gzipLevel > gzip.BestCompression {
		return Chunk{}, fmt.Errorf("%w: gzip level %d", ErrRefused, gzipLevel)
	}
	f, err := s.Open(saltenv, name)
	if err != nil {
		return Chunk{}, err
	}
	defer f.Close()
	buf := make([]byte, s.cfg.BufferSize)
	n, err := f.ReadAt(buf, loc)
	if err != nil && !errors.Is(err, io.EOF) {
		return Chunk{}, fmt.Errorf("fileserver: reading %s: %w", f.Path, err)
	}
	c := Chunk{Data: buf[:n], Dest: f.Rel}
	if gzipLevel > 0 && n > 0 {
		var b strings.Builder
		zw, err := gzip.NewWriterLevel(&b, gzipLevel)
		if err != nil {
			return Chunk{}, err
		}
		zw.Write(c.Data) // a strings.Builder does not fail
		zw.Close()
		c.Data, c.Gzip = []byte(b.String()), gzipLevel
	}
	return c, nil
}

// Hash is a file's sum, Salt's {"hash_type", "hsum"}.
type Hash struct {
	Type, Sum string
}

// Hash returns the sum of name in saltenv, and the open file's stat as
// Salt lists it. Sums are cached while the file's device, inode, size and
// modification time stay the same.
func (s *Server) Hash(saltenv, name string) (Hash, []any, error) {
	f, err := s.Open(saltenv, name)
	if err != nil {
		return Hash{}, nil, err
	}
	defer f.Close()
	st := statList(f.Info)
	id := fileID(f.Info)
	key := hashKey{f.dir, f.openedRel}
	s.mu.Lock()
	e, ok := s.hashes[key]
	s.mu.Unlock()
	if ok && e.dev == id.dev && e.ino == id.ino && e.size == uint64(f.Info.Size()) && e.mtime.Equal(f.Info.ModTime()) {
		return Hash{s.cfg.HashType, e.sum}, st, nil
	}
	h := s.newHash()
	if _, err := io.Copy(h, f); err != nil {
		return Hash{}, nil, fmt.Errorf("fileserver: reading %s: %w", f.Path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	s.mu.Lock()
	s.hashes[key] = hashEntry{dev: id.dev, ino: id.ino, size: uint64(f.Info.Size()), mtime: f.Info.ModTime(), sum: sum}
	s.mu.Unlock()
	return Hash{s.cfg.HashType, sum}, st, nil
}

// ReadFile returns the contents of name in saltenv and the file's path on
// the master.
func (s *Server) ReadFile(saltenv, name string) ([]byte, string, error) {
	f, err := s.Open(saltenv, name)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, "", fmt.Errorf("fileserver: reading %s: %w", f.Path, err)
	}
	return b, f.Path, nil
}

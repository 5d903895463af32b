// Package fileclient is the minion's side of the master's file server, as
// Salt's RemoteClient: it fetches salt:// files over the minion's AES
// request channel and keeps them in the minion's file cache, lists the
// master's files, and pushes files to the master (cp.push).
//
// Files are cached where Salt caches them, <cachedir>/files/<saltenv>/<path>,
// and fetched again only when the master's hash of the file differs from
// the cached copy's. A fetch asks for the file in chunks (_serve_file with
// the offset reached so far), gunzips chunks the master compressed, writes
// to a temporary file in the destination's directory and renames it into
// place once the whole file is there and its hash matches the master's.
//
// Paths are checked before they touch the disk: a salt:// path must be a
// clean relative path (package relpath) and a saltenv a single path
// component, whatever the caller or the master says; the master's idea of
// a file's name (dest in _serve_file's answer) is never used to build one.
//
// A Client is safe for concurrent use; concurrent fetches of one file
// each write their own temporary file, and the last rename wins.
package fileclient

import (
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/brine-project/brine/internal/relpath"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/transport/wire"
)

// RequestFunc sends one AES request to the master and returns its decoded
// answer (minion.Minion's request).
type RequestFunc func(ctx context.Context, load wire.Map) (any, error)

// DefaultBufferSize is the minion's file_buffer_size: cp.push's chunk size.
const DefaultBufferSize = 262144

// maxTries bounds the downloads of a file whose hash does not match the
// master's afterwards (it changed on the master meanwhile).
const maxTries = 3

// ErrBadURL is returned, wrapped, for a path that is not a usable salt://
// URL or local path, or an unsafe saltenv.
var ErrBadURL = errors.New("fileclient: bad path")

// Config configures a Client.
type Config struct {
	ID       string // the minion's id, sent in each request
	CacheDir string // the minion's cachedir
	// HashType hashes local files for HashFile (hash_type); "" is sha256.
	HashType string
	// BufferSize is cp.push's chunk size; 0 is DefaultBufferSize.
	BufferSize int
	Request    RequestFunc
	Logger     *slog.Logger // nil discards
}

// Client implements modules.FileClient.
type Client struct {
	cfg Config
	log *slog.Logger
}

var _ modules.FileClient = (*Client)(nil)

// New returns a Client.
func New(cfg Config) *Client {
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	if cfg.HashType == "" {
		cfg.HashType = "sha256"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg, log: log}
}

// ParseURL splits a salt:// URL into its clean path and saltenv: the
// URL's "?saltenv=" if it has one, else saltenv, else "base".
func ParseURL(u, saltenv string) (rel, env string, err error) {
	p, ok := strings.CutPrefix(u, "salt://")
	if !ok {
		return "", "", fmt.Errorf("%w: %q is not a salt:// URL", ErrBadURL, u)
	}
	p, query, found := strings.Cut(p, "?")
	if found {
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", fmt.Errorf("%w: %q: %v", ErrBadURL, u, err)
		}
		if e := q.Get("saltenv"); e != "" {
			saltenv = e
		}
	}
	if saltenv == "" {
		saltenv = "base"
	}
	if rel, err = relpath.Clean(p); err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	if err := relpath.Env(saltenv); err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	return rel, saltenv, nil
}

// CachePath is where the file rel of saltenv is cached.
func (c *Client) CachePath(rel, saltenv string) string {
	return filepath.Join(c.cfg.CacheDir, "files", saltenv, filepath.FromSlash(rel))
}

// ask sends a load (with the minion's id added) to the master.
func (c *Client) ask(ctx context.Context, load wire.Map) (any, error) {
	if c.cfg.Request == nil {
		return nil, errors.New("fileclient: no request channel to the master")
	}
	return c.cfg.Request(ctx, append(load, wire.Field{Key: "id", Value: c.cfg.ID}))
}

// HashFile returns the master's {"hash_type", "hsum"} of a salt:// file,
// or for an absolute local path that file's, with the minion's hash_type.
// A missing file gives an empty map.
func (c *Client) HashFile(ctx context.Context, u, saltenv string) (map[string]any, error) {
	if filepath.IsAbs(u) {
		sum, err := hashLocal(u, c.cfg.HashType)
		if errors.Is(err, os.ErrNotExist) {
			return map[string]any{}, nil
		}
		if err != nil {
			return nil, err
		}
		return map[string]any{"hash_type": c.cfg.HashType, "hsum": sum}, nil
	}
	rel, env, err := ParseURL(u, saltenv)
	if err != nil {
		return nil, err
	}
	h, err := c.masterHash(ctx, rel, env)
	if err != nil || h.sum == "" {
		return map[string]any{}, err
	}
	return map[string]any{"hash_type": h.typ, "hsum": h.sum}, nil
}

type sum struct{ typ, sum string }

// masterHash asks for a file's hash; an empty sum means the master has no
// such file.
func (c *Client) masterHash(ctx context.Context, rel, saltenv string) (sum, error) {
	ret, err := c.ask(ctx, wire.Map{{Key: "path", Value: rel}, {Key: "saltenv", Value: saltenv}, {Key: "cmd", Value: "_file_hash"}})
	if err != nil {
		return sum{}, err
	}
	m, ok := ret.(map[string]any)
	if !ok {
		return sum{}, nil // Salt's "" for a file it does not have
	}
	typ, _ := wire.OptString(m, "hash_type")
	s, _ := wire.OptString(m, "hsum")
	if _, known := hashes[typ]; !known && s != "" {
		return sum{}, fmt.Errorf("fileclient: the master hashes with %q, which the minion does not know", typ)
	}
	return sum{typ, s}, nil
}

var hashes = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224, "sha256": sha256.New,
	"sha384": sha512.New384, "sha512": sha512.New,
}

func hashLocal(path, typ string) (string, error) {
	newHash, ok := hashes[typ]
	if !ok {
		return "", fmt.Errorf("fileclient: unknown hash_type %q", typ)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := newHash()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CacheFile is GetFile into the file cache.
func (c *Client) CacheFile(ctx context.Context, u, saltenv string) (string, error) {
	return c.GetFile(ctx, u, "", saltenv, true, 0)
}

// GetFile fetches a salt:// file to dest, or into the cache when dest is
// "": see modules.FileClient. A file whose local copy has the master's
// hash is not fetched again.
func (c *Client) GetFile(ctx context.Context, u, dest, saltenv string, makedirs bool, gzipLevel int) (string, error) {
	rel, env, err := ParseURL(u, saltenv)
	if err != nil {
		return "", err
	}
	if gzipLevel < 0 || gzipLevel > gzip.BestCompression {
		return "", fmt.Errorf("fileclient: gzip level %d is not 1-9", gzipLevel)
	}
	want, err := c.masterHash(ctx, rel, env)
	if err != nil {
		return "", err
	}
	if want.sum == "" {
		c.log.Debug("fileclient: no such file on the master", "path", rel, "saltenv", env)
		return "", nil
	}
	if dest == "" {
		dest = c.CachePath(rel, env)
		makedirs = true
	} else if strings.HasSuffix(dest, "/") || isDir(dest) {
		dest = filepath.Join(dest, path.Base(rel))
	}
	for try := 1; ; try++ {
		if have, err := hashLocal(dest, want.typ); err == nil && have == want.sum {
			return dest, nil
		}
		if _, err := os.Stat(filepath.Dir(dest)); errors.Is(err, os.ErrNotExist) {
			if !makedirs {
				c.log.Info("fileclient: the destination's directory does not exist", "dest", dest)
				return "", nil
			}
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				return "", fmt.Errorf("fileclient: %w", err)
			}
		}
		got, err := c.fetch(ctx, rel, env, dest, want.typ, gzipLevel)
		if err != nil {
			return "", err
		}
		if got == want.sum {
			return dest, nil
		}
		// The file changed on the master while it came over: ask again.
		if try == maxTries {
			return "", fmt.Errorf("fileclient: salt://%s changed on the master during %d downloads", rel, maxTries)
		}
		if want, err = c.masterHash(ctx, rel, env); err != nil {
			return "", err
		}
		if want.sum == "" {
			return "", nil
		}
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// fetch downloads rel chunk by chunk into a temporary file next to dest,
// renames it to dest and returns the hash of what it wrote.
func (c *Client) fetch(ctx context.Context, rel, saltenv, dest, hashType string, gzipLevel int) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part*")
	if err != nil {
		return "", fmt.Errorf("fileclient: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	h := hashes[hashType]()
	w := io.MultiWriter(tmp, h)
	var loc int64
	for {
		if err := ctx.Err(); err != nil {
			tmp.Close()
			return "", err
		}
		load := wire.Map{{Key: "path", Value: rel}, {Key: "saltenv", Value: saltenv}, {Key: "cmd", Value: "_serve_file"}}
		if gzipLevel > 0 {
			load = append(load, wire.Field{Key: "gzip", Value: int64(gzipLevel)})
		}
		load = append(load, wire.Field{Key: "loc", Value: loc})
		ret, err := c.ask(ctx, load)
		if err != nil {
			tmp.Close()
			return "", err
		}
		data, compressed, err := chunkOf(ret)
		if err != nil {
			tmp.Close()
			return "", fmt.Errorf("fileclient: salt://%s at %d: %w", rel, loc, err)
		}
		if len(data) == 0 {
			break
		}
		if compressed {
			if data, err = gunzip(data); err != nil {
				tmp.Close()
				return "", fmt.Errorf("fileclient: salt://%s at %d: %w", rel, loc, err)
			}
		}
		if _, err := w.Write(data); err != nil {
			tmp.Close()
			return "", fmt.Errorf("fileclient: %w", err)
		}
		loc += int64(len(data))
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("fileclient: %w", err)
	}
	if isDir(dest) {
		// A directory was cached where the file now is (Salt removes it).
		if err := os.RemoveAll(dest); err != nil {
			return "", fmt.Errorf("fileclient: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", fmt.Errorf("fileclient: %w", err)
	}
	c.log.Debug("fileclient: fetched", "path", rel, "saltenv", saltenv, "dest", dest, "bytes", loc)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// chunkOf reads a _serve_file answer: its data (a msgpack str, which the
// wire decoder gives as string when it is UTF-8, else bytes) and whether it
// is gzipped.
func chunkOf(ret any) ([]byte, bool, error) {
	m, ok := ret.(map[string]any)
	if !ok {
		return nil, false, fmt.Errorf("the master answered %T, not a chunk", ret)
	}
	var data []byte
	switch d := m["data"].(type) {
	case string:
		data = []byte(d)
	case []byte:
		data = d
	case nil:
	default:
		return nil, false, fmt.Errorf("chunk data is a %T", d)
	}
	g, _ := m["gzip"].(int64)
	return data, g > 0, nil
}

// maxChunk bounds what one gunzipped chunk may grow to: the master's
// chunks are file_buffer_size (1 MiB by default) before compression.
const maxChunk = 64 << 20

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(strings.NewReader(string(b)))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxChunk+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxChunk {
		return nil, errors.New("a gzipped chunk expands past 64 MiB")
	}
	return out, nil
}

// ListMaster lists saltenv's files whose path starts with prefix.
func (c *Client) ListMaster(ctx context.Context, saltenv, prefix string) ([]string, error) {
	return c.list(ctx, "_file_list", saltenv, prefix)
}

// ListEmptyDirs lists saltenv's empty directories whose path starts with
// prefix.
func (c *Client) ListEmptyDirs(ctx context.Context, saltenv, prefix string) ([]string, error) {
	return c.list(ctx, "_file_list_emptydirs", saltenv, prefix)
}

func (c *Client) list(ctx context.Context, cmd, saltenv, prefix string) ([]string, error) {
	if saltenv == "" {
		saltenv = "base"
	}
	ret, err := c.ask(ctx, wire.Map{{Key: "saltenv", Value: saltenv}, {Key: "prefix", Value: prefix}, {Key: "cmd", Value: cmd}})
	if err != nil {
		return nil, err
	}
	list, ok := ret.([]any)
	if !ok {
		return nil, fmt.Errorf("fileclient: %s answered %T, not a list", cmd, ret)
	}
	return wire.Strings(list), nil
}

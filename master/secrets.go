package master

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/master/pki"
)

// aesKey is one master AES (publication) key with what is derived from it.
type aesKey struct {
	key string
	c   *crypto.Crypticle
	// sig is X9.31(master.pem, hex(sha256(key))): the `sig` of every
	// accepted _auth reply. It depends only on the key, so it is made once
	// per key, not once per minion.
	sig []byte
	// serial numbers the publications made under this key.
	serial atomic.Int64
}

// aesKeys holds the current master AES key. It lives in memory only, as
// in Salt: a restart or a rotation makes every minion authenticate again.
type aesKeys struct {
	cur atomic.Pointer[aesKey]
}

func newAESKeys(rnd io.Reader, priv *rsa.PrivateKey) (*aesKeys, error) {
	k := &aesKeys{}
	return k, k.rotate(rnd, priv)
}

func (k *aesKeys) rotate(rnd io.Reader, priv *rsa.PrivateKey) error {
	key, err := crypto.GenerateCrypticleKey(rnd)
	if err != nil {
		return err
	}
	c, err := crypto.NewCrypticle(key)
	if err != nil {
		return err
	}
	sig, err := aesSig(rnd, priv, key)
	if err != nil {
		return err
	}
	k.cur.Store(&aesKey{key: key, c: c, sig: sig})
	return nil
}

func (k *aesKeys) current() *aesKey { return k.cur.Load() }

// aesSig is the X9.31 signature over the hex SHA-256 of an AES key string.
func aesSig(rnd io.Reader, priv *rsa.PrivateKey, key string) ([]byte, error) {
	sum := sha256.Sum256([]byte(key))
	return crypto.SignX931(rnd, priv, []byte(hex.EncodeToString(sum[:])))
}

// session is a minion's session key: it encrypts that minion's version 3
// requests and their replies.
type session struct {
	mtime time.Time
	c     *crypto.Crypticle
	key   string
}

// sessions keeps cachedir/sessions/<id> (mode 0600), one Crypticle key per
// minion, replaced once older than publish_session. The files outlive a
// master restart, so minions keep their session across it.
type sessions struct {
	dir string
	ttl time.Duration
	rnd io.Reader

	mu sync.Mutex // guards m
	m  map[string]session
}

func newSessions(dir string, ttl time.Duration, rnd io.Reader) *sessions {
	return &sessions{dir: dir, ttl: ttl, rnd: rnd, m: make(map[string]session)}
}

// get returns the session of a (valid) minion id, making or renewing it.
func (s *sessions) get(id string) (session, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.m[id]; ok && now.Sub(ss.mtime) < s.ttl {
		return ss, nil
	}
	path := filepath.Join(s.dir, id)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && now.Sub(fi.ModTime()) > s.ttl) {
		if err := s.renew(path); err != nil {
			return session{}, err
		}
		fi, err = os.Stat(path)
	}
	if err != nil {
		return session{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return session{}, err
	}
	c, err := crypto.NewCrypticle(string(bytes.TrimSpace(b)))
	if err != nil {
		return session{}, fmt.Errorf("session key %s: %w", path, err)
	}
	ss := session{mtime: fi.ModTime(), c: c, key: string(bytes.TrimSpace(b))}
	s.m[id] = ss
	return ss, nil
}

// renew writes a new session key file, atomically, mode 0600.
func (s *sessions) renew(path string) error {
	key, err := crypto.GenerateCrypticleKey(s.rnd)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".tmp", []byte(key), 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// tokCache remembers, per minion, the tok that verified against its
// accepted key, and which version of the key file that was. A tok is X9.31
// over "salt" with the minion's key, so it is the same bytes on every
// request: checking it again is a stat and a byte comparison, not a read
// and an RSA operation.
type tokCache struct {
	mu sync.Mutex // guards m
	m  map[string]verifiedTok
}

type verifiedTok struct {
	key pki.Version // of the accepted key file it verified against
	tok []byte
}

func newTokCache() *tokCache { return &tokCache{m: make(map[string]verifiedTok)} }

// known reports whether tok verified against version key of id's key.
func (c *tokCache) known(id string, key pki.Version, tok []byte) bool {
	c.mu.Lock()
	v, ok := c.m[id]
	c.mu.Unlock()
	return ok && v.key == key && bytes.Equal(v.tok, tok)
}

// verify checks tok against id's accepted key pub, read at version key,
// and remembers it when it verifies.
func (c *tokCache) verify(id string, key pki.Version, pub string, tok []byte) error {
	k, err := crypto.ParsePublicKey([]byte(pub))
	if err != nil {
		return fmt.Errorf("accepted key of %s: %w", id, err)
	}
	msg, err := crypto.VerifyX931(k, tok)
	if err != nil || string(msg) != "salt" {
		return errors.New("tok does not verify with the accepted key")
	}
	c.mu.Lock()
	c.m[id] = verifiedTok{key: key, tok: bytes.Clone(tok)}
	c.mu.Unlock()
	return nil
}

// base64Line is Python's binascii.b2a_base64: base64 and a newline.
func base64Line(b []byte) string { return base64.StdEncoding.EncodeToString(b) + "\n" }

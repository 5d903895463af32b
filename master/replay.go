package master

import (
	"crypto/sha256"
	"errors"
	"sync"
)

// replayWindow is how far back, in the minion's own ts seconds, a request
// may lag the newest one seen from that minion.
const replayWindow = 600

var (
	errReplayed = errors.New("the request's nonce was already used")
	errStale    = errors.New("the request is older than the replay window")
)

// replayGuard refuses a minion request seen before. Salt's master does not
// track request nonces, so a captured request could be played again; here
// each minion's nonces are remembered for replayWindow seconds of its own
// clock (its ts), and a request lagging its newest by more than that is
// refused, so memory stays bounded and clock skew between hosts does not
// matter.
type replayGuard struct {
	mu     sync.Mutex // guards minion
	minion map[string]*seen
}

type seen struct {
	maxTS  int64
	nonces map[nonceKey]int64 // nonce → ts
	limit  int                // prune when nonces grows past this
}

// nonceKey is a nonce as the guard keeps it: the first 128 bits of its
// SHA-256, a fixed 16 bytes in the map's own slot (a string key would
// cost a header and a separate allocation for each of a minion's
// requests).
type nonceKey [16]byte

func keyOf(nonce string) nonceKey {
	sum := sha256.Sum256([]byte(nonce))
	return nonceKey(sum[:16])
}

func newReplayGuard() *replayGuard { return &replayGuard{minion: make(map[string]*seen)} }

// check records (nonce, ts) for id, or says why it must be refused. A
// request without ts (version 2) is checked on its nonce alone.
func (g *replayGuard) check(id, nonce string, ts int64, hasTS bool) error {
	if nonce == "" {
		return nil // nothing to key on: versions before 2 send none
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.minion[id]
	if s == nil {
		s = &seen{nonces: make(map[nonceKey]int64), limit: 64}
		g.minion[id] = s
	}
	if hasTS && ts < s.maxTS-replayWindow {
		return errStale
	}
	k := keyOf(nonce)
	if _, dup := s.nonces[k]; dup {
		return errReplayed
	}
	if !hasTS {
		ts = s.maxTS
	}
	s.nonces[k] = ts
	s.maxTS = max(s.maxTS, ts)
	if len(s.nonces) > s.limit {
		for n, t := range s.nonces {
			if t < s.maxTS-replayWindow {
				delete(s.nonces, n)
			}
		}
		s.limit = max(64, 2*len(s.nonces))
	}
	return nil
}

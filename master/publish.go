package master

import (
	"errors"
	"slices"
	"sync"

	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/transport/wire"
)

// wrapPublication is the publisher's transform for what local programs
// push to publish_pull.ipc: a clear publication load becomes the
// publication sent on the publish port (under "broadcast" with
// zmq_filtering: only the master's own publish path resolves minions).
func (m *Master) wrapPublication(msg [][]byte) ([][][]byte, error) {
	if len(msg) != 1 {
		return nil, errors.New("master: a publication load is one frame")
	}
	load, err := wire.UnmarshalMap(msg[0])
	if err != nil {
		return nil, err
	}
	body, err := m.wrapLoad(load)
	if err != nil {
		return nil, err
	}
	if m.cfg.ZMQFiltering {
		return [][][]byte{{[]byte("broadcast"), body}}, nil
	}
	return [][][]byte{{body}}, nil
}

// wrapLoad numbers a publication load (serial, per AES key: the minions'
// replay guard), encrypts it under the current AES key and, with
// sign_pub_messages, signs the ciphertext.
func (m *Master) wrapLoad(load map[string]any) ([]byte, error) {
	cur := m.aes.current()
	load["serial"] = cur.serial.Add(1)
	payload, err := wire.Marshal(load)
	if err != nil {
		return nil, err
	}
	sealed, err := cur.c.Seal(m.rand, "", payload)
	if err != nil {
		return nil, err
	}
	pub := &wire.Publication{Load: sealed}
	if m.cfg.SignPubMessages {
		if pub.Sig, err = crypto.Sign(m.priv, m.pubSigAlgo, sealed); err != nil {
			return nil, err
		}
		pub.SigAlgo = string(m.pubSigAlgo)
	}
	m.metrics.Publication()
	return pub.Marshal()
}

// returnWaiters hands returns to code in the master waiting for them (the
// runners that publish and gather).
type returnWaiters struct {
	mu sync.Mutex // guards m
	m  map[string][]chan returned
}

type returned struct {
	id   string
	load map[string]any
}

// wait registers for the returns of jid until cancel is called.
func (w *returnWaiters) wait(jid string) (<-chan returned, func()) {
	ch := make(chan returned, 64)
	w.mu.Lock()
	if w.m == nil {
		w.m = make(map[string][]chan returned)
	}
	w.m[jid] = append(w.m[jid], ch)
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.m[jid] = slices.DeleteFunc(w.m[jid], func(c chan returned) bool { return c == ch })
		if len(w.m[jid]) == 0 {
			delete(w.m, jid)
		}
	}
}

func (w *returnWaiters) deliver(jid, id string, load map[string]any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.m[jid] {
		select {
		case ch <- returned{id, load}:
		default: // a waiter that does not keep up misses returns, never blocks the master
		}
	}
}

package master

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/master/metrics"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

// auth answers a minion's _auth request as Salt 3006's ReqServerChannel
// does: the key is pended, accepted, refused or denied according to the
// key store, auto_accept / autosign_file / autoreject_file and open_mode,
// and the answer is signed (version ≥ 2) and carries the request's nonce.
// An accepted minion gets the master's public key, the AES key and its
// session key (both OAEP under its own key), the echo of its token, and
// the X9.31 signature of the AES key.
func (m *Master) auth(ctx context.Context, load map[string]any, version int) []byte {
	// outcome is what brine_master_auths_total counts this request as;
	// event, and the answers below that fire none, set it.
	outcome := metrics.AuthInvalid
	defer func() { m.metrics.Auth(outcome) }()
	id, _ := wire.OptString(load, "id")
	nonce, _ := wire.OptString(load, "nonce")
	encName, _ := wire.OptString(load, "enc_algo")
	sigName, _ := wire.OptString(load, "sig_algo")
	encAlgo, err := crypto.ParseEncAlgo(encName)
	if err != nil {
		m.log.Info("master: auth with an unsupported encryption algorithm", "minion", id, "enc_algo", encName)
		return clearReply(wire.Map{{Key: "ret", Value: "bad enc algo"}})
	}
	sigAlgo, err := crypto.ParseSigAlgo(sigName)
	if err != nil {
		m.log.Info("master: auth with an unsupported signing algorithm", "minion", id, "sig_algo", sigName)
		return clearReply(wire.Map{{Key: "ret", Value: "bad sig algo"}})
	}
	answer := func(ret any, extra ...wire.Field) []byte {
		if version < 2 {
			return clearReply(append(wire.Map{{Key: "ret", Value: ret}}, extra...))
		}
		return m.signed(append(wire.Map{{Key: "ret", Value: ret}, {Key: "nonce", Value: nonce}}, extra...), sigAlgo)
	}
	if after, ok := m.authBacklogged(ctx); ok {
		// An auth storm: better a quick "come back in a few seconds" than
		// a full authentication the minion has stopped waiting for.
		m.log.Info("master: auth requests are queueing; asking the minion to retry later", "minion", id, "retry_after", after)
		outcome = metrics.AuthRetry
		return answer("retry", wire.Field{Key: "retry_after", Value: after})
	}

	if err := pki.ValidID(id); err != nil {
		m.log.Warn("master: auth request from an invalid id refused", "minion", id, "err", err)
		return answer(false)
	}
	pubText, _ := wire.OptString(load, "pub")
	pub, err := crypto.ParsePublicKey([]byte(pubText))
	if err != nil {
		m.log.Warn("master: auth request with an unreadable public key refused", "minion", id, "err", err)
		return answer(false)
	}
	if version >= 2 && nonce == "" {
		m.log.Warn("master: auth request without a nonce refused", "minion", id)
		return answer(false)
	}
	pubClean := crypto.CleanKey([]byte(pubText))
	outcome = metrics.AuthError // a well-formed request: a failure from here on is the master's
	event := func(act string, result bool) {
		outcome = act
		if m.cfg.AuthEvents {
			m.fire(ctx, "salt/auth", map[string]any{"result": result, "act": act, "id": id, "pub": pubClean})
		}
	}

	state, stored, err := m.keys.Lookup(id)
	if err != nil && !errors.Is(err, pki.ErrNotFound) {
		m.log.Error("master: reading the key store", "minion", id, "err", err)
		return answer(false)
	}
	isNew := errors.Is(err, pki.ErrNotFound)

	if m.cfg.MaxMinions > 0 && state != pki.Accepted {
		if acc, err := m.keys.List(pki.Accepted); err == nil && len(acc) >= m.cfg.MaxMinions {
			m.log.Info("master: too many minions, refusing a new one", "minion", id, "max_minions", m.cfg.MaxMinions)
			event("full", false)
			return answer("full")
		}
	}
	autoreject := m.matchPatternFile(m.autoreject, id)
	autosign := m.cfg.AutoAccept || m.matchPatternFile(m.autosign, id)

	deny := func(where string) []byte {
		m.log.Error("master: authentication failed: the public key does not match the "+where+" one; this may be an attempt to compromise the Salt cluster", "minion", id)
		if err := m.keys.Put(pki.Denied, id, pubClean); err != nil {
			m.log.Error("master: storing the denied key", "minion", id, "err", err)
		}
		event("denied", false)
		return answer(false)
	}
	switch {
	case m.cfg.OpenMode:
	case state == pki.Rejected:
		m.log.Info("master: public key rejected; it is in the rejected key dir", "minion", id)
		event("reject", false)
		return answer(false)
	case state == pki.Accepted:
		if stored != pubClean {
			return deny("accepted")
		}
	case isNew && autoreject:
		m.log.Info("master: new public key rejected via autoreject_file", "minion", id)
		if err := m.keys.Put(pki.Rejected, id, pubClean); err != nil {
			m.log.Error("master: storing the key", "minion", id, "err", err)
		}
		event("reject", false)
		return answer(false)
	case isNew && !autosign && m.pendingFull():
		m.log.Warn("master: too many pending keys, refusing a new one", "minion", id, "max_pending_keys", m.cfg.MaxPendingKeys)
		event("full", false)
		return answer("full")
	case isNew && !autosign:
		m.log.Info("master: new public key placed in pending", "minion", id)
		if err := m.keys.Put(pki.Pending, id, pubClean); err != nil {
			m.log.Error("master: storing the key", "minion", id, "err", err)
			return answer(false)
		}
		event("pend", true)
		return answer(true)
	case state == pki.Pending && autoreject:
		m.log.Info("master: pending public key rejected via autoreject_file", "minion", id)
		if err := m.keys.Move(id, pki.Pending, pki.Rejected); err != nil {
			m.log.Error("master: moving the key", "minion", id, "err", err)
		}
		event("reject", false)
		return answer(false)
	case state == pki.Pending && stored != pubClean:
		return deny("pending")
	case state == pki.Pending && !autosign:
		m.log.Info("master: the key is pending; accept it with brine-key -a "+id, "minion", id)
		event("pend", true)
		return answer(true)
	}

	// Accepted (already, or now by autosign / auto_accept / open_mode).
	if state != pki.Accepted || (m.cfg.OpenMode && stored != pubClean) {
		if err := m.keys.Put(pki.Accepted, id, pubClean); err != nil {
			m.log.Error("master: storing the accepted key", "minion", id, "err", err)
			return answer(false)
		}
		if state == pki.Pending {
			m.keys.Delete(pki.Pending, id)
		}
	}
	m.log.Info("master: authentication accepted", "minion", id)

	cur := m.aes.current()
	aesKey, aesSigBytes := cur.key, cur.sig
	reply := wire.Map{
		{Key: "enc", Value: "pub"},
		{Key: "pub_key", Value: m.pubPEM},
		{Key: "publish_port", Value: m.cfg.PublishPort},
	}
	if m.signPub != "" {
		reply = append(reply, wire.Field{Key: "pub_sig", Value: m.signPub})
	}
	if tokenCT, err := wire.Bytes(load, "token"); err == nil {
		token, err := crypto.Decrypt(m.priv, encAlgo, tokenCT)
		switch {
		case err != nil:
			// As Salt: an undecryptable token is not fatal, older minions
			// send one the master cannot read.
			m.log.Warn("master: the auth token does not decrypt", "minion", id, "err", err)
		case m.cfg.AuthMode >= 2:
			aesKey = aesKey + "_|-" + string(token)
			if aesSigBytes, err = aesSig(m.rand, m.priv, aesKey); err != nil {
				return answer(false)
			}
		default:
			ct, err := crypto.Encrypt(m.rand, pub, encAlgo, token)
			if err != nil {
				return answer(false)
			}
			reply = append(reply, wire.Field{Key: "token", Value: ct})
		}
	}
	sess, err := m.sessions.get(id)
	if err != nil {
		m.log.Error("master: session key", "minion", id, "err", err)
		return answer(false)
	}
	aesCT, err := crypto.Encrypt(m.rand, pub, encAlgo, []byte(aesKey))
	if err != nil {
		return answer(false)
	}
	sessCT, err := crypto.Encrypt(m.rand, pub, encAlgo, []byte(sess.key))
	if err != nil {
		return answer(false)
	}
	reply = append(reply,
		wire.Field{Key: "aes", Value: aesCT},
		wire.Field{Key: "session", Value: sessCT},
		wire.Field{Key: "sig", Value: aesSigBytes},
	)
	event("accept", true)
	if version < 2 {
		b, _ := wire.Marshal(reply)
		return b
	}
	reply = append(reply, wire.Field{Key: "nonce", Value: nonce})
	return m.signed(reply, sigAlgo)
}

// authBacklogged reports whether this _auth queued longer than
// auth_queue_timeout for a worker, and then how many seconds the minion
// should wait before it tries again: twice the time it queued (the
// backlog drains meanwhile), between 1 and 60.
func (m *Master) authBacklogged(ctx context.Context) (retryAfter int, ok bool) {
	limit := time.Duration(m.cfg.AuthQueueTimeout * float64(time.Second))
	at, known := transport.Received(ctx)
	if limit <= 0 || !known {
		return 0, false
	}
	queued := time.Since(at)
	if queued <= limit {
		return 0, false
	}
	return min(60, max(1, int(math.Ceil(2*queued.Seconds())))), true
}

// pendingFull reports whether max_pending_keys keys are pending.
func (m *Master) pendingFull() bool {
	if m.cfg.MaxPendingKeys <= 0 {
		return false
	}
	pending, err := m.keys.List(pki.Pending)
	return err == nil && len(pending) >= m.cfg.MaxPendingKeys
}

func (m *Master) matchPatternFile(f pki.PatternFile, id string) bool {
	ok, err := f.Match(id)
	if err != nil {
		m.log.Warn("master: "+err.Error(), "minion", id)
	}
	return ok
}

// signed wraps an inner map as Salt's signed clear reply.
func (m *Master) signed(inner wire.Map, algo crypto.SigAlgo) []byte {
	load, err := wire.Marshal(inner)
	if err != nil {
		return errorReply("Server-side exception handling payload")
	}
	sig, err := crypto.Sign(m.priv, algo, load)
	if err != nil {
		return errorReply("Server-side exception handling payload")
	}
	b, err := (&wire.SignedReply{Load: load, Sig: sig}).Marshal()
	if err != nil {
		return errorReply("Server-side exception handling payload")
	}
	return b
}

// clearReply is {"enc": "clear", "load": load}.
func clearReply(load wire.Map) []byte {
	b, err := wire.Marshal(wire.Map{{Key: "enc", Value: "clear"}, {Key: "load", Value: load}})
	if err != nil {
		return errorReply("Server-side exception handling payload")
	}
	return b
}

// errorReply is one of Salt's bare-string error answers.
func errorReply(msg string) []byte {
	b, _ := wire.Marshal(msg)
	return b
}

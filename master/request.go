package master

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/internal/jid"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

// Salt's answers to requests it cannot take.
const (
	badLoad = "bad load"
)

// handle answers one request on the ret port: clear commands (_auth, and
// those of local clients) and AES commands from minions.
func (m *Master) handle(ctx context.Context, raw []byte) []byte {
	req, err := wire.DecodeRequest(raw)
	if err != nil {
		m.log.Warn("master: bad load received on socket", "err", err)
		return errorReply(badLoad)
	}
	if req.Enc == "clear" {
		load := req.Load.(map[string]any)
		if id, ok := load["id"].(string); ok && strings.IndexByte(id, 0) >= 0 {
			m.log.Warn("master: payload contains an id with a null byte")
			return errorReply("bad load: id contains a null byte")
		}
		cmd, _ := wire.OptString(load, "cmd")
		defer m.metrics.Request(cmd, receivedAt(ctx))
		switch cmd {
		case "_auth":
			return m.auth(ctx, load, req.Version)
		case "ping":
			b, err := wire.Marshal(load)
			if err != nil {
				return errorReply(badLoad)
			}
			return b
		case "publish":
			return marshalOr(m.publish(ctx, load))
		case "runner":
			return marshalOr(m.runner(ctx, load))
		}
		m.log.Info("master: clear command refused", "cmd", cmd)
		b, _ := wire.Marshal(map[string]any{})
		return b
	}
	return m.handleAES(ctx, req)
}

// handleAES decrypts and checks a minion's AES request, runs its command
// and encrypts the answer. Version 3 requests are under the minion's
// session key; older ones are under the master AES key. Every one must
// carry the minion's tok.
func (m *Master) handleAES(ctx context.Context, req *wire.Request) []byte {
	blob := req.Load.([]byte)
	var c *crypto.Crypticle
	if req.Version >= 3 {
		if err := pki.ValidID(req.ID); err != nil {
			m.log.Warn("master: AES request from an invalid id", "err", err)
			return errorReply(badLoad)
		}
		if _, err := m.keys.Version(pki.Accepted, req.ID); err != nil {
			m.log.Warn("master: AES request from a minion without an accepted key", "minion", req.ID)
			return errorReply(badLoad)
		}
		sess, err := m.sessions.get(req.ID)
		if err != nil {
			m.log.Error("master: session key", "minion", req.ID, "err", err)
			return errorReply(badLoad)
		}
		c = sess.c
	} else {
		c = m.aes.current().c
	}
	plain, err := c.Open(blob, "")
	if err != nil {
		// A failed HMAC under the session key: a wrong or stale key, or
		// tampering. Either way the minion must authenticate again.
		m.log.Warn("master: AES request does not decrypt", "minion", req.ID, "err", err)
		return errorReply(badLoad)
	}
	load, err := wire.UnmarshalMap(plain)
	if err != nil {
		m.log.Warn("master: AES request load is not a map", "minion", req.ID, "err", err)
		return errorReply("payload and load must be a dict")
	}
	id, _ := wire.OptString(load, "id")
	if strings.IndexByte(id, 0) >= 0 {
		return errorReply("bad load: id contains a null byte")
	}
	nonce, _ := wire.OptString(load, "nonce")
	delete(load, "nonce")
	tok, tokErr := wire.Bytes(load, "tok")
	delete(load, "tok")
	if req.Version >= 3 {
		if ttl := m.cfg.RequestServerTTL; ttl > 0 {
			ts, err := wire.Int(load, "ts")
			if err != nil || time.Since(time.Unix(ts, 0)) > time.Duration(ttl)*time.Second {
				m.log.Warn("master: request outside request_server_ttl", "minion", id)
				return errorReply(badLoad)
			}
		}
		if req.ID != id {
			m.log.Warn("master: request id mismatch", "envelope", req.ID, "load", id)
			return errorReply(badLoad)
		}
	}
	// Every version needs the tok: older requests are under the master AES
	// key, which every accepted minion holds, so without it nothing ties
	// the load's id to the sender and one minion could return, fire events
	// or push files as another (Salt's CVE-2025-62349, a downgrade to
	// version 2).
	if tokErr != nil {
		m.log.Warn("master: request without a tok", "minion", id, "version", req.Version)
		return errorReply(badLoad)
	}
	if err := m.checkTok(id, tok); err != nil {
		m.log.Warn("master: minion token did not validate", "minion", id, "err", err)
		return errorReply(badLoad)
	}
	ts, tsErr := wire.Int(load, "ts")
	if err := m.replays.check(id, nonce, ts, tsErr == nil); err != nil {
		m.log.Warn("master: request refused", "minion", id, "err", err)
		return errorReply(badLoad)
	}

	cmd, _ := wire.OptString(load, "cmd")
	start := receivedAt(ctx)
	if cmd == "_pillar" {
		defer m.metrics.Request(cmd, start)
		// send_private: a clear reply of its own, sealed for the minion.
		encAlgo, err1 := crypto.ParseEncAlgo(req.EncAlgo)
		sigAlgo, err2 := crypto.ParseSigAlgo(req.SigAlgo)
		if err := errors.Join(err1, err2); err != nil {
			return errorReply(badLoad)
		}
		raw, err := m.pillar(ctx, id, nonce, load, encAlgo, sigAlgo)
		if err != nil {
			m.log.Error("master: answering _pillar", "minion", id, "err", err)
			return errorReply("Some exception handling minion payload")
		}
		return raw
	}
	if req.Version < 2 {
		nonce = ""
	}
	if cmd == "_return" {
		// A return waits for the job cache's commit, not for the CPU: it
		// gives its worker back while it does (up to maxWaitingReturns).
		if reply, ok := m.returnSlots.replyLater(ctx); ok {
			go func() {
				defer m.returnSlots.release()
				m.returnLoad(ctx, id, load)
				reply(m.sealReply(c, nonce, nil))
				m.metrics.Request(cmd, start)
			}()
			return nil
		}
	}
	defer m.metrics.Request(cmd, start)
	return m.sealReply(c, nonce, m.aesCommand(ctx, cmd, id, load))
}

// sealReply is an AES command's answer: ret encrypted under the key the
// request came with, bound to its nonce, as one msgpack str.
func (m *Master) sealReply(c *crypto.Crypticle, nonce string, ret any) []byte {
	payload, err := wire.Marshal(ret)
	if err != nil {
		return errorReply("Some exception handling minion payload")
	}
	sealed, err := c.Seal(m.rand, nonce, payload)
	if err != nil {
		return errorReply("Some exception handling minion payload")
	}
	b, err := wire.Marshal(sealed)
	if err != nil {
		return errorReply("Some exception handling minion payload")
	}
	return b
}

// maxWaitingReturns bounds the returns waiting on the job cache beside the
// workers: past it, a return holds its worker, so a flood of returns
// slows its senders instead of growing the master.
const maxWaitingReturns = 4096

// slots is a counting semaphore for requests answered by ReplyLater.
type slots chan struct{}

// replyLater takes a slot and the request's deferred reply, or neither.
func (s slots) replyLater(ctx context.Context) (func([]byte), bool) {
	select {
	case s <- struct{}{}:
	default:
		return nil, false
	}
	reply, ok := transport.ReplyLater(ctx)
	if !ok {
		s.release()
	}
	return reply, ok
}

func (s slots) release() { <-s }

// checkTok verifies a minion's tok against its accepted key, reading the
// key only when its file changed since the tok last verified.
func (m *Master) checkTok(id string, tok []byte) error {
	if err := pki.ValidID(id); err != nil {
		return err
	}
	ver, err := m.keys.Version(pki.Accepted, id)
	if err != nil {
		return errors.New("no accepted key")
	}
	if m.toks.known(id, ver, tok) {
		return nil
	}
	pub, err := m.keys.Get(pki.Accepted, id)
	if err != nil {
		return errors.New("no accepted key")
	}
	return m.toks.verify(id, ver, pub, tok)
}

// aesCommand runs one AES command and returns what goes back to the
// minion. Unknown commands, and those Salt hides (a "__" prefix), get
// Salt's empty answer.
func (m *Master) aesCommand(ctx context.Context, cmd, id string, load map[string]any) any {
	switch {
	case strings.HasPrefix(cmd, "__"):
		return map[string]any{}
	case cmd == "_minion_event":
		m.minionEvent(ctx, id, load)
		return nil
	case cmd == "_return":
		m.returnLoad(ctx, id, load)
		return nil
	case cmd == "_master_opts":
		return m.masterOpts(load)
	}
	if ret, ok := m.files.Handle(ctx, cmd, id, load); ok {
		return ret
	}
	m.log.Info("master: unknown AES command", "minion", id, "cmd", cmd)
	return map[string]any{}
}

// minionEvent re-fires a minion's events on the master bus: a single event
// with the whole load as its data, or a batch with each event's own data
// (and a copy under pretag when one is set).
func (m *Master) minionEvent(ctx context.Context, id string, load map[string]any) {
	if list, ok := load["events"].([]any); ok {
		pretag, _ := wire.OptString(load, "pretag")
		for _, e := range list {
			ev, ok := e.(map[string]any)
			if !ok {
				continue
			}
			tag, _ := wire.OptString(ev, "tag")
			data, _ := ev["data"].(map[string]any)
			if tag == "" {
				continue
			}
			if data == nil {
				data = map[string]any{"data": ev["data"]}
			}
			m.fire(ctx, tag, data)
			if pretag != "" {
				m.fire(ctx, pretag+"/"+tag, data)
			}
		}
		return
	}
	tag, _ := wire.OptString(load, "tag")
	if tag == "" {
		m.log.Info("master: minion event without a tag", "minion", id)
		return
	}
	m.fire(ctx, tag, load)
}

// marshalOr encodes a clear command's answer, or Salt's error string.
func marshalOr(v any) []byte {
	b, err := wire.Marshal(v)
	if err != nil {
		return errorReply("Server-side exception handling payload")
	}
	return b
}

func jidValid(s string) bool { return jid.Valid(s) }

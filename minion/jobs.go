package minion

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/internal/target"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/transport/wire"
)

// topics are the minion's subscriptions: everything, or with
// zmq_filtering "broadcast" and the hex SHA-1 of its id.
func (m *Minion) topics() [][]byte {
	if !m.cfg.ZMQFiltering {
		return nil
	}
	sum := sha1.Sum([]byte(m.cfg.ID))
	return [][]byte{[]byte("broadcast"), []byte(hex.EncodeToString(sum[:]))}
}

// dispatch checks a publication's load and, if the minion is targeted,
// starts the job on its own goroutine: a slow job never holds up the next
// publication.
func (m *Minion) dispatch(ctx context.Context, load map[string]any) {
	for _, k := range []string{"tgt", "jid", "fun", "arg"} {
		if _, ok := load[k]; !ok {
			m.log.Warn("minion: dropping a publication without "+k, "jid", load["jid"])
			return
		}
	}
	jid, _ := wire.OptString(load, "jid")
	fun, _ := wire.OptString(load, "fun")
	arg, _ := load["arg"].([]any)
	tgtType, _ := wire.OptString(load, "tgt_type")
	delim, _ := wire.OptString(load, "delimiter")
	ok, err := target.Match(load["tgt"], tgtType, target.Data{ID: m.cfg.ID, Grains: m.grains(), Pillar: m.pillar()},
		target.Options{Delimiter: delim})
	if err != nil {
		m.log.Warn("minion: a publication's target does not parse; not running it", "jid", jid, "err", err)
		return
	}
	if !ok {
		return
	}
	tgtStr, _ := load["tgt"].(string)
	user, _ := wire.OptString(load, "user")
	ret, _ := wire.OptString(load, "ret")
	job := modules.Job{JID: jid, Fun: fun, Tgt: tgtStr, TgtAny: load["tgt"], TgtType: tgtType, User: user, Ret: ret, Arg: arg, Start: time.Now()}
	m.log.Info("minion: running job", "jid", jid, "fun", fun)
	m.jobsWG.Add(1)
	go func() {
		defer m.jobsWG.Done()
		jctx, done := m.tracker.Start(ctx, job)
		res := m.registry.Run(jctx, fun, arg, job, m.env)
		m.metrics.Job(res.Success)
		done()
		m.sendReturn(ctx, job, res)
	}()
}

// sendReturn delivers a job's return with a _return request, as Salt's
// minion does: return_retry_tries tries, each with a timeout drawn from
// [return_retry_timer, return_retry_timer_max]. One that still fails goes
// to the spool.
func (m *Minion) sendReturn(ctx context.Context, job modules.Job, res modules.Result) {
	load := wire.Map{
		{Key: "cmd", Value: "_return"}, {Key: "id", Value: m.cfg.ID},
		{Key: "success", Value: res.Success}, {Key: "return", Value: res.Return},
		{Key: "retcode", Value: int64(res.Retcode)}, {Key: "jid", Value: job.JID},
		{Key: "fun", Value: job.Fun}, {Key: "fun_args", Value: anyOrEmpty(job.Arg)},
	}
	if job.User != "" {
		load = append(load, wire.Field{Key: "user", Value: job.User})
	}
	if !res.Success {
		load = append(load, wire.Field{Key: "out", Value: "nested"})
	}
	load = append(load, wire.Field{Key: "_stamp", Value: time.Now().UTC().Format(events.StampFormat)})
	var err error
	for try := range max(m.cfg.ReturnRetryTries, 1) {
		stale := m.currentCreds()
		tctx, cancel := context.WithTimeout(ctx, m.returnTimeout())
		_, err = m.requestTries(tctx, load, 1)
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		if errors.Is(err, errBadLoad) {
			m.log.Info("minion: the master refused our return; authenticating again", "jid", job.JID)
			if err := m.reauth(ctx, stale); err != nil {
				break
			}
		}
		m.log.Warn("minion: sending a return failed", "jid", job.JID, "try", try+1, "err", err)
	}
	if err != nil {
		// The master is away (or we are stopping): keep it for later.
		m.spoolReturn(load, job.JID, err)
		return
	}
	m.kickSpool()
}

// returnTimeout is one try's timeout for a return, drawn as Salt's minion
// draws it from [return_retry_timer, return_retry_timer_max].
func (m *Minion) returnTimeout() time.Duration {
	lo, hi := m.cfg.ReturnRetryTimer, max(m.cfg.ReturnRetryTimer, m.cfg.ReturnRetryTimerMax)
	return time.Duration(lo+mrand.IntN(hi-lo+1)) * time.Second
}

// refreshPillar sends _pillar with our grains (the master caches them for
// targeting) and checks the answer, Salt's send_private form: a one-off
// key OAEP-encrypted to us, under it the pillar signed by the master
// together with that key and our nonce.
func (m *Minion) refreshPillar(ctx context.Context) error {
	grains := m.grains()
	nonce := newNonce(m.rand)
	c := m.currentCreds()
	load := wire.Map{
		{Key: "id", Value: m.cfg.ID}, {Key: "grains", Value: grains}, {Key: "saltenv", Value: nil},
		{Key: "pillarenv", Value: nil}, {Key: "pillar_override", Value: map[string]any{}},
		{Key: "extra_minion_data", Value: map[string]any{}}, {Key: "ver", Value: "2"}, {Key: "cmd", Value: "_pillar"},
	}
	raw, err := m.rawRequest(ctx, load, nonce, m.cfg.RequestChannelTries)
	if err != nil {
		return err
	}
	reply, err := wire.UnmarshalMap(raw)
	if err != nil {
		return fmt.Errorf("minion: unreadable _pillar reply: %w", err)
	}
	keyCT, err1 := wire.Bytes(reply, "key")
	sealed, err2 := wire.Bytes(reply, "pillar")
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("minion: _pillar reply: %w", err)
	}
	key, err := crypto.Decrypt(m.priv, m.encAlgo, keyCT)
	if err != nil {
		return fmt.Errorf("minion: _pillar key: %w", err)
	}
	pc, err := crypto.NewCrypticle(string(key))
	if err != nil {
		return err
	}
	plain, err := pc.Open(sealed, "")
	if err != nil {
		return fmt.Errorf("minion: _pillar does not decrypt: %w", err)
	}
	signed, err := wire.UnmarshalMap(plain)
	if err != nil {
		return err
	}
	data, err1 := wire.Bytes(signed, "data")
	sig, err2 := wire.Bytes(signed, "sig")
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("minion: _pillar reply: %w", err)
	}
	if err := crypto.Verify(c.masterPub, m.sigAlgo, data, sig); err != nil {
		return fmt.Errorf("minion: the pillar's signature does not verify: %w", err)
	}
	inner, err := wire.UnmarshalMap(data)
	if err != nil {
		return err
	}
	if got, _ := wire.Bytes(inner, "key"); string(got) != string(keyCT) {
		return errors.New("minion: the pillar is not bound to the key it came with")
	}
	if got, _ := wire.OptString(inner, "nonce"); got != nonce {
		return errors.New("minion: the pillar does not carry our nonce")
	}
	pillar, _ := inner["pillar"].(map[string]any)
	if pillar == nil {
		pillar = map[string]any{}
	}
	m.mu.Lock()
	m.pillarData = pillar
	m.mu.Unlock()
	return nil
}

func (m *Minion) grains() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.grainsData
}

func (m *Minion) pillar() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pillarData
}

func anyOrEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

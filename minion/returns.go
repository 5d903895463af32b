package minion

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/brine-project/brine/minion/spool"
	"github.com/brine-project/brine/transport/wire"
)

// spoolDrainEvery is how often the spool is tried without a reason to
// think the master is back: a safety net under the kicks.
const spoolDrainEvery = time.Minute

// openSpool opens <cachedir>/spool/returns with return_spool_size as its
// budget; nil when that is 0 (no spool).
func (m *Minion) openSpool() error {
	if m.cfg.ReturnSpoolSize <= 0 {
		return nil
	}
	s, err := spool.Open(filepath.Join(m.cfg.CacheDir, "spool", "returns"), m.cfg.ReturnSpoolSize)
	if err != nil {
		return err
	}
	m.spool = s
	m.spoolKick = make(chan struct{}, 1)
	return nil
}

// spoolReturn keeps a return the master could not take, to go out when it
// can.
func (m *Minion) spoolReturn(load wire.Map, jid string, cause error) {
	if m.spool == nil {
		m.log.Error("minion: the return was not delivered", "jid", jid, "err", cause)
		return
	}
	b, err := wire.Marshal(load)
	if err == nil {
		err = m.spool.Put(b)
	}
	if err != nil {
		m.log.Error("minion: the return was not delivered and cannot be spooled", "jid", jid, "err", cause, "spool_err", err)
		return
	}
	m.log.Warn("minion: the return was not delivered; spooled until the master takes it", "jid", jid, "err", cause)
}

// kickSpool asks the drainer to try the spool now: the master answered.
func (m *Minion) kickSpool() {
	if m.spool == nil || m.spool.Size() == 0 {
		return
	}
	select {
	case m.spoolKick <- struct{}{}:
	default:
	}
}

// drainSpool sends spooled returns, oldest first, whenever kicked (and
// every spoolDrainEvery), until ctx ends. A return that fails stops the
// round: the master is away again.
func (m *Minion) drainSpool(ctx context.Context) {
	t := time.NewTicker(spoolDrainEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.spoolKick:
		case <-t.C:
		}
		for ctx.Err() == nil {
			entries, err := m.spool.Oldest(32)
			if err != nil {
				m.log.Warn("minion: reading the return spool", "err", err)
			}
			if len(entries) == 0 {
				break
			}
			if !m.sendSpooled(ctx, entries) {
				break
			}
		}
	}
}

// sendSpooled sends entries; false when one could not be delivered.
func (m *Minion) sendSpooled(ctx context.Context, entries []spool.Entry) bool {
	for _, e := range entries {
		v, err := wire.UnmarshalOrdered(e.Data)
		load, ok := v.(wire.Map)
		if err != nil || !ok {
			m.log.Error("minion: dropping an unreadable spooled return", "file", e.Name, "err", err)
			m.spool.Remove(e.Name)
			continue
		}
		tctx, cancel := context.WithTimeout(ctx, m.returnTimeout())
		_, err = m.requestTries(tctx, load, 1)
		cancel()
		if err != nil {
			if errors.Is(err, errBadLoad) {
				m.reauth(ctx, m.currentCreds())
			}
			m.log.Info("minion: the master does not take spooled returns yet", "err", err)
			return false
		}
		m.spool.Remove(e.Name)
		m.log.Info("minion: delivered a spooled return", "file", e.Name)
	}
	return true
}

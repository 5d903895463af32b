package minion

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"

	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/transport"
)

// busPaths are the minion's own event bus sockets in sock_dir, named as
// Salt names them: minion_event_<first 10 hex of sha256(id)>_{pub,pull}.ipc.
func busPaths(sockDir, id string) (pub, pull string) {
	sum := sha256.Sum256([]byte(id))
	base := filepath.Join(sockDir, "minion_event_"+hex.EncodeToString(sum[:])[:10])
	return base + "_pub.ipc", base + "_pull.ipc"
}

// openBus binds the minion's event bus. Whatever is fired into it is
// re-published for local subscribers, and the minion acts on the tags
// that ask it to: module_refresh, pillar_refresh, grains_refresh, and
// fire_master (forwarded to the master).
func (m *Minion) openBus() error {
	pub, pull := busPaths(m.cfg.SockDir, m.cfg.ID)
	var err error
	m.bus, err = transport.NewPublisher(transport.PublisherConfig{
		Pull: "ipc://" + pull,
		Pub:  "ipc://" + pub,
		Transform: func(msg [][]byte) ([][][]byte, error) {
			if ev, err := events.Decode(msg[0]); err == nil {
				select {
				case m.busEvents <- ev:
				default:
					m.log.Warn("minion: event bus handler busy; dropping an action", "tag", ev.Tag)
				}
			}
			return [][][]byte{msg}, nil
		},
		Options: transport.Options{Logger: m.log},
	})
	if err != nil {
		return err
	}
	m.local = events.NewLocalFirer(m.bus)
	return nil
}

// handleBusEvent acts on an event fired into the minion's bus.
func (m *Minion) handleBusEvent(ctx context.Context, ev events.Event) {
	switch ev.Tag {
	case "module_refresh":
		m.refresh(ctx, "modules")
	case "pillar_refresh":
		m.refresh(ctx, "pillar")
	case "grains_refresh":
		m.refresh(ctx, "grains")
	case "fire_master":
		// Salt's form: {"data": ..., "tag": ..., "events": [...], "pretag": ...}
		if list, ok := ev.Data["events"].([]any); ok {
			for _, e := range list {
				if em, ok := e.(map[string]any); ok {
					m.forward(ctx, em)
				}
			}
			return
		}
		m.forward(ctx, ev.Data)
	}
}

// forward sends one fire_master event on to the master.
func (m *Minion) forward(ctx context.Context, e map[string]any) {
	tag, _ := e["tag"].(string)
	data, _ := e["data"].(map[string]any)
	if tag == "" {
		return
	}
	if data == nil {
		data = map[string]any{"data": e["data"]}
	}
	if err := m.fireMaster(ctx, tag, data); err != nil {
		m.log.Warn("minion: forwarding an event to the master", "tag", tag, "err", err)
	}
}

// fireLocal fires an event on the minion's own bus (nil bus: brine-call).
func (m *Minion) fireLocal(ctx context.Context, tag string, data map[string]any) error {
	if m.local == nil {
		return nil
	}
	return m.local.Fire(ctx, tag, data)
}

// refresh re-reads grains (and tells the master, which targets by them),
// pillar, or modules.
func (m *Minion) refresh(ctx context.Context, what string) error {
	switch what {
	case "grains":
		g := m.collectGrains()
		m.mu.Lock()
		m.grainsData = g
		m.mu.Unlock()
		if m.req != nil {
			return m.refreshPillar(ctx)
		}
		return nil
	case "pillar":
		if m.req == nil {
			return nil
		}
		err := m.refreshPillar(ctx)
		if err == nil {
			m.fireLocal(ctx, "minion/refresh/"+m.cfg.ID, map[string]any{"complete": true})
		}
		return err
	case "modules":
		// Brine's modules are compiled in: nothing to reload.
		return nil
	}
	return nil
}

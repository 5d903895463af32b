package minion

import (
	"context"

	"github.com/brine-project/brine/minion/metrics"
)

// serveMetrics serves the minion's metrics while metrics_port is set,
// until the returned stop is called; Run calls it first, before anything
// that records. A port it cannot bind is logged, not fatal: running jobs
// does not depend on being watched, and a minion that would not start
// over its metrics port is worse than one without metrics.
func (m *Minion) serveMetrics(ctx context.Context) (stop func()) {
	if m.cfg.MetricsPort == 0 {
		return func() {}
	}
	ln, err := metrics.Listen(m.cfg.MetricsInterface, m.cfg.MetricsPort)
	if err != nil {
		m.log.Error("minion: metrics_port: serving no metrics", "err", err)
		return func() {}
	}
	var spoolBytes func() int64
	if m.spool != nil {
		spoolBytes = m.spool.Size
	}
	m.metrics = metrics.New(spoolBytes)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := m.metrics.Serve(ctx, ln, m.log); err != nil {
			m.log.Error("minion: serving metrics", "err", err)
		}
	}()
	return func() { cancel(); <-done }
}

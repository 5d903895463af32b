package master

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/brine-project/brine/master/metrics"
	"github.com/brine-project/brine/transport"
)

// openMetrics binds the metrics listener when metrics_port is set, as New
// binds the master's other ports: a port in use fails the start.
func (m *Master) openMetrics() error {
	if m.cfg.MetricsPort == 0 {
		return nil
	}
	ln, err := metrics.Listen(m.cfg.MetricsInterface, m.cfg.MetricsPort)
	if err != nil {
		return fmt.Errorf("master: metrics_port: %w", err)
	}
	m.metricsLn = ln
	m.metrics = metrics.New(metrics.Gauges{
		ConnectedMinions: m.connectedMinions,
		PendingRequests:  m.server.Pending,
		JobCacheBytes:    m.jobCacheBytes,
	})
	return nil
}

// MetricsAddr returns the metrics listener's address; nil when
// metrics_port is 0.
func (m *Master) MetricsAddr() net.Addr {
	if m.metricsLn == nil {
		return nil
	}
	return m.metricsLn.Addr()
}

// connectedMinions counts the peers subscribed on the publish port, which
// the publish daemon holds when there is one.
func (m *Master) connectedMinions() int {
	if m.daemon != nil {
		return m.daemon.subscribers()
	}
	return m.publisher.Subscribers()
}

// jobCacheBytes is the size of the job cache's file (0 with job_cache
// off, whatever an earlier run left).
func (m *Master) jobCacheBytes() int64 {
	if !m.cfg.JobCache {
		return 0
	}
	fi, err := os.Stat(filepath.Join(m.cfg.CacheDir, jobCacheFile))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// receivedAt is when the request being handled arrived: a request's
// latency includes its wait for a worker.
func receivedAt(ctx context.Context) time.Time {
	if at, ok := transport.Received(ctx); ok {
		return at
	}
	return time.Now()
}

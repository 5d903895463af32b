// Package metrics is the master's Prometheus metrics (brine_master_*,
// with Go's runtime and process metrics), served over HTTP at /metrics
// when metrics_port is set.
//
// They live in a registry of their own, never Prometheus's global one, so
// that two masters in one process keep their counts apart. The master
// holds a *Master that is nil when metrics_port is 0 (the default); a nil
// one records nothing, so each hook in the master is one call with no
// condition around it.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Auth results, the result label of brine_master_auths_total: Salt's
// salt/auth act for the answers it fires an event for, and Brine's own
// for the others.
const (
	AuthAccept  = "accept"  // authenticated
	AuthPend    = "pend"    // the key is pending (new, or still unaccepted)
	AuthReject  = "reject"  // the key is rejected
	AuthDenied  = "denied"  // a different key for a known id
	AuthFull    = "full"    // max_minions or max_pending_keys reached
	AuthRetry   = "retry"   // queued past auth_queue_timeout: told to come back
	AuthInvalid = "invalid" // a malformed request: bad id, key, nonce or algorithm
	AuthError   = "error"   // the master failed (key store, crypto)
)

var authResults = []string{AuthAccept, AuthPend, AuthReject, AuthDenied, AuthFull, AuthRetry, AuthInvalid, AuthError}

// requestCmds are the commands the latency histogram names; any other
// (a typo, a hostile peer's junk) is counted as "other", so that the cmd
// label cannot grow without bound.
var requestCmds = map[string]bool{
	// Clear commands: minions' _auth and local clients'.
	"_auth": true, "ping": true, "publish": true, "runner": true,
	// AES commands from minions.
	"_return": true, "_minion_event": true, "_pillar": true, "_master_opts": true,
	"_serve_file": true, "_file_hash": true, "_file_hash_and_stat": true, "_file_find": true,
	"_file_list": true, "_file_list_emptydirs": true, "_dir_list": true, "_symlink_list": true,
	"_file_envs": true, "_file_recv": true,
}

// requestBuckets span a ping answered at once (~100µs) to an _auth or a
// publish queued behind an auth storm (seconds).
var requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Gauges are read at each scrape. Each must be safe to call from
// the scraping goroutine; a nil one leaves its gauge out.
type Gauges struct {
	// ConnectedMinions is how many peers are subscribed on the publish
	// port.
	ConnectedMinions func() int
	// PendingRequests is how many requests on the ret port were received
	// and not yet answered.
	PendingRequests func() int
	// JobCacheBytes is the size of the job cache on disk.
	JobCacheBytes func() int64
}

// Master is the master's metrics. A nil *Master records nothing. Its
// methods are safe for concurrent use.
type Master struct {
	reg          *prometheus.Registry
	auths        *prometheus.CounterVec
	publications prometheus.Counter
	returns      prometheus.Counter
	requests     *prometheus.HistogramVec
}

// New returns the master's metrics in a registry of their own, with Go's
// runtime and process collectors.
func New(g Gauges) *Master {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Master{
		reg: reg,
		auths: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brine_master_auths_total",
			Help: "Minion authentication requests answered, by result: accept, pend, reject, denied, full, retry, invalid, error.",
		}, []string{"result"}),
		publications: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "brine_master_publications_total",
			Help: "Publications the master encrypted and sent on the publish port (jobs, and loads pushed to publish_pull.ipc).",
		}),
		returns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "brine_master_returns_total",
			Help: "Job returns taken from minions (duplicates, invalid jids and returns for unknown jobs are not counted).",
		}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "brine_master_request_duration_seconds",
			Help:    "Time from a ret port request's arrival to its answer, queueing for a worker included, by command (unknown commands as other).",
			Buckets: requestBuckets,
		}, []string{"cmd"}),
	}
	// Every result from the start, at 0: a rate over a series that
	// appears with its first increment misses that increment.
	for _, r := range authResults {
		m.auths.WithLabelValues(r)
	}
	m.reg.MustRegister(m.auths, m.publications, m.returns, m.requests)
	gauge(m.reg, "brine_master_connected_minions", "Peers (minions) subscribed on the publish port.", g.ConnectedMinions)
	gauge(m.reg, "brine_master_pending_requests", "Ret port requests received and not yet answered: waiting for a worker, being handled, or a return waiting on the job cache.", g.PendingRequests)
	gauge(m.reg, "brine_master_job_cache_bytes", "Size of the job cache (cachedir/jobs.db) on disk; 0 with job_cache off.", g.JobCacheBytes)
	return m
}

// gauge registers a GaugeFunc reading f, unless f is nil.
func gauge[N int | int64](reg *prometheus.Registry, name, help string, f func() N) {
	if f == nil {
		return
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(f()) }))
}

// Listen binds the metrics listener on host:port (metrics_interface,
// metrics_port).
func Listen(host string, port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
}

// Serve serves the metrics at /metrics on ln until ctx ends, then closes
// ln.
func (m *Master) Serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: promLogger{log}}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("master: serving metrics", "addr", ln.Addr().String())
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// promLogger passes promhttp's errors (a collector that failed during a
// scrape) to the master's log.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn("master: metrics: " + fmt.Sprint(v...)) }

// Auth counts one answered _auth; result is one of the Auth constants.
func (m *Master) Auth(result string) {
	if m != nil {
		m.auths.WithLabelValues(result).Inc()
	}
}

// Publication counts one publication sent.
func (m *Master) Publication() {
	if m != nil {
		m.publications.Inc()
	}
}

// Return counts one return taken.
func (m *Master) Return() {
	if m != nil {
		m.returns.Inc()
	}
}

// Request records a request for cmd received at start and answered now.
func (m *Master) Request(cmd string, start time.Time) {
	if m == nil {
		return
	}
	if !requestCmds[cmd] {
		cmd = "other"
	}
	m.requests.WithLabelValues(cmd).Observe(time.Since(start).Seconds())
}

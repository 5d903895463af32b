// Package metrics is the minion's metrics (brine_minion_*, and a few of
// Go's runtime and process metrics) in Prometheus's text format, served
// over HTTP at /metrics when metrics_port is set.
//
// It writes the format itself instead of linking Prometheus's client
// library, as the master does: that library and the protobuf runtime it
// brings add about 5 MB (half again) to brine-minion, a binary kept small
// for ARM boards. The runtime and process metrics carry the client
// library's names, so one dashboard reads master and minions alike.
//
// The minion holds a *Minion that is nil when metrics_port is 0 (the
// default); a nil one records nothing, so each hook in the minion is one
// call with no condition around it.
package metrics

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// contentType is Prometheus's text exposition format.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// Minion is the minion's metrics. A nil *Minion records nothing. Its
// methods are safe for concurrent use.
type Minion struct {
	jobsOK, jobsFailed, reconnects atomic.Uint64
	spoolBytes                     func() int64 // nil: no spool
}

// New returns the minion's metrics. spoolBytes reads the size of the
// return spool at each scrape; nil (return_spool_size 0) leaves that
// gauge out.
func New(spoolBytes func() int64) *Minion {
	return &Minion{spoolBytes: spoolBytes}
}

// Job counts one job run to its end.
func (m *Minion) Job(success bool) {
	switch {
	case m == nil:
	case success:
		m.jobsOK.Add(1)
	default:
		m.jobsFailed.Add(1)
	}
}

// Reconnect counts the publish link coming back after a drop.
func (m *Minion) Reconnect() {
	if m != nil {
		m.reconnects.Add(1)
	}
}

// sample is one series of a family: its labels as written between the
// braces ("" for none) and its value.
type sample struct {
	labels string
	value  float64
}

// WriteText writes every metric in Prometheus's text format.
func (m *Minion) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	family(bw, "brine_minion_jobs_total", "counter",
		"Jobs this minion ran, by result: success, or failure (the function failed or is unknown).",
		sample{`result="success"`, float64(m.jobsOK.Load())}, sample{`result="failure"`, float64(m.jobsFailed.Load())})
	family(bw, "brine_minion_reconnects_total", "counter",
		"Times the publish link to the master came back after a drop.",
		sample{"", float64(m.reconnects.Load())})
	if m.spoolBytes != nil {
		family(bw, "brine_minion_return_spool_bytes", "gauge",
			"Returns spooled on disk until the master takes them.",
			sample{"", float64(m.spoolBytes())})
	}
	writeRuntime(bw)
	return bw.Flush()
}

// writeRuntime writes the Go runtime and process metrics, under the names
// Prometheus's client library gives them.
func writeRuntime(w io.Writer) {
	family(w, "go_goroutines", "gauge", "Number of goroutines that currently exist.",
		sample{"", float64(runtime.NumGoroutine())})
	heap := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(heap)
	if heap[0].Value.Kind() == rtmetrics.KindUint64 {
		family(w, "go_memstats_heap_alloc_bytes", "gauge", "Number of heap bytes allocated and currently in use.",
			sample{"", float64(heap[0].Value.Uint64())})
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		family(w, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
			sample{"", cpu.Seconds()})
	}
	if rss, ok := residentBytes(); ok {
		family(w, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", sample{"", float64(rss)})
	}
}

// residentBytes reads the resident set size from /proc/self/statm (its
// second field, in pages); ok is false off Linux.
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}

// family writes one metric family: its HELP and TYPE lines and samples.
// Help texts here are constants free of the backslashes and newlines the
// format would need escaped.
func family(w io.Writer, name, typ, help string, samples ...sample) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	for _, s := range samples {
		v := strconv.FormatFloat(s.value, 'g', -1, 64)
		if s.labels == "" {
			fmt.Fprintf(w, "%s %s\n", name, v)
		} else {
			fmt.Fprintf(w, "%s{%s} %s\n", name, s.labels, v)
		}
	}
}

// Listen binds the metrics listener on host:port (metrics_interface,
// metrics_port).
func Listen(host string, port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
}

// Serve answers GET /metrics on ln until ctx ends, then closes ln.
//
// It speaks just enough HTTP/1.1 for a scraper (one request a
// connection, then close) rather than use net/http's server, which with
// its HTTP/2 half adds about 2.4 MB to brine-minion.
func (m *Minion) Serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	log.Info("minion: serving metrics", "addr", ln.Addr().String())
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Go(func() { m.answer(c) })
	}
}

// Bounds on one scrape: a client that sends more, or takes longer, is cut
// off.
const (
	maxRequestHead = 8 << 10
	requestTimeout = 10 * time.Second
)

// answer reads one request's head and answers it: the metrics for GET
// /metrics, 404 for any other path, 405 for any other method.
func (m *Minion) answer(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(requestTimeout))
	r := bufio.NewReader(io.LimitReader(c, maxRequestHead))
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	for { // the headers: nothing in them changes the answer
		h, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if h == "\r\n" || h == "\n" {
			break
		}
	}
	method, target, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	path, _, _ := strings.Cut(target, " ")
	path, _, _ = strings.Cut(path, "?")
	var body bytes.Buffer
	status, ctype := "200 OK", contentType
	switch {
	case method != "GET":
		status, ctype = "405 Method Not Allowed", "text/plain; charset=utf-8"
		body.WriteString("GET /metrics\n")
	case path != "/metrics":
		status, ctype = "404 Not Found", "text/plain; charset=utf-8"
		body.WriteString("GET /metrics\n")
	default:
		m.WriteText(&body)
	}
	fmt.Fprintf(c, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", status, ctype, body.Len())
	c.Write(body.Bytes())
}

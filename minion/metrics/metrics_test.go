package metrics

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// What WriteText writes parses as Prometheus's text format, with each
// family typed and each count where it was recorded; a nil *Minion takes
// the hooks without failing.
func TestWriteText(t *testing.T) {
	var off *Minion
	off.Job(true)
	off.Reconnect()

	m := New(func() int64 { return 4096 })
	m.Job(true)
	m.Job(true)
	m.Job(false)
	m.Reconnect()
	var b bytes.Buffer
	if err := m.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&b)
	if err != nil {
		t.Fatalf("not Prometheus's text format: %v\n%s", err, b.String())
	}
	for _, tc := range []struct {
		name, label string
		typ         string
		want        float64
	}{
		{"brine_minion_jobs_total", "success", "COUNTER", 2},
		{"brine_minion_jobs_total", "failure", "COUNTER", 1},
		{"brine_minion_reconnects_total", "", "COUNTER", 1},
		{"brine_minion_return_spool_bytes", "", "GAUGE", 4096},
	} {
		f := fams[tc.name]
		if f == nil || f.GetType().String() != tc.typ {
			t.Errorf("%s: missing or not a %s: %v", tc.name, tc.typ, f)
			continue
		}
		found := false
		for _, s := range f.Metric {
			if tc.label != "" && (len(s.Label) != 1 || s.Label[0].GetValue() != tc.label) {
				continue
			}
			found = true
			got := s.GetCounter().GetValue() + s.GetGauge().GetValue()
			if got != tc.want {
				t.Errorf("%s %s = %v, want %v", tc.name, tc.label, got, tc.want)
			}
		}
		if !found {
			t.Errorf("%s: no series %q", tc.name, tc.label)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if f := fams[name]; f == nil || len(f.Metric) != 1 {
			t.Errorf("%s is missing", name)
		}
	}

	// Without a spool, no spool gauge.
	b.Reset()
	New(nil).WriteText(&b)
	if bytes.Contains(b.Bytes(), []byte("brine_minion_return_spool_bytes")) {
		t.Errorf("a minion without a spool reports its size:\n%s", b.String())
	}
}

// Serve answers a real HTTP client: the metrics at GET /metrics, 404 and
// 405 otherwise; it stops, closing its listener, when ctx ends.
func TestServe(t *testing.T) {
	ln, err := Listen("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	m := New(nil)
	m.Job(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, ln, slog.New(slog.DiscardHandler)) }()
	base := "http://" + ln.Addr().String()
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		name, method, path string
		status             int
		has                string
	}{
		{"metrics", "GET", "/metrics", 200, `brine_minion_jobs_total{result="success"} 1`},
		{"metrics with a query", "GET", "/metrics?x=1", 200, "brine_minion_reconnects_total 0"},
		{"another path", "GET", "/", 404, "GET /metrics"},
		{"another method", "POST", "/metrics", 405, "GET /metrics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader("body"))
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != tc.status || !strings.Contains(string(b), tc.has) {
				t.Fatalf("%s %s: %d %v\n%s", tc.method, tc.path, resp.StatusCode, err, b)
			}
			if tc.status == 200 && resp.Header.Get("Content-Type") != contentType {
				t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
	hc.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("the listener still accepts after Serve returned")
	}
}

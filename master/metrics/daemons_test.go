package metrics_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/brine-project/brine/client"
	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/internal/proctest"
	"github.com/brine-project/brine/master"
	"github.com/brine-project/brine/minion"
)

// publishDaemonArg makes the test binary a master's publish daemon, as
// brine-master --publish-daemon is: os.Args is [binary, publishDaemonArg,
// config dir].
const publishDaemonArg = "brine-test-publish-daemon"

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == publishDaemonArg {
		os.Exit(runPublishDaemon(os.Args[2]))
	}
	goleak.VerifyTestMain(m)
}

func runPublishDaemon(dir string) int {
	cfg, _, err := config.LoadMaster(dir)
	if err == nil {
		err = master.ServePublishDaemon(context.Background(), cfg, slog.New(slog.DiscardHandler), os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish daemon:", err)
		return 1
	}
	return 0
}

// run runs a daemon until the test ends, and fails the test if it does
// not stop cleanly.
func run(t *testing.T, name string, serve func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
}

// masterConfig writes and loads the configuration of a master on
// loopback, ports 0, auto_accept, the test master key, and extra; it
// returns it and its directory.
func masterConfig(t *testing.T, extra string) (*config.Master, string) {
	t.Helper()
	root := proctest.TempDir(t, "bmet")
	etc := filepath.Join(root, "etc")
	os.MkdirAll(etc, 0o700)
	conf := fmt.Sprintf("root_dir: %s\ninterface: 127.0.0.1\nret_port: 0\npublish_port: 0\nauto_accept: true\n%s", root, extra)
	if err := os.WriteFile(filepath.Join(etc, "master"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.LoadMaster(etc)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(cfg.PKIDir, 0o700)
	for _, f := range []string{"master.pem", "master.pub"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(cfg.PKIDir, f), b, 0o600)
	}
	return cfg, etc
}

// startMaster starts a master configured by masterConfig, in this process
// or, with daemon, with its publish port in a publish daemon of its own,
// as brine-master runs it.
func startMaster(t *testing.T, daemon bool, extra string) (*master.Master, *config.Master) {
	t.Helper()
	cfg, etc := masterConfig(t, extra)
	opts := master.Options{Logger: slog.New(slog.DiscardHandler)}
	if daemon {
		opts.PublishDaemon = []string{os.Args[0], publishDaemonArg, etc}
	}
	m, err := master.NewWith(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	run(t, "master", m.Run)
	return m, cfg
}

// startMinion starts minion id against m with a test key and returns once
// it is authenticated and subscribed.
func startMinion(t *testing.T, m *master.Master, id string, metricsPort int) {
	t.Helper()
	key, err := crypto.ReadPrivateKey(filepath.Join("..", "testdata", "minion-a.pem"))
	if err != nil {
		t.Fatal(err)
	}
	root := proctest.TempDir(t, "bmet")
	cfg := config.DefaultMinion()
	cfg.RootDir, cfg.ID, cfg.Master = root, id, "127.0.0.1"
	cfg.PKIDir, cfg.CacheDir, cfg.SockDir = filepath.Join(root, "pki"), filepath.Join(root, "cache"), filepath.Join(root, "sock")
	cfg.MasterPort = m.RetAddr().(*net.TCPAddr).Port
	cfg.PublishPort = m.PublishAddr().(*net.TCPAddr).Port
	cfg.MetricsPort = metricsPort
	ready := make(chan struct{})
	mn, err := minion.NewWith(&cfg, minion.Options{Key: key, Grains: map[string]any{"id": id}, NoBus: true,
		OnReady: func() { close(ready) }})
	if err != nil {
		t.Fatal(err)
	}
	run(t, "minion", mn.Run)
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the minion did not authenticate and subscribe within 30s")
	}
}

// ping publishes test.ping to id through a local client and waits for
// its return on the event bus.
func ping(t *testing.T, m *master.Master, cfg *config.Master, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The client's copy, with the port the master bound for ret_port 0.
	ccfg := *cfg
	ccfg.RetPort = m.RetAddr().(*net.TCPAddr).Port
	c, err := client.New(ctx, &ccfg, "salt/job/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pub, err := c.Publish(ctx, id, "glob", "test.ping", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for the return of %s: %v", pub.JID, err)
		}
		if ev.Tag == "salt/job/"+pub.JID+"/ret/"+id {
			return
		}
	}
}

// scrape GETs /metrics at addr and parses it.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	// A bound listener nobody serves accepts and never answers: time out.
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value is a series' value (a histogram's: its count of observations),
// the series named by name and label="value" pairs; ok is false when it
// is not there.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		have := make([]string, 0, len(m.Label))
		for _, l := range m.Label {
			have = append(have, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		if strings.Join(have, ",") != strings.Join(labels, ",") {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// expect is one series' expected value: exactly want, or at least want
// when atLeast is set.
type expect struct {
	name    string
	labels  []string
	want    float64
	atLeast bool
}

func check(t *testing.T, who string, fams map[string]*dto.MetricFamily, exps []expect) {
	t.Helper()
	for _, e := range exps {
		got, ok := value(fams, e.name, e.labels...)
		switch {
		case !ok:
			t.Errorf("%s: no series %s%v", who, e.name, e.labels)
		case e.atLeast && got < e.want:
			t.Errorf("%s: %s%v = %v, want at least %v", who, e.name, e.labels, got, e.want)
		case !e.atLeast && got != e.want:
			t.Errorf("%s: %s%v = %v, want %v", who, e.name, e.labels, got, e.want)
		}
	}
}

// waitValue scrapes addr until the series reads want: a gauge fed by a
// report that comes on its own schedule (the publish daemon's) has no
// event to wait on.
func waitValue(t *testing.T, addr, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, _ := value(scrape(t, addr), name)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %v, want %v", name, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A real master and minion, each with metrics_port set: the minion
// authenticates and answers a publish, and both daemons' /metrics show it.
func TestDaemonMetrics(t *testing.T) {
	for _, tc := range []struct {
		name   string
		daemon bool
	}{
		{"publish port in process", false},
		{"publish daemon", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, cfg := startMaster(t, tc.daemon, fmt.Sprintf("metrics_port: %d\n", proctest.FreePort(t)))
			if m.MetricsAddr() == nil {
				t.Fatal("metrics_port is set but the master has no metrics listener")
			}
			addr := m.MetricsAddr().String()
			minionPort := proctest.FreePort(t)
			startMinion(t, m, "web-1", minionPort)
			minionAddr := fmt.Sprintf("127.0.0.1:%d", minionPort)
			ping(t, m, cfg, "web-1")

			waitValue(t, addr, "brine_master_connected_minions", 1)
			check(t, "master", scrape(t, addr), []expect{
				{name: "brine_master_auths_total", labels: []string{`result="accept"`}, want: 1, atLeast: true},
				{name: "brine_master_auths_total", labels: []string{`result="reject"`}, want: 0},
				{name: "brine_master_auths_total", labels: []string{`result="invalid"`}, want: 0},
				{name: "brine_master_publications_total", want: 1},
				{name: "brine_master_returns_total", want: 1},
				{name: "brine_master_request_duration_seconds", labels: []string{`cmd="_auth"`}, want: 1, atLeast: true},
				{name: "brine_master_request_duration_seconds", labels: []string{`cmd="_pillar"`}, want: 1, atLeast: true},
				{name: "brine_master_request_duration_seconds", labels: []string{`cmd="publish"`}, want: 1},
				{name: "brine_master_request_duration_seconds", labels: []string{`cmd="_return"`}, want: 1},
				{name: "brine_master_request_duration_seconds", labels: []string{`cmd="_minion_event"`}, want: 1, atLeast: true},
				{name: "brine_master_job_cache_bytes", want: 1, atLeast: true},
				{name: "brine_master_pending_requests", want: 0},
				{name: "go_goroutines", want: 1, atLeast: true},
				{name: "process_resident_memory_bytes", want: 1, atLeast: true},
			})
			check(t, "minion", scrape(t, minionAddr), []expect{
				{name: "brine_minion_jobs_total", labels: []string{`result="success"`}, want: 1},
				{name: "brine_minion_jobs_total", labels: []string{`result="failure"`}, want: 0},
				{name: "brine_minion_reconnects_total", want: 0},
				{name: "brine_minion_return_spool_bytes", want: 0},
				{name: "go_goroutines", want: 1, atLeast: true},
			})
		})
	}
}

// metrics_port 0, the default: no listener, and the daemons' hooks, on a
// nil *Master and *Minion, record nothing and do not fail.
func TestMetricsOffByDefault(t *testing.T) {
	m, cfg := startMaster(t, false, "")
	if a := m.MetricsAddr(); a != nil {
		t.Fatalf("metrics_port is 0 but the master listens on %s", a)
	}
	startMinion(t, m, "web-1", 0)
	ping(t, m, cfg, "web-1")
}

// The master's metrics listener is bound by New, so that a port in use
// fails the start, and closed when Run returns.
func TestMasterMetricsListener(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg, _ := masterConfig(t, fmt.Sprintf("metrics_port: %d\n", taken.Addr().(*net.TCPAddr).Port))
	if _, err := master.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "metrics_port") {
		t.Fatalf("New with metrics_port in use: %v, want an error naming metrics_port", err)
	}

	cfg, _ = masterConfig(t, fmt.Sprintf("metrics_port: %d\n", proctest.FreePort(t)))
	m, err := master.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	addr := m.MetricsAddr().String()
	scrape(t, addr)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("the metrics listener %s still accepts after Run returned", addr)
	}
}

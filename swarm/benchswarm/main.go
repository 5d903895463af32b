// Command benchswarm measures a Brine master under a swarm of minions and
// prints the figures of issue 6 (and writes them as JSON): `make
// bench-swarm N=1000`. It runs the built binaries in bin/: brine-master,
// brine-swarm (split over several processes when one cannot hold enough
// descriptors), brine-minion and brine.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/brine-project/brine/client"
	"github.com/brine-project/brine/config"
)

// Figures are one run's measurements.
type Figures struct {
	N                  int     `json:"n"`
	SwarmProcesses     int     `json:"swarm_processes"`
	AuthStormSeconds   float64 `json:"auth_storm_s"`
	AuthPerSecond      float64 `json:"auth_per_s"`
	PingP50Ms          float64 `json:"ping_p50_ms"`
	PingP99Ms          float64 `json:"ping_p99_ms"`
	ReturnsPerSecond   float64 `json:"returns_per_s"`
	ReturnsLost        int     `json:"returns_lost"`
	MasterRSSIdleKiB   int     `json:"master_rss_idle_kib"`
	MasterKiBPerMinion float64 `json:"master_kib_per_minion"`
	SwarmKiBPerMinion  float64 `json:"swarm_kib_per_minion"`
	GoroutinesPerConn  float64 `json:"master_goroutines_per_connection"`
}

// Single are the figures measured once, independent of N.
type Single struct {
	MinionIdleRSSKiB  int     `json:"minion_idle_rss_kib"`
	MinionIdleAnonKiB int     `json:"minion_idle_rss_anon_kib"` // of it, private memory (not the binary's pages)
	MinionBinaryAMD64 int64   `json:"minion_binary_amd64_bytes"`
	MinionBinaryARM64 int64   `json:"minion_binary_arm64_bytes"`
	CLIPingP50Ms      float64 `json:"cli_ping_p50_ms"`
	CLIPingP99Ms      float64 `json:"cli_ping_p99_ms"`
}

var (
	flagN          = flag.String("n", "100,1000", "swarm sizes, comma-separated")
	flagRounds     = flag.Int("rounds", 20, "test.ping rounds per size")
	flagKeys       = flag.String("keys", ".swarm", "directory of the swarm's keys (reused)")
	flagBin        = flag.String("bin", "bin", "directory of the built binaries")
	flagJSON       = flag.String("json", "swarm-figures.json", "write the figures here")
	flagProfile    = flag.String("profile", "", "write the master's and the swarm's CPU and heap profiles into this directory")
	flagMasterConf = flag.String("master-conf", "", "extra lines for the master's configuration (e.g. $'worker_threads: 16')")
	flagKeep       = flag.Bool("keep", false, "keep each run's directory (logs, the master's state)")
	flagLogLevel   = flag.String("log-level", "error", "the master's and the swarms' log level (their logs are in the run's directory)")
	flagSingle     = flag.Bool("single", true, "also measure the standalone minion and the CLI")
)

func main() {
	flag.Parse()
	ctx := context.Background()
	var runs []Figures
	for _, s := range strings.Split(*flagN, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fatal(fmt.Errorf("-n %q: want sizes like 100,1000", s))
		}
		f, err := measure(ctx, n)
		if err != nil {
			fatal(fmt.Errorf("swarm of %d: %w", n, err))
		}
		runs = append(runs, f)
		printFigures(f)
	}
	out := map[string]any{"runs": runs}
	if *flagSingle {
		s, err := measureSingle(ctx)
		if err != nil {
			fatal(err)
		}
		out["single"] = s
		fmt.Printf("\nstandalone brine-minion: idle RSS %d KiB (goal ≤ 8 MiB), %d KiB of it private; binary %.1f MiB amd64, %.1f MiB arm64 (stripped)\n",
			s.MinionIdleRSSKiB, s.MinionIdleAnonKiB, mib(s.MinionBinaryAMD64), mib(s.MinionBinaryARM64))
		fmt.Printf("brine '*' test.ping against 1 minion: p50 %.1f ms, p99 %.1f ms (goal ≤ 30 ms)\n", s.CLIPingP50Ms, s.CLIPingP99Ms)
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile(*flagJSON, append(b, '\n'), 0o644); err != nil {
		fatal(err)
	}
	fmt.Println("figures written to", *flagJSON)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchswarm:", err)
	os.Exit(1)
}

func printFigures(f Figures) {
	fmt.Printf("\nN=%d (%d swarm process(es))\n", f.N, f.SwarmProcesses)
	fmt.Printf("  auth storm: %.2f s to all authenticated and subscribed, %.0f auth/s\n", f.AuthStormSeconds, f.AuthPerSecond)
	fmt.Printf("  test.ping to all: p50 %.0f ms, p99 %.0f ms; %.0f returns/s at the master; %d returns lost\n", f.PingP50Ms, f.PingP99Ms, f.ReturnsPerSecond, f.ReturnsLost)
	fmt.Printf("  master RSS idle %d KiB (with its publish daemon): %.1f KiB per minion; swarm %.1f KiB per minion; %.2f goroutines per connection (master process)\n",
		f.MasterRSSIdleKiB, f.MasterKiBPerMinion, f.SwarmKiBPerMinion, f.GoroutinesPerConn)
}

// proc is a child process whose stdout lines can be waited on.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
}

func startProc(name string, logPath string, args ...string) (*proc, error) {
	cmd := exec.Command(filepath.Join(*flagBin, name), args...)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		logf.Close()
	}()
	return p, nil
}

// waitLine waits for a stdout line starting with prefix.
func (p *proc) waitLine(prefix string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("%s exited before printing %q", p.cmd.Path, prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-t.C:
			return "", fmt.Errorf("%s did not print %q within %v", p.cmd.Path, prefix, timeout)
		}
	}
}

func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// rssKiB reads a process's resident set size.
func rssKiB(pid int) int { return statusKiB(pid, "VmRSS:") }

// statusKiB reads a size field of /proc/<pid>/status.
func statusKiB(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

// master is a running brine-master with its config.
type master struct {
	*proc
	cfg       *config.Master
	dir       string
	pprofAddr string
}

func startMaster(root string, extra string) (*master, error) {
	etc := filepath.Join(root, "etc")
	os.MkdirAll(etc, 0o755)
	pprofAddr := fmt.Sprintf("127.0.0.1:%d", freePort())
	text := fmt.Sprintf("root_dir: %s\ninterface: 127.0.0.1\nret_port: %d\npublish_port: %d\nauto_accept: True\npprof_addr: %s\nlog_level: %s\n%s",
		root, freePort(), freePort(), pprofAddr, *flagLogLevel, extra)
	if err := os.WriteFile(filepath.Join(etc, "master"), []byte(text), 0o644); err != nil {
		return nil, err
	}
	cfg, _, err := config.LoadMaster(etc)
	if err != nil {
		return nil, err
	}
	p, err := startProc("brine-master", filepath.Join(root, "master.log"), "-c", etc)
	if err != nil {
		return nil, err
	}
	m := &master{proc: p, cfg: cfg, dir: etc, pprofAddr: pprofAddr}
	// Ready once the pprof server answers: it starts with the sockets.
	for range 300 {
		if resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/"); err == nil {
			resp.Body.Close()
			return m, nil
		}
		time.Sleep(20 * time.Millisecond) // the master is another process: poll its readiness
	}
	p.stop()
	return nil, fmt.Errorf("the master did not come up; see %s/master.log", root)
}

func (m *master) goroutines() int {
	resp, err := http.Get("http://" + m.pprofAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "goroutine profile: total ")))
	return n
}

// profile saves a profile (kind "profile" is CPU for secs seconds) from
// the pprof server at addr as dir/file.
func profile(addr, dir, file, kind string, secs int) error {
	url := fmt.Sprintf("http://%s/debug/pprof/%s", addr, kind)
	if kind == "profile" {
		url += fmt.Sprintf("?seconds=%d", secs)
	}
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(dir, file))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// rssKiB is the master's resident set size with its publish daemon's:
// the daemon holds the publish port's connections.
func (m *master) rssKiB() int {
	pid := m.cmd.Process.Pid
	total := rssKiB(pid)
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, kid := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(kid); err == nil {
				total += rssKiB(n)
			}
		}
	}
	return total
}

// perProcess is how many minions one brine-swarm holds under this
// machine's descriptor limit.
func perProcess() int {
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return int(lim.Max-64) / 2
}

func measure(ctx context.Context, n int) (Figures, error) {
	f := Figures{N: n}
	root, err := os.MkdirTemp("", "swarm")
	if err != nil {
		return f, err
	}
	if *flagKeep {
		fmt.Println("the run's directory (logs, master state):", root)
	} else {
		defer os.RemoveAll(root)
	}
	m, err := startMaster(root, *flagMasterConf)
	if err != nil {
		return f, err
	}
	defer m.stop()
	base := m.rssKiB()
	keys, _ := filepath.Abs(*flagKeys)

	// The swarm, split over processes; keys are made first, untimed.
	var swarms []*proc
	defer func() {
		for _, s := range swarms {
			s.stop()
		}
	}()
	per := perProcess()
	swarmPprof := ""
	for first := 0; first < n; first += per {
		count := min(per, n-first)
		args := []string{"--ret-port", strconv.Itoa(m.cfg.RetPort), "--publish-port", strconv.Itoa(m.cfg.PublishPort),
			"-n", strconv.Itoa(count), "--first", strconv.Itoa(first), "--dir", keys, "--log-level", *flagLogLevel}
		kp, err := startProc("brine-swarm", filepath.Join(root, "keys.log"), append(args, "--keys-only")...)
		if err != nil {
			return f, err
		}
		if _, err := kp.waitLine("keys", time.Hour); err != nil {
			return f, err
		}
		kp.cmd.Wait()
		if *flagProfile != "" && first == 0 {
			swarmPprof = fmt.Sprintf("127.0.0.1:%d", freePort())
			args = append(args, "--pprof", swarmPprof)
		}
		sp, err := startProc("brine-swarm", filepath.Join(root, fmt.Sprintf("swarm%d.log", first)), args...)
		if err != nil {
			return f, err
		}
		swarms = append(swarms, sp)
	}
	f.SwarmProcesses = len(swarms)
	for _, s := range swarms {
		if _, err := s.waitLine("keys", time.Minute); err != nil {
			return f, err
		}
	}
	authCPU := make(chan error, 2)
	if *flagProfile != "" {
		// CPU over (the first seconds of) the auth storm.
		os.MkdirAll(*flagProfile, 0o755)
		go func() { authCPU <- profile(m.pprofAddr, *flagProfile, "master-auth-cpu.pprof", "profile", 5) }()
		go func() { authCPU <- profile(swarmPprof, *flagProfile, "swarm-auth-cpu.pprof", "profile", 5) }()
	}
	// Each swarm process times its own storm, from its first connection
	// (after loading its keys) to its last minion ready.
	for _, s := range swarms {
		l, err := s.waitLine("ready", 10*time.Minute)
		if err != nil {
			return f, err
		}
		var ready, ms int
		fmt.Sscanf(l, "ready %d %d", &ready, &ms)
		f.AuthStormSeconds = max(f.AuthStormSeconds, float64(ms)/1000)
	}
	f.AuthPerSecond = float64(n) / f.AuthStormSeconds
	if *flagProfile != "" {
		for range 2 {
			if err := <-authCPU; err != nil {
				fmt.Fprintln(os.Stderr, "benchswarm: CPU profile:", err)
			}
		}
	}

	c, err := client.New(ctx, m.cfg, "salt/job/")
	if err != nil {
		return f, err
	}
	defer c.Close()
	if *flagProfile != "" {
		// CPU over the ping rounds, of the master and of the (first) swarm.
		cpu := make(chan error, 2)
		go func() { cpu <- profile(m.pprofAddr, *flagProfile, "master-cpu.pprof", "profile", 10) }()
		go func() { cpu <- profile(swarmPprof, *flagProfile, "swarm-cpu.pprof", "profile", 10) }()
		defer func() {
			for range 2 {
				if err := <-cpu; err != nil {
					fmt.Fprintln(os.Stderr, "benchswarm: CPU profile:", err)
				}
			}
			profile(m.pprofAddr, *flagProfile, "master-heap.pprof", "heap", 0)
			profile(swarmPprof, *flagProfile, "swarm-heap.pprof", "heap", 0)
			// The runtime's memory statistics, to read RSS against.
			profile(m.pprofAddr, *flagProfile, "master-memstats.txt", "heap?debug=1", 0)
			profile(swarmPprof, *flagProfile, "swarm-memstats.txt", "heap?debug=1", 0)
			fmt.Println("profiles written to", *flagProfile)
		}()
	}
	var lat []time.Duration
	total, got := 0, 0
	var gathering time.Duration
	for range *flagRounds {
		t0 := time.Now()
		pub, err := c.Publish(ctx, "*", "glob", "test.ping", nil, "")
		if err != nil {
			return f, err
		}
		want := map[string]bool{}
		for _, id := range pub.Minions {
			want[id] = true
		}
		total += len(want)
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		for len(want) > 0 {
			ev, err := c.Next(rctx)
			if err != nil {
				break
			}
			parts := strings.Split(ev.Tag, "/")
			if len(parts) == 5 && parts[2] == pub.JID && want[parts[4]] {
				delete(want, parts[4])
				got++
			}
		}
		cancel()
		d := time.Since(t0)
		gathering += d
		lat = append(lat, d)
	}
	slices.Sort(lat)
	f.PingP50Ms = float64(lat[len(lat)/2].Microseconds()) / 1000
	f.PingP99Ms = float64(lat[len(lat)*99/100].Microseconds()) / 1000
	f.ReturnsPerSecond = float64(got) / gathering.Seconds()
	f.ReturnsLost = total - got

	f.MasterRSSIdleKiB = m.rssKiB()
	f.MasterKiBPerMinion = float64(f.MasterRSSIdleKiB-base) / float64(n)
	swarmRSS := 0
	for _, s := range swarms {
		swarmRSS += rssKiB(s.cmd.Process.Pid)
	}
	f.SwarmKiBPerMinion = float64(swarmRSS) / float64(n)
	// The master process holds the ret port's n connections; its publish
	// daemon (the same transport) the publish port's.
	f.GoroutinesPerConn = float64(m.goroutines()) / float64(n)
	return f, nil
}

// measureSingle runs one real brine-minion against a master: its idle
// RSS, the CLI's wall time, and the minion binary's size per architecture.
func measureSingle(ctx context.Context) (Single, error) {
	var s Single
	root, err := os.MkdirTemp("", "single")
	if err != nil {
		return s, err
	}
	defer os.RemoveAll(root)
	m, err := startMaster(filepath.Join(root, "master"), "")
	if err != nil {
		return s, err
	}
	defer m.stop()
	etc := filepath.Join(root, "minion", "etc")
	os.MkdirAll(etc, 0o755)
	os.WriteFile(filepath.Join(etc, "minion"), []byte(fmt.Sprintf("root_dir: %s\nid: single\nmaster: 127.0.0.1\nmaster_port: %d\npublish_port: %d\n",
		filepath.Join(root, "minion"), m.cfg.RetPort, m.cfg.PublishPort)), 0o644)
	mp, err := startProc("brine-minion", filepath.Join(root, "minion.log"), "-c", etc)
	if err != nil {
		return s, err
	}
	defer mp.stop()
	cli := filepath.Join(*flagBin, "brine")
	var lat []time.Duration
	for len(lat) < 20 {
		t0 := time.Now()
		out, err := exec.Command(cli, "-c", m.dir, "-t", "5", "*", "test.ping").CombinedOutput()
		d := time.Since(t0)
		if err != nil {
			if len(lat) == 0 && time.Since(t0) < time.Minute {
				continue // the minion is still authenticating
			}
			return s, fmt.Errorf("brine: %v: %s", err, out)
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	s.CLIPingP50Ms = float64(lat[len(lat)/2].Microseconds()) / 1000
	s.CLIPingP99Ms = float64(lat[len(lat)-1].Microseconds()) / 1000
	s.MinionIdleRSSKiB = rssKiB(mp.cmd.Process.Pid)
	s.MinionIdleAnonKiB = statusKiB(mp.cmd.Process.Pid, "RssAnon:")
	for arch, dst := range map[string]*int64{"amd64": &s.MinionBinaryAMD64, "arm64": &s.MinionBinaryARM64} {
		out := filepath.Join(root, "brine-minion-"+arch)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/brine-minion")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		if b, err := cmd.CombinedOutput(); err != nil {
			return s, fmt.Errorf("building the %s minion: %v: %s", arch, err, b)
		}
		fi, err := os.Stat(out)
		if err != nil {
			return s, err
		}
		*dst = fi.Size()
	}
	return s, nil
}

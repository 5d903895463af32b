package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/brine-project/brine/internal/proctest"
)

// The tests run this test binary as brine-minion: with the variable set,
// it is the command.
func TestMain(m *testing.M) {
	if os.Getenv("BRINE_MINION_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "BRINE_MINION_TEST_MAIN=1")
	return cmd
}

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := command(t, args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func writeConfig(t *testing.T, text string) (etc, root string) {
	t.Helper()
	// Short: the minion's ipc sockets must stay under sun_path's limit.
	dir := proctest.TempDir(t, "bmin")
	etc, root = filepath.Join(dir, "etc"), filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(etc, "minion.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	text = "root_dir: " + root + "\n" + text
	if err := os.WriteFile(filepath.Join(etc, "minion"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return etc, root
}

func TestPrintConfigAndUsage(t *testing.T) {
	etc, root := writeConfig(t, "id: web-1\nmaster: 127.0.0.1\nmaster_type: str\n")
	os.WriteFile(filepath.Join(etc, "minion.d", "log.conf"), []byte("log_format: json\n"), 0o644)
	out, errOut, code := run(t, "-c", etc, "--print-config")
	if code != 0 {
		t.Fatalf("--print-config: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, `unknown key \"master_type\" ignored`) {
		t.Errorf("no warning for master_type: %q", errOut)
	}
	var printed map[string]any
	if err := yaml.Unmarshal([]byte(out), &printed); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"id": "web-1", "log_format": "json", "log_format_logfile": "json",
		"pidfile": filepath.Join(root, "var/run/brine-minion.pid"), "log_file": filepath.Join(root, "var/log/brine/minion")} {
		if printed[k] != v {
			t.Errorf("--print-config %s: %v, want %v", k, printed[k], v)
		}
	}
	if _, errOut, code := run(t, "-c", etc, "--daemon"); code != 2 || !strings.Contains(errOut, "not supported") {
		t.Errorf("--daemon: exit %d\n%s", code, errOut)
	}
	if out, _, code := run(t, "--version"); code != 0 || !strings.HasPrefix(out, "brine-minion ") {
		t.Errorf("--version: exit %d %q", code, out)
	}
}

// The minion writes its pidfile and log file under root_dir, or where
// --pid-file and --log-file say, at --log-file-level over the config's
// log_level_logfile, and removes the pidfile when it stops.
func TestPidfileAndLogFile(t *testing.T) {
	for _, tc := range []struct {
		name, fileLevel string
		flags           func(root string) []string
		pidfile, log    string // under root
	}{
		{"config", "debug", func(string) []string { return nil }, "var/run/brine-minion.pid", "var/log/brine/minion"},
		{"flags", "error", func(root string) []string {
			return []string{"--pid-file", filepath.Join(root, "flag.pid"), "--log-file", filepath.Join(root, "flag.log"), "--log-file-level", "info"}
		}, "flag.pid", "flag.log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A master that is not there: the minion starts and keeps trying.
			etc, root := writeConfig(t, "id: web-1\nmaster: 127.0.0.1\nmaster_port: 1\npublish_port: 2\nlog_level: info\nlog_level_logfile: "+tc.fileLevel+"\n")
			startAndStop(t, append([]string{"-c", etc}, tc.flags(root)...), filepath.Join(root, tc.pidfile), filepath.Join(root, tc.log))
		})
	}
}

// startAndStop starts the minion with args, checks that it writes pidfile,
// stops it, and checks that it removed pidfile and logged to logFile.
func startAndStop(t *testing.T, args []string, pidfile, logFile string) {
	t.Helper()
	p := proctest.Start(t, "brine-minion", command(t, args...))
	p.Log.WaitLines(t, 1, "minion: generating key pair")
	if b, _ := os.ReadFile(pidfile); strings.TrimSpace(string(b)) != strconv.Itoa(p.Cmd.Process.Pid) {
		t.Errorf("pidfile %s holds %q, want %d", pidfile, b, p.Cmd.Process.Pid)
	}
	p.Stop(t)
	if err := p.Err(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Log.String())
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile left behind: %v", err)
	}
	b, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(b), "generating key pair") {
		t.Errorf("log file %s: %v %q", logFile, err, b)
	}
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/brine-project/brine/internal/proctest"
)

// The tests run this test binary as brine-master: with the variable set,
// it is the command (and so is the publish daemon it starts, which
// inherits the variable).
func TestMain(m *testing.M) {
	if os.Getenv("BRINE_MASTER_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// binary copies this test binary to a directory every user may read, as
// brine-master (the name the pidfile check compares).
func binary(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "brine-master")
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// world makes a temporary directory that any user can reach.
func world(t *testing.T) string {
	t.Helper()
	dir := proctest.TempDir(t, "bmaster")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startMaster starts bin as brine-master.
func startMaster(t *testing.T, bin string, args ...string) *proctest.Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "BRINE_MASTER_TEST_MAIN=1")
	return proctest.Start(t, "brine-master", cmd)
}

// uidOf is the real, effective, saved and filesystem uids of process pid.
func uidOf(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "Uid:"); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return nil
}

func owner(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// Started as root with user: nobody, the master hands its directories,
// log file and pidfile to nobody and runs as nobody, its publish daemon
// too; a second start with the same pidfile is refused.
func TestRunsAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	dir := world(t)
	bin := binary(t, dir)
	root := filepath.Join(dir, "root")
	etc := filepath.Join(dir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("root_dir: %s\ninterface: 127.0.0.1\nret_port: %d\npublish_port: %d\nuser: nobody\nlog_level: info\n",
		root, proctest.FreePort(t), proctest.FreePort(t))
	if err := os.WriteFile(filepath.Join(etc, "master"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMaster(t, bin, "-c", etc)
	m.Log.WaitLines(t, 1, "master: serving")
	pid := m.Cmd.Process.Pid
	want := strconv.Itoa(uid)
	if got := uidOf(t, pid); strings.Join(got, " ") != strings.Repeat(want+" ", 3)+want {
		t.Errorf("master uids %v, want all %s", got, want)
	}
	kids, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var children []string
	for _, k := range kids {
		b, _ := os.ReadFile(k)
		children = append(children, strings.Fields(string(b))...)
	}
	if len(children) != 1 {
		t.Fatalf("master children %v, want its publish daemon", children)
	}
	child, _ := strconv.Atoi(children[0])
	if got := uidOf(t, child); got[1] != want {
		t.Errorf("publish daemon uids %v, want %s", got, want)
	}
	pidfile := filepath.Join(root, "var/run/brine-master.pid")
	if b, _ := os.ReadFile(pidfile); strings.TrimSpace(string(b)) != strconv.Itoa(pid) {
		t.Errorf("pidfile holds %q, want %d", b, pid)
	}
	for _, p := range []string{"etc/brine/pki/master", "etc/brine/pki/master/master.pem", "var/cache/brine/master",
		"var/cache/brine/master/sessions", "var/run/brine/master", "var/log/brine/master", "var/run/brine-master.pid"} {
		if got := owner(t, filepath.Join(root, p)); got != uid {
			t.Errorf("%s belongs to uid %d, want %d", p, got, uid)
		}
	}

	second := startMaster(t, bin, "-c", etc)
	if err := second.Wait(t); err == nil || !strings.Contains(second.Log.String(), fmt.Sprintf("already running as pid %d", pid)) {
		t.Errorf("a second master: %v\n%s", err, second.Log.String())
	}

	m.Stop(t)
	if err := m.Err(); err != nil {
		t.Fatalf("master exited with %v after SIGTERM:\n%s", err, m.Log.String())
	}
}

func TestUsage(t *testing.T) {
	dir := world(t)
	bin := binary(t, dir)
	etc := filepath.Join(dir, "etc")
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(etc, "master.d"), 0o755)
	os.WriteFile(filepath.Join(etc, "master"), []byte("root_dir: "+root+"\ngitfs_remotes: [a]\n"), 0o644)
	os.WriteFile(filepath.Join(etc, "master.d", "ports.conf"), []byte("ret_port: 14506\n"), 0o644)
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "BRINE_MASTER_TEST_MAIN=1")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}

	out, errOut, code := run("-c", etc, "--print-config", "-l", "info")
	if code != 0 {
		t.Fatalf("--print-config: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, `unknown key \"gitfs_remotes\" ignored`) {
		t.Errorf("--print-config: no warning for gitfs_remotes on stderr: %q", errOut)
	}
	if !strings.HasPrefix(out, "# read from "+filepath.Join(etc, "master")+", "+filepath.Join(etc, "master.d", "ports.conf")+"\n") {
		t.Errorf("--print-config does not name its files: %q", out[:min(len(out), 200)])
	}
	var printed map[string]any
	if err := yaml.Unmarshal([]byte(out), &printed); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"ret_port": 14506, "pidfile": filepath.Join(root, "var/run/brine-master.pid"),
		"log_level": "info", "log_level_logfile": "info", "user": "root"} {
		if printed[k] != v {
			t.Errorf("--print-config %s: %v, want %v", k, printed[k], v)
		}
	}
	if _, ok := printed["gitfs_remotes"]; ok {
		t.Error("--print-config shows an unknown key")
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("--print-config created %s: %v", root, err)
	}

	if _, errOut, code := run("-c", etc, "-d"); code != 2 || !strings.Contains(errOut, "hint: run it under systemd") {
		t.Errorf("-d: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := run("-c", etc, "-l", "loud", "--print-config"); code != 1 || !strings.Contains(errOut, `unknown log level "loud"`) {
		t.Errorf("-l loud: exit %d\n%s", code, errOut)
	}
	if out, _, code := run("--version"); code != 0 || !strings.HasPrefix(out, "brine-master ") || !strings.Contains(out, "Salt protocol") {
		t.Errorf("--version: exit %d %q", code, out)
	}
	if out, _, _ := run("--help"); !strings.Contains(out, "--daemon, -d") || !strings.Contains(out, "not supported") {
		t.Errorf("--help does not say -d is unsupported:\n%s", out)
	}
}

// --pid-file, --log-file, --log-file-level and --user override the
// configuration's pidfile, log_file, log_level_logfile and user: in
// --print-config, and in the running master and its publish daemon, which
// log to the flag's file at the flag's level.
func TestOverrides(t *testing.T) {
	dir := world(t)
	bin := binary(t, dir)
	etc, root := filepath.Join(dir, "etc"), filepath.Join(dir, "root")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("root_dir: %s\ninterface: 127.0.0.1\nret_port: %d\npublish_port: %d\n"+
		"pidfile: /conf.pid\nlog_file: /conf.log\nlog_level_logfile: error\nuser: conf-user\n", root, proctest.FreePort(t), proctest.FreePort(t))
	if err := os.WriteFile(filepath.Join(etc, "master"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	pidfile, logFile := filepath.Join(dir, "flag.pid"), filepath.Join(dir, "flag.log")
	flags := []string{"-c", etc, "--pid-file", pidfile, "--log-file", logFile, "--log-file-level", "info", "-u", "root"}

	cmd := exec.Command(bin, append(flags, "--print-config")...)
	cmd.Env = append(os.Environ(), "BRINE_MASTER_TEST_MAIN=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("--print-config: %v", err)
	}
	var printed map[string]any
	if err := yaml.Unmarshal(out, &printed); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"pidfile": pidfile, "log_file": logFile, "log_level_logfile": "info", "user": "root"} {
		if printed[k] != v {
			t.Errorf("--print-config %s: %v, want the flag's %v", k, printed[k], v)
		}
	}

	m := startMaster(t, bin, append(flags, "-l", "info")...)
	m.Log.WaitLines(t, 1, "master: serving")
	if b, _ := os.ReadFile(pidfile); strings.TrimSpace(string(b)) != strconv.Itoa(m.Cmd.Process.Pid) {
		t.Errorf("--pid-file %s holds %q, want %d", pidfile, b, m.Cmd.Process.Pid)
	}
	m.Stop(t)
	if err := m.Err(); err != nil {
		t.Fatalf("master exited with %v after SIGTERM:\n%s", err, m.Log.String())
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"master: serving", "publish daemon: serving"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("--log-file %s has no %q:\n%s", logFile, want, b)
		}
	}
	for _, p := range []string{"conf.pid", "conf.log"} {
		if _, err := os.Stat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("the config's %s was written: %v", p, err)
		}
	}
}

package status

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

func run(t *testing.T, fun string, arg ...any) modules.Result {
	t.Helper()
	return modtest.Registry(Specs()).Run(context.Background(), fun, arg, modules.Job{Fun: fun}, &modules.Env{})
}

// fakeProc writes files into a directory standing in for /proc.
func fakeProc(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestEveryFunctionRuns(t *testing.T) {
	for _, s := range Specs() {
		t.Run(s.Name, func(t *testing.T) {
			if res := run(t, s.Name); !res.Success {
				t.Fatalf("%s failed: %v", s.Name, res.Return)
			}
		})
	}
}

func TestUptime(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 250_000_000, time.UTC)
	for _, tc := range []struct {
		name, body string
		want       map[string]any
		wantErr    string
	}{
		{name: "minutes", body: "3723.45 100.00\n", want: map[string]any{
			"seconds": int64(3723), "days": int64(0), "time": "1:2", "since_t": int64(1714561077),
			"since_iso": "2024-05-01T10:57:57.250000"}},
		{name: "days", body: "200000.99 1.0\n", want: map[string]any{
			"seconds": int64(200000), "days": int64(2), "time": "7:33", "since_t": int64(1714364800),
			"since_iso": "2024-04-29T04:26:40.250000"}},
		{name: "empty", body: "", wantErr: "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := uptime(fakeProc(t, map[string]string{"uptime": tc.body}), now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := uptime(missing, now); err == nil || err.Error() != "File "+missing+"/uptime was not found." {
		t.Errorf("missing file: %v", err)
	}
}

func TestUptimeMatchesProc(t *testing.T) {
	now := time.Now()
	got, err := uptime(procRoot, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Fatal(err)
	}
	up, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	if s := got["seconds"].(int64); math.Abs(float64(s)-up) > 2 {
		t.Errorf("seconds %d, /proc/uptime says %.2f", s, up)
	}
	if got["since_t"].(int64) != now.Unix()-got["seconds"].(int64) && got["since_t"].(int64) != now.Unix()-got["seconds"].(int64)-1 {
		t.Errorf("since_t %v does not fit seconds %v", got["since_t"], got["seconds"])
	}
	if _, ok := got["users"]; ok != (utmpFile() != "") {
		t.Errorf("users present: %v, utmp present: %v", ok, utmpFile() != "")
	}
}

func TestLoadavg(t *testing.T) {
	got, err := loadavg(fakeProc(t, map[string]string{"loadavg": "0.50 0.25 1.10 1/123 4567\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if got["1-min"] != 0.5 || got["5-min"] != 0.25 || got["15-min"] != 1.1 {
		t.Errorf("got %v", got)
	}
	if _, err := loadavg(t.TempDir()); err == nil || err.Error() != "status.loadavag is not available on your platform" {
		t.Errorf("no loadavg: %v", err)
	}
	real, err := loadavg(procRoot)
	if err != nil {
		t.Fatal(err)
	}
	var info syscall.Sysinfo_t
	if err := syscall.Sysinfo(&info); err != nil {
		t.Fatal(err)
	}
	if l := float64(info.Loads[2]) / 65536; math.Abs(l-real["15-min"].(float64)) > 0.5 {
		t.Errorf("15-min %v, sysinfo says %.2f", real["15-min"], l)
	}
}

func TestMeminfo(t *testing.T) {
	got := meminfo(fakeProc(t, map[string]string{"meminfo": "MemTotal:       16318564 kB\nHugePages_Total:       0\n"}))
	want := map[string]any{"MemTotal": map[string]any{"value": "16318564", "unit": "kB"}, "HugePages_Total": map[string]any{"value": "0"}}
	if !equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	real := meminfo(procRoot)
	var info syscall.Sysinfo_t
	if err := syscall.Sysinfo(&info); err != nil {
		t.Fatal(err)
	}
	total, _ := strconv.ParseUint(real["MemTotal"].(map[string]any)["value"].(string), 10, 64)
	if want := uint64(info.Totalram) * uint64(info.Unit) / 1024; total != want {
		t.Errorf("MemTotal %d kB, sysinfo says %d kB", total, want)
	}
	if len(meminfo(t.TempDir())) != 0 {
		t.Error("no meminfo should be {}")
	}
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !equal(v, b[k]) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestCpuinfo(t *testing.T) {
	body := "processor\t: 0\nmodel name\t: Old CPU\nflags\t\t: fpu vme\n\nprocessor\t: 1\nmodel name\t: Some CPU @ 2.00GHz\nflags\t\t: fpu sse2 avx\npower management:\n"
	got := cpuinfo(fakeProc(t, map[string]string{"cpuinfo": body}))
	want := map[string]any{"processor": "1", "model name": "Some CPU @ 2.00GHz", "flags": []any{"fpu", "sse2", "avx"}, "power management": ""}
	if !equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if real := cpuinfo(procRoot); real["processor"] == nil {
		t.Errorf("no processor in %v", real)
	}
}

func TestCpustatsAndVmstats(t *testing.T) {
	got := cpustats(fakeProc(t, map[string]string{"stat": "cpu  10 2 30 400 5 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 100 1 2\nctxt 42\nbtime 1700000000\nsoftirq 9 1 2 3\n"}))
	want := map[string]any{
		"cpu":     map[string]any{"user": int64(10), "nice": int64(2), "system": int64(30), "idle": int64(400), "iowait": int64(5), "irq": int64(6), "softirq": int64(7), "steal": int64(8)},
		"cpu0":    int64(1),
		"intr":    map[string]any{"total": int64(100), "irqs": []any{int64(1), int64(2)}},
		"ctxt":    int64(42),
		"btime":   int64(1700000000),
		"softirq": map[string]any{"total": int64(9), "softirqs": []any{int64(1), int64(2), int64(3)}},
	}
	if !equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if vm := vmstats(fakeProc(t, map[string]string{"vmstat": "nr_free_pages 123\npgfault 9\n"})); !equal(vm, map[string]any{"nr_free_pages": int64(123), "pgfault": int64(9)}) {
		t.Errorf("vmstats %v", vm)
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{{"42", int64(42)}, {"4.5", 4.5}, {"-3", float64(-3)}, {"abc", "abc"}, {"", ""}} {
		if got := number(tc.in); got != tc.want {
			t.Errorf("number(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestDiskusage(t *testing.T) {
	var root syscall.Statfs_t
	if err := syscall.Statfs("/", &root); err != nil {
		t.Fatal(err)
	}
	mounts := fakeProc(t, map[string]string{"mounts": "/dev/vda / ext4 rw 0 0\nproc /proc proc rw 0 0\ntmpfs /no\\040such tmpfs rw 0 0\n"})
	mountsFile := filepath.Join(mounts, "mounts")
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "all", args: nil, want: []string{"/", "/proc"}},
		{name: "a path", args: []string{"/"}, want: []string{"/"}},
		{name: "a type glob", args: []string{"ext?"}, want: []string{"/"}},
		{name: "path and type", args: []string{"/", "pro*"}, want: []string{"/", "/proc"}},
		{name: "no such type", args: []string{"xfs"}, want: nil},
		{name: "no such path", args: []string{"/no/such/dir"}, wantErr: "[Errno 2] No such file or directory: '/no/such/dir'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := diskusage(mountsFile, tc.args)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want keys %v", got, tc.want)
			}
			for _, k := range tc.want {
				if _, ok := got[k]; !ok {
					t.Errorf("no %s in %v", k, got)
				}
			}
		})
	}
	got, _ := diskusage(mountsFile, []string{"/"})
	if m := got["/"].(map[string]any); m["total"] != int64(root.Blocks)*int64(root.Bsize) {
		t.Errorf("total %v, statfs says %d", m["total"], int64(root.Blocks)*int64(root.Bsize))
	}
	if res := run(t, "status.diskusage", "/"); !res.Success || res.Return.(map[string]any)["/"] == nil {
		t.Errorf("status.diskusage /: %v", res.Return)
	}
}

func TestProcs(t *testing.T) {
	got, err := procs(procRoot)
	if err != nil {
		t.Fatal(err)
	}
	me, ok := got[strconv.Itoa(os.Getpid())].(map[string]any)
	if !ok {
		t.Fatalf("this process is not in status.procs")
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if me["user"] != u.Username {
		t.Errorf("user %v, want %v", me["user"], u.Username)
	}
	if !strings.Contains(me["cmd"].(string), filepath.Base(os.Args[0])) {
		t.Errorf("cmd %q does not name %s", me["cmd"], os.Args[0])
	}
	if k, ok := got["2"].(map[string]any); ok && !strings.HasPrefix(k["cmd"].(string), "[") {
		t.Errorf("kthreadd shown as %q, ps shows kernel threads in brackets", k["cmd"])
	}
}

// utmpRecord builds one glibc utmp record.
func utmpRecord(typ int16, pid int32, line, name string, login int32) []byte {
	r := make([]byte, utmpSize)
	o := binary.NativeEndian
	o.PutUint16(r[0:], uint16(typ))
	o.PutUint32(r[4:], uint32(pid))
	copy(r[8:40], line)
	copy(r[44:76], name)
	o.PutUint32(r[340:], uint32(login))
	return r
}

func TestW(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	login := now.Add(-30 * time.Minute).Truncate(time.Second)
	var file []byte
	file = append(file, utmpRecord(2, 0, "~", "reboot", int32(login.Unix()))...)                                    // BOOT_TIME
	file = append(file, utmpRecord(userProcess, int32(os.Getpid()), "pts/999", u.Username, int32(login.Unix()))...) // a session
	file = append(file, utmpRecord(8, 0, "pts/1", "", 0)...)                                                        // DEAD_PROCESS
	utmp := filepath.Join(t.TempDir(), "utmp")
	if err := os.WriteFile(utmp, file, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := w(procRoot, utmp, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %v, want one session", got)
	}
	s := got[0].(map[string]any)
	want := map[string]any{"user": u.Username, "tty": "pts/999", "login": loginTime(login, now), "idle": "0.00s"}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("%s = %v, want %v", k, s[k], v)
		}
	}
	if !strings.Contains(s["what"].(string), filepath.Base(os.Args[0])) {
		t.Errorf("what %q is not this process", s["what"])
	}
	for _, k := range []string{"jcpu", "pcpu"} {
		if !strings.HasSuffix(s[k].(string), "s") && !strings.Contains(s[k].(string), ":") {
			t.Errorf("%s = %q", k, s[k])
		}
	}
	if none, err := w(procRoot, filepath.Join(t.TempDir(), "none"), now); err != nil || len(none) != 0 {
		t.Errorf("no utmp: %v %v, want []", none, err)
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		secs, centis int64
		want         string
	}{{0, 0, "0.00s"}, {12, 34, "12.34s"}, {60, 0, "60.00s"}, {61, 0, "1:01"}, {3600, 0, "1:00m"}, {3*3600 + 5*60, 0, "3:05m"}, {48 * 3600, 0, "2days"}, {-1, 0, "?"}} {
		if got := ival7(tc.secs, tc.centis); got != tc.want {
			t.Errorf("ival7(%d, %d) = %q, want %q", tc.secs, tc.centis, got, tc.want)
		}
	}
	now := time.Date(2024, 5, 10, 15, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		login time.Time
		want  string
	}{
		{now.Add(-time.Hour), "14:00"},
		{time.Date(2024, 5, 10, 1, 5, 0, 0, time.Local), "01:05"}, // today, more than 12 hours ago
		{time.Date(2024, 5, 9, 20, 5, 0, 0, time.Local), "Thu20"}, // yesterday
		{time.Date(2024, 5, 8, 9, 0, 0, 0, time.Local), "Wed09"},
		{time.Date(2024, 4, 1, 9, 0, 0, 0, time.Local), "01Apr24"},
	} {
		if got := loginTime(tc.login, now); got != tc.want {
			t.Errorf("loginTime(%v) = %q, want %q", tc.login, got, tc.want)
		}
	}
	if got := isoformat(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)); got != "2024-01-02T03:04:05" {
		t.Errorf("isoformat without microseconds: %q", got)
	}
}

package disk

import (
	"context"
	"strconv"
	"syscall"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

func run(t *testing.T, fun string, arg ...any) modules.Result {
	t.Helper()
	return modtest.Registry(Specs()).Run(context.Background(), fun, arg, modules.Job{Fun: fun}, &modules.Env{})
}

// statfsKB is what the test expects for a mount, computed on its own.
func statfsKB(t *testing.T, dir string) (blocks, used, avail uint64, st syscall.Statfs_t) {
	t.Helper()
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatalf("statfs %s: %v", dir, err)
	}
	kb := func(n uint64) uint64 { return (n*uint64(st.Frsize) + 1023) / 1024 }
	return kb(st.Blocks), kb(st.Blocks - st.Bfree), kb(st.Bavail), st
}

func TestUsageMatchesStatfs(t *testing.T) {
	res := run(t, "disk.usage")
	if !res.Success {
		t.Fatalf("disk.usage failed: %v", res.Return)
	}
	ret := res.Return.(map[string]any)
	root, ok := ret["/"].(map[string]any)
	if !ok {
		t.Fatalf("no / in %v", ret)
	}
	for _, k := range []string{"filesystem", "1K-blocks", "used", "available", "capacity"} {
		if _, ok := root[k].(string); !ok {
			t.Errorf("/ has no string %q: %v", k, root)
		}
	}
	if _, ok := ret["/proc"]; ok {
		t.Errorf("/proc is a pseudo file system df leaves out: %v", ret["/proc"])
	}
	for dir, v := range ret {
		m := v.(map[string]any)
		blocks, used, avail, _ := statfsKB(t, dir)
		// The file system may change between the two statfs calls (this
		// machine is busy): compare the total exactly, the rest loosely.
		if m["1K-blocks"] != strconv.FormatUint(blocks, 10) {
			t.Errorf("%s: 1K-blocks %v, statfs says %d", dir, m["1K-blocks"], blocks)
		}
		gotUsed, _ := strconv.ParseUint(m["used"].(string), 10, 64)
		gotAvail, _ := strconv.ParseUint(m["available"].(string), 10, 64)
		if diff(gotUsed, used) > 1<<20 || diff(gotAvail, avail) > 1<<20 {
			t.Errorf("%s: used/available %d/%d, statfs says %d/%d", dir, gotUsed, gotAvail, used, avail)
		}
	}
}

func diff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestUsageFlags(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     any
		wantErr  string
		wantProc bool
	}{
		{name: "all file systems", args: "a", wantProc: true},
		{name: "list of flags", args: []any{"a", "k"}, wantProc: true},
		{name: "posix and kilobytes", args: "kP"},
		{name: "not a df flag", args: "z", wantErr: "ERROR: Invalid flag passed to disk.usage"},
		{name: "not honoured", args: "h", wantErr: `ERROR: flag "h" of disk.usage is not supported: Brine computes the figures itself and only honours a, i, k, l, P and v`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, "disk.usage", tc.args)
			if tc.wantErr != "" {
				if res.Success || res.Return != tc.wantErr {
					t.Fatalf("got %v (success %v), want %q", res.Return, res.Success, tc.wantErr)
				}
				return
			}
			if !res.Success {
				t.Fatalf("failed: %v", res.Return)
			}
			_, proc := res.Return.(map[string]any)["/proc"]
			if proc != tc.wantProc {
				t.Errorf("/proc listed: %v, want %v", proc, tc.wantProc)
			}
		})
	}
}

func TestInodeUsage(t *testing.T) {
	res := run(t, "disk.inodeusage")
	if !res.Success {
		t.Fatalf("failed: %v", res.Return)
	}
	root := res.Return.(map[string]any)["/"].(map[string]any)
	var st syscall.Statfs_t
	if err := syscall.Statfs("/", &st); err != nil {
		t.Fatal(err)
	}
	if root["inodes"] != strconv.FormatUint(st.Files, 10) {
		t.Errorf("inodes %v, statfs says %d", root["inodes"], st.Files)
	}
	for _, k := range []string{"inodes", "used", "free", "use", "filesystem"} {
		if _, ok := root[k].(string); !ok {
			t.Errorf("no string %q in %v", k, root)
		}
	}
	if res := run(t, "disk.inodeusage", "q"); res.Return != "ERROR: Invalid flag passed to disk.inodeusage" {
		t.Errorf("bad flag: %v", res.Return)
	}
}

func TestPercent(t *testing.T) {
	all := run(t, "disk.percent").Return.(map[string]any)
	if _, ok := all["/"].(string); !ok {
		t.Fatalf("no / in %v", all)
	}
	if got := run(t, "disk.percent", "/").Return; got != all["/"] {
		t.Errorf("disk.percent / = %v, want %v", got, all["/"])
	}
	if got := run(t, "disk.percent", "/no/such/mount").Return; len(got.(map[string]any)) != 0 {
		t.Errorf("unknown partition: %v, want {}", got)
	}
}

func TestHelpers(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"space", `/mnt/my\040disk`, "/mnt/my disk"},
		{"tab and backslash", `a\011b\134c`, "a\tb\\c"},
		{"no escape", "/srv", "/srv"},
		{"short escape", `x\04`, `x\04`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unescape(tc.in); got != tc.want {
				t.Errorf("unescape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		used, avail uint64
		want        string
	}{{0, 0, "-"}, {0, 10, "0%"}, {1, 99, "1%"}, {1, 199, "1%"}, {10, 0, "100%"}, {161, 839, "17%"}} {
		if got := percent(tc.used, tc.avail); got != tc.want {
			t.Errorf("percent(%d, %d) = %q, want %q", tc.used, tc.avail, got, tc.want)
		}
	}
}

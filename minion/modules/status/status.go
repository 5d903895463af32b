// Package status is Salt's status execution module: uptime, load, memory,
// CPU, disk usage, processes and logged-in users, in Salt's shapes.
//
// Salt reads some of these from /proc and runs ps, who and w for the rest;
// Brine reads everything from /proc and the utmp file, so a minimal host
// (BusyBox, or no userland at all) answers the same. The utmp file is where
// who and w learn who is logged in; where there is none (most containers)
// nobody is.
package status

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/minion/modules"
	"golang.org/x/sys/unix"
)

// Specs are the functions of the status module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "status.uptime", Doc: "Return the uptime for this system.\n\nCLI Example:\n\n    salt '*' status.uptime",
			Fn: func(context.Context, *modules.Call) (any, error) { return uptime(procRoot, time.Now()) }},
		{Name: "status.loadavg", Doc: "Return the load averages for this minion.\n\nCLI Example:\n\n    salt '*' status.loadavg",
			Fn: func(context.Context, *modules.Call) (any, error) { return loadavg(procRoot) }},
		{Name: "status.meminfo", Doc: "Return the memory info for this minion.\n\nCLI Example:\n\n    salt '*' status.meminfo",
			Fn: func(context.Context, *modules.Call) (any, error) { return meminfo(procRoot), nil }},
		{Name: "status.cpuinfo", Doc: "Return the CPU info for this minion.\n\nCLI Example:\n\n    salt '*' status.cpuinfo",
			Fn: func(context.Context, *modules.Call) (any, error) { return cpuinfo(procRoot), nil }},
		{Name: "status.cpustats", Doc: "Return the CPU stats for this minion.\n\nCLI Example:\n\n    salt '*' status.cpustats",
			Fn: func(context.Context, *modules.Call) (any, error) { return cpustats(procRoot), nil }},
		{Name: "status.vmstats", Doc: "Return the virtual memory stats for this minion.\n\nCLI Example:\n\n    salt '*' status.vmstats",
			Fn: func(context.Context, *modules.Call) (any, error) { return vmstats(procRoot), nil }},
		{Name: "status.nproc", Doc: "Return the number of processing units available on this system.\n\nCLI Example:\n\n    salt '*' status.nproc",
			Fn: func(context.Context, *modules.Call) (any, error) { return nproc(), nil }},
		{Name: "status.version", Doc: "Return the system version for this minion.\n\nCLI Example:\n\n    salt '*' status.version",
			Fn: func(context.Context, *modules.Call) (any, error) {
				b, err := os.ReadFile(filepath.Join(procRoot, "version"))
				if err != nil {
					return map[string]any{}, nil
				}
				return strings.TrimSpace(string(b)), nil
			}},
		{Name: "status.diskusage", Doc: "Return the disk usage for this minion.\n\nUsage::\n\n    salt '*' status.diskusage [paths and/or filesystem types]\n\nCLI Example:\n\n    salt '*' status.diskusage         # usage for all filesystems\n    salt '*' status.diskusage / /tmp  # usage for / and /tmp\n    salt '*' status.diskusage ext?    # usage for ext[234] filesystems\n    salt '*' status.diskusage / ext?  # usage for / and all ext filesystems",
			VarArgs: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				args := make([]string, len(c.VarArgs))
				for i, a := range c.VarArgs {
					args[i] = fmt.Sprint(a)
				}
				return diskusage(filepath.Join(procRoot, "mounts"), args)
			}},
		{Name: "status.procs", Doc: "Return the process data.\n\nCLI Example:\n\n    salt '*' status.procs",
			Fn: func(context.Context, *modules.Call) (any, error) { return procs(procRoot) }},
		{Name: "status.w", Doc: "Return a list of logged in users for this minion, using the w command.\n\nCLI Example:\n\n    salt '*' status.w",
			Fn: func(context.Context, *modules.Call) (any, error) {
				return w(procRoot, utmpFile(), time.Now())
			}},
	}
}

// procRoot is where proc is mounted.
const procRoot = "/proc"

// number is Salt's _number: an int if the text is all digits, a float if
// it parses as one, else the text.
func number(s string) any {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}

// uptime is Salt's uptime dict: seconds, since_iso, since_t, days, time
// and, where the utmp file can be read, users.
func uptime(proc string, now time.Time) (map[string]any, error) {
	path := filepath.Join(proc, "uptime")
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, saltError(fmt.Sprintf("File %s was not found.", path))
		}
		return nil, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return nil, fmt.Errorf("status: %s is empty", path)
	}
	up, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return nil, fmt.Errorf("status: %s: %w", path, err)
	}
	seconds := int64(up)
	boot := now.Add(-time.Duration(seconds) * time.Second).UTC()
	ret := map[string]any{
		"seconds":   seconds,
		"since_iso": isoformat(boot),
		"since_t":   boot.Unix(),
		"days":      seconds / 86400,
		// Python's "{0}:{1}" of hours and minutes: no zero padding.
		"time": fmt.Sprintf("%d:%d", seconds%86400/3600, seconds%3600/60),
	}
	if sessions, err := readUtmp(utmpFile()); err == nil {
		ret["users"] = int64(len(sessions))
	}
	return ret, nil
}

// isoformat is Python's datetime.isoformat of a naive UTC time: the
// microseconds only when there are some.
func isoformat(t time.Time) string {
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s
}

func loadavg(proc string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(proc, "loadavg"))
	if err != nil {
		return nil, saltError("status.loadavag is not available on your platform")
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil, saltError("status.loadavag is not available on your platform")
	}
	ret := map[string]any{}
	for i, k := range []string{"1-min", "5-min", "15-min"} {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, fmt.Errorf("status: bad load average %q: %w", f[i], err)
		}
		ret[k] = v
	}
	return ret, nil
}

// meminfo is /proc/meminfo as {"MemTotal": {"value": "16318564", "unit": "kB"}, …}.
func meminfo(proc string) map[string]any {
	ret := map[string]any{}
	b, err := os.ReadFile(filepath.Join(proc, "meminfo"))
	if err != nil {
		return ret
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		m := map[string]any{"value": f[1]}
		if len(f) > 2 {
			m["unit"] = f[2]
		}
		ret[strings.ReplaceAll(f[0], ":", "")] = m
	}
	return ret
}

// cpuinfo is /proc/cpuinfo flattened into one dict, the last processor's
// values winning, "flags" split into a list, as Salt returns it.
func cpuinfo(proc string) map[string]any {
	ret := map[string]any{}
	b, err := os.ReadFile(filepath.Join(proc, "cpuinfo"))
	if err != nil {
		return ret
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if k == "flags" {
			fl := strings.Fields(v)
			list := make([]any, len(fl))
			for i, s := range fl {
				list[i] = s
			}
			ret[k] = list
			continue
		}
		ret[k] = strings.TrimSpace(v)
	}
	return ret
}

// cpustats is /proc/stat as Salt's cpustats shapes it.
func cpustats(proc string) map[string]any {
	ret := map[string]any{}
	b, err := os.ReadFile(filepath.Join(proc, "stat"))
	if err != nil {
		return ret
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch {
		case f[0] == "cpu" && len(f) >= 9:
			ret["cpu"] = map[string]any{
				"user": number(f[1]), "nice": number(f[2]), "system": number(f[3]), "idle": number(f[4]),
				"iowait": number(f[5]), "irq": number(f[6]), "softirq": number(f[7]), "steal": number(f[8]),
			}
		case f[0] == "intr" || f[0] == "softirq":
			list := make([]any, 0, len(f)-2)
			for _, s := range f[2:] {
				list = append(list, number(s))
			}
			key := "irqs"
			if f[0] == "softirq" {
				key = "softirqs"
			}
			ret[f[0]] = map[string]any{"total": number(f[1]), key: list}
		default:
			ret[f[0]] = number(f[1])
		}
	}
	return ret
}

func vmstats(proc string) map[string]any {
	ret := map[string]any{}
	b, err := os.ReadFile(filepath.Join(proc, "vmstat"))
	if err != nil {
		return ret
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			ret[f[0]] = number(f[1])
		}
	}
	return ret
}

// nproc is what nproc(1) prints: the CPUs this process may run on.
func nproc() int64 {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return int64(runtime.NumCPU())
	}
	return int64(set.Count())
}

// diskusage is Salt's status.diskusage: for each path given, and each
// mount point whose type matches a glob given (all when none is), the
// available and total bytes.
func diskusage(mounts string, args []string) (map[string]any, error) {
	selected := map[string]bool{}
	var fstypes []string
	if len(args) == 0 {
		fstypes = []string{"*"}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "/") {
			selected[a] = true
		} else {
			fstypes = append(fstypes, a)
		}
	}
	auto := map[string]bool{}
	if len(fstypes) > 0 {
		b, err := os.ReadFile(mounts)
		if err != nil {
			return map[string]any{}, nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			for _, pat := range fstypes {
				if fnmatch.Match(pat, f[2]) {
					dir := unescape(f[1])
					if !selected[dir] {
						auto[dir] = true
					}
					break
				}
			}
		}
	}
	ret := map[string]any{}
	paths := make([]string, 0, len(selected))
	for p := range selected {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		var st syscall.Statfs_t
		if err := syscall.Statfs(p, &st); err != nil {
			return nil, pyOSError(err, p)
		}
		ret[p] = map[string]any{"available": int64(st.Bavail) * int64(st.Bsize), "total": int64(st.Blocks) * int64(st.Bsize)}
	}
	for p := range auto {
		var st syscall.Statfs_t
		if err := syscall.Statfs(p, &st); err != nil {
			continue // a mount point this process cannot reach
		}
		ret[p] = map[string]any{"available": int64(st.Bavail) * int64(st.Bsize), "total": int64(st.Blocks) * int64(st.Bsize)}
	}
	return ret, nil
}

// unescape decodes the kernel's \ooo escapes in a mounts field.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// proc is what the status functions need of one process.
type proc struct {
	pid, ppid, pgrp, tpgid int
	tty                    uint64
	utime, stime           uint64 // clock ticks
	start                  uint64 // clock ticks after boot
	ruid, euid             int
	comm                   string
	args                   []string
}

// readProcs reads every process of /proc; processes that end meanwhile
// are left out.
func readProcs(root string) ([]proc, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, ok := readProc(filepath.Join(root, e.Name()), pid)
		if ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pid < out[j].pid })
	return out, nil
}

func readProc(dir string, pid int) (proc, bool) {
	p := proc{pid: pid}
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return p, false
	}
	// comm is in parentheses and may hold spaces and parentheses itself.
	open, close := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || close < open {
		return p, false
	}
	p.comm = string(stat[open+1 : close])
	f := strings.Fields(string(stat[close+1:]))
	// f[0] is the state; the fields of proc(5) from ppid on follow.
	if len(f) < 20 {
		return p, false
	}
	p.ppid, _ = strconv.Atoi(f[1])
	p.pgrp, _ = strconv.Atoi(f[2])
	tty, _ := strconv.ParseInt(f[4], 10, 64)
	p.tty = uint64(uint32(tty))
	p.tpgid, _ = strconv.Atoi(f[5])
	p.utime, _ = strconv.ParseUint(f[11], 10, 64)
	p.stime, _ = strconv.ParseUint(f[12], 10, 64)
	p.start, _ = strconv.ParseUint(f[19], 10, 64)
	p.ruid, p.euid = -1, -1
	if status, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
				if u := strings.Fields(rest); len(u) >= 2 {
					p.ruid, _ = strconv.Atoi(u[0])
					p.euid, _ = strconv.Atoi(u[1])
				}
				break
			}
		}
	}
	if cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil && len(cmdline) > 0 {
		p.args = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	}
	return p, true
}

// command is the process's command line as ps shows it: its arguments, or
// its name in brackets when it has none (kernel threads, zombies).
func (p proc) command() string {
	if len(p.args) == 0 {
		return "[" + p.comm + "]"
	}
	return strings.Join(p.args, " ")
}

// users caches uid to name lookups.
type users map[int]string

func (u users) name(uid int) string {
	if n, ok := u[uid]; ok {
		return n
	}
	n := strconv.Itoa(uid)
	if usr, err := user.LookupId(n); err == nil {
		n = usr.Username
	}
	u[uid] = n
	return n
}

// procs is Salt's status.procs: {pid: {"user", "cmd"}} for every process,
// the user effective, the command with its whitespace collapsed as Salt's
// parse of ps leaves it.
func procs(root string) (map[string]any, error) {
	ps, err := readProcs(root)
	if err != nil {
		return nil, fmt.Errorf("status: reading processes: %w", err)
	}
	names := users{}
	ret := make(map[string]any, len(ps))
	for _, p := range ps {
		ret[strconv.Itoa(p.pid)] = map[string]any{
			"user": names.name(p.euid),
			"cmd":  strings.Join(strings.Fields(p.command()), " "),
		}
	}
	return ret, nil
}

// saltError is an error in Salt's words, capital letter included.
type saltError string

func (e saltError) Error() string { return string(e) }

// pyOSError is the text of Python's OSError for err on path:
// "[Errno 2] No such file or directory: '/x'".
func pyOSError(err error, path string) error {
	var errno syscall.Errno
	if e, ok := err.(syscall.Errno); ok {
		errno = e
	} else if pe, ok := err.(*os.PathError); ok {
		errno, _ = pe.Err.(syscall.Errno)
	}
	if errno == 0 {
		return err
	}
	msg := errno.Error()
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return saltError(fmt.Sprintf("[Errno %d] %s: '%s'", int(errno), msg, path))
}

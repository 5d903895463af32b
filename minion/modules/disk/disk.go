// Package disk is Salt's disk execution module: the usage of the mounted
// file systems, as df reports it.
//
// Salt runs df -P and parses its output; Brine reads /proc/self/mounts and
// asks statfs(2) itself, so a minion without df (or without /etc/mtab,
// where Salt gives up) still answers. The figures follow GNU df: sizes in
// 1024-byte blocks rounded up, the use percentage rounded up, pseudo file
// systems (proc, sysfs, devpts, …) and those without blocks left out, and a
// device mounted twice shown once, at its shortest mount point, unless the
// "a" flag asks for all of them. Values are strings, as Salt's are.
package disk

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/brine-project/brine/minion/modules"
)

// Specs are the functions of the disk module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "disk.usage", Doc: "Return usage information for volumes mounted on this minion.\n\nargs\n    Sequence of flags to pass to the ``df`` command (a: all file systems, l: local ones only).\n\nCLI Example:\n\n    salt '*' disk.usage",
			Params: []modules.Param{modules.D("args", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return usage(c.Args["args"], "disk.usage", false)
			}},
		{Name: "disk.inodeusage", Doc: "Return inode usage information for volumes mounted on this minion.\n\nargs\n    Sequence of flags to pass to the ``df`` command.\n\nCLI Example:\n\n    salt '*' disk.inodeusage",
			Params: []modules.Param{modules.D("args", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return usage(c.Args["args"], "disk.inodeusage", true)
			}},
		{Name: "disk.percent", Doc: "Return partition information for volumes mounted on this minion.\n\nargs\n    Specify a single partition for which to return data.\n\nCLI Example:\n\n    salt '*' disk.percent /var",
			Params: []modules.Param{modules.D("args", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				ret, err := usage(nil, "disk.percent", false)
				if err != nil {
					return nil, err
				}
				out := make(map[string]any, len(ret))
				for mnt, v := range ret {
					out[mnt] = v.(map[string]any)["capacity"]
				}
				if c.Args["args"] == nil || c.Args["args"] == "" {
					return out, nil
				}
				part := fmt.Sprint(c.Args["args"])
				if v, ok := out[part]; ok {
					return v, nil
				}
				// Salt logs "Partition '…' does not exist!" and returns {}.
				return map[string]any{}, nil
			}},
	}
}

// flags are df's options Salt lets through (_clean_flags).
const allowedFlags = "aBhHiklPtTxv"

// options are the df flags Brine honours.
type options struct {
	all, local, inodes bool
}

// parseFlags checks args as Salt's _clean_flags does (each character of a
// string, or each item of a list, must be an allowed df flag) and keeps
// the ones Brine can honour; the others would change df's output format
// or need an argument, which Salt's parser cannot read either.
func parseFlags(args any, caller string) (options, error) {
	var o options
	var flags []string
	switch a := args.(type) {
	case nil:
		return o, nil
	case string:
		for _, r := range a {
			flags = append(flags, string(r))
		}
	case []any:
		for _, f := range a {
			flags = append(flags, fmt.Sprint(f))
		}
	default:
		flags = []string{fmt.Sprint(a)}
	}
	for _, f := range flags {
		if len(f) != 1 || !strings.Contains(allowedFlags, f) {
			return o, saltError("Invalid flag passed to " + caller)
		}
		switch f {
		case "a":
			o.all = true
		case "l":
			o.local = true
		case "i":
			o.inodes = true
		case "k", "P", "v":
		default:
			return o, fmt.Errorf("flag %q of %s is not supported: Brine computes the figures itself and only honours a, i, k, l, P and v", f, caller)
		}
	}
	return o, nil
}

// mount is one line of /proc/self/mounts.
type mount struct {
	device, dir, fstype string
}

// readMounts parses a mounts file, decoding the octal escapes (\040 for a
// space) the kernel writes in its fields.
func readMounts(path string) ([]mount, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []mount
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		out = append(out, mount{device: unescape(f[0]), dir: unescape(f[1]), fstype: f[2]})
	}
	return out, nil
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

// dummy are the file system types GNU df leaves out unless asked for all.
var dummy = map[string]bool{
	"autofs": true, "proc": true, "subfs": true, "debugfs": true, "devpts": true, "fusectl": true, "fuse.portal": true,
	"mqueue": true, "rpc_pipefs": true, "sysfs": true, "devfs": true, "kernfs": true, "ignore": true, "none": true,
	"binfmt_misc": true, "securityfs": true, "tracefs": true, "configfs": true, "pstore": true, "bpf": true,
	"cgroup": true, "cgroup2": true, "hugetlbfs": true, "efivarfs": true, "nsfs": true,
}

// remote are the network file system types the "l" flag leaves out.
var remote = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "ncpfs": true, "afs": true, "9p": true,
	"ceph": true, "glusterfs": true, "fuse.sshfs": true, "fuse.glusterfs": true, "lustre": true, "gfs2": true, "ocfs2": true,
}

// entry is a mount with its statfs figures.
type entry struct {
	mount
	st  syscall.Statfs_t
	dev uint64
}

// mounted returns the mounts df would show, with their statfs figures.
func mounted(o options) ([]entry, error) {
	ms, err := readMounts("/proc/self/mounts")
	if err != nil {
		return nil, fmt.Errorf("reading the mount table: %w", err)
	}
	var out []entry
	byDev := map[uint64]int{}
	for _, m := range ms {
		if !o.all && dummy[m.fstype] {
			continue
		}
		if o.local && remote[m.fstype] {
			continue
		}
		var e entry
		e.mount = m
		if err := syscall.Statfs(m.dir, &e.st); err != nil {
			continue // df reports it on stderr and goes on
		}
		if !o.all && e.st.Blocks == 0 {
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat(m.dir, &st); err == nil {
			e.dev = uint64(st.Dev)
		}
		if !o.all && e.dev != 0 {
			// A device mounted twice (bind mounts): df keeps the mount
			// nearest the root of the tree.
			if i, ok := byDev[e.dev]; ok {
				if len(m.dir) < len(out[i].dir) {
					out[i] = e
				}
				continue
			}
			byDev[e.dev] = len(out)
		}
		out = append(out, e)
	}
	return out, nil
}

// ceilDiv is a*b/d rounded up, as df rounds its block counts.
func ceilDiv(n, unit, d uint64) uint64 {
	if unit%d == 0 {
		return n * (unit / d)
	}
	return (n*unit + d - 1) / d
}

// percent is df's use percentage of used out of used+avail, rounded up,
// or "-" when there is nothing.
func percent(used, avail uint64) string {
	total := used + avail
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", (used*100+total-1)/total)
}

func usage(args any, caller string, inodes bool) (map[string]any, error) {
	o, err := parseFlags(args, caller)
	if err != nil {
		return nil, err
	}
	es, err := mounted(o)
	if err != nil {
		return nil, err
	}
	// Later mounts on the same directory hide earlier ones; the map keeps
	// the last, as Salt's dict does.
	ret := make(map[string]any, len(es))
	for _, e := range es {
		st := e.st
		if inodes {
			used := st.Files - st.Ffree
			ret[e.dir] = map[string]any{
				"inodes": strconv.FormatUint(st.Files, 10), "used": strconv.FormatUint(used, 10),
				"free": strconv.FormatUint(st.Ffree, 10), "use": percent(used, st.Ffree), "filesystem": e.device,
			}
			continue
		}
		if o.inodes { // df -Pi: the inode figures under usage's keys
			used := st.Files - st.Ffree
			ret[e.dir] = map[string]any{
				"filesystem": e.device, "1K-blocks": strconv.FormatUint(st.Files, 10), "used": strconv.FormatUint(used, 10),
				"available": strconv.FormatUint(st.Ffree, 10), "capacity": percent(used, st.Ffree),
			}
			continue
		}
		unit := uint64(st.Frsize)
		if unit == 0 {
			unit = uint64(st.Bsize)
		}
		used := st.Blocks - st.Bfree
		ret[e.dir] = map[string]any{
			"filesystem": e.device,
			"1K-blocks":  strconv.FormatUint(ceilDiv(st.Blocks, unit, 1024), 10),
			"used":       strconv.FormatUint(ceilDiv(used, unit, 1024), 10),
			"available":  strconv.FormatUint(ceilDiv(st.Bavail, unit, 1024), 10),
			"capacity":   percent(used, st.Bavail),
		}
	}
	return ret, nil
}

// saltError is an error in Salt's words (CommandExecutionError's text),
// capital letter included.
type saltError string

func (e saltError) Error() string { return string(e) }

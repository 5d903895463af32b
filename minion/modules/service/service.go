// Package service is Salt's service execution module: start, stop,
// enable and query the host's services.
//
// As in Salt, which loads one of systemd_service, gentoo_service
// (OpenRC), debian_service or rh_service (SysV) as "service", Specs picks
// one provider by looking at the host once:
//
//   - systemd when the host was booted with it (/run/systemd/system
//     exists, salt.utils.systemd.booted's test), driven through systemctl;
//   - else OpenRC when rc-service and rc-update are on PATH;
//   - else SysV init scripts when /etc/init.d exists: the scripts are run
//     directly (a BusyBox host has no "service" program), and boot links
//     are made with update-rc.d, chkconfig, or the script's own
//     enable/disable (OpenWrt), whichever the host has.
//
// The functions, arguments and return values are those of the Salt
// module for that init system: booleans for actions and queries, lists
// of names, and for OpenRC's get_all and get_enabled {name: [runlevels]}.
// A host with none of these gets no service functions, and a call
// answers "'service.start' is not available." as Salt's does.
package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
)

// Specs are the functions of the service module for this host's init
// system; none when it has none Brine knows.
func Specs() []*modules.Spec { return specsFor(cmd.SystemHost()) }

// Provider names the init system Specs drives on this host: "systemd",
// "openrc", "sysv", or "" for none.
func Provider() string { return detect(cmd.SystemHost()) }

func specsFor(h cmd.Host) []*modules.Spec {
	switch detect(h) {
	case "systemd":
		return (&systemd{h: h}).specs()
	case "openrc":
		return (&openrc{h: h}).specs()
	case "sysv":
		return (&sysv{h: h}).specs()
	}
	return nil
}

func detect(h cmd.Host) string {
	switch {
	case isDir(h.File("/run/systemd/system")) && h.Has("systemctl"):
		return "systemd"
	case h.Has("rc-service") && h.Has("rc-update"):
		return "openrc"
	case isDir(h.File("/etc/init.d")):
		return "sysv"
	}
	return ""
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// nameParam is the one argument most functions take.
var nameParam = []modules.Param{modules.P("name")}

// name is the call's service name.
func name(c *modules.Call) string { return pyStr(c.Args["name"]) }

// pyStr is Python's str() of a published value.
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(v)
}

// runlevels is the "runlevels" keyword: one runlevel or a list of them.
func runlevels(c *modules.Call) ([]string, bool) {
	v, ok := c.Extra["runlevels"]
	if !ok {
		return nil, false
	}
	if l, isList := v.([]any); isList {
		out := make([]string, 0, len(l))
		for _, x := range l {
			out = append(out, pyStr(x))
		}
		return out, true
	}
	return []string{pyStr(v)}, true
}

var globClass = regexp.MustCompile(`\[.+\]`)

// hasGlob is Salt's test for a service name that is a glob.
func hasGlob(s string) bool { return strings.ContainsAny(s, "*?") || globClass.MatchString(s) }

// statusAll is the shape of every provider's status: one name gives a
// bool, a glob gives {name: bool} over the services of all that match.
func statusAll(ctx context.Context, pattern string, all func(context.Context) ([]string, error), one func(context.Context, string) (bool, error)) (any, error) {
	if !hasGlob(pattern) {
		return one(ctx, pattern)
	}
	names, err := all(ctx)
	if err != nil {
		return nil, err
	}
	ret := map[string]any{}
	for _, n := range names {
		if !fnmatch.Match(pattern, n) {
			continue
		}
		up, err := one(ctx, n)
		if err != nil {
			return nil, err
		}
		ret[n] = up
	}
	return ret, nil
}

// sigRunning is Salt's status.pid test for status(name, sig): whether a
// process other than the minion has sig in its command line.
func sigRunning(h cmd.Host, sig string) bool {
	procs, _ := filepath.Glob(h.File("/proc/[0-9]*/cmdline"))
	self := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		if filepath.Base(filepath.Dir(p)) == self {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		if strings.Contains(strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " "), sig) {
			return true
		}
	}
	return false
}

// toAny is a list of names as a return.
func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// ok is the return of an action: whether the command exited 0.
func ok(r cmd.Result, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return r.Code == 0, nil
}

// runlevel is the current SysV runlevel ("runlevel" prints "N 2"); in a
// container or without init it is unknown, and Debian's default 2 is
// assumed as Salt does.
func runlevel(ctx context.Context, h cmd.Host) string {
	r, err := h.Run(ctx, nil, "runlevel")
	if f := strings.Fields(r.Stdout); err == nil && len(f) == 2 && f[1] != "unknown" {
		return f[1]
	}
	return "2"
}

// sysvEnabled lists the services with a start link ("S<nn>name") in the
// runlevel's directory: /etc/rc<N>.d and /etc/rcS.d (Debian, and Red Hat
// through its /etc/rc.d/rc<N>.d), or /etc/rc.d (OpenWrt).
func sysvEnabled(h cmd.Host, level string) []string {
	var links []string
	for _, pat := range []string{"/etc/rc" + level + ".d/S*", "/etc/rcS.d/S*", "/etc/rc.d/rc" + level + ".d/S*", "/etc/rc.d/S*"} {
		m, _ := filepath.Glob(h.File(pat))
		links = append(links, m...)
	}
	var out []string
	for _, l := range links {
		n := strings.TrimLeft(strings.TrimPrefix(filepath.Base(l), "S"), "0123456789")
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// initScripts lists /etc/init.d, without README and hidden files; with
// executable, only the scripts that can be run.
func initScripts(h cmd.Host, executable bool) []string {
	entries, _ := os.ReadDir(h.File("/etc/init.d"))
	var out []string
	for _, e := range entries {
		n := e.Name()
		if n == "README" || strings.HasPrefix(n, ".") {
			continue
		}
		if executable {
			fi, err := os.Stat(filepath.Join(h.File("/etc/init.d"), n))
			if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
				continue
			}
		}
		out = append(out, n)
	}
	return out
}

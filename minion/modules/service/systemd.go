package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// systemd is Salt's systemd_service: units driven through systemctl,
// with the SysV init scripts systemd runs for compatibility.
type systemd struct{ h cmd.Host }

// unitTypes are the unit suffixes Salt knows; a name without one is a
// service.
var unitTypes = []string{"service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer"}

// unitDirs are where unit files live: the system's, then the local ones.
var unitDirs = []string{"/lib/systemd/system", "/usr/lib/systemd/system", "/etc/systemd/system"}

func (s *systemd) specs() []*modules.Spec {
	unmaskParams := []modules.Param{modules.P("name"), modules.D("no_block", false), modules.D("unmask", false), modules.D("unmask_runtime", false)}
	strict := func(verb string, noBlock bool) *modules.Spec {
		params := slices.Clone(unmaskParams)
		params[1] = modules.D("no_block", noBlock)
		return &modules.Spec{Name: "service." + strings.ReplaceAll(verb, "-", "_"),
			Doc:    "Run systemctl " + verb + " on a unit; return True, or fail with systemctl's error.",
			Params: params,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return s.strictAction(ctx, c, verb)
			}}
	}
	rootList := func(doc string, f func(context.Context, string) ([]string, error)) *modules.Spec {
		return &modules.Spec{Doc: doc, Params: []modules.Param{modules.D("root", nil)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := f(ctx, optStr(c.Args["root"]))
				return toAny(l), err
			}}
	}
	getAll := rootList("List every service and other unit, with the SysV init scripts that have no unit.", s.all)
	getAll.Name = "service.get_all"
	getEnabled := rootList("List the units (and init scripts) enabled at boot.", func(ctx context.Context, root string) ([]string, error) {
		return s.byState(ctx, root, "enabled")
	})
	getEnabled.Name = "service.get_enabled"
	getDisabled := rootList("List the units (and init scripts) disabled at boot.", func(ctx context.Context, root string) ([]string, error) {
		return s.byState(ctx, root, "disabled")
	})
	getDisabled.Name = "service.get_disabled"
	getStatic := rootList("List the static units.", func(ctx context.Context, root string) ([]string, error) {
		return s.byState(ctx, root, "static")
	})
	getStatic.Name = "service.get_static"
	return []*modules.Spec{
		strict("start", false),
		{Name: "service.stop", Doc: "Stop a unit; return whether systemctl succeeded.",
			Params: []modules.Param{modules.P("name"), modules.D("no_block", false)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if err := s.checkUnitChanges(ctx, name(c)); err != nil {
					return nil, err
				}
				return ok(s.systemctl(ctx, true, pydata.IsTrue(c.Args["no_block"]), "", "stop", unitName(name(c))))
			}},
		strict("restart", false),
		strict("reload", false),
		strict("force-reload", true),
		{Name: "service.status", Doc: "Return whether a unit is active; for a glob, {name: bool}. sig is not used.",
			Params: []modules.Param{modules.P("name"), modules.D("sig", nil)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				all := func(ctx context.Context) ([]string, error) { return s.all(ctx, "") }
				return statusAll(ctx, name(c), all, func(ctx context.Context, u string) (bool, error) {
					if err := s.checkUnitChanges(ctx, u); err != nil {
						return false, err
					}
					r, err := s.systemctl(ctx, false, false, "", "is-active", unitName(u))
					return err == nil && r.Code == 0, err
				})
			}},
		{Name: "service.enable", Doc: "Enable a unit (or init script) at boot; return True, or fail with systemctl's error.",
			Params: append(slices.Clone(unmaskParams), modules.D("root", nil)), VarKw: true, Fn: s.enable},
		{Name: "service.disable", Doc: "Disable a unit (or init script) at boot; return whether it worked.",
			Params: []modules.Param{modules.P("name"), modules.D("no_block", false), modules.D("root", nil)}, VarKw: true, Fn: s.disable},
		{Name: "service.enabled", Doc: "Return whether a unit (or init script) is enabled at boot.",
			Params: []modules.Param{modules.P("name"), modules.D("root", nil)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return s.enabled(ctx, name(c), optStr(c.Args["root"]))
			}},
		{Name: "service.disabled", Doc: "Return whether a unit (or init script) is not enabled at boot.",
			Params: []modules.Param{modules.P("name"), modules.D("root", nil)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				on, err := s.enabled(ctx, name(c), optStr(c.Args["root"]))
				return !on, err
			}},
		{Name: "service.available", Doc: "Return whether systemd knows a unit (template units included).", Params: nameParam,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) { return s.available(ctx, name(c), true) }},
		{Name: "service.missing", Doc: "Return whether systemd does not know a unit.", Params: nameParam,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				there, err := s.available(ctx, name(c), true)
				return !there, err
			}},
		getAll, getEnabled, getDisabled, getStatic,
		{Name: "service.get_running", Doc: "List the units that are running.",
			Fn: func(ctx context.Context, _ *modules.Call) (any, error) {
				l, err := s.running(ctx)
				return toAny(l), err
			}},
		{Name: "service.systemctl_reload", Doc: "Run systemctl daemon-reload, as needed after unit files change; return True.",
			Fn: func(ctx context.Context, _ *modules.Call) (any, error) { return true, s.daemonReload(ctx) }},
		{Name: "service.masked", Doc: "Return whether a unit is masked (runtime=True: until the next boot).",
			Params: []modules.Param{modules.P("name"), modules.D("runtime", false), modules.D("root", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return s.masked(name(c), pydata.IsTrue(c.Args["runtime"]), optStr(c.Args["root"])), nil
			}},
		{Name: "service.mask", Doc: "Mask a unit (runtime=True: until the next boot); return True.",
			Params: []modules.Param{modules.P("name"), modules.D("runtime", false), modules.D("root", nil)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return true, s.mask(ctx, name(c), true, pydata.IsTrue(c.Args["runtime"]), optStr(c.Args["root"]))
			}},
		{Name: "service.unmask", Doc: "Unmask a unit (runtime=True: the runtime mask); return True.",
			Params: []modules.Param{modules.P("name"), modules.D("runtime", false), modules.D("root", nil)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return true, s.mask(ctx, name(c), false, pydata.IsTrue(c.Args["runtime"]), optStr(c.Args["root"]))
			}},
	}
}

// saltError is an error carrying Salt's own text, which (unlike Go's)
// starts with a capital letter; the registry returns it after "ERROR: ".
func saltError(msg string) error { return errors.New(msg) }

func optStr(v any) string {
	if v == nil {
		return ""
	}
	return pyStr(v)
}

// unitName is a unit's full name: a name without a unit type is a
// service.
func unitName(n string) string {
	for _, t := range unitTypes {
		if strings.HasSuffix(n, "."+t) {
			return n
		}
	}
	return n + ".service"
}

// shortName is how Salt lists a unit: a service by its bare name, other
// units by their full name; "" for what is not a unit.
func shortName(full string) string {
	i := strings.LastIndex(full, ".")
	if i < 0 || !slices.Contains(unitTypes, full[i+1:]) {
		return ""
	}
	base, typ := full[:i], full[i+1:]
	if typ == "service" {
		return base
	}
	return full
}

// version is systemd's version ("systemd 252 (252.36-1~deb12u1)"), 0
// when unknown.
func (s *systemd) version(ctx context.Context) int {
	r, err := s.h.Run(ctx, nil, "systemctl", "--version")
	if err != nil {
		return 0
	}
	f := strings.Fields(r.Stdout)
	if len(f) < 2 || f[0] != "systemd" {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// systemctl runs "systemctl [--no-block] [--root R] args...",
// inside a systemd scope when it changes state (systemd 205 has scopes),
// so that restarting the minion's own unit does not cut it short.
func (s *systemd) systemctl(ctx context.Context, scope, noBlock bool, root string, args ...string) (cmd.Result, error) {
	var argv []string
	if scope && s.h.Has("systemd-run") && s.version(ctx) >= 205 {
		argv = append(argv, "systemd-run", "--scope")
	}
	argv = append(argv, "systemctl")
	if noBlock {
		argv = append(argv, "--no-block")
	}
	if root != "" {
		argv = append(argv, "--root", root)
	}
	argv = append(argv, args...)
	if slices.Contains(argv, "status") {
		argv = append(argv, "-n", "0")
	}
	return s.h.Run(ctx, nil, argv...)
}

// stripScope drops systemd-run's "Running scope as unit ....scope" line
// from an error.
func stripScope(msg string) string {
	var keep []string
	for line := range strings.Lines(msg) {
		if line = strings.TrimRight(line, "\n"); !strings.HasSuffix(line, ".scope") {
			keep = append(keep, line)
		}
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

func (s *systemd) status(ctx context.Context, unit string) (cmd.Result, error) {
	r, err := s.systemctl(ctx, false, false, "", "status", unitName(unit))
	if err == nil && r.Stderr != "" {
		r.Stdout = strings.TrimSpace(r.Stdout + "\n" + r.Stderr) // Salt reads it with stderr redirected
	}
	return r, err
}

// available is Salt's _check_available: systemd 231 and later exits
// 0 to 3 from "systemctl status" for a unit it knows, 4 for one it does
// not; older ones are read.
func (s *systemd) available(ctx context.Context, unit string, checkChanges bool) (bool, error) {
	if checkChanges {
		if err := s.checkUnitChanges(ctx, unit); err != nil {
			return false, err
		}
	}
	r, err := s.status(ctx, unit)
	if err != nil {
		return false, err
	}
	if v := s.version(ctx); v >= 231 {
		return r.Code >= 0 && r.Code < 4, nil
	}
	out := strings.ToLower(r.Stdout)
	if strings.Contains(out, "could not be found") {
		return false, nil
	}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "loaded:" {
			return f[1] != "not-found", nil
		}
	}
	return false, saltError("Failed to get information on unit '" + unit + "'")
}

// checkUnitChanges runs daemon-reload when a unit's files changed on
// disk, or a local unit file exists that systemd does not know yet.
func (s *systemd) checkUnitChanges(ctx context.Context, unit string) error {
	if _, err := os.Stat(s.h.File("/etc/systemd/system/" + unitName(unit))); err == nil {
		there, err := s.available(ctx, unit, false)
		if err != nil {
			return err
		}
		if !there {
			return s.daemonReload(ctx)
		}
	}
	r, err := s.status(ctx, unit)
	if err != nil {
		return err
	}
	if strings.Contains(strings.ToLower(r.Stdout), "'systemctl daemon-reload'") {
		return s.daemonReload(ctx)
	}
	return nil
}

func (s *systemd) daemonReload(ctx context.Context) error {
	r, err := s.systemctl(ctx, false, false, "", "--system", "daemon-reload")
	if err != nil {
		return err
	}
	if r.Code != 0 {
		return saltError("Problem performing systemctl daemon-reload: " + strings.TrimSpace(r.Stdout+"\n"+r.Stderr))
	}
	return nil
}

// strictAction is start, restart, reload and force-reload: unmask first
// if asked, and fail with systemctl's error text.
func (s *systemd) strictAction(ctx context.Context, c *modules.Call, verb string) (any, error) {
	n := name(c)
	if err := s.checkUnitChanges(ctx, n); err != nil {
		return nil, err
	}
	if err := s.checkUnmask(ctx, c, ""); err != nil {
		return nil, err
	}
	r, err := s.systemctl(ctx, true, pydata.IsTrue(c.Args["no_block"]), "", verb, unitName(n))
	if err != nil {
		return nil, err
	}
	if r.Code != 0 {
		return nil, saltError(stripScope(r.Stderr))
	}
	return true, nil
}

func (s *systemd) checkUnmask(ctx context.Context, c *modules.Call, root string) error {
	if pydata.IsTrue(c.Args["unmask"]) {
		if err := s.mask(ctx, name(c), false, false, root); err != nil {
			return err
		}
	}
	if pydata.IsTrue(c.Args["unmask_runtime"]) {
		return s.mask(ctx, name(c), false, true, root)
	}
	return nil
}

// rooted is an absolute path under the root of --root (or the host's).
func (s *systemd) rooted(p, root string) string {
	if root != "" {
		return filepath.Join(root, p)
	}
	return s.h.File(p)
}

// masked is whether the unit's link in /etc (or /run for runtime)
// points at /dev/null.
func (s *systemd) masked(unit string, runtime bool, root string) bool {
	dir := "/etc/systemd/system"
	if runtime {
		dir = "/run/systemd/system"
	}
	target, err := os.Readlink(s.rooted(filepath.Join(dir, unitName(unit)), root))
	return err == nil && target == "/dev/null"
}

// mask masks (on) or unmasks a unit; unmasking one that is not masked
// does nothing.
func (s *systemd) mask(ctx context.Context, unit string, on, runtime bool, root string) error {
	if err := s.checkUnitChanges(ctx, unit); err != nil {
		return err
	}
	verb := "mask"
	if !on {
		if !s.masked(unit, runtime, root) {
			return nil
		}
		verb = "unmask"
	}
	args := []string{verb, unitName(unit)}
	if runtime {
		args = []string{verb, "--runtime", unitName(unit)}
	}
	r, err := s.systemctl(ctx, true, false, root, args...)
	if err != nil {
		return err
	}
	if r.Code != 0 {
		if on {
			return saltError("Failed to mask service '" + unit + "'. Additional info follows:\n\n" + strings.TrimSpace(r.Stdout+"\n"+r.Stderr))
		}
		return saltError("Failed to unmask service '" + unit + "'")
	}
	return nil
}

// unitFiles lists the unit files in the unit directories by Salt's short
// names (a directory that is a link to another is skipped).
func (s *systemd) unitFiles(root string) []string {
	var out []string
	for _, d := range unitDirs {
		p := s.rooted(d, root)
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeSymlink != 0 {
			continue
		}
		entries, _ := os.ReadDir(p)
		for _, e := range entries {
			if n := shortName(e.Name()); n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// sysvServices are the executable init scripts that have no unit.
func (s *systemd) sysvServices(root string, units []string) []string {
	h := s.h
	if root != "" {
		h.Root = root
	}
	return slices.DeleteFunc(initScripts(h, true), func(n string) bool { return slices.Contains(units, n) })
}

func (s *systemd) all(_ context.Context, root string) ([]string, error) {
	units := s.unitFiles(root)
	out := append(slices.Clone(units), s.sysvServices(root, units)...)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// byState lists the unit files systemctl list-unit-files shows in state,
// and for "enabled" and "disabled" the init scripts without a unit whose
// start links are (or are not) in the current runlevel.
func (s *systemd) byState(ctx context.Context, root, state string) ([]string, error) {
	r, err := s.systemctl(ctx, false, false, root, "--full", "--no-legend", "--no-pager", "list-unit-files")
	if err != nil {
		return nil, err
	}
	var out []string
	for line := range strings.Lines(r.Stdout) {
		f := strings.Fields(line)
		if len(f) < 2 || f[1] != state {
			continue
		}
		if n := shortName(f[0]); n != "" {
			out = append(out, n)
		}
	}
	if state == "enabled" || state == "disabled" {
		h := s.h
		if root != "" {
			h.Root = root
		}
		on := sysvEnabled(h, runlevel(ctx, s.h))
		for _, n := range s.sysvServices(root, s.unitFiles(root)) {
			if slices.Contains(on, n) == (state == "enabled") {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (s *systemd) running(ctx context.Context) ([]string, error) {
	r, err := s.systemctl(ctx, false, false, "", "--full", "--no-legend", "--no-pager")
	if err != nil {
		return nil, err
	}
	var out []string
	for line := range strings.Lines(r.Stdout) {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "running" {
			continue
		}
		if n := shortName(f[0]); n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (s *systemd) isSysv(n, root string) bool {
	return slices.Contains(s.sysvServices(root, s.unitFiles(root)), n)
}

func (s *systemd) enable(ctx context.Context, c *modules.Call) (any, error) {
	n, root := name(c), optStr(c.Args["root"])
	if err := s.checkUnitChanges(ctx, n); err != nil {
		return nil, err
	}
	if err := s.checkUnmask(ctx, c, root); err != nil {
		return nil, err
	}
	if s.isSysv(n, root) {
		return s.sysvBoot(ctx, n, true)
	}
	r, err := s.systemctl(ctx, true, pydata.IsTrue(c.Args["no_block"]), root, "enable", unitName(n))
	if err != nil {
		return nil, err
	}
	if r.Code != 0 {
		return nil, saltError(stripScope(r.Stderr))
	}
	return true, nil
}

func (s *systemd) disable(ctx context.Context, c *modules.Call) (any, error) {
	n, root := name(c), optStr(c.Args["root"])
	if err := s.checkUnitChanges(ctx, n); err != nil {
		return nil, err
	}
	if s.isSysv(n, root) {
		return s.sysvBoot(ctx, n, false)
	}
	return ok(s.systemctl(ctx, true, pydata.IsTrue(c.Args["no_block"]), root, "disable", unitName(n)))
}

// sysvBoot enables or disables an init script that has no unit, with
// update-rc.d or chkconfig as Salt does.
func (s *systemd) sysvBoot(ctx context.Context, n string, on bool) (any, error) {
	var argv []string
	switch {
	case s.h.Has("update-rc.d") && on:
		argv = []string{"update-rc.d", "-f", n, "defaults", "99"}
	case s.h.Has("update-rc.d"):
		argv = []string{"update-rc.d", "-f", n, "remove"}
	case s.h.Has("chkconfig") && on:
		argv = []string{"chkconfig", n, "on"}
	case s.h.Has("chkconfig"):
		argv = []string{"chkconfig", n, "off"}
	default:
		return nil, saltError("Unable to find sysv service manager (tried update-rc.d, chkconfig)")
	}
	if s.h.Has("systemd-run") && s.version(ctx) >= 205 {
		argv = append([]string{"systemd-run", "--scope"}, argv...)
	}
	return ok(s.h.Run(ctx, nil, argv...))
}

func (s *systemd) enabled(ctx context.Context, n, root string) (bool, error) {
	r, err := s.systemctl(ctx, false, false, root, "is-enabled", unitName(n))
	if err != nil {
		return false, err
	}
	switch {
	case r.Code == 0:
		return true, nil
	case strings.Contains(n, "@"):
		// Older systemd cannot ask about template instances: look for the link.
		found := false
		_ = filepath.WalkDir(s.rooted("/etc/systemd/system", root), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Name() == n && d.Type()&os.ModeSymlink != 0 {
				found = true
				return filepath.SkipAll
			}
			return nil
		})
		return found, nil
	case s.isSysv(n, root):
		h := s.h
		if root != "" {
			h.Root = root
		}
		return slices.Contains(sysvEnabled(h, runlevel(ctx, s.h)), n), nil
	}
	return false, nil
}

package pkg

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// apt is Salt's aptpkg: Debian and its derivatives, through apt-get,
// apt-cache and dpkg-query.
type apt struct {
	h cmd.Host
	// lockWait is how long to wait before trying again after a try
	// that found the dpkg lock taken (Salt waits 2^try seconds, 10 times).
	lockWait func(try int) time.Duration
}

// aptEnv keeps apt and dpkg from asking questions (Salt's DPKG_ENV_VARS).
var aptEnv = []string{
	"APT_LISTBUGS_FRONTEND=none",
	"APT_LISTCHANGES_FRONTEND=none",
	"DEBIAN_FRONTEND=noninteractive",
	"UCF_FORCE_CONFFOLD=1",
}

func newApt(h cmd.Host) *apt {
	return &apt{h: h, lockWait: func(try int) time.Duration { return time.Duration(1<<try) * time.Second }}
}

func (a *apt) specs() []*modules.Spec {
	latest := func(ctx context.Context, c *modules.Call) (any, error) { return a.latestVersion(ctx, c, names(c)) }
	return []*modules.Spec{
		{Name: "pkg.list_pkgs", Doc: "List the installed packages as {name: version}; removed=True lists those removed but not purged.",
			Params: []modules.Param{modules.D("versions_as_list", false), modules.D("removed", false), modules.D("purge_desired", false)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := a.listPkgs(ctx, pydata.IsTrue(c.Args["removed"]), pydata.IsTrue(c.Args["purge_desired"]))
				if err != nil {
					return nil, err
				}
				return l.ret(pydata.IsTrue(c.Args["versions_as_list"])), nil
			}},
		{Name: "pkg.version", Doc: "Return the installed version of a package, \"\" if it is not installed; of several (or a glob), a dict.",
			VarArgs: true, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := a.listPkgs(ctx, pydata.IsTrue(c.Extra["removed"]), pydata.IsTrue(c.Extra["purge_desired"]))
				if err != nil {
					return nil, err
				}
				return versionRet(names(c), l, pydata.IsTrue(c.Extra["versions_as_list"])), nil
			}},
		{Name: "pkg.latest_version", Doc: "Return the version apt would install or upgrade a package to, \"\" if the newest is installed; of several, a dict. Refreshes the database first unless refresh=False.",
			VarArgs: true, VarKw: true, Fn: latest},
		{Name: "pkg.available_version", Doc: "Alias of pkg.latest_version (deprecated).", VarArgs: true, VarKw: true, Fn: latest},
		{Name: "pkg.upgrade_available", Doc: "Return whether an upgrade is available for a package.",
			Params: []modules.Param{modules.P("name")}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				v, err := a.latestVersion(ctx, c, []string{pyStr(c.Args["name"])})
				return v != "", err
			}},
		{Name: "pkg.refresh_db", Doc: "Run apt-get update; return {repository: True (fetched), None (unchanged) or False (failed)}.",
			Params: []modules.Param{modules.D("cache_valid_time", int64(0)), modules.D("failhard", false)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return a.refreshDB(ctx, c.Args["cache_valid_time"], pydata.IsTrue(c.Args["failhard"]))
			}},
		{Name: "pkg.install", Doc: "Install packages (name, a comma-separated list, or pkgs=[name or {name: version}], or sources=[{name: path or salt:// URL}]); version= pins a single name. Return {name: {\"old\", \"new\"}} for what changed.",
			Params: []modules.Param{modules.D("name", nil), modules.D("refresh", false), modules.D("fromrepo", nil), modules.D("skip_verify", false),
				modules.D("debconf", nil), modules.D("pkgs", nil), modules.D("sources", nil), modules.D("reinstall", false),
				modules.D("downloadonly", false), modules.D("ignore_epoch", false)},
			VarKw: true, Fn: a.install},
		{Name: "pkg.remove", Doc: "Remove packages (name, a comma-separated list, or pkgs=[...]) with apt-get remove; return the changes.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) { return a.uninstall(ctx, c, "remove") }},
		{Name: "pkg.purge", Doc: "Remove packages and their configuration files with apt-get purge; return {\"removed\", \"installed\"} changes.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) { return a.uninstall(ctx, c, "purge") }},
		{Name: "pkg.upgrade", Doc: "Upgrade every package with apt-get upgrade (dist-upgrade with dist_upgrade=True); return the changes.",
			Params: []modules.Param{modules.D("refresh", true), modules.D("dist_upgrade", false)}, VarKw: true, Fn: a.upgrade},
		{Name: "pkg.list_upgrades", Doc: "Return {name: version} of the available upgrades.",
			Params: []modules.Param{modules.D("refresh", true), modules.D("dist_upgrade", true)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if pydata.IsTrue(c.Args["refresh"]) {
					if _, err := a.refreshDB(ctx, c.Extra["cache_valid_time"], false); err != nil {
						return nil, err
					}
				}
				return a.upgradable(ctx, pydata.IsTrue(c.Args["dist_upgrade"]), optStr(c.Extra["fromrepo"]))
			}},
		{Name: "pkg.list_repo_pkgs", Doc: "Return {name: [versions, newest first]} of the packages the repositories offer, all of them or those named.",
			VarArgs: true, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := a.repoPkgs(ctx, names(c))
				if err != nil {
					return nil, err
				}
				return l.ret(true), nil
			}},
		{Name: "pkg.version_cmp", Doc: "Compare two Debian versions: -1, 0 or 1 as pkg1 is older than, the same as or newer than pkg2.",
			Params: []modules.Param{modules.P("pkg1"), modules.P("pkg2"), modules.D("ignore_epoch", false)}, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				v1, v2 := pyStr(c.Args["pkg1"]), pyStr(c.Args["pkg2"])
				if pydata.IsTrue(c.Args["ignore_epoch"]) {
					v1, v2 = dropEpoch(v1), dropEpoch(v2)
				}
				return int64(debCompare(v1, v2)), nil
			}},
		{Name: "pkg.normalize_name", Doc: "Strip the architecture from a package name when it is the host's own (or all/any).",
			Params: []modules.Param{modules.P("name")},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return a.normalizer(ctx)(pyStr(c.Args["name"])), nil
			}},
		{Name: "pkg.parse_arch", Doc: "Split a package name into {\"name\", \"arch\"}.",
			Params: []modules.Param{modules.P("name")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				n := pyStr(c.Args["name"])
				if i := strings.LastIndex(n, ":"); i >= 0 {
					return map[string]any{"name": n[:i], "arch": n[i+1:]}, nil
				}
				return map[string]any{"name": n, "arch": nil}, nil
			}},
		{Name: "pkg.autoremove", Doc: "Remove the packages nothing needs any more (apt-get autoremove); list_only=True lists them instead.",
			Params: []modules.Param{modules.D("list_only", false), modules.D("purge", false)}, Fn: a.autoremove},
	}
}

// callApt runs an apt program, inside a systemd scope where Salt would use
// one (so that restarting the minion's unit does not kill dpkg), trying
// again while another process holds the dpkg lock.
func (a *apt) callApt(ctx context.Context, scope bool, env []string, args ...string) (cmd.Result, error) {
	if scope && a.h.Exists("/run/systemd/system") && a.h.Has("systemd-run") {
		args = append([]string{"systemd-run", "--scope", "--description", `"salt.modules.aptpkg"`}, args...)
	}
	env = append(slices.Clone(aptEnv), env...)
	for try := 1; ; try++ {
		r, err := a.h.Run(ctx, env, args...)
		if err != nil || !strings.Contains(r.Stderr, "Could not get lock") || try > 10 {
			return r, err
		}
		t := time.NewTimer(a.lockWait(try))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return r, context.Cause(ctx)
		}
	}
}

// listPkgs reads dpkg's database: the installed packages (with those
// marked for purge that are still installed), or with removed those
// removed whose configuration files remain. Packages of an architecture
// foreign to the host are named name:arch.
func (a *apt) listPkgs(ctx context.Context, removed, purgeDesired bool) (pkgList, error) {
	r, err := a.h.Run(ctx, nil, "dpkg-query", "--showformat", "${Status} ${Package} ${Version} ${Architecture}\n", "-W")
	if err != nil {
		return nil, err
	}
	type row struct{ want, status, name, version, arch string }
	var rows []row
	native := ""
	for line := range strings.Lines(r.Stdout) {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue // not installed: no version
		}
		rw := row{f[0], f[2], f[3], f[4], f[5]}
		if rw.name == "dpkg" {
			native = rw.arch // dpkg is always of the host's own architecture
		}
		rows = append(rows, rw)
	}
	installed, gone, purge := pkgList{}, pkgList{}, pkgList{}
	for _, rw := range rows {
		name := rw.name
		if native != "" && rw.arch != "all" && rw.arch != native {
			name += ":" + rw.arch
		}
		switch {
		case (strings.Contains(rw.want, "install") || strings.Contains(rw.want, "hold")) && strings.Contains(rw.status, "installed"):
			installed.add(name, rw.version)
		case strings.Contains(rw.want, "deinstall"):
			gone.add(name, rw.version)
		case strings.Contains(rw.want, "purge") && rw.status == "installed":
			purge.add(name, rw.version)
		}
	}
	if removed {
		gone.sort()
		return gone, nil
	}
	if !purgeDesired {
		maps.Copy(purge, installed)
	}
	purge.sort()
	return purge, nil
}

// installed is the stringified list of installed packages.
func (a *apt) installed(ctx context.Context) (map[string]string, error) {
	l, err := a.listPkgs(ctx, false, false)
	if err != nil {
		return nil, err
	}
	return l.strings(), nil
}

// normalizer returns pkg.normalize_name: name:arch loses its arch when
// that is the host's own, all or any.
func (a *apt) normalizer(ctx context.Context) func(string) string {
	r, err := a.h.Run(ctx, nil, "dpkg", "--print-architecture")
	native := r.Stdout
	return func(name string) string {
		i := strings.LastIndex(name, ":")
		if i < 0 {
			return name
		}
		if arch := name[i+1:]; (err == nil && arch == native) || arch == "all" || arch == "any" {
			return name[:i]
		}
		return name
	}
}

func (a *apt) latestVersion(ctx context.Context, c *modules.Call, ns []string) (any, error) {
	refresh := true
	if v, ok := kwarg(c, "refresh"); ok {
		refresh = pydata.IsTrue(v)
	}
	showInstalled := pydata.IsTrue(c.Extra["show_installed"])
	if _, ok := kwarg(c, "repo"); ok {
		return invocationError(c, "The 'repo' argument is invalid, use 'fromrepo' instead")
	}
	if len(ns) == 0 {
		return "", nil
	}
	l, err := a.listPkgs(ctx, false, false)
	if err != nil {
		return nil, err
	}
	if refresh {
		if _, err := a.refreshDB(ctx, c.Extra["cache_valid_time"], false); err != nil {
			return nil, err
		}
	}
	cands, err := a.candidates(ctx, ns, optStr(c.Extra["fromrepo"]))
	if err != nil {
		return nil, err
	}
	ret := map[string]any{}
	for _, n := range ns {
		cand := cands[n]
		inst := l[n]
		switch {
		case len(inst) == 0 || showInstalled:
			ret[n] = cand
		case cand != "" && !slices.ContainsFunc(inst, func(v string) bool { return debCompare(v, cand) >= 0 }):
			ret[n] = cand // newer than every installed version: an upgrade
		default:
			ret[n] = ""
		}
	}
	if len(ns) == 1 {
		return ret[ns[0]], nil
	}
	return ret, nil
}

// candidates asks apt-cache policy for the version apt would install of
// each name ("" for none).
func (a *apt) candidates(ctx context.Context, ns []string, fromrepo string) (map[string]string, error) {
	args := append([]string{"apt-cache", "-q", "policy"}, ns...)
	if fromrepo != "" {
		args = append(args, "-o", "APT::Default-Release="+fromrepo)
	}
	r, err := a.callApt(ctx, false, nil, args...)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	current := ""
	for line := range strings.Lines(r.Stdout) {
		line = strings.TrimRight(line, "\n")
		if h, ok := strings.CutSuffix(line, ":"); ok && !strings.HasPrefix(line, " ") {
			for _, n := range ns {
				if short, _, _ := strings.Cut(n, ":"); h == n || h == short {
					current = n
				}
			}
			continue
		}
		if strings.Contains(line, "Candidate") && current != "" {
			f := strings.Fields(line)
			cand := ""
			if len(f) >= 2 && strings.ToLower(f[len(f)-1]) != "(none)" {
				cand = f[len(f)-1]
			}
			out[current] = cand
		}
	}
	return out, nil
}

var sizeSuffix = regexp.MustCompile(` \[.+B\]$`)

// aptLists is where apt keeps the package lists; its modification time
// tells when the database was last refreshed.
const aptLists = "/var/lib/apt/lists"

func (a *apt) refreshDB(ctx context.Context, cacheValid any, failhard bool) (any, error) {
	ret := map[string]any{}
	if secs, ok := number(cacheValid); ok && secs > 0 {
		if fi, err := os.Stat(a.h.File(aptLists)); err == nil && time.Since(fi.ModTime()) < time.Duration(secs*float64(time.Second)) {
			return ret, nil
		}
	}
	r, err := a.callApt(ctx, false, nil, "apt-get", "-q", "update")
	if err != nil {
		return nil, err
	}
	if r.Code != 0 {
		return nil, execError(r.Stderr, nil)
	}
	var failed []string
	for line := range strings.Lines(r.Stdout) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		ident := strings.Join(f[1:], " ")
		switch {
		case strings.Contains(f[0], "Get"):
			ret[sizeSuffix.ReplaceAllString(ident, "")] = true
		case strings.Contains(f[0], "Ign"):
			ret[ident] = false
		case strings.Contains(f[0], "Hit"):
			ret[ident] = nil
		case strings.Contains(f[0], "Err"):
			ret[ident] = false
			failed = append(failed, ident)
		}
	}
	if failhard && len(failed) > 0 {
		return nil, execError("Error getting repos: "+strings.Join(failed, ", "), nil)
	}
	return ret, nil
}

// number is a published number (or numeric string) as a float.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, true
	case string:
		var f float64
		_, err := fmt.Sscan(v, &f)
		return f, err == nil
	}
	return 0, false
}

func (a *apt) install(ctx context.Context, c *modules.Call) (any, error) {
	name, pkgs, sources := c.Args["name"], c.Args["pkgs"], c.Args["sources"]
	version := optStr(c.Extra["version"])
	refresh := false
	if pydata.IsTrue(c.Args["refresh"]) {
		refresh = true
		// Salt skips the refresh when every version asked for is already the candidate.
		if version != "" && !pydata.Truthy(pkgs) {
			cur, err := a.candidates(ctx, []string{pyStr(name)}, "")
			if err != nil {
				return nil, err
			}
			refresh = cur[pyStr(name)] != version
		}
		if l, ok := dictList(pkgs); ok && pydata.Truthy(pkgs) {
			refresh = false
			for _, t := range l {
				if t.version == "" {
					refresh = true
					continue
				}
				cur, err := a.candidates(ctx, []string{t.name}, "")
				if err != nil {
					return nil, err
				}
				if cur[t.name] != t.version {
					refresh = true
				}
			}
		}
	}
	if d := optStr(c.Args["debconf"]); d != "" {
		if err := a.setDebconf(ctx, c, d); err != nil {
			return nil, err
		}
	}
	targets, kind := parseTargets(name, pkgs, sources, version, a.normalizer(ctx))
	fromrepo := optStr(c.Args["fromrepo"])
	if fromrepo == "" {
		fromrepo = optStr(c.Extra["repo"])
	}
	if len(targets) == 0 {
		return map[string]any{}, nil
	}
	old, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	var errs []any
	var install, downgrade, reinstall []string
	var reinstalled []string
	var available map[string][]string
	if kind == repoTargets {
		var cmpNames []string
		for _, t := range targets {
			if strings.HasPrefix(t.version, "<") || strings.HasPrefix(t.version, ">") {
				cmpNames = append(cmpNames, t.name)
			}
		}
		if len(cmpNames) > 0 {
			if available, err = a.repoPkgs(ctx, cmpNames); err != nil {
				return nil, err
			}
		}
	}
	cmpFn := debCompare
	if pydata.IsTrue(c.Args["ignore_epoch"]) {
		cmpFn = func(x, y string) int { return debCompare(dropEpoch(x), dropEpoch(y)) }
	}
	doReinstall := pydata.IsTrue(c.Args["reinstall"])
	for _, t := range targets {
		pkgName, arg, ver := t.name, t.name, t.version
		if kind == fileTargets {
			path, err := localSource(ctx, c, t.version)
			if err != nil {
				return nil, err
			}
			arg = path
			if pkgName, ver, err = a.debInfo(ctx, path); err != nil {
				return nil, err
			}
		}
		if ver == "" {
			if _, ok := old[pkgName]; ok && doReinstall {
				reinstall = append(reinstall, arg)
				reinstalled = append(reinstalled, pkgName)
			} else {
				install = append(install, arg)
			}
			continue
		}
		if kind == repoTargets {
			ver = strings.TrimLeft(ver, "=")
			if strings.HasPrefix(ver, "<") || strings.HasPrefix(ver, ">") {
				m := matchVersion(ver, available[pkgName], cmpFn)
				if m == "" {
					shown := "None"
					if len(available[pkgName]) > 0 {
						shown = strings.Join(available[pkgName], ", ")
					}
					errs = append(errs, fmt.Sprintf("No version matching '%s%s' could be found (available: %s)", pkgName, ver, shown))
					continue
				}
				ver = m
			}
			arg = pkgName + "=" + ver
		}
		cver := old[pkgName]
		switch {
		case doReinstall && cver != "" && cmpFn(ver, cver) == 0:
			reinstall = append(reinstall, arg)
			reinstalled = append(reinstalled, pkgName)
		case cver == "" || cmpFn(ver, cver) >= 0:
			install = append(install, arg)
		default:
			downgrade = append(downgrade, arg)
		}
	}
	prefix := []string{"apt-get", "-q", "-y"}
	if pydata.IsTrue(c.Extra["force_yes"]) {
		prefix = append(prefix, "--force-yes")
	}
	if pydata.IsTrue(c.Extra["force_conf_new"]) {
		prefix = append(prefix, "-o", "DPkg::Options::=--force-confnew")
	} else {
		prefix = append(prefix, "-o", "DPkg::Options::=--force-confold", "-o", "DPkg::Options::=--force-confdef")
	}
	if v, ok := kwarg(c, "install_recommends"); ok {
		if pydata.IsTrue(v) {
			prefix = append(prefix, "--install-recommends")
		} else {
			prefix = append(prefix, "--no-install-recommends")
		}
	}
	if pydata.IsTrue(c.Extra["only_upgrade"]) {
		prefix = append(prefix, "--only-upgrade")
	}
	if pydata.IsTrue(c.Args["skip_verify"]) {
		prefix = append(prefix, "--allow-unauthenticated")
	}
	if fromrepo != "" && kind == repoTargets {
		prefix = append(prefix, "-t", fromrepo)
	}
	prefix = append(prefix, "install")
	var cmds [][]string
	if len(install) > 0 {
		cmds = append(cmds, append(slices.Clone(prefix), install...))
	}
	if len(downgrade) > 0 {
		cmd := slices.Clone(prefix)
		if kind == repoTargets && !slices.Contains(cmd, "--force-yes") {
			cmd = slices.Insert(cmd, len(cmd)-1, "--force-yes") // downgrading needs it
		}
		cmds = append(cmds, append(cmd, downgrade...))
	}
	if len(reinstall) > 0 {
		cmd := slices.Clone(prefix)
		if kind == repoTargets {
			cmd = append(cmd, "--reinstall")
		}
		cmds = append(cmds, append(cmd, reinstall...))
	}
	if pydata.IsTrue(c.Args["downloadonly"]) {
		for i := range cmds {
			cmds[i] = append(cmds[i], "--download-only")
		}
	}
	ret := map[string]any{}
	if len(cmds) > 0 {
		if refresh {
			if _, err := a.refreshDB(ctx, c.Extra["cache_valid_time"], false); err != nil {
				return nil, err
			}
		}
		for _, args := range cmds {
			r, err := a.callApt(ctx, true, envArg(c), args...)
			if err != nil {
				return nil, err
			}
			if r.Code != 0 && r.Stderr != "" {
				errs = append(errs, r.Stderr)
			}
		}
		now, err := a.installed(ctx)
		if err != nil {
			return nil, err
		}
		ret = compareDicts(old, now)
		for _, n := range reinstalled {
			ret[n] = map[string]any{"old": old[n], "new": now[n]}
		}
	}
	if len(errs) > 0 {
		return nil, execError("Problem encountered installing package(s)", map[string]any{"errors": errs, "changes": ret})
	}
	return ret, nil
}

// debInfo reads a .deb file's package name and version.
func (a *apt) debInfo(ctx context.Context, path string) (string, string, error) {
	r, err := a.h.Run(ctx, nil, "dpkg-deb", "--show", "--showformat", "${Package}\t${Version}", path)
	if err != nil {
		return "", "", err
	}
	n, v, ok := strings.Cut(r.Stdout, "\t")
	if r.Code != 0 || !ok {
		return "", "", execError(fmt.Sprintf("Unable to get package information for %s: %s", path, r.Stderr), nil)
	}
	return n, v, nil
}

func (a *apt) setDebconf(ctx context.Context, c *modules.Call, src string) error {
	path, err := localSource(ctx, c, src)
	if err != nil {
		return err
	}
	r, err := a.h.Run(ctx, nil, "debconf-set-selections", path)
	if err != nil {
		return err
	}
	if r.Code != 0 {
		return execError(fmt.Sprintf("Unable to set debconf selections from %s: %s", src, r.Stderr), nil)
	}
	return nil
}

// localSource is a package source as a path on the minion: salt:// URLs
// are fetched into the file cache, file:// URLs and absolute paths are
// used as they are.
func localSource(ctx context.Context, c *modules.Call, src string) (string, error) {
	switch {
	case strings.HasPrefix(src, "salt://"):
		if c.Env == nil || c.Env.Files == nil {
			return "", execError(fmt.Sprintf("Unable to cache %s: this minion has no master file server", src), nil)
		}
		saltenv := optStr(c.Extra["saltenv"])
		if saltenv == "" {
			saltenv = "base"
		}
		return c.Env.Files.CacheFile(ctx, src, saltenv)
	case strings.HasPrefix(src, "file://"):
		return strings.TrimPrefix(src, "file://"), nil
	case strings.HasPrefix(src, "/"):
		return src, nil
	}
	return "", errInvocation(fmt.Sprintf("Path %s is either not absolute or an invalid protocol", src))
}

func (a *apt) uninstall(ctx context.Context, c *modules.Call, action string) (any, error) {
	targets, _ := parseTargets(c.Args["name"], c.Args["pkgs"], nil, "", nil)
	old, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	oldGone, err := a.listPkgs(ctx, true, false)
	if err != nil {
		return nil, err
	}
	names := matchWildcard(old, targets)
	if action == "purge" {
		for _, n := range matchWildcard(oldGone.strings(), targets) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return map[string]any{}, nil
	}
	r, err := a.callApt(ctx, true, envArg(c), append([]string{"apt-get", "-q", "-y", action}, names...)...)
	if err != nil {
		return nil, err
	}
	now, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	changes := compareDicts(old, now)
	var ret map[string]any = changes
	if action == "purge" {
		nowGone, err := a.listPkgs(ctx, true, false)
		if err != nil {
			return nil, err
		}
		ret = map[string]any{"removed": compareDicts(oldGone.strings(), nowGone.strings()), "installed": changes}
	}
	if r.Code != 0 && r.Stderr != "" {
		return nil, execError("Problem encountered removing package(s)", map[string]any{"errors": []any{r.Stderr}, "changes": ret})
	}
	return ret, nil
}

func (a *apt) upgrade(ctx context.Context, c *modules.Call) (any, error) {
	if pydata.IsTrue(c.Args["refresh"]) {
		if _, err := a.refreshDB(ctx, c.Extra["cache_valid_time"], false); err != nil {
			return nil, err
		}
	}
	old, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"apt-get", "-q", "-y"}
	if pydata.IsTrue(c.Extra["force_conf_new"]) {
		args = append(args, "-o", "DPkg::Options::=--force-confnew")
	} else {
		args = append(args, "-o", "DPkg::Options::=--force-confold", "-o", "DPkg::Options::=--force-confdef")
	}
	for _, opt := range []struct{ kw, flag string }{
		{"force_yes", "--force-yes"}, {"skip_verify", "--allow-unauthenticated"}, {"download_only", "--download-only"},
		{"downloadonly", "--download-only"}, {"allow_downgrades", "--allow-downgrades"},
	} {
		if pydata.IsTrue(c.Extra[opt.kw]) && !slices.Contains(args, opt.flag) {
			args = append(args, opt.flag)
		}
	}
	if pydata.IsTrue(c.Args["dist_upgrade"]) {
		args = append(args, "dist-upgrade")
	} else {
		args = append(args, "upgrade")
	}
	r, err := a.callApt(ctx, true, nil, args...)
	if err != nil {
		return nil, err
	}
	now, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret := compareDicts(old, now)
	if r.Code != 0 {
		return nil, execError("Problem encountered upgrading packages", map[string]any{"changes": ret, "result": runDict(r)})
	}
	return ret, nil
}

var confLine = regexp.MustCompile(`(?m)^Conf ([^ ]+) \(([^ ]+)`)

// upgradable asks apt-get what an upgrade would install: {name: version}.
func (a *apt) upgradable(ctx context.Context, dist bool, fromrepo string) (any, error) {
	args := []string{"apt-get", "--just-print", "upgrade"}
	if dist {
		args[2] = "dist-upgrade"
	}
	if fromrepo != "" {
		args = append(args, "-o", "APT::Default-Release="+fromrepo)
	}
	r, err := a.callApt(ctx, true, nil, args...)
	if err != nil {
		return nil, err
	}
	if r.Code != 0 {
		msg := "Failed to get upgrades"
		if r.Stderr != "" {
			msg += ": " + r.Stderr
		} else if r.Stdout != "" {
			msg += ": " + r.Stdout
		}
		return nil, execError(msg, nil)
	}
	ret := map[string]any{}
	for _, m := range confLine.FindAllStringSubmatch(r.Stdout, -1) {
		ret[m[1]] = m[2]
	}
	return ret, nil
}

// repoPkgs is list_repo_pkgs: the versions apt-cache knows of each name
// (of every package with no names), in apt-cache's order.
func (a *apt) repoPkgs(ctx context.Context, ns []string) (pkgList, error) {
	args := []string{"apt-cache", "dump"}
	if len(ns) > 0 {
		args = append([]string{"apt-cache", "show"}, ns...)
	}
	r, err := a.callApt(ctx, false, nil, args...)
	if err != nil {
		return nil, err
	}
	ret := pkgList{}
	current := ""
	for line := range strings.Lines(r.Stdout) {
		line = strings.TrimSpace(line)
		if n, ok := strings.CutPrefix(line, "Package: "); ok {
			current = n
			continue
		}
		if v, ok := strings.CutPrefix(line, "Version: "); ok && current != "" {
			ret.add(current, v)
		}
	}
	return ret, nil
}

func (a *apt) autoremove(ctx context.Context, c *modules.Call) (any, error) {
	purge := pydata.IsTrue(c.Args["purge"])
	if pydata.IsTrue(c.Args["list_only"]) {
		args := []string{"apt-get", "--assume-no"}
		if purge {
			args = append(args, "--purge")
		}
		r, err := a.callApt(ctx, true, nil, append(args, "autoremove")...)
		if err != nil {
			return nil, err
		}
		var out []string
		found := false
		for line := range strings.Lines(r.Stdout) {
			line = strings.TrimRight(line, "\n")
			switch {
			case found && strings.HasPrefix(line, " "):
				out = append(out, strings.Fields(line)...)
			case found:
				found = false
			case strings.Contains(line, "The following packages will be REMOVED:"):
				found = true
			}
		}
		slices.Sort(out)
		return toAny(out), nil
	}
	old, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"apt-get", "--assume-yes"}
	if purge {
		args = append(args, "--purge")
	}
	if _, err := a.callApt(ctx, true, nil, append(args, "autoremove")...); err != nil {
		return nil, err
	}
	now, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	return compareDicts(old, now), nil
}

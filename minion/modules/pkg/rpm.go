package pkg

import (
	"context"
	"slices"
	"strings"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// rpmHost is Salt's yumpkg: the Red Hat family, through dnf (or yum where
// there is no dnf) and rpm.
type rpmHost struct {
	h   cmd.Host
	yum string // "dnf" or "yum"
}

func newRPM(h cmd.Host, yum string) *rpmHost { return &rpmHost{h: h, yum: yum} }

// The architectures rpm names (salt.utils.pkg.rpm): the 32-bit x86 ones,
// which a 32-bit host runs side by side, and every one a package name may
// end in.
var (
	arches32   = []string{"i386", "i486", "i586", "i686"}
	archSuffix = append(slices.Clone(arches32), "x86_64", "athlon", "amd64", "ia32e", "ia64", "geode", "ppc", "ppc64", "ppc64le",
		"ppc64iseries", "ppc64pseries", "s390", "s390x", "sparc", "sparcv9", "sparc64", "sparc64v", "alpha", "alphaev6",
		"armv5tel", "armv5tejl", "armv6l", "armv6hl", "armv7l", "armv7hl", "armv7hnl", "aarch64", "sh3", "sh4", "sh4a", "noarch")
)

func (y *rpmHost) specs() []*modules.Spec {
	latest := func(ctx context.Context, c *modules.Call) (any, error) { return y.latestVersion(ctx, c, names(c)) }
	return append(installedSpecs("List the installed packages as {name: version}; a foreign architecture is named name.arch.", y.listPkgs), []*modules.Spec{
		{Name: "pkg.latest_version", Doc: "Return the newest version available to install or upgrade a package to, \"\" if it is installed; of several, a dict. Refreshes the metadata first unless refresh=False.",
			VarArgs: true, VarKw: true, Fn: latest},
		{Name: "pkg.available_version", Doc: "Alias of pkg.latest_version (deprecated).", VarArgs: true, VarKw: true, Fn: latest},
		{Name: "pkg.upgrade_available", Doc: "Return whether an upgrade is available for a package.",
			Params: []modules.Param{modules.P("name")}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				v, err := y.latestVersion(ctx, c, []string{pyStr(c.Args["name"])})
				return v != "", err
			}},
		{Name: "pkg.refresh_db", Doc: "Expire the metadata cache and check for updates: True if there are some, None if not, False on error.",
			VarKw: true, Fn: func(ctx context.Context, _ *modules.Call) (any, error) { return y.refreshDB(ctx) }},
		{Name: "pkg.install", Doc: "Install packages (name, a comma-separated list, or pkgs=[name or {name: version}], or sources=[{name: path or salt:// URL}]); version= pins a single name. Return {name: {\"old\", \"new\"}} for what changed.",
			Params: []modules.Param{modules.D("name", nil), modules.D("refresh", false), modules.D("skip_verify", false), modules.D("pkgs", nil),
				modules.D("sources", nil), modules.D("downloadonly", false), modules.D("reinstall", false), modules.D("normalize", true),
				modules.D("update_holds", false), modules.D("saltenv", "base"), modules.D("ignore_epoch", false)},
			VarKw: true, Fn: y.install},
		{Name: "pkg.remove", Doc: "Remove packages (name, a comma-separated list, or pkgs=[...]); return the changes.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil)}, VarKw: true, Fn: y.remove},
		{Name: "pkg.purge", Doc: "Alias of pkg.remove: rpm keeps no configuration of removed packages.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil)}, VarKw: true, Fn: y.remove},
		{Name: "pkg.upgrade", Doc: "Upgrade every package, or those named; return the changes.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil), modules.D("refresh", true), modules.D("skip_verify", false),
				modules.D("normalize", true), modules.D("minimal", false), modules.D("obsoletes", true), modules.D("diff_attr", nil)},
			VarKw: true, Fn: y.upgrade},
		{Name: "pkg.list_upgrades", Doc: "Return {name: version} of the available upgrades.",
			Params: []modules.Param{modules.D("refresh", true)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if pydata.IsTrue(c.Args["refresh"]) {
					if _, err := y.refreshDB(ctx); err != nil {
						return nil, err
					}
				}
				what := "--upgrades"
				if y.yum == "yum" {
					what = "updates"
				}
				infos, err := y.listCmd(ctx, what)
				if err != nil {
					return nil, err
				}
				ret := map[string]any{}
				for _, p := range infos {
					ret[p.name] = p.version
				}
				return ret, nil
			}},
		{Name: "pkg.version_cmp", Doc: "Compare two RPM versions: -1, 0 or 1 as pkg1 is older than, the same as or newer than pkg2.",
			Params: []modules.Param{modules.P("pkg1"), modules.P("pkg2"), modules.D("ignore_epoch", false)}, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				v1, v2 := pyStr(c.Args["pkg1"]), pyStr(c.Args["pkg2"])
				if pydata.IsTrue(c.Args["ignore_epoch"]) {
					v1, v2 = dropEpoch(v1), dropEpoch(v2)
				}
				return int64(rpmCompare(v1, v2)), nil
			}},
	}...)
}

// osarch is the host's rpm architecture (Salt's osarch grain).
func (y *rpmHost) osarch(ctx context.Context) string {
	r, err := y.h.Run(ctx, nil, "rpm", "--eval", "%{_host_cpu}")
	if err != nil || r.Code != 0 {
		return ""
	}
	return r.Stdout
}

// resolveName is salt.utils.pkg.rpm.resolve_name: a package of another
// architecture than the host's (other than noarch, and than 32-bit on a
// 32-bit host) is named name.arch.
func resolveName(name, arch, osarch string) string {
	if slices.Contains(arches32, arch) && slices.Contains(arches32, osarch) {
		return name
	}
	if arch != osarch && arch != "noarch" {
		return name + "." + arch
	}
	return name
}

func (y *rpmHost) listPkgs(ctx context.Context) (pkgList, error) {
	osarch := y.osarch(ctx)
	r, err := y.h.Run(ctx, nil, "rpm", "-qa", "--nodigest", "--nosignature", "--queryformat",
		"%{NAME}_|-%{EPOCH}_|-%{VERSION}_|-%{RELEASE}_|-%{ARCH}_|-(none)_|-%{INSTALLTIME}\n")
	if err != nil {
		return nil, err
	}
	l := pkgList{}
	for line := range strings.Lines(r.Stdout) {
		f := strings.Split(strings.TrimRight(line, "\n"), "_|-")
		if len(f) != 7 {
			continue
		}
		name, epoch, ver, rel, arch := f[0], f[1], f[2], f[3], f[4]
		if rel != "" && rel != "(none)" {
			ver += "-" + rel
		}
		if epoch != "" && epoch != "(none)" && epoch != "0" {
			ver = epoch + ":" + ver
		}
		l.add(resolveName(name, arch, osarch), ver)
	}
	for k, v := range l {
		slices.SortFunc(v, rpmCompare)
		l[k] = slices.Compact(v)
	}
	return l, nil
}

func (y *rpmHost) installed(ctx context.Context) (map[string]string, error) {
	l, err := y.listPkgs(ctx)
	if err != nil {
		return nil, err
	}
	return l.strings(), nil
}

// call runs dnf (or yum) with args, stderr folded into the output as
// Salt's _call_yum(redirect_stderr=True) has it.
func (y *rpmHost) call(ctx context.Context, args ...string) (int, string, error) {
	r, err := y.h.Run(ctx, nil, append([]string{y.yum}, args...)...)
	out := r.Stdout
	if r.Stderr != "" {
		out = strings.TrimSpace(out + "\n" + r.Stderr)
	}
	return r.Code, out, err
}

func (y *rpmHost) refreshDB(ctx context.Context) (any, error) {
	if _, _, err := y.call(ctx, "--quiet", "--assumeyes", "clean", "expire-cache"); err != nil {
		return nil, err
	}
	code, _, err := y.call(ctx, "--quiet", "--assumeyes", "check-update")
	if err != nil {
		return nil, err
	}
	switch code {
	case 100:
		return true, nil
	case 0:
		return nil, nil
	}
	return false, nil
}

// listHeaders are the headings of dnf's and yum's listings (Salt's
// _strip_headers).
var listHeaders = []string{"installed packages", "available packages", "available upgrades", "updated packages", "upgraded packages"}

// pkgInfo is one package of a "dnf list" listing.
type pkgInfo struct{ name, arch, version, repo string }

// listCmd runs "dnf --quiet list <what> [names]" and parses the listing:
// name.arch, version and repository, three words a package however the
// lines wrap (Salt's _yum_pkginfo).
func (y *rpmHost) listCmd(ctx context.Context, what string, ns ...string) ([]pkgInfo, error) {
	osarch := y.osarch(ctx)
	r, err := y.h.Run(ctx, nil, append([]string{y.yum, "--quiet", "list", what}, ns...)...)
	if err != nil {
		return nil, err
	}
	var words []string
	for line := range strings.Lines(r.Stdout) {
		t := strings.TrimSpace(line)
		if slices.Contains(listHeaders, strings.ToLower(t)) || strings.HasPrefix(t, "Last metadata expiration check") {
			continue
		}
		words = append(words, strings.Fields(t)...)
	}
	var out []pkgInfo
	for i := 0; i+2 < len(words); i += 3 {
		name, arch := words[i], osarch
		if j := strings.LastIndex(name, "."); j >= 0 {
			name, arch = name[:j], name[j+1:]
		}
		out = append(out, pkgInfo{name: resolveName(name, arch, osarch), arch: arch,
			version: strings.TrimRight(words[i+1], "-"), repo: strings.TrimLeft(words[i+2], "@")})
	}
	return out, nil
}

func (y *rpmHost) latestVersion(ctx context.Context, c *modules.Call, ns []string) (any, error) {
	refresh := true
	if v, ok := kwarg(c, "refresh"); ok {
		refresh = pydata.IsTrue(v)
	}
	if len(ns) == 0 {
		return "", nil
	}
	if refresh {
		if _, err := y.refreshDB(ctx); err != nil {
			return nil, err
		}
	}
	inst, err := y.listPkgs(ctx)
	if err != nil {
		return nil, err
	}
	what := "--available"
	if y.yum == "yum" {
		what = "available"
	}
	avail, err := y.listCmd(ctx, what, ns...)
	if err != nil {
		return nil, err
	}
	ret := map[string]any{}
	for _, n := range ns {
		best := ""
		for _, p := range avail {
			if p.name == n && (best == "" || rpmCompare(p.version, best) > 0) {
				best = p.version
			}
		}
		if best != "" && slices.ContainsFunc(inst[n], func(v string) bool { return rpmCompare(v, best) >= 0 }) {
			best = ""
		}
		ret[n] = best
	}
	if len(ns) == 1 {
		return ret[ns[0]], nil
	}
	return ret, nil
}

func (y *rpmHost) install(ctx context.Context, c *modules.Call) (any, error) {
	if pydata.IsTrue(c.Args["refresh"]) {
		if _, err := y.refreshDB(ctx); err != nil {
			return nil, err
		}
	}
	targets, kind := parseTargets(c.Args["name"], c.Args["pkgs"], c.Args["sources"], optStr(c.Extra["version"]), nil)
	if len(targets) == 0 {
		return map[string]any{}, nil
	}
	old, err := y.installed(ctx)
	if err != nil {
		return nil, err
	}
	cmpFn := rpmCompare
	if pydata.IsTrue(c.Args["ignore_epoch"]) {
		cmpFn = func(a, b string) int { return rpmCompare(dropEpoch(a), dropEpoch(b)) }
	}
	var install, downgrade, reinstall, reinstalled []string
	for _, t := range targets {
		if kind == fileTargets {
			path, err := localSource(ctx, c, t.version)
			if err != nil {
				return nil, err
			}
			install = append(install, path)
			continue
		}
		cur := old[t.name]
		if t.version == "" {
			if cur != "" && pydata.IsTrue(c.Args["reinstall"]) {
				reinstall = append(reinstall, t.name)
				reinstalled = append(reinstalled, t.name)
			} else {
				install = append(install, t.name)
			}
			continue
		}
		ver := strings.TrimLeft(t.version, "=")
		spec := t.name + "-" + ver
		switch {
		case cur != "" && pydata.IsTrue(c.Args["reinstall"]) && cmpFn(ver, cur) == 0:
			reinstall = append(reinstall, spec)
			reinstalled = append(reinstalled, t.name)
		case cur == "" || cmpFn(ver, cur) >= 0:
			install = append(install, spec)
		default:
			downgrade = append(downgrade, spec)
		}
	}
	common := []string{"-y"}
	if pydata.IsTrue(c.Args["skip_verify"]) {
		common = append(common, "--nogpgcheck")
	}
	if pydata.IsTrue(c.Args["downloadonly"]) {
		common = append(common, "--downloadonly")
	}
	var errs []any
	run := func(verb string, args []string) error {
		if len(args) == 0 {
			return nil
		}
		cmd := append(slices.Clone(common), verb)
		if verb == "install" && y.yum == "dnf" {
			cmd = append(cmd, "--best", "--allowerasing")
		}
		code, out, err := y.call(ctx, append(cmd, args...)...)
		if err == nil && code != 0 {
			errs = append(errs, out)
		}
		return err
	}
	for _, step := range []struct {
		verb string
		args []string
	}{{"install", install}, {"downgrade", downgrade}, {"reinstall", reinstall}} {
		if err := run(step.verb, step.args); err != nil {
			return nil, err
		}
	}
	now, err := y.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret := compareDicts(old, now)
	for _, n := range reinstalled {
		if _, ok := ret[n]; !ok {
			ret[n] = map[string]any{"old": old[n], "new": now[n]}
		}
	}
	if len(errs) > 0 {
		what := "Error occurred installing package(s)"
		if len(reinstall) > 0 {
			what = "Error occurred installing/reinstalling package(s)"
		}
		return nil, execError(what, map[string]any{"errors": errs, "changes": ret})
	}
	return ret, nil
}

func (y *rpmHost) remove(ctx context.Context, c *modules.Call) (any, error) {
	targets, _ := parseTargets(c.Args["name"], c.Args["pkgs"], nil, "", nil)
	old, err := y.installed(ctx)
	if err != nil {
		return nil, err
	}
	var args []string
	for _, t := range targets {
		cur, ok := old[t.name]
		switch {
		case !ok:
		case t.version == "":
			args = append(args, t.name)
		case slices.Contains(strings.Split(cur, ","), t.version):
			name, arch := t.name, ""
			if i := strings.LastIndex(name, "."); i >= 0 && slices.Contains(archSuffix, name[i+1:]) {
				name, arch = name[:i], name[i:]
			}
			args = append(args, name+"-"+t.version+arch)
		}
	}
	if len(args) == 0 {
		return map[string]any{}, nil
	}
	r, err := y.h.Run(ctx, nil, append([]string{y.yum, "-y", "remove"}, args...)...)
	if err != nil {
		return nil, err
	}
	now, err := y.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret := compareDicts(old, now)
	if r.Code != 0 && r.Stderr != "" {
		return nil, execError("Error occurred removing package(s)", map[string]any{"errors": []any{r.Stderr}, "changes": ret})
	}
	return ret, nil
}

func (y *rpmHost) upgrade(ctx context.Context, c *modules.Call) (any, error) {
	if pydata.IsTrue(c.Args["refresh"]) {
		if _, err := y.refreshDB(ctx); err != nil {
			return nil, err
		}
	}
	old, err := y.installed(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{y.yum, "--quiet", "-y"}
	if pydata.IsTrue(c.Args["skip_verify"]) {
		args = append(args, "--nogpgcheck")
	}
	if !pydata.IsTrue(c.Args["obsoletes"]) {
		args = append(args, "--obsoletes=0")
	}
	verb := "upgrade"
	if pydata.IsTrue(c.Args["minimal"]) {
		verb = "upgrade-minimal"
	}
	args = append(args, verb)
	if targets, _ := parseTargets(c.Args["name"], c.Args["pkgs"], nil, "", nil); len(targets) > 0 {
		for _, t := range targets {
			if t.version != "" {
				args = append(args, t.name+"-"+strings.TrimLeft(t.version, "="))
			} else {
				args = append(args, t.name)
			}
		}
	}
	r, err := y.h.Run(ctx, nil, args...)
	if err != nil {
		return nil, err
	}
	now, err := y.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret := compareDicts(old, now)
	if r.Code != 0 {
		return nil, execError("Problem encountered upgrading packages", map[string]any{"changes": ret, "result": runDict(r)})
	}
	return ret, nil
}

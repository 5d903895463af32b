package pkg

import (
	"context"
	"slices"
	"strings"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// opkg is Salt's opkg module: OpenWrt and other embedded systems, through
// opkg.
type opkg struct{ h cmd.Host }

func newOpkg(h cmd.Host) *opkg { return &opkg{h: h} }

func (o *opkg) specs() []*modules.Spec {
	return append(installedSpecs("List the installed packages as {name: version}.", o.listPkgs), []*modules.Spec{
		{Name: "pkg.latest_version", Doc: "Return the version opkg would install or upgrade a package to, \"\" if the newest is installed; of several, a dict.",
			VarArgs: true, VarKw: true, Fn: o.latestVersion},
		{Name: "pkg.refresh_db", Doc: "Run opkg update; return {feed: True or False}.",
			Params: []modules.Param{modules.D("failhard", false)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return o.refreshDB(ctx, pydata.IsTrue(c.Args["failhard"]))
			}},
		{Name: "pkg.install", Doc: "Install packages (name, a comma-separated list, or pkgs=[...]) with opkg install; return {name: {\"old\", \"new\"}} for what changed.",
			Params: []modules.Param{modules.D("name", nil), modules.D("refresh", false), modules.D("pkgs", nil), modules.D("sources", nil), modules.D("reinstall", false)},
			VarKw:  true, Fn: o.install},
		{Name: "pkg.remove", Doc: "Remove packages (name, a comma-separated list, or pkgs=[...]) with opkg remove; return the changes.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil)}, VarKw: true, Fn: o.remove},
		{Name: "pkg.purge", Doc: "Alias of pkg.remove.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil)}, VarKw: true, Fn: o.remove},
		{Name: "pkg.upgrade", Doc: "Upgrade every upgradable package; return the changes.",
			Params: []modules.Param{modules.D("refresh", true)}, VarKw: true, Fn: o.upgrade},
		{Name: "pkg.list_upgrades", Doc: "Return {name: version} of the available upgrades.",
			Params: []modules.Param{modules.D("refresh", true)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if pydata.IsTrue(c.Args["refresh"]) {
					if _, err := o.refreshDB(ctx, false); err != nil {
						return nil, err
					}
				}
				up, err := o.upgradable(ctx)
				if err != nil {
					return nil, err
				}
				ret := map[string]any{}
				for k, v := range up {
					ret[k] = v
				}
				return ret, nil
			}},
		{Name: "pkg.version_cmp", Doc: "Compare two versions: -1, 0 or 1 as pkg1 is older than, the same as or newer than pkg2.",
			Params: []modules.Param{modules.P("pkg1"), modules.P("pkg2"), modules.D("ignore_epoch", false)}, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				v1, v2 := pyStr(c.Args["pkg1"]), pyStr(c.Args["pkg2"])
				if pydata.IsTrue(c.Args["ignore_epoch"]) {
					v1, v2 = dropEpoch(v1), dropEpoch(v2)
				}
				return int64(debCompare(v1, v2)), nil
			}},
	}...)
}

// fields splits opkg's "name - version[ - more]" lines.
func opkgFields(line string) []string { return strings.Split(strings.TrimSpace(line), " - ") }

func (o *opkg) listPkgs(ctx context.Context) (pkgList, error) {
	r, err := o.h.Run(ctx, nil, "opkg", "list-installed")
	if err != nil {
		return nil, err
	}
	l := pkgList{}
	for line := range strings.Lines(r.Stdout) {
		if f := opkgFields(line); len(f) >= 2 {
			l.add(f[0], f[1])
		}
	}
	l.sort()
	return l, nil
}

func (o *opkg) installed(ctx context.Context) (map[string]string, error) {
	l, err := o.listPkgs(ctx)
	if err != nil {
		return nil, err
	}
	return l.strings(), nil
}

// upgradable is opkg list-upgradable: {name: new version}.
func (o *opkg) upgradable(ctx context.Context) (map[string]string, error) {
	r, err := o.h.Run(ctx, nil, "opkg", "list-upgradable")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for line := range strings.Lines(r.Stdout) {
		if f := opkgFields(line); len(f) >= 3 {
			out[f[0]] = f[2]
		}
	}
	return out, nil
}

func (o *opkg) refreshDB(ctx context.Context, failhard bool) (any, error) {
	r, err := o.h.Run(ctx, nil, "opkg", "update")
	if err != nil {
		return nil, err
	}
	ret := map[string]any{}
	var failed []string
	for line := range strings.Lines(r.Stdout + "\n" + r.Stderr) {
		f := strings.Fields(line)
		switch {
		case strings.Contains(line, "Updated list of available packages in") && len(f) > 0:
			p := f[len(f)-1]
			ret[p[strings.LastIndex(p, "/")+1:]] = true
		case strings.Contains(line, "Failed to download") && len(f) > 0:
			key := strings.TrimRight(f[len(f)-1], ".,")
			ret[key] = false
			failed = append(failed, key)
		}
	}
	if r.Code != 0 && len(failed) == 0 {
		return nil, execError(strings.TrimSpace(r.Stderr+"\n"+r.Stdout), nil)
	}
	if failhard && len(failed) > 0 {
		return nil, execError("Error getting repos: "+strings.Join(failed, ", "), nil)
	}
	return ret, nil
}

func (o *opkg) latestVersion(ctx context.Context, c *modules.Call) (any, error) {
	ns := names(c)
	if len(ns) == 0 {
		return "", nil
	}
	if v, ok := kwarg(c, "refresh"); !ok || pydata.IsTrue(v) {
		if _, err := o.refreshDB(ctx, false); err != nil {
			return nil, err
		}
	}
	inst, err := o.listPkgs(ctx)
	if err != nil {
		return nil, err
	}
	up, err := o.upgradable(ctx)
	if err != nil {
		return nil, err
	}
	ret := map[string]any{}
	for _, n := range ns {
		ret[n] = up[n]
		if len(inst[n]) > 0 {
			continue
		}
		r, err := o.h.Run(ctx, nil, "opkg", "list", n)
		if err != nil {
			return nil, err
		}
		best := ""
		for line := range strings.Lines(r.Stdout) {
			if f := opkgFields(line); len(f) >= 2 && f[0] == n && (best == "" || debCompare(f[1], best) > 0) {
				best = f[1]
			}
		}
		ret[n] = best
	}
	if len(ns) == 1 {
		return ret[ns[0]], nil
	}
	return ret, nil
}

func (o *opkg) install(ctx context.Context, c *modules.Call) (any, error) {
	targets, kind := parseTargets(c.Args["name"], c.Args["pkgs"], c.Args["sources"], optStr(c.Extra["version"]), nil)
	if len(targets) == 0 {
		return map[string]any{}, nil
	}
	if pydata.IsTrue(c.Args["refresh"]) {
		if _, err := o.refreshDB(ctx, false); err != nil {
			return nil, err
		}
	}
	old, err := o.installed(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"opkg", "install"}
	if pydata.IsTrue(c.Args["reinstall"]) {
		args = append(args, "--force-reinstall")
	}
	for _, t := range targets {
		if kind == fileTargets {
			path, err := localSource(ctx, c, t.version)
			if err != nil {
				return nil, err
			}
			args = append(args, path)
			continue
		}
		args = append(args, t.name) // opkg installs the feed's version only
	}
	r, err := o.h.Run(ctx, nil, args...)
	if err != nil {
		return nil, err
	}
	now, err := o.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret := compareDicts(old, now)
	if r.Code != 0 {
		return nil, execError("Problem encountered installing package(s)", map[string]any{"errors": []any{strings.TrimSpace(r.Stderr + "\n" + r.Stdout)}, "changes": ret})
	}
	return ret, nil
}

func (o *opkg) remove(ctx context.Context, c *modules.Call) (any, error) {
	targets, _ := parseTargets(c.Args["name"], c.Args["pkgs"], nil, "", nil)
	old, err := o.installed(ctx)
	if err != nil {
		return nil, err
	}
	names := matchWildcard(old, targets)
	if len(names) == 0 {
		return map[string]any{}, nil
	}
	r, err := o.h.Run(ctx, nil, append([]string{"opkg", "remove"}, names...)...)
	if err != nil {
		return nil, err
	}
	now, err := o.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret := compareDicts(old, now)
	if r.Code != 0 {
		return nil, execError("Problem encountered removing package(s)", map[string]any{"errors": []any{strings.TrimSpace(r.Stderr + "\n" + r.Stdout)}, "changes": ret})
	}
	return ret, nil
}

func (o *opkg) upgrade(ctx context.Context, c *modules.Call) (any, error) {
	if pydata.IsTrue(c.Args["refresh"]) {
		if _, err := o.refreshDB(ctx, false); err != nil {
			return nil, err
		}
	}
	old, err := o.installed(ctx)
	if err != nil {
		return nil, err
	}
	up, err := o.upgradable(ctx)
	if err != nil {
		return nil, err
	}
	if len(up) == 0 {
		return map[string]any{}, nil
	}
	names := make([]string, 0, len(up))
	for n := range up {
		names = append(names, n)
	}
	slices.Sort(names)
	r, err := o.h.Run(ctx, nil, append([]string{"opkg", "upgrade"}, names...)...)
	if err != nil {
		return nil, err
	}
	now, err := o.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret := compareDicts(old, now)
	if r.Code != 0 {
		return nil, execError("Problem encountered upgrading packages", map[string]any{"changes": ret, "result": runDict(r)})
	}
	return ret, nil
}

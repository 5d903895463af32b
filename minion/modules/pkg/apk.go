package pkg

import (
	"context"
	"fmt"
	"strings"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// apk is Salt's apkpkg: Alpine Linux, through apk.
type apk struct{ h cmd.Host }

func newApk(h cmd.Host) *apk { return &apk{h: h} }

func (a *apk) specs() []*modules.Spec {
	return append(installedSpecs("List the installed packages as {name: version}.", a.listPkgs), []*modules.Spec{
		{Name: "pkg.latest_version", Doc: "Return the version apk would install or upgrade a package to, \"\" if the newest is installed; of several, a dict. Refreshes the index first unless refresh=False.",
			VarArgs: true, VarKw: true, Fn: a.latestVersion},
		{Name: "pkg.refresh_db", Doc: "Run apk update; return True.", Fn: func(ctx context.Context, _ *modules.Call) (any, error) { return a.refreshDB(ctx) }},
		{Name: "pkg.install", Doc: "Install packages (name, a comma-separated list, or pkgs=[...]) with apk add; return {name: {\"old\", \"new\"}} for what changed. Versions are not supported.",
			Params: []modules.Param{modules.D("name", nil), modules.D("refresh", false), modules.D("pkgs", nil), modules.D("sources", nil)}, VarKw: true,
			Fn: a.install},
		{Name: "pkg.remove", Doc: "Remove packages (name, a comma-separated list, or pkgs=[...]) with apk del; return the changes.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil), modules.D("purge", false)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return a.remove(ctx, c.Args["name"], c.Args["pkgs"], pydata.IsTrue(c.Args["purge"]))
			}},
		{Name: "pkg.purge", Doc: "Remove packages with apk del --purge; return the changes.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return a.remove(ctx, c.Args["name"], c.Args["pkgs"], true)
			}},
		{Name: "pkg.upgrade", Doc: "Upgrade every package (apk upgrade), or those named (apk add -u); return {\"changes\", \"result\", \"comment\"}.",
			Params: []modules.Param{modules.D("name", nil), modules.D("pkgs", nil), modules.D("refresh", true)}, VarKw: true,
			Fn: a.upgrade},
		{Name: "pkg.list_upgrades", Doc: "Return {name: version} of the available upgrades.",
			Params: []modules.Param{modules.D("refresh", true)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if pydata.IsTrue(c.Args["refresh"]) {
					if _, err := a.refreshDB(ctx); err != nil {
						return nil, err
					}
				}
				r, err := a.h.Run(ctx, nil, "apk", "upgrade", "-s")
				if err != nil {
					return nil, err
				}
				if r.Code != 0 {
					return nil, execError(r.Stderr+r.Stdout, nil)
				}
				ret := map[string]any{}
				for line := range strings.Lines(r.Stdout) {
					if n, _, newV, ok := upgradeLine(line); ok {
						ret[n] = newV
					}
				}
				return ret, nil
			}},
		{Name: "pkg.file_list", Doc: "List the files of the packages named.", VarArgs: true, Fn: a.fileDict},
		{Name: "pkg.file_dict", Doc: "List the files of the packages named, by package.", VarArgs: true, Fn: a.fileDict},
		{Name: "pkg.owner", Doc: "Return {path: package-version} of the packages owning the files.", VarArgs: true, Fn: a.owner},
	}...)
}

// splitAPK splits "name-version-release" (apk info -v, apk search) into
// the name and "version-release".
func splitAPK(s string) (string, string) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return "", ""
	}
	return strings.Join(parts[:len(parts)-2], "-"), strings.Join(parts[len(parts)-2:], "-")
}

func (a *apk) listPkgs(ctx context.Context) (pkgList, error) {
	r, err := a.h.Run(ctx, nil, "apk", "info", "-v")
	if err != nil {
		return nil, err
	}
	l := pkgList{}
	for line := range strings.Lines(r.Stdout) {
		if n, v := splitAPK(strings.TrimSpace(line)); n != "" {
			l.add(n, v)
		}
	}
	l.sort()
	return l, nil
}

func (a *apk) installed(ctx context.Context) (map[string]string, error) {
	l, err := a.listPkgs(ctx)
	if err != nil {
		return nil, err
	}
	return l.strings(), nil
}

func (a *apk) refreshDB(ctx context.Context) (any, error) {
	r, err := a.h.Run(ctx, nil, "apk", "update")
	if err != nil {
		return nil, err
	}
	if r.Code != 0 {
		// Salt's apkpkg says "installing" here too.
		return nil, execError("Problem encountered installing package(s)", map[string]any{"errors": []any{r.Stdout}, "changes": false})
	}
	return true, nil
}

// upgradeLine parses "(1/2) Upgrading musl (1.2.4-r1 -> 1.2.4-r2)".
func upgradeLine(line string) (name, oldV, newV string, ok bool) {
	f := strings.Split(strings.TrimSpace(line), " ")
	if len(f) < 6 || f[1] != "Upgrading" {
		return "", "", "", false
	}
	return f[2], strings.Trim(f[3], "("), strings.Trim(f[5], ")"), true
}

func (a *apk) latestVersion(ctx context.Context, c *modules.Call) (any, error) {
	ns := names(c)
	refresh := true
	if v, ok := kwarg(c, "refresh"); ok {
		refresh = pydata.IsTrue(v)
	}
	if len(ns) == 0 {
		return "", nil
	}
	inst, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	if refresh {
		if _, err := a.refreshDB(ctx); err != nil {
			return nil, err
		}
	}
	ret := map[string]string{}
	r, err := a.h.Run(ctx, nil, "apk", "upgrade", "-s")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(r.Stdout) {
		if n, _, newV, ok := upgradeLine(line); ok {
			ret[n] = newV
		}
	}
	out := map[string]any{}
	for _, n := range ns {
		if v := ret[n]; v != "" {
			out[n] = v
			continue
		}
		// Not upgradable: maybe not installed; apk search has its version.
		out[n] = ""
		s, err := a.h.Run(ctx, nil, "apk", "search", n)
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(s.Stdout) {
			if sn, sv := splitAPK(strings.TrimSpace(line)); sn == n {
				if inst[n] == sv {
					out[n] = ""
				} else {
					out[n] = sv
				}
			}
		}
	}
	if len(ns) == 1 {
		return out[ns[0]], nil
	}
	return out, nil
}

// plainNames are the names of a name/pkgs pair: pkgs wins; name may be a
// comma-separated list. Versions in pkgs are dropped (apk takes none).
func plainNames(name, pkgs any) []string {
	var out []string
	if pydata.Truthy(name) && !pydata.Truthy(pkgs) {
		out = strings.Split(pyStr(name), ",")
	}
	if l, ok := dictList(pkgs); ok {
		for _, t := range l {
			out = append(out, t.name)
		}
	}
	return out
}

func (a *apk) install(ctx context.Context, c *modules.Call) (any, error) {
	old, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	var targets []string
	if !pydata.Truthy(c.Args["sources"]) {
		targets = plainNames(c.Args["name"], c.Args["pkgs"])
	}
	if len(targets) == 0 {
		return map[string]any{}, nil
	}
	if pydata.IsTrue(c.Args["refresh"]) {
		if _, err := a.refreshDB(ctx); err != nil {
			return nil, err
		}
	}
	args := []string{"apk", "add"}
	for _, t := range targets {
		if old[t] != "" {
			args = append(args, "-u") // upgrade what is installed already
			break
		}
	}
	r, err := a.h.Run(ctx, nil, append(args, targets...)...)
	if err != nil {
		return nil, err
	}
	now, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret := compareDicts(old, now)
	if r.Code != 0 && r.Stderr != "" {
		return nil, execError("Problem encountered installing package(s)", map[string]any{"errors": []any{r.Stderr}, "changes": ret})
	}
	return ret, nil
}

func (a *apk) remove(ctx context.Context, name, pkgs any, purge bool) (any, error) {
	old, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	var targets []string
	if pydata.Truthy(name) {
		targets = strings.Split(pyStr(name), ",")
	}
	if l, ok := dictList(pkgs); ok {
		for _, t := range l {
			targets = append(targets, t.name)
		}
	}
	if len(targets) == 0 {
		return map[string]any{}, nil
	}
	args := []string{"apk", "del"}
	if purge {
		args = append(args, "--purge")
	}
	r, err := a.h.Run(ctx, nil, append(args, targets...)...)
	if err != nil {
		return nil, err
	}
	now, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret := compareDicts(old, now)
	if r.Code != 0 && r.Stderr != "" {
		return nil, execError("Problem encountered removing package(s)", map[string]any{"errors": []any{r.Stderr}, "changes": ret})
	}
	return ret, nil
}

func (a *apk) upgrade(ctx context.Context, c *modules.Call) (any, error) {
	ret := map[string]any{"changes": map[string]any{}, "result": true, "comment": ""}
	if pydata.IsTrue(c.Args["refresh"]) {
		if _, err := a.refreshDB(ctx); err != nil {
			return nil, err
		}
	}
	old, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"apk", "upgrade"}
	if targets := plainNames(c.Args["name"], c.Args["pkgs"]); len(targets) > 0 {
		args = append([]string{"apk", "add", "-u"}, targets...)
	}
	r, err := a.h.Run(ctx, nil, args...)
	if err != nil {
		return nil, err
	}
	if r.Code != 0 {
		ret["result"] = false
		// Salt runs it with stderr redirected into stdout.
		if out := strings.TrimSpace(r.Stdout + "\n" + r.Stderr); out != "" {
			ret["comment"] = out
		}
	}
	now, err := a.installed(ctx)
	if err != nil {
		return nil, err
	}
	ret["changes"] = compareDicts(old, now)
	return ret, nil
}

func (a *apk) fileDict(ctx context.Context, c *modules.Call) (any, error) {
	ps := names(c)
	if len(ps) == 0 {
		return "Package name should be provided", nil
	}
	files := map[string]any{}
	for _, p := range ps {
		r, err := a.h.Run(ctx, nil, "apk", "info", "-L", p)
		if err != nil {
			return nil, err
		}
		var l []any
		for line := range strings.Lines(r.Stdout) {
			line = strings.TrimRight(line, "\n")
			if line == "" || strings.HasSuffix(line, "contains:") {
				continue
			}
			l = append(l, line)
		}
		if len(l) > 0 {
			files[p] = l
		}
	}
	return map[string]any{"errors": []any{}, "packages": files}, nil
}

func (a *apk) owner(ctx context.Context, c *modules.Call) (any, error) {
	paths := names(c)
	if len(paths) == 0 {
		return "You must provide a path", nil
	}
	ret := map[string]any{}
	for _, p := range paths {
		r, err := a.h.Run(ctx, nil, "apk", "info", "-W", p)
		if err != nil {
			return nil, err
		}
		// "/bin/busybox is owned by busybox-1.36.1-r5"
		switch out := r.Stdout; {
		case strings.Contains(out, "ERROR:"):
			ret[p] = "Could not find owner package"
		case out != "":
			_, owner, _ := strings.Cut(out, "by ")
			ret[p] = strings.TrimSpace(owner)
		default:
			ret[p] = fmt.Sprintf("Error running ['apk', 'info', '-W', '%s']", p)
		}
	}
	return ret, nil
}

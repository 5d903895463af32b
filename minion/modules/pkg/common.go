package pkg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/internal/output"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// osRelease returns the ID and ID_LIKE words of /etc/os-release (or
// /usr/lib/os-release), lower-cased.
func osRelease(h cmd.Host) []string {
	var data []byte
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := os.ReadFile(h.File(p)); err == nil {
			data = b
			break
		}
	}
	var ids []string
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || (k != "ID" && k != "ID_LIKE") {
			continue
		}
		ids = append(ids, strings.Fields(strings.ToLower(strings.Trim(v, `"'`)))...)
	}
	return ids
}

// execError is Salt's CommandExecutionError as the minion returns it (the
// registry puts "ERROR: " before it): the message and, when there is
// info, ". Additional info follows:" and the info as the nested
// outputter prints it.
func execError(msg string, info map[string]any) error {
	if info == nil {
		return errors.New(msg)
	}
	if msg != "" && !strings.ContainsAny(msg[len(msg)-1:], ".?!") {
		msg += "."
	}
	msg = strings.TrimLeft(msg+" Additional info follows:\n\n", " ")
	var b bytes.Buffer
	if o, err := output.New("nested", output.Options{}); err == nil {
		if err := o.Display(&b, info); err != nil {
			b.Reset()
			fmt.Fprint(&b, info)
		}
	}
	return errors.New(msg + strings.TrimRight(b.String(), " \t\r\n"))
}

// invocationError is what the minion returns for Salt's
// SaltInvocationError: a string return, not an exception's "ERROR: ".
func invocationError(c *modules.Call, msg string) (any, error) {
	c.Retcode = 1
	return fmt.Sprintf("ERROR executing '%s': %s", c.Fun, msg), nil
}

// errInvocation is an error Salt raises as SaltInvocationError (bad
// arguments, found while working); specsFor's functions return it as
// invocationError does.
type errInvocation string

func (e errInvocation) Error() string { return string(e) }

// reportInvocation makes fn return an errInvocation the way the minion
// returns a SaltInvocationError.
func reportInvocation(fn modules.Func) modules.Func {
	return func(ctx context.Context, c *modules.Call) (any, error) {
		ret, err := fn(ctx, c)
		var inv errInvocation
		if errors.As(err, &inv) && ctx.Err() == nil {
			return invocationError(c, string(inv))
		}
		return ret, err
	}
}

// runDict is cmd.run_all's return.
func runDict(r cmd.Result) map[string]any {
	return map[string]any{"pid": int64(r.Pid), "retcode": int64(r.Code), "stdout": r.Stdout, "stderr": r.Stderr}
}

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
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e16 {
			return strconv.FormatFloat(v, 'f', 1, 64)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// optStr is an optional string argument: "" for None.
func optStr(v any) string {
	if v == nil {
		return ""
	}
	return pyStr(v)
}

// kwarg returns the keyword argument k of a function taking **kwargs.
func kwarg(c *modules.Call, k string) (any, bool) {
	v, ok := c.Extra[k]
	return v, ok
}

// names are the package names of a *names call, as strings.
func names(c *modules.Call) []string {
	out := make([]string, 0, len(c.VarArgs))
	for _, v := range c.VarArgs {
		out = append(out, pyStr(v))
	}
	return out
}

// pkgList maps a package name to its installed versions.
type pkgList map[string][]string

func (l pkgList) add(name, version string) { l[name] = append(l[name], version) }

// sort is pkg_resource.sort_pkglist: each name's versions sorted, without
// duplicates.
func (l pkgList) sort() {
	for k, v := range l {
		slices.Sort(v)
		l[k] = slices.Compact(v)
	}
}

// strings is the list with each name's versions joined by commas, as
// pkg_resource.stringify leaves it.
func (l pkgList) strings() map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = strings.Join(v, ",")
	}
	return out
}

// ret is the list as list_pkgs returns it.
func (l pkgList) ret(asList bool) map[string]any {
	out := make(map[string]any, len(l))
	for k, v := range l {
		if asList {
			out[k] = toAny(v)
		} else {
			out[k] = strings.Join(v, ",")
		}
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// versionRet is pkg_resource.version: each name (or glob) with its
// installed versions; a single name without a glob returns its version
// alone, "" when it is not installed.
func versionRet(ns []string, installed pkgList, asList bool) any {
	ret := pkgList{}
	glob := false
	for _, n := range ns {
		if strings.Contains(n, "*") {
			glob = true
			for name, v := range installed {
				if fnmatch.Match(n, name) {
					ret[name] = v
				}
			}
			continue
		}
		ret[n] = installed[n]
	}
	out := ret.ret(asList)
	if len(out) == 1 && !glob {
		for _, v := range out {
			return v
		}
	}
	return out
}

// compareDicts is salt.utils.data.compare_dicts: {name: {"old", "new"}}
// for every name whose version changed, "" standing for absent.
func compareDicts(old, new map[string]string) map[string]any {
	ret := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(new)) {
		o, had := old[k]
		if !had {
			ret[k] = map[string]any{"old": "", "new": new[k]}
		} else if o != new[k] {
			ret[k] = map[string]any{"old": o, "new": new[k]}
		}
	}
	for k, o := range old {
		if _, ok := new[k]; !ok {
			ret[k] = map[string]any{"old": o, "new": ""}
		}
	}
	return ret
}

// target is one package to act on, with the version asked for.
type target struct {
	name    string
	version string // "" for none
}

// Kinds of targets parseTargets finds.
const (
	repoTargets = "repository"
	fileTargets = "file"
)

// parseTargets is pkg_resource.parse_targets: the packages named by pkgs
// (a list of names and {name: version} maps), else by sources ({name:
// path or URL} maps, whose paths come back in version), else by name (a
// comma-separated list, each with version). No targets (nil) is what Salt
// logs and treats as nothing to do. normalize maps names as
// pkg.normalize_name does, when the provider has one.
func parseTargets(name, pkgs, sources any, version string, normalize func(string) string) ([]target, string) {
	if normalize == nil {
		normalize = func(s string) string { return s }
	}
	switch {
	case pydata.Truthy(pkgs) && pydata.Truthy(sources):
		return nil, ""
	case pydata.Truthy(pkgs):
		l, ok := dictList(pkgs)
		if !ok {
			return nil, ""
		}
		for i := range l {
			l[i].name = normalize(l[i].name)
		}
		return l, repoTargets
	case pydata.Truthy(sources):
		l, ok := dictList(sources)
		if !ok {
			return nil, ""
		}
		for _, t := range l {
			if t.version == "" {
				return nil, "" // Salt: "Input must be a list of 1-element dicts"
			}
		}
		return l, fileTargets
	case pydata.Truthy(name):
		var out []target
		for n := range strings.SplitSeq(pyStr(name), ",") {
			out = append(out, target{name: normalize(n), version: version})
		}
		return out, repoTargets
	}
	return nil, ""
}

// dictList is salt.utils.data.repack_dictlist over a list of names and
// one-key {name: version} maps (or the YAML text of one), in order, a
// name given twice keeping its last version.
func dictList(v any) ([]target, bool) {
	if s, ok := v.(string); ok {
		var parsed any
		if err := yaml.Unmarshal([]byte(s), &parsed); err != nil {
			return nil, false
		}
		v = parsed
	}
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	var out []target
	put := func(t target) {
		if i := slices.IndexFunc(out, func(o target) bool { return o.name == t.name }); i >= 0 {
			out[i] = t
			return
		}
		out = append(out, t)
	}
	for _, e := range l {
		switch e := e.(type) {
		case string, int64, int, uint64, float64:
			put(target{name: pyStr(e)})
		case map[string]any:
			if len(e) != 1 {
				return nil, false
			}
			for k, ver := range e {
				put(target{name: k, version: optStr(ver)})
			}
		default:
			return nil, false
		}
	}
	return out, len(out) > 0
}

// splitComparison is salt.utils.versions' split of ">=1.2" into the
// operator and the version; "=1.2" is "==".
func splitComparison(s string) (string, string) {
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">", "="} {
		if v, ok := strings.CutPrefix(s, op); ok {
			if op == "=" {
				op = "=="
			}
			return op, strings.TrimSpace(v)
		}
	}
	return "", s
}

// compareOp is salt.utils.versions.compare with a provider's cmp.
func compareOp(v1, op, v2 string, cmp func(a, b string) int) bool {
	c := cmp(v1, v2)
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// matchVersion is salt.utils.pkg.match_version: the first of the
// available versions (newest first) that satisfies desired (">=1.2",
// "1.2"), or "".
func matchVersion(desired string, available []string, cmp func(a, b string) int) string {
	op, v := splitComparison(desired)
	if op == "" {
		op = "=="
	}
	for _, cand := range available {
		if compareOp(cand, op, v, cmp) {
			return cand
		}
	}
	return ""
}

// matchWildcard is salt.utils.pkg.match_wildcard: the names among
// targets that are installed, globs expanded against the installed ones.
func matchWildcard(installed map[string]string, targets []target) []string {
	var out []string
	for _, t := range targets {
		if strings.Contains(t.name, "*") {
			for _, n := range slices.Sorted(maps.Keys(installed)) {
				if fnmatch.Match(t.name, n) && !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
			continue
		}
		if _, ok := installed[t.name]; ok && !slices.Contains(out, t.name) {
			out = append(out, t.name)
		}
	}
	return out
}

// envArg is the "env" keyword of install and remove ({VAR: value}) as
// environment entries.
func envArg(c *modules.Call) []string {
	m, _ := c.Extra["env"].(map[string]any)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+pyStr(m[k]))
	}
	return out
}

// installedSpecs are pkg.list_pkgs (documented by listDoc) and pkg.version
// over list, for a package manager that keeps no record of removed
// packages: removed=True and purge_desired=True list nothing.
func installedSpecs(listDoc string, list func(context.Context) (pkgList, error)) []*modules.Spec {
	return []*modules.Spec{
		{Name: "pkg.list_pkgs", Doc: listDoc,
			Params: []modules.Param{modules.D("versions_as_list", false)}, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if pydata.IsTrue(c.Extra["removed"]) || pydata.IsTrue(c.Extra["purge_desired"]) {
					return map[string]any{}, nil
				}
				l, err := list(ctx)
				if err != nil {
					return nil, err
				}
				return l.ret(pydata.IsTrue(c.Args["versions_as_list"])), nil
			}},
		{Name: "pkg.version", Doc: "Return the installed version of a package, \"\" if it is not installed; of several (or a glob), a dict.",
			VarArgs: true, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := list(ctx)
				if err != nil {
					return nil, err
				}
				return versionRet(names(c), l, pydata.IsTrue(c.Extra["versions_as_list"])), nil
			}},
	}
}

// Package sys is Salt's sys execution module: what functions the minion
// has, their documentation and their arguments.
package sys

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// Specs are the functions of the sys module, which describe registry r.
func Specs(r *modules.Registry) []*modules.Spec {
	return []*modules.Spec{
		{Name: "sys.doc", Doc: "Return the docstrings for all modules. Optionally, specify a module or a function to narrow the selection.\n\nThe strings are aggregated into a single document on the master for easy reading.\n\nMultiple modules/functions can be specified.\n\nCLI Example:\n\n    salt '*' sys.doc\n    salt '*' sys.doc sys\n    salt '*' sys.doc sys.doc\n    salt '*' sys.doc network.traceroute user.info\n\nModules can be specified as globs.\n\n    salt '*' sys.doc 'sys.*'\n    salt '*' sys.doc 'sys.list_*'",
			VarArgs: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				out := map[string]any{}
				for _, n := range selectFuncs(r, c.VarArgs) {
					s, _ := r.Lookup(n)
					out[n] = stripRST(s.Doc)
				}
				return out, nil
			}},
		{Name: "sys.list_functions", Doc: "List the functions for all modules. Optionally, specify a module or modules from which to list.\n\nCLI Example:\n\n    salt '*' sys.list_functions\n    salt '*' sys.list_functions sys\n    salt '*' sys.list_functions sys user\n\nFunction names can be specified as globs.\n\n    salt '*' sys.list_functions 'sys.list_*'",
			VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				var out []string
				if len(c.VarArgs) == 0 {
					out = r.Names()
				} else {
					seen := map[string]bool{}
					for _, a := range c.VarArgs {
						mod := pydata.Str(a)
						for _, n := range r.Names() {
							var match bool
							if strings.Contains(mod, "*") || strings.Contains(mod, ".") {
								match = fnmatch.Match(mod, n)
							} else {
								match = strings.HasPrefix(n, mod+".")
							}
							if match && !seen[n] {
								seen[n] = true
								out = append(out, n)
							}
						}
					}
				}
				return sortedAny(out), nil
			}},
		{Name: "sys.list_modules", Doc: "List the modules loaded on the minion\n\nCLI Example:\n\n    salt '*' sys.list_modules\n\nModule names can be specified as globs.\n\n    salt '*' sys.list_modules 's*'",
			VarArgs: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				mods := map[string]bool{}
				for _, n := range r.Names() {
					mod, _, _ := strings.Cut(n, ".")
					if len(c.VarArgs) == 0 {
						mods[mod] = true
						continue
					}
					for _, a := range c.VarArgs {
						pat := pydata.Str(a)
						if (strings.Contains(pat, "*") && fnmatch.Match(pat, n)) || mod == pat {
							mods[mod] = true
						}
					}
				}
				out := make([]string, 0, len(mods))
				for m := range mods {
					out = append(out, m)
				}
				return sortedAny(out), nil
			}},
		{Name: "sys.argspec", Doc: "Return the argument specification of functions in Salt execution modules.\n\nCLI Example:\n\n    salt '*' sys.argspec pkg.install\n    salt '*' sys.argspec sys\n    salt '*' sys.argspec\n\nModule names can be specified as globs.\n\n    salt '*' sys.argspec 'pkg.*'",
			Params: []modules.Param{modules.D("module", "")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return argspec(r, pydata.Str(c.Args["module"])), nil
			}},
		{Name: "sys.reload_modules", Doc: "Tell the minion to reload the execution modules\n\nCLI Example:\n\n    salt '*' sys.reload_modules",
			Fn: func(context.Context, *modules.Call) (any, error) { return true, nil }},
	}
}

// selectFuncs is the functions sys.doc documents for its arguments: all
// of them, a module's ("sys" or "sys."), or those matching a glob.
func selectFuncs(r *modules.Registry, args []any) []string {
	if len(args) == 0 {
		return r.Names()
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range args {
		mod := pydata.Str(a)
		target := mod
		if !strings.Contains(mod, "*") && mod != "" && !strings.HasSuffix(mod, ".") {
			target = mod + "."
		}
		for _, n := range r.Names() {
			var match bool
			if strings.Contains(mod, "*") {
				match = fnmatch.Match(target, n)
			} else {
				match = n == mod || strings.HasPrefix(n, target)
			}
			if match && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// argspec is salt.utils.args.argspec_report: for each function of the
// module (or matching the glob), its args, defaults, varargs and kwargs,
// None where empty.
func argspec(r *modules.Registry, module string) map[string]any {
	out := map[string]any{}
	for _, n := range r.Names() {
		var match bool
		if strings.Contains(module, "*") || strings.Contains(module, ".") {
			match = fnmatch.Match(module, n)
		} else {
			match = strings.HasPrefix(n, module+".")
		}
		if !match {
			continue
		}
		s, _ := r.Lookup(n)
		var args, defs []any
		for _, p := range s.Params {
			args = append(args, p.Name)
			if p.HasDef {
				defs = append(defs, p.Default)
			}
		}
		spec := map[string]any{"args": nil, "defaults": nil, "varargs": nil, "kwargs": nil}
		if len(args) > 0 {
			spec["args"] = args
		}
		if len(defs) > 0 {
			spec["defaults"] = defs
		}
		if s.VarArgs {
			spec["varargs"] = true
		}
		if s.VarKw {
			spec["kwargs"] = true
		}
		out[n] = spec
	}
	return out
}

var rstSubs = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(` *\.\. code-block:: \S+\n{1,2}`), ""},
	{regexp.MustCompile(`\.\. note::`), "Note:"},
	{regexp.MustCompile(`\.\. warning::`), "Warning:"},
	{regexp.MustCompile(`\.\. versionadded::`), "New in version"},
	{regexp.MustCompile(`\.\. versionchanged::`), "Changed in version"},
}

// stripRST is Salt's _strip_rst for one docstring.
func stripRST(doc string) string {
	for _, s := range rstSubs {
		doc = s.re.ReplaceAllString(doc, s.repl)
	}
	return doc
}

func sortedAny(names []string) []any {
	out := make([]any, len(names))
	sortStrings(names)
	for i, n := range names {
		out[i] = n
	}
	return out
}

func sortStrings(s []string) { slices.Sort(s) }

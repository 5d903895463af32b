// Package sys is Salt's sys execution module: what functions the minion
// has and their documentation.
package sys

import (
	"context"
	"fmt"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/minion/modules"
)

// Specs are the functions of the sys module, which describe registry r.
func Specs(r *modules.Registry) []*modules.Spec {
	return []*modules.Spec{
		{Name: "sys.list_functions", Doc: "List the functions the minion has, optionally matching globs.", VarArgs: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				out := []any{}
				for _, n := range r.Names() {
					if len(c.VarArgs) == 0 || matchAny(c.VarArgs, n) {
						out = append(out, n)
					}
				}
				return out, nil
			}},
		{Name: "sys.doc", Doc: "Return the documentation of the functions matching globs.", VarArgs: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				out := map[string]any{}
				for _, n := range r.Names() {
					if len(c.VarArgs) == 0 || matchAny(c.VarArgs, n) {
						s, _ := r.Lookup(n)
						out[n] = modules.Usage(s)
					}
				}
				return out, nil
			}},
	}
}

func matchAny(patterns []any, name string) bool {
	for _, p := range patterns {
		ps := fmt.Sprint(p)
		if fnmatch.Match(ps, name) || fnmatch.Match(ps+".*", name) {
			return true
		}
	}
	return false
}

// Package grainsmod is Salt's grains execution module (the grains
// themselves are found by package minion/grains).
package grainsmod

import (
	"context"
	"fmt"
	"strings"

	"github.com/brine-project/brine/minion/modules"
)

// Specs are the functions of the grains module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "grains.items", Doc: "Return all grains.",
			Fn: func(_ context.Context, c *modules.Call) (any, error) { return c.Env.Grains(), nil }},
		{Name: "grains.item", Doc: "Return the named grains.", VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				g := c.Env.Grains()
				out := map[string]any{}
				for _, k := range c.VarArgs {
					key := fmt.Sprint(k)
					out[key] = traverse(g, key, ":", "")
				}
				return out, nil
			}},
		{Name: "grains.get", Doc: "Return a grain, nested keys joined by delimiter.",
			Params: []modules.Param{modules.P("key"), modules.D("default", ""), modules.D("delimiter", ":")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return traverse(c.Env.Grains(), fmt.Sprint(c.Args["key"]), fmt.Sprint(c.Args["delimiter"]), c.Args["default"]), nil
			}},
	}
}

// traverse looks key up in nested maps, parts separated by delim.
func traverse(m map[string]any, key, delim string, def any) any {
	var cur any = m
	for _, part := range strings.Split(key, delim) {
		mm, ok := cur.(map[string]any)
		if !ok {
			return def
		}
		if cur, ok = mm[part]; !ok {
			return def
		}
	}
	return cur
}

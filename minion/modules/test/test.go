// Package test is Salt's test execution module: functions to check that a
// minion answers and to see how arguments arrive.
package test

import (
	"context"
	"time"

	"github.com/brine-project/brine/minion/modules"
)

// SaltVersion is what test.version reports: the Salt release whose
// protocol and functions Brine provides.
const SaltVersion = "3006.16"

// Specs are the functions of the test module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "test.ping", Doc: "Return True: the minion is up and answering.",
			Fn: func(context.Context, *modules.Call) (any, error) { return true, nil }},
		{Name: "test.echo", Doc: "Return the string given.", Params: []modules.Param{modules.P("text")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) { return c.Args["text"], nil }},
		{Name: "test.arg", Doc: "Return the arguments and keyword arguments given (with Salt's __pub_ keywords).",
			VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return map[string]any{"args": modules.AnyOrEmpty(c.VarArgs), "kwargs": c.Extra}, nil
			}},
		{Name: "test.sleep", Doc: "Sleep for length seconds, then return True.", Params: []modules.Param{modules.P("length")},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				d, err := modules.Seconds(c.Args["length"])
				if err != nil {
					return nil, err
				}
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-t.C:
					return true, nil
				case <-ctx.Done():
					return nil, context.Cause(ctx)
				}
			}},
		{Name: "test.version", Doc: "Return the Salt version the minion speaks.",
			Fn: func(context.Context, *modules.Call) (any, error) { return SaltVersion, nil }},
	}
}

package service

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// openrc is Salt's gentoo_service: OpenRC (Gentoo, Alpine), through
// rc-service and rc-update.
type openrc struct{ h cmd.Host }

func (o *openrc) specs() []*modules.Spec {
	action := func(verb string) modules.Func {
		return func(ctx context.Context, c *modules.Call) (any, error) {
			return ok(o.h.Run(ctx, nil, "rc-service", name(c), verb))
		}
	}
	return []*modules.Spec{
		{Name: "service.start", Doc: "Start a service; return whether it worked.", Params: nameParam, Fn: action("start")},
		{Name: "service.stop", Doc: "Stop a service; return whether it worked.", Params: nameParam, Fn: action("stop")},
		{Name: "service.restart", Doc: "Restart a service; return whether it worked.", Params: nameParam, Fn: action("restart")},
		{Name: "service.reload", Doc: "Reload a service; return whether it worked.", Params: nameParam, Fn: action("reload")},
		{Name: "service.zap", Doc: "Reset a service's recorded state; return whether it worked.", Params: nameParam, Fn: action("zap")},
		{Name: "service.status", Doc: "Return whether a service is running (or with sig, whether a process matches it); for a glob, {name: bool}.",
			Params: []modules.Param{modules.P("name"), modules.D("sig", nil)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if sig := c.Args["sig"]; pydata.Truthy(sig) {
					return sigRunning(o.h, pyStr(sig)), nil
				}
				return statusAll(ctx, name(c), o.names, o.running)
			}},
		{Name: "service.enable", Doc: "Add a service to the default runlevel, or with runlevels=, to exactly those; return whether it worked.",
			Params: nameParam, VarKw: true, Fn: o.enable},
		{Name: "service.disable", Doc: "Remove a service from its runlevels, or with runlevels=, from those; return whether it worked.",
			Params: nameParam, VarKw: true, Fn: o.disable},
		{Name: "service.enabled", Doc: "Return whether a service is in a runlevel (with runlevels=, in all of those).",
			Params: nameParam, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				on, _, err := o.list(ctx)
				if err != nil {
					return nil, err
				}
				levels, has := on[name(c)]
				if !has {
					return false, nil
				}
				want, given := runlevels(c)
				if !given {
					return true, nil
				}
				return !slices.ContainsFunc(want, func(l string) bool { return !slices.Contains(levels, l) }), nil
			}},
		{Name: "service.disabled", Doc: "Return whether a service is in no runlevel.", Params: nameParam,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				_, off, err := o.list(ctx)
				return slices.Contains(off, name(c)), err
			}},
		{Name: "service.available", Doc: "Return whether a service exists.", Params: nameParam,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := o.names(ctx)
				return slices.Contains(l, name(c)), err
			}},
		{Name: "service.missing", Doc: "Return whether a service does not exist.", Params: nameParam,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := o.names(ctx)
				return !slices.Contains(l, name(c)), err
			}},
		{Name: "service.get_all", Doc: "Return {service: [runlevels]} of every service.",
			Fn: func(ctx context.Context, _ *modules.Call) (any, error) {
				on, off, err := o.list(ctx)
				if err != nil {
					return nil, err
				}
				for _, n := range off {
					on[n] = nil
				}
				return levelsRet(on), nil
			}},
		{Name: "service.get_enabled", Doc: "Return {service: [runlevels]} of the services in a runlevel.",
			Fn: func(ctx context.Context, _ *modules.Call) (any, error) {
				on, _, err := o.list(ctx)
				return levelsRet(on), err
			}},
		{Name: "service.get_disabled", Doc: "List the services in no runlevel.",
			Fn: func(ctx context.Context, _ *modules.Call) (any, error) {
				_, off, err := o.list(ctx)
				return toAny(off), err
			}},
		{Name: "service.get_running", Doc: "List the services that are running.",
			Fn: func(ctx context.Context, _ *modules.Call) (any, error) {
				all, err := o.names(ctx)
				if err != nil {
					return nil, err
				}
				var out []string
				for _, n := range all {
					up, err := o.running(ctx, n)
					if err != nil {
						return nil, err
					}
					if up {
						out = append(out, n)
					}
				}
				return toAny(out), nil
			}},
	}
}

func levelsRet(m map[string][]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = toAny(v)
	}
	return out
}

// list parses "rc-update -v show": " name | boot default" for a service
// in runlevels, " name |" for one in none.
func (o *openrc) list(ctx context.Context) (on map[string][]string, off []string, err error) {
	r, err := o.h.Run(ctx, nil, "rc-update", "-v", "show")
	if err != nil {
		return nil, nil, err
	}
	on = map[string][]string{}
	for line := range strings.Lines(r.Stdout) {
		n, levels, found := strings.Cut(line, "|")
		if !found {
			continue
		}
		n = strings.TrimSpace(n)
		if l := strings.Fields(levels); len(l) > 0 {
			slices.Sort(l)
			on[n] = l
		} else {
			off = append(off, n)
		}
	}
	slices.Sort(off)
	off = slices.Compact(off)
	return on, off, nil
}

func (o *openrc) names(ctx context.Context) ([]string, error) {
	on, off, err := o.list(ctx)
	if err != nil {
		return nil, err
	}
	all := append(slices.Collect(maps.Keys(on)), off...)
	slices.Sort(all)
	return slices.Compact(all), nil
}

func (o *openrc) running(ctx context.Context, svc string) (bool, error) {
	r, err := o.h.Run(ctx, nil, "rc-service", svc, "status")
	return err == nil && r.Code == 0, err
}

// rcUpdate runs "rc-update add|delete name [levels]".
func (o *openrc) rcUpdate(ctx context.Context, verb, svc string, levels []string) (bool, error) {
	slices.Sort(levels)
	r, err := o.h.Run(ctx, nil, append([]string{"rc-update", verb, svc}, levels...)...)
	return err == nil && r.Code == 0, err
}

func (o *openrc) enable(ctx context.Context, c *modules.Call) (any, error) {
	svc := name(c)
	want, given := runlevels(c)
	if !given {
		return o.rcUpdate(ctx, "add", svc, nil)
	}
	on, _, err := o.list(ctx)
	if err != nil {
		return nil, err
	}
	cur := on[svc]
	drop := slices.DeleteFunc(slices.Clone(cur), func(l string) bool { return slices.Contains(want, l) })
	add := slices.DeleteFunc(slices.Clone(want), func(l string) bool { return slices.Contains(cur, l) })
	if len(drop) > 0 {
		if done, err := o.rcUpdate(ctx, "delete", svc, drop); !done || err != nil {
			return done, err
		}
	}
	if len(add) > 0 {
		return o.rcUpdate(ctx, "add", svc, slices.Compact(add))
	}
	return true, nil
}

func (o *openrc) disable(ctx context.Context, c *modules.Call) (any, error) {
	svc := name(c)
	want, given := runlevels(c)
	if !given {
		return o.rcUpdate(ctx, "delete", svc, nil)
	}
	on, _, err := o.list(ctx)
	if err != nil {
		return nil, err
	}
	levels := slices.DeleteFunc(slices.Clone(on[svc]), func(l string) bool { return !slices.Contains(want, l) })
	if len(levels) == 0 {
		return true, nil
	}
	return o.rcUpdate(ctx, "delete", svc, levels)
}

package service

import (
	"context"
	"slices"
	"strings"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// sysv is Salt's debian_service (and rh_service): init scripts in
// /etc/init.d, started at boot through links in /etc/rc<N>.d.
type sysv struct{ h cmd.Host }

func (s *sysv) specs() []*modules.Spec {
	action := func(verb string) modules.Func {
		return func(ctx context.Context, c *modules.Call) (any, error) { return ok(s.script(ctx, name(c), verb)) }
	}
	list := func(f func(context.Context) ([]string, error)) modules.Func {
		return func(ctx context.Context, _ *modules.Call) (any, error) {
			l, err := f(ctx)
			return toAny(l), err
		}
	}
	return []*modules.Spec{
		{Name: "service.start", Doc: "Start a service; return whether its init script succeeded.", Params: nameParam, Fn: action("start")},
		{Name: "service.stop", Doc: "Stop a service; return whether its init script succeeded.", Params: nameParam, Fn: action("stop")},
		{Name: "service.restart", Doc: "Restart a service; return whether its init script succeeded.", Params: nameParam, Fn: action("restart")},
		{Name: "service.reload", Doc: "Reload a service; return whether its init script succeeded.", Params: nameParam, Fn: action("reload")},
		{Name: "service.force_reload", Doc: "Force-reload a service; return whether its init script succeeded.", Params: nameParam, Fn: action("force-reload")},
		{Name: "service.status", Doc: "Return whether a service is running (its script's status exits 0, or with sig, a process matches it); for a glob, {name: bool}.",
			Params: []modules.Param{modules.P("name"), modules.D("sig", nil)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if sig := c.Args["sig"]; pydata.Truthy(sig) {
					return sigRunning(s.h, pyStr(sig)), nil
				}
				return statusAll(ctx, name(c), s.all, s.running)
			}},
		{Name: "service.enable", Doc: "Enable a service at boot; return whether it worked.", Params: nameParam, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) { return s.setBoot(ctx, name(c), true) }},
		{Name: "service.disable", Doc: "Disable a service at boot; return whether it worked.", Params: nameParam, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) { return s.setBoot(ctx, name(c), false) }},
		{Name: "service.enabled", Doc: "Return whether a service starts at boot in the current runlevel.", Params: nameParam, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return slices.Contains(s.enabled(ctx), name(c)), nil
			}},
		{Name: "service.disabled", Doc: "Return whether a service is installed but does not start at boot.", Params: nameParam,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := s.disabled(ctx)
				return slices.Contains(l, name(c)), err
			}},
		{Name: "service.available", Doc: "Return whether a service exists.", Params: nameParam,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := s.all(ctx)
				return slices.Contains(l, name(c)), err
			}},
		{Name: "service.missing", Doc: "Return whether a service does not exist.", Params: nameParam,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				l, err := s.all(ctx)
				return !slices.Contains(l, name(c)), err
			}},
		{Name: "service.get_all", Doc: "List the services (the init scripts).", Fn: list(s.all)},
		{Name: "service.get_enabled", Doc: "List the services that start at boot.",
			Fn: list(func(ctx context.Context) ([]string, error) { return s.enabled(ctx), nil })},
		{Name: "service.get_disabled", Doc: "List the services that do not start at boot.", Fn: list(s.disabled)},
		{Name: "service.get_running", Doc: "List the services that are running (whose script's status exits 0).", Fn: list(s.runningAll)},
	}
}

// script runs the service's init script with an action. A script that
// is not there, or cannot be run, fails as the shell would have it fail
// (Salt runs it through "service").
func (s *sysv) script(ctx context.Context, svc, verb string) (cmd.Result, error) {
	if svc == "" || strings.Contains(svc, "/") {
		return cmd.Result{Code: 127, Stderr: "no such service: " + svc}, nil
	}
	r, err := s.h.Run(ctx, nil, s.h.File("/etc/init.d/"+svc), verb)
	if err != nil && ctx.Err() == nil {
		return cmd.Result{Code: 127, Stderr: err.Error()}, nil
	}
	return r, err
}

func (s *sysv) running(ctx context.Context, svc string) (bool, error) {
	r, err := s.script(ctx, svc, "status")
	return err == nil && r.Code == 0, err
}

func (s *sysv) enabled(ctx context.Context) []string {
	return sysvEnabled(s.h, runlevel(ctx, s.h))
}

// all is debian_service's get_all: the init scripts, and the services
// with a start link.
func (s *sysv) all(ctx context.Context) ([]string, error) {
	out := initScripts(s.h, false)
	for _, n := range s.enabled(ctx) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *sysv) disabled(ctx context.Context) ([]string, error) {
	all, err := s.all(ctx)
	if err != nil {
		return nil, err
	}
	on := s.enabled(ctx)
	return slices.DeleteFunc(all, func(n string) bool { return slices.Contains(on, n) }), nil
}

func (s *sysv) runningAll(ctx context.Context) ([]string, error) {
	var out []string
	for _, n := range initScripts(s.h, true) {
		up, err := s.running(ctx, n)
		if err != nil {
			return nil, err
		}
		if up {
			out = append(out, n)
		}
	}
	return out, nil
}

// setBoot makes the boot links with the tool the host has: update-rc.d
// (Debian: "defaults" makes the links a new script lacks, "enable" turns
// links a "disable" made back into start links), chkconfig (Red Hat), or
// the script's own enable/disable (OpenWrt).
func (s *sysv) setBoot(ctx context.Context, svc string, on bool) (any, error) {
	switch {
	case s.h.Has("update-rc.d"):
		if !on {
			return ok(s.h.Run(ctx, nil, "update-rc.d", svc, "disable"))
		}
		if r, err := s.h.Run(ctx, nil, "update-rc.d", svc, "defaults"); err != nil || r.Code != 0 {
			return ok(r, err)
		}
		return ok(s.h.Run(ctx, nil, "update-rc.d", svc, "enable"))
	case s.h.Has("chkconfig"):
		state := "off"
		if on {
			state = "on"
		}
		return ok(s.h.Run(ctx, nil, "chkconfig", svc, state))
	}
	verb := "disable"
	if on {
		verb = "enable"
	}
	return ok(s.script(ctx, svc, verb))
}

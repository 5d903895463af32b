// Package event is Salt's event execution module: fire events on the
// minion's own event bus or up to the master's.
package event

import (
	"context"
	"os"
	"strings"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// Specs are the functions of the event module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "event.fire", Doc: "Fire an event on the local minion event bus. Data must be formed as a dict.\n\nCLI Example:\n\n    salt '*' event.fire '{\"data\":\"my event data\"}' 'tag'",
			Params: []modules.Param{modules.P("data"), modules.P("tag")},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return fireLocal(ctx, c.Env, c.Args["data"], pydata.Str(c.Args["tag"])), nil
			}},
		{Name: "event.fire_master", Doc: "Fire an event off up to the master server\n\nCLI Example:\n\n    salt '*' event.fire_master '{\"data\":\"my event data\"}' 'tag'",
			Params: []modules.Param{modules.P("data"), modules.P("tag"), modules.D("preload", nil)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return fireMaster(ctx, c.Env, c.Args["data"], pydata.Str(c.Args["tag"])), nil
			}},
		{Name: "event.send", Doc: sendDoc,
			Params: []modules.Param{modules.P("tag"), modules.D("data", nil), modules.D("preload", nil), modules.D("with_env", false),
				modules.D("with_grains", false), modules.D("with_pillar", false), modules.D("with_env_opts", false)},
			VarKw: true,
			Fn:    send},
	}
}

// fireLocal is event.fire: True once the event is on the minion's bus,
// False when it cannot be (data not a dict, an empty tag, no bus).
func fireLocal(ctx context.Context, env *modules.Env, data any, tag string) bool {
	m, ok := pydata.Map(data)
	if !ok || tag == "" || env == nil || env.FireLocal == nil {
		return false
	}
	return env.FireLocal(ctx, tag, pydata.Plain(m).(map[string]any)) == nil
}

// fireMaster is event.fire_master: True once the master has the event,
// False when it cannot (masterless, data not a dict, a failed send).
// Salt's preload (extra fields in the load) is not supported.
func fireMaster(ctx context.Context, env *modules.Env, data any, tag string) bool {
	if env == nil || env.FireMaster == nil {
		return false // Salt: "Local mode detected. Event with tag %s will NOT be sent."
	}
	var m map[string]any
	switch {
	case data == nil:
		m = map[string]any{}
	default:
		dm, ok := pydata.Map(data)
		if !ok {
			return false
		}
		m = pydata.Plain(dm).(map[string]any)
	}
	return env.FireMaster(ctx, tag, m) == nil
}

// send is event.send: the event's data is assembled from the with_*
// options, the keyword arguments (Salt's __pub_* among them) and data,
// each over the one before, and goes to the master, or to the minion's
// bus when there is no master.
func send(ctx context.Context, c *modules.Call) (any, error) {
	d := map[string]any{}
	if w := c.Args["with_env"]; pydata.Truthy(w) {
		env := map[string]any{}
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		d["environ"] = subset(w, env)
	}
	if w := c.Args["with_grains"]; pydata.Truthy(w) {
		d["grains"] = subset(w, envMap(c.Env, true))
	}
	if w := c.Args["with_pillar"]; pydata.Truthy(w) {
		d["pillar"] = subset(w, envMap(c.Env, false))
	}
	if pydata.Truthy(c.Args["with_env_opts"]) {
		// A minion's saltenv and pillarenv options are None unless set,
		// and Brine has neither.
		d["saltenv"], d["pillarenv"] = nil, nil
	}
	for k, v := range c.Extra {
		d[k] = v
	}
	if m, ok := pydata.Map(c.Args["data"]); ok {
		for k, v := range m {
			d[k] = v
		}
	}
	tag := pydata.Str(c.Args["tag"])
	if c.Env == nil || c.Env.FireMaster == nil {
		return fireLocal(ctx, c.Env, d, tag), nil
	}
	return fireMaster(ctx, c.Env, d, tag), nil
}

// subset is _dict_subset for a list of keys, all of m otherwise.
func subset(keys any, m map[string]any) map[string]any {
	l, ok := pydata.List(keys)
	if !ok {
		return m
	}
	out := map[string]any{}
	for k, v := range m {
		if pydata.Contains(l, k) {
			out[k] = v
		}
	}
	return out
}

func envMap(env *modules.Env, grains bool) map[string]any {
	var f func() map[string]any
	if env != nil {
		if grains {
			f = env.Grains
		} else {
			f = env.Pillar
		}
	}
	if f == nil {
		return map[string]any{}
	}
	if m := f(); m != nil {
		return m
	}
	return map[string]any{}
}

const sendDoc = `Send an event to the Salt Master

tag
    A tag to give the event. Use slashes to create a namespace for related events. E.g., myco/build/buildserver1/start, myco/build/buildserver1/success, myco/build/buildserver1/failure.

data
    A dictionary of data to send in the event. This is free-form. Send any data points that are needed for whoever is consuming the event. Arguments on the CLI are interpreted as YAML so complex data structures are possible.

with_env
    Include environment variables from the current shell environment in the event data as environ. Specify True to include all environment variables, or specify a list of strings of variable names to include.

with_grains
    Include grains from the current minion in the event data as grains. Specify True to include all grains, or specify a list of strings of grain names to include.

with_pillar
    Include Pillar values from the current minion in the event data as pillar. Remember Pillar data is often sensitive data so be careful. Specify True to include all Pillar values, or specify a list of strings of Pillar keys to include.

with_env_opts
    Include saltenv and pillarenv set on minion at the moment when event is send into event data.

kwargs
    Any additional keyword arguments passed to this function will be interpreted as key-value pairs and included in the event data.

CLI Example:

    salt-call event.send myco/mytag foo=Foo bar=Bar
    salt-call event.send 'myco/mytag' '{foo: Foo, bar: Bar}'`

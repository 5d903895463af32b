package event

import (
	"context"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

type fired struct {
	bus, tag string
	data     map[string]any
}

// bus records the events fired, locally and to the master.
type bus struct {
	events []fired
	err    error
}

func (b *bus) env(master bool) *modules.Env {
	e := &modules.Env{ID: "m1", Jobs: modules.NewTracker(),
		Grains: func() map[string]any { return map[string]any{"os": "Debian", "id": "m1", "kernel": "Linux"} },
		Pillar: func() map[string]any { return map[string]any{"secret": "s", "role": "web"} },
		FireLocal: func(_ context.Context, tag string, data map[string]any) error {
			b.events = append(b.events, fired{"local", tag, data})
			return b.err
		}}
	if master {
		e.FireMaster = func(_ context.Context, tag string, data map[string]any) error {
			b.events = append(b.events, fired{"master", tag, data})
			return b.err
		}
	}
	return e
}

const jid = "20261127000000000001"

func run(env *modules.Env, fun string, args ...any) any {
	r := modtest.Registry(Specs())
	job := modules.Job{JID: jid, Fun: fun, Arg: args, TgtAny: "m1", TgtType: "glob", User: "root"}
	return r.Run(context.Background(), fun, args, job, env).Return
}

func TestEvent(t *testing.T) {
	t.Setenv("BRINE_EVENT_TEST", "yes")
	pub := func(m map[string]any, fun string, arg []any) map[string]any {
		out := map[string]any{"__pub_fun": fun, "__pub_jid": jid, "__pub_tgt": "m1", "__pub_tgt_type": "glob", "__pub_user": "root", "__pub_ret": "", "__pub_arg": arg}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	sendArgs := []any{"myco/mytag", modtest.Kw("foo", "Foo", "with_grains", []any{"os", "nope"}, "with_pillar", true, "with_env", []any{"BRINE_EVENT_TEST"})}
	for _, tc := range []struct {
		name   string
		master bool
		err    error
		fun    string
		args   []any
		want   any
		events []fired
	}{
		{"fire", true, nil, "event.fire", []any{map[string]any{"data": "my event data"}, "tag"}, true,
			[]fired{{"local", "tag", map[string]any{"data": "my event data"}}}},
		{"fire needs a dict", true, nil, "event.fire", []any{"text", "tag"}, false, nil},
		{"fire needs a tag", true, nil, "event.fire", []any{map[string]any{}, ""}, false, nil},
		{"fire fails", true, errors.New("bus down"), "event.fire", []any{map[string]any{}, "tag"}, false,
			[]fired{{"local", "tag", map[string]any{}}}},
		{"fire_master", true, nil, "event.fire_master", []any{map[string]any{"a": int64(1)}, "my/tag"}, true,
			[]fired{{"master", "my/tag", map[string]any{"a": int64(1)}}}},
		{"fire_master masterless", false, nil, "event.fire_master", []any{map[string]any{}, "my/tag"}, false, nil},
		{"fire_master fails", true, errors.New("no master"), "event.fire_master", []any{map[string]any{}, "t"}, false,
			[]fired{{"master", "t", map[string]any{}}}},
		{"send", true, nil, "event.send", sendArgs, true, []fired{{"master", "myco/mytag", pub(map[string]any{
			"foo": "Foo", "grains": map[string]any{"os": "Debian"}, "pillar": map[string]any{"secret": "s", "role": "web"},
			"environ": map[string]any{"BRINE_EVENT_TEST": "yes"},
		}, "event.send", sendArgs)}}},
		{"send data wins", true, nil, "event.send", []any{"t", map[string]any{"foo": "data", "x": int64(1)}, modtest.Kw("foo", "kwarg", "with_env_opts", true)}, true,
			[]fired{{"master", "t", pub(map[string]any{"foo": "data", "x": int64(1), "saltenv": nil, "pillarenv": nil}, "event.send",
				[]any{"t", map[string]any{"foo": "data", "x": int64(1)}, modtest.Kw("foo", "kwarg", "with_env_opts", true)})}}},
		{"send masterless fires locally", false, nil, "event.send", []any{"t"}, true, []fired{{"local", "t", pub(nil, "event.send", []any{"t"})}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &bus{err: tc.err}
			got := run(b.env(tc.master), tc.fun, tc.args...)
			if got != tc.want || !reflect.DeepEqual(b.events, tc.events) {
				t.Fatalf("%s%v = %v, fired %#v; want %v, %#v", tc.fun, tc.args, got, b.events, tc.want, tc.events)
			}
		})
	}
	b := &bus{}
	run(b.env(true), "event.send", "t", modtest.Kw("with_env", true))
	if env, _ := b.events[0].data["environ"].(map[string]any); env["PATH"] != os.Getenv("PATH") {
		t.Errorf("with_env=True gave %v", env)
	}
	if got := run(&modules.Env{}, "event.fire", map[string]any{}, "t"); got != false {
		t.Errorf("fire with no bus = %v", got)
	}
}

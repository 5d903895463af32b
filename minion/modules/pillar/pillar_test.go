package pillar

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

// master stands for the master's pillar compilation: a refresh takes the
// next pillar.
type master struct {
	current, next map[string]any
	refreshes     int
	err           error
}

func (m *master) env() *modules.Env {
	return &modules.Env{ID: "m1", Jobs: modules.NewTracker(),
		Pillar: func() map[string]any { return m.current },
		Refresh: func(_ context.Context, what string) error {
			if what != "pillar" {
				return errors.New("refreshing " + what)
			}
			m.refreshes++
			if m.err != nil {
				return m.err
			}
			if m.next != nil {
				m.current = m.next
			}
			return nil
		}}
}

func run(env *modules.Env, fun string, args ...any) modules.Result {
	r := modtest.Registry(Specs())
	return r.Run(context.Background(), fun, args, modules.Job{JID: "20261127000000000001", Fun: fun}, env)
}

func lastLine(v any) any {
	if s, ok := v.(string); ok && strings.HasPrefix(s, "The minion function caused an exception") {
		s = strings.TrimSuffix(s, "\n")
		return s[strings.LastIndex(s, "\n")+1:]
	}
	return v
}

func pillarData() map[string]any {
	return map[string]any{
		"pkg":   map[string]any{"apache": "httpd", "opts": map[string]any{"a": int64(1)}, "list": []any{"x", "y"}},
		"role":  "web",
		"users": []any{map[string]any{"name": "alice"}},
	}
}

func TestPillar(t *testing.T) {
	for _, tc := range []struct {
		name string
		fun  string
		args []any
		want any
		ret  int
	}{
		{"get", "pillar.get", []any{"role"}, "web", 0},
		{"get nested", "pillar.get", []any{"pkg:apache"}, "httpd", 0},
		{"get in a list", "pillar.get", []any{"users:name"}, "alice", 0},
		{"get default", "pillar.get", []any{"nope", "dflt"}, "dflt", 0},
		{"get missing is empty", "pillar.get", []any{"nope"}, "", 0},
		{"get delimiter", "pillar.get", []any{"pkg/apache", modtest.Kw("delimiter", "/")}, "httpd", 0},
		{"get merge dict", "pillar.get", []any{"pkg:opts", map[string]any{"a": int64(0), "b": int64(2)}, true}, map[string]any{"a": int64(1), "b": int64(2)}, 0},
		{"get merge list", "pillar.get", []any{"pkg:list", []any{"w", "x"}, modtest.Kw("merge", true)}, []any{"w", "x", "y"}, 0},
		{"get merge of a string default is skipped", "pillar.get", []any{"role", "d", modtest.Kw("merge", true)}, "web", 0},
		{"fetch", "pillar.fetch", []any{"pkg:apache"}, "httpd", 0},
		{"item", "pillar.item", []any{"role", "pkg:apache", "nope"}, map[string]any{"role": "web", "pkg:apache": "httpd", "nope": ""}, 0},
		{"item default", "pillar.item", []any{"nope", modtest.Kw("default", "x")}, map[string]any{"nope": "x"}, 0},
		{"items with keys is item", "pillar.items", []any{"role"}, map[string]any{"role": "web"}, 0},
		{"raw", "pillar.raw", nil, pillarData(), 0},
		{"raw key", "pillar.raw", []any{"role"}, "web", 0},
		{"raw missing key", "pillar.raw", []any{modtest.Kw("key", "nope")}, map[string]any{}, 0},
		{"keys", "pillar.keys", []any{"pkg"}, []any{"apache", "list", "opts"}, 0},
		{"keys missing", "pillar.keys", []any{"nope"}, "KeyError: 'Pillar key not found: nope'", 1},
		{"keys of a non-dict", "pillar.keys", []any{"role"}, "ValueError: Pillar value in key role is not a dict", 1},
		{"filter_by", "pillar.filter_by", []any{map[string]any{"web": "Serve it up", "db": "I query", "default": "x_x"}, "role"}, "Serve it up", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &master{current: pillarData()}
			res := run(m.env(), tc.fun, tc.args...)
			if got := lastLine(res.Return); !reflect.DeepEqual(got, tc.want) || res.Retcode != tc.ret {
				t.Fatalf("%s%v = %#v (retcode %d), want %#v", tc.fun, tc.args, got, res.Retcode, tc.want)
			}
			if m.refreshes != 0 {
				t.Errorf("%s refreshed the pillar", tc.fun)
			}
		})
	}
}

// pillar.items asks the master for a fresh pillar; pillar.raw does not.
func TestItemsFresh(t *testing.T) {
	m := &master{current: map[string]any{"v": int64(1)}, next: map[string]any{"v": int64(2), "d": map[string]any{"a": int64(1)}}}
	if res := run(m.env(), "pillar.raw"); !reflect.DeepEqual(res.Return, map[string]any{"v": int64(1)}) {
		t.Fatalf("raw = %v", res.Return)
	}
	if res := run(m.env(), "pillar.items"); !reflect.DeepEqual(res.Return, m.next) || m.refreshes != 1 {
		t.Fatalf("items = %v after %d refreshes", res.Return, m.refreshes)
	}
	if res := run(m.env(), "pillar.items", modtest.Kw("pillar", map[string]any{"d": map[string]any{"b": int64(2)}})); !reflect.DeepEqual(res.Return,
		map[string]any{"v": int64(2), "d": map[string]any{"a": int64(1), "b": int64(2)}}) {
		t.Fatalf("items with a pillar override = %v", res.Return)
	}
	if m.next["d"].(map[string]any)["b"] != nil {
		t.Fatal("the override changed the minion's pillar")
	}
	if res := run(m.env(), "pillar.ls"); !reflect.DeepEqual(res.Return, []any{"d", "v"}) {
		t.Fatalf("ls = %v", res.Return)
	}
	m.err = errors.New("no master")
	if res := run(m.env(), "pillar.items"); res.Success || res.Return != "ERROR: fetching the pillar from the master: no master" {
		t.Fatalf("items without a master = %#v", res)
	}
	// brine-call --local: no refresh to ask for, the pillar in memory.
	local := &modules.Env{Pillar: func() map[string]any { return map[string]any{"l": true} }}
	if res := run(local, "pillar.items"); !reflect.DeepEqual(res.Return, map[string]any{"l": true}) {
		t.Fatalf("local items = %v", res.Return)
	}
	if res := run(&modules.Env{}, "pillar.get", "x", "d"); res.Return != "d" {
		t.Fatalf("no pillar at all: %v", res.Return)
	}
}

package sys

import (
	"context"
	"reflect"
	"testing"

	"github.com/brine-project/brine/minion/modules"
)

func registry() *modules.Registry {
	r := modules.NewRegistry()
	noop := func(context.Context, *modules.Call) (any, error) { return nil, nil }
	for _, s := range []*modules.Spec{
		{Name: "test.ping", Doc: "Return True\n\n.. code-block:: bash\n\n    salt '*' test.ping", Fn: noop},
		{Name: "test.arg", Doc: ".. versionadded:: 2015.5.0", VarArgs: true, VarKw: true, Fn: noop},
		{Name: "test.retcode", Doc: "Set the retcode", Params: []modules.Param{modules.D("code", int64(42))}, Fn: noop},
		{Name: "cmd.run", Doc: "Run", Params: []modules.Param{modules.P("cmd"), modules.D("cwd", nil), modules.D("rstrip", true)}, VarKw: true, Fn: noop},
		{Name: "cmd.which", Doc: "Which", Params: []modules.Param{modules.P("cmd")}, Fn: noop},
		{Name: "testing.x", Doc: "Not test's", Fn: noop},
	} {
		r.Register(s)
	}
	for _, s := range Specs(r) {
		r.Register(s)
	}
	return r
}

func TestSys(t *testing.T) {
	r := registry()
	for _, tc := range []struct {
		name string
		fun  string
		args []any
		want any
	}{
		{"doc of a module", "sys.doc", []any{"test"}, map[string]any{"test.ping": "Return True\n\n    salt '*' test.ping", "test.arg": "New in version 2015.5.0", "test.retcode": "Set the retcode"}},
		{"doc of a function", "sys.doc", []any{"cmd.which"}, map[string]any{"cmd.which": "Which"}},
		{"doc of a glob", "sys.doc", []any{"cmd.w*"}, map[string]any{"cmd.which": "Which"}},
		{"list_functions", "sys.list_functions", []any{"test"}, []any{"test.arg", "test.ping", "test.retcode"}},
		{"list_functions glob", "sys.list_functions", []any{"cmd.*", "testing"}, []any{"cmd.run", "cmd.which", "testing.x"}},
		{"list_modules", "sys.list_modules", nil, []any{"cmd", "sys", "test", "testing"}},
		{"list_modules glob", "sys.list_modules", []any{"t*"}, []any{"test", "testing"}},
		{"list_modules name", "sys.list_modules", []any{"cmd"}, []any{"cmd"}},
		{"argspec of a module", "sys.argspec", []any{"test"}, map[string]any{
			"test.ping":    map[string]any{"args": nil, "defaults": nil, "varargs": nil, "kwargs": nil},
			"test.arg":     map[string]any{"args": nil, "defaults": nil, "varargs": true, "kwargs": true},
			"test.retcode": map[string]any{"args": []any{"code"}, "defaults": []any{int64(42)}, "varargs": nil, "kwargs": nil},
		}},
		{"argspec of a function", "sys.argspec", []any{"cmd.run"}, map[string]any{
			"cmd.run": map[string]any{"args": []any{"cmd", "cwd", "rstrip"}, "defaults": []any{nil, true}, "varargs": nil, "kwargs": true},
		}},
		{"argspec of nothing", "sys.argspec", nil, map[string]any{}},
		{"reload_modules", "sys.reload_modules", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := r.Run(context.Background(), tc.fun, tc.args, modules.Job{JID: "1", Fun: tc.fun}, &modules.Env{})
			if !reflect.DeepEqual(res.Return, tc.want) {
				t.Fatalf("%s%v = %#v, want %#v", tc.fun, tc.args, res.Return, tc.want)
			}
		})
	}
	all := r.Run(context.Background(), "sys.list_functions", nil, modules.Job{JID: "1"}, &modules.Env{}).Return.([]any)
	if len(all) != 11 || all[0] != "cmd.run" {
		t.Fatalf("all functions: %v", all)
	}
}

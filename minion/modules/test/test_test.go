package test

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

const jid = "20261127000000000001"

func env() *modules.Env {
	return &modules.Env{ID: "m1", Jobs: modules.NewTracker(), Grains: func() map[string]any {
		return map[string]any{"kernel": "Linux", "os": "Debian", "osrelease": "12", "oscodename": "bookworm",
			"osfullname": "Debian GNU/Linux", "kernelrelease": "6.1.0-18-amd64", "cpuarch": "x86_64"}
	}}
}

func run(ctx context.Context, fun string, args ...any) modules.Result {
	job := modules.Job{JID: jid, Fun: fun, Arg: args, TgtAny: "*", TgtType: "glob", User: "root"}
	return modtest.Registry(Specs()).Run(ctx, fun, args, job, env())
}

var pub = map[string]any{"__pub_fun": "test.arg", "__pub_jid": jid, "__pub_tgt": "*", "__pub_tgt_type": "glob",
	"__pub_user": "root", "__pub_ret": ""}

func TestFunctions(t *testing.T) {
	withPub := func(m map[string]any, arg []any, fun ...string) map[string]any {
		out := map[string]any{}
		for k, v := range pub {
			out[k] = v
		}
		out["__pub_arg"] = arg
		if len(fun) > 0 {
			out["__pub_fun"] = fun[0]
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	argArgs := []any{int64(1), "two", 3.1, modtest.Kw("txt", "hello")}
	for _, tc := range []struct {
		name    string
		fun     string
		args    []any
		want    any
		retcode int
	}{
		{"ping", "test.ping", nil, true, 0},
		{"true", "test.true", nil, true, 0},
		{"false", "test.false", nil, false, 0},
		{"echo", "test.echo", []any{"foo bar"}, "foo bar", 0},
		{"outputter", "test.outputter", []any{map[string]any{"a": int64(1)}}, map[string]any{"a": int64(1)}, 0},
		{"version", "test.version", nil, "3006.16", 0},
		{"arg", "test.arg", argArgs, map[string]any{"args": []any{int64(1), "two", 3.1},
			"kwargs": withPub(map[string]any{"txt": "hello"}, argArgs)}, 0},
		{"arg with nothing", "test.arg", nil, map[string]any{"args": []any{}, "kwargs": withPub(nil, []any{})}, 0},
		{"arg_clean", "test.arg_clean", argArgs, map[string]any{"args": []any{int64(1), "two", 3.1}, "kwargs": map[string]any{"txt": "hello"}}, 0},
		{"kwarg", "test.kwarg", []any{modtest.Kw("num", int64(1))}, withPub(map[string]any{"num": int64(1)}, []any{modtest.Kw("num", int64(1))}, "test.kwarg"), 0},
		{"arg_type", "test.arg_type", []any{int64(1), "int", nil, []any{}, map[string]any{}, 1.5, true}, map[string]any{
			"args": []any{"<class 'int'>", "<class 'str'>", "<class 'NoneType'>", "<class 'list'>", "<class 'dict'>", "<class 'float'>", "<class 'bool'>"},
			"kwargs": map[string]any{"__pub_fun": "<class 'str'>", "__pub_jid": "<class 'str'>", "__pub_tgt": "<class 'str'>",
				"__pub_tgt_type": "<class 'str'>", "__pub_user": "<class 'str'>", "__pub_ret": "<class 'str'>", "__pub_arg": "<class 'list'>"}}, 0},
		{"arg_repr", "test.arg_repr", []any{int64(1), "two", 3.1, modtest.Kw("txt", "hello")}, map[string]any{
			"args": "(1, 'two', 3.1)",
			"kwargs": "{'txt': 'hello', '__pub_fun': 'test.arg_repr', '__pub_arg': [1, 'two', 3.1, {'__kwarg__': True, 'txt': 'hello'}], " +
				"'__pub_tgt': '*', '__pub_jid': '" + jid + "', '__pub_ret': '', '__pub_tgt_type': 'glob', '__pub_user': 'root'}"}, 0},
		{"retcode default", "test.retcode", nil, true, 42},
		{"retcode zero", "test.retcode", []any{int64(0)}, true, 0},
		{"retcode from a string", "test.retcode", []any{"3"}, true, 3},
		{"sleep none", "test.sleep", []any{int64(0)}, true, 0},
		{"sleep truncates floats as int() does", "test.sleep", []any{0.9}, true, 0},
		{"rand_sleep of at most 0", "test.rand_sleep", []any{modtest.Kw("max", int64(0))}, true, 0},
		{"fib 0", "test.fib", []any{int64(0)}, int64(0), 0},
		{"fib 1", "test.fib", []any{"1"}, int64(1), 0},
		{"fib 3", "test.fib", []any{int64(3)}, int64(2), 0},
		{"fib 10", "test.fib", []any{int64(10)}, int64(55), 0},
		{"fib 93 needs 64 unsigned bits", "test.fib", []any{int64(93)}, uint64(12200160415121876738), 0},
		{"fib 94 overflows", "test.fib", []any{int64(94)}, "OverflowError: the Fibonacci number does not fit in the 64 bits a return holds", 1},
		{"fib negative", "test.fib", []any{int64(-1)}, "ValueError: Negative number is not allowed!", 1},
		{"fib of a word", "test.fib", []any{"x"}, "ValueError: invalid literal for int() with base 10: 'x'", 1},
		{"exception", "test.exception", nil, "Exception: Test Exception", 1},
		{"exception with a message", "test.exception", []any{"Oh noes!"}, "Exception: Oh noes!", 1},
		{"sleep of a word", "test.sleep", []any{"soon"}, "ValueError: invalid literal for int() with base 10: 'soon'", 1},
		{"sleep negative", "test.sleep", []any{int64(-1)}, "ValueError: sleep length must be non-negative", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(context.Background(), tc.fun, tc.args...)
			got := res.Return
			if l, ok := got.([]any); ok && tc.fun == "test.fib" && len(l) == 2 {
				if _, ok := l[1].(float64); !ok {
					t.Fatalf("fib's time is %T", l[1])
				}
				got = l[0]
			}
			if s, ok := got.(string); ok && res.Retcode != 0 && strings.HasPrefix(s, "The minion function caused an exception: Traceback (most recent call last):\n") {
				got = strings.TrimSuffix(s[strings.LastIndex(strings.TrimSuffix(s, "\n"), "\n")+1:], "\n")
			}
			if !reflect.DeepEqual(got, tc.want) || res.Retcode != tc.retcode || res.Success != (tc.retcode == 0) {
				t.Fatalf("%s%v = %#v (retcode %d, success %v); want %#v (retcode %d)", tc.fun, tc.args, got, res.Retcode, res.Success, tc.want, tc.retcode)
			}
		})
	}
}

func TestVersions(t *testing.T) {
	res := run(context.Background(), "test.versions_report")
	report, _ := res.Return.(string)
	for _, want := range []string{
		"Salt Version:\n          Salt: 3006.16\n \nBrine Version:\n",
		"\n            Go: " + runtime.Version() + "\n",
		"\nSystem Versions:\n",
		"\n          dist: debian 12 bookworm\n",
		"\n       machine: x86_64\n",
		"\n       version: Debian GNU/Linux 12 bookworm\n",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("versions_report lacks %q:\n%s", want, report)
		}
	}
	if !strings.HasSuffix(report, "\n ") {
		t.Errorf("versions_report ends %q, want Salt's line of one space", report[len(report)-5:])
	}
	if res := run(context.Background(), "test.versions"); res.Return != report {
		t.Error("test.versions is not versions_report")
	}
	info, _ := run(context.Background(), "test.versions_information").Return.(map[string]any)
	if sv, _ := info["Salt Version"].(map[string]any); sv["Salt"] != "3006.16" {
		t.Errorf("versions_information = %v", info)
	}
}

// test.sleep sleeps until its job is killed.
func TestSleepKilled(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("killed by saltutil.kill_job"))
	res := run(ctx, "test.sleep", int64(3600))
	if res.Success || !strings.Contains(res.Return.(string), "killed by saltutil.kill_job") {
		t.Fatalf("killed sleep = %#v", res)
	}
	old := randIntN
	defer func() { randIntN = old }()
	var drawn int64 = -1
	randIntN = func(n int64) int64 { drawn = n; return 0 }
	if res := run(context.Background(), "test.rand_sleep", int64(5)); res.Return != true || drawn != 6 {
		t.Fatalf("rand_sleep drew from [0, %d): %v", drawn, res)
	}
}

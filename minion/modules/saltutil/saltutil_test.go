package saltutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"syscall"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

type refresher struct {
	calls []string
	err   error
}

func (r *refresher) env() *modules.Env {
	return &modules.Env{ID: "m1", Jobs: modules.NewTracker(), Refresh: func(_ context.Context, what string) error {
		r.calls = append(r.calls, what)
		return r.err
	}}
}

func run(env *modules.Env, jid, fun string, args ...any) modules.Result {
	r := modtest.Registry(Specs())
	return r.Run(context.Background(), fun, args, modules.Job{JID: jid, Fun: fun, Arg: args, TgtAny: "*", TgtType: "glob", User: "root"}, env)
}

func TestRefresh(t *testing.T) {
	all := map[string]any{}
	for _, k := range []string{"clouds", "beacons", "modules", "states", "sdb", "grains", "renderers", "returners", "output", "utils",
		"log_handlers", "executors", "proxymodules", "engines", "thorium", "serializers", "matchers"} {
		all[k] = []any{}
	}
	for _, tc := range []struct {
		name  string
		fun   string
		args  []any
		err   error
		want  any
		calls []string
	}{
		{"refresh_pillar", "saltutil.refresh_pillar", nil, nil, true, []string{"pillar"}},
		{"refresh_pillar wait", "saltutil.refresh_pillar", []any{modtest.Kw("wait", true, "timeout", int64(5))}, nil, true, []string{"pillar"}},
		{"pillar_refresh", "saltutil.pillar_refresh", nil, nil, true, []string{"pillar"}},
		{"refresh_pillar fails", "saltutil.refresh_pillar", nil, errors.New("master gone"), "ERROR: refreshing the pillar: master gone", []string{"pillar"}},
		{"refresh_grains", "saltutil.refresh_grains", []any{modtest.Kw("refresh_pillar", false)}, nil, true, []string{"grains"}},
		{"refresh_grains bad keyword", "saltutil.refresh_grains", []any{modtest.Kw("foo", "bar")}, nil,
			"ERROR executing 'saltutil.refresh_grains': The following keyword arguments are not valid: foo=bar", nil},
		{"refresh_modules", "saltutil.refresh_modules", nil, nil, true, []string{"modules"}},
		{"sync_all", "saltutil.sync_all", nil, nil, all, []string{"pillar"}},
		{"sync_all no refresh", "saltutil.sync_all", []any{modtest.Kw("refresh", false)}, nil, all, nil},
		{"sync_grains", "saltutil.sync_grains", nil, nil, []any{}, []string{"grains"}},
		{"sync_modules", "saltutil.sync_modules", []any{"base"}, nil, []any{}, []string{"modules"}},
		{"sync_sdb", "saltutil.sync_sdb", nil, nil, []any{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &refresher{err: tc.err}
			res := run(r.env(), "1", tc.fun, tc.args...)
			if !reflect.DeepEqual(res.Return, tc.want) || !reflect.DeepEqual(r.calls, tc.calls) {
				t.Fatalf("%s%v = %#v, refreshed %v; want %#v, %v", tc.fun, tc.args, res.Return, r.calls, tc.want, tc.calls)
			}
		})
	}
	if res := run(&modules.Env{}, "1", "saltutil.refresh_pillar"); res.Return != false {
		t.Errorf("refresh_pillar with no minion = %v", res.Return)
	}
}

// A job the tracker runs until its context ends; done gets the cause.
func startJob(t *testing.T, env *modules.Env, jid, fun string) <-chan error {
	t.Helper()
	ctx, end := env.Jobs.Start(context.Background(), modules.Job{JID: jid, Fun: fun, Arg: []any{int64(30)}, TgtAny: "*", TgtType: "glob", User: "root"})
	done := make(chan error, 1)
	go func() {
		<-ctx.Done()
		err := context.Cause(ctx)
		end()
		done <- err
	}()
	t.Cleanup(func() { env.Jobs.Kill(jid, errors.New("test over")) })
	return done
}

func TestJobs(t *testing.T) {
	r := &refresher{}
	env := r.env()
	const slow, other, self = "20261127000000000009", "20261127000000000010", "20261127000000000011"
	done := startJob(t, env, slow, "test.sleep")
	otherDone := startJob(t, env, other, "cmd.run")
	startJob(t, env, self, "saltutil.running")
	data := func(jid, fun string) map[string]any {
		return map[string]any{"jid": jid, "fun": fun, "arg": []any{int64(30)}, "tgt": "*", "tgt_type": "glob", "user": "root", "ret": "", "pid": int64(os.Getpid())}
	}
	pid := os.Getpid()
	for _, tc := range []struct {
		name string
		fun  string
		args []any
		want any
	}{
		{"running leaves out the asking job", "saltutil.running", nil, []any{data(slow, "test.sleep"), data(other, "cmd.run")}},
		{"is_running", "saltutil.is_running", []any{"test.*"}, []any{data(slow, "test.sleep")}},
		{"is_running none", "saltutil.is_running", []any{"state.*"}, []any{}},
		{"find_job", "saltutil.find_job", []any{slow}, data(slow, "test.sleep")},
		{"find_job of itself", "saltutil.find_job", []any{self}, map[string]any{}},
		{"find_job of a finished job", "saltutil.find_job", []any{"20261127000000000099"}, map[string]any{}},
		{"signal 0 only checks", "saltutil.signal_job", []any{slow, int64(0)}, fmt.Sprintf("Signal 0 sent to job %s at pid %d", slow, pid)},
		{"signal_job of nothing", "saltutil.signal_job", []any{"20261127000000000099", int64(15)}, ""},
		{"bad signal", "saltutil.signal_job", []any{slow, "NOPE"}, "The minion function caused an exception: Traceback (most recent call last):\n  (raised by Brine, which runs no Python: there is no stack to show)\nValueError: invalid literal for int() with base 10: 'NOPE'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := run(env, self, tc.fun, tc.args...); !reflect.DeepEqual(res.Return, tc.want) {
				t.Fatalf("%s%v = %#v, want %#v", tc.fun, tc.args, res.Return, tc.want)
			}
		})
	}
	select {
	case err := <-done:
		t.Fatalf("signal 0 ended the job: %v", err)
	default:
	}
	if res := run(env, self, "saltutil.term_job", slow); res.Return != fmt.Sprintf("Signal 15 sent to job %s at pid %d", slow, pid) {
		t.Fatalf("term_job = %v", res.Return)
	}
	var s interface{ Signal() syscall.Signal }
	if err := <-done; !errors.As(err, &s) || s.Signal() != syscall.SIGTERM {
		t.Fatalf("the job ended with %v, want SIGTERM as its cause", err)
	}
	if res := run(env, self, "saltutil.kill_job", other); res.Return != fmt.Sprintf("Signal 9 sent to job %s at pid %d", other, pid) {
		t.Fatalf("kill_job = %v", res.Return)
	}
	// Until its function returns, a killed job is still running (and
	// kill_all_jobs below would signal it again).
	if err := <-otherDone; !errors.As(err, &s) || s.Signal() != syscall.SIGKILL {
		t.Fatalf("kill_job ended the job with %v, want SIGKILL as its cause", err)
	}
	third := startJob(t, env, "20261127000000000012", "test.sleep")
	if res := run(env, self, "saltutil.signal_job", "20261127000000000012", "SIGINT"); res.Return != fmt.Sprintf("Signal 2 sent to job 20261127000000000012 at pid %d", pid) {
		t.Fatalf("signal_job by name = %v", res.Return)
	}
	if err := <-third; !errors.As(err, &s) || s.Signal() != syscall.SIGINT {
		t.Fatalf("signal_job SIGINT ended the job with %v", err)
	}
	fourth := startJob(t, env, "20261127000000000013", "test.sleep")
	if res := run(env, self, "saltutil.kill_all_jobs"); !reflect.DeepEqual(res.Return, []any{fmt.Sprintf("Signal 9 sent to job 20261127000000000013 at pid %d", pid)}) {
		t.Fatalf("kill_all_jobs = %v", res.Return)
	}
	<-fourth
}

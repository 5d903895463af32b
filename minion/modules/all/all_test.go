package all

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

func env() *modules.Env {
	return &modules.Env{ID: "m1", Grains: func() map[string]any { return map[string]any{"os": "Debian", "nested": map[string]any{"a": "b"}} },
		Pillar: func() map[string]any { return map[string]any{} }, Jobs: modules.NewTracker()}
}

func TestRun(t *testing.T) {
	r := Registry()
	ctx := context.Background()
	job := modules.Job{JID: "20261127000000000001", Fun: "x", TgtAny: "*", TgtType: "glob", User: "root"}
	for _, tc := range []struct {
		name    string
		fun     string
		arg     []any
		want    string // substring of the return's printed form
		retcode int
	}{
		{"ping", "test.ping", nil, "true", 0},
		{"echo", "test.echo", []any{"hi"}, "hi", 0},
		{"echo by keyword", "test.echo", []any{modtest.Kw("text", "kw")}, "kw", 0},
		{"missing function", "foo.bar", nil, "'foo.bar' is not available.", 1},
		{"missing argument", "test.echo", nil, "Passed invalid arguments to test.echo: echo() missing 1 required positional argument(s): 'text'", 1},
		{"unknown keyword", "test.echo", []any{"hi", modtest.Kw("bogus", 1)}, "the following keyword arguments are not valid: bogus=1", 1},
		{"too many positional", "test.echo", []any{"a", "b"}, "takes 1 positional arguments but 2 were given", 1},
		{"arg keeps *args and **kwargs with __pub_", "test.arg", []any{int64(1), "two", modtest.Kw("three", int64(3))}, "__pub_jid:20261127000000000001", 0},
		{"cmd.run merges stderr", "cmd.run", []any{"echo out; echo err >&2"}, "out\nerr", 0},
		{"cmd.run cwd and env", "cmd.run", []any{"pwd; echo $GREETING", modtest.Kw("cwd", "/", "env", map[string]any{"GREETING": "hello"})}, "/\nhello", 0},
		{"cmd.run retcode", "cmd.run", []any{"echo failing; exit 3"}, "failing", 3},
		{"cmd.run ignore_retcode", "cmd.run", []any{"exit 3", modtest.Kw("ignore_retcode", true)}, "", 0},
		{"cmd.run timeout", "cmd.run", []any{"sleep 30", modtest.Kw("timeout", int64(1))}, "sleep 30 : Timed out after 1 seconds", 1},
		{"cmd.run_all", "cmd.run_all", []any{"echo o; echo e >&2; exit 2"}, "retcode:2 stderr:e stdout:o", 2},
		{"cmd.retcode", "cmd.retcode", []any{"exit 5"}, "5", 5},
		{"cmd.run bad cwd", "cmd.run", []any{"true", modtest.Kw("cwd", "/no/such/dir")}, "Specified cwd '/no/such/dir' either not absolute or does not exist", 1},
		{"grains.get nested", "grains.get", []any{"nested:a"}, "b", 0},
		{"grains.get default", "grains.get", []any{"nope", "dflt"}, "dflt", 0},
		{"sys.list_functions", "sys.list_functions", []any{"test"}, "test.ping", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := job
			j.Fun = tc.fun
			res := r.Run(ctx, tc.fun, tc.arg, j, env())
			got := sprint(res.Return)
			if !strings.Contains(got, tc.want) || res.Retcode != tc.retcode || res.Success != (tc.retcode == 0) {
				t.Fatalf("%s%v = %q retcode %d success %v; want %q retcode %d", tc.fun, tc.arg, got, res.Retcode, res.Success, tc.want, tc.retcode)
			}
		})
	}
}

func sprint(v any) string {
	switch v := v.(type) {
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(v) {
			parts = append(parts, k+":"+sprint(v[k]))
		}
		return "map[" + strings.Join(parts, " ") + "]"
	case []any:
		var parts []string
		for _, x := range v {
			parts = append(parts, sprint(x))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return strings.TrimSpace(strings.ReplaceAll(strings.TrimSpace(fmtAny(v)), "\t", " "))
}

// A running job is listed by saltutil.running and find_job, and
// saltutil.kill_job ends it (its command gets SIGKILL).
func TestJobTracking(t *testing.T) {
	r := Registry()
	e := env()
	ctx := context.Background()
	slow := modules.Job{JID: "20261127000000000009", Fun: "cmd.run", TgtAny: "*", TgtType: "glob"}
	done := make(chan modules.Result, 1)
	jctx, end := e.Jobs.Start(ctx, slow)
	go func() {
		res := r.Run(jctx, "cmd.run", []any{"sleep 60"}, slow, e)
		end()
		done <- res
	}()
	other := modules.Job{JID: "20261127000000000010"}
	if res := r.Run(ctx, "saltutil.find_job", []any{slow.JID}, other, e); !strings.Contains(sprint(res.Return), "jid:"+slow.JID) {
		t.Fatalf("find_job: %v", res.Return)
	}
	if res := r.Run(ctx, "saltutil.running", nil, other, e); !strings.Contains(sprint(res.Return), slow.JID) {
		t.Fatalf("running: %v", res.Return)
	}
	start := time.Now()
	if res := r.Run(ctx, "saltutil.kill_job", []any{slow.JID}, other, e); !strings.Contains(sprint(res.Return), "Signal 9 sent to job") {
		t.Fatalf("kill_job: %v", res.Return)
	}
	res := <-done
	if res.Success || time.Since(start) > 10*time.Second {
		t.Fatalf("killed job returned %v after %v", res, time.Since(start))
	}
	if res := r.Run(ctx, "saltutil.find_job", []any{slow.JID}, other, e); sprint(res.Return) != "map[]" {
		t.Fatalf("find_job after the kill: %v", res.Return)
	}
}

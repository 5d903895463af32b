package master

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/internal/jid"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport/wire"
)

// runnerFunc is a master-side runner: it gets the arguments as Salt sends
// them (positional, keyword) and returns what salt-run prints.
type runnerFunc func(ctx context.Context, m *Master, args []any, kwargs map[string]any) (any, error)

var runners = map[string]runnerFunc{
	"jobs.lookup_jid": runLookupJID,
	"jobs.list_jobs":  runListJobs,
	"jobs.list_job":   runPrintJob,
	"jobs.print_job":  runPrintJob,
	"jobs.active":     runActive,
	"manage.up":       runManage("up"),
	"manage.down":     runManage("down"),
	"manage.status":   runManage("status"),
}

// runner is the clear runner command of local clients. Like Salt's, it
// answers at once with the run's jid and tag; the result comes as the
// event salt/run/<jid>/ret.
func (m *Master) runner(ctx context.Context, load map[string]any) any {
	user, ok := m.localUser(load)
	if !ok {
		m.log.Warn("master: runner with a bad key refused")
		return authError()
	}
	fun, _ := wire.OptString(load, "fun")
	run, ok := runners[fun]
	if !ok {
		return map[string]any{"error": map[string]any{"name": "SaltInvocationError", "message": fmt.Sprintf("'%s' is not available.", fun)}}
	}
	args, _ := load["arg"].([]any)
	kwargs, _ := load["kwarg"].(map[string]any)
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	if !m.startRunner() {
		return map[string]any{"error": map[string]any{"name": "SaltMasterError", "message": "The master is shutting down."}}
	}
	id := m.jids.Next()
	tag := "salt/run/" + id
	m.fire(ctx, tag+"/new", map[string]any{"fun": "runner." + fun, "fun_args": anyOrEmpty(args), "jid": id, "user": user})
	go func() {
		defer m.runnersWG.Done()
		ret, err := run(m.runCtx, m, args, kwargs)
		success := err == nil
		if err != nil {
			ret = fmt.Sprintf("Exception occurred in runner %s: %v", fun, err)
		}
		m.fire(m.runCtx, tag+"/ret", map[string]any{"fun": "runner." + fun, "fun_args": anyOrEmpty(args), "jid": id, "user": user, "return": ret, "success": success})
	}()
	return map[string]any{"tag": tag, "jid": id}
}

// argOr returns the positional argument i, or the keyword argument name.
func argOr(args []any, kwargs map[string]any, i int, name string) (any, bool) {
	if v, ok := kwargs[name]; ok {
		return v, true
	}
	if i < len(args) {
		return args[i], true
	}
	return nil, false
}

func stringArg(args []any, kwargs map[string]any, i int, name string) (string, error) {
	v, ok := argOr(args, kwargs, i, name)
	if !ok {
		return "", fmt.Errorf("missing argument %q", name)
	}
	return fmt.Sprint(v), nil
}

func runLookupJID(ctx context.Context, m *Master, args []any, kwargs map[string]any) (any, error) {
	id, err := stringArg(args, kwargs, 0, "jid")
	if err != nil {
		return nil, err
	}
	rets, err := m.jobs.Returns(ctx, id)
	if err != nil {
		return map[string]any{}, nil
	}
	out := map[string]any{}
	for minion, load := range rets {
		out[minion] = load["return"]
	}
	if missing, _ := argOr(args, kwargs, 2, "missing"); missing == true {
		if job, err := m.jobs.Job(ctx, id); err == nil {
			for _, minion := range job.Minions {
				if _, ok := out[minion]; !ok {
					out[minion] = "Minion did not return"
				}
			}
		}
	}
	return out, nil
}

// jobInfo is how salt-run's jobs runners describe a job.
func jobInfo(load map[string]any, start time.Time) map[string]any {
	return map[string]any{
		"Function":    load["fun"],
		"Arguments":   anyOrEmpty(asList(load["arg"])),
		"Target":      load["tgt"],
		"Target-type": load["tgt_type"],
		"User":        load["user"],
		"StartTime":   start.UTC().Format("2006, Jan 02 15:04:05.000000"),
	}
}

func runListJobs(ctx context.Context, m *Master, args []any, kwargs map[string]any) (any, error) {
	jobs, err := m.jobs.Jobs(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	searchFun, _ := kwargs["search_function"].(string)
	searchTgt, _ := kwargs["search_target"].(string)
	out := map[string]any{}
	for _, j := range jobs {
		if searchFun != "" && !fnmatch.Match(searchFun, fmt.Sprint(j.Load["fun"])) {
			continue
		}
		if searchTgt != "" && !fnmatch.Match(searchTgt, fmt.Sprint(j.Load["tgt"])) {
			continue
		}
		out[j.JID] = jobInfo(j.Load, j.StartTime)
	}
	return out, nil
}

func runPrintJob(ctx context.Context, m *Master, args []any, kwargs map[string]any) (any, error) {
	id, err := stringArg(args, kwargs, 0, "jid")
	if err != nil {
		return nil, err
	}
	job, err := m.jobs.Job(ctx, id)
	if err != nil {
		return map[string]any{}, nil
	}
	rets, _ := m.jobs.Returns(ctx, id)
	info := jobInfo(job.Load, job.StartTime)
	info["Minions"] = anyList(job.Minions)
	result := map[string]any{}
	for minion, load := range rets {
		result[minion] = map[string]any{"return": load["return"], "retcode": load["retcode"], "success": load["success"]}
	}
	info["Result"] = result
	return map[string]any{id: info}, nil
}

// runActive asks every minion what it is running (saltutil.running).
func runActive(ctx context.Context, m *Master, args []any, kwargs map[string]any) (any, error) {
	rets, _, err := m.gather(ctx, "*", "glob", "saltutil.running", nil, m.runnerTimeout(kwargs))
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for minion, load := range rets {
		for _, r := range asList(load["return"]) {
			data, ok := r.(map[string]any)
			if !ok {
				continue
			}
			jobID := fmt.Sprint(data["jid"])
			entry, ok := out[jobID].(map[string]any)
			if !ok {
				start, _ := jid.Time(jobID)
				entry = jobInfo(data, start)
				entry["Running"] = []any{}
				out[jobID] = entry
			}
			entry["Running"] = append(entry["Running"].([]any), map[string]any{minion: data["pid"]})
		}
	}
	return out, nil
}

// runManage is manage.up/down/status: which accepted minions answer a
// test.ping within the timeout.
func runManage(which string) runnerFunc {
	return func(ctx context.Context, m *Master, args []any, kwargs map[string]any) (any, error) {
		rets, _, err := m.gather(ctx, "*", "glob", "test.ping", nil, m.runnerTimeout(kwargs))
		if err != nil {
			return nil, err
		}
		accepted, err := m.keys.List(pki.Accepted)
		if err != nil {
			return nil, err
		}
		var up, down []string
		for _, id := range accepted {
			if _, ok := rets[id]; ok {
				up = append(up, id)
			} else {
				down = append(down, id)
			}
		}
		switch which {
		case "up":
			return anyList(up), nil
		case "down":
			return anyList(down), nil
		}
		return map[string]any{"up": anyList(up), "down": anyList(down)}, nil
	}
}

// runnerTimeout is the runner's timeout keyword, or Salt's default 5s.
func (m *Master) runnerTimeout(kwargs map[string]any) time.Duration {
	if v, ok := kwargs["timeout"].(int64); ok && v > 0 {
		return time.Duration(v) * time.Second
	}
	return 5 * time.Second
}

// gather publishes a job from the master itself and collects the returns
// of the expected minions until all answered or timeout passed.
func (m *Master) gather(ctx context.Context, tgt any, tgtType, fun string, arg []any, timeout time.Duration) (map[string]map[string]any, []string, error) {
	id := m.jids.Next()
	rets, cancel := m.returns.wait(id)
	defer cancel()
	reply, _ := m.publish(ctx, map[string]any{
		"cmd": "publish", "tgt": tgt, "tgt_type": tgtType, "fun": fun, "arg": anyOrEmpty(arg),
		"jid": id, "key": m.rootKeys["root"], "user": "root",
	}).(map[string]any)
	load, _ := reply["load"].(map[string]any)
	expected := wire.Strings(load["minions"])
	out := map[string]map[string]any{}
	if len(expected) == 0 {
		return out, nil, nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for len(out) < len(expected) {
		select {
		case r := <-rets:
			if slices.Contains(expected, r.id) {
				out[r.id] = r.load
			}
		case <-t.C:
			return out, expected, nil
		case <-ctx.Done():
			return out, expected, ctx.Err()
		}
	}
	sort.Strings(expected)
	return out, expected, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func anyOrEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// Package saltutil is Salt's saltutil execution module: the minion's own
// housekeeping: refreshing its grains, pillar and modules, syncing custom
// modules (Brine has none to sync), and the jobs it is running.
package saltutil

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// Specs are the functions of the saltutil module.
func Specs() []*modules.Spec {
	specs := []*modules.Spec{
		{Name: "saltutil.refresh_pillar", Doc: "Signal the minion to refresh the in-memory pillar data.\n\nwait\n    Wait for pillar refresh to complete, defaults to False.\ntimeout\n    How long to wait in seconds, only used when wait is True, defaults to 30.\nclean_cache\n    Clean the pillar cache, only used when pillar_cache is True. Defaults to True\n\nReturns True when the pillar was refreshed.\n\nCLI Example:\n\n    salt '*' saltutil.refresh_pillar\n    salt '*' saltutil.refresh_pillar wait=True timeout=60",
			Params: []modules.Param{modules.D("wait", false), modules.D("timeout", int64(30)), modules.D("clean_cache", true)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				if pydata.Truthy(c.Args["wait"]) {
					if d, err := modules.Seconds(c.Args["timeout"]); err == nil && d > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, d)
						defer cancel()
					}
				}
				return refresh(ctx, c.Env, "pillar")
			}},
		{Name: "saltutil.pillar_refresh", Doc: "This function is an alias of refresh_pillar.\n\nSignal the minion to refresh the in-memory pillar data.\n\nCLI Example:\n\n    salt '*' saltutil.pillar_refresh",
			Params: []modules.Param{modules.D("wait", false), modules.D("timeout", int64(30)), modules.D("clean_cache", true)},
			Fn:     func(ctx context.Context, c *modules.Call) (any, error) { return refresh(ctx, c.Env, "pillar") }},
		{Name: "saltutil.refresh_grains", Doc: "Refresh the minion's grains without syncing custom grains modules from salt://_grains.\n\nrefresh_pillar : True\n    Set to False to keep pillar data from being refreshed.\n\nCLI Examples:\n\n    salt '*' saltutil.refresh_grains",
			VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				kw := pydata.CleanKwargs(c.Extra)
				delete(kw, "refresh_pillar")
				if len(kw) > 0 {
					return pydata.InvocationError(c, pydata.InvalidKwargs(kw))
				}
				if _, err := refresh(ctx, c.Env, "grains"); err != nil {
					return nil, err
				}
				return true, nil
			}},
		{Name: "saltutil.refresh_modules", Doc: "Signal the minion to refresh the module and grain data\n\nThe default is to refresh module asynchronously. To block until the module refresh is complete, set the 'async' flag to False.\n\nCLI Example:\n\n    salt '*' saltutil.refresh_modules",
			VarKw: true,
			Fn:    func(ctx context.Context, c *modules.Call) (any, error) { return refresh(ctx, c.Env, "modules") }},
		{Name: "saltutil.sync_all", Doc: "Sync down all of the dynamic modules from the file server for a specific environment. Brine's modules are compiled in: there is never anything to sync, and each kind lists none.\n\nrefresh : True\n    Also refresh the execution modules and recompile pillar data available to the minion.\n\nCLI Examples:\n\n    salt '*' saltutil.sync_all\n    salt '*' saltutil.sync_all saltenv=dev",
			Params: syncParams(true),
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				ret := map[string]any{}
				for _, kind := range syncKinds {
					ret[kind] = []any{}
				}
				if pydata.Truthy(c.Args["refresh"]) {
					if _, err := refresh(ctx, c.Env, "pillar"); err != nil {
						return nil, err
					}
				}
				return ret, nil
			}},
		{Name: "saltutil.running", Doc: "Return the data on all running salt processes on the minion\n\nCLI Example:\n\n    salt '*' saltutil.running",
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				out := []any{}
				for _, j := range others(c) {
					out = append(out, jobData(j))
				}
				return out, nil
			}},
		{Name: "saltutil.is_running", Doc: "If the named function is running return the data associated with it/them. The argument can be a glob\n\nCLI Example:\n\n    salt '*' saltutil.is_running state.highstate",
			Params: []modules.Param{modules.P("fun")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				pat := pydata.Str(c.Args["fun"])
				out := []any{}
				for _, j := range others(c) {
					if fnmatch.Match(pat, j.Fun) {
						out = append(out, jobData(j))
					}
				}
				return out, nil
			}},
		{Name: "saltutil.find_job", Doc: "Return the data for a specific job id that is currently running.\n\njid\n    The job id to search for and return data.\n\nIf the job has already completed, the job cannot be found and therefore the function returns an empty dictionary.\n\nCLI Example:\n\n    salt '*' saltutil.find_job <job id>",
			Params: []modules.Param{modules.P("jid")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				if j, ok := find(c, pydata.Str(c.Args["jid"])); ok {
					return jobData(j), nil
				}
				return map[string]any{}, nil
			}},
		{Name: "saltutil.signal_job", Doc: "Sends a signal to the named salt job's process\n\nCLI Example:\n\n    salt '*' saltutil.signal_job <job id> 15",
			Params: []modules.Param{modules.P("jid"), modules.P("sig")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				sig, err := parseSignal(c.Args["sig"])
				if err != nil {
					return pydata.RaiseErr(c, err)
				}
				return signalJob(c, pydata.Str(c.Args["jid"]), sig), nil
			}},
		{Name: "saltutil.term_job", Doc: "Sends a termination signal (SIGTERM 15) to the named salt job's process\n\nCLI Example:\n\n    salt '*' saltutil.term_job <job id>",
			Params: []modules.Param{modules.P("jid")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return signalJob(c, pydata.Str(c.Args["jid"]), syscall.SIGTERM), nil
			}},
		{Name: "saltutil.kill_job", Doc: "Sends a kill signal (SIGKILL 9) to the named salt job's process\n\nCLI Example:\n\n    salt '*' saltutil.kill_job <job id>",
			Params: []modules.Param{modules.P("jid")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return signalJob(c, pydata.Str(c.Args["jid"]), syscall.SIGKILL), nil
			}},
		{Name: "saltutil.term_all_jobs", Doc: "Sends a termination signal (SIGTERM 15) to all currently running jobs\n\nCLI Example:\n\n    salt '*' saltutil.term_all_jobs",
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				out := []any{}
				for _, j := range others(c) {
					out = append(out, signalJob(c, j.JID, syscall.SIGTERM))
				}
				return out, nil
			}},
		{Name: "saltutil.kill_all_jobs", Doc: "Sends a kill signal (SIGKILL 9) to all currently running jobs\n\nCLI Example:\n\n    salt '*' saltutil.kill_all_jobs",
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				out := []any{}
				for _, j := range others(c) {
					out = append(out, signalJob(c, j.JID, syscall.SIGKILL))
				}
				return out, nil
			}},
	}
	for _, kind := range syncKinds {
		specs = append(specs, syncSpec(kind))
	}
	return specs
}

// syncKinds are the kinds of custom module Salt syncs, and the keys of
// sync_all's return.
var syncKinds = []string{"clouds", "beacons", "modules", "states", "sdb", "grains", "renderers", "returners",
	"output", "utils", "log_handlers", "executors", "proxymodules", "engines", "thorium", "serializers", "matchers"}

func syncParams(refresh bool) []modules.Param {
	p := []modules.Param{modules.D("saltenv", nil)}
	if refresh {
		p = append(p, modules.D("refresh", true))
	}
	return append(p, modules.D("extmod_whitelist", nil), modules.D("extmod_blacklist", nil))
}

// syncSpec is saltutil.sync_<kind>: nothing to sync, then the refresh
// Salt does after syncing that kind.
func syncSpec(kind string) *modules.Spec {
	name := kind
	what := ""
	switch kind {
	case "grains":
		what = "grains"
	case "modules", "states", "renderers", "returners", "output", "utils", "executors", "proxymodules",
		"engines", "thorium", "serializers", "matchers", "clouds", "log_handlers":
		what = "modules"
	}
	return &modules.Spec{Name: "saltutil.sync_" + name,
		Doc:    fmt.Sprintf("Sync %s from salt://_%s to the minion. Brine's modules are compiled in: there is never anything to sync, and the list of synced modules is empty.\n\nCLI Example:\n\n    salt '*' saltutil.sync_%s", kind, kind, name),
		Params: syncParams(kind != "sdb"),
		Fn: func(ctx context.Context, c *modules.Call) (any, error) {
			if what != "" && pydata.Truthy(c.Args["refresh"]) {
				if _, err := refresh(ctx, c.Env, what); err != nil {
					return nil, err
				}
			}
			return []any{}, nil
		}}
}

// refresh asks the minion to refresh what: True when done, False when
// there is no minion to ask (brine-call --local), Salt's answer when its
// event system is missing.
func refresh(ctx context.Context, env *modules.Env, what string) (any, error) {
	if env == nil || env.Refresh == nil {
		return false, nil
	}
	if err := env.Refresh(ctx, what); err != nil {
		return nil, fmt.Errorf("refreshing the %s: %w", what, err)
	}
	return true, nil
}

// jobData is how saltutil describes a running job: its publication and
// the pid running it (the minion's: Brine runs jobs in goroutines).
func jobData(j modules.Job) map[string]any {
	return map[string]any{
		"jid": j.JID, "fun": j.Fun, "arg": modules.AnyOrEmpty(j.Arg), "tgt": j.TgtAny, "tgt_type": j.TgtType,
		"user": j.User, "ret": j.Ret, "pid": int64(os.Getpid()),
	}
}

// others are the running jobs but the one asking, which Salt's running()
// leaves out too.
func others(c *modules.Call) []modules.Job {
	if c.Env == nil || c.Env.Jobs == nil {
		return nil
	}
	var out []modules.Job
	for _, j := range c.Env.Jobs.Running() {
		if j.JID != c.Job.JID {
			out = append(out, j)
		}
	}
	return out
}

func find(c *modules.Call, jid string) (modules.Job, bool) {
	if c.Env == nil || c.Env.Jobs == nil || jid == c.Job.JID {
		return modules.Job{}, false
	}
	return c.Env.Jobs.Find(jid)
}

// signalled is the cause a signalled job's context ends with: its
// commands (package cmd) get sig.
type signalled struct {
	sig syscall.Signal
	jid string
}

func (s signalled) Error() string {
	return fmt.Sprintf("job %s got signal %d (%s)", s.jid, int(s.sig), unix.SignalName(s.sig))
}

// Signal is the signal the job's commands are to get.
func (s signalled) Signal() syscall.Signal { return s.sig }

// signalJob is Salt's signal_job: the job's context ends with the signal
// as its cause, and its commands' process groups get the signal. Signal 0
// only checks that the job runs.
func signalJob(c *modules.Call, jid string, sig syscall.Signal) string {
	if _, ok := find(c, jid); !ok {
		return ""
	}
	if sig != 0 && !c.Env.Jobs.Kill(jid, signalled{sig: sig, jid: jid}) {
		return fmt.Sprintf("Job %s was not running and job data has been cleaned up", jid)
	}
	return fmt.Sprintf("Signal %d sent to job %s at pid %d", int(sig), jid, os.Getpid())
}

// parseSignal reads a signal number (Salt passes it to os.kill); a name
// ("TERM", "SIGTERM") is accepted too.
func parseSignal(v any) (syscall.Signal, error) {
	if s, ok := v.(string); ok {
		name := strings.ToUpper(strings.TrimSpace(s))
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		if sig := unix.SignalNum(name); sig != 0 {
			return sig, nil
		}
	}
	n, err := pydata.Int(v)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 64 {
		return 0, pydata.Errorf("ValueError", "signal number out of range")
	}
	return syscall.Signal(n), nil
}

// Package saltutil is Salt's saltutil execution module: the minion's own
// housekeeping (running jobs, killing them).
package saltutil

import (
	"context"
	"fmt"
	"os"
	"syscall"

	"github.com/brine-project/brine/minion/modules"
)

// jobData is how saltutil describes a running job.
func jobData(j modules.Job) map[string]any {
	return map[string]any{
		"jid": j.JID, "fun": j.Fun, "arg": modules.AnyOrEmpty(j.Arg), "tgt": j.TgtAny, "tgt_type": j.TgtType,
		"user": j.User, "ret": j.Ret, "pid": int64(os.Getpid()),
	}
}

// Specs are the functions of the saltutil module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "saltutil.running", Doc: "Return the data of every job running on the minion.",
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				out := []any{}
				for _, j := range c.Env.Jobs.Running() {
					if j.JID != c.Job.JID { // not this very call
						out = append(out, jobData(j))
					}
				}
				return out, nil
			}},
		{Name: "saltutil.find_job", Doc: "Return the data of job jid if it is running, else an empty dict.",
			Params: []modules.Param{modules.P("jid")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				if j, ok := c.Env.Jobs.Find(fmt.Sprint(c.Args["jid"])); ok {
					return jobData(j), nil
				}
				return map[string]any{}, nil
			}},
		{Name: "saltutil.kill_job", Doc: "Kill job jid (its commands get SIGKILL).",
			Params: []modules.Param{modules.P("jid")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				jid := fmt.Sprint(c.Args["jid"])
				if !c.Env.Jobs.Kill(jid, fmt.Errorf("killed by saltutil.kill_job")) {
					return "", nil
				}
				return fmt.Sprintf("Signal %d sent to job %s at pid %d", syscall.SIGKILL, jid, os.Getpid()), nil
			}},
	}
}

package minion

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"time"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/transport"
)

// Call runs one function in this process, as brine-call (salt-call) does.
// Unless local, it first authenticates with the master using the minion's
// keys and fetches its pillar, and afterwards sends the return to the
// master as a job of its own (jid "req"). With local no master is needed
// and none is contacted.
func Call(ctx context.Context, cfg *config.Minion, log *slog.Logger, fun string, arg []any, local bool) (modules.Result, error) {
	m, err := New(cfg, log)
	if err != nil {
		return modules.Result{}, err
	}
	if local {
		m.env.FireMaster, m.env.Files = nil, nil
	} else {
		m.req, err = transport.NewReqClient(transport.ReqClientConfig{
			Addr:    cfg.RetEndpoint(),
			Timeout: time.Duration(cfg.RequestChannelTimeout) * time.Second,
			Tries:   cfg.RequestChannelTries,
			Options: m.transportOptions(nil),
		})
		if err != nil {
			return modules.Result{}, err
		}
		defer m.req.Close()
		c, err := m.authenticate(ctx)
		if errors.Is(err, ErrPending) {
			return modules.Result{}, fmt.Errorf("%w (brine-key -a %s on the master)", err, cfg.ID)
		}
		if err != nil {
			return modules.Result{}, err
		}
		m.creds = c
		if err := m.refreshPillar(ctx); err != nil {
			m.log.Warn("minion: fetching the pillar", "err", err)
		}
	}
	username := ""
	if u, err := user.Current(); err == nil {
		username = u.Username
	}
	job := modules.Job{JID: "req", Fun: fun, Arg: arg, TgtAny: cfg.ID, Tgt: cfg.ID, TgtType: "glob", User: username, Start: time.Now()}
	jctx, done := m.tracker.Start(ctx, job)
	res := m.registry.Run(jctx, fun, arg, job, m.env)
	done()
	if !local {
		m.sendReturn(ctx, job, res)
	}
	return res, nil
}

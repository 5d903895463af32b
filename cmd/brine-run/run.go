package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/brine-project/brine/client"
	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/internal/output"
	"github.com/brine-project/brine/internal/saltargs"
	"github.com/brine-project/brine/transport/wire"
)

var errNoRunner = errors.New("name a runner function")

// runnerError is a runner that ran and failed: exit status 1.
type runnerError struct{ error }

type options struct {
	configDir, fun string
	logLevel       string // -l ("": the config's log_level)
	args           []string
	out            string
	color          bool
}

func runRunner(ctx context.Context, o options, w, stderr io.Writer) error {
	cfg, warns, err := config.LoadMaster(o.configDir)
	if err != nil {
		return err
	}
	if _, err := cliutil.ToolLogger(stderr, o.logLevel, cfg.Logging, warns); err != nil {
		return err
	}
	arg, err := saltargs.Parse(o.args)
	if err != nil {
		return err
	}
	pos, kw := wire.SplitArgs(arg)
	if o.fun == "state.event" {
		return stateEvent(ctx, cfg, pos, kw, w)
	}
	outputter, err := output.New(o.out, output.Options{Color: o.color})
	if err != nil {
		return err
	}
	c, err := client.New(ctx, cfg, "salt/run/")
	if err != nil {
		return err
	}
	defer c.Close()
	ret, err := c.Runner(ctx, o.fun, pos, kw)
	if err != nil {
		return runnerError{err}
	}
	return printRunner(outputter, w, ret)
}

// printRunner prints a runner's return as salt-run does: the outputter
// over the return itself.
func printRunner(o output.Outputter, w io.Writer, ret any) error {
	return o.Display(w, ret)
}

// stateEvent is salt-run state.event: it prints the master's events whose
// tag matches tagmatch (an fnmatch glob, '*' by default), count of them
// (-1: forever), one per line as "tag\t{json}" or indented with
// pretty=True.
func stateEvent(ctx context.Context, cfg *config.Master, pos []any, kw map[string]any, w io.Writer) error {
	tagmatch := "*"
	if len(pos) > 0 {
		tagmatch = fmt.Sprint(pos[0])
	}
	if v, ok := kw["tagmatch"]; ok {
		tagmatch = fmt.Sprint(v)
	}
	count := int64(-1)
	if len(pos) > 1 {
		count, _ = pos[1].(int64)
	}
	if v, ok := kw["count"].(int64); ok {
		count = v
	}
	pretty, _ := kw["pretty"].(bool)
	quiet, _ := kw["quiet"].(bool)
	c, err := client.New(ctx, cfg, "")
	if err != nil {
		return err
	}
	defer c.Close()
	for n := int64(0); count < 0 || n < count; {
		ev, err := c.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !fnmatch.Match(tagmatch, ev.Tag) || isProbe(ev) {
			continue
		}
		n++
		if quiet {
			continue
		}
		var b []byte
		if pretty {
			b, err = json.MarshalIndent(jsonable(ev.Data), "", "    ")
		} else {
			b, err = json.Marshal(jsonable(ev.Data))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\n", ev.Tag, b)
	}
	return nil
}

// isProbe hides the clients' own bus probes.
func isProbe(ev events.Event) bool { return fnmatch.Match("*probe/*", ev.Tag) && len(ev.Data) <= 1 }

// jsonable turns values JSON cannot carry (bytes) into strings.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonable(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonable(x)
		}
		return out
	case []byte:
		return fmt.Sprintf("%q", v)
	}
	return v
}

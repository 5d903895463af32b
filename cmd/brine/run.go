package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brine-project/brine/client"
	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/output"
	"github.com/brine-project/brine/internal/saltargs"
)

type options struct {
	configDir, logLevel string
	tgt, tgtType, fun   string
	args                []string
	delimiter           string
	timeout             time.Duration
	async, verbose      bool
	static, noColor     bool
	out, outFile        string
	batch               string
	batchWait           time.Duration
	hideTimeout         bool
	retcodePassthrough  bool
}

type stdio struct {
	out, err    io.Writer
	tty, errTTY bool
}

// runBrine publishes the job and prints the returns; it returns the exit
// status.
func runBrine(ctx context.Context, o options, std stdio) (int, error) {
	cfg, warns, err := config.LoadMaster(o.configDir)
	if err != nil {
		return 2, err
	}
	if _, err := cliutil.ToolLogger(std.err, o.logLevel, cfg.Logging, warns); err != nil {
		return 2, err
	}
	arg, err := saltargs.Parse(o.args)
	if err != nil {
		return 2, err
	}
	out := std.out
	if o.outFile != "" {
		f, err := os.Create(o.outFile)
		if err != nil {
			return 2, err
		}
		defer f.Close()
		out = f
	}
	color := std.tty && o.outFile == "" && !o.noColor
	if o.out != "" {
		if _, err := output.New(o.out, output.Options{}); err != nil {
			return 2, err
		}
	}
	c, err := client.New(ctx, cfg, "salt/job/")
	if err != nil {
		return 2, err
	}
	defer c.Close()
	r := &runner{o: o, cfg: cfg, c: c, std: std, out: out, color: color, returns: map[string]map[string]any{}}
	if o.batch != "" {
		return r.batchRun(ctx, arg)
	}
	pub, err := c.Publish(ctx, o.tgt, o.tgtType, o.fun, arg, o.delimiter)
	if errors.Is(err, client.ErrNoMinions) {
		fmt.Fprintln(std.err, "No minions matched the target. No command was sent, no jid was assigned.")
		return 2, nil
	}
	if err != nil {
		return 2, err
	}
	if o.async {
		fmt.Fprintf(out, "Executed command with job ID: %s\n", pub.JID)
		return 0, nil
	}
	if o.verbose {
		fmt.Fprintf(out, "Executing job with jid %s\n-------------------------------------------\n\n", pub.JID)
	}
	missing := r.collect(ctx, pub.JID, pub.Minions)
	return r.finish(pub.JID, append(missing, pub.Missing...)), nil
}

// runner holds one brine run's state.
type runner struct {
	o        options
	cfg      *config.Master
	c        *client.Client
	std      stdio
	out      io.Writer
	color    bool
	returns  map[string]map[string]any // id → return load
	static   map[string]any            // --static: everything printed at the end
	staticRC int
	expected int
}

// print shows one minion's return now, or keeps it for the end. retOut is
// the outputter the return asks for (Salt's "out"); --out overrides it.
func (r *runner) print(id string, value any, retOut string, retcode int) {
	if r.o.static {
		if r.static == nil {
			r.static = map[string]any{}
		}
		r.static[id] = value
		r.staticRC = max(r.staticRC, retcode)
		return
	}
	r.clearProgress()
	o, err := output.ForReturn(r.o.out, retOut, output.Options{Color: r.color, Retcode: retcode})
	if err == nil {
		err = o.Print(r.out, map[string]any{id: value})
	}
	if err != nil {
		fmt.Fprintf(r.std.err, "brine: error: printing the return of %s: %v\n", id, err)
	}
}

// progress shows "n/m returned" on a terminal's stderr.
func (r *runner) progress() {
	if r.std.errTTY && r.expected > 0 {
		fmt.Fprintf(r.std.err, "\r%d/%d returned", len(r.returns), r.expected)
	}
}

func (r *runner) clearProgress() {
	if r.std.errTTY && r.expected > 0 {
		fmt.Fprint(r.std.err, "\r\033[K")
	}
}

// collect gathers the returns of jid from the expected minions. When the
// timeout passes with minions missing, it asks them (saltutil.find_job)
// whether they still run the job, and keeps waiting, a timeout at a time,
// for those that do, as Salt's CLI does. It returns the minions that never
// returned.
func (r *runner) collect(ctx context.Context, jid string, expected []string) []string {
	r.expected += len(expected)
	waiting := map[string]bool{}
	for _, id := range expected {
		if _, done := r.returns[id]; !done {
			waiting[id] = true
		}
	}
	r.progress()
	deadline := time.Now().Add(r.o.timeout)
	// A find_job round: its jid, and which waiting minions answered it
	// (true: still running the job).
	var findJID string
	var answered map[string]bool
	endRound := func() bool {
		findJID = ""
		for id := range waiting {
			if answered[id] {
				deadline = time.Now().Add(r.o.timeout)
				return true
			}
		}
		return false
	}
loop:
	for len(waiting) > 0 {
		wctx, cancel := context.WithDeadline(ctx, deadline)
		ev, err := r.c.Next(wctx)
		cancel()
		if ctx.Err() != nil {
			break
		}
		if err != nil { // the deadline passed
			if findJID == "" {
				if findJID = r.findJob(ctx, jid, waiting); findJID == "" {
					break
				}
				answered = map[string]bool{}
				deadline = time.Now().Add(time.Duration(r.cfg.GatherJobTimeout) * time.Second)
				continue
			}
			if !endRound() {
				break
			}
			continue
		}
		parts := strings.Split(ev.Tag, "/")
		if len(parts) != 5 || parts[3] != "ret" {
			continue
		}
		switch id := parts[4]; parts[2] {
		case jid:
			if !waiting[id] {
				continue
			}
			delete(waiting, id)
			r.returns[id] = ev.Data
			retOut, _ := ev.Data["out"].(string)
			rc, _ := ev.Data["retcode"].(int64)
			r.print(id, ev.Data["return"], retOut, int(rc))
			r.progress()
		case findJID:
			job, _ := ev.Data["return"].(map[string]any)
			answered[id] = len(job) > 0
			if !hasUnanswered(waiting, answered) && !endRound() {
				// Every missing minion answered and none runs the job.
				break loop
			}
		}
	}
	r.clearProgress()
	missing := make([]string, 0, len(waiting))
	for id := range waiting {
		missing = append(missing, id)
	}
	slices.Sort(missing)
	return missing
}

func hasUnanswered(waiting, answered map[string]bool) bool {
	for id := range waiting {
		if _, ok := answered[id]; !ok {
			return true
		}
	}
	return false
}

// findJob asks the minions in ids whether they still run jid; it returns
// the find_job's own jid ("" if it could not be published).
func (r *runner) findJob(ctx context.Context, jid string, ids map[string]bool) string {
	list := make([]any, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	pub, err := r.c.Publish(ctx, list, "list", "saltutil.find_job", []any{jid}, "")
	if err != nil {
		return ""
	}
	return pub.JID
}

// finish prints what did not return and computes the exit status.
func (r *runner) finish(jid string, missing []string) int {
	if !r.o.hideTimeout {
		for _, id := range missing {
			r.print(id, output.NoResponse(jid), output.NoReturnOut, 1)
		}
	}
	if r.static != nil {
		if o, err := output.ForReturn(r.o.out, "", output.Options{Color: r.color, Retcode: r.staticRC}); err == nil {
			o.Print(r.out, r.static)
		}
	}
	if r.o.verbose && len(missing) > 0 {
		fmt.Fprintf(r.out, "\n-------------------------------------------\nMinions that did not return: %s\n", strings.Join(missing, ", "))
	}
	code, maxRet := 0, 0
	for _, load := range r.returns {
		rc, _ := load["retcode"].(int64)
		if ok, _ := load["success"].(bool); !ok || rc != 0 {
			code = 1
			maxRet = max(maxRet, int(rc), 1)
		}
	}
	if len(missing) > 0 {
		code = 1
		maxRet = max(maxRet, 1)
	}
	if r.o.retcodePassthrough {
		return maxRet
	}
	return code
}

// batchRun runs the job on batch-size minions at a time: it finds the
// minions that answer a test.ping, then keeps at most N running, starting
// the next as each returns (after --batch-wait), as Salt's batch does.
func (r *runner) batchRun(ctx context.Context, arg []any) (int, error) {
	ping, err := r.c.Publish(ctx, r.o.tgt, r.o.tgtType, "test.ping", nil, r.o.delimiter)
	if errors.Is(err, client.ErrNoMinions) {
		fmt.Fprintln(r.std.err, "No minions matched the target. No command was sent, no jid was assigned.")
		return 2, nil
	}
	if err != nil {
		return 2, err
	}
	up := r.pingers(ctx, ping.JID, ping.Minions)
	size, err := batchSize(r.o.batch, len(up))
	if err != nil {
		return 2, err
	}
	var missing []string
	for len(up) > 0 {
		n := min(size, len(up))
		batch := up[:n]
		up = up[n:]
		list := make([]any, len(batch))
		quoted := make([]string, len(batch))
		for i, id := range batch {
			list[i] = id
			quoted[i] = "'" + id + "'"
		}
		fmt.Fprintf(r.out, "\nExecuting run on [%s]\n\n", strings.Join(quoted, ", "))
		pub, err := r.c.Publish(ctx, list, "list", r.o.fun, arg, "")
		if err != nil {
			return 2, err
		}
		missing = append(missing, r.collect(ctx, pub.JID, pub.Minions)...)
		if r.o.batchWait > 0 && len(up) > 0 {
			t := time.NewTimer(r.o.batchWait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return 2, ctx.Err()
			}
		}
	}
	return r.finish("", missing), nil
}

// pingers collects which of the expected minions answer a test.ping.
func (r *runner) pingers(ctx context.Context, jid string, expected []string) []string {
	var up []string
	waiting := map[string]bool{}
	for _, id := range expected {
		waiting[id] = true
	}
	wctx, cancel := context.WithTimeout(ctx, r.o.timeout)
	defer cancel()
	for len(waiting) > 0 {
		ev, err := r.c.Next(wctx)
		if err != nil {
			break
		}
		if parts := strings.Split(ev.Tag, "/"); len(parts) == 5 && parts[2] == jid && waiting[parts[4]] {
			delete(waiting, parts[4])
			up = append(up, parts[4])
		}
	}
	slices.Sort(up)
	return up
}

// batchSize reads -b: N, or N% of the minions (at least one).
func batchSize(s string, total int) (int, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		pct, err := strconv.ParseFloat(p, 64)
		if err != nil || pct <= 0 {
			return 0, fmt.Errorf("--batch-size %q: want N or N%%", s)
		}
		return max(1, int(float64(total)*pct/100)), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("--batch-size %q: want N or N%%", s)
	}
	return n, nil
}

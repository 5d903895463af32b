package pillar

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/brine-project/brine/internal/target"
	"github.com/brine-project/brine/transport/wire"
)

// topTarget is one target of a merged top: its matcher items and SLS names.
type topTarget struct {
	tgt     string
	matcher string // "compound" unless a "match:" item says otherwise
	states  []string
	order   int
}

// topEnv is the targets of one environment, in top file order.
type topEnv struct {
	saltenv string
	targets []*topTarget
}

// envMatch is an environment and the SLS names (or globs) the minion gets
// from it.
type envMatch struct {
	saltenv string
	states  []string
}

// top gathers and merges the top files (Salt's get_top: get_tops, then
// merge_tops).
func (r *run) top() ([]*topEnv, []string) {
	var errs []string
	saltenvs := r.envs()
	switch {
	case r.req.Pillarenv != "":
		saltenvs = nil
		if _, ok := r.c.cfg.Roots[r.req.Pillarenv]; ok {
			saltenvs = []string{r.req.Pillarenv}
		}
	case r.c.cfg.Strategy == None:
		want := r.req.Saltenv
		if want == "" {
			want = "base"
		}
		saltenvs = slices.DeleteFunc(saltenvs, func(e string) bool { return e != want })
	}
	type rendered struct {
		saltenv string
		data    wire.Map
	}
	var tops []rendered
	includes := map[string][]string{}
	var includeOrder []string
	for _, saltenv := range saltenvs {
		text, abs, err := r.c.files.ReadFile(saltenv, topFile)
		if err != nil {
			continue // no top file in this environment
		}
		data, err := r.renderTop(saltenv, topFile, abs, text)
		if err != nil {
			// Salt renders the primary top files in one try block: the
			// first failure ends the gathering.
			errs = append(errs, fmt.Sprintf("Rendering Primary Top file failed, render error:\n%v", err))
			r.c.log.Error("pillar: rendering a top file failed", "minion", r.req.ID, "saltenv", saltenv, "err", err)
			break
		}
		tops = append(tops, rendered{saltenv, data})
		if inc, ok := data.Get("include"); ok {
			for _, s := range wire.Strings(inc) {
				if _, seen := includes[saltenv]; !seen {
					includeOrder = append(includeOrder, saltenv)
				}
				includes[saltenv] = append(includes[saltenv], s)
			}
		}
	}
	for _, saltenv := range includeOrder {
		done := map[string]bool{}
		for _, sls := range includes[saltenv] {
			if done[sls] {
				continue
			}
			done[sls] = true
			rel, text, abs, ok := r.findSLS(saltenv, sls)
			var data wire.Map
			var err error
			if !ok {
				err = fmt.Errorf("SLS %s not found", sls)
			} else {
				data, err = r.renderTop(saltenv, rel, abs, text)
			}
			if err != nil {
				errs = append(errs, fmt.Sprintf("Rendering Top file %s failed, render error:\n%v", sls, err))
				continue
			}
			tops = append(tops, rendered{saltenv, data})
		}
	}

	// merge_tops: for each environment a top file names, its targets in
	// order; a target named again keeps its place and takes the new items.
	var merged []*topEnv
	byEnv := map[string]*topEnv{}
	for _, t := range tops {
		for _, f := range t.data {
			if f.Key == "include" {
				continue
			}
			targets, ok := f.Value.(wire.Map)
			if !ok {
				return nil, append(errs, "Error encountered while rendering pillar top file.")
			}
			env := byEnv[f.Key]
			if env == nil {
				env = &topEnv{saltenv: f.Key}
				byEnv[f.Key] = env
				merged = append(merged, env)
			}
			for _, tf := range targets {
				items, ok := tf.Value.([]any)
				if !ok {
					return nil, append(errs, "Error encountered while rendering pillar top file.")
				}
				tt := &topTarget{tgt: tf.Key, matcher: "compound"}
				ignoreMissing := false
				for _, item := range items {
					switch it := item.(type) {
					case string:
						if !slices.Contains(tt.states, it) {
							tt.states = append(tt.states, it)
						}
					case wire.Map:
						if m, ok := it.Get("match"); ok {
							tt.matcher = fmt.Sprint(m)
						}
						if o, ok := it.Get("order"); ok {
							tt.order = toInt(o)
						}
						if v, ok := it.Get("ignore_missing"); ok && !isEmpty(v) {
							ignoreMissing = true
						}
					}
				}
				if ignoreMissing {
					if r.ignored[f.Key] == nil {
						r.ignored[f.Key] = map[string]bool{}
					}
					for _, s := range tt.states {
						r.ignored[f.Key][s] = true
					}
				}
				if i := slices.IndexFunc(env.targets, func(x *topTarget) bool { return x.tgt == tt.tgt }); i >= 0 {
					env.targets[i] = tt
				} else {
					env.targets = append(env.targets, tt)
				}
			}
		}
	}
	for _, env := range merged {
		slices.SortStableFunc(env.targets, func(a, b *topTarget) int { return a.order - b.order })
	}
	return merged, errs
}

// renderTop renders a top file; it must be a map.
func (r *run) renderTop(saltenv, rel, abs string, text []byte) (wire.Map, error) {
	raw, err := r.render(template{saltenv: saltenv, rel: rel, abs: abs, text: text})
	if err != nil {
		return nil, err
	}
	switch v := raw.(type) {
	case wire.Map:
		return v, nil
	case map[string]any:
		out := make(wire.Map, 0, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) { // JSON: no order to keep
			out = append(out, wire.Field{Key: k, Value: v[k]})
		}
		return out, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("the top file is a %T, not a map", raw)
}

// topMatches is Salt's top_matches: the SLS names of the targets the
// minion matches, per environment, each once, in order.
func (r *run) topMatches(top []*topEnv) []envMatch {
	var out []envMatch
	d := target.Data{ID: r.req.ID, Grains: r.grains, Pillar: map[string]any{}}
	opts := target.Options{Nodegroups: r.c.cfg.Nodegroups}
	for _, env := range top {
		if r.req.Pillarenv != "" && env.saltenv != r.req.Pillarenv {
			continue
		}
		var states []string
		matched := false
		for _, t := range env.targets {
			ok, err := target.Match(t.tgt, t.matcher, d, opts)
			if err != nil {
				r.c.log.Warn("pillar: a top file target does not compile", "minion", r.req.ID, "saltenv", env.saltenv, "tgt", t.tgt, "match", t.matcher, "err", err)
				continue
			}
			if !ok {
				continue
			}
			matched = true
			for _, s := range t.states {
				if !slices.Contains(states, s) {
					states = append(states, s)
				}
			}
		}
		if matched {
			out = append(out, envMatch{saltenv: env.saltenv, states: states})
		}
	}
	return out
}

// toInt is Salt's int(order), 0 when it is not a number.
func toInt(v any) int {
	switch v := v.(type) {
	case int64:
		return int(v)
	case uint64:
		return int(v)
	case float64:
		return int(v)
	case string:
		n, err := strconv.Atoi(v)
		if err == nil {
			return n
		}
	}
	return 0
}

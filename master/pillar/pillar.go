// Package pillar compiles minions' pillars on the master, as Salt's
// salt.pillar.Pillar does without external pillars.
//
// # Model
//
// pillar_roots maps environments to directories. Each environment's
// top.sls (rendered like every SLS file) maps targets to SLS names:
//
//	base:
//	  '*':
//	    - common
//	  'os:Debian':
//	    - match: grain
//	    - debian
//
// A target is a compound expression unless a "match:" item names another
// matcher (glob, pcre, list, grain, grain_pcre, pillar, pillar_pcre,
// pillar_exact, ipcidr, nodegroup, compound), as Salt's confirm_top does.
// The top files of every environment are gathered (only the minion's
// pillarenv when it sends one, only its saltenv with the "none" strategy)
// and merged target by target; the SLS names of the targets the minion
// matches are rendered in order, and their data merged, later files
// winning, by pillar_source_merging_strategy. An SLS name may be a glob
// over the environment's SLS names; "a.b" is a/b.sls or a/b/init.sls.
//
// SLS files and top files go through a renderer pipe, "jinja|yaml" unless
// the first line says otherwise (#!yaml, #!jinja|yaml, #!json): Jinja by
// github.com/nikolalohinski/gonja/v2 with Salt's template variables
// (grains, pillar, opts, saltenv, sls, salt, tpl*/sls* paths; see
// SaltFunctions), then YAML as Salt's loader reads it. An SLS may include
// others ("include: [a, .b, {c: {key: x, defaults: {...}}}]"); an
// including file's data wins over what it includes.
//
// Errors do not fail a compilation: as in Salt, they are listed in the
// pillar's "_errors" key and logged, and what could be rendered is kept.
//
// # Deviations from Salt
//
// The "pillar" variable of a template holds the pillar compiled so far
// (Salt's holds only pillar_override, or external pillars with
// ext_pillar_first). Environments are visited base first, then in name
// order (Salt's order is a Python set's). A top file whose environment
// maps a target to something that is not a list is an error (Salt iterates
// over a string's characters). There are no external pillars, no
// renderers beyond jinja, yaml and json, and gonja's Jinja is not Python's
// in every corner: {{ None }} prints nothing, and methods that mutate a
// dict in place ({% do d.update(...) %}) have no effect.
package pillar

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/master/fileserver"
	"github.com/brine-project/brine/transport/wire"
)

// topFile is Salt's state_top.
const topFile = "top.sls"

// Config configures a Compiler. The zero value has no pillar_roots and so
// compiles empty pillars.
type Config struct {
	// Roots is pillar_roots: each environment's directories, in order.
	Roots map[string][]string
	// Strategy is pillar_source_merging_strategy; "" is smart.
	Strategy string
	// MergeLists is pillar_merge_lists: recursive merges append lists.
	MergeLists bool
	// RenderErrorDetail puts the renderer's error in _errors; by default
	// (Salt's pillar_safe_render_error) the minion only learns that an
	// SLS failed, and the master's log has the detail.
	RenderErrorDetail bool
	// Nodegroups serve "match: nodegroup" and N@ in top files.
	Nodegroups map[string]any
	// Opts is what templates see as opts (the id, saltenv and pillarenv
	// of the compilation are added).
	Opts map[string]any
	// Logger receives render errors; nil discards.
	Logger *slog.Logger
}

// Compiler compiles pillars. It is safe for concurrent use.
type Compiler struct {
	cfg         Config
	log         *slog.Logger
	files       *fileserver.Server
	jinjaConfig *config.Config
	jinjaEnv    *exec.Environment
}

// New returns a Compiler.
func New(cfg Config) (*Compiler, error) {
	switch cfg.Strategy {
	case "":
		cfg.Strategy = Smart
	case Smart, Recurse, Overwrite, None, Aggregate, List:
	default:
		return nil, fmt.Errorf("pillar: unknown pillar_source_merging_strategy %q", cfg.Strategy)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	files, err := fileserver.New(fileserver.Config{Roots: cfg.Roots, Logger: log})
	if err != nil {
		return nil, err
	}
	c := &Compiler{cfg: cfg, log: log, files: files}
	c.jinjaConfig, c.jinjaEnv = newJinja()
	return c, nil
}

// Request is one minion's _pillar request.
type Request struct {
	ID        string
	Grains    map[string]any // not changed; templates see a copy
	Saltenv   string         // "" for none
	Pillarenv string         // "" for none: every environment
	// Override is pillar_override: merged over the compiled pillar.
	Override map[string]any
}

// Compile returns the pillar of one minion. It never fails: errors are
// listed in the "_errors" key, as Salt reports them, and logged.
func (c *Compiler) Compile(ctx context.Context, req Request) map[string]any {
	r := &run{c: c, ctx: ctx, req: req, grains: deepCopyMap(req.Grains), avail: map[string][]string{}, ignored: map[string]map[string]bool{}}
	if r.grains == nil {
		r.grains = map[string]any{}
	}
	r.opts = deepCopyMap(c.cfg.Opts)
	r.opts["id"] = req.ID
	r.opts["saltenv"] = nilIfEmpty(req.Saltenv)
	r.opts["pillarenv"] = nilIfEmpty(req.Pillarenv)
	r.pillar = deepCopyMap(req.Override)

	top, topErrs := r.top()
	matches := r.topMatches(top)
	errs := r.renderPillar(matches)
	errs = append(errs, topErrs...)
	pillar := r.pillar
	if len(errs) > 0 {
		list := make([]any, len(errs))
		for i, e := range errs {
			c.log.Error("pillar: render error", "minion", req.ID, "err", e)
			list[i] = e
		}
		pillar["_errors"] = list
	}
	if len(req.Override) > 0 {
		pillar = merge(pillar, req.Override, c.cfg.Strategy, c.cfg.MergeLists)
	}
	return pillar
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// run is one compilation.
type run struct {
	c      *Compiler
	ctx    context.Context
	req    Request
	grains map[string]any
	opts   map[string]any
	// pillar is the pillar compiled so far.
	pillar map[string]any
	// avail caches each environment's SLS names.
	avail map[string][]string
	// ignored holds, per environment, SLS names a top file marked
	// ignore_missing.
	ignored map[string]map[string]bool
}

// pillarView is the pillar as templates see it: a copy, so that no
// template can change it.
func (r *run) pillarView() map[string]any { return deepCopyMap(r.pillar) }

// envs are the environments pillars come from: base first, then those of
// pillar_roots by name.
func (r *run) envs() []string {
	out := []string{"base"}
	for _, e := range slices.Sorted(maps.Keys(r.c.cfg.Roots)) {
		if e != "base" {
			out = append(out, e)
		}
	}
	return out
}

// states returns the SLS names of an environment (Salt's list_states), and
// false for an environment that is neither base nor in pillar_roots.
func (r *run) states(saltenv string) ([]string, bool) {
	if !slices.Contains(r.envs(), saltenv) {
		return nil, false
	}
	if s, ok := r.avail[saltenv]; ok {
		return s, true
	}
	set := map[string]bool{}
	for _, f := range r.c.files.List(saltenv).Files {
		switch {
		case strings.HasSuffix(f, "/init.sls"):
			set[strings.ReplaceAll(strings.TrimSuffix(f, "/init.sls"), "/", ".")] = true
		case strings.HasSuffix(f, ".sls"):
			set[strings.ReplaceAll(strings.TrimSuffix(f, ".sls"), "/", ".")] = true
		}
	}
	s := slices.Sorted(maps.Keys(set))
	r.avail[saltenv] = s
	return s, true
}

// glob is fnmatch.filter over an environment's SLS names.
func glob(names []string, pattern string) []string {
	var out []string
	for _, n := range names {
		if fnmatch.Match(pattern, n) {
			out = append(out, n)
		}
	}
	return out
}

// renderPillar renders the matched SLS files of each environment into
// r.pillar (Salt's render_pillar) and returns the errors.
func (r *run) renderPillar(matches []envMatch) []string {
	var errs []string
	for _, m := range matches {
		avail, known := r.states(m.saltenv)
		var files []string
		for _, pattern := range m.states {
			var found []string
			if known {
				found = glob(avail, pattern)
			} else {
				errs = append(errs, fmt.Sprintf("No matching pillar environment for environment '%s' found", m.saltenv))
			}
			if len(found) == 0 {
				found = []string{pattern}
			}
			files = append(files, found...)
		}
		mods := map[string]any{}
		for _, sls := range files {
			if r.ctx.Err() != nil {
				return append(errs, fmt.Sprintf("Pillar compilation stopped: %v", r.ctx.Err()))
			}
			state, e := r.renderSLS(sls, m.saltenv, mods, nil)
			errs = append(errs, e...)
			if data, ok := state.(map[string]any); ok {
				r.pillar = merge(r.pillar, data, r.c.cfg.Strategy, r.c.cfg.MergeLists)
			} else if state != nil {
				r.c.log.Error("pillar: an SLS did not render to a map", "minion", r.req.ID, "sls", sls, "saltenv", m.saltenv)
			}
		}
	}
	return errs
}

// findSLS is Salt's get_state: "a.b" is a/b.sls, else a/b/init.sls.
func (r *run) findSLS(saltenv, sls string) (rel string, text []byte, abs string, ok bool) {
	base := strings.ReplaceAll(sls, ".", "/")
	for _, rel := range []string{base + ".sls", base + "/init.sls"} {
		b, abs, err := r.c.files.ReadFile(saltenv, rel)
		if err == nil {
			return rel, b, abs, true
		}
	}
	return "", nil, "", false
}

// renderSLS renders one SLS file and what it includes (Salt's
// render_pstate). mods holds what this environment has rendered so far, so
// that a file included twice (or in a loop) renders once.
func (r *run) renderSLS(sls, saltenv string, mods map[string]any, vars map[string]any) (any, []string) {
	rel, text, abs, ok := r.findSLS(saltenv, sls)
	if !ok {
		switch {
		case r.ignored[saltenv][sls]:
			return nil, nil
		case len(r.c.cfg.Roots[saltenv]) > 0:
			return nil, []string{fmt.Sprintf("Specified SLS '%s' in environment '%s' is not available on the salt master", sls, saltenv)}
		}
		r.c.log.Debug("pillar: SLS not found: its environment has no pillar_roots", "sls", sls, "saltenv", saltenv)
		return nil, nil
	}
	var errs []string
	raw, err := r.render(template{saltenv: saltenv, rel: rel, abs: abs, sls: sls, text: text, vars: vars})
	if err != nil {
		r.c.log.Error("pillar: rendering an SLS failed", "minion", r.req.ID, "sls", sls, "saltenv", saltenv, "err", err)
		if r.c.cfg.RenderErrorDetail {
			errs = append(errs, fmt.Sprintf("Rendering SLS '%s' failed, render error:\n%v", sls, err))
		} else {
			errs = append(errs, fmt.Sprintf("Rendering SLS '%s' failed. Please see master log for details.", sls))
		}
		raw = nil
	}
	state := plain(raw)
	if state == nil || isEmpty(state) {
		mods[sls] = state
		return state, errs
	}
	data, isMap := state.(map[string]any)
	if !isMap {
		mods[sls] = state
		return state, append(errs, fmt.Sprintf("SLS '%s' does not render to a dictionary", sls))
	}
	inc, hasInc := data["include"]
	list, isList := inc.([]any)
	if hasInc && !isList {
		mods[sls] = data
		return data, append(errs, fmt.Sprintf("Include Declaration in SLS '%s' is not formed as a list", sls))
	}
	delete(data, "include")
	mods[sls] = data
	if !hasInc {
		return data, errs
	}
	var included []map[string]any
	for _, item := range list {
		sub, defaults, key, err := includeItem(item)
		if err != nil {
			errs = append(errs, fmt.Sprintf("Include Declaration in SLS '%s' %v", sls, err))
			continue
		}
		avail, known := r.states(saltenv)
		var found []string
		if !known {
			errs = append(errs, fmt.Sprintf("No matching pillar environment for environment '%s' found", saltenv))
		} else {
			// Salt first globs the name without its leading dots, so a
			// relative ".b" also includes a top-level "b" if there is one.
			found = glob(avail, strings.ReplaceAll(strings.TrimLeft(sub, "."), "/", "."))
		}
		if strings.HasPrefix(sub, ".") {
			parts := strings.Split(sls, ".")
			if !strings.HasSuffix(rel, "/init.sls") && rel != "init.sls" {
				parts = parts[:len(parts)-1]
			}
			sub = strings.Join(append(parts, sub[1:]), ".")
			if known {
				found = append(found, glob(avail, sub)...)
			}
		}
		if len(found) == 0 {
			found = []string{sub}
		}
		for _, name := range found {
			nstate, done := mods[name]
			if !done {
				var e []string
				nstate, e = r.renderSLS(name, saltenv, mods, defaults)
				errs = append(errs, e...)
			}
			m, ok := nstate.(map[string]any)
			if !ok || len(m) == 0 {
				continue
			}
			if key != "" {
				parts := strings.Split(key, ":")
				for i := len(parts) - 1; i >= 0; i-- {
					m = map[string]any{parts[i]: m}
				}
			}
			included = append(included, m)
		}
	}
	merged := map[string]any{}
	for _, m := range append(included, data) {
		merged = merge(merged, m, r.c.cfg.Strategy, r.c.cfg.MergeLists)
	}
	return merged, errs
}

// includeItem reads one include: "name", or {name: {defaults: {...}, key: "a:b"}}.
func includeItem(item any) (name string, defaults map[string]any, key string, err error) {
	switch it := item.(type) {
	case string:
		return it, nil, "", nil
	case map[string]any:
		if len(it) != 1 {
			return "", nil, "", fmt.Errorf("has an include of %d names in one item", len(it))
		}
		for n, v := range it {
			opts, _ := v.(map[string]any)
			defaults, _ = opts["defaults"].(map[string]any)
			key, _ = opts["key"].(string)
			return n, defaults, key, nil
		}
	}
	return "", nil, "", fmt.Errorf("has an include that is not a name: %v", item)
}

// isEmpty is Python's falsiness for rendered data.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case wire.Map:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case string:
		return v == ""
	case bool:
		return !v
	case int64:
		return v == 0
	case float64:
		return v == 0
	}
	return false
}

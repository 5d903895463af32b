// Package modules is the minion's execution modules: a registry of
// functions ("test.ping", "cmd.run", …) with their parameters, the binding
// of Salt's published arguments (a positional list, keyword arguments in a
// trailing {"__kwarg__": true, …} map) to those parameters, and the
// functions themselves. Every call produces a return: a failure is a return
// with success False and Salt's text for it.
package modules

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/transport/wire"
)

// Job is the publication a call belongs to.
type Job struct {
	JID, Fun, Tgt, TgtType, User, Ret string
	TgtAny                            any // tgt as published (a string or a list)
	Arg                               []any
	Start                             time.Time
}

// Env is what functions may use of the minion. Fields a context lacks
// are nil: brine-call --local has no master (FireMaster, Files).
type Env struct {
	ID     string
	Config *config.Minion
	Grains func() map[string]any
	Pillar func() map[string]any
	Jobs   *Tracker
	// FireMaster sends an event to the master's bus (_minion_event).
	FireMaster func(ctx context.Context, tag string, data map[string]any) error
	// FireLocal fires an event on the minion's own bus.
	FireLocal func(ctx context.Context, tag string, data map[string]any) error
	// Refresh asks the minion to refresh "grains", "pillar" or "modules".
	Refresh func(ctx context.Context, what string) error
	// Files reaches the master's file server (salt:// URLs).
	Files FileClient
}

// FileClient is the minion's side of the master's file server. A path is
// a salt:// URL (whose "?saltenv=" overrides saltenv); "" for saltenv is
// "base". A file the master does not have is not an error: the path
// returned is "" and the map empty, where Salt returns False.
type FileClient interface {
	// CacheFile fetches salt://path of saltenv into the minion's file
	// cache (again only if it changed) and returns the local path.
	CacheFile(ctx context.Context, path, saltenv string) (string, error)
	// GetFile fetches salt://path to dest (into dest when it is a
	// directory or ends in "/"), again only if it changed, creating dest's
	// directory if makedirs (else "" when it is missing); gzip 1-9 has the
	// master compress the transfer. It returns the local path.
	GetFile(ctx context.Context, path, dest, saltenv string, makedirs bool, gzip int) (string, error)
	// ListMaster lists the files of saltenv whose path starts with prefix.
	ListMaster(ctx context.Context, saltenv, prefix string) ([]string, error)
	// ListEmptyDirs lists the empty directories of saltenv whose path
	// starts with prefix.
	ListEmptyDirs(ctx context.Context, saltenv, prefix string) ([]string, error)
	// HashFile returns Salt's {"hash_type", "hsum"} of a master file (or
	// of a local file, given an absolute path).
	HashFile(ctx context.Context, path, saltenv string) (map[string]any, error)
	// Push sends a local file (an absolute path) to the master's cache
	// under uploadPath ("" for its own path) (cp.push). It reports false
	// when the master refuses it: file_recv off, or the file too large.
	Push(ctx context.Context, path, uploadPath string) (bool, error)
}

// Call is one function call.
type Call struct {
	Fun     string
	Args    map[string]any // bound parameters by name (defaults filled in)
	Extra   map[string]any // keyword arguments beyond the parameters, for functions taking **kwargs
	VarArgs []any          // positional arguments beyond the parameters, for functions taking *args
	Job     Job
	Env     *Env
	// Retcode is the call's exit status; a function sets it when it
	// returns data for a failure (cmd.retcode, cmd.run_all).
	Retcode int
}

// Func is an execution function.
type Func func(ctx context.Context, c *Call) (any, error)

// Param is one parameter of a function. A parameter without Default is
// required.
type Param struct {
	Name    string
	Default any
	HasDef  bool
}

// P declares a required parameter; D one with a default.
func P(name string) Param          { return Param{Name: name} }
func D(name string, def any) Param { return Param{Name: name, Default: def, HasDef: true} }
func (p Param) String() string {
	if p.HasDef {
		return fmt.Sprintf("%s=%v", p.Name, pyRepr(p.Default))
	}
	return p.Name
}

// Spec describes a function.
type Spec struct {
	Name    string
	Doc     string
	Params  []Param
	VarArgs bool // takes *args
	VarKw   bool // takes **kwargs (and then gets Salt's __pub_* keywords)
	Fn      Func
}

// Registry holds the functions a minion offers. It is safe for concurrent
// use once built.
type Registry struct {
	mu    sync.RWMutex // guards funcs
	funcs map[string]*Spec
}

// NewRegistry returns an empty registry; package minion/modules/all fills
// one with every module.
func NewRegistry() *Registry {
	return &Registry{funcs: make(map[string]*Spec)}
}

// Register adds a function.
func (r *Registry) Register(s *Spec) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.funcs[s.Name] = s
}

// Lookup returns a function's spec.
func (r *Registry) Lookup(name string) (*Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.funcs[name]
	return s, ok
}

// Names returns every function name, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.funcs))
}

// Result is what a call returns to the master.
type Result struct {
	Return  any
	Retcode int
	Success bool
}

// ErrNotAvailable is the failure of a call to a function the minion does
// not have.
var ErrNotAvailable = errors.New("function not available")

// Run calls a function with arguments as Salt publishes them and always
// produces a result: Salt's texts for a missing function, bad arguments
// or an error, with retcode 1 and success false.
func (r *Registry) Run(ctx context.Context, fun string, arg []any, job Job, env *Env) Result {
	s, ok := r.Lookup(fun)
	if !ok {
		return Result{Return: fmt.Sprintf("'%s' is not available.", fun), Retcode: 1}
	}
	call, err := bind(s, arg, job)
	if err != nil {
		return Result{Return: fmt.Sprintf("Passed invalid arguments to %s: %v\n\n%s", fun, err, Usage(s)), Retcode: 1}
	}
	call.Env = env
	ret, err := s.Fn(ctx, call)
	if err != nil {
		if ctx.Err() != nil {
			return Result{Return: fmt.Sprintf("ERROR: %s was killed: %v", fun, context.Cause(ctx)), Retcode: 1}
		}
		return Result{Return: fmt.Sprintf("ERROR: %v", err), Retcode: 1}
	}
	return Result{Return: ret, Retcode: call.Retcode, Success: call.Retcode == 0}
}

// bind maps Salt's arguments onto the function's parameters.
func bind(s *Spec, arg []any, job Job) (*Call, error) {
	pos, kw := wire.SplitArgs(arg)
	c := &Call{Fun: s.Name, Args: make(map[string]any, len(s.Params)), Job: job}
	for i, v := range pos {
		if i < len(s.Params) {
			c.Args[s.Params[i].Name] = v
			continue
		}
		if !s.VarArgs {
			return nil, fmt.Errorf("%s() takes %d positional arguments but %d were given", shortName(s.Name), len(s.Params), len(pos))
		}
		c.VarArgs = append(c.VarArgs, v)
	}
	var unknown []string
	for k, v := range kw {
		if slices.ContainsFunc(s.Params, func(p Param) bool { return p.Name == k }) {
			if _, dup := c.Args[k]; dup {
				return nil, fmt.Errorf("%s() got multiple values for argument '%s'", shortName(s.Name), k)
			}
			c.Args[k] = v
			continue
		}
		if s.VarKw {
			if c.Extra == nil {
				c.Extra = make(map[string]any)
			}
			c.Extra[k] = v
			continue
		}
		unknown = append(unknown, fmt.Sprintf("%s=%v", k, v))
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("the following keyword arguments are not valid: %s", strings.Join(unknown, ", "))
	}
	var missing []string
	for _, p := range s.Params {
		if _, ok := c.Args[p.Name]; ok {
			continue
		}
		if !p.HasDef {
			missing = append(missing, "'"+p.Name+"'")
			continue
		}
		c.Args[p.Name] = p.Default
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s() missing %d required positional argument(s): %s", shortName(s.Name), len(missing), strings.Join(missing, ", "))
	}
	if s.VarKw {
		// Salt hands functions that take **kwargs the publication itself.
		if c.Extra == nil {
			c.Extra = make(map[string]any)
		}
		for k, v := range map[string]any{
			"__pub_fun": job.Fun, "__pub_arg": AnyOrEmpty(job.Arg), "__pub_tgt": job.TgtAny, "__pub_jid": job.JID,
			"__pub_ret": job.Ret, "__pub_tgt_type": job.TgtType, "__pub_user": job.User,
		} {
			c.Extra[k] = v
		}
	}
	return c, nil
}

// Usage is the text Salt appends to an argument error: the signature and
// the documentation of the function.
func Usage(s *Spec) string {
	params := make([]string, 0, len(s.Params)+2)
	for _, p := range s.Params {
		params = append(params, p.String())
	}
	if s.VarArgs {
		params = append(params, "*args")
	}
	if s.VarKw {
		params = append(params, "**kwargs")
	}
	return fmt.Sprintf("Usage: %s(%s)\n\n%s", s.Name, strings.Join(params, ", "), s.Doc)
}

func shortName(fun string) string {
	if _, f, ok := strings.Cut(fun, "."); ok {
		return f
	}
	return fun
}

// AnyOrEmpty returns l, or an empty list for nil (msgpack then sends [],
// not None).
func AnyOrEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// pyRepr renders a default value as Python shows it in a signature.
func pyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return "'" + v + "'"
	}
	return fmt.Sprint(v)
}

// Tracker knows the jobs a minion is running, for saltutil.running,
// find_job and kill_job.
type Tracker struct {
	mu   sync.Mutex // guards jobs
	jobs map[string]*running
}

type running struct {
	job    Job
	cancel context.CancelCauseFunc
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{jobs: make(map[string]*running)} }

// Start records a job and returns its context, cancelled by Kill, and the
// function that ends the record.
func (t *Tracker) Start(ctx context.Context, j Job) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	t.mu.Lock()
	t.jobs[j.JID] = &running{job: j, cancel: cancel}
	t.mu.Unlock()
	return ctx, func() {
		t.mu.Lock()
		delete(t.jobs, j.JID)
		t.mu.Unlock()
		cancel(nil)
	}
}

// Running returns the jobs running now, oldest first.
func (t *Tracker) Running() []Job {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Job, 0, len(t.jobs))
	for _, r := range t.jobs {
		out = append(out, r.job)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].JID < out[j].JID })
	return out
}

// Find returns the running job jid.
func (t *Tracker) Find(jid string) (Job, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.jobs[jid]
	if !ok {
		return Job{}, false
	}
	return r.job, true
}

// Kill cancels the running job jid.
func (t *Tracker) Kill(jid string, why error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.jobs[jid]
	if ok {
		r.cancel(why)
	}
	return ok
}

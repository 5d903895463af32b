package pillar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"

	"github.com/brine-project/brine/internal/relpath"
	"github.com/brine-project/brine/internal/saltargs"
)

// defaultRenderer is Salt's master renderer option.
const defaultRenderer = "jinja|yaml"

// template is one file to render: its path in the environment and on the
// master, and what it is rendered as (sls is "" for a top file).
type template struct {
	saltenv, rel, abs, sls string
	text                   []byte
	// vars are extra template variables: an include's defaults.
	vars map[string]any
}

// render runs a file through its renderer pipe: the default "jinja|yaml",
// or the one its first line names ("#!yaml", "#!jinja|yaml", "#!json").
// The result is the YAML or JSON value, nil for an empty document.
func (r *run) render(t template) (any, error) {
	text := string(t.text)
	pipe := defaultRenderer
	if strings.HasPrefix(text, "#!") {
		line, rest, _ := strings.Cut(text, "\n")
		pipe = strings.TrimSpace(line[2:])
		text = "\n" + rest // keep the line numbers
	}
	var data any = text
	for _, name := range strings.Split(pipe, "|") {
		s, ok := data.(string)
		if !ok {
			return nil, fmt.Errorf("renderer %q needs text, the previous renderer produced data", name)
		}
		var err error
		switch strings.TrimSpace(name) {
		case "jinja":
			data, err = r.jinja(t, s)
		case "yaml":
			data, err = saltargs.LoadYAML(s)
		case "json":
			data, err = loadJSON(s)
		default:
			return nil, fmt.Errorf("renderer %q is not available (Brine renders jinja, yaml and json)", strings.TrimSpace(name))
		}
		if err != nil {
			return nil, err
		}
	}
	if isEmpty(data) {
		return nil, nil // Salt's yaml and json renderers make any false value {}
	}
	if s, ok := data.(string); ok {
		// A pipe that ends in jinja: Salt's renderers would hand the text
		// on as it is; as data it is nothing.
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		return nil, errors.New("the renderer pipe produced text, not data")
	}
	return data, nil
}

func loadJSON(s string) (any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return fromJSON(v), nil
}

// fromJSON turns json.Number into int64 or float64, as Python's json does.
func fromJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, x := range v {
			v[k] = fromJSON(x)
		}
	case []any:
		for i, x := range v {
			v[i] = fromJSON(x)
		}
	}
	return v
}

// jinja renders text as a Jinja template with Salt's context: grains,
// pillar (what is compiled so far), opts, saltenv, sls and the paths of
// the template (sls_path, slspath, slsdotpath, slscolonpath, tplpath,
// tplfile, tpldir, tpldot, tplroot), salt (the functions of saltFuncs), and
// an include's defaults. Undefined names are errors, as with Salt's
// StrictUndefined. Templates may include and import others from the same
// environment: a name is taken from the environment's root, or from the
// including template's directory when it starts with "./" or "../"; no
// name reaches outside the environment's roots.
func (r *run) jinja(t template, text string) (string, error) {
	pillar := r.pillarView()
	ctx := map[string]any{
		"grains":  r.grains,
		"pillar":  pillar,
		"opts":    r.opts,
		"saltenv": t.saltenv,
		"sls":     t.sls,
		"salt":    r.saltFuncs(pillar),
		"tplpath": t.abs,
	}
	maps.Copy(ctx, slsContext(t.rel, t.sls))
	maps.Copy(ctx, t.vars)
	ld := &loader{r: r, saltenv: t.saltenv, dir: path.Dir(t.rel), root: t.rel, rootText: text}
	tpl, err := exec.NewTemplate(t.rel, r.c.jinjaConfig, ld, r.c.jinjaEnv)
	if err != nil {
		return "", err
	}
	return tpl.ExecuteToString(exec.NewContext(ctx))
}

// slsContext is Salt's generate_sls_context: where the template sits.
func slsContext(rel, sls string) map[string]any {
	slspath := strings.ReplaceAll(sls, ".", "/")
	if sls != "" && !strings.HasSuffix(rel, "/init.sls") && rel != "init.sls" {
		slspath = path.Dir(slspath)
		if slspath == "." {
			slspath = ""
		}
	}
	tpldir := path.Dir(rel)
	if tpldir == "." {
		tpldir = ""
	}
	root, _, _ := strings.Cut(tpldir, "/")
	out := map[string]any{
		"slspath":      slspath,
		"sls_path":     strings.ReplaceAll(slspath, "/", "_"),
		"slsdotpath":   strings.ReplaceAll(slspath, "/", "."),
		"slscolonpath": strings.ReplaceAll(slspath, "/", ":"),
		"tplfile":      rel,
		"tpldir":       tpldir,
		"tpldot":       strings.ReplaceAll(tpldir, "/", "."),
		"tplroot":      root,
	}
	if tpldir == "" {
		out["tpldir"] = "."
	}
	return out
}

// newJinja builds the template environment shared by every render: gonja's
// builtins plus Salt's json and yaml filters. Configuration and
// environment are read-only once built.
func newJinja() (*config.Config, *exec.Environment) {
	cfg := config.New()
	cfg.StrictUndefined = true
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{
		"json": filterJSON,
		// Salt's yaml filter writes flow-style YAML; JSON is flow-style
		// YAML that every YAML reader takes the same way.
		"yaml": filterJSON,
	}).Update(builtins.Filters)
	env := &exec.Environment{
		Context:           exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables),
		Filters:           filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           builtins.Methods,
	}
	return cfg, env
}

func filterJSON(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	v := in.ToGoSimpleType(false)
	if err, ok := v.(error); ok {
		return exec.AsValue(fmt.Errorf("json: %w", err))
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return exec.AsValue(fmt.Errorf("json: %w", err))
	}
	return exec.AsSafeValue(string(b))
}

// jsonable makes byte strings JSON strings.
func jsonable(v any) any {
	switch v := v.(type) {
	case []byte:
		return string(v)
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
	}
	return v
}

// loader gives gonja the templates of one environment, through the
// pillar file server, so that no include or import can read outside the
// roots (template names may come from grains).
type loader struct {
	r        *run
	saltenv  string
	dir      string // the directory of the template that includes, "." at the root
	root     string // the template being rendered, whose text is rootText
	rootText string
}

func (l *loader) Resolve(name string) (string, error) {
	if name == l.root {
		return name, nil
	}
	name = strings.TrimPrefix(name, "salt://")
	if strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../") {
		name = path.Join(l.dir, name)
	}
	return relpath.Clean(name)
}

func (l *loader) Read(name string) (io.Reader, error) {
	rel, err := l.Resolve(name)
	if err != nil {
		return nil, err
	}
	if rel == l.root {
		return strings.NewReader(l.rootText), nil
	}
	b, _, err := l.r.c.files.ReadFile(l.saltenv, rel)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

func (l *loader) Inherit(from string) (loaders.Loader, error) {
	rel, err := l.Resolve(from)
	if err != nil {
		return nil, err
	}
	return &loader{r: l.r, saltenv: l.saltenv, dir: path.Dir(rel), root: l.root, rootText: l.rootText}, nil
}

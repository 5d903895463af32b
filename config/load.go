// Package config reads the master and minion configuration in Salt's
// format: YAML files with Salt's key names and defaults, a main file
// (<dir>/master, <dir>/minion), the files its default_include glob names
// (<dir>/master.d/*.conf, minion.d) and those its include names, with
// every path re-rooted under root_dir.
//
// Files combine as Salt's do: the main file's keys, then the keys of the
// default_include files, then those of the include files, each group
// replacing keys of the ones before; within a group, files merge in
// sorted order, mappings recursively and lists by appending.
//
// Salt configurations carry many keys Brine does not use; each is
// reported once as a warning, however many files or includes set it, and
// otherwise ignored. A known key with a value of the wrong type is an
// error naming file:line:col.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultDir is where the configuration lives unless -c says otherwise.
const DefaultDir = "/etc/brine"

// Warning is a configuration line Brine ignored.
type Warning struct {
	File      string
	Line, Col int
	Msg       string
}

func (w Warning) String() string {
	if w.Line == 0 {
		return fmt.Sprintf("%s: %s", w.File, w.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", w.File, w.Line, w.Col, w.Msg)
}

// StringList is a list of strings that YAML may also give as one string,
// as Salt's include takes either.
type StringList []string

// UnmarshalYAML takes a string or a list of strings.
func (s *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var one string
		if err := n.Decode(&one); err != nil {
			return err
		}
		*s = StringList{one}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*s = list
	return nil
}

// entry is one top-level key of a configuration file.
type entry struct {
	file     string
	key, val *yaml.Node
}

// layer is the top-level keys of one or more files, each with its latest
// value, in the order they were first set.
type layer struct {
	order []string
	m     map[string]entry
}

func newLayer() *layer { return &layer{m: map[string]entry{}} }

func (l *layer) set(e entry) {
	if _, ok := l.m[e.key.Value]; !ok {
		l.order = append(l.order, e.key.Value)
	}
	l.m[e.key.Value] = e
}

// update replaces l's keys by o's, as Python's dict.update: how Salt lays
// the included files over the main one.
func (l *layer) update(o *layer) {
	for _, k := range o.order {
		l.set(o.m[k])
	}
}

// merge lays o over l as Salt's dictupdate.update(recursive, merge_lists)
// does between included files: mappings merge key by key, lists append
// the items they lack, anything else is replaced.
func (l *layer) merge(o *layer) {
	for _, k := range o.order {
		e := o.m[k]
		if old, ok := l.m[k]; ok {
			e.val = mergeNodes(old.val, e.val)
		}
		l.set(e)
	}
}

func mergeNodes(dst, src *yaml.Node) *yaml.Node {
	dst, src = resolveAlias(dst), resolveAlias(src)
	switch {
	case dst.Kind == yaml.MappingNode && src.Kind == yaml.MappingNode:
		out := *src
		out.Content = slices.Clone(dst.Content)
		for i := 0; i+1 < len(src.Content); i += 2 {
			k, v := src.Content[i], src.Content[i+1]
			if j := mappingIndex(out.Content, k.Value); j >= 0 {
				out.Content[j+1] = mergeNodes(out.Content[j+1], v)
			} else {
				out.Content = append(out.Content, k, v)
			}
		}
		return &out
	case dst.Kind == yaml.SequenceNode && src.Kind == yaml.SequenceNode:
		out := *src
		out.Content = slices.Clone(dst.Content)
		for _, item := range src.Content {
			if !slices.ContainsFunc(out.Content, func(n *yaml.Node) bool { return sameNode(n, item) }) {
				out.Content = append(out.Content, item)
			}
		}
		return &out
	}
	return src
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func mappingIndex(content []*yaml.Node, key string) int {
	for i := 0; i+1 < len(content); i += 2 {
		if content[i].Value == key {
			return i
		}
	}
	return -1
}

// sameNode is structural equality, as Python's == on loaded values.
func sameNode(a, b *yaml.Node) bool {
	a, b = resolveAlias(a), resolveAlias(b)
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !sameNode(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// loader reads one configuration: its files, their includes, and the
// warnings, one per unknown key.
type loader struct {
	fields map[string]reflect.Value
	warns  []Warning
	warned map[string]bool
	files  []string // read, in order
}

// special keys are handled by the loader itself, in every struct.
const (
	keyInclude        = "include"
	keyDefaultInclude = "default_include"
)

func newLoader(dst any) *loader {
	return &loader{fields: fieldsOf(dst), warned: map[string]bool{}}
}

func (l *loader) warn(w Warning, key string) {
	if key != "" {
		if l.warned[key] {
			return
		}
		l.warned[key] = true
	}
	l.warns = append(l.warns, w)
}

// load reads <dir>/<name> and its includes into dst, over what dst holds.
// defaultInclude is the default_include a file that sets none gets.
func (l *loader) load(dst any, dir, name, defaultInclude string) error {
	mainPath := filepath.Join(dir, name)
	top, err := l.parse(mainPath)
	if errors.Is(err, os.ErrNotExist) {
		top, err = newLayer(), nil // Salt runs on its defaults without a file
	}
	if err != nil {
		return err
	}
	chain := []string{mainPath}
	di, ok := top.m[keyDefaultInclude]
	if !ok {
		di = entry{file: mainPath, val: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: defaultInclude}}
	}
	dflt, err := l.includes(di, false, chain)
	if err != nil {
		return err
	}
	extra := newLayer()
	if e, ok := top.m[keyInclude]; ok {
		if extra, err = l.includes(e, true, chain); err != nil {
			return err
		}
	}
	top.update(dflt)
	top.update(extra)
	return l.decode(top)
}

// parse reads one file's top-level keys, warning about those it does not
// know.
func (l *loader) parse(path string) (*layer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l.files = append(l.files, path)
	out := newLayer()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || len(bytes.TrimSpace(data)) == 0 {
		return out, nil // an empty file configures nothing
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return out, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d:%d: the configuration must be a mapping of keys to values", path, top.Line, top.Column)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		_, known := l.fields[k.Value]
		if !known && k.Value != keyInclude && k.Value != keyDefaultInclude {
			l.warn(Warning{path, k.Line, k.Column, fmt.Sprintf("unknown key %q ignored", k.Value)}, k.Value)
			continue
		}
		out.set(entry{file: path, key: k, val: v})
	}
	return out, nil
}

// includes reads the files an include names, as Salt's include_config:
// a path or glob, or a list of them, ~ expanded, relative to the
// directory of the file that names them; the matches of each in sorted
// order, merged; each file's own include laid over it. A pattern matching
// nothing is a warning when verbose (include), silent otherwise
// (default_include). chain is the files including this one.
func (l *loader) includes(inc entry, verbose bool, chain []string) (*layer, error) {
	patterns, err := patternNodes(inc)
	if err != nil {
		return nil, err
	}
	out := newLayer()
	for _, n := range patterns {
		at := func(msg string) Warning { return Warning{inc.file, n.Line, n.Column, msg} }
		pat := n.Value
		if pat == "" {
			continue
		}
		pat = expandHome(pat)
		if !filepath.IsAbs(pat) {
			pat = filepath.Join(filepath.Dir(inc.file), pat)
		}
		matches, err := glob(pat)
		if err != nil {
			return nil, fmt.Errorf("%s:%d:%d: include %q: %w", inc.file, n.Line, n.Column, pat, err)
		}
		if len(matches) == 0 && verbose {
			l.warn(at(fmt.Sprintf("include %q matches no files", pat)), "")
		}
		for _, path := range matches {
			if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
				// A directory, or a device that could block the read.
				l.warn(at(fmt.Sprintf("include %q: %s is not a regular file, skipped", pat, path)), "")
				continue
			}
			if slices.Contains(chain, path) {
				return nil, fmt.Errorf("%s:%d:%d: include cycle: %s", inc.file, n.Line, n.Column, strings.Join(append(chain, path), " → "))
			}
			f, err := l.parse(path)
			if err != nil {
				return nil, err
			}
			if e, ok := f.m[keyInclude]; ok {
				nested, err := l.includes(e, verbose, append(slices.Clip(chain), path))
				if err != nil {
					return nil, err
				}
				f.update(nested)
			}
			out.merge(f)
		}
	}
	return out, nil
}

func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[1:])
}

// glob is Python's glob.glob: sorted, and a wildcard does not match a
// name starting with a dot unless the pattern's name does too (so an
// editor's .#master.conf stays out).
func glob(pat string) ([]string, error) {
	matches, err := filepath.Glob(pat)
	if err != nil {
		return nil, err
	}
	patParts := strings.Split(pat, string(filepath.Separator))
	matches = slices.DeleteFunc(matches, func(m string) bool {
		parts := strings.Split(m, string(filepath.Separator))
		for i, p := range parts {
			if i < len(patParts) && strings.HasPrefix(p, ".") && !strings.HasPrefix(patParts[i], ".") {
				return true
			}
		}
		return false
	})
	slices.Sort(matches)
	return matches, nil
}

// stringList is the paths of an include or default_include.
func stringList(e entry) (StringList, error) {
	nodes, err := patternNodes(e)
	if err != nil {
		return nil, err
	}
	var s StringList
	for _, n := range nodes {
		s = append(s, n.Value)
	}
	return s, nil
}

// patternNodes are the paths of an include or default_include: its
// value's one string or each string of its list, with their positions.
func patternNodes(e entry) ([]*yaml.Node, error) {
	v := resolveAlias(e.val)
	if v.Tag == "!!null" {
		return nil, nil
	}
	var s StringList
	if err := v.Decode(&s); err != nil {
		// Only a file's own include or default_include can fail here.
		return nil, fmt.Errorf("%s:%d:%d: %s: want a path or a list of paths: %v", e.file, v.Line, v.Column, e.key.Value, yamlReason(err))
	}
	if v.Kind == yaml.ScalarNode {
		return []*yaml.Node{v}, nil
	}
	nodes := make([]*yaml.Node, len(v.Content))
	for i, n := range v.Content {
		nodes[i] = resolveAlias(n)
	}
	return nodes, nil
}

// decode sets each known key of the layer in the struct.
func (l *loader) decode(top *layer) error {
	for _, k := range top.order {
		e := top.m[k]
		f, ok := l.fields[k]
		if !ok || e.val.Tag == "!!null" {
			continue // "key:" with no value keeps the default, as in Salt
		}
		nv := reflect.New(f.Type())
		if err := e.val.Decode(nv.Interface()); err != nil {
			return fmt.Errorf("%s:%d:%d: %s: want %s: %v", e.file, e.val.Line, e.val.Column, k, kindName(f.Type()), yamlReason(err))
		}
		f.Set(nv.Elem())
	}
	return nil
}

// field is one key of a configuration struct.
type field struct {
	key  string
	path bool // tagged brine:"path": re-rooted under root_dir
	v    reflect.Value
}

// fieldList lists the keys of the struct *dst, those of embedded
// `yaml:",inline"` structs included, in declaration order.
func fieldList(dst any) []field {
	var out []field
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			key, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			switch {
			case sf.Anonymous && opts == "inline":
				walk(v.Field(i))
			case key != "" && key != "-":
				out = append(out, field{key, sf.Tag.Get("brine") == "path", v.Field(i)})
			}
		}
	}
	walk(reflect.ValueOf(dst).Elem())
	return out
}

// fieldsOf maps each yaml key of the struct *dst to its field.
func fieldsOf(dst any) map[string]reflect.Value {
	m := map[string]reflect.Value{}
	for _, f := range fieldList(dst) {
		m[f.key] = f.v
	}
	return m
}

func kindName(t reflect.Type) string {
	if t == reflect.TypeFor[StringList]() {
		return "a string or a list"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map:
		return "a mapping"
	}
	return t.String()
}

// yamlReason strips yaml's own position prefix: ours is more precise.
func yamlReason(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
			msg = msg[i+2:]
		}
		return msg
	}
	return err.Error()
}

// reroot puts every path field (tagged brine:"path") under root, as Salt's
// root_dir does: an absolute path gets root prepended unless it is already
// under it; a relative one is taken from root. A path field is a string or
// a map of lists of paths (file_roots, pillar_roots).
func reroot(dst any, root string) {
	if root == "" {
		return
	}
	// Salt takes os.path.abspath(root_dir): /srv/brine/ is /srv/brine.
	if root = filepath.Clean(root); root == "/" {
		return
	}
	for _, f := range fieldList(dst) {
		if !f.path {
			continue
		}
		switch p := f.v.Addr().Interface().(type) {
		case *string:
			*p = rerootPath(*p, root)
		case *map[string][]string:
			out := make(map[string][]string, len(*p))
			for env, dirs := range *p {
				out[env] = make([]string, len(dirs))
				for j, d := range dirs {
					out[env][j] = rerootPath(d, root)
				}
			}
			*p = out
		}
	}
}

// rerootPath re-roots one path. A URL (Salt's log_file may be
// udp://host:514) is not a path and stays as it is, as in Salt.
func rerootPath(p, root string) string {
	if p == "" || p == root || strings.HasPrefix(p, root+string(filepath.Separator)) || strings.Contains(p, "://") {
		return p
	}
	return filepath.Join(root, p)
}

// marshal is the YAML of a configuration struct: every key with Salt's
// name, sorted, as --print-config shows it. include is left out: its files
// are merged in already, and its relative paths would name other files
// from another directory. default_include stays: read again from the same
// directory it changes nothing.
func marshal(src any) ([]byte, error) {
	m := map[string]any{}
	for _, f := range fieldList(src) {
		if f.key != keyInclude {
			m[f.key] = f.v.Interface()
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2) // as Salt's own files are indented
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

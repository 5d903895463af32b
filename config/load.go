// Package config reads the master and minion configuration in Salt's
// format: YAML files with Salt's key names and defaults, a main file
// (<dir>/master, <dir>/minion) plus <dir>/master.d/*.conf (minion.d), with
// every path re-rooted under root_dir.
//
// Salt configurations carry many keys Brine does not use; those are
// reported as warnings, once, and otherwise ignored. A known key with a
// value of the wrong type is an error naming file:line:col.
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

func (w Warning) String() string { return fmt.Sprintf("%s:%d:%d: %s", w.File, w.Line, w.Col, w.Msg) }

// files returns the main file and the sorted *.conf files of its .d
// directory, those that exist.
func files(dir, name string) ([]string, error) {
	var out []string
	main := filepath.Join(dir, name)
	if _, err := os.Stat(main); err == nil {
		out = append(out, main)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	extra, err := filepath.Glob(filepath.Join(dir, name+".d", "*.conf"))
	if err != nil {
		return nil, err
	}
	slices.Sort(extra)
	return append(out, extra...), nil
}

// fieldsOf maps each yaml key of the struct *dst to its field.
func fieldsOf(dst any) map[string]reflect.Value {
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	m := make(map[string]reflect.Value, t.NumField())
	for i := range t.NumField() {
		if key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); key != "" && key != "-" {
			m[key] = v.Field(i)
		}
	}
	return m
}

// decodeFiles overlays each file on *dst in order.
func decodeFiles(dst any, paths []string) ([]Warning, error) {
	fields := fieldsOf(dst)
	var warns []Warning
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		w, err := decodeInto(fields, path, data)
		if err != nil {
			return nil, err
		}
		warns = append(warns, w...)
	}
	return warns, nil
}

func decodeInto(fields map[string]reflect.Value, path string, data []byte) ([]Warning, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || len(bytes.TrimSpace(data)) == 0 {
		return nil, nil // an empty file configures nothing
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return nil, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d:%d: the configuration must be a mapping of keys to values", path, top.Line, top.Column)
	}
	var warns []Warning
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			warns = append(warns, Warning{path, k.Line, k.Column, fmt.Sprintf("unknown key %q ignored", k.Value)})
			continue
		}
		if v.Tag == "!!null" {
			continue // "key:" with no value keeps the default, as in Salt
		}
		nv := reflect.New(f.Type())
		if err := v.Decode(nv.Interface()); err != nil {
			return nil, fmt.Errorf("%s:%d:%d: %s: want %s: %v", path, v.Line, v.Column, k.Value, kindName(f.Type()), yamlReason(err))
		}
		f.Set(nv.Elem())
	}
	return warns, nil
}

func kindName(t reflect.Type) string {
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
	if root == "" || root == "/" {
		return
	}
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("brine") != "path" {
			continue
		}
		switch f := v.Field(i).Addr().Interface().(type) {
		case *string:
			*f = rerootPath(*f, root)
		case *map[string][]string:
			for env, dirs := range *f {
				out := make([]string, len(dirs))
				for j, d := range dirs {
					out[j] = rerootPath(d, root)
				}
				(*f)[env] = out
			}
		}
	}
}

func rerootPath(p, root string) string {
	if p == "" || p == root || strings.HasPrefix(p, root+string(filepath.Separator)) {
		return p
	}
	return filepath.Join(root, p)
}

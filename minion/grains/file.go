package grains

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"go.yaml.in/yaml/v3"
)

// FilePath is the grains file of the configuration in confDir, where Salt
// keeps it: <confDir>/grains.
func FilePath(confDir string) string { return filepath.Join(confDir, "grains") }

// ReadFile reads a grains file: a YAML mapping of grain names to values.
// An empty file is an empty mapping. Its error wraps fs.ErrNotExist when
// there is no file, and says what is wrong (with the line) when the YAML is
// malformed or not a mapping.
func ReadFile(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := parseFile(b)
	if err != nil {
		return nil, fmt.Errorf("grains file %s: %w", path, err)
	}
	return m, nil
}

// parseFile parses a grains file's bytes.
func parseFile(b []byte) (map[string]any, error) {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := normalize(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("it holds a %s, not a mapping of grains", yamlKind(v))
	}
	return m, nil
}

func yamlKind(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	}
	return fmt.Sprintf("%T", v)
}

// normalize turns what yaml decodes into the values the minion carries:
// int64 integers, map[string]any maps (other keys as their text, as the
// wire decoder does), []any lists.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

// WriteFile writes grains to a grains file as Salt's grains.setvals does
// (YAML in block style, keys sorted, lists not indented), replacing the
// file in one step and keeping its permissions (0644 for a new file).
func WriteFile(path string, grains map[string]any) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(yamlValue(grains)); err != nil {
		return fmt.Errorf("grains file %s: %w", path, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("grains file %s: %w", path, err)
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".grains-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a failure; a no-op after the rename
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// yamlValue builds the YAML tree of v with mapping keys sorted, as
// PyYAML's safe_dump writes them.
func yamlValue(v any) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kn := &yaml.Node{}
			_ = kn.Encode(k)
			n.Content = append(n.Content, kn, yamlValue(x[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			n.Content = append(n.Content, yamlValue(e))
		}
		return n
	}
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		_ = n.Encode(fmt.Sprint(v))
	}
	return n
}

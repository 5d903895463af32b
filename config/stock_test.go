package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// A Salt 3006 configuration that spells out Salt's defaults loads: a
// warning for each key Brine does not use, once, and none for the keys it
// does; those take the file's values, which are Brine's own defaults
// wherever Brine follows Salt (its paths aside).
func TestSaltDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		load func(dir string) (any, []Warning, error)
		dflt any
		// mustWarn and mustNot are spot checks on the computed lists.
		mustWarn, mustNot []string
	}{
		{"master", func(dir string) (any, []Warning, error) { return LoadMaster(dir) }, resolved(DefaultMaster()),
			[]string{"transport", "ext_pillar", "log_fmt_console", "fileserver_backend", "external_auth"},
			[]string{"worker_threads", "pidfile", "user", "log_level_logfile", "default_include", "nodegroups"}},
		{"minion", func(dir string) (any, []Warning, error) { return LoadMinion(dir) }, resolved(DefaultMinion()),
			[]string{"user", "master_type", "multiprocessing", "log_fmt_logfile", "file_client"},
			[]string{"recon_default", "pidfile", "master_finger", "log_file", "default_include"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			text, err := os.ReadFile(filepath.Join("testdata", "salt3006", "defaults", tc.name))
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, tc.name), string(text)) // the minion caches its id beside it
			c, warns, err := tc.load(dir)
			if err != nil {
				t.Fatal(err)
			}
			keys, values := topLevel(t, text)
			known := fieldsOf(tc.dflt)
			var unknown []string
			for _, k := range keys {
				if _, ok := known[k]; !ok {
					unknown = append(unknown, k)
				}
			}
			var warned []string
			for _, w := range warns {
				warned = append(warned, w.Msg)
			}
			want := make([]string, len(unknown))
			for i, k := range unknown {
				want[i] = `unknown key "` + k + `" ignored`
			}
			if !slices.Equal(warned, want) {
				t.Errorf("warnings:\n%q\nwant one for each unknown key:\n%q", warned, want)
			}
			for _, k := range tc.mustWarn {
				if !slices.Contains(unknown, k) {
					t.Errorf("%s is not warned about", k)
				}
			}
			for _, k := range tc.mustNot {
				if slices.Contains(unknown, k) || !slices.Contains(keys, k) {
					t.Errorf("%s: want a key of the file that Brine knows", k)
				}
			}
			got, dflt := fieldsOf(c), fieldsOf(tc.dflt)
			paths := pathKeys(tc.dflt)
			for k, node := range values {
				f, ok := got[k]
				if !ok {
					continue
				}
				v := reflect.New(f.Type())
				if err := node.Decode(v.Interface()); err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				if !same(f, v.Elem()) {
					t.Errorf("%s = %v, the file says %v", k, f, v.Elem())
				}
				if !paths[k] && !same(dflt[k], v.Elem()) {
					t.Errorf("%s: Salt's default %v, Brine's %v", k, v.Elem(), dflt[k])
				}
			}
		})
	}
}

// resolved is a default configuration with its log file's level and
// format made explicit, as Salt's documentation gives them.
func resolved[T Master | Minion](c T) *T {
	switch c := any(&c).(type) {
	case *Master:
		c.Resolve()
	case *Minion:
		c.Resolve()
	}
	return &c
}

// same is DeepEqual with an empty map or list the same as none.
func same(a, b reflect.Value) bool {
	if (a.Kind() == reflect.Map || a.Kind() == reflect.Slice) && a.Len() == 0 && b.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// topLevel lists the top-level keys of a YAML mapping in order, and their
// values.
func topLevel(t *testing.T, text []byte) ([]string, map[string]*yaml.Node) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		t.Fatal(err)
	}
	top := doc.Content[0]
	var keys []string
	values := map[string]*yaml.Node{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k := top.Content[i].Value
		if _, dup := values[k]; dup {
			t.Fatalf("key %s twice", k)
		}
		keys = append(keys, k)
		values[k] = top.Content[i+1]
	}
	return keys, values
}

func pathKeys(dst any) map[string]bool {
	m := map[string]bool{}
	for _, f := range fieldList(dst) {
		m[f.key] = f.path
	}
	return m
}

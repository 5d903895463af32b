package pillar

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// tree writes files (path → text) under a new directory and returns it.
func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, text := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func compiler(t testing.TB, cfg Config) *Compiler {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var debianWeb = Request{ID: "web1", Grains: map[string]any{"os": "Debian", "role": "web", "num_cpus": int64(4), "ipv4": []any{"10.0.0.5"}}}
var centosDB = Request{ID: "db1", Grains: map[string]any{"os": "CentOS", "role": "db", "num_cpus": int64(2)}}

func TestTopTargeting(t *testing.T) {
	root := tree(t, map[string]string{
		"top.sls": `base:
  '*':
    - common
  'web*':
    - web
  'os:Debian':
    - match: grain
    - debian
  'G@role:db and not web*':
    - dbserver
  'db1,db2':
    - match: list
    - listed
  '^web\d$':
    - match: pcre
    - pcre
  'group1':
    - match: nodegroup
    - grouped
`,
		"common.sls":   "common: true\n",
		"web.sls":      "web: true\n",
		"debian.sls":   "debian: true\n",
		"dbserver.sls": "dbserver: true\n",
		"listed.sls":   "listed: true\n",
		"pcre.sls":     "pcre: true\n",
		"grouped.sls":  "grouped: true\n",
	})
	c := compiler(t, Config{Roots: map[string][]string{"base": {root}}, Nodegroups: map[string]any{"group1": "L@db1"}})
	for _, tc := range []struct {
		name string
		req  Request
		want []string
	}{
		{"web", debianWeb, []string{"common", "web", "debian", "pcre"}},
		{"db", centosDB, []string{"common", "dbserver", "listed", "grouped"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Compile(context.Background(), tc.req)
			want := map[string]any{}
			for _, k := range tc.want {
				want[k] = true
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pillar = %v, want %v", got, want)
			}
		})
	}
}

func TestJinja(t *testing.T) {
	root := tree(t, map[string]string{
		"top.sls": "base:\n  '*':\n    - app\n    - later\n  '{{ grains.role }}*':\n    - byrole\n",
		"app.sls": `{% set os = salt['grains.get']('os') %}
app:
  os: {{ os }}
  pkg: {% if grains['os'] == 'Debian' %}apt{% else %}yum{% endif %}
  cpus: {{ grains.num_cpus * 2 }}
  ip: {{ salt['grains.get']('ipv4:0', 'none') }}
  missing: {{ salt['grains.get']('nope', 'fallback') }}
  id: {{ opts.id }}
  cfg: {{ salt['config.get']('role') }}
  has: {{ salt['grains.has_value']('os') }}
  hasnt: {{ salt['grains.has_value']('nope') }}
  env: {{ saltenv }}
  sls: {{ sls }}
  tpl: {{ tplfile }}
  list: {{ [1, 2]|json }}
{% from 'macros/lib.jinja' import greet %}
  greeting: {{ greet(grains.role) }}
`,
		"later.sls":           "later:\n  saw_app: {{ pillar['app']['pkg'] }}\n  via_get: {{ salt['pillar.get']('app:os') }}\n",
		"byrole.sls":          "byrole: yes\n",
		"macros/lib.jinja":    "{% macro greet(who) %}hello {{ who }}{% endmacro %}",
		"yamlonly.sls":        "#!yaml\nraw: '{{ not rendered }}'\n",
		"jsonfile/init.sls":   "#!json\n{\"j\": [1, 2.5]}\n",
		"relative/init.sls":   "{% include './part.jinja' %}\n",
		"relative/part.jinja": "rel: {{ slspath }}\n",
	})
	c := compiler(t, Config{Roots: map[string][]string{"base": {root}}})
	got := c.Compile(context.Background(), debianWeb)
	want := map[string]any{
		"app": map[string]any{
			"os": "Debian", "pkg": "apt", "cpus": int64(8), "ip": "10.0.0.5", "missing": "fallback",
			"id": "web1", "cfg": "web", "has": true, "hasnt": false, "env": "base", "sls": "app", "tpl": "app.sls", "list": []any{int64(1), int64(2)},
			"greeting": "hello web",
		},
		"later":  map[string]any{"saw_app": "apt", "via_get": "Debian"},
		"byrole": true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pillar =\n%v\nwant\n%v", got, want)
	}

	// Renderer shebangs and includes of templates relative to the SLS.
	top := "base:\n  '*':\n    - yamlonly\n    - jsonfile\n    - relative\n"
	if err := os.WriteFile(filepath.Join(root, "top.sls"), []byte(top), 0o644); err != nil {
		t.Fatal(err)
	}
	got = c.Compile(context.Background(), debianWeb)
	want = map[string]any{"raw": "{{ not rendered }}", "j": []any{int64(1), 2.5}, "rel": "relative"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pillar = %v, want %v", got, want)
	}
}

func TestInclude(t *testing.T) {
	root := tree(t, map[string]string{
		"top.sls":        "base:\n  '*':\n    - web\n",
		"web/init.sls":   "include:\n  - .vhosts\n  - users\n  - nested:\n      key: 'deep:er'\n      defaults:\n        size: 3\nweb:\n  port: 80\n  name: own\n",
		"web/vhosts.sls": "web:\n  name: from-vhosts\n  vhosts: [a, b]\n",
		"users.sls":      "include:\n  - web\nusers: [alice]\n",
		"nested.sls":     "n: {{ size }}\n",
		"unrelated.sls":  "unrelated: true\n",
	})
	c := compiler(t, Config{Roots: map[string][]string{"base": {root}}})
	got := c.Compile(context.Background(), debianWeb)
	want := map[string]any{
		// web's own data wins over what it includes; the include loop
		// (users includes web) renders web once.
		"web":   map[string]any{"port": int64(80), "name": "own", "vhosts": []any{"a", "b"}},
		"users": []any{"alice"},
		"deep":  map[string]any{"er": map[string]any{"n": int64(3)}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pillar =\n%v\nwant\n%v", got, want)
	}
}

func TestMergeStrategies(t *testing.T) {
	files := map[string]string{
		"top.sls": "base:\n  '*':\n    - one\n    - two\n",
		"one.sls": "app:\n  a: 1\n  list: [x, y]\n  sub:\n    keep: true\nonly_one: 1\n",
		"two.sls": "app:\n  b: 2\n  list: [y, z]\n  sub:\n    add: true\n",
	}
	dev := tree(t, map[string]string{"top.sls": "dev:\n  '*':\n    - devdata\n", "devdata.sls": "dev: true\nonly_one: 2\n"})
	root := tree(t, files)
	roots := map[string][]string{"base": {root}, "dev": {dev}}
	for _, tc := range []struct {
		name       string
		strategy   string
		mergeLists bool
		saltenv    string
		want       map[string]any
	}{
		{"smart is recurse", Smart, false, "", map[string]any{
			"app":      map[string]any{"a": int64(1), "b": int64(2), "list": []any{"y", "z"}, "sub": map[string]any{"keep": true, "add": true}},
			"only_one": int64(2), "dev": true,
		}},
		{"recurse with merged lists", Recurse, true, "", map[string]any{
			"app":      map[string]any{"a": int64(1), "b": int64(2), "list": []any{"x", "y", "z"}, "sub": map[string]any{"keep": true, "add": true}},
			"only_one": int64(2), "dev": true,
		}},
		{"overwrite", Overwrite, false, "", map[string]any{
			"app":      map[string]any{"b": int64(2), "list": []any{"y", "z"}, "sub": map[string]any{"add": true}},
			"only_one": int64(2), "dev": true,
		}},
		{"none reads only the minion's saltenv", None, false, "", map[string]any{
			"app":      map[string]any{"a": int64(1), "b": int64(2), "list": []any{"y", "z"}, "sub": map[string]any{"keep": true, "add": true}},
			"only_one": int64(1),
		}},
		{"none with saltenv dev", None, false, "dev", map[string]any{"dev": true, "only_one": int64(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := compiler(t, Config{Roots: roots, Strategy: tc.strategy, MergeLists: tc.mergeLists})
			req := debianWeb
			req.Saltenv = tc.saltenv
			if got := c.Compile(context.Background(), req); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("pillar =\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
}

func TestMergeFunction(t *testing.T) {
	a := map[string]any{"k": map[string]any{"x": int64(1)}, "l": []any{int64(1)}, "s": "a"}
	b := map[string]any{"k": map[string]any{"y": int64(2)}, "l": []any{int64(1), int64(2)}, "n": "b"}
	for _, tc := range []struct {
		strategy string
		lists    bool
		want     map[string]any
	}{
		{Recurse, false, map[string]any{"k": map[string]any{"x": int64(1), "y": int64(2)}, "l": []any{int64(1), int64(2)}, "s": "a", "n": "b"}},
		{Recurse, true, map[string]any{"k": map[string]any{"x": int64(1), "y": int64(2)}, "l": []any{int64(1), int64(2)}, "s": "a", "n": "b"}},
		{Overwrite, false, map[string]any{"k": map[string]any{"y": int64(2)}, "l": []any{int64(1), int64(2)}, "s": "a", "n": "b"}},
		{Aggregate, false, map[string]any{"k": map[string]any{"y": int64(2)}, "l": []any{int64(1), int64(2)}, "s": "a", "n": "b"}},
		{List, false, map[string]any{"k": []any{map[string]any{"x": int64(1)}, map[string]any{"y": int64(2)}}, "l": []any{[]any{int64(1)}, []any{int64(1), int64(2)}}, "s": "a"}},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			before := deepCopyMap(a)
			if got := merge(a, b, tc.strategy, tc.lists); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("merge = %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(a, before) {
				t.Fatalf("merge changed its first argument: %v", a)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	root := tree(t, map[string]string{
		"top.sls":        "base:\n  '*':\n    - good\n    - missing\n    - broken\n    - notamap\n    - badinclude\n    - evil\n    - sub.*\n",
		"good.sls":       "good: true\n",
		"broken.sls":     "x: {{ undefined_thing }}\n",
		"notamap.sls":    "- a\n- b\n",
		"badinclude.sls": "include: web\nbad: 1\n",
		"evil.sls":       "{% include grains['evil'] %}\n",
		"sub/a.sls":      "suba: {{ 1 }}\n",
		"sub/b.sls":      "subb: [unclosed\n",
	})
	req := debianWeb
	req.Grains = map[string]any{"evil": "../../../../etc/passwd"}
	for _, tc := range []struct {
		name   string
		detail bool
		want   []string
	}{
		{"safe", false, []string{
			"Specified SLS 'missing' in environment 'base' is not available on the salt master",
			"Rendering SLS 'broken' failed. Please see master log for details.",
			"SLS 'notamap' does not render to a dictionary",
			"Include Declaration in SLS 'badinclude' is not formed as a list",
			"Rendering SLS 'evil' failed. Please see master log for details.",
			"Rendering SLS 'sub.b' failed. Please see master log for details.",
		}},
		{"detail", true, []string{
			"Specified SLS 'missing' in environment 'base' is not available on the salt master",
			"Rendering SLS 'broken' failed, render error:\n",
			"SLS 'notamap' does not render to a dictionary",
			"Include Declaration in SLS 'badinclude' is not formed as a list",
			"Rendering SLS 'evil' failed, render error:\n",
			"Rendering SLS 'sub.b' failed, render error:\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := compiler(t, Config{Roots: map[string][]string{"base": {root}}, RenderErrorDetail: tc.detail})
			got := c.Compile(context.Background(), req)
			errs, _ := got["_errors"].([]any)
			if len(errs) != len(tc.want) {
				t.Fatalf("_errors = %q, want %d", errs, len(tc.want))
			}
			for i, w := range tc.want {
				if s, _ := errs[i].(string); !strings.HasPrefix(s, w) {
					t.Errorf("_errors[%d] = %q, want %q", i, s, w)
				}
				if s, _ := errs[i].(string); !tc.detail && strings.Contains(s, "passwd") {
					t.Errorf("a safe error leaks the detail: %q", s)
				}
			}
			if got["good"] != true || got["suba"] != int64(1) || got["bad"] != int64(1) {
				t.Errorf("what rendered must be kept: %v", got)
			}
			if _, ok := got["root"]; ok {
				t.Errorf("/etc/passwd was read: %v", got)
			}
		})
	}
}

func TestTopErrors(t *testing.T) {
	for _, tc := range []struct {
		name, top, want string
	}{
		{"render", "base:\n  '*': [ {{ nope }} ]\n", "Rendering Primary Top file failed, render error:\n"},
		{"shape", "base:\n  '*': common\n", "Error encountered while rendering pillar top file."},
		{"env not a map", "base: [common]\n", "Error encountered while rendering pillar top file."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tree(t, map[string]string{"top.sls": tc.top, "common.sls": "c: 1\n"})
			c := compiler(t, Config{Roots: map[string][]string{"base": {root}}})
			got := c.Compile(context.Background(), debianWeb)
			errs, _ := got["_errors"].([]any)
			if len(errs) != 1 || !strings.HasPrefix(errs[0].(string), tc.want) {
				t.Fatalf("_errors = %q, want %q", errs, tc.want)
			}
		})
	}
}

func TestPillarenvOverrideAndTopInclude(t *testing.T) {
	base := tree(t, map[string]string{
		"top.sls":     "include:\n  - moretop\nbase:\n  '*':\n    - a\n",
		"moretop.sls": "base:\n  'web*':\n    - b\n",
		"a.sls":       "a: 1\nshared: base\n",
		"b.sls":       "b: 2\n",
	})
	prod := tree(t, map[string]string{"top.sls": "prod:\n  '*':\n    - p\n", "p.sls": "p: 3\nshared: prod\n"})
	c := compiler(t, Config{Roots: map[string][]string{"base": {base}, "prod": {prod}}})

	got := c.Compile(context.Background(), debianWeb)
	if want := map[string]any{"a": int64(1), "b": int64(2), "p": int64(3), "shared": "prod"}; !reflect.DeepEqual(got, want) {
		t.Errorf("all envs: %v, want %v", got, want)
	}
	req := debianWeb
	req.Pillarenv = "prod"
	req.Override = map[string]any{"shared": "override", "o": true}
	got = c.Compile(context.Background(), req)
	if want := map[string]any{"p": int64(3), "shared": "override", "o": true}; !reflect.DeepEqual(got, want) {
		t.Errorf("pillarenv prod with override: %v, want %v", got, want)
	}
	req.Pillarenv = "nosuch"
	req.Override = nil
	if got := c.Compile(context.Background(), req); len(got) != 0 {
		t.Errorf("unknown pillarenv: %v", got)
	}
	if got := compiler(t, Config{}).Compile(context.Background(), debianWeb); len(got) != 0 {
		t.Errorf("no roots: %v", got)
	}
}

func TestConcurrentCompiles(t *testing.T) {
	root := tree(t, map[string]string{
		"top.sls": "base:\n  '*':\n    - a\n",
		"a.sls":   "role: {{ grains.role }}\n",
	})
	c := compiler(t, Config{Roots: map[string][]string{"base": {root}}})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := debianWeb
			if i%2 == 1 {
				req = centosDB
			}
			got := c.Compile(context.Background(), req)
			if got["role"] != req.Grains["role"] {
				t.Errorf("role = %v, want %v", got["role"], req.Grains["role"])
			}
		}()
	}
	wg.Wait()
}

package grainsmod

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/minion/grains"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

const jid = "20261127000000000001"

// minion is a minion as far as the grains module sees one: core grains,
// the grains file in its configuration directory over them, re-read on a
// grains refresh.
type minion struct {
	dir       string
	core      map[string]any
	mu        sync.Mutex
	grains    map[string]any
	refreshes []string
	failRef   error
}

func newMinion(t *testing.T, file string) *minion {
	t.Helper()
	m := &minion{dir: t.TempDir(), core: map[string]any{
		"id": "m1", "os": "Debian", "os_family": "Debian", "osrelease": "12", "serialnumber": "ABCDEFGH", "fqdn": "m1.example.com",
		"host": "m1", "domain": "example.com", "roles": []any{"web"}, "pkg": map[string]any{"apache": "httpd", "list": []any{"a"}},
	}}
	if file != "" {
		if err := os.WriteFile(grains.FilePath(m.dir), []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m.load()
	return m
}

func (m *minion) load() {
	g := map[string]any{}
	for k, v := range m.core {
		g[k] = v
	}
	file, _ := grains.ReadFile(grains.FilePath(m.dir))
	for k, v := range file {
		g[k] = v
	}
	m.mu.Lock()
	m.grains = g
	m.mu.Unlock()
}

func (m *minion) env() *modules.Env {
	return &modules.Env{ID: "m1", Config: &config.Minion{ConfDir: m.dir}, Jobs: modules.NewTracker(),
		Grains: func() map[string]any { m.mu.Lock(); defer m.mu.Unlock(); return m.grains },
		Refresh: func(_ context.Context, what string) error {
			m.refreshes = append(m.refreshes, what)
			if m.failRef != nil {
				return m.failRef
			}
			if what == "grains" {
				m.load()
			}
			return nil
		}}
}

func (m *minion) run(fun string, args ...any) modules.Result {
	r := modtest.Registry(Specs())
	job := modules.Job{JID: jid, Fun: fun, Arg: args, TgtAny: "*", TgtType: "glob", User: "root"}
	return r.Run(context.Background(), fun, args, job, m.env())
}

func (m *minion) file(t *testing.T) map[string]any {
	t.Helper()
	f, err := grains.ReadFile(grains.FilePath(m.dir))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRead(t *testing.T) {
	m := newMinion(t, "")
	for _, tc := range []struct {
		name string
		fun  string
		args []any
		want any
	}{
		{"get", "grains.get", []any{"os"}, "Debian"},
		{"get nested", "grains.get", []any{"pkg:apache"}, "httpd"},
		{"get list item", "grains.get", []any{"pkg:list:0"}, "a"},
		{"get default", "grains.get", []any{"nope", "dflt"}, "dflt"},
		{"get default empty string", "grains.get", []any{"nope"}, ""},
		{"get delimiter", "grains.get", []any{"pkg|apache", modtest.Kw("delimiter", "|")}, "httpd"},
		{"fetch", "grains.fetch", []any{"pkg:apache"}, "httpd"},
		{"item", "grains.item", []any{"os", "pkg:apache", "nope"}, map[string]any{"os": "Debian", "pkg:apache": "httpd", "nope": ""}},
		{"item default", "grains.item", []any{"nope", modtest.Kw("default", "x")}, map[string]any{"nope": "x"}},
		{"item sanitize", "grains.item", []any{"host", "serialnumber", modtest.Kw("sanitize", true)}, map[string]any{"host": "MINION", "serialnumber": "ABCDEFXX"}},
		{"has_value", "grains.has_value", []any{"pkg:apache"}, true},
		{"has_value not", "grains.has_value", []any{"pkg:nginx"}, false},
		{"ls", "grains.ls", nil, []any{"domain", "fqdn", "host", "id", "os", "os_family", "osrelease", "pkg", "roles", "serialnumber"}},
		{"equals", "grains.equals", []any{"osrelease", int64(12)}, true},
		{"equals not", "grains.equals", []any{"os", "RedHat"}, false},
		{"filter_by", "grains.filter_by", []any{map[string]any{"Debian": "apt", "RedHat": "yum"}}, "apt"},
		{"filter_by grain", "grains.filter_by", []any{map[string]any{"m*": "mine", "default": "other"}, "id"}, "mine"},
		{"filter_by default", "grains.filter_by", []any{map[string]any{"Arch": "pacman", "default": "apt"}}, "apt"},
		{"filter_by merge", "grains.filter_by", []any{map[string]any{"Debian": map[string]any{"pkg": "apache2", "srv": "apache2"}}, modtest.Kw("merge", map[string]any{"pkg": "apache_13"})},
			map[string]any{"pkg": "apache_13", "srv": "apache2"}},
		{"filter_by bad merge", "grains.filter_by", []any{map[string]any{"Debian": map[string]any{}}, modtest.Kw("merge", "x")},
			"salt.exceptions.SaltException: filter_by merge argument must be a dictionary."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := m.run(tc.fun, tc.args...).Return
			if s, ok := got.(string); ok && strings.HasPrefix(s, "The minion function caused an exception") {
				s = strings.TrimSuffix(s, "\n")
				got = s[strings.LastIndex(s, "\n")+1:]
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s%v = %#v, want %#v", tc.fun, tc.args, got, tc.want)
			}
		})
	}
	items := m.run("grains.items", modtest.Kw("sanitize", true)).Return.(map[string]any)
	if items["fqdn"] != "MINION.DOMAINNAME" || items["id"] != "MINION.DOMAINNAME" || items["domain"] != "DOMAINNAME" || items["os"] != "Debian" {
		t.Errorf("sanitized items %v", items)
	}
	if m.grains["id"] != "m1" {
		t.Error("sanitize changed the minion's grains")
	}
	if items := m.run("grains.items").Return.(map[string]any); !reflect.DeepEqual(items, m.grains) {
		t.Errorf("items %v", items)
	}
}

// Setting grains writes the grains file as Salt does and has the minion
// re-read it.
func TestSet(t *testing.T) {
	for _, tc := range []struct {
		name     string
		file     string // the grains file before
		fun      string
		args     []any
		want     any
		wantFile map[string]any
		grain    string // a grain to check after the refresh
		grainVal any
	}{
		{"setval new", "", "grains.setval", []any{"role", "db"}, map[string]any{"role": "db"}, map[string]any{"role": "db"}, "role", "db"},
		{"setval over a core grain", "", "grains.setval", []any{"os", "Custom"}, map[string]any{"os": "Custom"}, map[string]any{"os": "Custom"}, "os", "Custom"},
		{"setval a dict", "a: 1\n", "grains.setval", []any{"cfg", map[string]any{"x": int64(1)}}, map[string]any{"cfg": map[string]any{"x": int64(1)}},
			map[string]any{"a": int64(1), "cfg": map[string]any{"x": int64(1)}}, "cfg", map[string]any{"x": int64(1)}},
		{"setval None keeps the key", "a: 1\n", "grains.setval", []any{"a", nil}, map[string]any{"a": nil}, map[string]any{"a": nil}, "a", nil},
		{"setval None destructive removes it", "a: 1\nb: 2\n", "grains.setval", []any{"a", nil, true}, map[string]any{"a": nil}, map[string]any{"b": int64(2)}, "a", missingDefault},
		{"setvals", "", "grains.setvals", []any{map[string]any{"k1": "v1", "k2": []any{"x"}}}, map[string]any{"k1": "v1", "k2": []any{"x"}},
			map[string]any{"k1": "v1", "k2": []any{"x"}}, "k2", []any{"x"}},
		{"setvals not a dict", "", "grains.setvals", []any{"k1"}, "salt.exceptions.SaltException: setvals grains must be a dictionary.", nil, "", nil},
		{"append to a new grain", "", "grains.append", []any{"tags", "a"}, map[string]any{"tags": []any{"a"}}, map[string]any{"tags": []any{"a"}}, "tags", []any{"a"}},
		{"append to a core list", "", "grains.append", []any{"roles", "db"}, map[string]any{"roles": []any{"web", "db"}}, map[string]any{"roles": []any{"web", "db"}}, "roles", []any{"web", "db"}},
		{"append a list", "tags: [a]\n", "grains.append", []any{"tags", []any{"b", "c"}}, map[string]any{"tags": []any{"a", "b", "c"}}, map[string]any{"tags": []any{"a", "b", "c"}}, "tags", []any{"a", "b", "c"}},
		{"append already there", "tags: [a]\n", "grains.append", []any{"tags", "a"}, "The val a was already in the list tags", nil, "tags", []any{"a"}},
		{"append to a non-list", "", "grains.append", []any{"os", "x"}, "The key os is not a valid list", nil, "", nil},
		{"append convert", "", "grains.append", []any{"os", "x", true}, map[string]any{"os": []any{"Debian", "x"}}, map[string]any{"os": []any{"Debian", "x"}}, "os", []any{"Debian", "x"}},
		{"append nested", "", "grains.append", []any{"pkg:list", "b"}, map[string]any{"pkg": map[string]any{"apache": "httpd", "list": []any{"a", "b"}}},
			map[string]any{"pkg": map[string]any{"apache": "httpd", "list": []any{"a", "b"}}}, "pkg", map[string]any{"apache": "httpd", "list": []any{"a", "b"}}},
		{"remove", "tags: [a, b]\n", "grains.remove", []any{"tags", "a"}, map[string]any{"tags": []any{"b"}}, map[string]any{"tags": []any{"b"}}, "tags", []any{"b"}},
		{"remove absent", "tags: [a]\n", "grains.remove", []any{"tags", "z"}, "The val z was not in the list tags", nil, "tags", []any{"a"}},
		{"set nested new", "", "grains.set", []any{"apps:myApp:port", int64(2209)},
			map[string]any{"comment": "", "result": true, "changes": map[string]any{"apps": map[string]any{"myApp": map[string]any{"port": int64(2209)}}}},
			map[string]any{"apps": map[string]any{"myApp": map[string]any{"port": int64(2209)}}}, "apps", map[string]any{"myApp": map[string]any{"port": int64(2209)}}},
		{"set already set", "", "grains.set", []any{"os", "Debian"}, map[string]any{"comment": "Grain is already set", "result": true, "changes": map[string]any{}}, nil, "", nil},
		{"set over a dict refused", "", "grains.set", []any{"pkg", "x"},
			map[string]any{"comment": "The key 'pkg' exists but is a dict or a list. Use 'force=True' to overwrite.", "result": false, "changes": map[string]any{}}, nil, "", nil},
		{"set a dict over a value refused", "", "grains.set", []any{"os", map[string]any{"a": "b"}},
			map[string]any{"comment": "The key 'os' exists and the given value is a dict or a list. Use 'force=True' to overwrite.", "result": false, "changes": map[string]any{}}, nil, "", nil},
		{"set forced", "", "grains.set", []any{"pkg", "x", modtest.Kw("force", true)}, map[string]any{"comment": "", "result": true, "changes": map[string]any{"pkg": "x"}}, map[string]any{"pkg": "x"}, "pkg", "x"},
		{"set under a string refused", "", "grains.set", []any{"os:sub", "x"},
			map[string]any{"comment": "The key 'os' value is 'Debian', which is different from the provided key 'sub'. Use 'force=True' to overwrite.", "result": false, "changes": map[string]any{}}, nil, "", nil},
		{"delval", "a: 1\n", "grains.delval", []any{"a"}, map[string]any{"comment": "", "result": true, "changes": map[string]any{"a": nil}}, map[string]any{"a": nil}, "a", nil},
		{"delkey", "a: 1\nb: 2\n", "grains.delkey", []any{"a"}, map[string]any{"comment": "", "result": true, "changes": map[string]any{"a": nil}}, map[string]any{"b": int64(2)}, "b", int64(2)},
		{"malformed grains file", "a: [1\n", "grains.setval", []any{"x", "y"}, "Unable to read existing grains file: ", nil, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMinion(t, tc.file)
			res := m.run(tc.fun, tc.args...)
			got := res.Return
			if s, ok := got.(string); ok {
				if strings.HasPrefix(s, "The minion function caused an exception") {
					s = strings.TrimSuffix(s, "\n")
					got = s[strings.LastIndex(s, "\n")+1:]
				} else if strings.HasPrefix(s, "Unable to read existing grains file: ") {
					got = "Unable to read existing grains file: "
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s%v = %#v, want %#v", tc.fun, tc.args, got, tc.want)
			}
			if tc.wantFile != nil {
				if f := m.file(t); !reflect.DeepEqual(f, tc.wantFile) {
					t.Errorf("grains file %#v, want %#v", f, tc.wantFile)
				}
				if len(m.refreshes) != 1 || m.refreshes[0] != "grains" {
					t.Errorf("refreshes %v, want one of the grains", m.refreshes)
				}
			} else if len(m.refreshes) > 0 {
				t.Errorf("refreshed %v without a change", m.refreshes)
			}
			if tc.grain != "" {
				if g := m.run("grains.get", tc.grain, missingDefault).Return; !reflect.DeepEqual(g, tc.grainVal) {
					t.Errorf("after the refresh %s = %#v, want %#v", tc.grain, g, tc.grainVal)
				}
			}
		})
	}
}

// missingDefault is a grains.get default no grain has, to tell a grain
// set to None (nil) from no grain.
const missingDefault = "<missing>"

func TestSetFailures(t *testing.T) {
	m := newMinion(t, "")
	m.failRef = errors.New("master gone")
	if res := m.run("grains.setval", "a", "b"); res.Success || !strings.Contains(res.Return.(string), "refreshing the grains failed: master gone") {
		t.Errorf("failed refresh: %#v", res)
	}
	if f := m.file(t); f["a"] != "b" {
		t.Errorf("the file was not written before the refresh: %v", f)
	}
	noDir := &minion{dir: "/no/such/dir", core: map[string]any{}}
	noDir.load()
	if res := noDir.run("grains.setval", "a", "b"); res.Success || !strings.HasPrefix(res.Return.(string), "ERROR: Unable to write to grains file at /no/such/dir/grains: ") {
		t.Errorf("unwritable file: %#v", res)
	}
	r := modtest.Registry(Specs())
	res := r.Run(context.Background(), "grains.setval", []any{"a", "b"}, modules.Job{JID: jid}, &modules.Env{})
	if res.Success || !strings.Contains(res.Return.(string), "configuration directory is not known") {
		t.Errorf("no configuration: %#v", res)
	}
}

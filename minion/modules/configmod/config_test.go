package configmod

import (
	"context"
	"reflect"
	"testing"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

func env() *modules.Env {
	cfg := config.DefaultMinion()
	cfg.ID, cfg.ConfDir, cfg.Master = "m1", "/etc/brine", "salt.example.com"
	return &modules.Env{ID: "m1", Config: &cfg, Jobs: modules.NewTracker(),
		Grains: func() map[string]any {
			return map[string]any{"os": "Debian", "shared": "from grains", "nested": map[string]any{"g": "grain", "both": "grains"}}
		},
		Pillar: func() map[string]any {
			return map[string]any{"shared": "from pillar", "only_pillar": []any{"p"}, "nested": map[string]any{"p": "pillar", "both": "pillar"},
				"master": map[string]any{"file_roots": map[string]any{"base": []any{"/srv/salt"}}, "only_master": "m", "only_pillar": []any{"m"}}}
		}}
}

func run(fun string, args ...any) any {
	r := modtest.Registry(Specs())
	return r.Run(context.Background(), fun, args, modules.Job{JID: "1", Fun: fun}, env()).Return
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		fun  string
		args []any
		want any
	}{
		{"get a minion option", "config.get", []any{"master"}, "salt.example.com"},
		{"get an int option", "config.get", []any{"master_port"}, int64(4506)},
		{"get the conf file", "config.get", []any{"conf_file"}, "/etc/brine/minion"},
		{"get through opts' grains", "config.get", []any{"grains:os"}, "Debian"},
		{"get a grain", "config.get", []any{"os"}, "Debian"},
		{"grains before pillar", "config.get", []any{"shared"}, "from grains"},
		{"omit_grains", "config.get", []any{"shared", modtest.Kw("omit_grains", true)}, "from pillar"},
		{"get the pillar", "config.get", []any{"only_pillar"}, []any{"p"}},
		{"get the master's configuration", "config.get", []any{"file_roots:base"}, []any{"/srv/salt"}},
		{"omit_master", "config.get", []any{"only_master", modtest.Kw("omit_master", true)}, ""},
		{"get a default", "config.get", []any{"test.foo"}, "unconfigured"},
		{"get a nested default", "config.get", []any{"virt:images"}, "/srv/salt-images"},
		{"get missing", "config.get", []any{"nope", "dflt"}, "dflt"},
		{"get delimiter", "config.get", []any{"nested|g", modtest.Kw("delimiter", "|")}, "grain"},
		{"merge recurse", "config.get", []any{"nested", modtest.Kw("merge", "recurse")}, map[string]any{"g": "grain", "p": "pillar", "both": "grains"}},
		{"merge overwrite", "config.get", []any{"nested", modtest.Kw("merge", "overwrite")}, map[string]any{"g": "grain", "both": "grains"}},
		{"option", "config.option", []any{"master"}, "salt.example.com"},
		{"option does not traverse", "config.option", []any{"grains:os"}, ""},
		{"option default", "config.option", []any{"redis.port"}, int64(6379)},
		{"option missing", "config.option", []any{"nope"}, ""},
		{"option omit_all", "config.option", []any{"master", modtest.Kw("omit_all", true)}, ""},
		{"option wildcard", "config.option", []any{"ldap.s*", modtest.Kw("wildcard", true)}, map[string]any{"ldap.server": "localhost", "ldap.scope": int64(2)}},
		{"option wildcard none", "config.option", []any{"zz*", modtest.Kw("wildcard", true)}, map[string]any{}},
		{"config.merge lists", "config.merge", []any{"only_pillar"}, []any{"m", "p"}},
		{"config.merge string first", "config.merge", []any{"master"}, "salt.example.com"},
		{"config.merge default", "config.merge", []any{"test.foo"}, "unconfigured"},
		{"valid_fileproto", "config.valid_fileproto", []any{"salt://top.sls"}, true},
		{"valid_fileproto not", "config.valid_fileproto", []any{"/srv/top.sls"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.fun, tc.args...); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s%v = %#v, want %#v", tc.fun, tc.args, got, tc.want)
			}
		})
	}
	items, _ := run("config.items").(map[string]any)
	if items["id"] != "m1" || items["keysize"] != int64(2048) || items["pillar"] == nil || items["recon_randomize"] != true {
		t.Fatalf("config.items = %v", items)
	}
}

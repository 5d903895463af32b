package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

// fakeFiles is a master file server holding files under root; only
// CacheFile is used.
type fakeFiles struct {
	modules.FileClient
	root string
}

func (f fakeFiles) CacheFile(_ context.Context, path, saltenv string) (string, error) {
	rel, ok := strings.CutPrefix(path, "salt://")
	if !ok {
		return "", errors.New("not a salt:// URL")
	}
	p := filepath.Join(f.root, rel)
	if !isFile(p) || saltenv != "base" {
		return "", nil // not on the master: not an error
	}
	return p, nil
}

func manage(t *testing.T, env *modules.Env, args ...any) modules.Result {
	t.Helper()
	return modtest.Registry(Specs()).Run(context.Background(), "file.manage_file", args, modules.Job{Fun: "file.manage_file"}, env)
}

func TestManageFile(t *testing.T) {
	master := t.TempDir()
	writeFile(t, filepath.Join(master, "motd"), "welcome\n", 0o644)
	cache := t.TempDir()
	env := &modules.Env{Files: fakeFiles{root: master}, Config: &config.Minion{CacheDir: cache, HashType: "sha256"}}
	dir := t.TempDir()
	usr, grp := me(t)
	target := filepath.Join(dir, "etc", "motd")
	// name, sfn, ret, source, source_sum, user, group, mode, attrs, saltenv, backup
	base := func(name, source string, mode any, extra ...any) []any {
		return append([]any{name, "", map[string]any{}, source, map[string]any{}, usr, grp, mode, "", "base", ""}, extra...)
	}
	for _, tc := range []struct {
		name     string
		env      *modules.Env
		args     []any
		want     map[string]any
		wantBody string
		wantMode os.FileMode
	}{
		{name: "no parent directory", env: env, args: base(target, "salt://motd", "0640"),
			want: map[string]any{"name": target, "changes": map[string]any{}, "comment": "Parent directory not present", "result": false}},
		{name: "new file from the master", env: env, args: base(target, "salt://motd", "0640", modtest.Kw("makedirs", true)),
			want:     map[string]any{"name": target, "changes": map[string]any{"diff": "New file", "mode": "0640"}, "comment": "File " + target + " updated", "result": true},
			wantBody: "welcome\n", wantMode: 0o640},
		{name: "already right", env: env, args: base(target, "salt://motd", "0640"),
			want:     map[string]any{"name": target, "changes": map[string]any{}, "comment": "File " + target + " is in the correct state", "result": true},
			wantBody: "welcome\n", wantMode: 0o640},
		{name: "mode only", env: env, args: base(target, "salt://motd", "600"),
			want:     map[string]any{"name": target, "changes": map[string]any{"mode": "0600"}, "comment": "File " + target + " updated", "result": true},
			wantBody: "welcome\n", wantMode: 0o600},
		{name: "contents", env: env, args: base(target, "", "0600", modtest.Kw("contents", "hello\n")),
			want: map[string]any{"name": target, "changes": map[string]any{"diff": "--- \n+++ \n@@ -1 +1 @@\n-welcome\n+hello\n"},
				"comment": "File " + target + " updated", "result": true},
			wantBody: "hello\n", wantMode: 0o600},
		{name: "hidden diff", env: env, args: base(target, "salt://motd", "0600", modtest.Kw("show_changes", false)),
			want:     map[string]any{"name": target, "changes": map[string]any{"diff": "<show_changes=False>"}, "comment": "File " + target + " updated", "result": true},
			wantBody: "welcome\n", wantMode: 0o600},
		{name: "missing source", env: env, args: base(target, "salt://nope", "0600"),
			want:     map[string]any{"name": target, "changes": map[string]any{}, "comment": "Source file 'salt://nope' not found", "result": false},
			wantBody: "welcome\n", wantMode: 0o600},
		{name: "empty new file", env: env, args: base(filepath.Join(dir, "empty"), "", "0604"),
			want: map[string]any{"name": filepath.Join(dir, "empty"), "changes": map[string]any{"new": "file " + filepath.Join(dir, "empty") + " created", "mode": "0604"},
				"comment": "Empty file", "result": true}},
		{name: "local source", env: &modules.Env{}, args: base(filepath.Join(dir, "copy"), filepath.Join(master, "motd"), "0644"),
			want:     map[string]any{"name": filepath.Join(dir, "copy"), "changes": map[string]any{"diff": "New file", "mode": "0644"}, "comment": "File " + filepath.Join(dir, "copy") + " updated", "result": true},
			wantBody: "welcome\n", wantMode: 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := manage(t, tc.env, tc.args...)
			if !res.Success {
				t.Fatalf("failed: %v", res.Return)
			}
			if !reflect.DeepEqual(res.Return, tc.want) {
				t.Errorf("got  %#v\nwant %#v", res.Return, tc.want)
			}
			name := tc.args[0].(string)
			if tc.wantBody != "" && readFile(t, name) != tc.wantBody {
				t.Errorf("file holds %q", readFile(t, name))
			}
			if tc.wantMode != 0 {
				if st, _ := os.Stat(name); st.Mode().Perm() != tc.wantMode {
					t.Errorf("mode %v, want %v", st.Mode().Perm(), tc.wantMode)
				}
			}
		})
	}
	res := manage(t, &modules.Env{}, base(filepath.Join(dir, "x"), "salt://motd", "0644")...)
	if res.Success || res.Return != "ERROR: unable to fetch salt://motd: this minion has no master file server (brine-call --local?)" {
		t.Errorf("without a file server: %v", res.Return)
	}
	res = manage(t, env, base(filepath.Join(dir, "x"), "https://example.com/motd", "0644")...)
	if res.Success || res.Return != "ERROR: sources of scheme https are not supported by Brine: use salt://, file:// or a local path" {
		t.Errorf("https source: %v", res.Return)
	}
	res = manage(t, env, target)
	if res.Success || !strings.HasPrefix(res.Return.(string), "Passed invalid arguments to file.manage_file: manage_file() missing 10 required positional argument(s): 'sfn', 'ret', 'source', 'source_sum', 'user', 'group', 'mode', 'attrs', 'saltenv', 'backup'") {
		t.Errorf("missing arguments: %v", res.Return)
	}
	// backup=minion keeps the replaced file in the cache.
	mustRunEnv := manage(t, env, append([]any{target, "", map[string]any{}, "", map[string]any{}, usr, grp, "0600", "", "base", "minion"}, modtest.Kw("contents", "v2\n"))...)
	if !mustRunEnv.Success {
		t.Fatalf("backup: %v", mustRunEnv.Return)
	}
	saved, _ := filepath.Glob(filepath.Join(cache, "file_backup", strings.TrimPrefix(target, "/")+"_*"))
	if len(saved) != 1 || readFile(t, saved[0]) != "welcome\n" {
		t.Errorf("backups %v", saved)
	}
}

func TestCheckPerms(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "f"), "x", 0o644)
	usr, grp := me(t)
	got := mustRun(t, "file.check_perms", f, map[string]any{}, usr, grp, "0600").([]any)
	wantRet := map[string]any{"name": f, "changes": map[string]any{"mode": "0600"}, "comment": "", "result": true}
	wantPerms := map[string]any{"luser": usr, "lgroup": grp, "lmode": "0644", "cmode": "0600"}
	if !reflect.DeepEqual(got, []any{wantRet, wantPerms}) {
		t.Errorf("got %#v\nwant %#v", got, []any{wantRet, wantPerms})
	}
	got = mustRun(t, "file.check_perms", f, map[string]any{"comment": "before", "changes": map[string]any{}, "result": true}, "no-such-user-brine", nil, nil).([]any)
	ret := got[0].(map[string]any)
	if ret["result"] != false || ret["comment"] != "before; User does not exist\n; Failed to change user to no-such-user-brine" {
		t.Errorf("unknown user: %#v", ret)
	}
	mustFail(t, fmt.Sprintf("ERROR: Path not found: %s", filepath.Join(dir, "nope")), "file.check_perms", filepath.Join(dir, "nope"), nil, nil, nil, nil)
}

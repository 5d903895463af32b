package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMasterDefaultsWithoutFiles(t *testing.T) {
	c, warns, err := LoadMaster(t.TempDir())
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	d := DefaultMaster()
	d.ConfDir = c.ConfDir
	if !reflect.DeepEqual(*c, d) {
		t.Fatalf("got %+v, want the defaults", *c)
	}
	if c.Endpoint(c.RetPort) != "tcp://0.0.0.0:4506" {
		t.Fatal(c.Endpoint(c.RetPort))
	}
}

func TestMasterFilesRootDirAndWarnings(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	write(t, filepath.Join(dir, "master"), "root_dir: "+root+"\ninterface: 127.0.0.1\nret_port: 14506\nauto_accept: True\ngitfs_remotes:\n  - https://git.example/states.git\n")
	write(t, filepath.Join(dir, "master.d", "b.conf"), "ret_port: 24506\n")
	write(t, filepath.Join(dir, "master.d", "a.conf"), "publish_port: 24505\nworker_threads:\n")
	c, warns, err := LoadMaster(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.RetPort != 24506 || c.PublishPort != 24505 || !c.AutoAccept || c.Interface != "127.0.0.1" {
		t.Fatalf("overlay wrong: %+v", c)
	}
	if c.WorkerThreads != 5 {
		t.Errorf("an empty value must keep the default, got %d", c.WorkerThreads)
	}
	for name, p := range map[string]string{"pki_dir": c.PKIDir, "cachedir": c.CacheDir, "sock_dir": c.SockDir, "autosign_file": c.AutosignFile, "log_file": c.LogFile} {
		if !strings.HasPrefix(p, root+"/") {
			t.Errorf("%s %q not under root_dir %q", name, p, root)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0].String(), `master:5:1: unknown key "gitfs_remotes"`) {
		t.Fatalf("warnings %v, want one for gitfs_remotes at master:5:1", warns)
	}
}

func TestBadValuesNameFileLineCol(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"string for int", "ret_port: lots\n", `master:1:11: ret_port: want an integer`},
		{"list for bool", "auto_accept:\n  - yes\n", `master:2:3: auto_accept: want true or false`},
		{"not a mapping", "- a\n- b\n", `master:1:1: the configuration must be a mapping`},
		{"bad yaml", "a: [\n", "master: yaml:"},
		{"port out of range", "ret_port: 70000\n", "ret_port 70000 is not a port"},
		{"relative root", "root_dir: here\n", "must be an absolute path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "master"), tc.text)
			_, _, err := LoadMaster(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMinionID(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "minion"), "master: 127.0.0.1\nid: web-1\n")
	c, _, err := LoadMinion(dir)
	if err != nil || c.ID != "web-1" || c.RetEndpoint() != "tcp://127.0.0.1:4506" {
		t.Fatalf("%+v %v", c, err)
	}

	dir = t.TempDir()
	c, _, err = LoadMinion(dir)
	host, _ := os.Hostname()
	if err != nil || c.ID != host {
		t.Fatalf("id %q, want the host name %q: %v", c.ID, host, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "minion_id")); strings.TrimSpace(string(b)) != host {
		t.Fatalf("minion_id cache holds %q", b)
	}
	write(t, filepath.Join(dir, "minion_id"), "cached-id\n")
	if c, _, _ = LoadMinion(dir); c.ID != "cached-id" {
		t.Fatalf("cached id not used: %q", c.ID)
	}
}

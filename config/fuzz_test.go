package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// masterSeeds are real master configurations: Salt's captures', the demo's,
// the README's, the tests', and values of every shape the struct holds.
var masterSeeds = []string{
	"interface: 127.0.0.1\nipv6: False\npublish_port: 14505\nret_port: 14506\nworker_threads: 5\nuser: root\n" +
		"sign_pub_messages: True\nzmq_filtering: False\nmaster_sign_pubkey: False\nkeysize: 2048\n" +
		"external_auth:\n  auto:\n    saltdev:\n      - '@runner'\n",
	"root_dir: /srv/brine/\ninterface: 127.0.0.1\nret_port: 24506\npublish_port: 24507\n",
	"root_dir: /r\npki_dir: /r/pki\ncachedir: cache\nfile_roots:\n  base: [/srv/salt, states]\n  dev:\n    - /srv/dev\n" +
		"pillar_roots:\n  base:\n    - /srv/pillar\npillar_source_merging_strategy: overwrite\nfile_recv: True\n",
	"nodegroups:\n  webs: 'web-*'\n  both: N@webs or L@db-1\n  listed: [web-1, 'G@os:Debian']\n",
	"auto_accept: True\nopen_mode: false\nauth_mode: 2\nmax_minions: 10\nkeep_jobs_seconds: 3600\njob_cache: False\n",
	"gitfs_remotes:\n  - https://git.example/states.git\nworker_threads:\n",
	"ret_port: lots\n", "auto_accept:\n  - yes\n", "- a\n- b\n", "a: [\n", "ret_port: 70000\n", "root_dir: here\n",
	"", "# only a comment\n", "~\n", "---\n...\n", "a: &x [1, 2]\nb: *x\n", "nodegroups: {a: .nan, b: 2001-02-03, c: !!binary aGk=}\n",
}

var minionSeeds = []string{
	"master: 127.0.0.1\nmaster_port: 14506\npublish_port: 14505\nipv6: False\nenable_fqdns_grains: False\n" +
		"random_reauth_delay: 0\nacceptance_wait_time: 2\nid: real-minion-1\n",
	"root_dir: /work/main/.demo/minion\nid: demo-minion\nmaster: 127.0.0.1\nmaster_port: 24506\npublish_port: 24507\n" +
		"acceptance_wait_time: 1\nrandom_reauth_delay: 0\n",
	"root_dir: /r/\nid: web-1\npki_dir: /r/pki\ngrains:\n  roles: [web, db]\n  dc: {name: par1}\n",
	"master: [a, b]\n", "master: ''\n", "id: \x00\n", "master_port: 0\n", "keysize: 1024\n", "",
}

// FuzzLoadMaster: any bytes as a master configuration file give a
// configuration or an error, never a panic; a configuration loads again,
// from its own YAML, unchanged (so root_dir re-rooting is idempotent).
//
// It fuzzes what LoadMaster does with one file's bytes (parse, decode,
// validate, re-root), not the include of other files: an include may
// name any file of the machine.
func FuzzLoadMaster(f *testing.F) {
	for _, s := range masterSeeds {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "master")
	load := func(t *testing.T, b []byte) (*Master, error) {
		c := DefaultMaster()
		if err := loadOne(t, path, b, &c, c.validate); err != nil {
			return nil, err
		}
		reroot(&c, c.RootDir)
		return &c, nil
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := load(t, b)
		if err != nil {
			return
		}
		if err := c.validate(); err != nil {
			t.Fatalf("a loaded configuration does not validate: %v", err)
		}
		checkRoundTrip(t, c, load)
	})
}

// FuzzLoadMinion is FuzzLoadMaster for a minion configuration file.
func FuzzLoadMinion(f *testing.F) {
	for _, s := range minionSeeds {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "minion")
	load := func(t *testing.T, b []byte) (*Minion, error) {
		c := DefaultMinion()
		if err := loadOne(t, path, b, &c, c.validate); err != nil {
			return nil, err
		}
		reroot(&c, c.RootDir)
		return &c, nil
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := load(t, b)
		if err != nil {
			return
		}
		if err := c.validate(); err != nil {
			t.Fatalf("a loaded configuration does not validate: %v", err)
		}
		checkRoundTrip(t, c, load)
	})
}

// loadOne writes b as path and decodes it over *dst, then validates. An
// error must name the file or be one of validate's "config:" errors, and
// a warning must point into the file.
func loadOne(t *testing.T, path string, b []byte, dst any, validate func() error) error {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	l := newLoader(dst)
	top, err := l.parse(path)
	if err == nil {
		err = l.decode(top)
	}
	if err == nil {
		err = validate()
	}
	if err != nil {
		if !strings.HasPrefix(err.Error(), path+":") && !strings.HasPrefix(err.Error(), "config: ") {
			t.Fatalf("error %q names neither the file nor the config", err)
		}
		return err
	}
	for _, w := range l.warns {
		if w.File != path || w.Line < 1 || w.Col < 1 {
			t.Fatalf("warning %v does not point into %s", w, path)
		}
	}
	return nil
}

// checkRoundTrip writes c back as YAML and loads it again: the result must
// be c. Both are compared as YAML, where a NaN equals itself.
func checkRoundTrip[C any](t *testing.T, c *C, load func(*testing.T, []byte) (*C, error)) {
	t.Helper()
	want, err := yaml.Marshal(c)
	if err != nil {
		t.Fatalf("yaml.Marshal of a loaded configuration: %v", err)
	}
	c2, err := load(t, want)
	if err != nil {
		t.Fatalf("a loaded configuration, written back, does not load: %v\n%s", err, want)
	}
	got, err := yaml.Marshal(c2)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("reloading changed the configuration:\n got %s\nwant %s", got, want)
	}
}

// FuzzLoadDir loads a whole configuration directory as brine-master and
// brine-minion do (LoadMaster, LoadMinion): the main file, a file of its
// default_include (master.d/, minion.d/) and inc/x.conf, which the main
// file's include may name and which may include others (itself: a
// cycle). Whatever the three files hold, the load gives a configuration
// or an error naming a file of the directory (or a "config:" one), never
// a panic; it reads only files of the directory; loading again gives the
// same configuration and warnings; and a configuration written back as
// one main file loads to itself.
func FuzzLoadDir(f *testing.F) {
	for _, s := range []struct {
		main, dropin, inc string
	}{
		{"include: inc/*.conf\nret_port: 1\nnodegroups: {a: b}\n", "ret_port: 2\nnodegroups: {c: d}\n", "ret_port: 3\nnodegroups: {a: e}\n"},
		{"include: [inc/x.conf, none/*.conf]\nfile_roots: {base: [/a]}\n", "file_roots: {base: [/b]}\n", "file_roots: {base: [/c, /a]}\n"},
		{"include: inc/x.conf\n", "", "include: x.conf\n"},
		{"include: inc/x.conf\n", "", "include: '*'\nroot_dir: /r\n"},
		{"default_include: inc/*.conf\n", "ret_port: 9\n", "publish_port: 8\n"},
		{"default_include: ''\ninclude: ''\n", "ret_port: 9\n", ""},
		{"include: '['\n", "", ""},
		{"include: {a: b}\n", "include: [[1]]\n", "include: 3\n"},
		{"include: inc/.*\n", "gitfs_remotes: [x]\n", "gitfs_remotes: [y]\n"},
		{"include: &i inc/*\nret_port: *i\n", "- a\n", "a: [\n"},
		{"master: 127.0.0.1\nid: web-1\ninclude: inc/x.conf\n", "grains: {roles: [web]}\n", "grains: {roles: [db], dc: par1}\nmaster_port: 4506\n"},
		{"id: ''\n", "master: ''\n", ""},
	} {
		f.Add(true, []byte(s.main), []byte(s.dropin), []byte(s.inc))
		f.Add(false, []byte(s.main), []byte(s.dropin), []byte(s.inc))
	}
	// The harness must reach the includes: the first seed's ret_port is
	// its included file's.
	seedDir := f.TempDir()
	writeDir(f, seedDir, "master", []byte("include: inc/*.conf\nret_port: 1\n"), []byte("ret_port: 2\n"), []byte("ret_port: 3\n"))
	if c, _, err := LoadMaster(seedDir); err != nil || c.RetPort != 3 || len(c.Files) != 3 {
		f.Fatalf("the include seed loads to %+v, %v", c, err)
	}
	// Two directories for all the inputs (a new one for each costs more
	// than the load): the files are overwritten, and the minion_id that
	// a load without an id caches is removed.
	dir, dir2 := filepath.Join(f.TempDir(), "etc"), filepath.Join(f.TempDir(), "back")
	f.Fuzz(func(t *testing.T, master bool, main, dropin, inc []byte) {
		name, load := "minion", loadMinionYAML
		if master {
			name, load = "master", loadMasterYAML
		}
		for _, p := range []string{filepath.Join(dir, "minion_id"), filepath.Join(dir2, "minion_id")} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
		}
		if !confined(writeDir(t, dir, name, main, dropin, inc)) {
			return
		}
		got, warns, read, err := load(dir)
		if err != nil {
			if !strings.HasPrefix(err.Error(), dir+"/") && !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error %q names neither a file of %s nor the config", err, dir)
			}
		}
		for _, p := range read {
			if !strings.HasPrefix(p, dir+"/") {
				t.Fatalf("read %s, out of %s", p, dir)
			}
		}
		for _, w := range warns {
			if !strings.HasPrefix(w.File, dir+"/") || w.Line < 0 || w.Col < 0 {
				t.Fatalf("warning %v does not point into %s", w, dir)
			}
		}
		again, warns2, _, err2 := load(dir)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() ||
			string(again) != string(got) || fmt.Sprint(warns2) != fmt.Sprint(warns) {
			t.Fatalf("loading twice differs: %v, %v", err, err2)
		}
		if err != nil {
			return
		}
		// Written back, the configuration is one file: its includes name
		// files that the new directory does not have.
		if err := os.MkdirAll(dir2, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir2, name), got, 0o644); err != nil {
			t.Fatal(err)
		}
		back, _, _, err := load(dir2)
		if err != nil {
			t.Fatalf("a loaded configuration, written back, does not load: %v\n%s", err, got)
		}
		if string(back) != string(got) {
			t.Fatalf("reloading changed the configuration:\n got %s\nwant %s", back, got)
		}
	})
}

// writeDir writes a configuration directory: the main file, a file of its
// default_include and inc/x.conf. It returns their paths.
func writeDir(t testing.TB, dir, name string, main, dropin, inc []byte) []string {
	t.Helper()
	files := []string{filepath.Join(dir, name), filepath.Join(dir, name+".d", "10.conf"), filepath.Join(dir, "inc", "x.conf")}
	for i, b := range [][]byte{main, dropin, inc} {
		if err := os.MkdirAll(filepath.Dir(files[i]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(files[i], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// loadMasterYAML is LoadMaster, with the configuration as --print-config
// shows it (YAML compares NaNs equal, and has no ConfDir).
func loadMasterYAML(dir string) ([]byte, []Warning, []string, error) {
	c, warns, err := LoadMaster(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := c.YAML()
	return b, warns, c.Files, err
}

// loadMinionYAML is loadMasterYAML for LoadMinion.
func loadMinionYAML(dir string) ([]byte, []Warning, []string, error) {
	c, warns, err := LoadMinion(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := c.YAML()
	return b, warns, c.Files, err
}

// confined reports whether every include and default_include of the files
// stays in their directory: a relative pattern without "..". The loader
// follows whatever a file names, and a fuzzed include must not read the
// machine's files (a device could even block).
func confined(files []string) bool {
	for _, p := range files {
		top, err := newLoader(&Master{}).parse(p)
		if err != nil {
			continue // the loader stops at this file too
		}
		for _, key := range []string{keyInclude, keyDefaultInclude} {
			e, ok := top.m[key]
			if !ok {
				continue
			}
			patterns, err := stringList(e)
			if err != nil {
				continue
			}
			for _, pat := range patterns {
				if filepath.IsAbs(pat) || strings.HasPrefix(pat, "~") || strings.Contains(pat, "..") {
					return false
				}
			}
		}
	}
	return true
}

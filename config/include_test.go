package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Files combine as Salt's do: main file < default_include < include, each
// group replacing top-level keys; inside a group, mappings merge and lists
// append.
func TestIncludeOrderAndMerge(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "master"), "ret_port: 1001\npublish_port: 1002\nworker_threads: 2\n"+
		"nodegroups: {main: a}\ninclude:\n  - extra.conf\n  - more/*.conf\n")
	write(t, filepath.Join(dir, "master.d", "a.conf"), "ret_port: 2001\npublish_port: 2002\nnodegroups: {d: b}\n")
	write(t, filepath.Join(dir, "master.d", "b.conf"), "nodegroups: {d2: c}\n")
	write(t, filepath.Join(dir, "master.d", ".#a.conf"), "ret_port: 9999\n") // an editor's lock file
	write(t, filepath.Join(dir, "extra.conf"), "ret_port: 3001\nfile_roots: {base: [/one]}\ninclude: nested.conf\n")
	write(t, filepath.Join(dir, "nested.conf"), "keysize: 4096\n")
	write(t, filepath.Join(dir, "more", "z.conf"), "file_roots: {base: [/two, /one], dev: [/dev]}\n")
	c, warns, err := LoadMaster(dir)
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	for _, tc := range []struct {
		key       string
		got, want any
	}{
		{"worker_threads (main file only)", c.WorkerThreads, 2},
		{"publish_port (master.d over main)", c.PublishPort, 2002},
		{"ret_port (include over master.d)", c.RetPort, 3001},
		{"keysize (nested include)", c.KeySize, 4096},
		// master.d's group replaced the main file's nodegroups; its two
		// files merged.
		{"nodegroups", c.Nodegroups, map[string]any{"d": "b", "d2": "c"}},
		// The include group's files merged: lists append what they lack.
		{"file_roots", c.FileRoots, map[string][]string{"base": {"/one", "/two"}, "dev": {"/dev"}}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.key, tc.got, tc.want)
		}
	}
	want := []string{"master", "master.d/a.conf", "master.d/b.conf", "extra.conf", "nested.conf", "more/z.conf"}
	for i, w := range want {
		want[i] = filepath.Join(dir, w)
	}
	if !slices.Equal(c.Files, want) {
		t.Errorf("files read %v, want %v", c.Files, want)
	}
}

func TestIncludeForms(t *testing.T) {
	t.Run("absolute path, one string", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		write(t, filepath.Join(other, "x.conf"), "ret_port: 4444\n")
		write(t, filepath.Join(dir, "master"), "include: "+filepath.Join(other, "x.conf")+"\n")
		if c, _, err := LoadMaster(dir); err != nil || c.RetPort != 4444 {
			t.Fatalf("ret_port %v, err %v", c, err)
		}
	})
	t.Run("home directory", func(t *testing.T) {
		dir, home := t.TempDir(), t.TempDir()
		t.Setenv("HOME", home)
		write(t, filepath.Join(home, "brine.conf"), "ret_port: 5555\n")
		write(t, filepath.Join(dir, "master"), "include: ~/brine.conf\n")
		if c, _, err := LoadMaster(dir); err != nil || c.RetPort != 5555 {
			t.Fatalf("ret_port %v, err %v", c, err)
		}
	})
	t.Run("default_include moved", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "master"), "default_include: conf.d/*.yml\n")
		write(t, filepath.Join(dir, "master.d", "a.conf"), "ret_port: 1111\n")
		write(t, filepath.Join(dir, "conf.d", "a.yml"), "publish_port: 2222\n")
		c, warns, err := LoadMaster(dir)
		if err != nil || c.RetPort != 4506 || c.PublishPort != 2222 || len(warns) != 0 {
			t.Fatalf("ret_port %d publish_port %d, err %v, warnings %v", c.RetPort, c.PublishPort, err, warns)
		}
	})
	t.Run("minion", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "minion"), "id: m\nmaster: salt.example\ninclude: [site.conf]\n")
		write(t, filepath.Join(dir, "minion.d", "a.conf"), "master_port: 1234\n")
		write(t, filepath.Join(dir, "site.conf"), "grains: {role: web}\n")
		c, _, err := LoadMinion(dir)
		if err != nil || c.MasterPort != 1234 || c.Grains["role"] != "web" {
			t.Fatalf("%+v, %v", c, err)
		}
	})
}

func TestIncludeProblems(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		// err is the error wanted, or "" for none and warn the warning.
		err, warn string
	}{
		{name: "matches nothing", files: map[string]string{"master": "ret_port: 1\ninclude: [a.conf, nothing/*.conf]\n", "a.conf": ""},
			warn: `master:2:19: include "DIR/nothing/*.conf" matches no files`},
		{name: "a directory", files: map[string]string{"master": "include: sub\n", "sub/x.conf": ""},
			warn: `master:1:10: include "DIR/sub": DIR/sub is not a regular file, skipped`},
		{name: "cycle", files: map[string]string{"master": "include: a.conf\n", "a.conf": "include: b.conf\n", "b.conf": "include: a.conf\n"},
			err: `b.conf:1:10: include cycle: DIR/master → DIR/a.conf → DIR/b.conf → DIR/a.conf`},
		{name: "wrong type in master.d", files: map[string]string{"master.d/x.conf": "# ports\nret_port: many\n"},
			err: `master.d/x.conf:2:11: ret_port: want an integer`},
		{name: "wrong type in an include", files: map[string]string{"master": "include: x.conf\n", "x.conf": "\nauto_accept: [1]\n"},
			err: `x.conf:2:14: auto_accept: want true or false`},
		{name: "include not paths", files: map[string]string{"master": "include: {a: b}\n"},
			err: `master:1:10: include: want a path or a list of paths`},
		{name: "bad yaml in include", files: map[string]string{"master": "include: x.conf\n", "x.conf": "a: [\n"},
			err: `x.conf: yaml:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tc.files {
				write(t, filepath.Join(dir, name), text)
			}
			_, warns, err := LoadMaster(dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(tc.err, "DIR", dir)) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(tc.warn, "DIR", dir)
			if len(warns) != 1 || !strings.HasSuffix(warns[0].String(), want) {
				t.Fatalf("warnings %v, want one ending %q", warns, want)
			}
		})
	}
}

// An unknown key is reported once, where it is first met, however many
// files set it; each unknown key is reported.
func TestUnknownKeysWarnOnce(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "master"), "gitfs_remotes: [a]\ninterface: 127.0.0.1\next_pillar: []\ninclude: x.conf\n")
	write(t, filepath.Join(dir, "master.d", "a.conf"), "gitfs_remotes: [b]\n")
	write(t, filepath.Join(dir, "master.d", "b.conf"), "gitfs_remotes: [c]\nreactor: []\n")
	write(t, filepath.Join(dir, "x.conf"), "ext_pillar: [d]\nreactor: [e]\n")
	_, warns, err := LoadMaster(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, strings.TrimPrefix(w.String(), dir+"/"))
	}
	want := []string{
		`master:1:1: unknown key "gitfs_remotes" ignored`,
		`master:3:1: unknown key "ext_pillar" ignored`,
		`master.d/b.conf:2:1: unknown key "reactor" ignored`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("warnings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// root_dir moves every path key, the daemon's pidfile and log file
// included, and leaves what is not a path.
func TestRootDirReroots(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "home", "brine")
	write(t, filepath.Join(dir, "master"), "root_dir: "+root+"/\nsock_dir: run\ncachedir: "+root+"/cache\n")
	write(t, filepath.Join(dir, "minion"), "root_dir: "+root+"\nid: m\nmaster: 127.0.0.1\nlog_file: udp://loghost:514\n")
	m, _, err := LoadMaster(dir)
	if err != nil {
		t.Fatal(err)
	}
	for key, tc := range map[string]struct{ got, want string }{
		"pidfile":         {m.Pidfile, "var/run/brine-master.pid"},
		"log_file":        {m.LogFile, "var/log/brine/master"},
		"pki_dir":         {m.PKIDir, "etc/brine/pki/master"},
		"sock_dir":        {m.SockDir, "run"},    // relative: from root_dir
		"cachedir":        {m.CacheDir, "cache"}, // already under it
		"autoreject_file": {m.AutorejectFile, "etc/brine/autoreject.conf"},
	} {
		if want := filepath.Join(root, tc.want); tc.got != want {
			t.Errorf("%s = %q, want %q", key, tc.got, want)
		}
	}
	if m.Interface != "0.0.0.0" || m.User != "root" {
		t.Errorf("a key that is not a path moved: interface %q user %q", m.Interface, m.User)
	}
	n, _, err := LoadMinion(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n.Pidfile != filepath.Join(root, "var/run/brine-minion.pid") || n.PKIDir != filepath.Join(root, "etc/brine/pki/minion") {
		t.Errorf("minion paths not under root_dir: pidfile %q pki_dir %q", n.Pidfile, n.PKIDir)
	}
	if n.LogFile != "udp://loghost:514" {
		t.Errorf("a log_file URL was re-rooted: %q", n.LogFile)
	}
}

func TestLoggingKeys(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "master"), "log_level: debug\nlog_format: json\nlog_file: ''\n")
	c, _, err := LoadMaster(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevelLogfile != "" || c.LogFile != "" {
		t.Fatalf("log_level_logfile %q log_file %q", c.LogLevelLogfile, c.LogFile)
	}
	c.Resolve()
	if c.LogLevelLogfile != "debug" || c.LogFormatLogfile != "json" {
		t.Errorf("the file does not follow the console: level %q format %q", c.LogLevelLogfile, c.LogFormatLogfile)
	}
	for _, tc := range []struct{ text, want string }{
		{"log_level: loud\n", `config: log_level: unknown log level "loud"`},
		{"log_level_logfile: 3\n", `config: log_level_logfile: unknown log level "3"`},
		{"log_format: xml\n", `config: log_format "xml" is not one of text, json`},
		{"log_format_logfile: [json]\n", `master:1:21: log_format_logfile: want a string`},
	} {
		write(t, filepath.Join(dir, "master"), tc.text)
		if _, _, err := LoadMaster(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.text, err, tc.want)
		}
	}
}

// --print-config's YAML, loaded again as a main file, is the same
// configuration.
func TestPrintConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	write(t, filepath.Join(dir, "etc", "master"), "root_dir: "+root+"\ninterface: 127.0.0.1\nuser: brine\n"+
		"nodegroups: {web: 'web*', both: [a, b]}\nfile_roots: {base: [/srv/salt], dev: [states]}\n"+
		"auth_queue_timeout: 1.5\nlog_level_logfile: debug\ninclude: x.conf\ngitfs_remotes: [a]\n")
	write(t, filepath.Join(dir, "etc", "x.conf"), "ret_port: 1234\n")
	write(t, filepath.Join(dir, "etc", "minion"), "root_dir: "+root+"\nid: web-1\nmaster: salt.example\n"+
		"grains: {roles: [web, db], dc: {name: par1}, n: 3}\nlog_format: json\n")
	m, _, err := LoadMaster(filepath.Join(dir, "etc"))
	if err != nil {
		t.Fatal(err)
	}
	n, _, err := LoadMinion(filepath.Join(dir, "etc"))
	if err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "again")
	roundTrip(t, m, again, "master", LoadMaster, func(c *Master) {
		c.Include = m.Include // left out, its files read
	})
	roundTrip(t, n, again, "minion", LoadMinion, func(*Minion) {})
}

func roundTrip[C interface{ YAML() ([]byte, error) }](t *testing.T, c C, dir, name string, load func(string) (C, []Warning, error), fix func(C)) {
	t.Helper()
	b, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "include:") && !strings.Contains(string(b), "default_include:") {
		t.Errorf("%s: include printed:\n%s", name, b)
	}
	write(t, filepath.Join(dir, name), string(b))
	c2, warns, err := load(dir)
	if err != nil || len(warns) != 0 {
		t.Fatalf("%s: the printed configuration does not load: %v %v\n%s", name, err, warns, b)
	}
	fix(c2)
	b2, err := c2.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if string(b2) != string(b) {
		t.Fatalf("%s changed on the round trip:\n%s\nwant\n%s", name, b2, b)
	}
	v1, v2 := reflect.ValueOf(c).Elem(), reflect.ValueOf(c2).Elem()
	for i := range v1.NumField() {
		if f := v1.Type().Field(i).Name; f != "ConfDir" && f != "Files" && f != "Include" && !reflect.DeepEqual(v1.Field(i).Interface(), v2.Field(i).Interface()) {
			t.Errorf("%s: %s = %v after the round trip, was %v", name, f, v2.Field(i), v1.Field(i))
		}
	}
}

// A configuration file can be a symbolic link, as /etc/brine/master often
// is under configuration management.
func TestMainFileSymlink(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "real"), "ret_port: 7777\n")
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "master")); err != nil {
		t.Fatal(err)
	}
	if c, _, err := LoadMaster(dir); err != nil || c.RetPort != 7777 {
		t.Fatalf("%v %v", c, err)
	}
}

package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMasterRootsRerootedAndDefaults(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	write(t, filepath.Join(dir, "master"), "root_dir: "+root+"\nfile_roots:\n  base: [/srv/salt, states]\n  dev:\n    - /srv/dev\npillar_source_merging_strategy: overwrite\nfile_recv: True\n")
	c, _, err := LoadMaster(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"base": {filepath.Join(root, "srv/salt"), filepath.Join(root, "states")},
		"dev":  {filepath.Join(root, "srv/dev")},
	}
	if !reflect.DeepEqual(c.FileRoots, want) {
		t.Errorf("file_roots = %v, want %v", c.FileRoots, want)
	}
	if got := c.PillarRoots["base"]; len(got) != 2 || got[0] != filepath.Join(root, "srv/pillar") {
		t.Errorf("pillar_roots default not rerooted: %v", c.PillarRoots)
	}
	if c.PillarSourceMergingStrategy != "overwrite" || !c.FileRecv || c.FileRecvMaxSize != 100 ||
		c.FileBufferSize != 1048576 || !c.PillarSafeRenderError || c.TopFileMergingStrategy != "merge" {
		t.Errorf("keys or defaults wrong: %+v", c)
	}
	// The defaults of another load are untouched by rerooting this one.
	if d := DefaultMaster(); d.PillarRoots["base"][0] != "/srv/pillar" {
		t.Errorf("defaults changed: %v", d.PillarRoots)
	}
}

func TestMasterRootsInvalid(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"strategy", "pillar_source_merging_strategy: deep\n", "pillar_source_merging_strategy"},
		{"buffer", "file_buffer_size: 0\n", "file_buffer_size"},
		{"roots type", "file_roots: /srv/salt\n", "file_roots"},
		{"empty dir", "pillar_roots:\n  base: ['']\n", "pillar_roots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "master"), tc.text)
			if _, _, err := LoadMaster(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

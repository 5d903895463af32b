// Package cmd_test checks properties of the shipped binaries as a whole.
package cmd_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/brine-project/brine"

var binaries = []string{"brine-master", "brine-minion", "brine", "brine-key", "brine-call", "brine-run", "brine-swarm", "brine-cp"}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// The minion binary must not link master code or Prometheus's client (it
// has to stay small for ARM boards), and master and minion never import
// each other.
func TestPackageBoundaries(t *testing.T) {
	for _, tc := range []struct{ pkg, forbidden string }{
		{module + "/cmd/brine-minion", module + "/master"},
		{module + "/cmd/brine-call", module + "/master"},
		// Prometheus's client library is the master's: it would add half
		// again to the minion (minion/metrics writes its few metrics itself).
		{module + "/cmd/brine-minion", "github.com/prometheus"},
		{module + "/cmd/brine-call", "github.com/prometheus"},
		{module + "/minion/...", module + "/master"},
		{module + "/master/...", module + "/minion"},
	} {
		for _, d := range deps(t, tc.pkg) {
			if d == tc.forbidden || strings.HasPrefix(d, tc.forbidden+"/") {
				t.Errorf("%s depends on %s", tc.pkg, d)
			}
		}
	}
}

// Every binary builds with CGO_ENABLED=0 into a static executable: no
// program interpreter, no shared libraries.
func TestStaticBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every binary")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./...")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, b := range binaries {
		f, err := elf.Open(filepath.Join(dir, b))
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s has a program interpreter: dynamically linked", b)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v", b, libs)
		}
		f.Close()
	}
}

package packaging

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/brine-project/brine/internal/proctest"
)

const module = "github.com/brine-project/brine"

// testVersion is stamped into the binaries as the Makefile stamps
// git describe's output.
const testVersion = "v0.0.0-packaging-test"

var (
	// binDir holds every binary of cmd/, built once by TestMain as `make
	// build` builds them: static (CGO_ENABLED=0) and version-stamped. They
	// are not built with -race even when the tests are: a race build needs
	// cgo, and these tests are about the static binaries that ship.
	binDir string
	// binaries are the names of cmd/'s binaries.
	binaries []string
)

func TestMain(m *testing.M) {
	if os.Getenv(rootEnv) != "" {
		enterRoot() // a child started by inRoot; it never returns
	}
	// The packaging files the tests read are tracked too.
	proctest.TrackSources("..", filepath.Join("..", "packaging"))
	os.Exit(proctest.Main(m, "brine-pkg-bin", func(dir string) error {
		var err error
		if binaries, err = commands(); err != nil {
			return err
		}
		binDir = dir
		return goBuild(dir, "", "", "", "../cmd/...")
	}))
}

// goBuild builds pkgs into dir for the given platform ("" is the host's),
// with CGO_ENABLED=0 and the Makefile's flags.
func goBuild(dir, goos, goarch, goarm string, pkgs ...string) error {
	env := []string{"CGO_ENABLED=0"}
	for k, v := range map[string]string{"GOOS": goos, "GOARCH": goarch, "GOARM": goarm} {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	flags := []string{"-trimpath", "-ldflags", "-s -w -X " + module + "/internal/version.Version=" + testVersion}
	return proctest.Build(dir, env, append(flags, pkgs...)...)
}

// commands lists the binaries: one folder each under cmd/.
func commands() ([]string, error) {
	entries, err := os.ReadDir("../cmd")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no binaries under ../cmd")
	}
	return names, nil
}

// testTimeout bounds each wait; generous, since minions may run under
// qemu's emulation on a loaded machine.
const testTimeout = proctest.Timeout

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func bin(name string) string {
	proctest.Sources()
	return filepath.Join(binDir, name)
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// returns runs `brine -c confDir --static --out json args...` from the
// host and decodes its {minion: return}; a non-zero exit fails the test.
func returns(t testing.TB, confDir string, args ...string) map[string]any {
	t.Helper()
	out, err := proctest.Run(exec.Command(bin("brine"), append([]string{"-c", confDir, "--static", "--out", "json"}, args...)...))
	if err != nil {
		t.Fatalf("brine %v: %v\n%s", args, err, out)
	}
	var rets map[string]any
	if err := json.Unmarshal([]byte(out), &rets); err != nil {
		t.Fatalf("brine %v: not JSON: %v\n%s", args, err, out)
	}
	return rets
}

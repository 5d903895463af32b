package proctest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// Main is the body of a TestMain for tests of binaries: it calls build
// with a fresh temporary directory to build them into, runs the tests,
// fails them if goroutines leaked, and removes the directory. It returns
// the code for os.Exit.
func Main(m *testing.M, prefix string, build func(dir string) error) int {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "building the binaries:", err)
		return 1
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	return code
}

// TouchSources stats every Go file, go.mod and go.sum under root, and
// every file under dirs. The results depend on binaries built from them in
// a subprocess, which go test's cache cannot see; the files a test stats,
// it can, so a changed source file re-runs the tests instead of replaying
// a stale pass.
func TouchSources(root string, dirs ...string) {
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum" || under(p, dirs) {
			os.Stat(p)
		}
		return nil
	})
}

func under(p string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	return false
}

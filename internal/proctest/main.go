package proctest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// sources are the files TrackSources names, stat'ed once by Sources.
var sources struct {
	once sync.Once
	root string
	dirs []string
}

// TrackSources makes the results of this test binary depend, for go
// test's cache, on every Go file, go.mod and go.sum under root and every
// file under dirs: the tests run binaries built from them in a
// subprocess, which the cache cannot see, but it sees the files a test
// stats, so a changed source re-runs the tests instead of replaying a
// stale pass. Call it from TestMain. It only records them: go test's
// input log begins in m.Run, so the files are stat'ed by Sources, which
// Start, StartPath, Run, FreePort and TempDir call.
func TrackSources(root string, dirs ...string) {
	sources.root, sources.dirs = root, dirs
}

// Sources stats the files TrackSources named, once per test binary; a
// test that runs a built binary without the helpers above calls it
// itself.
func Sources() {
	sources.once.Do(func() {
		if sources.root != "" {
			touchSources(sources.root, sources.dirs...)
		}
	})
}

// touchSources stats every Go file, go.mod and go.sum under root, and
// every file under dirs.
func touchSources(root string, dirs ...string) {
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

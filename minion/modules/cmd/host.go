package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
)

// Host is the machine as the modules that drive its programs (pkg,
// service) see it: the PATH programs are found in and run with, and the
// directory that stands for / (tests lay a fake tree there). SystemHost
// is the real machine. A Host is a value; it is safe for concurrent use.
type Host struct {
	Path string // PATH
	Root string // the directory standing for /
}

// defaultPath is the PATH of a minion started without one (an init
// system may give it an empty environment).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// SystemHost is the machine the minion runs on, with the minion's PATH.
func SystemHost() Host {
	p := os.Getenv("PATH")
	if p == "" {
		p = defaultPath
	}
	return Host{Path: p, Root: "/"}
}

// File is the absolute path p under the host's root.
func (h Host) File(p string) string { return filepath.Join(h.Root, p) }

// Exists reports whether the absolute path p exists under the host's root.
func (h Host) Exists(p string) bool {
	_, err := os.Stat(h.File(p))
	return err == nil
}

// Has reports whether the program prog is on the host's PATH.
func (h Host) Has(prog string) bool {
	_, err := LookPath(prog, []string{"PATH=" + h.Path})
	return err == nil
}

// Env is the environment programs run with: the minion's, with the host's
// PATH, the C locale (modules parse what programs print) and extra, whose
// entries win over the others.
func (h Host) Env(extra ...string) []string {
	base := os.Environ()
	env := make([]string, 0, len(base)+len(extra)+2)
	for _, kv := range base {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "LC_ALL=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PATH="+h.Path, "LC_ALL=C")
	return append(env, extra...) // os/exec keeps the last of duplicate keys
}

// Run runs args on the host (see Exec) with Env(extra...).
func (h Host) Run(ctx context.Context, extra []string, args ...string) (Result, error) {
	return Exec(ctx, Command{Args: args, Env: h.Env(extra...)})
}

// Package relpath checks the paths that cross the wire between a minion and
// the master's file server: a file's path inside an environment ("top.sls",
// "apache/files/httpd.conf"), and the environment's name. Both become file
// names on disk (the master's file_roots, the minion's file cache, the
// master's cache of pushed files), so a path that could name anything
// outside its directory is refused before it reaches the file system.
//
// The rules are stricter than Salt's, which refuses only absolute paths and
// the substring "../" and then joins: a ".." component anywhere, an absolute
// path, a NUL byte and an empty path are all errors. Clean does not look at
// the file system; symbolic links are the caller's concern (the master opens
// files through os.Root, which refuses links that leave the root).
package relpath

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// MaxLen is the longest path Clean accepts, PATH_MAX on Linux.
const MaxLen = 4096

// ErrUnsafe is the error Clean and Env wrap for every path they refuse.
var ErrUnsafe = errors.New("relpath: unsafe path")

// Clean returns p as a clean relative slash path ("a/b/c": no ".", no
// empty components, no trailing slash), or an error wrapping ErrUnsafe if
// p is empty, longer than MaxLen, absolute, holds a NUL byte or a ".."
// component, or names the directory itself ("", ".", "a/..").
func Clean(p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf("%w: empty", ErrUnsafe)
	case len(p) > MaxLen:
		return "", fmt.Errorf("%w: longer than %d bytes", ErrUnsafe, MaxLen)
	case strings.IndexByte(p, 0) >= 0:
		return "", fmt.Errorf("%w: %q holds a NUL byte", ErrUnsafe, p)
	case strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("%w: %q is absolute", ErrUnsafe, p)
	}
	// Every component is looked at, not just the cleaned result: "a/../b"
	// is harmless once cleaned, but a path that says ".." is never one a
	// well-behaved client sends, and refusing it outright leaves no room
	// for a cleaning rule to be wrong.
	for comp := range strings.SplitSeq(p, "/") {
		if comp == ".." {
			return "", fmt.Errorf("%w: %q has a \"..\" component", ErrUnsafe, p)
		}
	}
	c := path.Clean(p)
	if c == "." {
		return "", fmt.Errorf("%w: %q names no file", ErrUnsafe, p)
	}
	return c, nil
}

// Env checks a saltenv name that is used as a directory name (the minion
// caches files under <cachedir>/files/<saltenv>/): one path component, not
// "." or "..", no NUL.
func Env(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("%w: environment name %q", ErrUnsafe, name)
	case len(name) > 255:
		return fmt.Errorf("%w: environment name longer than 255 bytes", ErrUnsafe)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("%w: environment name %q", ErrUnsafe, name)
	}
	return nil
}

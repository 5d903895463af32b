package fileserver

import (
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
)

// maxWalkDepth bounds how deep a listing descends: links to directories
// are followed (Salt's fileserver_followsymlinks default), and a loop of
// links must end.
const maxWalkDepth = 64

// Listing is what one walk of an environment finds, Salt's _file_lists:
// every path is relative to its root and uses "/".
type Listing struct {
	Files     []string          // regular files (and links to them), sorted
	Dirs      []string          // directories (and links to them), sorted
	EmptyDirs []string          // directories without entries, sorted
	Links     map[string]string // link path → link target as written, for links that stay in their root
}

// List walks every root of saltenv. Entries that cannot be reached safely
// (links leading outside their root, dangling links) and files that are
// not regular are left out. An environment that is not configured lists
// nothing.
func (s *Server) List(saltenv string) Listing {
	files, dirs, empty := map[string]bool{}, map[string]bool{}, map[string]bool{}
	links := map[string]string{}
	for _, dir := range s.dirs(saltenv) {
		r, err := os.OpenRoot(dir)
		if err != nil {
			continue // Salt lists nothing for a missing directory
		}
		w := walker{r: r, dir: dir, files: files, dirs: dirs, empty: empty, links: links, stack: map[identity]bool{}}
		if info, err := r.Stat("."); err == nil {
			w.stack[fileID(info)] = true
		}
		w.walk(".", ".", 0)
		r.Close()
	}
	return Listing{
		Files: slices.Sorted(maps.Keys(files)), Dirs: slices.Sorted(maps.Keys(dirs)),
		EmptyDirs: slices.Sorted(maps.Keys(empty)), Links: links,
	}
}

type walker struct {
	r                  *os.Root
	dir                string
	files, dirs, empty map[string]bool
	links              map[string]string
	stack              map[identity]bool // directories being walked, against link loops
}

// walk lists the directory reached at access in the root, recording its
// entries under list: the two differ below a link that os.Root cannot
// follow itself (one with an absolute target inside the root).
func (w *walker) walk(access, list string, depth int) {
	entries, err := fs.ReadDir(w.r.FS(), access)
	if err != nil {
		return
	}
	if len(entries) == 0 && list != "." {
		w.empty[list] = true
	}
	for _, e := range entries {
		child, use := path.Join(list, e.Name()), path.Join(access, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			var err error
			if use, err = resolveIn(w.r, w.dir, use); err != nil {
				continue // dangling, or leads outside the root
			}
			if target, err := w.r.Readlink(path.Join(access, e.Name())); err == nil {
				w.links[child] = target
			}
		}
		info, err := w.r.Stat(use)
		if err != nil {
			continue
		}
		switch {
		case info.IsDir():
			w.dirs[child] = true
			id := fileID(info)
			if depth >= maxWalkDepth || (id != identity{} && w.stack[id]) {
				continue
			}
			w.stack[id] = true
			w.walk(use, child, depth+1)
			delete(w.stack, id)
		case info.Mode().IsRegular():
			w.files[child] = true
		}
	}
}

// FilterPrefix keeps the entries that start with prefix (with its slashes
// trimmed), as Salt filters file lists: a plain string prefix, so "foo"
// also keeps "foobar/x".
func FilterPrefix(list []string, prefix string) []string {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return list
	}
	out := make([]string, 0, len(list))
	for _, p := range list {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out
}

package fileserver

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/brine-project/brine/internal/relpath"
	"github.com/brine-project/brine/master/pki"
)

// Recv stores one chunk of a file minion id pushes (cp.push, _file_recv):
// data goes at offset loc of <RecvDir>/<id>/files/<path joined with "/">,
// the file truncated first when loc is 0. size is the whole file's size as
// the minion announced it (0 if it did not). Errors wrap ErrRefused when
// file_recv is off, the id or path is unsafe, or the file would pass
// RecvMaxSize.
func (s *Server) Recv(id string, parts []string, loc int64, data []byte, size int64) error {
	switch {
	case !s.cfg.Recv || s.cfg.RecvDir == "":
		return fmt.Errorf("%w: file_recv is off", ErrRefused)
	case loc < 0:
		return fmt.Errorf("%w: negative offset %d", ErrRefused, loc)
	case size > s.cfg.RecvMaxSize || loc+int64(len(data)) > s.cfg.RecvMaxSize:
		return fmt.Errorf("%w: the file passes file_recv_max_size (%d bytes)", ErrRefused, s.cfg.RecvMaxSize)
	}
	if err := pki.ValidID(id); err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if len(parts) == 0 {
		return fmt.Errorf("%w: no path", ErrRefused)
	}
	for _, p := range parts {
		if p == "" || strings.IndexByte(p, 0) >= 0 {
			return fmt.Errorf("%w: path component %q", ErrRefused, p)
		}
	}
	rel, err := relpath.Clean(strings.Join(parts, "/"))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	base := filepath.Join(s.cfg.RecvDir, id, "files")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return fmt.Errorf("fileserver: %w", err)
	}
	// Everything below base is created through os.Root, so a link planted
	// in the tree cannot redirect the write elsewhere.
	r, err := os.OpenRoot(base)
	if err != nil {
		return fmt.Errorf("fileserver: %w", err)
	}
	defer r.Close()
	if d := path.Dir(rel); d != "." {
		if err := r.MkdirAll(d, 0o700); err != nil {
			return classifyWrite(rel, err)
		}
	}
	flags := os.O_WRONLY | os.O_CREATE
	if loc == 0 {
		flags |= os.O_TRUNC
	}
	f, err := r.OpenFile(rel, flags|nonblock, 0o600)
	if err != nil {
		return classifyWrite(rel, err)
	}
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("%w: %s is not a regular file", ErrRefused, rel)
	}
	_, err = f.WriteAt(data, loc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fileserver: writing %s: %w", rel, err)
	}
	return nil
}

// classifyWrite tells an I/O error (a system call failed: no space, no
// permission) from os.Root's refusal of a path that leaves the root.
func classifyWrite(rel string, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return fmt.Errorf("fileserver: %s: %w", rel, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrRefused, rel, err)
}

package fileclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/brine-project/brine/transport/wire"
)

// Push sends the local file at path (absolute) to the master, which keeps
// it as <cachedir>/minions/<id>/files/<uploadPath or path> (cp.push). The
// file goes in chunks of BufferSize with _file_recv; false means the
// master refused a chunk (file_recv off, the file past
// file_recv_max_size) or the path was refused here (not absolute, "..").
func (c *Client) Push(ctx context.Context, path, uploadPath string) (bool, error) {
	if !filepath.IsAbs(path) || strings.Contains(path, "../") {
		c.log.Info("fileclient: cp.push needs an absolute path without ..", "path", path)
		return false, nil
	}
	target := path
	if uploadPath != "" {
		if strings.Contains(uploadPath, "../") {
			c.log.Info("fileclient: cp.push upload_path must not hold ..", "upload_path", uploadPath)
			return false, nil
		}
		target = uploadPath
	}
	var parts []any
	for _, p := range strings.Split(filepath.ToSlash(filepath.Clean("/"+target)), "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("fileclient: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("fileclient: %w", err)
	}
	if !info.Mode().IsRegular() {
		return false, nil
	}
	buf := make([]byte, c.cfg.BufferSize)
	var loc int64
	for sent := false; ; sent = true {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		n, err := io.ReadFull(f, buf)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return false, fmt.Errorf("fileclient: reading %s: %w", path, err)
		}
		if n == 0 && sent {
			return true, nil
		}
		ret, err := c.ask(ctx, wire.Map{
			{Key: "cmd", Value: "_file_recv"}, {Key: "path", Value: parts}, {Key: "size", Value: info.Size()},
			{Key: "loc", Value: loc}, {Key: "data", Value: buf[:n]},
		})
		if err != nil {
			return false, err
		}
		if ok, _ := ret.(bool); !ok {
			c.log.Warn("fileclient: the master refused cp.push; it needs file_recv: True and a file_recv_max_size large enough", "path", path)
			return false, nil
		}
		loc += int64(n)
	}
}

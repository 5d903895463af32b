package cp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/brine-project/brine/minion/modules"
)

// recvChunkedSpec is cp.recv_chunked, the receiving end of brine-cp (and
// salt-cp): each call writes one chunk, base64 of the (gzipped, unless
// compressed is false) bytes, creating or appending to dest; the first
// chunk sets mode. A nil chunk makes dest an empty directory.
func recvChunkedSpec() *modules.Spec {
	return &modules.Spec{
		Name: "cp.recv_chunked",
		Doc:  "Receive a chunk of a file copied with brine-cp; not meant to be called directly.",
		Params: []modules.Param{modules.P("dest"), modules.P("chunk"), modules.D("append", false),
			modules.D("compressed", true), modules.D("mode", nil)},
		Fn: recvChunked,
	}
}

func recvChunked(_ context.Context, c *modules.Call) (any, error) {
	dest, _ := c.Args["dest"].(string)
	if !filepath.IsAbs(dest) {
		c.Retcode = 1
		return fmt.Sprintf("Destination %q is not an absolute path", dest), nil
	}
	fail := func(err error) (any, error) {
		c.Retcode = 1
		return err.Error(), nil
	}
	if c.Args["chunk"] == nil {
		if err := os.MkdirAll(dest, 0o755); err != nil {
			if fi, serr := os.Stat(dest); serr == nil && !fi.IsDir() {
				return "Path exists and is a file", nil
			}
			return fail(err)
		}
		return true, nil
	}
	var encoded string
	switch v := c.Args["chunk"].(type) {
	case string:
		encoded = v
	case []byte:
		encoded = string(v)
	default:
		return fail(errors.New("the chunk is not a base64 string"))
	}
	data, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return fail(fmt.Errorf("the chunk is not base64: %v", err))
	}
	if c.Args["compressed"] != false {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return fail(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return fail(err)
		}
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if c.Args["append"] == true {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(dest, flags, 0o644)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return fail(err)
		}
		f, err = os.OpenFile(dest, flags, 0o644)
	}
	if err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if mode, ok := c.Args["mode"].(int64); ok && c.Args["append"] != true {
		if err := os.Chmod(dest, os.FileMode(mode)&os.ModePerm); err != nil {
			return fail(err)
		}
	}
	return true, nil
}

package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// An endpoint is a parsed ZeroMQ address: tcp://host:port or ipc://path.
type endpoint struct {
	network string // "tcp" or "unix"
	address string
}

func (e endpoint) String() string {
	if e.network == "unix" {
		return "ipc://" + e.address
	}
	return "tcp://" + e.address
}

// parseEndpoint parses tcp://host:port (host may be *, an IP, [IPv6] or a
// name) and ipc://path (a leading @ names a Linux abstract socket).
func parseEndpoint(s string) (endpoint, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return endpoint{}, fmt.Errorf("transport: endpoint %q: want tcp://host:port or ipc://path", s)
	}
	switch scheme {
	case "tcp":
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return endpoint{}, fmt.Errorf("transport: endpoint %q: %v", s, err)
		}
		if port == "" {
			return endpoint{}, fmt.Errorf("transport: endpoint %q: missing port", s)
		}
		if host == "*" {
			host = ""
		}
		return endpoint{"tcp", net.JoinHostPort(host, port)}, nil
	case "ipc":
		if rest == "" || rest == "@" {
			return endpoint{}, fmt.Errorf("transport: endpoint %q: empty path", s)
		}
		if strings.IndexByte(rest, 0) >= 0 {
			return endpoint{}, fmt.Errorf("transport: endpoint %q: NUL in path", s)
		}
		return endpoint{"unix", rest}, nil
	}
	return endpoint{}, fmt.Errorf("transport: endpoint %q: unsupported scheme %q (tcp or ipc)", s, scheme)
}

// maxUnixPath is the longest path a sockaddr_un holds on Linux, less the
// trailing NUL.
const maxUnixPath = 107

// tmpSuffixLen is the length of the suffix of the temporary name an ipc
// socket is bound at before it is renamed into place.
const tmpSuffixLen = len(".tmp") + 12

// listenerOf binds e. An ipc socket is bound at a temporary name, given mode
// 0600 and renamed over its path, so that no other user can connect to it in
// between; a stale socket file left by a dead process is replaced, but a live
// one (something answers on it) or a file that is not a socket is an error.
func listenerOf(e endpoint) (net.Listener, func(), error) {
	if e.network == "tcp" {
		ln, err := net.Listen("tcp", e.address)
		if err != nil {
			return nil, nil, fmt.Errorf("transport: listen %s: %w", e, err)
		}
		return ln, func() {}, nil
	}
	if strings.HasPrefix(e.address, "@") {
		ln, err := net.Listen("unix", e.address)
		if err != nil {
			return nil, nil, fmt.Errorf("transport: listen %s: %w", e, err)
		}
		return ln, func() {}, nil
	}
	path := e.address
	if len(path)+tmpSuffixLen > maxUnixPath {
		return nil, nil, fmt.Errorf("transport: listen %s: path longer than %d bytes", e, maxUnixPath-tmpSuffixLen)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, nil, fmt.Errorf("transport: listen %s: %w", e, err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := path + ".tmp" + hex.EncodeToString(rnd[:])
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, nil, fmt.Errorf("transport: listen %s: %w", e, err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // we remove the final name ourselves
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, nil, fmt.Errorf("transport: listen %s: %w", e, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, nil, fmt.Errorf("transport: listen %s: %w", e, err)
	}
	ours, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		return nil, nil, fmt.Errorf("transport: listen %s: %w", e, err)
	}
	cleanup := func() {
		// Remove the socket file only if it is still ours: a newer process
		// may have replaced it.
		if fi, err := os.Lstat(path); err == nil && os.SameFile(fi, ours) {
			os.Remove(path)
		}
	}
	return renamedListener{ln, &net.UnixAddr{Name: path, Net: "unix"}}, cleanup, nil
}

// renamedListener reports the path its socket was renamed to, not the
// temporary one it was bound at.
type renamedListener struct {
	net.Listener
	addr net.Addr
}

func (l renamedListener) Addr() net.Addr { return l.addr }

func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s is in use by a running process", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	return os.Remove(path)
}

// dialConn connects to e within the handshake timeout.
func dialConn(ctx context.Context, e endpoint, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.DialContext(ctx, e.network, e.address)
}

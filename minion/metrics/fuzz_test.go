package metrics

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// conn is a net.Conn reading a fixed request and keeping what is written.
type conn struct {
	io.Reader
	out bytes.Buffer
}

func (c *conn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *conn) Close() error                     { return nil }
func (c *conn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *conn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *conn) SetDeadline(time.Time) error      { return nil }
func (c *conn) SetReadDeadline(time.Time) error  { return nil }
func (c *conn) SetWriteDeadline(time.Time) error { return nil }

// The metrics responder reads a request head from anyone who can reach
// metrics_port: whatever comes, it answers nothing (a head cut short) or
// one well-formed HTTP response, and the metrics only to GET /metrics.
func FuzzAnswer(f *testing.F) {
	for _, seed := range []string{
		"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /metrics?x=1 HTTP/1.0\r\n\r\n",
		"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n",
		"\r\n\r\n",
		"GET  /metrics\n\n",
		strings.Repeat("A", 9000),
	} {
		f.Add([]byte(seed))
	}
	m := New(func() int64 { return 1 })
	f.Fuzz(func(t *testing.T, req []byte) {
		c := &conn{Reader: bytes.NewReader(req)}
		m.answer(c)
		if c.out.Len() == 0 {
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(&c.out), nil)
		if err != nil {
			t.Fatalf("not an HTTP response: %v\n%q", err, c.out.String())
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || int64(len(body)) != resp.ContentLength {
			t.Fatalf("body %d bytes (%v), Content-Length %d", len(body), err, resp.ContentLength)
		}
		rest, isGet := bytes.CutPrefix(req, []byte("GET /metrics"))
		asked := isGet && (len(rest) == 0 || strings.IndexByte(" ?\r\n", rest[0]) >= 0)
		if resp.StatusCode == http.StatusOK && !asked {
			t.Fatalf("metrics served to %q", req)
		}
		if resp.StatusCode == http.StatusOK && !bytes.Contains(body, []byte("brine_minion_jobs_total")) {
			t.Fatalf("200 without the metrics:\n%s", body)
		}
	})
}

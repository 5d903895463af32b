package transport

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testOptions reconnect fast, so restart tests do not wait for Salt's
// one-second default.
var testOptions = Options{Reconnect: Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}}

// ctxT returns a context bounded by a generous test deadline.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds, failing the test after 20s. It is for
// state with no event to wait on (a subscription reaching a publisher).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// endpoints returns a tcp endpoint on a free loopback port and an ipc one
// in a temp dir, for tests that run over both.
func endpoints(t testing.TB) map[string]string {
	return map[string]string{
		"tcp": "tcp://127.0.0.1:0",
		"ipc": "ipc://" + filepath.Join(t.TempDir(), "test.ipc"),
	}
}

type listener interface {
	Listen(endpoint string) (net.Addr, error)
}

// listen binds l to ep and returns the endpoint to dial.
func listen(t testing.TB, l listener, ep string) string {
	t.Helper()
	a, err := l.Listen(ep)
	if err != nil {
		t.Fatal(err)
	}
	return dialable(a)
}

func dialable(a net.Addr) string {
	if a.Network() == "unix" {
		return "ipc://" + a.String()
	}
	return "tcp://" + a.String()
}

func msg(parts ...string) [][]byte {
	m := make([][]byte, len(parts))
	for i, p := range parts {
		m[i] = []byte(p)
	}
	return m
}

func str(m [][]byte) []string {
	s := make([]string, len(m))
	for i, p := range m {
		s[i] = string(p)
	}
	return s
}

package master

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/internal/saltvectors"
	"github.com/brine-project/brine/master/jobcache"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport/wire"
)

// secretText is in a file outside file_roots that a symlink inside them
// points to: no answer may ever carry it.
const secretText = "FUZZ-SECRET-0f4e"

// fuzzFirer encodes each event for the bus, as the master's real firer
// does, counts it and keeps nothing (a fuzz run fires millions).
type fuzzFirer struct{ n atomic.Int64 }

func (f *fuzzFirer) Fire(_ context.Context, tag string, data map[string]any) error {
	f.n.Add(1)
	_, err := events.Encode(tag, data, time.Now())
	return err
}

// countingJobs counts the writes to the master's real job cache.
type countingJobs struct {
	jobcache.Cache
	n atomic.Int64
}

func (c *countingJobs) SaveJob(ctx context.Context, j jobcache.Job) error {
	c.n.Add(1)
	return c.Cache.SaveJob(ctx, j)
}

func (c *countingJobs) AddReturn(ctx context.Context, jid, id string, ret map[string]any) error {
	c.n.Add(1)
	return c.Cache.AddReturn(ctx, jid, id, ret)
}

// fuzzHarness is a master under fuzzing, with what tells whether a request
// changed its state.
type fuzzHarness struct {
	m     *Master
	a     *minionSide // web-1, accepted, with a session
	fired *fuzzFirer
	jobs  *countingJobs
}

// state is everything a request may change: the events fired, the job
// cache's writes, and the files of the key store and the session keys
// (every write there is a new file renamed into place: a new inode).
func (h *fuzzHarness) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "events %d, job cache writes %d;", h.fired.n.Load(), h.jobs.n.Load())
	for _, dir := range []string{h.m.cfg.PKIDir, filepath.Join(h.m.cfg.CacheDir, "sessions")} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			st, _ := fi.Sys().(*syscall.Stat_t)
			fmt.Fprintf(&b, " %s ino %d size %d mtime %d;", p, st.Ino, fi.Size(), fi.ModTime().UnixNano())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// handle answers one request as the ret port does, and waits for the
// runners it started (they end at once: their context has ended), so
// that what they change is this request's doing.
func (h *fuzzHarness) handle(raw []byte) []byte {
	// Each input on its own: a seed's nonce is not a replay of itself.
	h.m.replays = newReplayGuard()
	reply := h.m.handle(context.Background(), raw)
	h.m.runnersWG.Wait()
	return reply
}

// refused reports whether an answer is one of the master's refusals:
// it must then have changed nothing.
func refused(answer any) bool {
	s, ok := answer.(string)
	return ok && (strings.HasPrefix(s, badLoad) || s == "payload and load must be a dict")
}

// fuzzMaster is a real master (its keys, key store, job cache, file
// server and pillar) for many fuzz iterations: a file server with a file
// and a link out of its roots, a pillar, web-1 accepted with a session,
// its logs dropped. max_pending_keys bounds the keys fuzzed _auth
// requests leave pending, and with them the cost of state.
func fuzzMaster(f *testing.F) *fuzzHarness {
	dir := f.TempDir()
	pillarRoot, fileRoot := filepath.Join(dir, "pillar"), filepath.Join(dir, "salt")
	for p, text := range map[string]string{
		filepath.Join(pillarRoot, "top.sls"):    "base:\n  'os:Debian':\n    - match: grain\n    - web\n",
		filepath.Join(pillarRoot, "web.sls"):    "role: web\nos_seen: {{ grains['os'] }}\n",
		filepath.Join(fileRoot, "motd"):         "hello\n",
		filepath.Join(fileRoot, "sub", "a.sls"): "a: 1\n",
		filepath.Join(dir, "outside", "secret"): secretText + "\n",
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "outside", "secret"), filepath.Join(fileRoot, "leak")); err != nil {
		f.Fatal(err)
	}
	m, _ := newTestMaster(f, func(c *config.Master) {
		c.PillarRoots = map[string][]string{"base": {pillarRoot}}
		c.FileRoots = map[string][]string{"base": {fileRoot}}
		c.Nodegroups = map[string]any{"webs": "web-*"}
		c.MaxPendingKeys = 64
	})
	m.log = slog.New(slog.DiscardHandler)
	h := &fuzzHarness{m: m, fired: &fuzzFirer{}, jobs: &countingJobs{Cache: m.jobs}}
	m.events, m.jobs = h.fired, h.jobs
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	m.runCtx = ended
	a := newMinionSide(f, "web-1", "minion-a")
	if err := m.keys.Put(pki.Accepted, a.id, a.pub()); err != nil {
		f.Fatal(err)
	}
	if _, err := m.sessions.get(a.id); err != nil {
		f.Fatal(err)
	}
	h.a = a
	return h
}

// fuzzAESLoads are minion requests of every command the master serves.
func fuzzAESLoads(jid string) []wire.Map {
	id := wire.Field{Key: "id", Value: "web-1"}
	return []wire.Map{
		{id, {Key: "cmd", Value: "_minion_event"}, {Key: "pretag", Value: nil}, {Key: "data", Value: "Minion web-1 started"}, {Key: "tag", Value: "minion_start"}},
		{id, {Key: "cmd", Value: "_minion_event"}, {Key: "pretag", Value: "pre"}, {Key: "events", Value: []any{
			map[string]any{"tag": "a/b", "data": map[string]any{"x": 1}}, map[string]any{"tag": "c", "data": "d"}, "junk"}}},
		{{Key: "cmd", Value: "_return"}, id, {Key: "success", Value: true}, {Key: "return", Value: true}, {Key: "retcode", Value: 0},
			{Key: "jid", Value: jid}, {Key: "fun", Value: "test.ping"}, {Key: "fun_args", Value: []any{}}, {Key: "_stamp", Value: "2026-11-27T05:58:16.480000"}},
		{{Key: "cmd", Value: "_return"}, id, {Key: "success", Value: true}, {Key: "return", Value: "from salt-call"}, {Key: "jid", Value: "req"}, {Key: "fun", Value: "test.echo"}},
		{id, {Key: "grains", Value: map[string]any{"os": "Debian", "id": "web-1"}}, {Key: "saltenv", Value: nil}, {Key: "pillarenv", Value: nil},
			{Key: "pillar_override", Value: map[string]any{}}, {Key: "extra_minion_data", Value: map[string]any{}}, {Key: "ver", Value: "2"}, {Key: "cmd", Value: "_pillar"}},
		{id, {Key: "cmd", Value: "_master_opts"}, {Key: "env_only", Value: false}},
		{id, {Key: "cmd", Value: "_serve_file"}, {Key: "path", Value: "motd"}, {Key: "saltenv", Value: "base"}, {Key: "loc", Value: int64(0)}},
		{id, {Key: "cmd", Value: "_serve_file"}, {Key: "path", Value: "leak"}, {Key: "saltenv", Value: "base"}, {Key: "loc", Value: int64(0)}, {Key: "gzip", Value: int64(1)}},
		{id, {Key: "cmd", Value: "_file_hash"}, {Key: "path", Value: "salt://sub/a.sls"}, {Key: "saltenv", Value: "base"}},
		{id, {Key: "cmd", Value: "_file_hash_and_stat"}, {Key: "path", Value: "../outside/secret"}, {Key: "saltenv", Value: "base"}},
		{id, {Key: "cmd", Value: "_file_find"}, {Key: "path", Value: "sub/a.sls"}, {Key: "saltenv", Value: "base"}},
		{id, {Key: "cmd", Value: "_file_list"}, {Key: "saltenv", Value: "base"}, {Key: "prefix", Value: "sub"}},
		{id, {Key: "cmd", Value: "_symlink_list"}, {Key: "saltenv", Value: "base"}},
		{id, {Key: "cmd", Value: "_file_envs"}},
		{id, {Key: "cmd", Value: "_file_recv"}, {Key: "path", Value: []any{"x"}}, {Key: "loc", Value: int64(0)}, {Key: "data", Value: "x"}},
		{id, {Key: "cmd", Value: "__hidden"}},
		{id, {Key: "cmd", Value: "no_such_command"}},
	}
}

// FuzzHandle feeds the ret port's handler whole requests, the envelope
// and, for clear requests, the load: whatever the bytes, it answers (with
// msgpack) and never panics; an envelope that does not decode is answered
// "bad load", and a request refused so changes nothing (no event, no job,
// no key or session file). The seeds are real clear and AES requests
// (from the test minion, the CLI, Salt's captures).
func FuzzHandle(f *testing.F) {
	h := fuzzMaster(f)
	m, a := h.m, h.a
	root := m.rootKeys["root"]
	v, err := wire.UnmarshalMap(h.handle(publishReq(f, m, "*", "glob", root)))
	if err != nil {
		f.Fatal(err)
	}
	jid, _ := v["load"].(map[string]any)["jid"].(string)

	seeds := [][]byte{
		publishReq(f, m, "*", "glob", root),
		publishReq(f, m, "web-1,nobody", "list", root),
		publishReq(f, m, "G@os:Debian and web-*", "compound", root),
		publishReq(f, m, "webs", "nodegroup", root),
		publishReq(f, m, "*", "glob", "not the key"),
		request(f, &wire.Request{Enc: "clear", Version: 3, Load: wire.Map{{Key: "cmd", Value: "ping"}, {Key: "hello", Value: "world"}}}),
		request(f, &wire.Request{Enc: "clear", Version: 3, Load: wire.Map{{Key: "cmd", Value: "runner"}, {Key: "fun", Value: "jobs.lookup_jid"},
			{Key: "arg", Value: []any{jid}}, {Key: "key", Value: "not the key"}}}),
		request(f, &wire.Request{Enc: "clear", Version: 3, Load: wire.Map{{Key: "cmd", Value: "runner"}, {Key: "fun", Value: "manage.status"},
			{Key: "arg", Value: []any{}}, {Key: "key", Value: root}}}),
		request(f, &wire.Request{Enc: "clear", Version: 2, Load: wire.Map{{Key: "cmd", Value: "_prep_auth_info"}, {Key: "id", Value: "a\x00b"}}}),
	}
	for _, withToken := range []bool{false, true} {
		for _, ms := range []*minionSide{a, newMinionSide(f, "web-2", "minion-b")} {
			seeds = append(seeds, request(f, &wire.Request{Enc: "clear", Load: ms.authLoad(f, m, "21545c02f96847eeb020b32b1613c4f0", withToken), Version: 3}))
		}
	}
	for _, load := range fuzzAESLoads(jid) {
		raw, _ := aesRequest(f, m, a, a.id, load)
		v2 := v2Request(f, m, a, load)
		seeds = append(seeds, raw, v2)
		// The harness must reach the commands of both versions.
		if cmd, _ := load.Get("cmd"); cmd == "_master_opts" {
			for _, b := range [][]byte{raw, v2} {
				if answer := checkAnswer(f, h.handle(b)); refused(answer) {
					f.Fatalf("the _master_opts seed is refused: %v", answer)
				}
			}
		}
	}
	// Truncated and garbled envelopes.
	for _, raw := range seeds[:2] {
		seeds = append(seeds, raw[:1], raw[:len(raw)/2], raw[:len(raw)-1], append(bytes.Clone(raw), 0xc1))
	}
	seeds = append(seeds, nil, []byte("\xc1"), []byte("\x82\xa4load\x01\xa3enc\xa5clear"), []byte("\x81\xa4head\x80"))
	for _, b := range append(seeds, capturedRequests()...) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := h.state(t)
		reply := h.handle(raw)
		answer := checkAnswer(t, reply)
		_, envErr := wire.DecodeRequest(raw)
		if envErr != nil && !bytes.Equal(reply, errorReply(badLoad)) {
			t.Fatalf("an envelope that does not decode (%v) was answered %v, not %q", envErr, answer, badLoad)
		}
		if envErr != nil || refused(answer) {
			if after := h.state(t); after != before {
				t.Fatalf("a refused request (%v) changed the master's state:\nbefore %s\nafter  %s", answer, before, after)
			}
		}
	})
}

// FuzzHandleAES fuzzes what a minion's AES request carries once it has
// decrypted: the plaintext is sealed as web-1's version 3 request under
// its session key (a valid tok is in the seeds: X9.31 is deterministic),
// or as a version 2 one under the master's AES key. The answer must come,
// open under the key and nonce of the request, and carry no secret; a
// refused request changes nothing, and an accepted one with a nonce is
// refused when played again.
func FuzzHandleAES(f *testing.F) {
	h := fuzzMaster(f)
	m, a := h.m, h.a
	v, err := wire.UnmarshalMap(h.handle(publishReq(f, m, "*", "glob", m.rootKeys["root"])))
	if err != nil {
		f.Fatal(err)
	}
	jid, _ := v["load"].(map[string]any)["jid"].(string)
	tok, err := crypto.SignX931(rand.Reader, a.key, []byte("salt"))
	if err != nil {
		f.Fatal(err)
	}
	var opts []byte // the _master_opts request
	for i, load := range fuzzAESLoads(jid) {
		full := append(load, wire.Field{Key: "nonce", Value: "440ad92623684768bd15bee00c3889c6"},
			wire.Field{Key: "ts", Value: int64(1795759096 + i)}, wire.Field{Key: "tok", Value: tok})
		b, err := wire.Marshal(full)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(true, b)
		f.Add(false, b)
		f.Add(true, b[:len(b)/2])
		if cmd, _ := load.Get("cmd"); cmd == "_master_opts" {
			opts = b
		}
	}
	// A tok that does not verify.
	badTok := bytes.Clone(tok)
	badTok[len(badTok)-1] ^= 1
	b, err := wire.Marshal(append(fuzzAESLoads(jid)[0], wire.Field{Key: "nonce", Value: "440ad92623684768bd15bee00c3889c6"},
		wire.Field{Key: "ts", Value: int64(1795759096)}, wire.Field{Key: "tok", Value: badTok}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(true, b)
	f.Add(true, []byte("\xc0"))
	f.Add(false, []byte("\x91\x80"))
	sess, err := m.sessions.get(a.id)
	if err != nil {
		f.Fatal(err)
	}
	seal := func(t testing.TB, v3 bool, plain []byte) (*crypto.Crypticle, []byte) {
		c, env := m.aes.current().c, &wire.Request{Enc: "aes", Version: 2}
		if v3 {
			c, env = sess.c, &wire.Request{Enc: "aes", Version: 3, ID: a.id, EncAlgo: "OAEP-SHA1", SigAlgo: "PKCS1v15-SHA1"}
		}
		sealed, err := c.Seal(rand.Reader, "", plain)
		if err != nil {
			t.Fatal(err)
		}
		env.Load = sealed
		return c, request(t, env)
	}
	// The harness must reach the commands, or it fuzzes less than it says.
	for _, v3 := range []bool{false, true} {
		if _, raw := seal(f, v3, opts); refused(checkAnswer(f, h.handle(raw))) {
			f.Fatalf("the _master_opts seed (version 3: %v) is refused", v3)
		}
	}
	f.Fuzz(func(t *testing.T, v3 bool, plain []byte) {
		c, raw := seal(t, v3, plain)
		before := h.state(t)
		reply := h.handle(raw)
		answer := checkAnswer(t, reply)
		if bytes.Contains(reply, []byte(secretText)) {
			t.Fatalf("the answer carries the secret: %q", reply)
		}
		if refused(answer) {
			if after := h.state(t); after != before {
				t.Fatalf("a refused request (%v) changed the master's state:\nbefore %s\nafter  %s", answer, before, after)
			}
			return
		}
		load, _ := wire.UnmarshalMap(plain)
		nonce, _ := wire.OptString(load, "nonce")
		checkReplayRefused(t, h, raw, nonce)
		blob, ok := answer.([]byte)
		if !ok || len(blob) < 64 {
			return // an error string, or _pillar's own clear map
		}
		opened, err := c.Open(blob, nonce)
		if err != nil {
			t.Fatalf("the answer does not open under the request's key and nonce %q: %v", nonce, err)
		}
		if bytes.Contains(opened, []byte(secretText)) || bytes.Contains(opened, []byte("PRIVATE KEY")) {
			t.Fatalf("the answer carries a secret: %q", opened)
		}
	})
}

// checkReplayRefused plays an accepted request again, on the same replay
// guard: with a nonce, it must be refused and change nothing.
func checkReplayRefused(t *testing.T, h *fuzzHarness, raw []byte, nonce string) {
	t.Helper()
	if nonce == "" {
		return // versions before 2 send none: nothing to key on
	}
	before := h.state(t)
	if reply := h.m.handle(context.Background(), raw); !bytes.Equal(reply, errorReply(badLoad)) {
		t.Fatalf("a replayed request was answered %v", checkAnswer(t, reply))
	}
	if after := h.state(t); after != before {
		t.Fatalf("a replayed request changed the master's state:\nbefore %s\nafter  %s", before, after)
	}
}

// checkAnswer fails unless reply is an answer: a msgpack value.
func checkAnswer(t testing.TB, reply []byte) any {
	t.Helper()
	if reply == nil {
		t.Fatal("no answer")
	}
	v, err := wire.Unmarshal(reply)
	if err != nil {
		t.Fatalf("the answer is not msgpack: %v: %x", err, reply)
	}
	return v
}

// v2Request is a version 2 AES request of ms (under the master's AES
// key, with nonce and tok, no ts) for load.
func v2Request(t testing.TB, m *Master, ms *minionSide, load wire.Map) []byte {
	t.Helper()
	full, _ := channelLoad(t, ms, load)
	return sealRequest(t, m.aes.current().c, 2, ms.id, withoutField(full, "ts"))
}

// capturedRequests are the requests stock Salt minions and CLIs sent to a
// Salt master in the captures (frames/*_c2s_part1.bin on the ret port).
func capturedRequests() [][]byte {
	dir, ok := saltvectors.Find()
	if !ok {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "frames", "*-14506_c2s_part1.bin"))
	var out [][]byte
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, b)
		}
	}
	return out
}

package master

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport/wire"
)

// publishReq builds a local client's publish request.
func publishReq(t testing.TB, m *Master, tgt any, tgtType, key string) []byte {
	return request(t, &wire.Request{Enc: "clear", Version: 3, Load: wire.Map{
		{Key: "cmd", Value: "publish"}, {Key: "tgt", Value: tgt}, {Key: "fun", Value: "test.ping"},
		{Key: "arg", Value: []any{}}, {Key: "key", Value: key}, {Key: "tgt_type", Value: tgtType},
		{Key: "ret", Value: ""}, {Key: "jid", Value: ""}, {Key: "user", Value: "root"},
	}})
}

func TestPublish(t *testing.T) {
	m, rec := newTestMaster(t, func(c *config.Master) {
		c.Nodegroups = map[string]any{"webs": "web-*", "both": "N@webs or L@db-1"}
	})
	a := newMinionSide(t, "web-1", "minion-a")
	for _, id := range []string{"web-1", "web-2", "db-1"} {
		m.keys.Put(pki.Accepted, id, a.pub())
	}
	m.mcache.Put("web-1", map[string]any{"os": "Debian"}, nil)
	m.mcache.Put("db-1", map[string]any{"os": "Alpine"}, nil)
	ctx := context.Background()
	root := m.rootKeys["root"]

	got := describeReply(t, m, m.handle(ctx, publishReq(t, m, "*", "glob", "not the key")))
	if !strings.Contains(got, "AuthenticationError") {
		t.Fatalf("a bad key: %s", got)
	}
	for _, tc := range []struct {
		tgt      any
		tgtType  string
		minions  string
		missing  string
		errorHas string
	}{
		{"*", "glob", "[db-1 web-1 web-2]", "[]", ""},
		{"web-1,nobody", "list", "[web-1]", "[nobody]", ""},
		// web-2 has no cached grains: the master expects it (greedy).
		{"os:Debian", "grain", "[web-1 web-2]", "[]", ""},
		{"both", "nodegroup", "[db-1 web-1 web-2]", "[]", ""},
		{"nobody*", "glob", "", "", "could not resolve minions"},
		{"( web-1", "compound", "", "", "could not resolve minions"},
		{"x", "bogus_type", "", "", "could not resolve minions"},
	} {
		t.Run(fmt.Sprint(tc.tgtType, " ", tc.tgt), func(t *testing.T) {
			v, err := wire.UnmarshalMap(m.handle(ctx, publishReq(t, m, tc.tgt, tc.tgtType, root)))
			if err != nil {
				t.Fatal(err)
			}
			load, _ := v["load"].(map[string]any)
			if tc.errorHas != "" {
				if load["jid"] != nil || !strings.Contains(fmt.Sprint(load["error"]), tc.errorHas) {
					t.Fatalf("%v", load)
				}
				return
			}
			jid, _ := load["jid"].(string)
			mins := wire.Strings(load["minions"])
			slices.Sort(mins)
			if !jidValid(jid) || fmt.Sprint(mins) != tc.minions || fmt.Sprint(wire.Strings(load["missing"])) != tc.missing {
				t.Fatalf("reply %v; want minions %s missing %s", load, tc.minions, tc.missing)
			}
			job, err := m.jobs.Job(ctx, jid)
			if err != nil || job.Load["fun"] != "test.ping" {
				t.Fatalf("job cache: %+v %v", job, err)
			}
			if tc.tgtType == "nodegroup" && job.Load["tgt_type"] != "compound" {
				t.Fatalf("a nodegroup must go out expanded as a compound, got %v", job.Load["tgt_type"])
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			tags := []string{}
			for _, e := range rec.evs {
				tags = append(tags, e.tag)
			}
			if !slices.Contains(tags, jid) || !slices.Contains(tags, "salt/job/"+jid+"/new") {
				t.Fatalf("events %v lack %s and salt/job/%s/new", tags, jid, jid)
			}
		})
	}
}

func TestReturns(t *testing.T) {
	m, rec := newTestMaster(t, nil)
	a := newMinionSide(t, "web-1", "minion-a")
	m.keys.Put(pki.Accepted, a.id, a.pub())
	ctx := context.Background()
	v, _ := wire.UnmarshalMap(m.handle(ctx, publishReq(t, m, "*", "glob", m.rootKeys["root"])))
	jid := v["load"].(map[string]any)["jid"].(string)

	ret := func(jid string, value any) {
		raw, nonce := aesRequest(t, m, a, a.id, wire.Map{
			{Key: "cmd", Value: "_return"}, {Key: "id", Value: a.id}, {Key: "success", Value: true},
			{Key: "return", Value: value}, {Key: "retcode", Value: 0}, {Key: "jid", Value: jid},
			{Key: "fun", Value: "test.ping"}, {Key: "fun_args", Value: []any{}},
		})
		if got, err := openReply(t, m, a.id, nonce, m.handle(ctx, raw)); err != nil || got != nil {
			t.Fatalf("_return answered %v, %v", got, err)
		}
	}
	ret(jid, true)
	ret(jid, "a retried duplicate")
	rets, err := m.jobs.Returns(ctx, jid)
	if err != nil || len(rets) != 1 || rets["web-1"]["return"] != true {
		t.Fatalf("returns %v %v: the first return must stand", rets, err)
	}
	countRet := func(tag string) int {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := 0
		for _, e := range rec.evs {
			if e.tag == tag {
				n++
			}
		}
		return n
	}
	if n := countRet("salt/job/" + jid + "/ret/web-1"); n != 1 {
		t.Fatalf("%d return events, want 1", n)
	}
	// A return for a job the master never published is ignored.
	ret("20200101000000000000", true)
	if n := countRet("salt/job/20200101000000000000/ret/web-1"); n != 0 {
		t.Fatal("a return for an unknown job was fired")
	}
	// jid "req" (salt-call) gets a real jid and a job record.
	ret("req", "from salt-call")
	rec.mu.Lock()
	last := rec.evs[len(rec.evs)-1]
	rec.mu.Unlock()
	newJID, _ := last.data["jid"].(string)
	if !strings.HasPrefix(last.tag, "salt/job/") || !jidValid(newJID) || newJID == jid {
		t.Fatalf("req return fired %s %v", last.tag, last.data)
	}
}

// With zmq_filtering a glob publication goes once per minion, under the
// hex SHA-1 of its id.
func TestZMQFilteringTopics(t *testing.T) {
	m, _ := newTestMaster(t, func(c *config.Master) { c.ZMQFiltering = true })
	out, err := m.wrapPublication([][]byte{mustMarshal(t, map[string]any{"fun": "test.ping"})})
	if err != nil || len(out) != 1 || string(out[0][0]) != "broadcast" {
		t.Fatalf("pushed publication: %q %v", out, err)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := wire.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A minion's return is stored under its own id only, for a job the master
// published: one claiming another minion's id is refused, one for an
// unknown or invalid jid is dropped; none is stored or fired.
func TestReturnsRefused(t *testing.T) {
	m, rec := newTestMaster(t, nil)
	a := newMinionSide(t, "web-1", "minion-a")
	b := newMinionSide(t, "web-2", "minion-b")
	m.keys.Put(pki.Accepted, a.id, a.pub())
	m.keys.Put(pki.Accepted, b.id, b.pub())
	ctx := context.Background()
	v, _ := wire.UnmarshalMap(m.handle(ctx, publishReq(t, m, "*", "glob", m.rootKeys["root"])))
	jid := v["load"].(map[string]any)["jid"].(string)
	retLoad := func(id, jid string) wire.Map {
		return wire.Map{
			{Key: "cmd", Value: "_return"}, {Key: "id", Value: id}, {Key: "success", Value: true},
			{Key: "return", Value: "forged"}, {Key: "retcode", Value: 0}, {Key: "jid", Value: jid},
			{Key: "fun", Value: "test.ping"}, {Key: "fun_args", Value: []any{}},
		}
	}
	// dropped checks that a return is answered (as Salt does) but neither
	// stored nor fired.
	dropped := func(t *testing.T, raw []byte, nonce, jid string) {
		t.Helper()
		fired := rec.count()
		if got, err := openReply(t, m, a.id, nonce, m.handle(ctx, raw)); err != nil || got != nil {
			t.Fatalf("_return answered %v, %v", got, err)
		}
		if rets, _ := m.jobs.Returns(ctx, jid); len(rets) != 0 {
			t.Fatalf("stored %v", rets)
		}
		if rec.count() != fired {
			t.Fatal("fired an event")
		}
	}

	t.Run("load claims another minion", func(t *testing.T) {
		raw, _ := aesRequest(t, m, a, a.id, retLoad(b.id, jid))
		refusedAES(t, m, rec, raw)
	})
	t.Run("envelope claims another minion", func(t *testing.T) {
		// web-1 knows its own session key, not web-2's.
		raw, _ := aesRequest(t, m, a, b.id, retLoad(b.id, jid))
		refusedAES(t, m, rec, raw)
	})
	t.Run("version 2 claims another minion with its own tok", func(t *testing.T) {
		full, _ := channelLoad(t, a, retLoad(b.id, jid))
		refusedAES(t, m, rec, sealRequest(t, m.aes.current().c, 2, "", full))
	})
	t.Run("version 2 claims another minion without a tok", func(t *testing.T) {
		// The downgrade: every accepted minion holds the master AES key.
		full, _ := channelLoad(t, a, retLoad(b.id, jid))
		refusedAES(t, m, rec, sealRequest(t, m.aes.current().c, 2, "", withoutField(full, "tok")))
	})
	t.Run("unknown jid", func(t *testing.T) {
		raw, nonce := aesRequest(t, m, a, a.id, retLoad(a.id, "20200101000000000000"))
		dropped(t, raw, nonce, "20200101000000000000")
	})
	t.Run("invalid jid", func(t *testing.T) {
		raw, nonce := aesRequest(t, m, a, a.id, retLoad(a.id, "../../"+jid))
		dropped(t, raw, nonce, "../../"+jid)
	})
	if rets, _ := m.jobs.Returns(ctx, jid); len(rets) != 0 {
		t.Fatalf("refused returns were stored: %v", rets)
	}
	raw, nonce := aesRequest(t, m, a, a.id, retLoad(a.id, jid))
	if got, err := openReply(t, m, a.id, nonce, m.handle(ctx, raw)); err != nil || got != nil {
		t.Fatalf("web-1's own return: %v, %v", got, err)
	}
	if rets, _ := m.jobs.Returns(ctx, jid); len(rets) != 1 || rets[a.id] == nil {
		t.Fatalf("web-1's own return stored as %v", rets)
	}
}

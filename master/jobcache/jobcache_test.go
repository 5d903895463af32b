package jobcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/brine-project/brine/internal/jid"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path) // never returns
	}
	goleak.VerifyTestMain(m)
}

// t0 is the time of the jobs the tests make.
var t0 = time.Date(2026, time.November, 27, 5, 45, 7, 357865000, time.UTC)

// jidAt returns the jid of t0 + d.
func jidAt(d time.Duration) string { return jid.FromTime(t0.Add(d)) }

func openTest(t testing.TB, keep time.Duration) (Cache, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cache", "jobs.db")
	c, err := OpenBolt(path, keep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

func reopen(t testing.TB, c Cache, path string, keep time.Duration) Cache {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := OpenBolt(path, keep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// returnLoad is a _return load as the master gets it (PROTOCOL.md §6), in
// the wire package's value model so that it survives a round trip as is.
func returnLoad(j, id string) map[string]any {
	return map[string]any{
		"cmd": "_return", "id": id, "success": true, "return": true,
		"retcode": int64(0), "jid": j, "fun": "test.ping", "fun_args": []any{},
		"_stamp": "2026-11-27T05:45:07.412345", "ts": int64(1795671907),
		"nested": map[string]any{"float": 1.5, "none": nil, "bytes": []byte{0xff, 0x00}},
	}
}

func publishLoad(j string) map[string]any {
	return map[string]any{
		"fun": "test.ping", "arg": []any{}, "tgt": "*", "jid": j, "ret": "",
		"tgt_type": "glob", "user": "root",
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, path := openTest(t, 0)
	j := jidAt(0)
	job := Job{JID: j, Load: publishLoad(j), Minions: []string{"m1", "m2", "m3"}, StartTime: t0.Add(3 * time.Millisecond)}
	if err := c.SaveJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{}
	for _, id := range []string{"m1", "m2"} {
		want[id] = returnLoad(j, id)
		if err := c.AddReturn(ctx, j, id, want[id]); err != nil {
			t.Fatal(err)
		}
	}

	check := func(t *testing.T, c Cache) {
		got, err := c.Job(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, job) {
			t.Errorf("Job = %#v\nwant %#v", got, job)
		}
		rets, err := c.Returns(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rets, want) {
			t.Errorf("Returns = %#v\nwant %#v", rets, want)
		}
	}
	t.Run("open", func(t *testing.T) { check(t, c) })
	c = reopen(t, c, path, 0)
	t.Run("reopened", func(t *testing.T) { check(t, c) })

	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestSaveJobDefaultsAndReplace(t *testing.T) {
	ctx := context.Background()
	c, _ := openTest(t, 0)
	j := jidAt(0) + "_1234" // a unique_jid jid
	if err := c.SaveJob(ctx, Job{JID: j}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Job(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartTime.Equal(t0) || got.Load != nil || got.Minions != nil {
		t.Errorf("Job = %+v; want StartTime %v from the jid, no load, no minions", got, t0)
	}

	// Saving again replaces the record and keeps the returns.
	if err := c.AddReturn(ctx, j, "m1", returnLoad(j, "m1")); err != nil {
		t.Fatal(err)
	}
	if err := c.SaveJob(ctx, Job{JID: j, Minions: []string{"m1", "m2"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Job(ctx, j); !slices.Equal(got.Minions, []string{"m1", "m2"}) {
		t.Errorf("Minions after the second SaveJob = %v", got.Minions)
	}
	if rets, _ := c.Returns(ctx, j); len(rets) != 1 {
		t.Errorf("Returns after the second SaveJob = %v, want m1's", rets)
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	c, _ := openTest(t, 0)
	j := jidAt(0)
	if _, err := c.Job(ctx, j); !errors.Is(err, ErrNotFound) {
		t.Errorf("Job of an unknown jid: %v, want ErrNotFound", err)
	}
	if _, err := c.Returns(ctx, j); !errors.Is(err, ErrNotFound) {
		t.Errorf("Returns of an unknown jid: %v, want ErrNotFound", err)
	}

	// A saved job without returns has an empty map.
	if err := c.SaveJob(ctx, Job{JID: j}); err != nil {
		t.Fatal(err)
	}
	if rets, err := c.Returns(ctx, j); err != nil || rets == nil || len(rets) != 0 {
		t.Errorf("Returns of a job without returns = %v, %v; want an empty map", rets, err)
	}

	// A return for a job never saved is kept, but there is still no job.
	j2 := jidAt(time.Second)
	if err := c.AddReturn(ctx, j2, "m1", returnLoad(j2, "m1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Job(ctx, j2); !errors.Is(err, ErrNotFound) {
		t.Errorf("Job of a jid with only returns: %v, want ErrNotFound", err)
	}
	if rets, err := c.Returns(ctx, j2); err != nil || len(rets) != 1 {
		t.Errorf("Returns of a jid with only returns = %v, %v", rets, err)
	}
	jobs, err := c.Jobs(ctx, time.Time{})
	if err != nil || len(jobs) != 1 || jobs[0].JID != j {
		t.Errorf("Jobs = %v, %v; want only %s", jobs, err, j)
	}
}

func TestDuplicate(t *testing.T) {
	ctx := context.Background()
	c, _ := openTest(t, 0)
	j := jidAt(0)
	first := returnLoad(j, "m1")
	if err := c.AddReturn(ctx, j, "m1", first); err != nil {
		t.Fatal(err)
	}
	second := returnLoad(j, "m1")
	second["return"] = "changed"
	if err := c.AddReturn(ctx, j, "m1", second); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second AddReturn: %v, want ErrDuplicate", err)
	}
	rets, err := c.Returns(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rets["m1"], first) {
		t.Errorf("kept %v, want the first return", rets["m1"])
	}
}

func TestInvalidInput(t *testing.T) {
	ctx := context.Background()
	c, _ := openTest(t, 0)
	tests := []struct {
		name, jid, id string
	}{
		{"req", "req", "m1"},
		{"nocache", "nocache", "m1"},
		{"not a real time", "20261327054507357865", "m1"},
		{"short", "2026112705450735786", "m1"},
		{"empty id", jidAt(0), ""},
		{"long id", jidAt(0), string(make([]byte, 256))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.AddReturn(ctx, tt.jid, tt.id, map[string]any{}); err == nil {
				t.Error("AddReturn succeeded")
			}
			if tt.id != "" && len(tt.id) < 256 {
				if err := c.SaveJob(ctx, Job{JID: tt.jid}); err == nil {
					t.Error("SaveJob succeeded")
				}
			}
		})
	}
	// A value the encoder refuses.
	if err := c.AddReturn(ctx, jidAt(0), "m1", map[string]any{"ch": make(chan int)}); err == nil {
		t.Error("AddReturn of a channel succeeded")
	}
}

func TestJobsOrderAndSince(t *testing.T) {
	ctx := context.Background()
	c, _ := openTest(t, 0)
	// Saved out of order, listed in jid order.
	offsets := []time.Duration{3 * time.Hour, 0, time.Hour, 2 * time.Hour, time.Microsecond}
	for _, d := range offsets {
		if err := c.SaveJob(ctx, Job{JID: jidAt(d), Load: publishLoad(jidAt(d))}); err != nil {
			t.Fatal(err)
		}
	}
	// More than one read chunk.
	for i := range readChunk + 10 {
		d := 4*time.Hour + time.Duration(i)*time.Millisecond
		if err := c.SaveJob(ctx, Job{JID: jidAt(d)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		since time.Time
		first string
		n     int
	}{
		{"all", time.Time{}, jidAt(0), len(offsets) + readChunk + 10},
		{"since an exact jid", t0.Add(time.Hour), jidAt(time.Hour), 3 + readChunk + 10},
		{"since between jids", t0.Add(time.Nanosecond), jidAt(time.Microsecond), 4 + readChunk + 10},
		{"since after all", t0.Add(24 * time.Hour), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, err := c.Jobs(ctx, tt.since)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != tt.n {
				t.Fatalf("got %d jobs, want %d", len(jobs), tt.n)
			}
			if tt.n > 0 && jobs[0].JID != tt.first {
				t.Errorf("first job %s, want %s", jobs[0].JID, tt.first)
			}
			if !slices.IsSortedFunc(jobs, func(a, b Job) int { return cmpStr(a.JID, b.JID) }) {
				t.Error("jobs not in jid order")
			}
		})
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestExpire(t *testing.T) {
	ctx := context.Background()
	const keep = 24 * time.Hour
	c, path := openTest(t, keep)
	// Jobs every 10 minutes over two days, each with a return, plus one
	// return for a job that was never saved.
	var all []string
	for d := time.Duration(0); d < 48*time.Hour; d += 10 * time.Minute {
		j := jidAt(d)
		all = append(all, j)
		if err := c.SaveJob(ctx, Job{JID: j}); err != nil {
			t.Fatal(err)
		}
		if err := c.AddReturn(ctx, j, "m1", returnLoad(j, "m1")); err != nil {
			t.Fatal(err)
		}
	}
	orphan := jidAt(5 * time.Minute)
	if err := c.AddReturn(ctx, orphan, "m1", returnLoad(orphan, "m1")); err != nil {
		t.Fatal(err)
	}

	now := t0.Add(30 * time.Hour)
	n, err := c.Expire(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	// Older than now - keep = t0+6h, strictly: t0 .. t0+5h50m (36 jobs)
	// and the orphan.
	if n != 37 {
		t.Errorf("Expire deleted %d, want 37", n)
	}
	for _, j := range append(all, orphan) {
		tm, _ := jid.Time(j)
		old := tm.Before(now.Add(-keep))
		_, errJob := c.Job(ctx, j)
		_, errRet := c.Returns(ctx, j)
		gone := errors.Is(errJob, ErrNotFound) && errors.Is(errRet, ErrNotFound)
		if gone != old {
			t.Errorf("job %s (old: %v): Job err %v, Returns err %v", j, old, errJob, errRet)
		}
	}
	// Nothing more to do at the same time; a keep of 0 never expires.
	if n, err := c.Expire(ctx, now); n != 0 || err != nil {
		t.Errorf("second Expire = %d, %v", n, err)
	}
	c = reopen(t, c, path, 0)
	if n, err := c.Expire(ctx, now.Add(1000*time.Hour)); n != 0 || err != nil {
		t.Errorf("Expire with keep 0 = %d, %v", n, err)
	}
}

func TestExpireChunks(t *testing.T) {
	ctx := context.Background()
	c, _ := openTest(t, time.Hour)
	const jobs = 2*expireChunk + 7
	for i := range jobs {
		j := jidAt(time.Duration(i) * time.Second)
		if err := c.SaveJob(ctx, Job{JID: j}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := c.Expire(ctx, t0.Add(2*time.Hour))
	if n != jobs || err != nil {
		t.Errorf("Expire = %d, %v; want %d", n, err, jobs)
	}
	if left, _ := c.Jobs(ctx, time.Time{}); len(left) != 0 {
		t.Errorf("%d jobs left", len(left))
	}
}

func TestConcurrentAddReturn(t *testing.T) {
	ctx := context.Background()
	c, path := openTest(t, 0)
	const writers, each = 64, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				j := jidAt(time.Duration(i%4) * time.Second)
				id := fmt.Sprintf("m%03d-%02d", w, i)
				if err := c.AddReturn(ctx, j, id, returnLoad(j, id)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c = reopen(t, c, path, 0)
	total := 0
	for k := range 4 {
		j := jidAt(time.Duration(k) * time.Second)
		rets, err := c.Returns(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		for id, ret := range rets {
			if !reflect.DeepEqual(ret, returnLoad(j, id)) {
				t.Errorf("return of %s for %s differs", id, j)
			}
		}
		total += len(rets)
	}
	if total != writers*each {
		t.Errorf("%d returns stored, want %d", total, writers*each)
	}
}

func TestConcurrentDuplicates(t *testing.T) {
	ctx := context.Background()
	c, _ := openTest(t, 0)
	j := jidAt(0)
	const racers = 32
	results := make([]error, racers)
	var wg sync.WaitGroup
	for r := range racers {
		wg.Go(func() {
			ret := returnLoad(j, "m1")
			ret["racer"] = int64(r)
			results[r] = c.AddReturn(ctx, j, "m1", ret)
		})
	}
	wg.Wait()
	winner := -1
	for r, err := range results {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("racers %d and %d both stored", winner, r)
			}
			winner = r
		case !errors.Is(err, ErrDuplicate):
			t.Fatalf("racer %d: %v", r, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer stored its return")
	}
	rets, _ := c.Returns(ctx, j)
	if got := rets["m1"]["racer"]; got != int64(winner) {
		t.Errorf("stored racer %v, want the winner %d", got, winner)
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	c, _ := openTest(t, time.Hour)
	j := jidAt(0)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	checks := map[string]error{
		"SaveJob":   c.SaveJob(ctx, Job{JID: j}),
		"AddReturn": c.AddReturn(ctx, j, "m1", nil),
	}
	_, checks["Job"] = c.Job(ctx, j)
	_, checks["Returns"] = c.Returns(ctx, j)
	_, checks["Jobs"] = c.Jobs(ctx, time.Time{})
	_, checks["Expire"] = c.Expire(ctx, t0)
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	c, _ := openTest(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	j := jidAt(0)
	if err := c.AddReturn(ctx, j, "m1", nil); !errors.Is(err, context.Canceled) {
		// The writer may have taken the op before seeing ctx; then the
		// write is done and nil is fine.
		if err != nil {
			t.Errorf("AddReturn: %v", err)
		}
	}
	if _, err := c.Job(ctx, j); !errors.Is(err, context.Canceled) {
		t.Errorf("Job: %v, want context.Canceled", err)
	}
	if _, err := c.Expire(ctx, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("Expire: %v, want context.Canceled", err)
	}
}

func TestOpenBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	if err := os.WriteFile(path, []byte("not a bbolt file, but long enough to be read as one page or two..."), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := OpenBolt(path, 0); err == nil {
		c.Close()
		t.Fatal("OpenBolt of garbage succeeded")
	}
}

func TestNull(t *testing.T) {
	ctx := context.Background()
	c := Null()
	j := jidAt(0)
	if err := c.SaveJob(ctx, Job{JID: j}); err != nil {
		t.Error(err)
	}
	for range 2 { // no de-duplication either
		if err := c.AddReturn(ctx, j, "m1", returnLoad(j, "m1")); err != nil {
			t.Error(err)
		}
	}
	if _, err := c.Job(ctx, j); !errors.Is(err, ErrNotFound) {
		t.Errorf("Job: %v", err)
	}
	if _, err := c.Returns(ctx, j); !errors.Is(err, ErrNotFound) {
		t.Errorf("Returns: %v", err)
	}
	if jobs, err := c.Jobs(ctx, time.Time{}); len(jobs) != 0 || err != nil {
		t.Errorf("Jobs = %v, %v", jobs, err)
	}
	if n, err := c.Expire(ctx, t0); n != 0 || err != nil {
		t.Errorf("Expire = %d, %v", n, err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

func TestHasJob(t *testing.T) {
	c, err := OpenBolt(filepath.Join(t.TempDir(), "jobs.db"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	const jid = "20261127054507357865"
	if ok, err := c.HasJob(ctx, jid); ok || err != nil {
		t.Fatalf("before: %v %v", ok, err)
	}
	// A return alone does not make a job.
	if err := c.AddReturn(ctx, jid, "m1", map[string]any{"return": true}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.HasJob(ctx, jid); ok {
		t.Fatal("a return made a job")
	}
	if err := c.SaveJob(ctx, Job{JID: jid, Load: map[string]any{"fun": "test.ping"}, Minions: []string{"m1"}}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.HasJob(ctx, jid); !ok || err != nil {
		t.Fatalf("after SaveJob: %v %v", ok, err)
	}
}

package jid

import (
	"errors"
	"sort"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestNextFormat(t *testing.T) {
	// The jid of PROTOCOL.md §6: 2026-11-27 05:45:07.357865 UTC.
	at := time.Date(2026, time.November, 27, 5, 45, 7, 357865123, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"utc", at, "20261127054507357865"},
		{"local zone is converted", at.In(time.FixedZone("X", 5*3600+30*60)), "20261127054507357865"},
		{"zero microseconds", time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC), "20010203040506000000"},
		{"last microsecond", time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), "19991231235959999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Generator{Now: func() time.Time { return tt.t }}
			if got := g.Next(); got != tt.want {
				t.Errorf("Next() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNextZeroValueUsesNow(t *testing.T) {
	var g Generator
	before := time.Now().UTC().Truncate(time.Microsecond)
	j := g.Next()
	after := time.Now().UTC()
	got, err := Time(j)
	if err != nil {
		t.Fatalf("Time(%q): %v", j, err)
	}
	if got.Before(before) || got.After(after) {
		t.Errorf("jid %q is %v, not within [%v, %v]", j, got, before, after)
	}
}

func TestNextStrictlyIncreases(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: base}
	g := &Generator{Now: clock.Now}

	// A frozen clock: each jid is the last plus one microsecond.
	var got []string
	for range 3 {
		got = append(got, g.Next())
	}
	want := []string{"20260101000000000000", "20260101000000000001", "20260101000000000002"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("frozen clock: jid %d = %q, want %q", i, got[i], want[i])
		}
	}

	// The clock steps back an hour: still last + 1µs.
	clock.Set(base.Add(-time.Hour))
	if j := g.Next(); j != "20260101000000000003" {
		t.Errorf("after a step back: %q, want 20260101000000000003", j)
	}

	// The clock moves past the last jid: the jid follows the clock again.
	clock.Set(base.Add(time.Second))
	if j := g.Next(); j != "20260101000001000000" {
		t.Errorf("after the clock moved on: %q, want 20260101000001000000", j)
	}
}

func TestNextConcurrent(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	g := &Generator{Now: clock.Now}
	const workers, each = 8, 500
	out := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				out[w] = append(out[w], g.Next())
			}
		})
	}
	wg.Wait()

	seen := make(map[string]bool)
	for w := range out {
		// Each goroutine sees its own jids increase.
		if !sort.StringsAreSorted(out[w]) {
			t.Errorf("worker %d got jids out of order", w)
		}
		for _, j := range out[w] {
			if seen[j] {
				t.Fatalf("duplicate jid %q", j)
			}
			seen[j] = true
			if !Valid(j) {
				t.Fatalf("invalid jid %q", j)
			}
		}
	}
	if len(seen) != workers*each {
		t.Errorf("got %d distinct jids, want %d", len(seen), workers*each)
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"plain", "20261127054507357865", true},
		{"unique_jid suffix", "20261127054507357865_1234", true},
		{"suffix of one char", "20261127054507357865_1", true},
		{"underscore only", "20261127054507357865_", false},
		{"21 chars", "202611270545073578651", false},
		{"22 chars without underscore", "2026112705450735786512", false},
		{"19 digits", "2026112705450735786", false},
		{"letter", "2026112705450735786x", false},
		{"sign", "+2026112705450735786", false},
		{"space", " 2026112705450735786", false},
		{"empty", "", false},
		{"req", "req", false},
		{"nocache", "nocache", false},
		// Salt's is_jid does not check the date; neither does Valid.
		{"month 13 is still a jid", "20261327054507357865", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.s); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		name    string
		jid     string
		want    time.Time
		wantErr bool
	}{
		{"plain", "20261127054507357865", time.Date(2026, 11, 27, 5, 45, 7, 357865000, time.UTC), false},
		{"suffix ignored", "20261127054507357865_42", time.Date(2026, 11, 27, 5, 45, 7, 357865000, time.UTC), false},
		{"leap day", "20240229000000000000", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), false},
		{"not a leap year", "20250229000000000000", time.Time{}, true},
		{"month 13", "20261327054507357865", time.Time{}, true},
		{"month 0", "20260027054507357865", time.Time{}, true},
		{"day 31 in November", "20261131054507357865", time.Time{}, true},
		{"hour 24", "20261127244507357865", time.Time{}, true},
		{"minute 60", "20261127056007357865", time.Time{}, true},
		{"second 60", "20261127054560357865", time.Time{}, true},
		{"not a jid", "req", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Time(tt.jid)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("Time(%q) = %v, %v; want ErrInvalid", tt.jid, got, err)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("Time(%q) = %v, %v; want %v", tt.jid, got, err, tt.want)
			}
		})
	}
}

func TestTimeRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 27, 5, 45, 7, 357865000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	} {
		j := FromTime(tm)
		got, err := Time(j)
		if err != nil || !got.Equal(tm) {
			t.Errorf("Time(FromTime(%v)) = %v, %v", tm, got, err)
		}
	}
	if j := FromTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); Valid(j) {
		t.Errorf("FromTime(year 10000) = %q, a valid jid", j)
	}
	if j := FromTime(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)); Valid(j) {
		t.Errorf("FromTime(year -1) = %q, a valid jid", j)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		jid  string
		want string
	}{
		{"protocol example", "20261127054507357865", "2026, Nov 27 05:45:07.357865"},
		// The case from Salt's own tests/unit/utils/test_jid.py.
		{"salt test", "20131219110700123489", "2013, Dec 19 11:07:00.123489"},
		{"suffix", "20130101000000000000_99", "2013, Jan 01 00:00:00.000000"},
		{"month 0 is empty as in calendar.month_abbr", "20130001000000000000", "2013,  01 00:00:00.000000"},
		{"month 13", "20131301000000000000", ""},
		{"wrong length", "2012", ""},
		{"not digits", "2013121911070012348x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.jid); got != tt.want {
				t.Errorf("Format(%q) = %q, want %q", tt.jid, got, tt.want)
			}
		})
	}
}

func BenchmarkNext(b *testing.B) {
	var g Generator
	b.ReportAllocs()
	for b.Loop() {
		g.Next()
	}
}

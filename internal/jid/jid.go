// Package jid makes and reads Salt's job ids.
//
// A jid is the UTC time a job was created, formatted "%Y%m%d%H%M%S%f": 20
// digits down to the microsecond, e.g. "20261127054507357865". Salt may add
// "_<pid>" (unique_jid), so a jid is 20 digits optionally followed by '_'
// and at least one more character. Because the digits go from the year down
// to the microsecond, jids sort by time as plain strings, which the job
// cache relies on.
package jid

import (
	"errors"
	"sync"
	"time"
)

// Len is the length of a jid without a suffix.
const Len = 20

// ErrInvalid is returned by Time for a string that is not a jid or whose
// digits are not a real date and time.
var ErrInvalid = errors.New("jid: invalid job id")

// Generator hands out jids that strictly increase, as Salt's gen_jid does
// with unique_jid (but without the "_<pid>" suffix): when the clock has not
// moved on since the last jid, or has stepped back, the next jid is the last
// one plus a microsecond.
//
// The zero value is ready to use and reads time.Now. A Generator is safe for
// concurrent use; it must not be copied after first use.
type Generator struct {
	// Now, if set, replaces time.Now (tests inject a clock here). Set it
	// before the first call to Next.
	Now func() time.Time

	mu   sync.Mutex
	last int64 // mu guards last: microseconds since the Unix epoch of the last jid
}

// Next returns a new jid, greater (as a string and as a time) than every jid
// this Generator returned before.
func (g *Generator) Next() string {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	// Microseconds since the epoch, compared as integers: this uses the
	// wall clock only (a monotonic reading would hide a clock step), which
	// is what the jid encodes.
	us := now().UnixMicro()
	g.mu.Lock()
	if us <= g.last {
		us = g.last + 1
	}
	g.last = us
	g.mu.Unlock()
	return FromTime(time.UnixMicro(us))
}

// FromTime formats t (in UTC, truncated to the microsecond) as a jid. Years
// outside 0 to 9999 do not fit the format and give a jid that is not Valid.
func FromTime(t time.Time) string {
	t = t.UTC()
	var b [Len]byte
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	put(b[0:4], year)
	put(b[4:6], int(month))
	put(b[6:8], day)
	put(b[8:10], hour)
	put(b[10:12], minute)
	put(b[12:14], sec)
	put(b[14:20], t.Nanosecond()/1000)
	return string(b[:])
}

// put writes v as len(dst) decimal digits, zero padded; a v that does not
// fit (or is negative) writes '?' so the result is not a jid.
func put(dst []byte, v int) {
	if v < 0 {
		for i := range dst {
			dst[i] = '?'
		}
		return
	}
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
	if v != 0 {
		dst[0] = '?'
	}
}

// Valid reports whether s is a jid the way Salt's is_jid decides: 20
// characters, or at least 22 with '_' at index 20, and the first 20 are an
// integer. Salt's int() would also take a sign, surrounding spaces or '_'
// between digits there; Valid takes only the 20 ASCII digits gen_jid
// writes. The special values "req" and "nocache" are not jids.
func Valid(s string) bool {
	if len(s) != Len && (len(s) < Len+2 || s[Len] != '_') {
		return false
	}
	for i := range Len {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Time returns the UTC time jid encodes. It fails with ErrInvalid when jid
// is not Valid or its digits are not a real time (month 13, February 30).
func Time(jid string) (time.Time, error) {
	if !Valid(jid) {
		return time.Time{}, ErrInvalid
	}
	year := digits(jid[0:4])
	month := digits(jid[4:6])
	day := digits(jid[6:8])
	hour := digits(jid[8:10])
	minute := digits(jid[10:12])
	sec := digits(jid[12:14])
	us := digits(jid[14:20])
	t := time.Date(year, time.Month(month), day, hour, minute, sec, us*1000, time.UTC)
	// time.Date normalizes out-of-range fields (month 13 is next January);
	// a jid that does not come back unchanged was not a real time.
	if month < 1 || month > 12 || t.Day() != day || t.Hour() != hour ||
		t.Minute() != minute || t.Second() != sec || int(t.Month()) != month {
		return time.Time{}, ErrInvalid
	}
	return t, nil
}

// digits parses s, which holds ASCII digits only.
func digits(s string) int {
	n := 0
	for i := range len(s) {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// months are calendar.month_abbr, which Salt's jid_to_time indexes by the
// month number; index 0 is the empty string there too.
var months = [13]string{"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Format renders jid as Salt's jid_to_time does, the StartTime that
// salt-run jobs.list_jobs shows: "2026, Nov 27 05:45:07.357865". Like Salt
// it only cuts the digits apart (a day 31 in November stays 31), and gives
// "" for a string that is not Valid. Salt raises on a month above 12; Format
// returns "" for it.
func Format(jid string) string {
	if !Valid(jid) {
		return ""
	}
	month := digits(jid[4:6])
	if month > 12 {
		return ""
	}
	return jid[0:4] + ", " + months[month] + " " + jid[6:8] + " " +
		jid[8:10] + ":" + jid[10:12] + ":" + jid[12:14] + "." + jid[14:20]
}

package wire

import (
	"fmt"
	"time"
)

// MaxDepth is how deeply arrays, maps and Constants may nest, on decoding and
// on encoding. Salt's own data (grains, returns, pillar) stays far below it;
// the limit is there so that hostile input cannot exhaust the stack.
const MaxDepth = 100

// Ext type codes Salt registers in salt.payload.
const (
	ExtDatetime = 78 // datetime.datetime / datetime.date as "%Y%m%dT%H:%M:%S.%f"
	ExtConstant = 79 // salt.defaults._Constant as msgpack [name, value] (use_bin_type=True)
)

// Map is a msgpack map that keeps its order. Salt writes maps in Python's
// insertion order and signs some of them as bytes, so a map that must come
// out as Salt writes it is built as a Map. UnmarshalOrdered returns one for
// every map. The zero value is an empty map.
type Map []Field

// Field is one entry of a Map.
type Field struct {
	Key   string
	Value any
}

// Get returns the value of the field named key (the last one, if the key
// repeats).
func (m Map) Get(key string) (any, bool) {
	// The last occurrence wins, as in a Python dict built from the same
	// pairs (and as the decoder keeps them).
	for i := len(m) - 1; i >= 0; i-- {
		if m[i].Key == key {
			return m[i].Value, true
		}
	}
	return nil, false
}

// Keys returns the keys of m in order.
func (m Map) Keys() []string {
	keys := make([]string, len(m))
	for i := range m {
		keys[i] = m[i].Key
	}
	return keys
}

// Constant is Salt's salt.defaults._Constant (ext 79), a named sentinel such
// as NOT_SET that Salt sends as itself rather than as a plain value.
type Constant struct {
	Name  string
	Value any
}

// datetimeLayout is Salt's "%Y%m%dT%H:%M:%S.%f" in Go's notation.
const datetimeLayout = "20060102T15:04:05.000000"

// appendDatetime appends t as Salt's ext 78 payload. Python's datetimes in
// Salt are naive and almost always UTC (jids, _stamp), so t is written as
// its UTC wall clock, to the microsecond (%f), truncating anything finer.
func appendDatetime(dst []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		// Python's datetime holds years 1 to 9999 only.
		return dst, fmt.Errorf("%w: time %v is outside the years 1-9999 a Python datetime holds", ErrType, t)
	}
	return t.AppendFormat(dst, datetimeLayout), nil
}

// parseDatetime parses an ext 78 payload as Python's
// strptime(s, "%Y%m%dT%H:%M:%S.%f") would, for the form Salt writes: a
// 4-digit year, 2-digit fields, and 1 to 6 digits of fraction. It returns a
// UTC time; Python's is naive.
func parseDatetime(b []byte) (time.Time, error) {
	// YYYYMMDDTHH:MM:SS.f{1,6}
	if len(b) < 19 || len(b) > 24 || b[8] != 'T' || b[11] != ':' || b[14] != ':' || b[17] != '.' {
		return time.Time{}, fmt.Errorf("wire: datetime %q is not in %%Y%%m%%dT%%H:%%M:%%S.%%f form", b)
	}
	num := func(p []byte) (int, bool) {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[4:6])
	day, ok3 := num(b[6:8])
	hour, ok4 := num(b[9:11])
	minute, ok5 := num(b[12:14])
	sec, ok6 := num(b[15:17])
	frac, ok7 := num(b[18:])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return time.Time{}, fmt.Errorf("wire: datetime %q has a non-digit where a digit belongs", b)
	}
	for range 24 - len(b) { // scale the fraction to microseconds, as %f does
		frac *= 10
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, frac*1000, time.UTC)
	// time.Date normalises (Feb 30 becomes Mar 2); Python rejects instead.
	if year < 1 || t.Year() != year || t.Month() != time.Month(month) || t.Day() != day ||
		t.Hour() != hour || t.Minute() != minute || t.Second() != sec {
		return time.Time{}, fmt.Errorf("wire: datetime %q is out of range", b)
	}
	return t, nil
}

// keyString turns a decoded map key into a Go map key (see the package doc).
func keyString(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case []byte:
		return string(k)
	}
	return fmt.Sprint(k)
}

// KindOf names the kind of a decoded value, as FieldError reports it:
// "nil", "bool", "int", "float", "string", "bytes", "list", "map",
// "datetime", "constant", or the Go type for anything else.
func KindOf(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return "bool"
	case int64, uint64, int, int32, uint32, int16, uint16, int8, uint8, uint:
		return "int"
	case float64, float32:
		return "float"
	case string:
		return "string"
	case []byte:
		return "bytes"
	case []any:
		return "list"
	case map[string]any, Map:
		return "map"
	case time.Time:
		return "datetime"
	case Constant:
		return "constant"
	}
	return fmt.Sprintf("%T", v)
}

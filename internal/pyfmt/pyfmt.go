// Package pyfmt is Python's str() and repr() of Salt values, exactly as
// CPython 3 prints them.
//
// Salt shows values the way Python prints them: the raw and txt outputters
// print str(return), and targeting compares str(grain).lower() with a
// pattern, so Brine has to print True, None, 2.0, 1e+16, "it's",
// b'\x00' and datetime.datetime(2026, 1, 2, 3, 4) where Go would print
// something else.
//
// The values are those of transport/wire, standing for the Python values
// Salt holds after decoding them:
//
//	nil                      None
//	bool                     True, False
//	int64, uint64, int       int
//	float64                  float
//	string                   str; bytes if it is not valid UTF-8
//	[]byte                   bytes
//	[]any                    list
//	wire.Map, map[string]any dict
//	time.Time                a naive datetime.datetime, in UTC
//	wire.Constant            salt.defaults._Constant
//
// A Python dict prints in insertion order. A wire.Map keeps that order and
// prints each key once, at its first position with its last value, as the
// dict Salt builds from the same pairs; a map[string]any has no order, so
// its keys print sorted. A Go string that is not valid UTF-8 prints as the
// bytes it holds (b'\xff'), because that is what Salt keeps for text that
// does not decode (salt.payload.loads leaves such str and map keys as
// bytes); wire decodes those to []byte, except map keys, which stay Go
// strings. A time.Time prints as its UTC wall clock, as wire encodes it.
//
// Values a Go program builds itself print as the Python value they stand
// for: the other integer and float kinds as int and float, other slices and
// arrays as lists, []byte-like slices as bytes, other maps with string
// keys as dicts with sorted keys. Anything else prints as fmt's %v.
//
// A str repr escapes the characters str.isprintable rejects. IsPrintable
// takes them from Go's unicode tables, so it agrees with a CPython whose
// unicodedata has the Unicode version of unicode.Version (15.0.0 for Go
// 1.26 and CPython 3.12); an older CPython, such as 3.10 with Unicode
// 13.0.0, also escapes the characters assigned since its version.
//
// The Append functions allocate only to grow b, except to sort the keys of
// a Go map, to look for a repeated key in a wire.Map of more than 32
// fields (and to drop it), and for the values printed through reflect. All
// functions are safe for concurrent use.
package pyfmt

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/brine-project/brine/transport/wire"
)

// MaxDepth is how deeply lists and dicts are printed: one nested in more
// than MaxDepth others prints as [...] or {...}, the way Python prints a
// container that holds itself. Decoded values stay within wire.MaxDepth;
// the bound is there for values built in Go, which can hold themselves.
const MaxDepth = 10 * wire.MaxDepth

// Repr returns Python's repr(v).
func Repr(v any) string { return string(AppendRepr(nil, v)) }

// Str returns Python's str(v).
func Str(v any) string { return string(AppendStr(nil, v)) }

// AppendRepr appends Python's repr(v) to b.
func AppendRepr(b []byte, v any) []byte { return appendRepr(b, v, 0) }

// AppendStr appends Python's str(v) to b: a str is itself, a datetime is
// its isoformat(' '), and anything else is its repr.
func AppendStr(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		if utf8.ValidString(v) {
			return append(b, v...)
		}
	case time.Time:
		return AppendDatetimeStr(b, v)
	}
	if b, ok := appendScalar(b, v); ok {
		return b
	}
	return appendRepr(b, v, 0)
}

func appendRepr(b []byte, v any, depth int) []byte {
	if b, ok := appendScalar(b, v); ok {
		return b
	}
	switch v := v.(type) {
	case wire.Constant:
		// salt.defaults._Constant's repr: <Constant.NAME>, or
		// <Constant.NAME value=VALUE> when the value is true in Python's
		// sense, VALUE being its str().
		b = append(b, "<Constant."...)
		b = append(b, v.Name...)
		if truthy(v.Value) {
			b = append(b, " value="...)
			switch c := v.Value.(type) {
			case string:
				if utf8.ValidString(c) {
					b = append(b, c...)
					break
				}
				b = AppendStrRepr(b, c)
			case time.Time:
				b = AppendDatetimeStr(b, c)
			default:
				b = appendRepr(b, c, depth+1)
			}
		}
		return append(b, '>')
	case []any:
		if depth > MaxDepth {
			return append(b, "[...]"...)
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendRepr(b, e, depth+1)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendStrRepr(b, e)
		}
		return append(b, ']')
	case wire.Map:
		if depth > MaxDepth {
			return append(b, "{...}"...)
		}
		if hasDuplicateKey(v) {
			v = dedup(v)
		}
		b = append(b, '{')
		for i, f := range v {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendStrRepr(b, f.Key)
			b = append(b, ": "...)
			b = appendRepr(b, f.Value, depth+1)
		}
		return append(b, '}')
	case map[string]any:
		if depth > MaxDepth {
			return append(b, "{...}"...)
		}
		b = append(b, '{')
		for i, k := range sortedKeys(v) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendStrRepr(b, k)
			b = append(b, ": "...)
			b = appendRepr(b, v[k], depth+1)
		}
		return append(b, '}')
	case map[string]string:
		b = append(b, '{')
		for i, k := range sortedKeys(v) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendStrRepr(b, k)
			b = append(b, ": "...)
			b = AppendStrRepr(b, v[k])
		}
		return append(b, '}')
	}
	// The Go types outside the value model print by their kind. (This is
	// not a function of its own: escape analysis gives up on mutual
	// recursion, and b, and every caller's buffer, would escape.)
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		b, _ = appendScalar(b, rv.Bool())
		return b
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, rv.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return AppendFloatRepr(b, rv.Float())
	case reflect.String:
		return AppendStrRepr(b, rv.String())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return AppendBytesRepr(b, rv.Bytes())
		}
		if depth > MaxDepth {
			return append(b, "[...]"...)
		}
		b = append(b, '[')
		for i := range rv.Len() {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendRepr(b, rv.Index(i).Interface(), depth+1)
		}
		return append(b, ']')
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		if depth > MaxDepth {
			return append(b, "{...}"...)
		}
		b = append(b, '{')
		for i, k := range sortedMapKeys(rv) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendStrRepr(b, k.String())
			b = append(b, ": "...)
			b = appendRepr(b, rv.MapIndex(k).Interface(), depth+1)
		}
		return append(b, '}')
	}
	return fmt.Append(b, v)
}

// appendScalar appends repr(v) when v is not a container, and reports
// whether it was. It is apart from appendRepr so that printing a scalar,
// which targeting does per minion and publication, needs only a small
// stack frame.
func appendScalar(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(b, "None"...), true
	case bool:
		if v {
			return append(b, "True"...), true
		}
		return append(b, "False"...), true
	case string:
		return AppendStrRepr(b, v), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case uint64:
		return strconv.AppendUint(b, v, 10), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case float64:
		return AppendFloatRepr(b, v), true
	case []byte:
		return AppendBytesRepr(b, v), true
	case time.Time:
		return AppendDatetimeRepr(b, v), true
	case int8:
		return strconv.AppendInt(b, int64(v), 10), true
	case int16:
		return strconv.AppendInt(b, int64(v), 10), true
	case int32:
		return strconv.AppendInt(b, int64(v), 10), true
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), true
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10), true
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10), true
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), true
	case float32:
		return AppendFloatRepr(b, float64(v)), true
	}
	return b, false
}

// sortedMapKeys returns the keys of a map with string keys, sorted.
func sortedMapKeys(rv reflect.Value) []reflect.Value {
	keys := rv.MapKeys()
	slices.SortFunc(keys, func(x, y reflect.Value) int { return strings.Compare(x.String(), y.String()) })
	return keys
}

// sortedKeys returns the keys of m sorted as Python's sorted() orders
// str: by code point, which is the byte order of UTF-8.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// hasDuplicateKey reports whether a key occurs twice in m. Decoded maps
// never repeat a key; the check is there for maps built in Go.
func hasDuplicateKey(m wire.Map) bool {
	if len(m) > 32 {
		seen := make(map[string]struct{}, len(m))
		for _, f := range m {
			if _, ok := seen[f.Key]; ok {
				return true
			}
			seen[f.Key] = struct{}{}
		}
		return false
	}
	for i := 1; i < len(m); i++ {
		for j := range i {
			if m[i].Key == m[j].Key {
				return true
			}
		}
	}
	return false
}

// dedup returns the fields of m with each key once: at the place it first
// appeared, holding the value it last had, as a Python dict built from the
// same pairs.
func dedup(m wire.Map) wire.Map {
	at := make(map[string]int, len(m))
	out := make(wire.Map, 0, len(m))
	for _, f := range m {
		if i, ok := at[f.Key]; ok {
			out[i].Value = f.Value
			continue
		}
		at[f.Key] = len(out)
		out = append(out, f)
	}
	return out
}

// truthy is Python's bool(v).
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case int64:
		return v != 0
	case uint64:
		return v != 0
	case int:
		return v != 0
	case float64:
		return v != 0
	case string:
		return v != ""
	case []byte:
		return len(v) != 0
	case []any:
		return len(v) != 0
	case wire.Map:
		return len(v) != 0
	case map[string]any:
		return len(v) != 0
	}
	return true
}

// AppendFloatRepr appends Python's repr() of a float, which is also its
// str(): the shortest digits that read back as f, positional when the
// decimal exponent is in [-4, 16) and always with a fraction (2.0,
// 0.0001), scientific otherwise with a sign and at least two exponent
// digits (1e+16, 1.5e-05), and nan, inf and -inf.
func AppendFloatRepr(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	if math.Signbit(f) {
		b = append(b, '-')
		f = -f
	}
	if f == 0 {
		return append(b, "0.0"...)
	}
	// 'e' with precision -1 gives the shortest digits that round-trip as
	// d[.ddd]e±XX, Python's own form for the scientific range.
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	n := len(e) - 4 // e[n] is 'e' unless the exponent has three digits
	for e[n] != 'e' {
		n--
	}
	exp := 0
	for _, c := range e[n+2:] {
		exp = exp*10 + int(c-'0')
	}
	if e[n+1] == '-' {
		exp = -exp
	}
	if exp < -4 || exp >= 16 {
		return append(b, e...)
	}
	// The digits without the point: d.ddd → dddd.
	digits := e[:n]
	if len(digits) > 1 {
		digits = append(digits[:1], digits[2:]...)
	}
	point := exp + 1 // the digits are 0.dddd × 10^point
	switch {
	case point <= 0:
		b = append(b, "0."...)
		for range -point {
			b = append(b, '0')
		}
		return append(b, digits...)
	case point >= len(digits):
		b = append(b, digits...)
		for range point - len(digits) {
			b = append(b, '0')
		}
		return append(b, ".0"...)
	}
	b = append(b, digits[:point]...)
	b = append(b, '.')
	return append(b, digits[point:]...)
}

// AppendStrRepr appends Python's repr() of a str: in single quotes unless
// s holds a ' and no ", with backslash escapes for that quote, for \ and
// for \t, \n and \r, and \xhh, \uhhhh or \Uhhhhhhhh for the other
// characters IsPrintable rejects. A string that is not valid UTF-8 is
// bytes to Salt and appends as AppendBytesRepr does.
func AppendStrRepr(b []byte, s string) []byte {
	start := len(b)
	q := quote(strings.IndexByte(s, '\'') >= 0, strings.IndexByte(s, '"') >= 0)
	b = append(b, q)
	for i := 0; i < len(s); {
		// Runs of characters that need no escape go in at once.
		j := i
		for j < len(s) && plain(s[j], q) {
			j++
		}
		b = append(b, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			b = appendASCII(b, c, q)
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			return appendBytesRepr(b[:start], s, q)
		case IsPrintable(r):
			b = append(b, s[i:i+w]...)
		default:
			b = appendEscape(b, r)
		}
		i += w
	}
	return append(b, q)
}

// AppendBytesRepr appends Python's repr() of bytes: b'...' with the quote
// chosen as for a str, the same short escapes, and \xhh for every other
// byte outside printable ASCII.
func AppendBytesRepr(b []byte, p []byte) []byte {
	return appendBytesRepr(b, p, quote(bytes.IndexByte(p, '\'') >= 0, bytes.IndexByte(p, '"') >= 0))
}

func appendBytesRepr[T string | []byte](b []byte, p T, q byte) []byte {
	b = append(b, 'b', q)
	for i := 0; i < len(p); {
		j := i
		for j < len(p) && plain(p[j], q) {
			j++
		}
		b = append(b, p[i:j]...)
		if i = j; i == len(p) {
			break
		}
		if c := p[i]; c >= utf8.RuneSelf {
			b = append(b, `\x`...)
			b = appendHex(b, uint32(c), 2)
		} else {
			b = appendASCII(b, c, q)
		}
		i++
	}
	return append(b, q)
}

// quote is the quote Python's repr puts around text: ' unless the text
// holds a ' and no ".
func quote(single, double bool) byte {
	if single && !double {
		return '"'
	}
	return '\''
}

// plain reports whether c stands for itself between quotes q in a repr.
func plain(c, q byte) bool {
	return 0x20 <= c && c < 0x7f && c != q && c != '\\'
}

// appendASCII appends c as it appears between quotes q in a repr.
func appendASCII(b []byte, c, q byte) []byte {
	switch {
	case c == q || c == '\\':
		return append(b, '\\', c)
	case c == '\t':
		return append(b, `\t`...)
	case c == '\n':
		return append(b, `\n`...)
	case c == '\r':
		return append(b, `\r`...)
	case c < 0x20 || c == 0x7f:
		b = append(b, `\x`...)
		return appendHex(b, uint32(c), 2)
	}
	return append(b, c)
}

// appendEscape appends the escape repr uses for a non-ASCII character that
// is not printable: the shortest of \xhh, \uhhhh and \Uhhhhhhhh.
func appendEscape(b []byte, r rune) []byte {
	switch {
	case r <= 0xff:
		b = append(b, `\x`...)
		return appendHex(b, uint32(r), 2)
	case r <= 0xffff:
		b = append(b, `\u`...)
		return appendHex(b, uint32(r), 4)
	}
	b = append(b, `\U`...)
	return appendHex(b, uint32(r), 8)
}

// appendHex appends the width low hex digits of v in lower case, as
// Python's escapes have them.
func appendHex(b []byte, v uint32, width int) []byte {
	const digits = "0123456789abcdef"
	for shift := (width - 1) * 4; shift >= 0; shift -= 4 {
		b = append(b, digits[(v>>shift)&0xf])
	}
	return b
}

// IsPrintable is Python's str.isprintable() for one character: false for
// the categories Cc, Cf, Cs, Co, Cn, Zl, Zp, and Zs other than the space,
// which are the characters a str repr escapes. Go's unicode.IsPrint draws
// the same line, for the Unicode version of Go's tables.
func IsPrintable(r rune) bool {
	if r < utf8.RuneSelf {
		return 0x20 <= r && r < 0x7f
	}
	return unicode.IsPrint(r)
}

// AppendDatetimeRepr appends Python's repr() of the naive datetime Salt
// decodes its ext 78 into: datetime.datetime(Y, M, D, h, m[, s[, us]]),
// the seconds and microseconds left out when they (and what follows) are
// 0. The fields are t's in UTC, to the microsecond.
func AppendDatetimeRepr(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = append(b, "datetime.datetime("...)
	b = strconv.AppendInt(b, int64(t.Year()), 10)
	for _, n := range [...]int{int(t.Month()), t.Day(), t.Hour(), t.Minute()} {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	sec, us := t.Second(), t.Nanosecond()/1000
	if sec != 0 || us != 0 {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(sec), 10)
	}
	if us != 0 {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(us), 10)
	}
	return append(b, ')')
}

// AppendDatetimeStr appends Python's str() of a naive datetime, its
// isoformat(' '): 2006-01-02 15:04:05, with .ffffff only when the
// microseconds are not 0. The fields are t's in UTC.
func AppendDatetimeStr(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = t.AppendFormat(b, "2006-01-02 15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		for div := 100000; div > 0; div /= 10 {
			b = append(b, byte('0'+us/div%10))
		}
	}
	return b
}

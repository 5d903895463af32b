package target

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/brine-project/brine/transport/wire"
)

// Salt compares a grain or pillar value with a pattern as
// str(value).lower() (subdict_match's _match), so a value matches as
// Python prints it: True, None, 2, 2.0, ['a', 'b'], {'k': 'v'}. The
// functions here print Go values that way. Dicts print in insertion order
// in Python; a Go map has none, so its keys print sorted (a wire.Map keeps
// its order).

// maxReprDepth bounds how deeply appendPyRepr descends, in case a Go value
// refers to itself (Python prints such a value as [...]).
const maxReprDepth = 64

// appendPyStr appends Python's str(v).
func appendPyStr(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return append(b, v...)
	case time.Time:
		return appendPyDatetime(b, v, false)
	}
	return appendPyRepr(b, v, 0)
}

// appendPyRepr appends Python's repr(v).
func appendPyRepr(b []byte, v any, depth int) []byte {
	if depth > maxReprDepth {
		return append(b, "..."...)
	}
	switch v := v.(type) {
	case nil:
		return append(b, "None"...)
	case string:
		return appendPyStrRepr(b, v)
	case bool:
		if v {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int16:
		return strconv.AppendInt(b, int64(v), 10)
	case int8:
		return strconv.AppendInt(b, int64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10)
	case float64:
		return appendPyFloat(b, v)
	case float32:
		return appendPyFloat(b, float64(v))
	case []byte:
		return appendPyBytesRepr(b, v)
	case time.Time:
		return appendPyDatetime(b, v, true)
	case wire.Constant:
		return append(b, v.Name...)
	case wire.Map:
		b = append(b, '{')
		for i, f := range v {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyStrRepr(b, f.Key)
			b = append(b, ": "...)
			b = appendPyRepr(b, f.Value, depth+1)
		}
		return append(b, '}')
	}
	switch kindOf(v) {
	case vList:
		b = append(b, '[')
		for i := range listLen(v) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyRepr(b, listAt(v, i), depth+1)
		}
		return append(b, ']')
	case vDict:
		keys := make([]string, 0, dictLen(v))
		dictRange(v, func(k string, _ any) bool {
			keys = append(keys, k)
			return false
		})
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			val, _ := dictGet(v, k)
			b = appendPyStrRepr(b, k)
			b = append(b, ": "...)
			b = appendPyRepr(b, val, depth+1)
		}
		return append(b, '}')
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, rv.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return appendPyFloat(b, rv.Float())
	case reflect.String:
		return appendPyStrRepr(b, rv.String())
	case reflect.Bool:
		return appendPyRepr(b, rv.Bool(), depth)
	}
	return fmt.Append(b, v)
}

// appendPyFloat appends Python's repr of a float: the shortest digits that
// round-trip, positional from 1e-4 up to below 1e16 and always with a
// fraction (2.0), scientific outside that with a two-digit exponent at
// least (1e+16, 1.5e-05).
func appendPyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	exp := 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			exp, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	if exp < -4 || exp >= 16 {
		return append(b, e...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}

// appendPyStrRepr appends Python's repr of a str: single quotes unless the
// text has a ' and no ", backslash escapes for the quote, \\, \t, \n, \r
// and for what Python deems unprintable.
func appendPyStrRepr(b []byte, s string) []byte {
	q := byte('\'')
	if containsByte(s, '\'') && !containsByte(s, '"') {
		q = '"'
	}
	b = append(b, q)
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			// Python strings are code points, never bad UTF-8; show the
			// byte as a surrogate escape would.
			b = append(b, `\udc`...)
			b = appendHex(b, uint64(s[i]), 2)
			i++
			continue
		}
		i += w
		b = appendPyEscaped(b, r, q)
	}
	return append(b, q)
}

func appendPyEscaped(b []byte, r rune, q byte) []byte {
	switch {
	case r == rune(q) || r == '\\':
		return append(b, '\\', byte(r))
	case r == '\t':
		return append(b, `\t`...)
	case r == '\n':
		return append(b, `\n`...)
	case r == '\r':
		return append(b, `\r`...)
	case r < 0x20 || r == 0x7f:
		b = append(b, `\x`...)
		return appendHex(b, uint64(r), 2)
	case r < 0x80 || unicode.IsPrint(r):
		return utf8.AppendRune(b, r)
	case r <= 0xff:
		b = append(b, `\x`...)
		return appendHex(b, uint64(r), 2)
	case r <= 0xffff:
		b = append(b, `\u`...)
		return appendHex(b, uint64(r), 4)
	}
	b = append(b, `\U`...)
	return appendHex(b, uint64(r), 8)
}

// appendPyBytesRepr appends Python's repr of bytes: b'...'.
func appendPyBytesRepr(b []byte, p []byte) []byte {
	q := byte('\'')
	if slices.Contains(p, '\'') && !slices.Contains(p, '"') {
		q = '"'
	}
	b = append(b, 'b', q)
	for _, c := range p {
		switch {
		case c == q || c == '\\':
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < 0x20 || c >= 0x7f:
			b = append(b, `\x`...)
			b = appendHex(b, uint64(c), 2)
		default:
			b = append(b, c)
		}
	}
	return append(b, q)
}

// appendPyDatetime appends str() or repr() of a naive datetime.datetime,
// which is what Salt's msgpack datetime extension decodes to.
func appendPyDatetime(b []byte, t time.Time, repr bool) []byte {
	us := t.Nanosecond() / 1000
	if !repr {
		b = t.AppendFormat(b, "2006-01-02 15:04:05")
		if us != 0 {
			b = fmt.Appendf(b, ".%06d", us)
		}
		return b
	}
	b = fmt.Appendf(b, "datetime.datetime(%d, %d, %d, %d, %d", t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute())
	if t.Second() != 0 || us != 0 {
		b = fmt.Appendf(b, ", %d", t.Second())
	}
	if us != 0 {
		b = fmt.Appendf(b, ", %d", us)
	}
	return append(b, ')')
}

func appendHex(b []byte, v uint64, width int) []byte {
	const digits = "0123456789abcdef"
	for i := width - 1; i >= 0; i-- {
		b = append(b, digits[(v>>(4*uint(i)))&0xf])
	}
	return b
}

func containsByte(s string, c byte) bool {
	for i := range len(s) {
		if s[i] == c {
			return true
		}
	}
	return false
}

// appendLower appends s lowercased as Python's str.lower() does: rune by
// rune with Unicode's mapping, İ becoming i̇ (two code points). Bytes that
// are not UTF-8 are kept. Python's final-sigma rule (Σ → ς at the end of a
// word) is not applied.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			b = append(b, c)
		case r == 'İ':
			b = append(b, "i\u0307"...)
		default:
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
		i += w
	}
	return b
}

// lowerBytes lowercases b, in place when it is ASCII.
func lowerBytes(b []byte) []byte {
	for i, c := range b {
		if c >= utf8.RuneSelf {
			return appendLower(b[:i:i], string(b[i:]))
		}
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// isLowerASCII reports whether lowering s leaves it as it is because it is
// ASCII without capitals.
func isLowerASCII(s string) bool {
	for i := range len(s) {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

package pyfmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/brine-project/brine/internal/fuzzinput"
	"github.com/brine-project/brine/transport/wire"
)

// FuzzRepr checks that repr() reads back as the value it was made from,
// through parseLiteral, a reader of the Python literals repr writes that
// accepts only the form CPython would print: the quote CPython would
// choose, an escape only for what is not printable, and the shortest one.
// A round trip through it therefore checks the text, not only that it can
// be read.
func FuzzRepr(f *testing.F) {
	for _, s := range []string{
		"", "a", "it's", `"'`, "\\\t\n\r\x00\x7f", "é\u00a0\u200b\U0001f600\U000e0001",
		"a\xffb", "\xed\xa0\x80", "\x03\x00\x02\x05\x01\x04abc\x08\x09",
		"\x09\x03\x01a\x01\x05\x02b\x08\x02\x00\x04\x01\x07\x01\x02\x03\x04\x05\x06\x07\x08",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		roundTrip(t, s)
		roundTrip(t, data)
		roundTrip(t, valueFrom{fuzzinput.New(data)}.value(0))
		if len(data) >= 8 {
			roundTrip(t, math.Float64frombits(binary.LittleEndian.Uint64(data)))
		}
		// str() of a str is the str itself, when it is one.
		if utf8.ValidString(s) && Str(s) != s {
			t.Fatalf("str(%q) = %q", s, Str(s))
		}
	})
}

func roundTrip(t *testing.T, v any) {
	t.Helper()
	out := AppendRepr([]byte("prefix"), v)
	if !bytes.HasPrefix(out, []byte("prefix")) {
		t.Fatalf("AppendRepr lost the prefix: %q", out)
	}
	out = out[len("prefix"):]
	if !utf8.Valid(out) {
		t.Fatalf("repr(%#v) is not UTF-8: %q", v, out)
	}
	if again := Repr(v); again != string(out) {
		t.Fatalf("repr(%#v) twice: %s and %s", v, out, again)
	}
	got, err := parseLiteral(string(out))
	if err != nil {
		t.Fatalf("repr(%#v) = %s: %v", v, out, err)
	}
	if want := pythonValue(v); !equal(got, want) {
		t.Fatalf("repr(%#v) = %s, which reads back as %#v", v, out, got)
	}
}

// pythonValue is what Python holds for v, in the form parseLiteral
// returns: a dict as a wire.Map without repeated keys, in its iteration
// order; an int as int64 when it fits; a str that is not UTF-8 as bytes.
func pythonValue(v any) any {
	switch v := v.(type) {
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v)
		}
	case string:
		if !utf8.ValidString(v) {
			return []byte(v)
		}
	case []byte:
		if v == nil {
			return []byte{}
		}
	case time.Time:
		return v.UTC().Truncate(time.Microsecond)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = pythonValue(e)
		}
		return out
	case map[string]any:
		m := make(wire.Map, 0, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			m = append(m, wire.Field{Key: k, Value: pythonValue(v[k])})
		}
		return m
	case wire.Map:
		m := dedup(v)
		for i := range m {
			m[i].Value = pythonValue(m[i].Value)
		}
		return m
	}
	return v
}

// equal is reflect.DeepEqual for the values of the model, with NaN equal
// to NaN (repr has one nan) and 0.0 and -0.0 told apart.
func equal(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		if math.IsNaN(a) {
			return ok && math.IsNaN(b)
		}
		return ok && math.Float64bits(a) == math.Float64bits(b)
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b)
	case []any:
		b, ok := b.([]any)
		return ok && slices.EqualFunc(a, b, equal)
	case wire.Map:
		b, ok := b.(wire.Map)
		return ok && slices.EqualFunc(a, b, func(x, y wire.Field) bool {
			return x.Key == y.Key && equal(x.Value, y.Value)
		})
	}
	return a == b
}

// valueFrom builds a value of the model from fuzz input: each byte picks
// a type, and the bytes after it give its content.
type valueFrom struct{ *fuzzinput.Input }

func (g valueFrom) str() string { return g.Str(24) }

func (g valueFrom) value(depth int) any {
	kind := g.Byte() % 11
	if depth > 6 && kind >= 8 {
		kind = 5
	}
	switch kind {
	case 0:
		return nil
	case 1:
		return g.Byte()%2 == 0
	case 2:
		return int64(g.Uint64())
	case 3:
		return g.Uint64()
	case 4:
		return math.Float64frombits(g.Uint64())
	case 5:
		return g.str()
	case 6:
		return []byte(g.str())
	case 7:
		// Years 1 to 9999, as Python's datetime has them.
		const span = 253402300800 + 62135596800 // 0001-01-01 to 10000-01-01
		return time.Unix(int64(g.Uint64()%span)-62135596800, int64(g.Uint64()%1e9)).UTC()
	case 8:
		l := make([]any, g.Byte()%5)
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return l
	case 9:
		n := int(g.Byte() % 5)
		m := make(map[string]any, n)
		for range n {
			m[g.str()] = g.value(depth + 1)
		}
		return m
	}
	n := int(g.Byte() % 5)
	m := make(wire.Map, n)
	for i := range m {
		m[i] = wire.Field{Key: g.str(), Value: g.value(depth + 1)}
	}
	return m
}

// parseLiteral reads the Python literal repr writes for a value of the
// model, and rejects any other spelling of it.
func parseLiteral(s string) (any, error) {
	p := &litParser{s: s}
	v, err := p.value()
	if err != nil {
		return nil, fmt.Errorf("at %d: %w", p.i, err)
	}
	if p.i != len(s) {
		return nil, fmt.Errorf("at %d: trailing text", p.i)
	}
	return v, nil
}

type litParser struct {
	s string
	i int
}

func (p *litParser) eat(prefix string) bool {
	if strings.HasPrefix(p.s[p.i:], prefix) {
		p.i += len(prefix)
		return true
	}
	return false
}

func (p *litParser) value() (any, error) {
	for _, w := range []struct {
		lit string
		v   any
	}{{"None", nil}, {"True", true}, {"False", false}, {"nan", math.NaN()}, {"inf", math.Inf(1)}, {"-inf", math.Inf(-1)}} {
		if p.eat(w.lit) {
			return w.v, nil
		}
	}
	if p.i >= len(p.s) {
		return nil, errors.New("no value")
	}
	switch c := p.s[p.i]; {
	case c == '\'' || c == '"':
		return p.str()
	case c == 'b':
		b, err := p.bytes()
		return b, err
	case c == '[':
		return p.list()
	case c == '{':
		return p.dict()
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case p.eat("datetime.datetime("):
		return p.datetime()
	}
	return nil, errors.New("no value")
}

func (p *litParser) number() (any, error) {
	start := p.i
	isFloat := false
	for p.i < len(p.s) && strings.IndexByte("0123456789-+.e", p.s[p.i]) >= 0 {
		if c := p.s[p.i]; c == '.' || c == 'e' {
			isFloat = true
		}
		p.i++
	}
	text := p.s[start:p.i]
	if !isFloat {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil && strconv.FormatInt(n, 10) == text {
			return n, nil
		}
		if n, err := strconv.ParseUint(text, 10, 64); err == nil && strconv.FormatUint(n, 10) == text && n > math.MaxInt64 {
			return n, nil
		}
		return nil, fmt.Errorf("bad int %q", text)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, err
	}
	// The shortest digits are checked by the round trip; the form here.
	if e := strings.IndexByte(text, 'e'); e >= 0 {
		exp := text[e+1:]
		if len(exp) < 3 || exp[0] != '+' && exp[0] != '-' || len(exp) > 3 && exp[1] == '0' {
			return nil, fmt.Errorf("bad exponent in %q", text)
		}
		if a := math.Abs(f); 1e-4 <= a && a < 1e16 {
			return nil, fmt.Errorf("%q is positional in Python", text)
		}
	} else if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return nil, fmt.Errorf("%q is scientific in Python", text)
	}
	return f, nil
}

// quoted reads a quoted body for str (text) or bytes (!text), checking
// that the quote is the one repr picks.
func (p *litParser) quoted(text bool) (string, error) {
	q := p.s[p.i]
	p.i++
	var out []byte
	sawSingle, sawDouble := false, false
	for {
		if p.i >= len(p.s) {
			return "", errors.New("unterminated literal")
		}
		c := p.s[p.i]
		if c == q {
			p.i++
			break
		}
		if c != '\\' {
			r, w := utf8.DecodeRuneInString(p.s[p.i:])
			if !IsPrintable(r) || !text && r >= utf8.RuneSelf {
				return "", fmt.Errorf("%U written as it is", r)
			}
			sawSingle = sawSingle || r == '\''
			sawDouble = sawDouble || r == '"'
			out = append(out, p.s[p.i:p.i+w]...)
			p.i += w
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			return "", errors.New("lone backslash")
		}
		e := p.s[p.i]
		p.i++
		var r rune
		switch e {
		case '\\':
			out = append(out, '\\')
			continue
		case '\'', '"':
			if e != q {
				return "", fmt.Errorf("needless escape of %c", e)
			}
			sawSingle = sawSingle || e == '\''
			sawDouble = sawDouble || e == '"'
			out = append(out, e)
			continue
		case 't':
			out = append(out, '\t')
			continue
		case 'n':
			out = append(out, '\n')
			continue
		case 'r':
			out = append(out, '\r')
			continue
		case 'x':
			r = p.hex(2)
		case 'u':
			r = p.hex(4)
			if r <= 0xff {
				return "", fmt.Errorf("\\u for %U", r)
			}
		case 'U':
			r = p.hex(8)
			if r <= 0xffff {
				return "", fmt.Errorf("\\U for %U", r)
			}
		default:
			return "", fmt.Errorf("unknown escape \\%c", e)
		}
		switch {
		case r < 0:
			return "", errors.New("bad hex escape")
		case r == '\t' || r == '\n' || r == '\r':
			return "", fmt.Errorf("hex escape for %q", r)
		case !text:
			if 0x20 <= r && r < 0x7f {
				return "", fmt.Errorf("needless escape of %q", r)
			}
			out = append(out, byte(r))
		case IsPrintable(r) || r > unicode.MaxRune || 0xd800 <= r && r <= 0xdfff:
			return "", fmt.Errorf("escape of %U", r)
		default:
			out = utf8.AppendRune(out, r)
		}
	}
	want := byte('\'')
	if sawSingle && !sawDouble {
		want = '"'
	}
	if q != want {
		return "", fmt.Errorf("quote %c where Python uses %c", q, want)
	}
	return string(out), nil
}

func (p *litParser) hex(n int) rune {
	if p.i+n > len(p.s) {
		return -1
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+n]) {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		default:
			return -1
		}
	}
	p.i += n
	return r
}

func (p *litParser) str() (string, error) { return p.quoted(true) }

func (p *litParser) bytes() ([]byte, error) {
	p.i++ // b
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return nil, errors.New("b without a quote")
	}
	s, err := p.quoted(false)
	return []byte(s), err
}

func (p *litParser) list() (any, error) {
	p.i++
	l := []any{}
	for !p.eat("]") {
		if len(l) > 0 && !p.eat(", ") {
			return nil, errors.New("list items not separated by ', '")
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
	return l, nil
}

func (p *litParser) dict() (any, error) {
	p.i++
	m := wire.Map{}
	for !p.eat("}") {
		if len(m) > 0 && !p.eat(", ") {
			return nil, errors.New("dict items not separated by ', '")
		}
		if p.i >= len(p.s) {
			return nil, errors.New("unterminated dict")
		}
		var k string
		var err error
		if p.s[p.i] == 'b' {
			var b []byte
			b, err = p.bytes()
			if err == nil && utf8.Valid(b) {
				err = errors.New("bytes key that is UTF-8")
			}
			k = string(b)
		} else {
			k, err = p.str()
		}
		if err != nil {
			return nil, err
		}
		if !p.eat(": ") {
			return nil, errors.New("key not followed by ': '")
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if _, dup := m.Get(k); dup {
			return nil, fmt.Errorf("key %q twice", k)
		}
		m = append(m, wire.Field{Key: k, Value: v})
	}
	return m, nil
}

func (p *litParser) datetime() (any, error) {
	var f []int
	for !p.eat(")") {
		if len(f) > 0 && !p.eat(", ") {
			return nil, errors.New("datetime fields not separated by ', '")
		}
		v, err := p.number()
		if err != nil {
			return nil, err
		}
		n, ok := v.(int64)
		if !ok || n < 0 {
			return nil, fmt.Errorf("datetime field %v", v)
		}
		f = append(f, int(n))
	}
	switch {
	case len(f) < 5 || len(f) > 7:
		return nil, fmt.Errorf("datetime with %d fields", len(f))
	case len(f) == 7 && f[6] == 0, len(f) == 6 && f[5] == 0:
		return nil, errors.New("datetime with a needless 0")
	}
	f = append(f, 0, 0)
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], f[6]*1000, time.UTC)
	if t.Year() != f[0] || int(t.Month()) != f[1] || t.Day() != f[2] || t.Hour() != f[3] ||
		t.Minute() != f[4] || t.Second() != f[5] || f[6] > 999999 {
		return nil, errors.New("datetime out of range")
	}
	return t, nil
}

package pyfmt

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/transport/wire"
)

// The wants below are what CPython 3.12 prints.

func TestAppendStrRepr(t *testing.T) {
	for _, tc := range []struct {
		name, s, want string
	}{
		{"empty", "", `''`},
		{"plain", "Debian", `'Debian'`},
		{"single quote", "it's", `"it's"`},
		{"double quote", `say "hi"`, `'say "hi"'`},
		{"both quotes", `a'"b`, `'a\'"b'`},
		{"both quotes double first", `"'`, `'"\''`},
		{"backslash", `a\b`, `'a\\b'`},
		{"backslash quote", `\'`, `"\\'"`},
		{"short escapes", "\t\n\r", `'\t\n\r'`},
		{"controls", "\x00\x01\x07\x0b\x0c\x1b\x1f\x7f", `'\x00\x01\x07\x0b\x0c\x1b\x1f\x7f'`},
		{"latin-1 printable", "é ß ÿ", `'é ß ÿ'`},
		{"latin-1 unprintable", "\u0080\u0085\u009f\u00a0\u00ad", `'\x80\x85\x9f\xa0\xad'`},
		{"bmp printable", "Ω Ж 中文 ✓ \ufffd", "'Ω Ж 中文 ✓ \ufffd'"},
		{"bmp unprintable", "\u200b\u2028\u2029\u3000\ue000\ufeff\uffff", `'\u200b\u2028\u2029\u3000\ue000\ufeff\uffff'`},
		{"combining", "e\u0301", "'e\u0301'"},
		{"astral printable", "\U0001f600\U00010348", "'\U0001f600\U00010348'"},
		{"astral unprintable", "\U000e0001\U000f0000\U0010ffff", `'\U000e0001\U000f0000\U0010ffff'`},
		{"space is printable", " a ", `' a '`},
		{"not UTF-8 is bytes", "a\xffb", `b'a\xffb'`},
		{"not UTF-8 with a quote", "it's\xc3", `b"it's\xc3"`},
		{"surrogate bytes", "\xed\xa0\x80", `b'\xed\xa0\x80'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendStrRepr(nil, tc.s)); got != tc.want {
				t.Errorf("repr(%q) = %s, want %s", tc.s, got, tc.want)
			}
		})
	}
}

func TestAppendBytesRepr(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []byte
		want string
	}{
		{"empty", []byte{}, `b''`},
		{"nil", nil, `b''`},
		{"text", []byte("ab c"), `b'ab c'`},
		{"single quote", []byte("it's\x80"), `b"it's\x80"`},
		{"both quotes", []byte(`'"`), `b'\'"'`},
		{"escapes", []byte("\\\t\n\r\x00\x1f\x7f"), `b'\\\t\n\r\x00\x1f\x7f'`},
		{"high bytes", []byte{0x80, 0xc3, 0xa9, 0xff}, `b'\x80\xc3\xa9\xff'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendBytesRepr(nil, tc.p)); got != tc.want {
				t.Errorf("repr(%q) = %s, want %s", tc.p, got, tc.want)
			}
		})
	}
}

// Variables, so that the compiler computes in float64 rather than exactly.
var tenth, three = 0.1, 3.0

func TestAppendFloatRepr(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    float64
		want string
	}{
		{"zero", 0, "0.0"},
		{"negative zero", math.Copysign(0, -1), "-0.0"},
		{"whole", 2, "2.0"},
		{"negative", -2.5, "-2.5"},
		{"short", 0.1, "0.1"},
		{"short sum", tenth + 2*tenth, "0.30000000000000004"},
		{"two thirds", 2 / three, "0.6666666666666666"},
		{"fraction", 123456789.125, "123456789.125"},
		{"1e15", 1e15, "1000000000000000.0"},
		{"below 1e16", 9999999999999998, "9999999999999998.0"},
		{"1e16", 1e16, "1e+16"},
		{"1.5e16", 1.5e16, "1.5e+16"},
		{"1e22", 1e22, "1e+22"},
		{"1e100", 1e100, "1e+100"},
		{"max", math.MaxFloat64, "1.7976931348623157e+308"},
		{"1e-4", 1e-4, "0.0001"},
		{"1.5e-4", 1.5e-4, "0.00015"},
		{"1e-5", 1e-5, "1e-05"},
		{"1.5e-5", 1.5e-5, "1.5e-05"},
		{"smallest normal", 2.2250738585072014e-308, "2.2250738585072014e-308"},
		{"smallest", 5e-324, "5e-324"},
		{"2^63", 1 << 63, "9.223372036854776e+18"},
		{"float32", float64(float32(0.1)), "0.10000000149011612"},
		{"inf", math.Inf(1), "inf"},
		{"-inf", math.Inf(-1), "-inf"},
		{"nan", math.NaN(), "nan"},
		{"negative nan", math.Copysign(math.NaN(), -1), "nan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendFloatRepr(nil, tc.f)); got != tc.want {
				t.Errorf("repr(%v) = %s, want %s", tc.f, got, tc.want)
			}
		})
	}
}

func TestAppendDatetime(t *testing.T) {
	for _, tc := range []struct {
		name      string
		t         time.Time
		repr, str string
	}{
		{"minutes", time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
			"datetime.datetime(2026, 1, 2, 3, 4)", "2026-01-02 03:04:00"},
		{"midnight", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
			"datetime.datetime(2026, 1, 2, 0, 0)", "2026-01-02 00:00:00"},
		{"seconds", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			"datetime.datetime(2026, 1, 2, 3, 4, 5)", "2026-01-02 03:04:05"},
		{"microseconds", time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
			"datetime.datetime(2026, 1, 2, 3, 4, 5, 6)", "2026-01-02 03:04:05.000006"},
		{"microseconds only", time.Date(2026, 1, 2, 0, 0, 0, 1000, time.UTC),
			"datetime.datetime(2026, 1, 2, 0, 0, 0, 1)", "2026-01-02 00:00:00.000001"},
		{"most microseconds", time.Date(2026, 12, 31, 23, 59, 59, 999999000, time.UTC),
			"datetime.datetime(2026, 12, 31, 23, 59, 59, 999999)", "2026-12-31 23:59:59.999999"},
		{"nanoseconds are cut", time.Date(2026, 1, 2, 3, 4, 5, 999, time.UTC),
			"datetime.datetime(2026, 1, 2, 3, 4, 5)", "2026-01-02 03:04:05"},
		{"year 1", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			"datetime.datetime(1, 1, 1, 0, 0)", "0001-01-01 00:00:00"},
		{"year 999", time.Date(999, 9, 9, 9, 9, 9, 10000000, time.UTC),
			"datetime.datetime(999, 9, 9, 9, 9, 9, 10000)", "0999-09-09 09:09:09.010000"},
		{"in UTC", time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)),
			"datetime.datetime(2026, 1, 2, 2, 4, 5)", "2026-01-02 02:04:05"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendDatetimeRepr(nil, tc.t)); got != tc.repr {
				t.Errorf("repr = %s, want %s", got, tc.repr)
			}
			if got := string(AppendDatetimeStr(nil, tc.t)); got != tc.str {
				t.Errorf("str = %s, want %s", got, tc.str)
			}
		})
	}
}

// Go types outside the value model, as a minion may build them.
type (
	myString string
	myInt    int16
	myBytes  []byte
	myList   []int
	myMap    map[myString]float64
)

func TestAppendRepr(t *testing.T) {
	dt := time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"none", nil, "None"},
		{"true", true, "True"},
		{"false", false, "False"},
		{"int64", int64(-42), "-42"},
		{"min int64", int64(math.MinInt64), "-9223372036854775808"},
		{"uint64", uint64(math.MaxUint64), "18446744073709551615"},
		{"int", 7, "7"},
		{"float", 2.0, "2.0"},
		{"str", "Debian", "'Debian'"},
		{"bytes", []byte("ab"), "b'ab'"},
		{"datetime", dt, "datetime.datetime(2024, 1, 2, 3, 4)"},
		{"empty list", []any{}, "[]"},
		{"nil list", []any(nil), "[]"},
		{"list", []any{int64(1), "a", nil, true, 1.5}, "[1, 'a', None, True, 1.5]"},
		{"nested list", []any{[]any{"console", "ttyS0"}, []any{}}, "[['console', 'ttyS0'], []]"},
		{"quote choice per item", []any{"it's", `q"`, `b'"th`}, `["it's", 'q"', 'b\'"th']`},
		{"escapes in a list", []any{"\n\x01é\u200b\\"}, `['\n\x01é\u200b\\']`},
		{"empty dict", map[string]any{}, "{}"},
		{"dict sorted", map[string]any{"b": int64(1), "a": "x", "é": nil, "B": 2.5}, "{'B': 2.5, 'a': 'x', 'b': 1, 'é': None}"},
		{"many keys sorted", map[string]any{
			"q": 1, "p": 1, "o": 1, "n": 1, "m": 1, "l": 1, "k": 1, "j": 1, "i": 1,
			"h": 1, "g": 1, "f": 1, "e": 1, "d": 1, "c": 1, "b": 1, "a": 1,
		}, "{'a': 1, 'b': 1, 'c': 1, 'd': 1, 'e': 1, 'f': 1, 'g': 1, 'h': 1, 'i': 1, 'j': 1, 'k': 1, 'l': 1, 'm': 1, 'n': 1, 'o': 1, 'p': 1, 'q': 1}"},
		{"wire.Map in order", wire.Map{{Key: "b", Value: int64(1)}, {Key: "a", Value: "x"}}, "{'b': 1, 'a': 'x'}"},
		{"wire.Map repeated key", wire.Map{{Key: "a", Value: int64(1)}, {Key: "b", Value: int64(2)}, {Key: "a", Value: int64(3)}},
			"{'a': 3, 'b': 2}"},
		{"key quoting", wire.Map{{Key: "it's", Value: []byte("'")}}, `{"it's": b"'"}`},
		{"key not UTF-8", wire.Map{{Key: "\xff", Value: int64(1)}, {Key: "a", Value: int64(2)}}, `{b'\xff': 1, 'a': 2}`},
		{"nested", map[string]any{"k": []any{wire.Map{{Key: "d", Value: dt}}, []byte{0}, math.Inf(-1)}},
			"{'k': [{'d': datetime.datetime(2024, 1, 2, 3, 4)}, b'\\x00', -inf]}"},
		{"str in a list is repr", []any{"2024-01-02 03:04:00"}, "['2024-01-02 03:04:00']"},
		{"constant", wire.Constant{Name: "NOT_SET"}, "<Constant.NOT_SET>"},
		{"constant with a false value", wire.Constant{Name: "X", Value: int64(0)}, "<Constant.X>"},
		{"constant with a value", wire.Constant{Name: "X", Value: "a b"}, "<Constant.X value=a b>"},
		{"constant with a list", wire.Constant{Name: "X", Value: []any{"a"}}, "<Constant.X value=['a']>"},
		{"constants in a list", []any{wire.Constant{Name: "A", Value: dt}}, "[<Constant.A value=2024-01-02 03:04:00>]"},
		{"int32", int32(7), "7"},
		{"uint8", uint8(255), "255"},
		{"float32", float32(0.1), "0.10000000149011612"},
		{"[]string", []string{"a", "b'"}, `['a', "b'"]`},
		{"map[string]string", map[string]string{"b": "1", "a": "2"}, "{'a': '2', 'b': '1'}"},
		{"named string", myString("x"), "'x'"},
		{"named int", myInt(-3), "-3"},
		{"named bytes", myBytes("a\x00"), `b'a\x00'`},
		{"other slice", myList{1, 2}, "[1, 2]"},
		{"array", [2]bool{true, false}, "[True, False]"},
		{"map[string]int", map[string]int{"k": 1}, "{'k': 1}"},
		{"named map", myMap{"b": 1, "a": 0.5}, "{'a': 0.5, 'b': 1.0}"},
		{"other", struct{ A int }{1}, "{1}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendRepr(nil, tc.v)); got != tc.want {
				t.Errorf("repr = %s, want %s", got, tc.want)
			}
			if got := Repr(tc.v); got != tc.want {
				t.Errorf("Repr = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAppendStr(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"str is itself", "it's \n\x00", "it's \n\x00"},
		{"str not UTF-8 is bytes", "a\xff", `b'a\xff'`},
		{"datetime", time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), "2024-01-02 03:04:05.000006"},
		{"datetime whole", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02 03:04:05"},
		{"none", nil, "None"},
		{"bool", true, "True"},
		{"int", int64(-1), "-1"},
		{"float", 1e16, "1e+16"},
		{"bytes", []byte("a"), "b'a'"},
		{"list", []any{"a", time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC)}, "['a', datetime.datetime(2024, 1, 2, 3, 4)]"},
		{"dict", map[string]any{"k": "v"}, "{'k': 'v'}"},
		{"constant", wire.Constant{Name: "NOT_SET"}, "<Constant.NOT_SET>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendStr(nil, tc.v)); got != tc.want {
				t.Errorf("str = %s, want %s", got, tc.want)
			}
			if got := Str(tc.v); got != tc.want {
				t.Errorf("Str = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	b := []byte("x=")
	if got := string(AppendRepr(b, []any{"a"})); got != "x=['a']" {
		t.Errorf("AppendRepr = %s", got)
	}
	if got := string(AppendStr(b, 1.0)); got != "x=1.0" {
		t.Errorf("AppendStr = %s", got)
	}
	if got := string(AppendFloatRepr(b, -1e-7)); got != "x=-1e-07" {
		t.Errorf("AppendFloatRepr = %s", got)
	}
}

func TestMaxDepth(t *testing.T) {
	// MaxDepth+1 lists: the outermost, and MaxDepth nested in it.
	deep := any("x")
	for range MaxDepth + 1 {
		deep = []any{deep}
	}
	want := strings.Repeat("[", MaxDepth+1) + "'x'" + strings.Repeat("]", MaxDepth+1)
	if got := Repr(deep); got != want {
		t.Errorf("repr of %d nested lists is cut: ...%s", MaxDepth+1, got[len(got)/2-10:len(got)/2+10])
	}
	want = strings.Repeat("[", MaxDepth+1) + "[...]" + strings.Repeat("]", MaxDepth+1)
	if got := Repr([]any{deep}); got != want {
		t.Errorf("repr of %d nested lists is not cut where expected: ...%s", MaxDepth+2, got[len(got)/2-10:len(got)/2+10])
	}
}

func TestCyclicValue(t *testing.T) {
	// Python prints [[...]]; the cycle is cut where MaxDepth is reached.
	self := []any{nil}
	self[0] = self
	want := strings.Repeat("[", MaxDepth+1) + "[...]" + strings.Repeat("]", MaxDepth+1)
	if got := Repr(self); got != want {
		t.Errorf("repr of a list holding itself: %d bytes, want %d", len(got), len(want))
	}
	m := map[string]any{}
	m["m"] = m
	if got := Repr(m); !strings.HasSuffix(got, "{'m': {...}"+strings.Repeat("}", MaxDepth+1)) {
		t.Errorf("repr of a dict holding itself ends %q", got[len(got)-20:])
	}
}

func TestIsPrintable(t *testing.T) {
	for _, tc := range []struct {
		r    rune
		want bool
	}{
		{' ', true}, {'a', true}, {'~', true}, {'\t', false}, {'\n', false}, {0, false}, {0x7f, false},
		{0x80, false}, {0xa0, false}, {0xad, false}, {0xa1, true}, {'é', true},
		{0x200b, false}, {0x2028, false}, {0x3000, false}, {0xe000, false}, {0xfeff, false}, {0xfffd, true},
		{0xffff, false}, {0x1f600, true}, {0xe0001, false}, {0x10ffff, false},
	} {
		if got := IsPrintable(tc.r); got != tc.want {
			t.Errorf("IsPrintable(%U) = %v, want %v", tc.r, got, tc.want)
		}
	}
}

// TestAppendDoesNotAllocate pins what target relies on: printing a
// scalar, or a list or wire.Map of them, into a buffer on the stack does
// not allocate.
func TestAppendDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, bc := range benchValues {
		if bc.allocates {
			continue
		}
		n := testing.AllocsPerRun(100, func() {
			var buf [128]byte
			sink = AppendStr(buf[:0], bc.v)[0]
			sink = AppendRepr(buf[:0], bc.v)[0]
		})
		if n != 0 {
			t.Errorf("%s: %v allocations", bc.name, n)
		}
	}
}

var sink byte

var benchValues = []struct {
	name      string
	v         any
	allocates bool
}{
	{"none", nil, false},
	{"int", int64(2), false},
	{"float", 123456.789, false},
	{"float_sci", 1.5e-300, false},
	{"str_ascii", "x86_64 GNU/Linux", false},
	{"str_unicode", "Zoë's café \u200b ✓", false},
	{"bytes", []byte("\x00\x01abc'"), false},
	{"datetime", time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), false},
	{"list", []any{"console", "ttyS0", int64(1), true}, false},
	{"wire_map", wire.Map{{Key: "a", Value: int64(1)}, {Key: "b", Value: "x"}}, false},
	{"dict", map[string]any{"a": int64(1), "b": "x"}, true}, // sorts its keys
	{"strings", []string{"avx", "avx2", "sse4_2"}, false},
	{"reflect", map[string]int{"a": 1}, true},
}

func BenchmarkAppendRepr(b *testing.B) {
	for _, bc := range benchValues {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf [256]byte
			for b.Loop() {
				sink = AppendRepr(buf[:0], bc.v)[0]
			}
		})
	}
}

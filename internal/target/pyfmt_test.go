package target

import (
	"math"
	"testing"
	"time"

	"github.com/brine-project/brine/transport/wire"
)

// Python's str() of values, as printed by CPython 3.10/3.11.
func TestPyStr(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"string", "Debian", "Debian"},
		{"true", true, "True"},
		{"false", false, "False"},
		{"none", nil, "None"},
		{"int", int64(-42), "-42"},
		{"uint64", uint64(math.MaxUint64), "18446744073709551615"},
		{"int32", int32(7), "7"},
		{"float whole", 2.0, "2.0"},
		{"float fraction", 0.5, "0.5"},
		{"float 1e15", 1e15, "1000000000000000.0"},
		{"float 1e16", 1e16, "1e+16"},
		{"float small", 0.0001, "0.0001"},
		{"float smaller", 0.00001, "1e-05"},
		{"float 1.5e-5", 1.5e-5, "1.5e-05"},
		{"float negative zero", math.Copysign(0, -1), "-0.0"},
		{"float inf", math.Inf(1), "inf"},
		{"float nan", math.NaN(), "nan"},
		{"float32", float32(0.1), "0.10000000149011612"},
		{"float big", 123456789.123, "123456789.123"},
		{"list", []any{int64(1), "a", nil, true}, "[1, 'a', None, True]"},
		{"nested list", []any{[]any{"console", "ttyS0"}}, "[['console', 'ttyS0']]"},
		{"quote choice", []any{"it's", `q"`, `b'"th`}, `["it's", 'q"', 'b\'"th']`},
		{"escapes", []any{"\n\x01é\u200b\\"}, `['\n\x01é\u200b\\']`},
		{"wide escapes", []any{"\u0085\U000e0001"}, `['\x85\U000e0001']`},
		{"dict sorted", map[string]any{"b": int64(1), "a": "x"}, "{'a': 'x', 'b': 1}"},
		{"wire map in order", wire.Map{{Key: "b", Value: int64(1)}, {Key: "a", Value: "x"}}, "{'b': 1, 'a': 'x'}"},
		{"bytes", []byte("a'\xff"), `b"a'\xff"`},
		{"bytes in a list", []any{[]byte("ab")}, "[b'ab']"},
		{"[]string", []string{"a", "b"}, "['a', 'b']"},
		{"map[string]int", map[string]int{"k": 1}, "{'k': 1}"},
		{"datetime", time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), "2024-01-02 03:04:05.000006"},
		{"datetime whole", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02 03:04:05"},
		{"datetime in a list", []any{time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC)}, "[datetime.datetime(2024, 1, 2, 3, 4)]"},
	} {
		if got := string(appendPyStr(nil, tc.v)); got != tc.want {
			t.Errorf("%s: str() = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestPyLower(t *testing.T) {
	for in, want := range map[string]string{
		"Debian":        "debian",
		"ÄÖÜ":           "äöü",
		"İ":             "i̇",
		"a\xffB":        "a\xffb",
		"ΟΔΟΣ":          "οδοσ", // Python gives "οδος": no final-sigma rule here
		"x86_64":        "x86_64",
		"KELVIN \u212a": "kelvin k",
	} {
		if got := string(appendLower(nil, in)); got != want {
			t.Errorf("lower(%q) = %q, want %q", in, got, want)
		}
		if got := string(lowerBytes([]byte(in))); got != want {
			t.Errorf("lowerBytes(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPyInt(t *testing.T) {
	for _, tc := range []struct {
		s              string
		n              int
		isInt, inRange bool
	}{
		{"0", 0, true, true},
		{"12", 12, true, true},
		{"-1", -1, true, true},
		{"+3", 3, true, true},
		{" 4\t", 4, true, true},
		{"1_000", 1000, true, true},
		{"1__0", 0, false, false},
		{"_1", 0, false, false},
		{"1_", 0, false, false},
		{"", 0, false, false},
		{"-", 0, false, false},
		{"1.0", 0, false, false},
		{"0x1", 0, false, false},
		{"99999999999999999999999", 0, true, false},
	} {
		n, isInt, inRange := pyInt(tc.s)
		if n != tc.n || isInt != tc.isInt || inRange != tc.inRange {
			t.Errorf("pyInt(%q) = %d, %v, %v; want %d, %v, %v", tc.s, n, isInt, inRange, tc.n, tc.isInt, tc.inRange)
		}
	}
}

func TestTranslatePy(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`web\d+`, `web[\p{Nd}]+`},
		{`[\d.]`, `[\p{Nd}.]`},
		{`\D`, `[\P{Nd}]`},
		{`[^\D]`, `[^\P{Nd}]`},
		{`\w`, `[\p{L}\p{N}_]`},
		{`\W`, `[^\p{L}\p{N}_]`},
		{`\s\S`, `[\t\n\v\f\r\x1c-\x1f\x85\p{Z}][^\t\n\v\f\r\x1c-\x1f\x85\p{Z}]`},
		{`a\Z`, `a\z`},
		{`\u00e9\U0001F600`, `\x{00e9}\x{0001F600}`},
		{`[\b]`, `[\x08]`},
		{`\bx\b`, `\bx\b`},
		{`[]\d]`, `[]\p{Nd}]`},
		{`[^]\d]`, `[^]\p{Nd}]`},
		{`\.\-\@`, `\.\-\@`},
		{`(?P<n>x)(?i:y)`, `(?P<n>x)(?i:y)`},
		{`[\12]`, `[\12]`},
		{`\0`, `\0`},
		{`a{2,3}b{,x}`, `a{2,3}b{,x}`},
	} {
		got, err := translatePy(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("translatePy(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

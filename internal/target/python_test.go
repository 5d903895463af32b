package target

import "testing"

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

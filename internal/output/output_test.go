package output

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/transport/wire"
)

// goldenSet is a return set with every type of the value model. web1 is
// a wire.Map so that json, raw and txt, which keep a dict's order, have an
// order to keep; the goldens were printed by Python from the same dict
// (json, yaml, raw, txt) or worked out from salt/output/nested.py.
func goldenSet() map[string]any {
	return map[string]any{
		"app": true,
		"db1": "Minion did not return",
		"web1": wire.Map{
			{Key: "str", Value: "hello"},
			{Key: "multi", Value: "line one\nline two\n\nline four"},
			{Key: "empty_str", Value: ""},
			{Key: "int", Value: int64(-42)},
			{Key: "big", Value: uint64(math.MaxUint64)},
			{Key: "float", Value: 1.5},
			{Key: "float_exp", Value: 1e16},
			{Key: "true", Value: true},
			{Key: "false", Value: false},
			{Key: "none", Value: nil},
			{Key: "bytes", Value: []byte{0xff, 0x00}},
			{Key: "when", Value: time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)},
			{Key: "list", Value: []any{"a", int64(1), []any{"x", "y"}, map[string]any{"k": "v"}, []any{}, map[string]any{}}},
			{Key: "empty_list", Value: []any{}},
			{Key: "empty_map", Value: map[string]any{}},
			{Key: "nested", Value: map[string]any{"inner": map[string]any{"deep": "value"}}},
			{Key: "unicode", Value: "héllo wörld ✓"},
			{Key: "quote", Value: "it's"},
		},
	}
}

func print(t *testing.T, name string, opts Options, data map[string]any) string {
	t.Helper()
	o, err := New(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := o.Print(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	for _, name := range []string{"nested", "json", "yaml", "raw", "txt"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile("testdata/golden." + name)
			if err != nil {
				t.Fatal(err)
			}
			if got := print(t, name, Options{}, goldenSet()); got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestNested(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		data map[string]any
		want string
	}{
		{
			name: "scalar return",
			data: map[string]any{"m1": true},
			want: "m1:\n    True\n",
		},
		{
			name: "minions sorted",
			data: map[string]any{"b": int64(2), "a": int64(1), "B": 0.5},
			want: "B:\n    0.5\na:\n    1\nb:\n    2\n",
		},
		{
			name: "empty string prints no line and the trailing key is kept",
			data: map[string]any{"m": ""},
			want: "m:\n",
		},
		{
			name: "trailing blank lines are stripped",
			data: map[string]any{"m": "out\n\n\n"},
			want: "m:\n    out\n",
		},
		{
			name: "splitlines breaks",
			data: map[string]any{"m": "a\r\nb\rc\vd\fe\x1cf\u2028g\u0085h"},
			want: "m:\n    a\n    b\n    c\n    d\n    e\n    f\n    g\n    h\n",
		},
		{
			name: "escape is neutralised",
			data: map[string]any{"m": "\x1b[2Jgone"},
			want: "m:\n    ?[2Jgone\n",
		},
		{
			name: "multi-line string in a list keeps the prefix width",
			data: map[string]any{"m": []any{"one\ntwo"}},
			want: "m:\n    - one\n      two\n",
		},
		{
			name: "floats as Python repr",
			data: map[string]any{"m": []any{0.1, 1e-5, 1e22, math.Copysign(0, -1), math.Inf(1), math.NaN(), 100.0}},
			want: "m:\n    - 0.1\n    - 1e-05\n    - 1e+22\n    - -0.0\n    - inf\n    - nan\n    - 100.0\n",
		},
		{
			name: "wire.Map keys are sorted too",
			data: map[string]any{"m": wire.Map{{Key: "z", Value: int64(1)}, {Key: "a", Value: int64(2)}}},
			want: "m:\n    ----------\n    a:\n        2\n    z:\n        1\n",
		},
		{
			name: "base indent",
			opts: Options{Indent: 2},
			data: map[string]any{"m": "x"},
			want: "  ----------\n  m:\n      x\n",
		},
		{
			name: "colours",
			opts: Options{Color: true},
			data: map[string]any{"m": map[string]any{"k": []any{true, "s", int64(1), []any{}, nil}}},
			want: "\x1b[0;36mm\x1b[0;0m:\n" +
				"    \x1b[0;36m----------\x1b[0;0m\n" +
				"    \x1b[0;36mk\x1b[0;0m:\n" +
				"        \x1b[0;1;33m- True\x1b[0;0m\n" +
				"        \x1b[0;32m- s\x1b[0;0m\n" +
				"        \x1b[0;1;33m- 1\x1b[0;0m\n" +
				"        \x1b[0;32m|_\x1b[0;0m\n" +
				"        \x1b[0;1;33m- None\x1b[0;0m\n",
		},
		{
			name: "colours with a failed retcode",
			opts: Options{Color: true, Retcode: 2},
			data: map[string]any{"m": map[string]any{"k": []any{[]any{"x"}}}},
			want: "\x1b[0;31mm\x1b[0;0m:\n" +
				"    \x1b[0;31m----------\x1b[0;0m\n" +
				"    \x1b[0;31mk\x1b[0;0m:\n" +
				"        \x1b[0;31m|_\x1b[0;0m\n" +
				"          \x1b[0;32m- x\x1b[0;0m\n",
		},
		{
			name: "an empty string keeps its colour codes",
			opts: Options{Color: true},
			data: map[string]any{"m": "a\n\nb"},
			want: "\x1b[0;36mm\x1b[0;0m:\n" +
				"    \x1b[0;32ma\x1b[0;0m\n" +
				"    \x1b[0;32m\x1b[0;0m\n" +
				"    \x1b[0;32mb\x1b[0;0m\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := print(t, "nested", tt.opts, tt.data); got != tt.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestNoReturn(t *testing.T) {
	jid := "20261127101010123456"
	data := map[string]any{"m2": NoResponse(jid)}
	want := "m2:\n" +
		"    Minion did not return. [No response]\n" +
		"    The minions may not have all finished running and any remaining minions will return upon completion. To look up the return data for this job later, run the following command:\n" +
		"    \n" +
		"    brine-run jobs.lookup_jid 20261127101010123456\n"
	o, err := ForReturn("", NoReturnOut, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := o.Print(&b, data); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
	got := print(t, "no_return", Options{Color: true}, map[string]any{"m3": NotConnected})
	wantColor := "\x1b[0;36mm3\x1b[0;0m:\n\x1b[0;31m    Minion did not return. [Not connected]\x1b[0;0m\n"
	if got != wantColor {
		t.Errorf("got %q, want %q", got, wantColor)
	}
	// With --out json the stand-in is an ordinary string return.
	got = print(t, "json", Options{}, map[string]any{"m3": NotConnected})
	if want := "{\n    \"m3\": \"Minion did not return. [Not connected]\"\n}\n"; got != want {
		t.Errorf("json: got %q, want %q", got, want)
	}
}

func TestForReturn(t *testing.T) {
	data := map[string]any{"m": "x"}
	tests := []struct {
		name, flag, retOut, want string
	}{
		{"default is nested", "", "", "m:\n    x\n"},
		{"the return's outputter", "", "txt", "m: x\n"},
		{"an unknown return outputter falls back to nested", "", "highstate", "m:\n    x\n"},
		{"--out wins over the return", "json", "no_return", "{\n    \"m\": \"x\"\n}\n"},
		{"text is txt", "text", "", "m: x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ForReturn(tt.flag, tt.retOut, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := o.Print(&b, data); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
	if _, err := ForReturn("pprint", "", Options{}); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown --out: err = %v, want ErrUnknown", err)
	}
}

func TestNewUnknown(t *testing.T) {
	_, err := New("bogus", Options{})
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("err = %v, want ErrUnknown", err)
	}
	for _, n := range Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %q", err, n)
		}
		if _, err := New(n, Options{}); err != nil {
			t.Errorf("New(%q): %v", n, err)
		}
	}
}

func TestQuiet(t *testing.T) {
	if got := print(t, "quiet", Options{}, goldenSet()); got != "" {
		t.Errorf("quiet printed %q", got)
	}
}

func TestUnsupportedValue(t *testing.T) {
	bad := map[string]any{"m": []any{struct{}{}}}
	for _, n := range Names() {
		if n == "quiet" {
			continue
		}
		o, _ := New(n, Options{})
		var b bytes.Buffer
		if err := o.Print(&b, bad); err == nil {
			t.Errorf("%s: no error for a struct", n)
		} else if b.Len() != 0 {
			t.Errorf("%s: wrote %q before failing", n, b.String())
		}
	}
	// A list that holds itself is cut off, not followed forever.
	self := []any{nil}
	self[0] = self
	for _, n := range []string{"nested", "json", "yaml", "raw"} {
		o, _ := New(n, Options{})
		if err := o.Print(&bytes.Buffer{}, map[string]any{"m": self}); err == nil {
			t.Errorf("%s: no error for a cyclic value", n)
		}
	}
}

func TestPyRstrip(t *testing.T) {
	// str.rstrip strips what str.isspace holds for, which includes the
	// ASCII information separators that Go's unicode.IsSpace leaves.
	if got := pyRstrip("a \t\n\x1c\x1f\u00a0\u3000"); got != "a" {
		t.Errorf("rstrip = %q", got)
	}
}

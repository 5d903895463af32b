package saltargs

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/brine-project/brine/internal/saltvectors"
	"github.com/brine-project/brine/transport/wire"
)

func kw(fields ...wire.Field) wire.Map {
	return append(wire.Map{{Key: "__kwarg__", Value: true}}, fields...)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []any
	}{
		{"no arguments", nil, []any{}},
		{"cmd.run with cwd", []string{"echo hi", "cwd=/"}, []any{"echo hi", kw(wire.Field{Key: "cwd", Value: "/"})}},
		{"test.arg", []string{"1", "two", "three=3"}, []any{int64(1), "two", kw(wire.Field{Key: "three", Value: int64(3)})}},
		{"a kwarg value with a space", []string{"a=b c"}, []any{kw(wire.Field{Key: "a", Value: "b c"})}},
		{"spaces around = make it positional", []string{"key = value"}, []any{"key = value"}},
		{"= inside the value", []string{"key=value=more"}, []any{kw(wire.Field{Key: "key", Value: "value=more"})}},
		{"== is not a kwarg", []string{"a==b"}, []any{"a==b"}},
		{"a name may not start with a digit", []string{"1a=b"}, []any{"1a=b"}},
		{"dots and dashes after the first character", []string{"a-b.c=d", "-a=b"}, []any{"-a=b", kw(wire.Field{Key: "a-b.c", Value: "d"})}},
		{"unicode names", []string{"é_1=x", "²=x"}, []any{kw(wire.Field{Key: "é_1", Value: "x"}, wire.Field{Key: "²", Value: "x"})}},
		{"a repeated kwarg keeps its place and takes the last value", []string{"a=1", "b=2", "a=3"},
			[]any{kw(wire.Field{Key: "a", Value: int64(3)}, wire.Field{Key: "b", Value: int64(2)})}},
		{"kwargs go last", []string{"x=1", "pos"}, []any{"pos", kw(wire.Field{Key: "x", Value: int64(1)})}},
		{"a kwarg named __kwarg__ replaces the marker's value, as in Salt", []string{"__kwarg__=false", "x=1"},
			[]any{wire.Map{{Key: "__kwarg__", Value: false}, {Key: "x", Value: int64(1)}}}},
		{"a final newline is dropped from a kwarg", []string{"a=b\n"}, []any{kw(wire.Field{Key: "a", Value: "b"})}},
		{"an inner newline makes it positional", []string{"a=b\nc"}, []any{"a=b\nc"}},
		{"empty and blank", []string{"", " ", "x="}, []any{"", " ", kw(wire.Field{Key: "x", Value: ""})}},
		{"document markers", []string{"---", "..."}, []any{"---", "..."}},
		{"digits and underscores stay strings", []string{"1_000", "0_7", "-1_000"}, []any{"1_000", "0_7", int64(-1000)}},
		{"tabs and line breaks stay strings", []string{"a\tb", "{a: 1}\n", "1\r"}, []any{"a\tb", "{a: 1}\n", "1\r"}},
		{"None and nulls", []string{"None", "null", "~", "Null", "none"}, []any{nil, nil, nil, nil, "none"}},
		{"YAML 1.1 booleans", []string{"true", "True", "yes", "no", "on", "OFF", "y", "n"}, []any{true, true, true, false, true, false, "y", "n"}},
		{"numbers", []string{"1.0", "1.", ".5", "1e3", "1.0e+3", "-.inf", "1:30", "1:30.5"},
			[]any{1.0, 1.0, 0.5, "1e3", 1000.0, math.Inf(-1), int64(90), 90.5}},
		{"versions stay strings", []string{"1.0.0", "3006.16"}, []any{"1.0.0", 3006.16}},
		{"int forms", []string{"0x1F", "0b101", "010", "00", "08", "0o17", "+7", "-0"},
			[]any{int64(31), int64(5), int64(10), int64(0), "08", "0o17", int64(7), int64(0)}},
		{"jid-sized ints become strings", []string{"12345678901234567890", "-1234567890123456789", "1234567890123456789"},
			[]any{"12345678901234567890", "-1234567890123456789", int64(1234567890123456789)}},
		{"ints beyond 64 bits are sent as strings", []string{"123456789012345678901", "9223372036854775808", "[18446744073709551616]"},
			[]any{"123456789012345678901", uint64(math.MaxInt64 + 1), []any{"18446744073709551616"}}},
		{"timestamps stay strings", []string{"2024-01-02", "2024-01-02 03:04:05"}, []any{"2024-01-02", "2024-01-02 03:04:05"}},
		{"maps in braces", []string{"{a: 1}", `{"a": 1}`, "{a: [1, 2], b: {c: d}}"},
			[]any{wire.Map{{Key: "a", Value: int64(1)}}, wire.Map{{Key: "a", Value: int64(1)}},
				wire.Map{{Key: "a", Value: []any{int64(1), int64(2)}}, {Key: "b", Value: wire.Map{{Key: "c", Value: "d"}}}}}},
		{"maps not in braces stay strings", []string{"a: 1", " {a: 1}", "echo Hello: world"}, []any{"a: 1", " {a: 1}", "echo Hello: world"}},
		{"flow colons as PyYAML reads them", []string{"{a:1}", "{a:}", "[a:]"},
			[]any{wire.Map{{Key: "a:1", Value: nil}}, wire.Map{{Key: "a", Value: nil}}, []any{wire.Map{{Key: "a", Value: nil}}}}},
		{"repeated YAML keys are refused", []string{"{a: 1, a: 2}", "{1: a, 1.0: b}"}, []any{"{a: 1, a: 2}", "{1: a, 1.0: b}"}},
		{"keys that are not strings", []string{"{1: a, false: b, null: c, 1.5: d}", "{1: a, true: b}"},
			[]any{wire.Map{{Key: "1", Value: "a"}, {Key: "false", Value: "b"}, {Key: "<nil>", Value: "c"}, {Key: "1.5", Value: "d"}},
				"{1: a, true: b}"}}, // 1 == True: a repeated key
		{"lists in brackets", []string{"[1,2]", "[a, [b, c]]", "[]", "{}"},
			[]any{[]any{int64(1), int64(2)}, []any{"a", []any{"b", "c"}}, []any{}, wire.Map{}}},
		{"lists not in brackets stay strings", []string{"- a", "-a"}, []any{"- a", "-a"}},
		{"# keeps the string unless the YAML is something else", []string{"#", "a #b", "1 # c", "[1] #c", "a: 1 # c"},
			[]any{"#", "a #b", int64(1), []any{int64(1)}, wire.Map{{Key: "a", Value: int64(1)}}}},
		{"indicators YAML would swallow", []string{"|", "!", ">", "|-"}, []any{"|", "!", "", ""}},
		{"quoted YAML", []string{"'it''s'", `"a\tb"`, `"\u00e9"`, `"\z"`, "'x"}, []any{"it's", "a\tb", "é", `"\z"`, "'x"}},
		{"tags", []string{"!!str 1", "!!int '7'", "!!float 1", "!!bool maybe", "!!binary aGk=", "!foo bar", "!!python/unicode x"},
			[]any{"1", int64(7), 1.0, "!!bool maybe", "!!binary aGk=", "!foo bar", "x"}},
		{"bytes only with #", []string{"!!binary aGk= #c"}, []any{[]byte("hi")}},
		{"Python unicode literals are evaluated", []string{"u'x'", `U"y"`, `u'a\nb'`, "u'a' 'b'", "u'a' + 'b'", "u''"},
			[]any{"x", "y", "a\nb", "ab", "u'a' + 'b'", "u''"}},
		{"anchors and merges", []string{"[&a [1], *a]", "{<<: {a: 1, b: 1}, b: 2}"},
			[]any{[]any{[]any{int64(1)}, []any{int64(1)}}, wire.Map{{Key: "a", Value: int64(1)}, {Key: "b", Value: int64(2)}}}},
		{"what YAML cannot read stays a string", []string{"%foo", "@a", "a: b: c", "[1, 2", "*a", "C:\\dir\\x"},
			[]any{"%foo", "@a", "a: b: c", "[1, 2", "*a", "C:\\dir\\x"}},
		{"a recursive value that is not sent is fine", []string{"&a [1, *a]"}, []any{"&a [1, *a]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !same(any(got), any(tt.want)) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.args, got, tt.want)
			}
		})
	}
}

func TestParseNoParse(t *testing.T) {
	got, err := Parse([]string{"a=1", "b=[1]", "2"}, "b")
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(2), kw(wire.Field{Key: "a", Value: int64(1)}, wire.Field{Key: "b", Value: "[1]"})}
	if !same(any(got), any(want)) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"invalid UTF-8", []string{"ok", "\xff"}, "argument 2"},
		{"a value that holds itself", []string{"[&a [1, *a]]"}, "refers to itself"},
		{"a kwarg that holds itself", []string{"k=[&a [1, *a]]"}, "argument k"},
		{"too deep", []string{strings.Repeat("[", 98) + strings.Repeat("]", 98)}, "deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "saltargs: ") {
				t.Errorf("err = %v, want one mentioning %q", err, tt.msg)
			}
		})
	}
	if _, err := Parse([]string{strings.Repeat("[", 97) + strings.Repeat("]", 97)}); err != nil {
		t.Errorf("97 deep: %v", err)
	}
}

// TestCapturedPublication checks Parse against the publish request a
// stock Salt 3006.16 CLI sent for `salt -E 'real-.*' test.arg 1 two
// three=3` (capture b-master-restart, message 28).
func TestCapturedPublication(t *testing.T) {
	dir := saltvectors.Dir(t)
	d := saltvectors.Load(t, dir, "b-master-restart")
	var msg *saltvectors.Message
	for i := range d.Messages {
		if d.Messages[i].Index == 28 {
			msg = &d.Messages[i]
		}
	}
	if msg == nil || msg.Cmd != "publish" {
		t.Fatalf("message 28 is not the publish request: %+v", msg)
	}
	v, err := wire.UnmarshalOrdered(msg.Payload(t, dir, "b-master-restart"))
	if err != nil {
		t.Fatal(err)
	}
	env, _ := v.(wire.Map)
	loadV, _ := env.Get("load")
	load, _ := loadV.(wire.Map)
	if fun, _ := load.Get("fun"); fun != "test.arg" {
		t.Fatalf("fun = %v", fun)
	}
	want, _ := load.Get("arg")
	got, err := Parse([]string{"1", "two", "three=3"})
	if err != nil {
		t.Fatal(err)
	}
	if !same(any(got), want) {
		t.Fatalf("Parse = %#v, Salt sent %#v", got, want)
	}
	// And byte for byte once encoded as Salt encodes it.
	gb, err := wire.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := wire.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gb, wb) {
		t.Errorf("encoded: %x, Salt's %x", gb, wb)
	}
}

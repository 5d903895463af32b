package wire

import (
	"fmt"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		arg     []any
		pos, kw string
	}{
		{nil, "[]", "map[]"},
		{[]any{"echo hi", map[string]any{"__kwarg__": true, "cwd": "/"}}, "[echo hi]", "map[cwd:/]"},
		{[]any{int64(1), Map{{Key: "__kwarg__", Value: true}, {Key: "three", Value: int64(3)}}}, "[1]", "map[three:3]"},
		// A map without the marker is a positional value.
		{[]any{map[string]any{"a": int64(1)}}, "[map[a:1]]", "map[]"},
	} {
		pos, kw := SplitArgs(tc.arg)
		if fmt.Sprint(pos) != tc.pos || fmt.Sprint(kw) != tc.kw {
			t.Errorf("SplitArgs(%v) = %v, %v; want %s, %s", tc.arg, pos, kw, tc.pos, tc.kw)
		}
	}
	if got := Strings([]any{"a", int64(1), "b"}); fmt.Sprint(got) != "[a b]" {
		t.Errorf("Strings: %v", got)
	}
	if got := Strings("not a list"); len(got) != 0 {
		t.Errorf("Strings of a non-list: %v", got)
	}
}

package output

import (
	"bytes"
	"testing"
)

// Display prints a value that is not keyed by minion, as salt-run does
// with a runner's return.
func TestDisplay(t *testing.T) {
	for _, tc := range []struct {
		out  string
		v    any
		want string
	}{
		{"nested", []any{"m1", "m2"}, "- m1\n- m2\n"},
		{"nested", map[string]any{"up": []any{"m1"}, "down": []any{}}, "down:\nup:\n    - m1\n"},
		{"json", []any{"m1"}, "[\n    \"m1\"\n]\n"},
		{"txt", []any{"m1"}, "['m1']\n"},
	} {
		o, err := New(tc.out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := o.Display(&b, tc.v); err != nil || b.String() != tc.want {
			t.Errorf("%s %v: %q, %v; want %q", tc.out, tc.v, b.String(), err, tc.want)
		}
	}
}

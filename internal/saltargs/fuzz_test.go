package saltargs

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/brine-project/brine/transport/wire"
)

// inModel checks that v holds only types of the value model Parse
// promises.
func inModel(t *testing.T, v any) {
	t.Helper()
	switch v := v.(type) {
	case nil, bool, int64, uint64, float64, string, []byte:
	case []any:
		for _, e := range v {
			inModel(t, e)
		}
	case wire.Map:
		for _, f := range v {
			inModel(t, f.Value)
		}
	default:
		t.Fatalf("value of type %T outside the model", v)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1\x00two\x00three=3", "echo hi\x00cwd=/", "{a: [1, {b: c}], d: !!binary aGk=}",
		"[&a [1], *a] #c", "{<<: [{a: 1}, {b: 2}], c: 3}", "u'a\\x41' 'b'", "k=0x_\x00l=1:2:3.5",
		"!!omap [a: 1] #", "!!set {a, b} #", "{? [1]: 2}", "[a:, b:c, {d:}]", "\"\\U0001F600\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		out, err := Parse(args)
		if err != nil {
			valid := true
			for _, a := range args {
				valid = valid && utf8.ValidString(a)
			}
			if valid && !strings.Contains(err.Error(), "refers to itself") && !strings.Contains(err.Error(), "deep") {
				t.Fatalf("Parse(%q): unexpected error %v", args, err)
			}
			return
		}
		for _, v := range out {
			inModel(t, v)
		}
		// Whatever Parse accepts can be published.
		if _, err := wire.Marshal(out); err != nil {
			t.Fatalf("Parse(%q) = %#v, which does not encode: %v", args, out, err)
		}
		again, err := Parse(args)
		if err != nil || !same(any(out), any(again)) {
			t.Fatalf("Parse(%q) is not deterministic: %#v then %#v (%v)", args, out, again, err)
		}
	})
}

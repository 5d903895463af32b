package saltargs

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/brine-project/brine/internal/pyvectors"
	"github.com/brine-project/brine/transport/wire"
)

// vector is one case of testdata/vectors.json, made by
// testdata/gen_yamlify.py with PyYAML's loader set up as Salt 3006's.
type vector struct {
	Args []string        `json:"args"`
	Want json.RawMessage `json:"want"`
}

// errWant marks a case where Parse must fail.
type errWant struct{}

// decoder reads the expectations of gen_yamlify.py: {"t": "error"} where
// Parse must fail, and map keys tagged as values, which become the string
// transport/wire would decode them to: fmt.Sprint of the value, the bytes
// themselves for bytes. It is written here again, not taken from
// keyString, so that a fault there cannot hide in the expectations.
var decoder = pyvectors.Decoder{
	Extra: func(tag string) (any, bool) {
		return errWant{}, tag == "error"
	},
	Key: func(k any) string {
		if b, ok := k.([]byte); ok {
			return string(b)
		}
		return fmt.Sprint(k)
	},
}

// same compares two values of the model, NaN equal to NaN.
func same(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		return ok && (a == b && math.Signbit(a) == math.Signbit(b) || math.IsNaN(a) && math.IsNaN(b))
	case []byte:
		b, ok := b.([]byte)
		return ok && string(a) == string(b)
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !same(a[i], b[i]) {
				return false
			}
		}
		return true
	case wire.Map:
		b, ok := b.(wire.Map)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i].Key != b[i].Key || !same(a[i].Value, b[i].Value) {
				return false
			}
		}
		return true
	}
	return a == b
}

// TestPythonVectors checks Parse against PyYAML with Salt's loader
// settings: the fixed cases of gen_yamlify.py and random words made of
// YAML's indicators.
func TestPythonVectors(t *testing.T) {
	for i, v := range pyvectors.Load[[]vector](t, "testdata/vectors.json") {
		name := fmt.Sprintf("%d %q", i, strings.Join(v.Args, " "))
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			want := decoder.Decode(t, v.Want)
			got, err := Parse(v.Args)
			if _, fail := want.(errWant); fail {
				if err == nil {
					t.Errorf("Parse(%q) = %#v, want an error", v.Args, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", v.Args, err)
			}
			if !same(any(got), want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", v.Args, got, want)
			}
		})
	}
}

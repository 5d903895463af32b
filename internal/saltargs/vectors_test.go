package saltargs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/brine-project/brine/transport/wire"
)

// vector is one case of testdata/vectors.json, made by
// testdata/gen_yamlify.py with PyYAML's loader set up as Salt 3006's.
type vector struct {
	Args []string        `json:"args"`
	Want json.RawMessage `json:"want"`
}

type tagged struct {
	T string          `json:"t"`
	V json.RawMessage `json:"v"`
}

// errWant marks a case where Parse must fail.
type errWant struct{}

// untag rebuilds an expected value. Map keys that are not strings become
// the string transport/wire would decode them to.
func untag(t testing.TB, raw json.RawMessage) any {
	t.Helper()
	var tv tagged
	if err := json.Unmarshal(raw, &tv); err != nil {
		t.Fatal(err)
	}
	str := func() string {
		var s string
		if err := json.Unmarshal(tv.V, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	switch tv.T {
	case "error":
		return errWant{}
	case "none":
		return nil
	case "bool":
		return string(tv.V) == "true"
	case "int":
		n, ok := new(big.Int).SetString(str(), 10)
		if !ok {
			t.Fatalf("bad int %s", tv.V)
		}
		if n.IsInt64() {
			return n.Int64()
		}
		return n.Uint64()
	case "float":
		f, err := strconv.ParseFloat(str(), 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	case "str":
		return str()
	case "bytes":
		b, err := base64.StdEncoding.DecodeString(str())
		if err != nil {
			t.Fatal(err)
		}
		return b
	case "list":
		var items []json.RawMessage
		if err := json.Unmarshal(tv.V, &items); err != nil {
			t.Fatal(err)
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = untag(t, it)
		}
		return out
	case "map":
		var pairs [][2]json.RawMessage
		if err := json.Unmarshal(tv.V, &pairs); err != nil {
			t.Fatal(err)
		}
		var m wire.Map
		for _, p := range pairs {
			var key string
			switch k := untag(t, p[0]).(type) {
			case string:
				key = k
			case []byte:
				key = string(k)
			default:
				key = fmt.Sprint(k)
			}
			m = set(m, key, untag(t, p[1]))
		}
		return m
	}
	t.Fatalf("unknown tag %q", tv.T)
	return nil
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
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		name := fmt.Sprintf("%d %q", i, strings.Join(v.Args, " "))
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			want := untag(t, v.Want)
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

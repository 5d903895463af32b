package output

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/brine-project/brine/transport/wire"
)

// pyCase is one case of testdata/pyvectors.json, made by
// testdata/gen_pyvectors.py from what Python and PyYAML print.
type pyCase struct {
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
	JSON string          `json:"json"`
	YAML string          `json:"yaml"`
	Raw  string          `json:"raw"`
	Txt  string          `json:"txt"`
}

// tagged is a value of the vectors with its Python type.
type tagged struct {
	T string          `json:"t"`
	V json.RawMessage `json:"v"`
}

// untag rebuilds a tagged value in the value model; dicts become wire.Map
// so that their order is kept.
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
	case "none":
		return nil
	case "bool":
		var b bool
		if err := json.Unmarshal(tv.V, &b); err != nil {
			t.Fatal(err)
		}
		return b
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
		if b == nil {
			b = []byte{}
		}
		return b
	case "datetime":
		d, err := time.Parse("2006-01-02T15:04:05.000000", str())
		if err != nil {
			t.Fatal(err)
		}
		return d
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
		m := wire.Map{}
		for _, p := range pairs {
			var k string
			if err := json.Unmarshal(p[0], &k); err != nil {
				t.Fatal(err)
			}
			m = append(m, wire.Field{Key: k, Value: untag(t, p[1])})
		}
		return m
	}
	t.Fatalf("unknown tag %q", tv.T)
	return nil
}

// TestPythonVectors checks json, yaml, raw and txt against what Python's
// json, PyYAML (with libyaml) and str() print for the same return sets.
func TestPythonVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/pyvectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []pyCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			m := untag(t, c.Data).(wire.Map)
			data := make(map[string]any, len(m))
			for _, f := range m {
				data[f.Key] = f.Value
			}
			for _, o := range []struct{ name, want string }{
				{"json", c.JSON}, {"yaml", c.YAML}, {"raw", c.Raw}, {"txt", c.Txt},
			} {
				p, err := New(o.name, Options{})
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				if err := p.Print(&got, data); err != nil {
					t.Fatalf("%s: %v", o.name, err)
				}
				if got.String() != o.want {
					t.Errorf("%s:\ngot:\n%s\nwant:\n%s", o.name, got.String(), o.want)
				}
			}
		})
	}
}

package pyfmt

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/big"
	"os"
	"testing"
	"time"
	"unicode"

	"github.com/brine-project/brine/transport/wire"
)

// vectors is testdata/vectors.json, made by testdata/gen_vectors.py from
// what CPython prints.
type vectors struct {
	UnidataVersion string       `json:"unidata_version"`
	Printable      [][2]rune    `json:"printable"`
	Cases          []vectorCase `json:"cases"`
}

type vectorCase struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
	Repr  string          `json:"repr"`
	Str   string          `json:"str"`
}

func loadVectors(t testing.TB) *vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// untag rebuilds a value of the vectors from its type-tagged JSON; dicts
// become wire.Map so that their order is kept.
func untag(t testing.TB, raw json.RawMessage) any {
	t.Helper()
	var tv struct {
		T string          `json:"t"`
		V json.RawMessage `json:"v"`
	}
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
		if !ok || !n.IsInt64() && !n.IsUint64() {
			t.Fatalf("bad int %s", tv.V)
		}
		if n.IsInt64() {
			return n.Int64()
		}
		return n.Uint64()
	case "float":
		p, err := hex.DecodeString(str())
		if err != nil || len(p) != 8 {
			t.Fatalf("bad float %s", tv.V)
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(p))
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

// TestPythonVectors checks repr() and str() against what CPython printed
// for the same values.
func TestPythonVectors(t *testing.T) {
	vs := loadVectors(t)
	for _, c := range vs.Cases {
		t.Run(c.Name, func(t *testing.T) {
			v := untag(t, c.Value)
			if got := string(AppendRepr(nil, v)); got != c.Repr {
				t.Errorf("repr:\n got %s\nwant %s", got, c.Repr)
			}
			if got := string(AppendStr(nil, v)); got != c.Str {
				t.Errorf("str:\n got %s\nwant %s", got, c.Str)
			}
		})
	}
}

// TestIsPrintableTable checks IsPrintable for every code point against
// str.isprintable() of a CPython with the Unicode version of Go's tables.
func TestIsPrintableTable(t *testing.T) {
	vs := loadVectors(t)
	if vs.UnidataVersion != unicode.Version {
		t.Skipf("the vectors have Unicode %s and Go has %s: run testdata/gen_vectors.py with a CPython of Unicode %[2]s",
			vs.UnidataVersion, unicode.Version)
	}
	printable := make([]bool, unicode.MaxRune+1)
	for _, r := range vs.Printable {
		for c := r[0]; c <= r[1]; c++ {
			printable[c] = true
		}
	}
	bad := 0
	for c := range rune(unicode.MaxRune + 1) {
		if IsPrintable(c) != printable[c] {
			if bad++; bad <= 10 {
				t.Errorf("IsPrintable(%U) = %v, Python says %v", c, !printable[c], printable[c])
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d code points in all", bad)
	}
}

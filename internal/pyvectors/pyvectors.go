// Package pyvectors reads the test vectors that Python generators write
// into a package's testdata folder (testdata/gen_*.py, run by hand with
// python3 and committed with their output): what CPython, PyYAML or Salt's
// loader print or build for a set of values, for Brine's tests to match.
//
// The generators write each value with its Python type, {"t": type, "v":
// value}, because JSON alone cannot tell an int from a float, a str from
// bytes, or keep a dict's order. Decoder rebuilds such values in
// transport/wire's value model. It is for tests only.
package pyvectors

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/brine-project/brine/transport/wire"
)

// Load decodes the JSON file at path, relative to the package under test
// ("testdata/vectors.json"), into a T. A missing or malformed file fails
// the test: the vectors are committed, so they are never absent.
func Load[T any](t testing.TB, path string) T {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// Decoder rebuilds the tagged values of the vectors. Its zero value reads
// the tags every generator writes the same way:
//
//	none      nil
//	bool      bool
//	int       int64, or uint64 above math.MaxInt64 (v is the decimal string)
//	float     float64 (v is Python's repr of it: "1.5", "nan", "-inf")
//	str       string
//	bytes     []byte, never nil (v is base64)
//	datetime  time.Time in UTC (v is "2006-01-02T15:04:05.000000")
//	list      []any
//	map       wire.Map in the dict's order (v is [key, tagged value] pairs)
//
// A Decoder is safe for concurrent use.
type Decoder struct {
	// Float, when set, reads the v of a float instead of strconv, for a
	// generator that writes floats its own way.
	Float func(t testing.TB, v string) float64
	// Key, when set, means the generator tags map keys too (a msgpack key
	// need not be a str): it turns each decoded key into the string
	// transport/wire decodes it to. When nil, keys are JSON strings.
	Key func(k any) string
	// Extra decodes the tags only one generator writes; it reports whether
	// it knew the tag. It is asked before the shared tags.
	Extra func(tag string) (any, bool)
}

// tagged is a value as the generators write it.
type tagged struct {
	T string          `json:"t"`
	V json.RawMessage `json:"v"`
}

// Decode rebuilds the tagged value raw, failing the test on a tag or a
// value it cannot read, so that a broken vector file never passes.
func (d Decoder) Decode(t testing.TB, raw json.RawMessage) any {
	t.Helper()
	var tv tagged
	unmarshal(t, raw, &tv)
	if d.Extra != nil {
		if v, ok := d.Extra(tv.T); ok {
			return v
		}
	}
	switch tv.T {
	case "none":
		return nil
	case "bool":
		var b bool
		unmarshal(t, tv.V, &b)
		return b
	case "int":
		return decodeInt(t, str(t, tv.V))
	case "float":
		return d.float(t, str(t, tv.V))
	case "str":
		return str(t, tv.V)
	case "bytes":
		b, err := base64.StdEncoding.DecodeString(str(t, tv.V))
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			b = []byte{} // b'' is a value, not a missing one
		}
		return b
	case "datetime":
		dt, err := time.Parse("2006-01-02T15:04:05.000000", str(t, tv.V))
		if err != nil {
			t.Fatal(err)
		}
		return dt
	case "list":
		var items []json.RawMessage
		unmarshal(t, tv.V, &items)
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = d.Decode(t, it)
		}
		return out
	case "map":
		return d.decodeMap(t, tv.V)
	}
	t.Fatalf("unknown tag %q", tv.T)
	return nil
}

func (d Decoder) float(t testing.TB, v string) float64 {
	t.Helper()
	if d.Float != nil {
		return d.Float(t, v)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// decodeMap keeps a repeated key (two tagged keys that become the same
// string) where it first stood, with the last value, as a Python dict
// built from the same pairs would.
func (d Decoder) decodeMap(t testing.TB, v json.RawMessage) wire.Map {
	t.Helper()
	var pairs [][2]json.RawMessage
	unmarshal(t, v, &pairs)
	m := wire.Map{}
	for _, p := range pairs {
		key, val := d.key(t, p[0]), d.Decode(t, p[1])
		if i := slices.IndexFunc(m, func(f wire.Field) bool { return f.Key == key }); i >= 0 {
			m[i].Value = val
		} else {
			m = append(m, wire.Field{Key: key, Value: val})
		}
	}
	return m
}

func (d Decoder) key(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	if d.Key != nil {
		return d.Key(d.Decode(t, raw))
	}
	return str(t, raw)
}

// decodeInt reads a Python int, which must fit the model's int64 or
// uint64.
func decodeInt(t testing.TB, s string) any {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || !n.IsInt64() && !n.IsUint64() {
		t.Fatalf("bad int %s", s)
	}
	if n.IsInt64() {
		return n.Int64()
	}
	return n.Uint64()
}

func str(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var s string
	unmarshal(t, raw, &s)
	return s
}

func unmarshal(t testing.TB, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

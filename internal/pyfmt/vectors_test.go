package pyfmt

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"testing"
	"unicode"

	"github.com/brine-project/brine/internal/pyvectors"
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

// decoder reads the floats of gen_vectors.py, which writes their bits
// (hex, little-endian) so that NaN and -0.0 come back as they are.
var decoder = pyvectors.Decoder{
	Float: func(t testing.TB, v string) float64 {
		t.Helper()
		p, err := hex.DecodeString(v)
		if err != nil || len(p) != 8 {
			t.Fatalf("bad float %q", v)
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(p))
	},
}

// TestPythonVectors checks repr() and str() against what CPython printed
// for the same values.
func TestPythonVectors(t *testing.T) {
	vs := pyvectors.Load[vectors](t, "testdata/vectors.json")
	for _, c := range vs.Cases {
		t.Run(c.Name, func(t *testing.T) {
			v := decoder.Decode(t, c.Value)
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
	vs := pyvectors.Load[vectors](t, "testdata/vectors.json")
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

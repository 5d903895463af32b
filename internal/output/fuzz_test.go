package output

import (
	"bytes"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/brine-project/brine/internal/fuzzinput"
	"github.com/brine-project/brine/transport/wire"
)

// valueFrom builds a value of the model from fuzz input: each byte picks
// a type, and the bytes after it give its content.
type valueFrom struct{ *fuzzinput.Input }

func (g valueFrom) str() string { return g.Str(24) }

func (g valueFrom) value(depth int) any {
	kind := g.Byte() % 12
	if depth > 6 && kind >= 8 {
		kind = 5
	}
	switch kind {
	case 0:
		return nil
	case 1:
		return g.Byte()%2 == 0
	case 2:
		return int64(g.Uint64())
	case 3:
		return g.Uint64()
	case 4:
		return math.Float64frombits(g.Uint64())
	case 5:
		s := g.str()
		if !utf8.ValidString(s) { // decoded strings are valid UTF-8
			return []byte(s)
		}
		return s
	case 6:
		return []byte(g.str())
	case 7:
		return time.Unix(int64(g.Uint64()%(1<<35)), int64(g.Byte())*1000).UTC()
	case 8:
		n := int(g.Byte() % 5)
		l := make([]any, n)
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return l
	case 9:
		n := int(g.Byte() % 5)
		m := map[string]any{}
		for range n {
			m[g.str()] = g.value(depth + 1)
		}
		return m
	default:
		n := int(g.Byte() % 5)
		m := wire.Map{}
		for range n {
			m = append(m, wire.Field{Key: g.str(), Value: g.value(depth + 1)})
		}
		return m
	}
}

// plain turns every wire.Map into a map[string]any (the last of repeated
// keys winning, as in Salt's dict).
func plain(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	case map[string]any, wire.Map:
		fs, _ := fields(v)
		out := make(map[string]any, len(fs))
		for _, f := range fs {
			out[f.Key] = plain(f.Value)
		}
		return out
	}
	return v
}

func FuzzNested(f *testing.F) {
	f.Add([]byte{9, 2, 1, 'a', 5, 3, 'x', '\n', 'y', 1, 'b', 8, 3, 0, 1, 1, 10, 2, 1, 'k', 0, 1, 'k', 1, 1})
	f.Add([]byte{8, 4, 7, 1, 2, 3, 4, 5, 6, 7, 8, 4, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 6, 2, 0xff, 0xfe})
	f.Add([]byte("\x0a\x03\x02id\x05\x05hello\x02ab\x08\x02\x09\x00\x0a\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		g := valueFrom{fuzzinput.New(in)}
		data := map[string]any{}
		for n := int(g.Byte()%3) + 1; n > 0; n-- {
			data[g.str()] = g.value(0)
		}
		for _, opts := range []Options{{}, {Color: true, Retcode: 1, Indent: 3}} {
			o, err := New("nested", opts)
			if err != nil {
				t.Fatal(err)
			}
			var first, second, flat bytes.Buffer
			if err := o.Print(&first, data); err != nil {
				t.Fatal(err)
			}
			if err := o.Print(&second, data); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Fatalf("two prints differ:\n%q\n%q", first.Bytes(), second.Bytes())
			}
			// nested sorts keys, so the order a wire.Map holds must not
			// show.
			if err := o.Print(&flat, plain(data).(map[string]any)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), flat.Bytes()) {
				t.Fatalf("wire.Map and map print differently:\n%q\n%q", first.Bytes(), flat.Bytes())
			}
			// Values cannot write ESC (Salt turns it into "?"); keys
			// can, as in Salt, which prints them as they are.
			if !opts.Color && bytes.IndexByte(first.Bytes(), 0x1b) >= 0 && !escInKey(data) {
				t.Fatalf("ESC in uncoloured output: %q", first.Bytes())
			}
		}
		for _, name := range Names() {
			o, _ := New(name, Options{})
			if err := o.Print(&bytes.Buffer{}, data); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	})
}

func escInKey(v any) bool {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if escInKey(e) {
				return true
			}
		}
	case map[string]any, wire.Map:
		fs, _ := fields(v)
		for _, f := range fs {
			if bytes.IndexByte([]byte(f.Key), 0x1b) >= 0 || escInKey(f.Value) {
				return true
			}
		}
	}
	return false
}

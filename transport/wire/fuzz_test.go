package wire_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/brine-project/brine/internal/saltvectors"
	"github.com/brine-project/brine/transport/wire"
)

// fuzzSeeds are every captured payload and plaintext, plus inputs that
// reach the corners the captures do not (ext types, odd keys, bin, str8).
func fuzzSeeds(f *testing.F) {
	for _, b := range saltvectors.Payloads() {
		f.Add(b)
		f.Add(bytes.TrimPrefix(b, []byte("pickle::")))
	}
	for _, s := range []string{
		"c0", "81a161c3", "8101a161", "81c0c0", "8192010201",
		"cf8000000000000000", "ca7fc00000", "cb7ff8000000000001",
		"c7184e" + "32303236313132375430353a35383a33342e363830393134",
		"c70a4f92a74e4f545f534554c0", "d40561", "c403616263", "d903616263",
		"82a16101a16102", "dc0001c0", "de0001a16101",
	} {
		f.Add(unhex(f, s))
	}
	b, _ := wire.Marshal(typicalReturn())
	f.Add(b)
}

// FuzzUnmarshal: no input panics; anything that decodes re-encodes (both
// ways) to bytes that decode to an equal value, and Marshal is stable.
func FuzzUnmarshal(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := wire.Unmarshal(b)
		ov, oerr := wire.UnmarshalOrdered(b)
		if (err == nil) != (oerr == nil) {
			t.Fatalf("Unmarshal err %v, UnmarshalOrdered err %v", err, oerr)
		}
		if err != nil {
			return
		}
		if !equal(unorder(ov), v) {
			t.Fatalf("UnmarshalOrdered %#v and Unmarshal %#v disagree", ov, v)
		}
		for _, enc := range []struct {
			name    string
			marshal func(any) ([]byte, error)
		}{{"Marshal", wire.Marshal}, {"MarshalLocal", wire.MarshalLocal}} {
			re, err := enc.marshal(v)
			if err != nil {
				t.Fatalf("%s of a decoded value: %v", enc.name, err)
			}
			v2, err := wire.Unmarshal(re)
			if err != nil {
				t.Fatalf("Unmarshal(%s(v)) = %v", enc.name, err)
			}
			if !equal(v, v2) {
				t.Fatalf("%s round trip changed the value:\n got %#v\nwant %#v", enc.name, v2, v)
			}
			re2, err := enc.marshal(v2)
			if err != nil || !bytes.Equal(re, re2) {
				t.Fatalf("%s is not stable: %x then %x (%v)", enc.name, re, re2, err)
			}
		}
		ore, err := wire.Marshal(ov)
		if err != nil {
			t.Fatalf("Marshal of an ordered value: %v", err)
		}
		ov2, err := wire.UnmarshalOrdered(ore)
		if err != nil || !equal(ov, ov2) {
			t.Fatalf("ordered round trip: %#v, %v; want %#v", ov2, err, ov)
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := wire.DecodeRequest(b)
		if err != nil {
			if !errors.Is(err, wire.ErrBadEnvelope) {
				t.Fatalf("error %v does not wrap ErrBadEnvelope", err)
			}
			return
		}
		re, err := r.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a decoded request: %v", err)
		}
		r2, err := wire.DecodeRequest(re)
		if err != nil {
			t.Fatalf("DecodeRequest(Marshal(r)) = %v", err)
		}
		if r.Enc != r2.Enc || r.Version != r2.Version || r.ID != r2.ID || r.EncAlgo != r2.EncAlgo ||
			r.SigAlgo != r2.SigAlgo || !equal(r.Load, r2.Load) {
			t.Fatalf("round trip changed the request:\n got %#v\nwant %#v", r2, r)
		}
	})
}

func FuzzDecodePublication(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := wire.DecodePublication(b)
		if err != nil {
			if !errors.Is(err, wire.ErrBadEnvelope) {
				t.Fatalf("error %v does not wrap ErrBadEnvelope", err)
			}
			return
		}
		re, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a decoded publication: %v", err)
		}
		p2, err := wire.DecodePublication(re)
		if err != nil {
			t.Fatalf("DecodePublication(Marshal(p)) = %v", err)
		}
		if !bytes.Equal(p.Load, p2.Load) || p.SigAlgo != p2.SigAlgo || !bytes.Equal(p.Sig, p2.Sig) {
			t.Fatalf("round trip changed the publication:\n got %#v\nwant %#v", p2, p)
		}
	})
}

func FuzzDecodeSignedReply(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := wire.DecodeSignedReply(b)
		if err != nil {
			if !errors.Is(err, wire.ErrBadEnvelope) {
				t.Fatalf("error %v does not wrap ErrBadEnvelope", err)
			}
			return
		}
		re, err := r.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a decoded reply: %v", err)
		}
		r2, err := wire.DecodeSignedReply(re)
		if err != nil || !bytes.Equal(r.Load, r2.Load) || !bytes.Equal(r.Sig, r2.Sig) {
			t.Fatalf("round trip: %#v, %v; want %#v", r2, err, r)
		}
	})
}

// equal is reflect.DeepEqual, except that floats compare by their bits (a
// NaN equals itself) and times by instant.
func equal(a, b any) bool {
	switch a := a.(type) {
	case float64:
		bf, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(bf)
	case time.Time:
		bt, ok := b.(time.Time)
		return ok && a.Equal(bt)
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !equal(a[i], bl[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			w, ok := bm[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	case wire.Map:
		bm, ok := b.(wire.Map)
		if !ok || len(a) != len(bm) {
			return false
		}
		for i := range a {
			if a[i].Key != bm[i].Key || !equal(a[i].Value, bm[i].Value) {
				return false
			}
		}
		return true
	case wire.Constant:
		bc, ok := b.(wire.Constant)
		return ok && a.Name == bc.Name && equal(a.Value, bc.Value)
	}
	return reflect.DeepEqual(a, b)
}

package wire_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/transport/wire"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMarshalSaltForms pins the bytes salt.payload.dumps writes, with
// use_bin_type False (Marshal) and True (MarshalLocal).
func TestMarshalSaltForms(t *testing.T) {
	str76 := strings.Repeat("A", 76)
	bin256 := bytes.Repeat([]byte{0xff}, 256)
	tests := []struct {
		name  string
		v     any
		wire  string // hex prefix of Marshal's output
		local string // hex prefix of MarshalLocal's output
	}{
		{"empty string", "", "a0", "a0"},
		{"31-byte string is fixstr", strings.Repeat("x", 31), "bf78", "bf78"},
		{"32-byte nonce is str16, never str8", strings.Repeat("0", 32), "da0020 30", "d920 30"},
		{"76-char key string", str76, "da004c 41", "d94c 41"},
		{"255 bytes", strings.Repeat("x", 255), "da00ff", "d9ff"},
		{"65535 bytes", strings.Repeat("x", 65535), "daffff", "daffff"},
		{"65536 bytes is str32", strings.Repeat("x", 65536), "db00010000", "db00010000"},
		{"256-byte RSA blob is str16 on the wire, bin16 locally", bin256, "da0100ff", "c50100ff"},
		{"short bytes", []byte{1, 2}, "a20102", "c4020102"},
		{"nil bytes are empty", []byte(nil), "a0", "c400"},
		{"nil", nil, "c0", "c0"},
		{"false", false, "c2", "c2"},
		{"true", true, "c3", "c3"},
		{"0", 0, "00", "00"},
		{"127", 127, "7f", "7f"},
		{"128 is uint8", 128, "cc80", "cc80"},
		{"publish_port 14505", 14505, "cd38a9", "cd38a9"},
		{"ts is uint32", int64(1795759110), "ce6b091c06", "ce6b091c06"},
		{"2^32 is uint64", int64(1) << 32, "cf0000000100000000", "cf0000000100000000"},
		{"max uint64", uint64(math.MaxUint64), "cfffffffffffffffff", "cfffffffffffffffff"},
		{"-1", -1, "ff", "ff"},
		{"-32", -32, "e0", "e0"},
		{"-33 is int8", -33, "d0df", "d0df"},
		{"-129 is int16", -129, "d1ff7f", "d1ff7f"},
		{"-32769 is int32", -32769, "d2ffff7fff", "d2ffff7fff"},
		{"min int64", int64(math.MinInt64), "d38000000000000000", "d38000000000000000"},
		{"uint8 value", uint8(200), "ccc8", "ccc8"},
		{"float64", 1.5, "cb3ff8000000000000", "cb3ff8000000000000"},
		{"float32 is written as a double", float32(1.5), "cb3ff8000000000000", "cb3ff8000000000000"},
		{"list", []any{1, "two"}, "9201a374776f", "9201a374776f"},
		{"[]string", []string{"a"}, "91a161", "91a161"},
		{"[]int", []int{1, 2}, "920102", "920102"},
		{"[4]byte is bytes", [4]byte{1, 2, 3, 4}, "a401020304", "c40401020304"},
		{"map is sorted", map[string]any{"b": 1, "a": 2}, "82a16102a16201", "82a16102a16201"},
		{"map[string]string is sorted", map[string]string{"z": "1", "y": "2"}, "82a179a132a17aa131", "82a179a132a17aa131"},
		{"Map keeps its order", wire.Map{{"b", 1}, {"a", 2}}, "82a16201a16102", "82a16201a16102"},
		{"[]Field", []wire.Field{{"k", nil}}, "81a16bc0", "81a16bc0"},
		{"map[int]string sorted by number", map[int]string{10: "a", 2: "b"}, "8202a1620aa161", "8202a1620aa161"},
		{"pointer", ptr("x"), "a178", "a178"},
		{"nil pointer", (*string)(nil), "c0", "c0"},
		{"named string", kind("x"), "a178", "a178"},
		{"datetime is ext 78", time.Date(2026, 11, 27, 5, 58, 34, 680914000, time.UTC),
			"c7184e" + hex.EncodeToString([]byte("20261127T05:58:34.680914")), ""},
		{"Constant is ext 79 of [name, value] packed use_bin_type=True", wire.Constant{Name: strings.Repeat("N", 40), Value: nil},
			"c72c4f 92 d928", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wire.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.wire); !bytes.HasPrefix(got, want) {
				t.Errorf("Marshal = %x, want prefix %x", head(got), want)
			}
			got, err = wire.MarshalLocal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if tt.local == "" {
				tt.local = tt.wire
			}
			if want := unhex(t, tt.local); !bytes.HasPrefix(got, want) {
				t.Errorf("MarshalLocal = %x, want prefix %x", head(got), want)
			}
		})
	}
}

type kind string

func ptr[T any](v T) *T { return &v }

func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

func TestUnmarshalValues(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"UTF-8 str is a string", "a3616263", "abc"},
		{"non-UTF-8 str is bytes", "a2ff00", []byte{0xff, 0x00}},
		{"surrogate half is not UTF-8", "a3eda080", []byte{0xed, 0xa0, 0x80}},
		{"UTF-8 bin is a string too", "c403616263", "abc"},
		{"non-UTF-8 bin is bytes", "c401ff", []byte{0xff}},
		{"str8 is accepted", "d903616263", "abc"},
		{"str32", "db00000001 61", "a"},
		{"bin32", "c600000001 ff", []byte{0xff}},
		{"empty str", "a0", ""},
		{"nil", "c0", nil},
		{"true", "c3", true},
		{"positive fixint", "05", int64(5)},
		{"negative fixint", "ff", int64(-1)},
		{"uint8", "ccff", int64(255)},
		{"uint32", "ce6b091c06", int64(1795759110)},
		{"uint64 below 2^63 is int64", "cf7fffffffffffffff", int64(math.MaxInt64)},
		{"2^63 is uint64", "cf8000000000000000", uint64(1) << 63},
		{"max uint64", "cfffffffffffffffff", uint64(math.MaxUint64)},
		{"int8", "d080", int64(-128)},
		{"int64", "d38000000000000000", int64(math.MinInt64)},
		{"float32 becomes float64", "ca3fc00000", 1.5},
		{"float64", "cb3ff8000000000000", 1.5},
		{"array", "9201a174", []any{int64(1), "t"}},
		{"array16", "dc0001c0", []any{nil}},
		{"map", "81a16101", map[string]any{"a": int64(1)}},
		{"map16", "de0001a16101", map[string]any{"a": int64(1)}},
		{"int key", "8101a161", map[string]any{"1": "a"}},
		{"negative int key", "81ffa161", map[string]any{"-1": "a"}},
		{"nil key", "81c0a161", map[string]any{"<nil>": "a"}},
		{"bool key", "81c3a161", map[string]any{"true": "a"}},
		{"non-UTF-8 key keeps its bytes", "81a1ff01", map[string]any{"\xff": int64(1)}},
		{"list key is formatted", "8192010201", map[string]any{"[1 2]": int64(1)}},
		{"duplicate key: last value wins", "82a16101a16102", map[string]any{"a": int64(2)}},
		{"ext 78", "c7184e" + hex.EncodeToString([]byte("20261127T05:58:34.680914")),
			time.Date(2026, 11, 27, 5, 58, 34, 680914000, time.UTC)},
		{"ext 78 with a short fraction", "c7134e" + hex.EncodeToString([]byte("20261127T05:58:34.5")),
			time.Date(2026, 11, 27, 5, 58, 34, 500000000, time.UTC)},
		{"ext 79", "c70a4f 92 a7 " + hex.EncodeToString([]byte("NOT_SET")) + "c0", wire.Constant{Name: "NOT_SET"}},
		{"ext 79 with a bin value", "c7084f 92 a1 4e c4 03 616263", wire.Constant{Name: "N", Value: "abc"}},
		{"other ext: its bytes, as Salt's hook returns them", "d40561", "a"},
		{"other ext, not UTF-8", "d505ffff", []byte{0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wire.Unmarshal(unhex(t, tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestUnmarshalOrderedDuplicates(t *testing.T) {
	// A Python dict keeps the first position of a key and its last value.
	in := "83 a161 01 a162 02 a161 03"
	got, err := wire.UnmarshalOrdered(unhex(t, in))
	if err != nil {
		t.Fatal(err)
	}
	want := wire.Map{{"a", int64(3)}, {"b", int64(2)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	// The same for a map big enough to be indexed: 40 keys "A".."h", then
	// "C" again.
	b := []byte{0xde, 0x00, 41}
	for i := range 40 {
		b = append(b, 0xa1, byte('A'+i), byte(i))
	}
	b = append(b, 0xa1, 'C', 99)
	got, err = wire.UnmarshalOrdered(b)
	if err != nil {
		t.Fatal(err)
	}
	gm := got.(wire.Map)
	if len(gm) != 40 || gm[2].Key != "C" || gm[2].Value != int64(99) || gm[39].Key != "h" {
		t.Errorf("got %d fields, [2] = %#v", len(gm), gm[2])
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		is   error // nil: any error
	}{
		{"empty", "", wire.ErrTruncated},
		{"str16 cut in its length", "da00", wire.ErrTruncated},
		{"str cut in its body", "a3 6162", wire.ErrTruncated},
		{"array announcing 2^32-1 elements", "ddffffffff", wire.ErrTruncated},
		{"map announcing 2^32-1 entries", "dfffffffff", wire.ErrTruncated},
		{"str32 announcing 4 GiB", "dbffffffff", wire.ErrTruncated},
		{"bin32 announcing 4 GiB", "c6ffffffff", wire.ErrTruncated},
		{"ext32 announcing 4 GiB", "c9ffffffff4e", wire.ErrTruncated},
		{"map missing its value", "81a161", wire.ErrTruncated},
		{"float cut", "cb3ff8", wire.ErrTruncated},
		{"never-used code", "c1", nil},
		{"trailing bytes", "c0c0", nil},
		{"bad datetime", "c7054e" + hex.EncodeToString([]byte("hello")), nil},
		{"datetime Feb 30", "c7184e" + hex.EncodeToString([]byte("20260230T00:00:00.000000")), nil},
		{"datetime hour 24", "c7184e" + hex.EncodeToString([]byte("20260101T24:00:00.000000")), nil},
		{"datetime year 0", "c7184e" + hex.EncodeToString([]byte("00000101T00:00:00.000000")), nil},
		{"datetime 7 fraction digits", "c7194e" + hex.EncodeToString([]byte("20260101T00:00:00.0000000")), nil},
		{"constant not a pair", "d4 4f 90", nil},
		{"constant name not a string", "c7034f 92 01 c0", nil},
		{"constant with trailing bytes", "c7044f 92 a0 c0 c0", nil},
		{"constant body truncated", "c7024f 92 a0", wire.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := wire.Unmarshal(unhex(t, tt.in))
			if err == nil {
				t.Fatalf("no error, got %#v", v)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %q", err, tt.is)
			}
			if !strings.HasPrefix(err.Error(), "wire: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestDepth(t *testing.T) {
	nest := func(open string, n int, leaf string) []byte {
		return unhex(t, strings.Repeat(open, n)+leaf)
	}
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"arrays at MaxDepth", nest("91", wire.MaxDepth, "c0"), true},
		{"arrays past MaxDepth", nest("91", wire.MaxDepth+1, "c0"), false},
		{"maps at MaxDepth", nest("81a0", wire.MaxDepth, "c0"), true},
		{"maps past MaxDepth", nest("81a0", wire.MaxDepth+1, "c0"), false},
		{"a deep key past MaxDepth", unhex(t, strings.Repeat("91", wire.MaxDepth-1)+"81"+strings.Repeat("91", 2)+"c0c0"), false},
		{"a million arrays", nest("91", 1_000_000, "c0"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ordered := range []bool{false, true} {
				var v any
				var err error
				if ordered {
					v, err = wire.UnmarshalOrdered(tt.in)
				} else {
					v, err = wire.Unmarshal(tt.in)
				}
				if tt.ok {
					if err != nil {
						t.Fatalf("ordered=%v: %v", ordered, err)
					}
					// What decodes at the limit also encodes.
					b, err := wire.Marshal(v)
					if err != nil {
						t.Fatalf("Marshal: %v", err)
					}
					if !bytes.Equal(b, tt.in) {
						t.Errorf("Marshal gave %x", head(b))
					}
					continue
				}
				if !errors.Is(err, wire.ErrDepth) {
					t.Fatalf("ordered=%v: got %v, want ErrDepth", ordered, err)
				}
			}
		})
	}

	t.Run("Marshal past MaxDepth", func(t *testing.T) {
		var v any = "leaf"
		for range wire.MaxDepth + 1 {
			v = []any{v}
		}
		if _, err := wire.Marshal(v); !errors.Is(err, wire.ErrDepth) {
			t.Errorf("got %v, want ErrDepth", err)
		}
	})
	t.Run("Marshal of a cycle", func(t *testing.T) {
		m := map[string]any{}
		m["self"] = m
		if _, err := wire.Marshal(m); !errors.Is(err, wire.ErrDepth) {
			t.Errorf("got %v, want ErrDepth", err)
		}
		var p any
		p = &p
		if _, err := wire.Marshal(p); !errors.Is(err, wire.ErrDepth) {
			t.Errorf("pointer cycle: got %v, want ErrDepth", err)
		}
	})
}

// TestTruncatedVectors cuts a real load at every length: each prefix is an
// error wrapping ErrTruncated, never a panic.
func TestTruncatedVectors(t *testing.T) {
	full, err := wire.Marshal(typicalReturn())
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(full) {
		if _, err := wire.Unmarshal(full[:n]); !errors.Is(err, wire.ErrTruncated) {
			t.Fatalf("prefix of %d bytes: got %v, want ErrTruncated", n, err)
		}
		if _, _, err := wire.UnmarshalNext(full[:n]); !errors.Is(err, wire.ErrTruncated) {
			t.Fatalf("UnmarshalNext, prefix of %d bytes: got %v, want ErrTruncated", n, err)
		}
	}
}

func TestUnmarshalNext(t *testing.T) {
	a, _ := wire.MarshalLocal(wire.Map{{"head", wire.Map{}}, {"body", []byte("salt/auth\n\n\x80")}})
	b, _ := wire.MarshalLocal(map[string]any{"x": 1})
	stream := append(append([]byte{}, a...), b...)
	v, n, err := wire.UnmarshalNext(stream)
	if err != nil || n != len(a) {
		t.Fatalf("first: n=%d err=%v, want n=%d", n, err, len(a))
	}
	if body, _ := wire.Bytes(v.(map[string]any), "body"); string(body) != "salt/auth\n\n\x80" {
		t.Errorf("body = %q", body)
	}
	v, n, err = wire.UnmarshalNext(stream[len(a):])
	if err != nil || n != len(b) || !reflect.DeepEqual(v, map[string]any{"x": int64(1)}) {
		t.Errorf("second: %#v n=%d err=%v", v, n, err)
	}
}

func TestDatetime(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"UTC", time.Date(2026, 11, 27, 5, 58, 34, 680914000, time.UTC), "20261127T05:58:34.680914"},
		{"other zones are written as UTC", time.Date(2026, 11, 27, 6, 58, 34, 0, time.FixedZone("CET", 3600)), "20261127T05:58:34.000000"},
		{"nanoseconds are truncated to %f", time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, time.UTC), "20260102T03:04:05.999999"},
		{"year 1", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "00010101T00:00:00.000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := wire.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte{0xc7, byte(len(tt.want)), wire.ExtDatetime}, tt.want...)
			if !bytes.Equal(b, want) {
				t.Fatalf("got %x, want %x", b, want)
			}
			v, err := wire.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.(time.Time); !got.Equal(tt.in.Truncate(time.Microsecond)) || got.Location() != time.UTC {
				t.Errorf("round trip gave %v", got)
			}
		})
	}
	if _, err := wire.Marshal(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, wire.ErrType) {
		t.Errorf("year 10000: got %v, want ErrType", err)
	}
	if _, err := wire.Marshal(time.Time{}); err != nil {
		t.Errorf("zero time (year 1): %v", err)
	}
}

func TestMarshalRejects(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"struct", struct{ A int }{1}},
		{"chan", make(chan int)},
		{"func", func() {}},
		{"map with float keys", map[float64]int{1: 1}},
		{"struct inside", []any{struct{}{}}},
		{"complex", complex(1, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := wire.Marshal(tt.v); !errors.Is(err, wire.ErrType) {
				t.Errorf("got %v, want ErrType", err)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	m := map[string]any{
		"s":    "text",
		"b":    []byte{0xff},
		"n":    int64(-5),
		"big":  uint64(math.MaxUint64),
		"f":    1.0,
		"t":    true,
		"l":    []any{int64(1)},
		"m":    map[string]any{},
		"null": nil,
	}
	tests := []struct {
		name string
		call func() (any, error)
		want any
		is   error
	}{
		{"String", func() (any, error) { return wire.String(m, "s") }, "text", nil},
		{"String of bytes", func() (any, error) { return wire.String(m, "b") }, nil, wire.ErrType},
		{"String missing", func() (any, error) { return wire.String(m, "x") }, nil, wire.ErrMissing},
		{"String of nil", func() (any, error) { return wire.String(m, "null") }, nil, wire.ErrType},
		{"Bytes of bytes", func() (any, error) { return wire.Bytes(m, "b") }, []byte{0xff}, nil},
		{"Bytes of a string", func() (any, error) { return wire.Bytes(m, "s") }, []byte("text"), nil},
		{"Bytes of an int", func() (any, error) { return wire.Bytes(m, "n") }, nil, wire.ErrType},
		{"Bytes missing", func() (any, error) { return wire.Bytes(m, "x") }, nil, wire.ErrMissing},
		{"Int", func() (any, error) { return wire.Int(m, "n") }, int64(-5), nil},
		{"Int above MaxInt64", func() (any, error) { return wire.Int(m, "big") }, nil, wire.ErrType},
		{"Int of a float", func() (any, error) { return wire.Int(m, "f") }, nil, wire.ErrType},
		{"Int missing", func() (any, error) { return wire.Int(m, "x") }, nil, wire.ErrMissing},
		{"Bool", func() (any, error) { return wire.Bool(m, "t") }, true, nil},
		{"Bool of a string", func() (any, error) { return wire.Bool(m, "s") }, nil, wire.ErrType},
		{"List", func() (any, error) { return wire.List(m, "l") }, []any{int64(1)}, nil},
		{"List of a map", func() (any, error) { return wire.List(m, "m") }, nil, wire.ErrType},
		{"SubMap", func() (any, error) { return wire.SubMap(m, "m") }, map[string]any{}, nil},
		{"SubMap missing", func() (any, error) { return wire.SubMap(m, "x") }, nil, wire.ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if tt.is != nil {
				var fe *wire.FieldError
				if !errors.Is(err, tt.is) || !errors.As(err, &fe) {
					t.Fatalf("got %v, want a *FieldError wrapping %v", err, tt.is)
				}
				if !strings.Contains(err.Error(), `"`+fe.Key+`"`) {
					t.Errorf("error %q does not name the field", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if s, ok := wire.OptString(m, "s"); !ok || s != "text" {
		t.Errorf("OptString(s) = %q, %v", s, ok)
	}
	if _, ok := wire.OptString(m, "n"); ok {
		t.Error("OptString of an int reported ok")
	}
	if _, ok := wire.OptString(m, "x"); ok {
		t.Error("OptString of a missing key reported ok")
	}
	_, err := wire.String(m, "n")
	if want := `wire: field "n": want string, got int`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestUnmarshalShapes(t *testing.T) {
	if _, err := wire.UnmarshalMap(unhex(t, "90")); !errors.Is(err, wire.ErrNotMap) {
		t.Errorf("UnmarshalMap(array): got %v, want ErrNotMap", err)
	}
	if b, err := wire.UnmarshalBytes(unhex(t, "a2ff00")); err != nil || !bytes.Equal(b, []byte{0xff, 0}) {
		t.Errorf("UnmarshalBytes = %x, %v", b, err)
	}
	if b, err := wire.UnmarshalBytes(unhex(t, "a161")); err != nil || string(b) != "a" {
		t.Errorf("UnmarshalBytes of UTF-8 = %q, %v", b, err)
	}
	if _, err := wire.UnmarshalBytes(unhex(t, "c0")); !errors.Is(err, wire.ErrType) {
		t.Errorf("UnmarshalBytes(nil): got %v, want ErrType", err)
	}
	// Decoded values do not alias the input.
	in := unhex(t, "81a161a2ff00")
	m, _ := wire.UnmarshalMap(in)
	in[4] = 0
	if !bytes.Equal(m["a"].([]byte), []byte{0xff, 0}) {
		t.Error("decoded bytes alias the input")
	}
}

func TestRequest(t *testing.T) {
	aesLoad := bytes.Repeat([]byte{0x85}, 96)
	tests := []struct {
		name string
		req  wire.Request
		want wire.Map // the envelope Marshal must write, in order
	}{
		{"clear", wire.Request{Enc: "clear", Load: wire.Map{{"cmd", "_auth"}}, Version: 3},
			wire.Map{{"enc", "clear"}, {"load", wire.Map{{"cmd", "_auth"}}}, {"version", 3}}},
		{"clear without version", wire.Request{Enc: "clear", Load: map[string]any{"cmd": "ping"}},
			wire.Map{{"enc", "clear"}, {"load", map[string]any{"cmd": "ping"}}}},
		{"aes v3", wire.Request{Enc: "aes", Load: aesLoad, Version: 3, ID: "m1", EncAlgo: "OAEP-SHA1", SigAlgo: "PKCS1v15-SHA1"},
			wire.Map{{"enc", "aes"}, {"load", aesLoad}, {"version", 3}, {"id", "m1"}, {"enc_algo", "OAEP-SHA1"}, {"sig_algo", "PKCS1v15-SHA1"}}},
		{"aes v2", wire.Request{Enc: "aes", Load: aesLoad, Version: 2, EncAlgo: "OAEP-SHA224", SigAlgo: "PKCS1v15-SHA224"},
			wire.Map{{"enc", "aes"}, {"load", aesLoad}, {"version", 2}, {"enc_algo", "OAEP-SHA224"}, {"sig_algo", "PKCS1v15-SHA224"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.req.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			want, _ := wire.Marshal(tt.want)
			if !bytes.Equal(b, want) {
				t.Fatalf("Marshal = %x, want %x", head(b), head(want))
			}
			r, err := wire.DecodeRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			wantReq := tt.req
			wantReq.Load = unorder(wantReq.Load)
			if !reflect.DeepEqual(*r, wantReq) {
				t.Errorf("decoded %#v, want %#v", *r, wantReq)
			}
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		env  any
		is   error
	}{
		{"not a map", []any{}, wire.ErrNotMap},
		{"no enc", map[string]any{"load": map[string]any{}}, wire.ErrMissing},
		{"enc not a string", map[string]any{"enc": 1, "load": map[string]any{}}, wire.ErrType},
		{"unknown enc", map[string]any{"enc": "pub", "load": map[string]any{}}, nil},
		{"no load", map[string]any{"enc": "clear"}, wire.ErrMissing},
		{"clear load is bytes", map[string]any{"enc": "clear", "load": []byte{1}}, wire.ErrType},
		{"aes load is a map", map[string]any{"enc": "aes", "load": map[string]any{}}, wire.ErrType},
		{"version is a string", map[string]any{"enc": "clear", "load": map[string]any{}, "version": "3"}, wire.ErrType},
		{"version is negative", map[string]any{"enc": "clear", "load": map[string]any{}, "version": -1}, wire.ErrType},
		{"id is an int", map[string]any{"enc": "aes", "load": []byte{1}, "id": 7}, wire.ErrType},
		{"sig_algo is nil", map[string]any{"enc": "aes", "load": []byte{1}, "sig_algo": nil}, wire.ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := wire.Marshal(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			_, err = wire.DecodeRequest(b)
			if !errors.Is(err, wire.ErrBadEnvelope) {
				t.Fatalf("got %v, want ErrBadEnvelope", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if !strings.HasPrefix(err.Error(), "wire: bad request: ") || strings.Count(err.Error(), "wire:") != 1 {
				t.Errorf("error %q: want one prefix %q", err, "wire: bad request: ")
			}
		})
	}
	if _, err := wire.DecodeRequest([]byte{0xc1}); !errors.Is(err, wire.ErrBadEnvelope) {
		t.Errorf("garbage: got %v, want ErrBadEnvelope", err)
	}

	bad := []wire.Request{
		{Enc: "clear", Load: []byte{1}},
		{Enc: "clear"},
		{Enc: "aes", Load: map[string]any{}},
		{Enc: "plain", Load: map[string]any{}},
		{Enc: "clear", Load: map[string]any{"x": struct{}{}}},
	}
	for _, r := range bad {
		if _, err := r.Marshal(); !errors.Is(err, wire.ErrBadEnvelope) {
			t.Errorf("Marshal(%+v): got %v, want ErrBadEnvelope", r, err)
		}
	}
}

func TestSignedReply(t *testing.T) {
	inner, _ := wire.Marshal(wire.Map{{"ret", true}, {"nonce", strings.Repeat("c", 32)}})
	sig := bytes.Repeat([]byte{0x9d}, 256)
	r := wire.SignedReply{Load: inner, Sig: sig}
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// The pending reply of capture c: 329 bytes, load as str16 of 47 bytes.
	if len(b) != 329 || !bytes.HasPrefix(b, unhex(t, "83 a3656e63 a5636c656172 a46c6f6164 da002f 82a3726574c3")) {
		t.Errorf("Marshal = %d bytes %x", len(b), head(b))
	}
	got, err := wire.DecodeSignedReply(b)
	if err != nil || !reflect.DeepEqual(*got, r) {
		t.Fatalf("DecodeSignedReply = %+v, %v", got, err)
	}
	for name, env := range map[string]any{
		"enc aes":       wire.Map{{"enc", "aes"}, {"load", inner}, {"sig", sig}},
		"no sig":        wire.Map{{"enc", "clear"}, {"load", inner}},
		"unsigned load": wire.Map{{"enc", "clear"}, {"load", wire.Map{{"ret", "bad enc algo"}}}},
	} {
		b, _ := wire.Marshal(env)
		if _, err := wire.DecodeSignedReply(b); !errors.Is(err, wire.ErrBadEnvelope) {
			t.Errorf("%s: got %v, want ErrBadEnvelope", name, err)
		}
	}
}

func TestPublication(t *testing.T) {
	blob := bytes.Repeat([]byte{0xfc}, 112)
	sig := bytes.Repeat([]byte{0x01}, 256)
	tests := []struct {
		name string
		p    wire.Publication
		want wire.Map
	}{
		{"signed", wire.Publication{Load: blob, SigAlgo: "PKCS1v15-SHA1", Sig: sig},
			wire.Map{{"enc", "aes"}, {"load", blob}, {"sig_algo", "PKCS1v15-SHA1"}, {"sig", sig}}},
		{"unsigned", wire.Publication{Load: blob}, wire.Map{{"enc", "aes"}, {"load", blob}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := wire.Marshal(tt.want); !bytes.Equal(b, want) {
				t.Fatalf("Marshal = %x, want %x", head(b), head(want))
			}
			got, err := wire.DecodePublication(b)
			if err != nil || !reflect.DeepEqual(*got, tt.p) {
				t.Errorf("DecodePublication = %+v, %v", got, err)
			}
		})
	}
	for name, env := range map[string]any{
		"enc clear":        wire.Map{{"enc", "clear"}, {"load", blob}},
		"load is a map":    wire.Map{{"enc", "aes"}, {"load", wire.Map{}}},
		"sig_algo not str": wire.Map{{"enc", "aes"}, {"load", blob}, {"sig_algo", 1}},
		"sig is nil":       wire.Map{{"enc", "aes"}, {"load", blob}, {"sig", nil}},
	} {
		b, _ := wire.Marshal(env)
		if _, err := wire.DecodePublication(b); !errors.Is(err, wire.ErrBadEnvelope) {
			t.Errorf("%s: got %v, want ErrBadEnvelope", name, err)
		}
	}
}

// typicalReturn is a minion's _return load for a small job, in Salt's
// order, with the fields the channel adds.
func typicalReturn() wire.Map {
	return wire.Map{
		{"cmd", "_return"},
		{"id", "real-minion-1"},
		{"success", true},
		{"return", wire.Map{
			{"args", []any{1, "two"}},
			{"kwargs", wire.Map{{"three", 3}, {"__pub_fun", "test.arg"}, {"__pub_jid", "20261127055836412264"}}},
		}},
		{"retcode", 0},
		{"jid", "20261127055836412264"},
		{"fun", "test.arg"},
		{"fun_args", []any{1, "two", wire.Map{{"three", 3}}}},
		{"user", "root"},
		{"_stamp", "2026-11-27T05:58:36.200913"},
		{"nonce", "0bfe33aff6ca4b7d829b52370eaef0ae"},
		{"ts", 1795759116},
		{"tok", bytes.Repeat([]byte{0x5b, 0x4b, 0xb0, 0x55}, 64)},
	}
}

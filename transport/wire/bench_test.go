package wire_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/brine-project/brine/internal/saltvectors"
	"github.com/brine-project/brine/transport/wire"
)

// capturedGrains returns the msgpack of the _pillar request in capture b
// (the minion's grains, 4 KB, the most varied load in the captures), or
// skips.
func capturedGrains(b *testing.B) []byte {
	dir := saltvectors.Dir(b)
	p, err := os.ReadFile(filepath.Join(dir, "b-master-restart", "plain", "002_request.bin"))
	if err != nil {
		b.Fatal(err)
	}
	return bytes.TrimPrefix(p, []byte("pickle::"))
}

func BenchmarkUnmarshal(b *testing.B) {
	ret, err := wire.Marshal(typicalReturn())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		in   func(*testing.B) []byte
	}{
		{"return", func(*testing.B) []byte { return ret }},
		{"pillar-grains", capturedGrains},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := bc.in(b)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wire.Unmarshal(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	for _, bc := range []struct {
		name    string
		ordered bool
		in      func(*testing.B) []byte
	}{
		{"return/Map", true, func(b *testing.B) []byte { r, _ := wire.Marshal(typicalReturn()); return r }},
		{"return/map", false, func(b *testing.B) []byte { r, _ := wire.Marshal(typicalReturn()); return r }},
		{"pillar-grains/Map", true, capturedGrains},
		{"pillar-grains/map", false, capturedGrains},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := bc.in(b)
			var v any
			var err error
			if bc.ordered {
				v, err = wire.UnmarshalOrdered(in)
			} else {
				v, err = wire.Unmarshal(in)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wire.Marshal(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	load, _ := wire.Marshal(typicalReturn())
	aes, _ := (&wire.Request{Enc: wire.EncAES, Load: bytes.Repeat([]byte{0x85}, len(load)+48), Version: 3,
		ID: "real-minion-1", EncAlgo: "OAEP-SHA1", SigAlgo: "PKCS1v15-SHA1"}).Marshal()
	clear, _ := (&wire.Request{Enc: wire.EncClear, Version: 3, Load: wire.Map{
		{"cmd", "publish"}, {"tgt", "*"}, {"fun", "test.ping"}, {"arg", []any{}},
		{"key", "AKavYThzH7bNc5QHP4E1K1JPzBP0xTzADK9Sk5AAIgNVOiBT7JWKn+HRUOALszu4Mvdmvw+CH1U="},
		{"tgt_type", "glob"}, {"ret", ""}, {"jid", ""},
		{"kwargs", wire.Map{{"show_timeout", true}, {"show_jid", false}, {"delimiter", ":"}}},
		{"user", "root"},
	}}).Marshal()
	for _, bc := range []struct {
		name string
		in   []byte
	}{{"aes", aes}, {"clear-publish", clear}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wire.DecodeRequest(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

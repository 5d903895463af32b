// Package fuzzinput reads a fuzz input as a stream of choices, for fuzz
// targets that build structured values (a type, then its content) out of
// the bytes the fuzzer mutates. It is for tests only.
package fuzzinput

import "encoding/binary"

// Input hands out the bytes of a fuzz input in order. Once they run out it
// hands out zeros and empty slices rather than failing, so that every
// input builds some value and the fuzzer need not learn a length prefix.
// The zero Input is empty. An Input is not safe for concurrent use.
type Input struct{ b []byte }

// New returns an Input that reads b. It does not copy b.
func New(b []byte) *Input { return &Input{b: b} }

// Byte returns the next byte, or 0 at the end.
func (in *Input) Byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

// Bytes returns the next n bytes, or fewer at the end. The slice is
// capped, so appending to it cannot overwrite the rest of the input.
func (in *Input) Bytes(n int) []byte {
	n = min(n, len(in.b))
	p := in.b[:n:n]
	in.b = in.b[n:]
	return p
}

// Uint64 returns the next 8 bytes as a little-endian uint64, zero-padded
// at the end.
func (in *Input) Uint64() uint64 {
	var p [8]byte
	copy(p[:], in.Bytes(8))
	return binary.LittleEndian.Uint64(p[:])
}

// Str returns a string of Byte() % limit bytes (fewer at the end), which
// need not be valid UTF-8.
func (in *Input) Str(limit int) string {
	return string(in.Bytes(int(in.Byte()) % limit))
}

package zmtp

import (
	"bytes"
	"fmt"
)

// GreetingSize is the length of a ZMTP 3.x greeting.
const GreetingSize = 64

// Version is the ZMTP revision this package speaks.
const (
	VersionMajor = 3
	VersionMinor = 1
)

// MechanismNull names the NULL security mechanism, the only one Salt uses.
const MechanismNull = "NULL"

// Greeting is the fixed-size preamble each side sends first.
type Greeting struct {
	Major, Minor uint8
	Mechanism    string // at most 20 bytes
	AsServer     bool
}

// Append appends the 64-byte wire form of g to dst.
//
// The signature padding carries 1 (an empty identity plus one, as libzmq
// writes it for compatibility with ZMTP 1.0 peers).
func (g Greeting) Append(dst []byte) []byte {
	var b [GreetingSize]byte
	b[0] = 0xff
	b[8] = 0x01
	b[9] = 0x7f
	b[10] = g.Major
	b[11] = g.Minor
	copy(b[12:32], g.Mechanism)
	if g.AsServer {
		b[32] = 1
	}
	return append(dst, b[:]...)
}

// ParseSignature checks the first 11 bytes of a greeting: the signature and
// the major version. A peer that is not ZMTP at all, or that speaks a
// revision older than 3.0, is refused here, before anything else is read, so
// that an old peer waiting for our reply does not hold the connection until
// the handshake deadline.
func ParseSignature(b []byte) (major uint8, err error) {
	if len(b) < 11 {
		return 0, fmt.Errorf("%w: short signature", ErrGreeting)
	}
	if b[0] != 0xff || b[9] != 0x7f {
		return 0, fmt.Errorf("%w: not a ZMTP signature", ErrGreeting)
	}
	if b[10] < 3 {
		return 0, fmt.Errorf("%w: peer speaks ZMTP %d.x, 3.0 or later needed", ErrGreeting, b[10])
	}
	return b[10], nil
}

// ParseGreeting parses a whole 64-byte greeting.
func ParseGreeting(b []byte) (Greeting, error) {
	if len(b) != GreetingSize {
		return Greeting{}, fmt.Errorf("%w: %d bytes, want %d", ErrGreeting, len(b), GreetingSize)
	}
	major, err := ParseSignature(b)
	if err != nil {
		return Greeting{}, err
	}
	mech := b[12:32]
	if i := bytes.IndexByte(mech, 0); i >= 0 {
		// The rest of the field must be NUL padding.
		if bytes.ContainsFunc(mech[i:], func(r rune) bool { return r != 0 }) {
			return Greeting{}, fmt.Errorf("%w: mechanism not NUL-padded", ErrGreeting)
		}
		mech = mech[:i]
	}
	if b[32] > 1 {
		return Greeting{}, fmt.Errorf("%w: as-server byte %#x", ErrGreeting, b[32])
	}
	return Greeting{Major: major, Minor: b[11], Mechanism: string(mech), AsServer: b[32] == 1}, nil
}

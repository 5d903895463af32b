package zmtp

import "errors"

// Sentinel errors. Every parsing error wraps one of them, so a caller can
// tell a protocol violation (close the connection) from an I/O error.
var (
	// ErrGreeting reports a malformed or unsupported greeting.
	ErrGreeting = errors.New("zmtp: bad greeting")
	// ErrFrame reports a malformed frame header or a frame out of place.
	ErrFrame = errors.New("zmtp: bad frame")
	// ErrTooLarge reports a frame or message over the size limit.
	ErrTooLarge = errors.New("zmtp: message too large")
	// ErrCommand reports a malformed command or READY metadata.
	ErrCommand = errors.New("zmtp: bad command")
	// ErrHandshake reports a handshake the peer ended or broke: an ERROR
	// command, a wrong mechanism, an incompatible socket type.
	ErrHandshake = errors.New("zmtp: handshake failed")
)

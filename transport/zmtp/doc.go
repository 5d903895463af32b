// Package zmtp is the wire codec of ZMTP 3.1 (RFC 37) with the NULL security
// mechanism, and the parts of ZMTP 3.0 (RFC 23) a 3.1 peer must still speak.
//
// It knows bytes, not sockets: the 64-byte greeting, frame headers, commands
// (READY, PING, PONG, SUBSCRIBE, CANCEL, ERROR), READY metadata, socket-type
// compatibility, and the NULL handshake run over any io.ReadWriter. Every
// parser here reads untrusted input: it bounds what it allocates by the size
// limit it is given, never by a size the peer announces, and answers malformed
// input with an error instead of a panic.
package zmtp

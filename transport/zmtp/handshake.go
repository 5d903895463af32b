package zmtp

import (
	"fmt"
	"io"
)

// HandshakeLimit bounds the READY command a peer may send: nothing larger is
// read before the peer has proved it speaks ZMTP.
const HandshakeLimit = 8 << 10

// Property names of READY.
const (
	PropSocketType = "Socket-Type"
	PropIdentity   = "Identity"
)

// Local describes our side of a handshake.
type Local struct {
	Type     SocketType
	Identity []byte // sent only by REQ, DEALER and ROUTER; at most 255 bytes
}

// Peer is what a handshake learned about the other side.
type Peer struct {
	// Minor is the ZMTP minor version both sides speak: 0 for a 3.0 peer
	// (no PING/PONG, subscriptions as messages), 1 otherwise.
	Minor    uint8
	Type     SocketType
	Identity []byte
	Metadata Metadata
}

// Handshake runs the NULL-mechanism handshake on rw: it writes our greeting
// and READY in one write (saving a round trip; every ZMTP 3 peer buffers
// them), then reads and checks the peer's greeting and READY. It returns
// the Reader to go on with, which may already hold bytes the peer sent
// after READY; its Limit is still HandshakeLimit, for the caller to raise.
// The caller sets the deadline on the underlying connection.
func Handshake(rw io.ReadWriter, local Local) (Peer, *Reader, error) {
	if len(local.Identity) > 255 {
		return Peer{}, nil, fmt.Errorf("%w: identity longer than 255 bytes", ErrHandshake)
	}
	out := Greeting{Major: VersionMajor, Minor: VersionMinor, Mechanism: MechanismNull}.Append(make([]byte, 0, 128))
	md := Metadata{{Name: PropSocketType, Value: []byte(local.Type)}}
	if local.Type.SendsIdentity() {
		md = append(md, Property{Name: PropIdentity, Value: local.Identity})
	}
	out = AppendCommand(out, CmdReady, md.Append(nil))
	if _, err := rw.Write(out); err != nil {
		return Peer{}, nil, err
	}

	r := NewReader(rw, HandshakeLimit)
	var g [GreetingSize]byte
	// A ZMTP 1.0 peer sends no signature (RFC 23): its first byte is not
	// 0xFF, and it waits for us after its identity frame. Look at that
	// byte alone so such a peer is refused at once, not at the deadline.
	if err := r.ReadFull(g[:1]); err != nil {
		return Peer{}, nil, fmt.Errorf("reading greeting: %w", err)
	}
	if g[0] != 0xff {
		return Peer{}, nil, fmt.Errorf("%w: no signature (a ZMTP 1.0 peer?)", ErrGreeting)
	}
	// Then the signature and major version: a 2.0 peer is refused without
	// waiting for 53 bytes it will never send.
	if err := r.ReadFull(g[1:11]); err != nil {
		return Peer{}, nil, fmt.Errorf("reading greeting: %w", noEOF(err))
	}
	if _, err := ParseSignature(g[:11]); err != nil {
		return Peer{}, nil, err
	}
	if err := r.ReadFull(g[11:]); err != nil {
		return Peer{}, nil, fmt.Errorf("reading greeting: %w", noEOF(err))
	}
	greet, err := ParseGreeting(g[:])
	if err != nil {
		return Peer{}, nil, err
	}
	if greet.Mechanism != MechanismNull {
		return Peer{}, nil, fmt.Errorf("%w: peer wants mechanism %q, only NULL is supported", ErrHandshake, greet.Mechanism)
	}
	peer := Peer{Minor: VersionMinor}
	if greet.Major == VersionMajor && greet.Minor == 0 {
		peer.Minor = 0
	}

	frames, body, err := r.Next(0)
	if err != nil {
		return Peer{}, nil, fmt.Errorf("reading READY: %w", noEOF(err))
	}
	if frames != nil {
		return Peer{}, nil, fmt.Errorf("%w: message before READY", ErrHandshake)
	}
	cmd, err := ParseCommand(body)
	if err != nil {
		return Peer{}, nil, err
	}
	switch cmd.Name {
	case CmdReady:
	case CmdError:
		return Peer{}, nil, fmt.Errorf("%w: peer sent ERROR %q", ErrHandshake, errorReason(cmd.Data))
	default:
		return Peer{}, nil, fmt.Errorf("%w: %q before READY", ErrHandshake, cmd.Name)
	}
	if peer.Metadata, err = ParseMetadata(cmd.Data); err != nil {
		return Peer{}, nil, err
	}
	st, ok := peer.Metadata.Get(PropSocketType)
	if !ok {
		return Peer{}, nil, fmt.Errorf("%w: READY without Socket-Type", ErrHandshake)
	}
	peer.Type = SocketType(st)
	if !local.Type.Compatible(peer.Type) {
		reason := fmt.Sprintf("invalid socket type %.32q for %s", st, local.Type)
		rw.Write(AppendCommand(nil, CmdError, append([]byte{byte(len(reason))}, reason...))) // best effort
		return Peer{}, nil, fmt.Errorf("%w: %s", ErrHandshake, reason)
	}
	if id, ok := peer.Metadata.Get(PropIdentity); ok && peer.Type.SendsIdentity() {
		if len(id) > 255 {
			return Peer{}, nil, fmt.Errorf("%w: identity longer than 255 bytes", ErrHandshake)
		}
		peer.Identity = id
	}
	return peer, r, nil
}

// errorReason extracts the reason of an ERROR command (a length-prefixed
// string), tolerating a malformed one.
func errorReason(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	n := int(data[0])
	if n > len(data)-1 {
		n = len(data) - 1
	}
	return string(data[1 : 1+n])
}

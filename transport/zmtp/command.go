package zmtp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Command names.
const (
	CmdReady     = "READY"
	CmdError     = "ERROR"
	CmdPing      = "PING"
	CmdPong      = "PONG"
	CmdSubscribe = "SUBSCRIBE"
	CmdCancel    = "CANCEL"
)

// MaxPingContext is the longest context a PING may carry (RFC 37).
const MaxPingContext = 16

// Command is a parsed command frame body.
type Command struct {
	Name string
	Data []byte // aliases the frame body
}

// ParseCommand splits a command frame body into its name and data.
func ParseCommand(body []byte) (Command, error) {
	if len(body) == 0 {
		return Command{}, fmt.Errorf("%w: empty command", ErrCommand)
	}
	n := int(body[0])
	if n == 0 || len(body) < 1+n {
		return Command{}, fmt.Errorf("%w: truncated command name", ErrCommand)
	}
	return Command{Name: string(body[1 : 1+n]), Data: body[1+n:]}, nil
}

// AppendCommand appends a whole command frame (header and body) to dst.
func AppendCommand(dst []byte, name string, data []byte) []byte {
	dst = AppendHeader(dst, FlagCommand, 1+len(name)+len(data))
	dst = append(dst, byte(len(name)))
	dst = append(dst, name...)
	return append(dst, data...)
}

// CommandBody returns the body of a command frame (no header), for queues
// that add frame headers themselves.
func CommandBody(name string, data []byte) []byte {
	b := make([]byte, 0, 1+len(name)+len(data))
	b = append(b, byte(len(name)))
	b = append(b, name...)
	return append(b, data...)
}

// PingTTL is the TTL field of a PING: how long, in tenths of a second, the
// sender may stay silent before the receiver should give it up. It returns 0
// (no TTL) for data shorter than the field.
func PingTTL(data []byte) uint16 {
	if len(data) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(data)
}

// PingContext returns the context of a PING, which the PONG echoes. It is
// capped at MaxPingContext bytes so a peer cannot make us echo a large body.
func PingContext(data []byte) []byte {
	if len(data) <= 2 {
		return nil
	}
	ctx := data[2:]
	if len(ctx) > MaxPingContext {
		ctx = ctx[:MaxPingContext]
	}
	return ctx
}

// Property is one READY metadata entry.
type Property struct {
	Name  string
	Value []byte
}

// Metadata is the property list of a READY command, in wire order.
type Metadata []Property

// Get returns the value of the named property. Names compare without regard
// to case, as the specification asks.
func (m Metadata) Get(name string) ([]byte, bool) {
	for _, p := range m {
		if len(p.Name) == len(name) && bytes.EqualFold([]byte(p.Name), []byte(name)) {
			return p.Value, true
		}
	}
	return nil, false
}

// Append appends the wire form of m to dst.
func (m Metadata) Append(dst []byte) []byte {
	for _, p := range m {
		dst = append(dst, byte(len(p.Name)))
		dst = append(dst, p.Name...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p.Value)))
		dst = append(dst, p.Value...)
	}
	return dst
}

// ParseMetadata parses READY metadata. Values alias b.
func ParseMetadata(b []byte) (Metadata, error) {
	var m Metadata
	for len(b) > 0 {
		n := int(b[0])
		if n == 0 {
			return nil, fmt.Errorf("%w: empty property name", ErrCommand)
		}
		if len(b) < 1+n+4 {
			return nil, fmt.Errorf("%w: truncated property", ErrCommand)
		}
		name := string(b[1 : 1+n])
		b = b[1+n:]
		vlen := binary.BigEndian.Uint32(b)
		b = b[4:]
		if vlen > math.MaxInt32 || uint64(vlen) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: property %q value overruns the command", ErrCommand, name)
		}
		m = append(m, Property{Name: name, Value: b[:vlen:vlen]})
		b = b[vlen:]
	}
	return m, nil
}

// MaxPingTTL is the longest TTL a PING announces: 65.5 s. The field could
// say 6553.5 s, but libzmq 4.3 turns it into milliseconds in a uint16, so
// anything longer wraps around and makes libzmq hang up on us early.
const MaxPingTTL = 655 // deciseconds

// PingData returns the data of a PING announcing ttl: how long the
// receiver may wait for our next frame, in tenths of a second (at most
// MaxPingTTL; a ttl under 100ms is sent as 0, "none").
func PingData(ttl time.Duration) []byte {
	ds := min(ttl/(100*time.Millisecond), MaxPingTTL)
	return binary.BigEndian.AppendUint16(nil, uint16(ds))
}

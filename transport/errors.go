package transport

import "errors"

// Errors returned by sockets.
var (
	// ErrClosed is returned by every call on a closed socket.
	ErrClosed = errors.New("transport: socket closed")
	// ErrNoRoute is returned by Router.Send for a routing id no connected
	// peer has.
	ErrNoRoute = errors.New("transport: no peer with that routing id")
	// ErrPeerFull is returned by Router.Send when the peer's send queue is
	// at its high-water mark: the message is not queued.
	ErrPeerFull = errors.New("transport: peer send queue full")
	// ErrState is returned by Req and Rep when Send and Recv are called out
	// of their strict alternation.
	ErrState = errors.New("transport: operation out of sequence")
	// ErrPeerLost is returned by Req.Recv and Rep.Send when the connection
	// the exchange went over is gone; the socket is ready for a new exchange.
	ErrPeerLost = errors.New("transport: peer disconnected")
	// ErrBadMessage is returned by Send for an empty message, or a Router
	// message without a routing id frame.
	ErrBadMessage = errors.New("transport: malformed message")
)

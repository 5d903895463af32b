package zmtp

// SocketType is a ZMTP socket type, as named in READY's Socket-Type.
type SocketType string

// The socket types of RFC 28 (request-reply), 29 (publish-subscribe), 30
// (pipeline) and 31 (exclusive pair).
const (
	REQ    SocketType = "REQ"
	REP    SocketType = "REP"
	DEALER SocketType = "DEALER"
	ROUTER SocketType = "ROUTER"
	PUB    SocketType = "PUB"
	SUB    SocketType = "SUB"
	XPUB   SocketType = "XPUB"
	XSUB   SocketType = "XSUB"
	PUSH   SocketType = "PUSH"
	PULL   SocketType = "PULL"
	PAIR   SocketType = "PAIR"
)

// compatible lists, for each socket type, the peer types it may talk to.
var compatible = map[SocketType][]SocketType{
	REQ:    {REP, ROUTER},
	REP:    {REQ, DEALER},
	DEALER: {REP, DEALER, ROUTER},
	ROUTER: {REQ, DEALER, ROUTER},
	PUB:    {SUB, XSUB},
	XPUB:   {SUB, XSUB},
	SUB:    {PUB, XPUB},
	XSUB:   {PUB, XPUB},
	PUSH:   {PULL},
	PULL:   {PUSH},
	PAIR:   {PAIR},
}

// Known reports whether t is a socket type this package knows.
func (t SocketType) Known() bool {
	_, ok := compatible[t]
	return ok
}

// Compatible reports whether a socket of type t may talk to a peer of type
// peer. An unknown type is compatible with nothing.
func (t SocketType) Compatible(peer SocketType) bool {
	for _, c := range compatible[t] {
		if c == peer {
			return true
		}
	}
	return false
}

// SendsIdentity reports whether READY from a socket of type t carries the
// Identity property (RFC 37: REQ, DEALER and ROUTER do).
func (t SocketType) SendsIdentity() bool {
	return t == REQ || t == DEALER || t == ROUTER
}

// Package wire is Salt's msgpack layer: the value model of salt.payload,
// the two encodings Salt uses, typed access to decoded loads, and the
// envelopes that travel on the request (4506) and publish (4505) ports.
//
// # Values
//
// Unmarshal turns msgpack into what Salt 3006 holds after
// salt.payload.loads (raw=True, then decode_embedded_strs):
//
//	nil, bool
//	int64            every integer, or uint64 for one above math.MaxInt64
//	float64          float32 and float64 alike
//	string           a str or bin whose bytes are valid UTF-8
//	[]byte           a str or bin whose bytes are not
//	[]any            an array
//	map[string]any   a map (Map from UnmarshalOrdered)
//	time.Time        ext 78, Salt's datetime ("%Y%m%dT%H:%M:%S.%f"), in UTC
//	Constant         ext 79, salt.defaults._Constant
//
// Salt's wire format does not tell text from bytes (see below), so the
// decoder does what Salt does: bytes that are valid UTF-8 are text. A
// ciphertext that happens to be valid UTF-8 therefore comes back as a
// string; Bytes accepts both.
//
// Map keys are strings. Salt decodes with strict_map_key=False, so a key may
// be anything: a str or bin key becomes a Go string holding its bytes as they
// are (even when they are not UTF-8), and any other key is formatted with
// fmt.Sprint (1 → "1", true → "true", nil → "<nil>"). Two keys that end up
// equal keep the position of the first and the value of the last, as a
// Python dict does.
//
// Other ext types decode to their payload bytes (string or []byte, as
// above), since Salt's ext hook returns them unchanged.
//
// Decoding is defensive: nesting deeper than MaxDepth fails with ErrDepth,
// input that ends early fails with ErrTruncated, trailing bytes are an
// error, and no announced length makes the decoder allocate more than the
// input could hold. Decoded values never alias the input.
//
// # Encodings
//
// Marshal is salt.payload.dumps as Salt uses it on TCP (use_bin_type=False,
// the old msgpack spec): strings and []byte are both written as the str
// family, using fixstr, str16 and str32 only, never str8 or bin. Salt's
// peers (msgpack-python in old-spec mode) write exactly these, and the
// signatures Salt puts on msgpack bytes (the _auth reply, the pillar data)
// cover those exact bytes, so an encoder that is to match Salt byte for byte
// must do the same. Integers take their smallest form, floats are float64,
// map[string]any is written with sorted keys so that output is
// deterministic, and Map keeps the order it is given: use it where Salt's
// insertion order matters.
//
// MarshalLocal is dumps(use_bin_type=True), what Salt uses on local links
// (the event bus, cache files): strings are str (str8 included) and []byte
// is bin.
//
// Both are built on github.com/vmihailenco/msgpack/v5. The only bytes this
// package writes itself are the str headers of Marshal, because the library
// always writes str8 for 32 to 255 bytes and bin for []byte.
//
// # Envelopes
//
// Request is what a minion or the CLI sends to the request port,
// SignedReply is the master's signed _auth reply, and Publication is a
// frame on the publish port. Their Marshal methods write Salt's field order
// (PROTOCOL.md §3).
//
// Everything in this package is safe for concurrent use.
package wire

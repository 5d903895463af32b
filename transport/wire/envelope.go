package wire

import (
	"fmt"
	"math"
	"reflect"
)

// The two values of an envelope's "enc".
const (
	EncClear = "clear" // the load is a plain map
	EncAES   = "aes"   // the load is a Crypticle blob
)

// Request is the envelope of everything a minion or the CLI sends to the
// master's request port: one msgpack map (PROTOCOL.md §3).
//
//	clear: {"enc": "clear", "load": {...}, "version": 3}
//	aes:   {"enc": "aes", "load": <Crypticle blob>, "version": 3, "id": ..., "enc_algo": ..., "sig_algo": ...}
//
// The zero value is not a request: Marshal rejects an empty Enc.
type Request struct {
	Enc string // EncClear or EncAES
	// Load is the load: for EncClear a map (DecodeRequest gives a
	// map[string]any; Marshal also takes a Map, to keep Salt's order), for
	// EncAES the Crypticle blob as []byte.
	Load    any
	Version int    // 3 from Salt 3006.12 on; 0 when the key is absent (Salt before 3006)
	ID      string // the minion id; aes requests of version 3 only, "" when absent
	EncAlgo string // aes only, e.g. "OAEP-SHA1"; "" when absent
	SigAlgo string // aes only, e.g. "PKCS1v15-SHA1"; "" when absent
}

// DecodeRequest decodes and checks a request envelope: enc must be "clear"
// or "aes", the load a map for clear and a str/bin for aes, version an int
// and id, enc_algo and sig_algo strings where present. Other keys are
// ignored, as Salt ignores them. Every error wraps ErrBadEnvelope, and the
// cause beneath it (a *FieldError, ErrNotMap, a decoding error).
func DecodeRequest(b []byte) (*Request, error) {
	const what = "request"
	m, err := UnmarshalMap(b)
	if err != nil {
		return nil, badEnvelope(what, err)
	}
	enc, err := String(m, "enc")
	if err != nil {
		return nil, badEnvelope(what, err)
	}
	r := &Request{Enc: enc}
	switch enc {
	case EncClear:
		if r.Load, err = SubMap(m, "load"); err != nil {
			return nil, badEnvelope(what, err)
		}
	case EncAES:
		if r.Load, err = Bytes(m, "load"); err != nil {
			return nil, badEnvelope(what, err)
		}
	default:
		return nil, badEnvelopef(what, "enc is %q, want %q or %q", enc, EncClear, EncAES)
	}
	if v, ok := m["version"]; ok {
		n, ok := toInt64(v)
		if !ok || n < 0 || n > math.MaxInt32 {
			return nil, badEnvelope(what, &FieldError{Key: "version", Want: "small non-negative int", Got: KindOf(v)})
		}
		r.Version = int(n)
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"id", &r.ID}, {"enc_algo", &r.EncAlgo}, {"sig_algo", &r.SigAlgo}} {
		if v, ok := m[f.key]; ok {
			s, ok := v.(string)
			if !ok {
				return nil, badEnvelope(what, &FieldError{Key: f.key, Want: "string", Got: KindOf(v)})
			}
			*f.dst = s
		}
	}
	return r, nil
}

// Marshal encodes r in Salt's field order: enc, load, version, id,
// enc_algo, sig_algo, leaving out version when it is 0 and the three
// strings when they are empty. It checks that Load suits Enc.
func (r *Request) Marshal() ([]byte, error) {
	const what = "request"
	m := make(Map, 0, 6)
	switch r.Enc {
	case EncClear:
		if !isMap(r.Load) {
			return nil, badEnvelopef(what, "clear load is %s, want a map", KindOf(r.Load))
		}
		m = append(m, Field{"enc", r.Enc}, Field{"load", r.Load})
	case EncAES:
		switch r.Load.(type) {
		case []byte, string:
		default:
			return nil, badEnvelopef(what, "aes load is %s, want bytes", KindOf(r.Load))
		}
		m = append(m, Field{"enc", r.Enc}, Field{"load", r.Load})
	default:
		return nil, badEnvelopef(what, "enc is %q, want %q or %q", r.Enc, EncClear, EncAES)
	}
	if r.Version != 0 {
		m = append(m, Field{"version", r.Version})
	}
	for _, f := range []Field{{"id", r.ID}, {"enc_algo", r.EncAlgo}, {"sig_algo", r.SigAlgo}} {
		if f.Value != "" {
			m = append(m, f)
		}
	}
	b, err := Marshal(m)
	if err != nil {
		return nil, badEnvelope(what, err)
	}
	return b, nil
}

func isMap(v any) bool {
	switch v.(type) {
	case map[string]any, Map, []Field:
		return true
	case nil:
		return false
	}
	return reflect.TypeOf(v).Kind() == reflect.Map
}

// SignedReply is the master's reply to _auth for request version 2 and
// later: {"enc": "clear", "load": <msgpack bytes of the inner map>, "sig":
// <PKCS1v15 signature over those bytes>} (PROTOCOL.md §4). The inner map
// is signed as bytes, so it travels as bytes: build it as a Map in Salt's
// order, Marshal it, sign that, and put both here.
type SignedReply struct {
	Load []byte
	Sig  []byte
}

// DecodeSignedReply decodes and checks a signed _auth reply: enc must be
// "clear", and load and sig str/bin. It does not look inside the load (see
// UnmarshalMap) nor check the signature. Every error wraps ErrBadEnvelope.
func DecodeSignedReply(b []byte) (*SignedReply, error) {
	const what = "signed reply"
	m, err := UnmarshalMap(b)
	if err != nil {
		return nil, badEnvelope(what, err)
	}
	if err := wantEnc(m, EncClear); err != nil {
		return nil, badEnvelope(what, err)
	}
	r := &SignedReply{}
	if r.Load, err = Bytes(m, "load"); err != nil {
		return nil, badEnvelope(what, err)
	}
	if r.Sig, err = Bytes(m, "sig"); err != nil {
		return nil, badEnvelope(what, err)
	}
	return r, nil
}

// Marshal encodes r in Salt's field order: enc, load, sig.
func (r *SignedReply) Marshal() ([]byte, error) {
	b, err := Marshal(Map{{"enc", EncClear}, {"load", r.Load}, {"sig", r.Sig}})
	if err != nil {
		return nil, badEnvelope("signed reply", err)
	}
	return b, nil
}

// Publication is one frame on the publish port: {"enc": "aes", "load":
// <Crypticle blob under the master AES key>, "sig_algo": ..., "sig": <RSA
// signature over the blob>} (PROTOCOL.md §3). SigAlgo and Sig are empty
// when the master does not sign (sign_pub_messages: False), and then the
// keys are absent.
type Publication struct {
	Load    []byte
	SigAlgo string
	Sig     []byte
}

// DecodePublication decodes and checks a publication: enc must be "aes",
// load a str/bin, and sig_algo (a string) and sig (a str/bin) are optional.
// It checks neither the signature nor that both or neither are there. Every
// error wraps ErrBadEnvelope.
func DecodePublication(b []byte) (*Publication, error) {
	const what = "publication"
	m, err := UnmarshalMap(b)
	if err != nil {
		return nil, badEnvelope(what, err)
	}
	if err := wantEnc(m, EncAES); err != nil {
		return nil, badEnvelope(what, err)
	}
	p := &Publication{}
	if p.Load, err = Bytes(m, "load"); err != nil {
		return nil, badEnvelope(what, err)
	}
	if v, ok := m["sig_algo"]; ok {
		if p.SigAlgo, ok = v.(string); !ok {
			return nil, badEnvelope(what, &FieldError{Key: "sig_algo", Want: "string", Got: KindOf(v)})
		}
	}
	if _, ok := m["sig"]; ok {
		if p.Sig, err = Bytes(m, "sig"); err != nil {
			return nil, badEnvelope(what, err)
		}
	}
	return p, nil
}

// Marshal encodes p in Salt's field order: enc, load, sig_algo, sig, the
// last two only when set.
func (p *Publication) Marshal() ([]byte, error) {
	m := Map{{"enc", EncAES}, {"load", p.Load}}
	if p.SigAlgo != "" {
		m = append(m, Field{"sig_algo", p.SigAlgo})
	}
	if len(p.Sig) != 0 {
		m = append(m, Field{"sig", p.Sig})
	}
	b, err := Marshal(m)
	if err != nil {
		return nil, badEnvelope("publication", err)
	}
	return b, nil
}

func wantEnc(m map[string]any, want string) error {
	enc, err := String(m, "enc")
	if err != nil {
		return err
	}
	if enc != want {
		return fmt.Errorf("enc is %q, want %q", enc, want)
	}
	return nil
}

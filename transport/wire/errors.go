package wire

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error from this package wraps at least one of them,
// or is a *FieldError (which wraps ErrMissing or ErrType).
var (
	// ErrNotMap is returned by UnmarshalMap and the envelope decoders when
	// the top-level value is not a map.
	ErrNotMap = errors.New("wire: not a map")
	// ErrMissing is wrapped by a *FieldError for a field that is absent.
	ErrMissing = errors.New("wire: missing field")
	// ErrType is wrapped by a *FieldError for a field of the wrong type, and
	// returned by Marshal for a Go value it cannot encode.
	ErrType = errors.New("wire: wrong type")
	// ErrBadEnvelope is wrapped by every error of DecodeRequest,
	// DecodeSignedReply and DecodePublication, and of the envelopes' Marshal
	// methods, alongside the more precise error beneath.
	ErrBadEnvelope = errors.New("wire: bad envelope")
	// ErrDepth is returned when a value nests deeper than MaxDepth, on
	// decoding and on encoding (where it also stops cycles).
	ErrDepth = errors.New("wire: nested too deep")
	// ErrTruncated is returned when the input ends inside a value, or
	// announces more than is left of it. A stream reader that gets it from
	// UnmarshalNext can wait for more bytes.
	ErrTruncated = errors.New("wire: truncated input")
)

// FieldError reports a field of a decoded map that is missing or holds the
// wrong type. It wraps ErrMissing or ErrType.
type FieldError struct {
	Key  string
	Want string // the kind the caller asked for: "string", "int", "bytes", ...
	Got  string // the kind found (see KindOf); empty when the field is missing
}

func (e *FieldError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("wire: field %q: missing", e.Key)
	}
	return fmt.Sprintf("wire: field %q: want %s, got %s", e.Key, e.Want, e.Got)
}

// Unwrap returns ErrMissing or ErrType.
func (e *FieldError) Unwrap() error {
	if e.Got == "" {
		return ErrMissing
	}
	return ErrType
}

// envelopeError is what the envelope codecs return: it wraps ErrBadEnvelope
// and the cause, and says which envelope was bad without repeating the
// package prefix.
type envelopeError struct {
	what string // "request", "signed reply", "publication"
	err  error
}

func badEnvelope(what string, err error) error {
	return &envelopeError{what: what, err: err}
}

func badEnvelopef(what, format string, args ...any) error {
	return &envelopeError{what: what, err: fmt.Errorf(format, args...)}
}

func (e *envelopeError) Error() string {
	return "wire: bad " + e.what + ": " + strings.TrimPrefix(e.err.Error(), "wire: ")
}

func (e *envelopeError) Unwrap() []error { return []error{ErrBadEnvelope, e.err} }

package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Unmarshal decodes one msgpack value that fills b, into the value model of
// the package doc (maps as map[string]any). It is Salt's
// salt.payload.loads.
func Unmarshal(b []byte) (any, error) {
	v, n, err := decode(b, false)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("wire: %d bytes after the value", len(b)-n)
	}
	return v, nil
}

// UnmarshalOrdered is Unmarshal with every map, at any depth, as a Map in
// the order of the input. Marshal of its result gives back input that Salt
// wrote, byte for byte.
func UnmarshalOrdered(b []byte) (any, error) {
	v, n, err := decode(b, true)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("wire: %d bytes after the value", len(b)-n)
	}
	return v, nil
}

// UnmarshalMap is Unmarshal for input whose top-level value must be a map,
// as every Salt load is. It returns an error wrapping ErrNotMap otherwise.
func UnmarshalMap(b []byte) (map[string]any, error) {
	v, err := Unmarshal(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: got %s", ErrNotMap, KindOf(v))
	}
	return m, nil
}

// UnmarshalBytes is Unmarshal for input whose top-level value must be a str
// or bin, such as the master's reply to an AES request (the Crypticle blob
// as one msgpack str). It returns the bytes whether or not they are UTF-8,
// and an error wrapping ErrType for any other value.
func UnmarshalBytes(b []byte) ([]byte, error) {
	v, err := Unmarshal(b)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("%w: want bytes, got %s", ErrType, KindOf(v))
}

// UnmarshalNext decodes the first msgpack value of b and returns it with
// the number of bytes it took, for streams of values one after another
// (Salt's IPC links). If b holds only the start of a value, the error wraps
// ErrTruncated and more input may complete it; since a header may announce
// up to 4 GiB, a stream reader must bound what it buffers while it waits.
// On error n is 0.
func UnmarshalNext(b []byte) (v any, n int, err error) {
	v, n, err = decode(b, false)
	if err != nil {
		return nil, 0, err
	}
	return v, n, nil
}

// decoder walks msgpack with the library's Decoder reading every header,
// and bounds each announced length by what is left of the input before it
// allocates anything (the library's own DecodeInterface would allocate
// what an array header announces, and recurses without limit).
type decoder struct {
	src     []byte
	base    int // offset of src in the outermost input, for errors
	rd      bytes.Reader
	md      *msgpack.Decoder
	ordered bool
}

var decoderPool = sync.Pool{New: func() any {
	d := &decoder{}
	d.md = msgpack.NewDecoder(&d.rd)
	return d
}}

func decode(b []byte, ordered bool) (any, int, error) {
	d := decoderPool.Get().(*decoder)
	d.src, d.ordered, d.base = b, ordered, 0
	d.rd.Reset(b)
	// bytes.Reader is an io.ByteScanner, so the library reads it directly
	// with no buffer of its own: d.pos() stays exact.
	d.md.Reset(&d.rd)
	v, err := d.value(0)
	n := d.pos()
	d.src = nil
	d.rd.Reset(nil)
	decoderPool.Put(d)
	if err != nil {
		return nil, n, err
	}
	return v, n, nil
}

func (d *decoder) pos() int { return len(d.src) - d.rd.Len() }

// decodeError reports where in the input decoding failed. It wraps the
// cause, which is ErrTruncated for any short read.
type decodeError struct {
	off int
	err error
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("wire: at byte %d: %s", e.off, strings.TrimPrefix(e.err.Error(), "wire: "))
}

func (e *decodeError) Unwrap() error { return e.err }

// fail places err at offset at, unless a nested value already placed it,
// and turns the library's short reads into ErrTruncated.
func (d *decoder) fail(at int, err error) error {
	var de *decodeError
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = ErrTruncated
	}
	return &decodeError{off: d.base + at, err: err}
}

// take returns the next n bytes of the input, unread so far, without
// copying them.
func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > d.rd.Len() {
		return nil, ErrTruncated
	}
	p := d.pos()
	if _, err := d.rd.Seek(int64(n), io.SeekCurrent); err != nil {
		return nil, err
	}
	return d.src[p : p+n : p+n], nil
}

// value decodes one value whose containers would sit at nesting level
// depth+1.
func (d *decoder) value(depth int) (any, error) {
	at := d.pos()
	c, err := d.md.PeekCode()
	if err != nil {
		return nil, d.fail(at, err)
	}
	var v any
	switch {
	case msgpcode.IsFixedNum(c):
		v, err = d.md.DecodeInt64()
	case msgpcode.IsString(c) || msgpcode.IsBin(c):
		var b []byte
		if b, err = d.raw(); err == nil {
			v = text(b)
		}
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		v, err = d.mapValue(depth + 1)
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		v, err = d.array(depth + 1)
	case c == msgpcode.Nil:
		err = d.md.DecodeNil()
	case c == msgpcode.False || c == msgpcode.True:
		v, err = d.md.DecodeBool()
	case c == msgpcode.Float || c == msgpcode.Double:
		v, err = d.md.DecodeFloat64()
	case c == msgpcode.Uint64:
		var u uint64
		if u, err = d.md.DecodeUint64(); err == nil {
			if u > math.MaxInt64 {
				v = u
			} else {
				v = int64(u)
			}
		}
	case c >= msgpcode.Uint8 && c <= msgpcode.Int64: // uint8..uint32, int8..int64
		v, err = d.md.DecodeInt64()
	case msgpcode.IsExt(c):
		v, err = d.ext(depth + 1)
	default: // 0xc1, the one code msgpack never uses
		err = fmt.Errorf("invalid msgpack code 0x%02x", c)
	}
	if err != nil {
		return nil, d.fail(at, err)
	}
	return v, nil
}

// raw reads a str or bin value and returns its bytes, aliasing the input.
func (d *decoder) raw() ([]byte, error) {
	n, err := d.md.DecodeBytesLen()
	if err != nil {
		return nil, err
	}
	return d.take(n)
}

// text is decode_embedded_strs for one value: valid UTF-8 becomes a string,
// anything else stays bytes. Both are copies.
func text(b []byte) any {
	if utf8.Valid(b) {
		return string(b)
	}
	return bytes.Clone(b)
}

func (d *decoder) array(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, ErrDepth
	}
	n, err := d.md.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	if n > d.rd.Len() { // every element takes at least one byte
		return nil, ErrTruncated
	}
	a := make([]any, n)
	for i := range a {
		if a[i], err = d.value(depth); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (d *decoder) mapValue(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, ErrDepth
	}
	n, err := d.md.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	if n > d.rd.Len()/2 { // every key and every value takes at least one byte
		return nil, ErrTruncated
	}
	if d.ordered {
		m := make(Map, 0, n)
		var index map[string]int // built only for big maps, to find duplicates
		for range n {
			k, v, err := d.entry(depth)
			if err != nil {
				return nil, err
			}
			i := -1
			switch {
			case index != nil:
				if j, ok := index[k]; ok {
					i = j
				}
			case len(m) >= 16:
				index = make(map[string]int, n)
				for j := range m {
					index[m[j].Key] = j
				}
				if j, ok := index[k]; ok {
					i = j
				}
			default:
				for j := range m {
					if m[j].Key == k {
						i = j
						break
					}
				}
			}
			if i >= 0 { // a Python dict keeps the first position, the last value
				m[i].Value = v
				continue
			}
			if index != nil {
				index[k] = len(m)
			}
			m = append(m, Field{k, v})
		}
		return m, nil
	}
	m := make(map[string]any, n)
	for range n {
		k, v, err := d.entry(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

// entry decodes one key and its value; the key's containers, if any, sit at
// the same depth as the value's.
func (d *decoder) entry(depth int) (string, any, error) {
	at := d.pos()
	c, err := d.md.PeekCode()
	if err != nil {
		return "", nil, d.fail(at, err)
	}
	var k string
	if msgpcode.IsString(c) || msgpcode.IsBin(c) {
		b, err := d.raw()
		if err != nil {
			return "", nil, d.fail(at, err)
		}
		k = internKey(b) // a key stays a string even when it is not UTF-8
	} else {
		// A container key is formatted as Unmarshal decodes it, so that
		// both decoders make the same key of it.
		ordered := d.ordered
		d.ordered = false
		kv, err := d.value(depth)
		d.ordered = ordered
		if err != nil {
			return "", nil, err
		}
		k = keyString(kv)
	}
	v, err := d.value(depth)
	if err != nil {
		return "", nil, err
	}
	return k, v, nil
}

func (d *decoder) ext(depth int) (any, error) {
	typ, n, err := d.md.DecodeExtHeader()
	if err != nil {
		return nil, err
	}
	body, err := d.take(n)
	if err != nil {
		return nil, err
	}
	switch typ {
	case ExtDatetime:
		return parseDatetime(body)
	case ExtConstant:
		if depth > MaxDepth {
			return nil, ErrDepth
		}
		// The body is a msgpack [name, value] of its own, and must be
		// exactly that (Python's loads raises on extra data).
		sub := decoderPool.Get().(*decoder)
		sub.src, sub.ordered, sub.base = body, d.ordered, d.base+d.pos()-n
		sub.rd.Reset(body)
		sub.md.Reset(&sub.rd)
		v, err := sub.value(depth)
		rest := sub.rd.Len()
		sub.src = nil
		sub.rd.Reset(nil)
		decoderPool.Put(sub)
		if err != nil {
			return nil, err // placed in the outer input by sub.base
		}
		if rest != 0 {
			return nil, fmt.Errorf("constant (ext 79): %d bytes after [name, value]", rest)
		}
		a, ok := v.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("constant (ext 79): want [name, value], got %s", KindOf(v))
		}
		name, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("constant (ext 79): name is %s, not a string", KindOf(a[0]))
		}
		return Constant{Name: name, Value: a[1]}, nil
	}
	// Salt's ext_type_decoder returns the payload of any other ext type
	// as it is, and decode_embedded_strs then makes text of it if it can.
	return text(body), nil
}

// saltKeys are the field names of Salt's envelopes and loads. A decoded key
// that is one of them shares its string instead of allocating a new one
// (the lookup with string(b) does not allocate).
var saltKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"enc", "load", "version", "id", "enc_algo", "sig_algo", "sig", "cmd", "nonce", "token", "pub", "tok", "ts",
		"aes", "session", "pub_key", "publish_port", "pub_sig", "ret",
		"jid", "fun", "arg", "tgt", "tgt_type", "user", "kwargs", "kwarg", "serial", "master_id", "to", "delimiter",
		"return", "retcode", "success", "fun_args", "out", "_stamp", "data", "tag", "pretag", "events",
		"key", "pillar", "minions", "missing", "error", "grains", "saltenv", "pillarenv", "pillar_override",
		"extra_minion_data", "ver", "metadata", "show_timeout", "show_jid", "username", "password", "eauth",
		"__kwarg__", "head", "body", "result", "act",
	} {
		m[k] = k
	}
	return m
}()

func internKey(b []byte) string {
	if s, ok := saltKeys[string(b)]; ok {
		return s
	}
	return string(b)
}

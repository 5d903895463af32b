package wire

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Marshal encodes v as Salt does on TCP: salt.payload.dumps with
// use_bin_type=False. Strings and []byte are both the msgpack str family
// (fixstr, str16, str32; never str8 or bin), integers take their smallest
// form, floats are float64.
//
// It takes nil, bool, every integer and float type, string, []byte, Map,
// Constant, time.Time (ext 78), and slices, arrays and maps of these;
// pointers are followed. Maps with string keys are written in sorted key
// order (use Map for Salt's order); maps with integer keys, which Salt's
// decoder accepts, in increasing order. Other types (structs, channels,
// funcs) fail with an error wrapping ErrType, and nesting deeper than
// MaxDepth (or a cycle) with ErrDepth. A nil []byte is an empty string, as
// Python has no bytes that are None.
func Marshal(v any) ([]byte, error) { return marshal(v, false) }

// MarshalLocal encodes v as Salt does on local links (the event bus, IPC,
// cache files): salt.payload.dumps with use_bin_type=True. Strings are str
// (str8 included) and []byte is bin; everything else is as Marshal.
func MarshalLocal(v any) ([]byte, error) { return marshal(v, true) }

type encoder struct {
	buf   bytes.Buffer
	me    *msgpack.Encoder
	local bool
	keys  []string // scratch for sorting map keys
}

var encoderPool = sync.Pool{New: func() any {
	e := &encoder{}
	// bytes.Buffer has WriteByte, so the library writes straight into it
	// and our own str headers interleave with its output in order.
	e.me = msgpack.NewEncoder(&e.buf)
	return e
}}

func marshal(v any, local bool) ([]byte, error) {
	e := encoderPool.Get().(*encoder)
	e.buf.Reset()
	e.local = local
	err := e.value(v, 0)
	var out []byte
	if err == nil {
		out = bytes.Clone(e.buf.Bytes())
	}
	if e.buf.Cap() > 1<<20 { // do not keep a huge buffer in the pool
		e.buf = bytes.Buffer{}
		e.me.Reset(&e.buf)
	}
	clear(e.keys)
	e.keys = e.keys[:0]
	encoderPool.Put(e)
	return out, err
}

// str writes a string or bytes value.
func (e *encoder) str(s string) error {
	if e.local {
		return e.me.EncodeString(s)
	}
	if err := e.strHeader(len(s)); err != nil {
		return err
	}
	_, err := e.buf.WriteString(s)
	return err
}

func (e *encoder) bytesValue(b []byte) error {
	if e.local {
		if err := e.me.EncodeBytesLen(len(b)); err != nil {
			return err
		}
		_, err := e.buf.Write(b)
		return err
	}
	if err := e.strHeader(len(b)); err != nil {
		return err
	}
	_, err := e.buf.Write(b)
	return err
}

// strHeader writes the header of an old-spec raw, as msgpack-python does
// with use_bin_type=False: fixstr below 32 bytes, then str16 and str32. The
// library cannot do this: its EncodeString uses str8 for 32 to 255 bytes,
// which the old spec lacks, and Salt signs msgpack bytes (the _auth reply
// load, the pillar data), so our bytes must be Salt's.
func (e *encoder) strHeader(n int) error {
	switch {
	case n < 32:
		return e.buf.WriteByte(msgpcode.FixedStrLow | byte(n))
	case n <= math.MaxUint16:
		_, err := e.buf.Write([]byte{msgpcode.Str16, byte(n >> 8), byte(n)})
		return err
	case uint64(n) <= math.MaxUint32:
		_, err := e.buf.Write([]byte{msgpcode.Str32, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		return err
	}
	return fmt.Errorf("%w: a string of %d bytes is longer than msgpack allows", ErrType, n)
}

func (e *encoder) arrayLen(n int, depth int) error {
	if depth > MaxDepth {
		return ErrDepth
	}
	if uint64(n) > math.MaxUint32 {
		return fmt.Errorf("%w: an array of %d elements is longer than msgpack allows", ErrType, n)
	}
	return e.me.EncodeArrayLen(n)
}

func (e *encoder) mapLen(n int, depth int) error {
	if depth > MaxDepth {
		return ErrDepth
	}
	if uint64(n) > math.MaxUint32 {
		return fmt.Errorf("%w: a map of %d entries is longer than msgpack allows", ErrType, n)
	}
	return e.me.EncodeMapLen(n)
}

// value encodes v, whose containers would sit at nesting level depth+1.
func (e *encoder) value(v any, depth int) error {
	switch v := v.(type) {
	case nil:
		return e.me.EncodeNil()
	case string:
		return e.str(v)
	case []byte:
		return e.bytesValue(v)
	case bool:
		return e.me.EncodeBool(v)
	case int64:
		return e.me.EncodeInt(v)
	case int:
		return e.me.EncodeInt(int64(v))
	case uint64:
		return e.me.EncodeUint(v)
	case float64:
		return e.me.EncodeFloat64(v)
	case map[string]any:
		if err := e.mapLen(len(v), depth+1); err != nil {
			return err
		}
		start := len(e.keys)
		for k := range v {
			e.keys = append(e.keys, k)
		}
		keys := e.keys[start:]
		slices.Sort(keys)
		for _, k := range keys {
			if err := e.str(k); err != nil {
				return err
			}
			if err := e.value(v[k], depth+1); err != nil {
				return err
			}
		}
		clear(e.keys[start:])
		e.keys = e.keys[:start]
		return nil
	case Map:
		return e.ordered(v, depth)
	case []Field:
		return e.ordered(v, depth)
	case []any:
		if err := e.arrayLen(len(v), depth+1); err != nil {
			return err
		}
		for _, x := range v {
			if err := e.value(x, depth+1); err != nil {
				return err
			}
		}
		return nil
	case []string:
		if err := e.arrayLen(len(v), depth+1); err != nil {
			return err
		}
		for _, s := range v {
			if err := e.str(s); err != nil {
				return err
			}
		}
		return nil
	case time.Time:
		b, err := appendDatetime(make([]byte, 0, len(datetimeLayout)), v)
		if err != nil {
			return err
		}
		if err := e.me.EncodeExtHeader(ExtDatetime, len(b)); err != nil {
			return err
		}
		_, err = e.buf.Write(b)
		return err
	case Constant:
		// Salt packs the body on its own, always with use_bin_type=True.
		body := encoderPool.Get().(*encoder)
		body.buf.Reset()
		body.local = true
		err := body.value([]any{v.Name, v.Value}, depth+1)
		if err == nil {
			if err = e.me.EncodeExtHeader(ExtConstant, body.buf.Len()); err == nil {
				_, err = e.buf.Write(body.buf.Bytes())
			}
		}
		encoderPool.Put(body)
		return err
	case int32:
		return e.me.EncodeInt(int64(v))
	case uint32:
		return e.me.EncodeUint(uint64(v))
	case float32:
		return e.me.EncodeFloat64(float64(v)) // Python has only double floats
	}
	return e.reflectValue(reflect.ValueOf(v), depth)
}

func (e *encoder) ordered(m []Field, depth int) error {
	if err := e.mapLen(len(m), depth+1); err != nil {
		return err
	}
	for i := range m {
		if err := e.str(m[i].Key); err != nil {
			return err
		}
		if err := e.value(m[i].Value, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// reflectValue encodes the kinds the type switch in value does not name.
func (e *encoder) reflectValue(rv reflect.Value, depth int) error {
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return e.me.EncodeNil()
		}
		if depth >= MaxDepth { // a pointer cycle nests no container
			return ErrDepth
		}
		return e.value(rv.Elem().Interface(), depth+1)
	case reflect.Bool:
		return e.me.EncodeBool(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return e.me.EncodeInt(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return e.me.EncodeUint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return e.me.EncodeFloat64(rv.Float())
	case reflect.String:
		return e.str(rv.String())
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 { // named []byte, [N]byte
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return e.bytesValue(b)
		}
		if err := e.arrayLen(rv.Len(), depth+1); err != nil {
			return err
		}
		for i := range rv.Len() {
			if err := e.value(rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		return e.reflectMap(rv, depth)
	}
	return fmt.Errorf("%w: cannot encode %s", ErrType, rv.Type())
}

func (e *encoder) reflectMap(rv reflect.Value, depth int) error {
	keys := rv.MapKeys()
	switch rv.Type().Key().Kind() {
	case reflect.String:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.String(), b.String()) })
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.Int(), b.Int()) })
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.Uint(), b.Uint()) })
	default:
		return fmt.Errorf("%w: cannot encode %s: map keys must be strings or integers", ErrType, rv.Type())
	}
	if err := e.mapLen(len(keys), depth+1); err != nil {
		return err
	}
	for _, k := range keys {
		if err := e.reflectValue(k, depth+1); err != nil {
			return err
		}
		if err := e.value(rv.MapIndex(k).Interface(), depth+1); err != nil {
			return err
		}
	}
	return nil
}

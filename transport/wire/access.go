package wire

import (
	"math"
)

// The accessors read one field of a decoded map. Each returns a *FieldError
// naming the field: it wraps ErrMissing when the key is absent and ErrType
// when the value has the wrong kind. A nil value is present, and of kind
// "nil".

// String returns m[key] if it is a string. Bytes that are not UTF-8 (which
// the decoder leaves as []byte) are the wrong type.
func String(m map[string]any, key string) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", &FieldError{Key: key, Want: "string"}
	}
	s, ok := v.(string)
	if !ok {
		return "", &FieldError{Key: key, Want: "string", Got: KindOf(v)}
	}
	return s, nil
}

// OptString returns m[key] and true if it is a string, and "" and false if
// it is absent or anything else.
func OptString(m map[string]any, key string) (string, bool) {
	s, ok := m[key].(string)
	return s, ok
}

// Bytes returns m[key] if it is a string or []byte. Salt sends binary data
// (ciphertexts, signatures, nested msgpack) as str, and the decoder makes a
// string of any that happens to be valid UTF-8, so binary fields must accept
// both. A string is copied; a []byte is returned as it is.
func Bytes(m map[string]any, key string) ([]byte, error) {
	v, ok := m[key]
	if !ok {
		return nil, &FieldError{Key: key, Want: "bytes"}
	}
	switch v := v.(type) {
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	return nil, &FieldError{Key: key, Want: "bytes", Got: KindOf(v)}
}

// Int returns m[key] if it is an integer that fits in an int64. Floats are
// the wrong type, even whole ones: Salt sends integers as integers.
func Int(m map[string]any, key string) (int64, error) {
	v, ok := m[key]
	if !ok {
		return 0, &FieldError{Key: key, Want: "int"}
	}
	if n, ok := toInt64(v); ok {
		return n, nil
	}
	got := KindOf(v)
	if got == "int" {
		got = "int out of range"
	}
	return 0, &FieldError{Key: key, Want: "int", Got: got}
}

// Bool returns m[key] if it is a bool.
func Bool(m map[string]any, key string) (bool, error) {
	v, ok := m[key]
	if !ok {
		return false, &FieldError{Key: key, Want: "bool"}
	}
	b, ok := v.(bool)
	if !ok {
		return false, &FieldError{Key: key, Want: "bool", Got: KindOf(v)}
	}
	return b, nil
}

// List returns m[key] if it is a list.
func List(m map[string]any, key string) ([]any, error) {
	v, ok := m[key]
	if !ok {
		return nil, &FieldError{Key: key, Want: "list"}
	}
	l, ok := v.([]any)
	if !ok {
		return nil, &FieldError{Key: key, Want: "list", Got: KindOf(v)}
	}
	return l, nil
}

// SubMap returns m[key] if it is a map (as Unmarshal decodes maps).
func SubMap(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key]
	if !ok {
		return nil, &FieldError{Key: key, Want: "map"}
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return nil, &FieldError{Key: key, Want: "map", Got: KindOf(v)}
	}
	return sub, nil
}

// toInt64 accepts the integer types a decoded or hand-built map may hold.
func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case uint:
		return int64(n), uint64(n) <= math.MaxInt64
	case uint32:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint8:
		return int64(n), true
	}
	return 0, false
}

// Strings returns the strings of a decoded list ([]any), skipping
// anything else; nil for what is not a list.
func Strings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// SplitArgs separates a Salt arg list (a publication's "arg") into its
// positional values and its keyword arguments: the entries of the maps
// marked "__kwarg__": true, whether decoded (map[string]any) or built
// for sending (Map).
func SplitArgs(arg []any) (pos []any, kw map[string]any) {
	kw = map[string]any{}
	for _, a := range arg {
		switch m := a.(type) {
		case Map:
			if v, _ := m.Get("__kwarg__"); v == true {
				for _, f := range m {
					if f.Key != "__kwarg__" {
						kw[f.Key] = f.Value
					}
				}
				continue
			}
		case map[string]any:
			if m["__kwarg__"] == true {
				for k, v := range m {
					if k != "__kwarg__" {
						kw[k] = v
					}
				}
				continue
			}
		}
		pos = append(pos, a)
	}
	return pos, kw
}

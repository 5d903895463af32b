package output

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brine-project/brine/transport/wire"
)

// maxDepth bounds how deeply the outputters follow nested lists and maps.
// Decoded returns stay within wire.MaxDepth; the bound is there for values
// built in Go, which can contain themselves.
const maxDepth = 10 * wire.MaxDepth

// errDepth is returned for a value nested deeper than maxDepth.
var errDepth = fmt.Errorf("output: value nested more than %d deep", maxDepth)

// unsupported is the error for a Go value outside the model of
// transport/wire.
func unsupported(v any) error {
	return fmt.Errorf("output: cannot print a value of type %T", v)
}

// fields returns the entries of a map value in the order a Python dict
// holding it would iterate: a wire.Map in its own order (the order Salt
// inserted, and sent, the keys), a map[string]any in sorted key order (Go
// maps keep no order; sorted is the one that is reproducible). A wire.Map
// that repeats a key shows it once, as the dict Salt builds would.
func fields(v any) ([]wire.Field, bool) {
	switch m := v.(type) {
	case wire.Map:
		return dedup(m), true
	case map[string]any:
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]wire.Field, len(keys))
		for i, k := range keys {
			out[i] = wire.Field{Key: k, Value: m[k]}
		}
		return out, true
	}
	return nil, false
}

// sortedFields returns the entries of a map value sorted by key, as
// Python's sorted() orders str keys (by code point, which is the byte
// order of UTF-8).
func sortedFields(v any) ([]wire.Field, bool) {
	fs, ok := fields(v)
	if !ok {
		return nil, false
	}
	slices.SortStableFunc(fs, func(a, b wire.Field) int { return strings.Compare(a.Key, b.Key) })
	return fs, true
}

// dedup returns the fields of m with each key once: at the place it first
// appeared, holding the value it last had (a Python dict's behaviour).
func dedup(m wire.Map) []wire.Field {
	seen := make(map[string]int, len(m))
	out := make([]wire.Field, 0, len(m))
	for _, f := range m {
		if i, ok := seen[f.Key]; ok {
			out[i].Value = f.Value
			continue
		}
		seen[f.Key] = len(out)
		out = append(out, f)
	}
	return out
}

// intString formats the integer kinds of the value model, and reports
// whether v was one.
func intString(v any) (string, bool) {
	switch n := v.(type) {
	case int64:
		return strconv.FormatInt(n, 10), true
	case uint64:
		return strconv.FormatUint(n, 10), true
	case int:
		return strconv.Itoa(n), true
	}
	return "", false
}

// pyRepr appends repr(v) as Python prints the value Salt would hold.
func pyRepr(b *strings.Builder, v any, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	if s, ok := intString(v); ok {
		b.WriteString(s)
		return nil
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case float64:
		b.WriteString(pyFloatRepr(v))
	case string:
		b.WriteString(pyStrRepr(v))
	case []byte:
		b.WriteString(pyBytesRepr(v))
	case time.Time:
		b.WriteString(pyDatetimeRepr(v))
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pyRepr(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any, wire.Map:
		fs, _ := fields(v)
		b.WriteByte('{')
		for i, f := range fs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyStrRepr(f.Key))
			b.WriteString(": ")
			if err := pyRepr(b, f.Value, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return unsupported(v)
	}
	return nil
}

// pyStr is str(v): a str is itself, a datetime is its isoformat(' '), and
// everything else is its repr.
func pyStr(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case time.Time:
		return pyDatetimeISO(v, ' '), nil
	}
	var b strings.Builder
	if err := pyRepr(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// checkModel returns an error if v, or anything in it, is outside the
// value model, for the outputters that skip some values unseen.
func checkModel(v any, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	if _, ok := intString(v); ok {
		return nil
	}
	switch v := v.(type) {
	case nil, bool, float64, string, []byte, time.Time:
		return nil
	case []any:
		for _, e := range v {
			if err := checkModel(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any, wire.Map:
		fs, _ := fields(v)
		for _, f := range fs {
			if err := checkModel(f.Value, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return unsupported(v)
}

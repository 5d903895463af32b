package output

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brine-project/brine/internal/pyfmt"
	"github.com/brine-project/brine/transport/wire"
)

// maxDepth bounds how deeply the outputters follow nested lists and maps.
// Decoded returns stay within wire.MaxDepth; the bound is there for values
// built in Go, which can contain themselves. It is pyfmt's, so that a value
// the outputters accept is never cut short by pyfmt.
const maxDepth = pyfmt.MaxDepth

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

// pyStr is Python's str(v), for a value of the model.
func pyStr(v any) (string, error) {
	if err := checkModel(v, 0); err != nil {
		return "", err
	}
	return pyfmt.Str(v), nil
}

// checkModel returns an error if v, or anything in it, is outside the
// value model or nested deeper than maxDepth: for the outputters that skip
// some values unseen, and for str(), since pyfmt prints any Go value.
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
	case map[string]any:
		for _, e := range v {
			if err := checkModel(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case wire.Map:
		for _, f := range v {
			if err := checkModel(f.Value, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return unsupported(v)
}

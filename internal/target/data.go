package target

import (
	"reflect"
	"time"

	"github.com/brine-project/brine/transport/wire"
)

// Grains and pillar arrive as decoded msgpack (map[string]any or wire.Map,
// []any, strings, int64, float64, bool, nil, []byte, time.Time) or as Go
// values a minion built itself ([]string, map[string]string, ...). The
// helpers below give them Python's view: a dict, a list, or a scalar.
// The common types are switched on directly so that matching does not
// allocate; anything else goes through reflect.

type vkind uint8

const (
	vScalar vkind = iota
	vDict
	vList
)

func kindOf(v any) vkind {
	switch v.(type) {
	case map[string]any, wire.Map, map[string]string:
		return vDict
	case []any, []string:
		return vList
	case nil, string, bool, int64, float64, int, uint64, []byte, time.Time, wire.Constant:
		return vScalar
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			return vDict
		}
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() != reflect.Uint8 {
			return vList
		}
	}
	return vScalar
}

// dictGet is Python's d[k] for a dict d.
func dictGet(d any, k string) (any, bool) {
	switch d := d.(type) {
	case map[string]any:
		v, ok := d[k]
		return v, ok
	case wire.Map:
		return d.Get(k)
	case map[string]string:
		v, ok := d[k]
		if !ok {
			return nil, false
		}
		return v, true
	}
	rv := reflect.ValueOf(d)
	if rv.Kind() != reflect.Map {
		return nil, false
	}
	v := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()))
	if !v.IsValid() {
		return nil, false
	}
	return v.Interface(), true
}

func dictLen(d any) int {
	switch d := d.(type) {
	case map[string]any:
		return len(d)
	case wire.Map:
		return len(d)
	case map[string]string:
		return len(d)
	}
	return reflect.ValueOf(d).Len()
}

// dictRange calls f on each entry of d until f returns true, and reports
// whether one did. The order is Go's map order: callers only ask "does any
// entry ...".
func dictRange(d any, f func(k string, v any) bool) bool {
	switch d := d.(type) {
	case map[string]any:
		for k, v := range d {
			if f(k, v) {
				return true
			}
		}
		return false
	case wire.Map:
		for _, fl := range d {
			if f(fl.Key, fl.Value) {
				return true
			}
		}
		return false
	case map[string]string:
		for k, v := range d {
			if f(k, v) {
				return true
			}
		}
		return false
	}
	it := reflect.ValueOf(d).MapRange()
	for it.Next() {
		if f(it.Key().String(), it.Value().Interface()) {
			return true
		}
	}
	return false
}

func listLen(l any) int {
	switch l := l.(type) {
	case []any:
		return len(l)
	case []string:
		return len(l)
	}
	return reflect.ValueOf(l).Len()
}

func listAt(l any, i int) any {
	switch l := l.(type) {
	case []any:
		return l[i]
	case []string:
		return l[i]
	}
	return reflect.ValueOf(l).Index(i).Interface()
}

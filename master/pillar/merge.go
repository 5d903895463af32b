package pillar

import (
	"reflect"

	"github.com/brine-project/brine/transport/wire"
)

// Merging strategies (pillar_source_merging_strategy), after Salt's
// salt.utils.dictupdate.merge.
const (
	Smart     = "smart"     // recurse, for Brine's renderers (aggregate only with yamlex)
	Recurse   = "recurse"   // nested maps merged, everything else (lists too) replaced
	Overwrite = "overwrite" // top-level keys replaced whole
	None      = "none"      // only the minion's saltenv's top file; merged as recurse
	Aggregate = "aggregate" // yamlex's aggregation; without yamlex's tags that is overwrite
	List      = "list"      // Salt's merge_list: keys of a only, pairs where both have one
)

// merge returns a merged with b (b wins) by strategy, as Salt's
// dictupdate.merge does. a is not changed; the result may share values
// with b, never with a.
func merge(a, b map[string]any, strategy string, mergeLists bool) map[string]any {
	switch strategy {
	case Overwrite, Aggregate:
		// merge_overwrite replaces a's top-level keys with b's, after which
		// the recursive update has nothing left to merge; aggregate at
		// level 1 keeps b's value of every shared key for untagged data.
		out := deepCopyMap(a)
		for k, v := range b {
			out[k] = v
		}
		return out
	case List:
		out := make(map[string]any, len(a))
		for k, v := range a {
			if bv, ok := b[k]; ok {
				out[k] = []any{deepCopy(v), bv}
			} else {
				out[k] = deepCopy(v)
			}
		}
		return out
	case None:
		return update(deepCopyMap(a), b, false)
	}
	return update(deepCopyMap(a), b, mergeLists)
}

// update is Salt's dictupdate.update with recursive_update: b's keys go
// into dest; where both hold maps they merge, where both hold lists and
// mergeLists is set b's items not already in dest's list are appended;
// otherwise b's value replaces dest's.
func update(dest, b map[string]any, mergeLists bool) map[string]any {
	for k, v := range b {
		switch dv := dest[k].(type) {
		case map[string]any:
			if bv, ok := v.(map[string]any); ok {
				dest[k] = update(dv, bv, mergeLists)
				continue
			}
		case []any:
			if bv, ok := v.([]any); ok && mergeLists {
				out := append([]any(nil), dv...)
				for _, x := range bv {
					if !containsEqual(out, x) {
						out = append(out, x)
					}
				}
				dest[k] = out
				continue
			}
		}
		dest[k] = v
	}
	return dest
}

func containsEqual(list []any, x any) bool {
	for _, y := range list {
		if reflect.DeepEqual(y, x) {
			return true
		}
	}
	return false
}

func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}

// deepCopy copies maps and lists; other values are immutable.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return deepCopyMap(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	case []byte:
		return append([]byte(nil), v...)
	}
	return v
}

// plain turns the YAML loader's ordered maps into map[string]any,
// recursively: pillar data is merged and sent as plain maps.
func plain(v any) any {
	switch v := v.(type) {
	case wire.Map:
		out := make(map[string]any, len(v))
		for _, f := range v {
			out[f.Key] = plain(f.Value)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = plain(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = plain(x)
		}
		return out
	}
	return v
}

package pydata

import (
	"strings"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/transport/wire"
)

// Traverse is salt.utils.data.traverse_dict_and_list: it follows key, its
// parts separated by delim, down dicts and lists ("foo:bar:0" is
// data["foo"]["bar"][0]) and returns def where the path does not exist. A
// part that is not an index selects, in a list, the first dict in it that
// has that key. A part written in quotes also matches the key unquoted, as
// Salt's YAML-loading retry does.
func Traverse(data any, key, delim string, def any) any {
	ptr := data
	for _, each := range strings.Split(key, delim) {
		if l, ok := List(ptr); ok {
			idx, err := Int(each)
			if err != nil {
				found := false
				for _, e := range l {
					if m, ok := Map(e); ok {
						if v, ok := m[each]; ok {
							ptr, found = v, true
							break
						}
					}
				}
				if !found {
					return def
				}
				continue
			}
			if idx < 0 {
				idx += int64(len(l))
			}
			if idx < 0 || idx >= int64(len(l)) {
				return def
			}
			ptr = l[idx]
			continue
		}
		m, ok := Map(ptr)
		if !ok {
			return def
		}
		v, ok := m[each]
		if !ok {
			unq, quoted := unquote(each)
			if !quoted {
				return def
			}
			if v, ok = m[unq]; !ok {
				return def
			}
		}
		ptr = v
	}
	return ptr
}

// unquote strips one pair of matching YAML quotes.
func unquote(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], true
	}
	return s, false
}

// Update is salt.utils.dictupdate.update: it merges upd into dest, dicts
// within dicts recursively and lists concatenated (new items only) when
// mergeLists is set, and returns dest, which it modifies.
func Update(dest, upd map[string]any, mergeLists bool) map[string]any {
	recursive := false
	for k := range upd {
		if _, ok := dest[k]; ok {
			recursive = true
			break
		}
	}
	for _, k := range Keys(upd) {
		val := upd[k]
		if recursive {
			sub := dest[k]
			if sm, ok := Map(sub); ok {
				if vm, ok := Map(val); ok {
					if _, plain := sub.(map[string]any); !plain {
						sm = Plain(sm).(map[string]any)
					}
					dest[k] = Update(sm, vm, mergeLists)
					continue
				}
			}
			if sl, ok := List(sub); ok && mergeLists {
				if vl, ok := List(val); ok {
					merged := Plain(sl).([]any)
					for _, x := range vl {
						if !Contains(merged, x) {
							merged = append(merged, x)
						}
					}
					dest[k] = merged
					continue
				}
			}
		}
		dest[k] = val
	}
	return dest
}

// Errors of FilterBy, with Salt's texts.
var (
	ErrFilterByBase  = &Exception{Kind: saltException, Msg: "filter_by default and look-up values must both be dictionaries."}
	ErrFilterByMerge = &Exception{Kind: saltException, Msg: "filter_by merge argument must be a dictionary."}
)

const saltException = "salt.exceptions.SaltException"

// FilterBy is salt.utils.data.filter_by: the value of lookup whose key (a
// glob) matches the value found at key in data (or any item of it, if it is
// a list), else the value of lookup[def]; merged over lookup[base] when
// there is a base, and with merge merged over it. Keys are tried in the
// dict's order where it has one (wire.Map); in a plain map, whose order is
// lost, exact keys are tried before patterns, each sorted.
func FilterBy(lookup any, key string, data any, merge any, def, base string) (any, error) {
	lm, _ := Map(lookup)
	keys := Keys(lookup)
	if _, ordered := lookup.(wire.Map); !ordered {
		var exact, globs []string
		for _, k := range keys {
			if fnmatch.HasMeta(k) {
				globs = append(globs, k)
			} else {
				exact = append(exact, k)
			}
		}
		keys = append(exact, globs...)
	}
	val := Traverse(data, key, ":", []any{})
	each, ok := List(val)
	if !ok {
		each = []any{val}
	}
	var ret any
	for _, e := range each {
		s := Str(e)
		for _, k := range keys {
			if fnmatch.Match(k, s) {
				ret = lm[k]
				break
			}
		}
		if ret != nil {
			break
		}
	}
	if ret == nil {
		ret = lm[def]
	}
	ret = Plain(ret)
	if bv, ok := lm[base]; ok && base != "" {
		if ret == nil {
			ret = Plain(bv)
		} else if bm, ok := Map(bv); ok {
			rm, ok := ret.(map[string]any)
			if !ok {
				return nil, ErrFilterByBase
			}
			ret = Update(Plain(bm).(map[string]any), rm, false)
		}
	}
	if Truthy(merge) {
		mm, ok := Map(merge)
		if !ok {
			return nil, ErrFilterByMerge
		}
		if ret == nil {
			return Plain(mm), nil
		}
		if rm, ok := ret.(map[string]any); ok {
			Update(rm, Plain(mm).(map[string]any), false)
		} else {
			return nil, &Exception{Kind: "TypeError", Msg: "Cannot update using non-dict types in dictupdate.update()"}
		}
	}
	return ret, nil
}

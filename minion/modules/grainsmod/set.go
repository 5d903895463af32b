package grainsmod

import (
	"context"
	"fmt"
	"strings"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// appendFn is grains.append: it appends val (each of its items, for a
// list) to the list grain key, which may be nested, and sets the grain.
func appendFn(ctx context.Context, c *modules.Call) (any, error) {
	key, val, delim := pydata.Str(c.Args["key"]), c.Args["val"], pydata.Str(c.Args["delimiter"])
	g := pydata.Plain(envGrains(c))
	cur := pydata.Traverse(g, key, delim, []any{})
	if pydata.Truthy(c.Args["convert"]) {
		if _, ok := pydata.List(cur); !ok {
			if cur == nil {
				cur = []any{}
			} else {
				cur = []any{cur}
			}
		}
	}
	l, ok := pydata.List(cur)
	if !ok {
		return fmt.Sprintf("The key %s is not a valid list", key), nil
	}
	if pydata.Contains(l, val) {
		return fmt.Sprintf("The val %s was already in the list %s", pydata.Str(val), key), nil
	}
	if vl, ok := pydata.List(val); ok {
		l = append(l, pydata.Plain(vl).([]any)...)
	} else {
		l = append(l, pydata.Plain(val))
	}
	var v any = l
	for strings.Contains(key, delim) {
		var rest string
		key, rest = rsplit(key, delim)
		parent := pydata.Traverse(g, key, delim, map[string]any{})
		if m, ok := parent.(map[string]any); ok {
			m[rest] = v
		}
		v = parent
	}
	return setvals(ctx, c, map[string]any{key: v}, false, true)
}

// removeFn is grains.remove: it removes val from the list grain key.
func removeFn(ctx context.Context, c *modules.Call) (any, error) {
	key, val, delim := pydata.Str(c.Args["key"]), c.Args["val"], pydata.Str(c.Args["delimiter"])
	g := pydata.Plain(envGrains(c))
	l, ok := pydata.List(pydata.Traverse(g, key, delim, []any{}))
	if !ok {
		return fmt.Sprintf("The key %s is not a valid list", key), nil
	}
	if !pydata.Contains(l, val) {
		return fmt.Sprintf("The val %s was not in the list %s", pydata.Str(val), key), nil
	}
	for i, x := range l {
		if pydata.Equal(x, val) {
			l = append(l[:i:i], l[i+1:]...)
			break
		}
	}
	var v any = l
	for strings.Contains(key, delim) {
		var rest string
		key, rest = rsplit(key, delim)
		parent := pydata.Traverse(g, key, delim, nil)
		if m, ok := parent.(map[string]any); ok {
			m[rest] = v
		}
		v = parent
	}
	return setvals(ctx, c, map[string]any{key: v}, false, true)
}

func rsplit(s, sep string) (string, string) {
	i := strings.LastIndex(s, sep)
	return s[:i], s[i+len(sep):]
}

// set is grains.set (and delval, delkey): it sets a possibly nested key,
// refusing to overwrite a dict or a list, or with one, unless forced, and
// returns {"comment", "changes", "result"}.
func set(ctx context.Context, c *modules.Call, key string, val any, force, destructive bool, delim string) (any, error) {
	ret := map[string]any{"comment": "", "changes": map[string]any{}, "result": true}
	complexType := func(v any) bool { return pydata.IsMap(v) || isList(v) }
	g := pydata.Plain(envGrains(c))
	existing := pydata.Traverse(g, key, delim, missing)
	if existing != missing && pydata.Equal(existing, val) && (val != nil || !destructive) {
		ret["comment"] = "Grain is already set"
		return ret, nil
	}
	if existing != nil && existing != missing && !force {
		if complexType(existing) {
			ret["comment"] = fmt.Sprintf("The key '%s' exists but is a dict or a list. Use 'force=True' to overwrite.", key)
			ret["result"] = false
			return ret, nil
		}
		if complexType(val) {
			ret["comment"] = fmt.Sprintf("The key '%s' exists and the given value is a dict or a list. Use 'force=True' to overwrite.", key)
			ret["result"] = false
			return ret, nil
		}
	}
	value := pydata.Plain(val)
	for strings.Contains(key, delim) {
		var rest string
		key, rest = rsplit(key, delim)
		parent := pydata.Traverse(g, key, delim, map[string]any{})
		switch p := parent.(type) {
		case map[string]any:
			if value == nil && destructive {
				delete(p, rest)
			} else {
				p[rest] = value
			}
		case []any:
			updated := false
			for i, item := range p {
				if pydata.Equal(item, rest) {
					p[i] = map[string]any{rest: value}
					updated = true
				} else if m, ok := item.(map[string]any); ok {
					if _, has := m[rest]; has {
						m[rest] = value
						updated = true
					}
				}
			}
			if !updated {
				parent = append(p, map[string]any{rest: value})
			}
		default:
			if !pydata.Equal(parent, rest) && !force {
				ret["comment"] = fmt.Sprintf("The key '%s' value is '%s', which is different from the provided key '%s'. Use 'force=True' to overwrite.", key, pydata.Str(parent), rest)
				ret["result"] = false
				return ret, nil
			}
			parent = map[string]any{rest: value}
		}
		value = parent
	}
	msg, err := writeGrains(ctx, c, map[string]any{key: value}, destructive)
	if err != nil {
		return nil, err
	}
	if msg != "" {
		ret["comment"], ret["result"] = msg, false
		return ret, nil
	}
	ret["changes"] = map[string]any{key: value}
	return ret, nil
}

func isList(v any) bool { _, ok := pydata.List(v); return ok }

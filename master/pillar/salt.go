package pillar

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// SaltFunctions lists what a template's salt[...] offers. They read the
// data of the compilation at hand only; nothing runs on a minion:
//
//	grains.get(key, default='', delimiter=':')  nested lookup in the grains
//	grains.has_value(key, delimiter=':')        whether the lookup finds a true value
//	grains.items()                              all grains
//	pillar.get(key, default='', delimiter=':')  lookup in the pillar compiled so far
//	pillar.items()                              the pillar compiled so far
//	config.get(key, default='', delimiter=':')  opts, then grains, then pillar
//
// Keys are split on the delimiter; a list is indexed by a number, as in
// Salt's traverse_dict_and_list.
var SaltFunctions = []string{"grains.get", "grains.has_value", "grains.items", "pillar.get", "pillar.items", "config.get"}

type saltFunc = func(*exec.VarArgs) (any, error)

// saltFuncs returns the functions for one template, which sees pillar.
func (r *run) saltFuncs(pillar map[string]any) map[string]any {
	lookup := func(name string, sources func() []map[string]any) saltFunc {
		return func(va *exec.VarArgs) (any, error) {
			key, def, delim, err := lookupArgs(name, va)
			if err != nil {
				return nil, err
			}
			for _, src := range sources() {
				if v, ok := traverse(src, key, delim); ok {
					return v, nil
				}
			}
			return def, nil
		}
	}
	grains := func() []map[string]any { return []map[string]any{r.grains} }
	pillars := func() []map[string]any { return []map[string]any{pillar} }
	return map[string]any{
		"grains.get": lookup("grains.get", grains),
		"grains.has_value": func(va *exec.VarArgs) (any, error) {
			key, _, delim, err := lookupArgs("grains.has_value", va)
			if err != nil {
				return nil, err
			}
			v, ok := traverse(r.grains, key, delim)
			return ok && exec.AsValue(v).IsTrue(), nil
		},
		"grains.items": func(*exec.VarArgs) (any, error) { return r.grains, nil },
		"pillar.get":   lookup("pillar.get", pillars),
		"pillar.items": func(*exec.VarArgs) (any, error) { return pillar, nil },
		"config.get": lookup("config.get", func() []map[string]any {
			return []map[string]any{r.opts, r.grains, pillar}
		}),
	}
}

// lookupArgs takes (key, default=”, delimiter=':') positionally or by name.
func lookupArgs(name string, va *exec.VarArgs) (key string, def any, delim string, err error) {
	def, delim = "", ":"
	args := va.Args
	if len(args) == 0 {
		if v, ok := va.KwArgs["key"]; ok {
			args = []*exec.Value{v}
		} else {
			return "", nil, "", fmt.Errorf("%s() missing the key", name)
		}
	}
	key = args[0].String()
	if len(args) > 1 {
		def = args[1].Interface()
	}
	if len(args) > 2 {
		delim = args[2].String()
	}
	if v, ok := va.KwArgs["default"]; ok {
		def = v.Interface()
	}
	if v, ok := va.KwArgs["delimiter"]; ok {
		delim = v.String()
	}
	if delim == "" {
		delim = ":"
	}
	return key, def, delim, nil
}

// traverse is Salt's traverse_dict_and_list: key split on delim, maps
// looked up by key and lists by index.
func traverse(data map[string]any, key, delim string) (any, bool) {
	var cur any = data
	for _, k := range strings.Split(key, delim) {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[k]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

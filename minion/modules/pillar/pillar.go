// Package pillar is Salt's pillar execution module: the minion's pillar,
// as the master compiled it for this minion.
package pillar

import (
	"context"
	"fmt"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// Specs are the functions of the pillar module.
func Specs() []*modules.Spec {
	getParams := []modules.Param{modules.P("key"), modules.D("default", ""), modules.D("merge", false),
		modules.D("merge_nested_lists", nil), modules.D("delimiter", ":"), modules.D("pillarenv", nil), modules.D("saltenv", nil)}
	return []*modules.Spec{
		{Name: "pillar.get", Doc: getDoc("pillar.get"), Params: getParams, Fn: get},
		{Name: "pillar.fetch", Doc: "This function is an alias of get.\n\n" + getDoc("pillar.fetch"), Params: getParams, Fn: get},
		{Name: "pillar.items", Doc: itemsDoc("pillar.items"), VarArgs: true, VarKw: true, Fn: items},
		{Name: "pillar.data", Doc: "This function is an alias of items.\n\n" + itemsDoc("pillar.data"), VarArgs: true, VarKw: true, Fn: items},
		{Name: "pillar.item", Doc: "Return one or more pillar entries from the in-memory pillar data.\n\ndelimiter\n    Delimiter used to traverse nested dictionaries.\n\ndefault\n    If specified, return this value for any missing pillar keys.\n\nCLI Examples:\n\n    salt '*' pillar.item foo\n    salt '*' pillar.item foo:bar\n    salt '*' pillar.item foo bar baz",
			VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) { return item(c, c.VarArgs), nil }},
		{Name: "pillar.raw", Doc: "Return the raw pillar data that is currently loaded into the minion.\n\nContrast with items() which calls the master to fetch the most up-to-date Pillar.\n\nCLI Example:\n\n    salt '*' pillar.raw\n\nWith the optional key argument, you can select a subtree of the pillar raw data.::\n\n    salt '*' pillar.raw key='roles'",
			Params: []modules.Param{modules.D("key", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				p := envPillar(c)
				if k := c.Args["key"]; pydata.Truthy(k) {
					if v, ok := p[pydata.Str(k)]; ok {
						return v, nil
					}
					return map[string]any{}, nil
				}
				return p, nil
			}},
		{Name: "pillar.keys", Doc: "Attempt to retrieve a list of keys from the named value from the pillar.\n\nThe value can also represent a value in a nested dict using a \":\" delimiter for the dict, similar to how pillar.get works.\n\ndelimiter\n    Specify an alternate delimiter to use when traversing a nested dict\n\nCLI Example:\n\n    salt '*' pillar.keys web:sites",
			Params: []modules.Param{modules.P("key"), modules.D("delimiter", ":")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				key := pydata.Str(c.Args["key"])
				v := pydata.Traverse(envPillar(c), key, pydata.Str(c.Args["delimiter"]), missing)
				if v == missing {
					return pydata.RaiseKeyError(c, "Pillar key not found: "+key)
				}
				if !pydata.IsMap(v) {
					return pydata.Raise(c, "ValueError", fmt.Sprintf("Pillar value in key %s is not a dict", key))
				}
				return anyList(pydata.Keys(v)), nil
			}},
		{Name: "pillar.ls", Doc: "Calls the master for a fresh pillar, generates the pillar data on the fly (same as items()), but only shows the available main keys.\n\nCLI Examples:\n\n    salt '*' pillar.ls",
			VarArgs: true, VarKw: true,
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				v, err := items(ctx, c)
				if err != nil {
					return nil, err
				}
				return anyList(pydata.Keys(v)), nil
			}},
		{Name: "pillar.filter_by", Doc: "Look up the given pillar in a given dictionary and return the result\n\nlookup_dict\n    A dictionary, keyed by a pillar, containing a value or values relevant to systems matching that pillar.\n\npillar\n    The name of a pillar to match with the system's pillar.\n\nmerge\n    A dictionary to merge with the results of the pillar selection from lookup_dict.\n\ndefault\n    default lookup_dict's key used if the pillar does not exist or if the pillar value has no match on lookup_dict. If unspecified the value is \"default\".\n\nbase\n    A lookup_dict key to use for a base dictionary.\n\nCLI Example:\n\n    salt '*' pillar.filter_by '{web: Serve it up, db: I query, default: x_x}' role",
			Params: []modules.Param{modules.P("lookup_dict"), modules.P("pillar"), modules.D("merge", nil), modules.D("default", "default"), modules.D("base", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				base := ""
				if b := c.Args["base"]; pydata.Truthy(b) {
					base = pydata.Str(b)
				}
				ret, err := pydata.FilterBy(c.Args["lookup_dict"], pydata.Str(c.Args["pillar"]), envPillar(c), c.Args["merge"], pydata.Str(c.Args["default"]), base)
				if err != nil {
					return pydata.RaiseErr(c, err)
				}
				return ret, nil
			}},
	}
}

// missing marks a key that is not there.
var missing = &struct{ byte }{}

func envPillar(c *modules.Call) map[string]any {
	if c.Env == nil || c.Env.Pillar == nil {
		return map[string]any{}
	}
	if p := c.Env.Pillar(); p != nil {
		return p
	}
	return map[string]any{}
}

func anyList(keys []string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// get is pillar.get. pillarenv and saltenv are not honoured: the
// minion's pillar is the one the master compiled for its environment.
func get(_ context.Context, c *modules.Call) (any, error) {
	key, delim, def := pydata.Str(c.Args["key"]), pydata.Str(c.Args["delimiter"]), c.Args["default"]
	p := envPillar(c)
	mergeLists := pydata.Truthy(c.Args["merge_nested_lists"])
	if pydata.Truthy(c.Args["merge"]) {
		if dm, ok := pydata.Map(def); ok {
			if rm, ok := pydata.Map(pydata.Traverse(p, key, delim, map[string]any{})); ok {
				return pydata.Update(pydata.Plain(dm).(map[string]any), rm, mergeLists), nil
			}
		} else if dl, ok := pydata.List(def); ok {
			if rl, ok := pydata.List(pydata.Traverse(p, key, delim, []any{})); ok {
				out := pydata.Plain(dl).([]any)
				for _, x := range rl {
					if !pydata.Contains(out, x) {
						out = append(out, x)
					}
				}
				return out, nil
			}
		}
		// Salt logs that the merge is skipped and returns the value.
	}
	return pydata.Traverse(p, key, delim, def), nil
}

// item is pillar.item over the in-memory pillar.
func item(c *modules.Call, keys []any) map[string]any {
	def := any("")
	if v, ok := c.Extra["default"]; ok {
		def = v
	}
	delim := ":"
	if v, ok := c.Extra["delimiter"]; ok {
		delim = pydata.Str(v)
	}
	p := envPillar(c)
	out := map[string]any{}
	for _, k := range keys {
		ks := pydata.Str(k)
		out[ks] = pydata.Traverse(p, ks, delim, def)
	}
	return out
}

// items is pillar.items: with keys, pillar.item; without, the pillar
// fetched afresh from the master (the minion keeps it, too), with the
// pillar keyword's values merged over it. Without a master it is the
// pillar in memory.
func items(ctx context.Context, c *modules.Call) (any, error) {
	if len(c.VarArgs) > 0 {
		return item(c, c.VarArgs), nil
	}
	if c.Env != nil && c.Env.Refresh != nil {
		if err := c.Env.Refresh(ctx, "pillar"); err != nil {
			return nil, fmt.Errorf("fetching the pillar from the master: %w", err)
		}
	}
	p := envPillar(c)
	if o, ok := pydata.Map(c.Extra["pillar"]); ok {
		return pydata.Update(pydata.Plain(p).(map[string]any), pydata.Plain(o).(map[string]any), false), nil
	}
	return p, nil
}

func getDoc(fun string) string {
	return `Attempt to retrieve the named value from pillar, if the named value is not available return the passed default. The default return is an empty string.

If the merge parameter is set to True, the default will be recursively merged into the returned pillar data.

The value can also represent a value in a nested dict using a ":" delimiter for the dict. This means that if a dict in pillar looks like this::

    {'pkg': {'apache': 'httpd'}}

To retrieve the value associated with the apache key in the pkg dict this key can be passed::

    pkg:apache

merge : False
    If True, the retrieved values will be merged into the passed default. When the default and the retrieved value are both dictionaries, the dictionaries will be recursively merged.

merge_nested_lists
    If set to False, lists nested within the retrieved pillar dictionary will overwrite lists in default. If set to True, nested lists will be merged into lists in default.

delimiter
    Specify an alternate delimiter to use when traversing a nested dict.

CLI Example:

    salt '*' ` + fun + ` pkg:apache`
}

func itemsDoc(fun string) string {
	return `Calls the master for a fresh pillar and generates the pillar data on the fly

Contrast with raw() which returns the pillar data that is currently loaded into the minion.

pillar
    If specified, allows for a dictionary of pillar data to be made available to pillar and ext_pillar rendering. These pillar variables will also override any variables of the same name in pillar or ext_pillar.

CLI Example:

    salt '*' ` + fun
}

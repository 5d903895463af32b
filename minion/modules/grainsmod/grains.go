// Package grainsmod is Salt's grains execution module: reading the
// minion's grains, and setting grains in the grains file
// (<conf dir>/grains), after which the minion re-reads its grains. The
// grains themselves are found by package minion/grains.
package grainsmod

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"sync"

	"github.com/brine-project/brine/minion/grains"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// Specs are the functions of the grains module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "grains.items", Doc: "Return all of the minion's grains\n\nCLI Example:\n\n    salt '*' grains.items\n\nSanitized CLI Example:\n\n    salt '*' grains.items sanitize=True",
			Params: []modules.Param{modules.D("sanitize", false)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				out := copyMap(envGrains(c))
				if pydata.IsTrue(c.Args["sanitize"]) {
					sanitize(out)
				}
				return out, nil
			}},
		{Name: "grains.item", Doc: "Return one or more grains\n\nCLI Example:\n\n    salt '*' grains.item os\n    salt '*' grains.item os osrelease oscodename\n\nSanitized CLI Example:\n\n    salt '*' grains.item host sanitize=True",
			VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				g := envGrains(c)
				def, delim := kwarg(c, "default", ""), pydata.Str(kwarg(c, "delimiter", ":"))
				out := map[string]any{}
				for _, a := range c.VarArgs {
					k := pydata.Str(a)
					out[k] = pydata.Traverse(g, k, delim, def)
				}
				if pydata.IsTrue(c.Extra["sanitize"]) {
					sanitize(out)
				}
				return out, nil
			}},
		{Name: "grains.get", Doc: getDoc("grains.get"),
			Params: []modules.Param{modules.P("key"), modules.D("default", ""), modules.D("delimiter", ":"), modules.D("ordered", true)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return pydata.Traverse(envGrains(c), pydata.Str(c.Args["key"]), pydata.Str(c.Args["delimiter"]), c.Args["default"]), nil
			}},
		{Name: "grains.fetch", Doc: "This function is an alias of get.\n\n" + getDoc("grains.fetch"),
			Params: []modules.Param{modules.P("key"), modules.D("default", ""), modules.D("delimiter", ":"), modules.D("ordered", true)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return pydata.Traverse(envGrains(c), pydata.Str(c.Args["key"]), pydata.Str(c.Args["delimiter"]), c.Args["default"]), nil
			}},
		{Name: "grains.has_value", Doc: "Determine whether a key exists in the grains dictionary.\n\nGiven a grains dictionary that contains the following structure::\n\n    {'pkg': {'apache': 'httpd'}}\n\nOne would determine if the apache key in the pkg dict exists by::\n\n    pkg:apache\n\nCLI Example:\n\n    salt '*' grains.has_value pkg:apache",
			Params: []modules.Param{modules.P("key")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return pydata.Traverse(envGrains(c), pydata.Str(c.Args["key"]), ":", missing) != missing, nil
			}},
		{Name: "grains.ls", Doc: "Return a list of all available grains\n\nCLI Example:\n\n    salt '*' grains.ls",
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				keys := pydata.Keys(envGrains(c))
				out := make([]any, len(keys))
				for i, k := range keys {
					out[i] = k
				}
				return out, nil
			}},
		{Name: "grains.equals", Doc: "Used to make sure the minion's grain key/value matches.\n\nReturns True if matches otherwise False.\n\nCLI Example:\n\n    salt '*' grains.equals fqdn <expected_fqdn>\n    salt '*' grains.equals systemd:version 219",
			Params: []modules.Param{modules.P("key"), modules.P("value")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return pydata.Str(c.Args["value"]) == pydata.Str(pydata.Traverse(envGrains(c), pydata.Str(c.Args["key"]), ":", "")), nil
			}},
		{Name: "grains.filter_by", Doc: filterByDoc,
			Params: []modules.Param{modules.P("lookup_dict"), modules.D("grain", "os_family"), modules.D("merge", nil), modules.D("default", "default"), modules.D("base", nil)},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				base := ""
				if b := c.Args["base"]; pydata.Truthy(b) {
					base = pydata.Str(b)
				}
				ret, err := pydata.FilterBy(c.Args["lookup_dict"], pydata.Str(c.Args["grain"]), envGrains(c), c.Args["merge"], pydata.Str(c.Args["default"]), base)
				if err != nil {
					return pydata.RaiseErr(c, err)
				}
				return ret, nil
			}},
		{Name: "grains.setvals", Doc: "Set new grains values in the grains config file\n\ndestructive\n    If an operation results in a key being removed, delete the key, too. Defaults to False.\n\nrefresh_pillar\n    Whether pillar will be refreshed. Defaults to True.\n\nCLI Example:\n\n    salt '*' grains.setvals \"{'key1': 'val1', 'key2': 'val2'}\"",
			Params: []modules.Param{modules.P("grains"), modules.D("destructive", false), modules.D("refresh_pillar", true)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return setvals(ctx, c, c.Args["grains"], c.Args["destructive"] == true, pydata.Truthy(c.Args["refresh_pillar"]))
			}},
		{Name: "grains.setval", Doc: "Set a grains value in the grains config file\n\nkey\n    The grain key to be set.\n\nval\n    The value to set the grain key to.\n\ndestructive\n    If an operation results in a key being removed, delete the key, too. Defaults to False.\n\nrefresh_pillar\n    Whether pillar will be refreshed. Defaults to True.\n\nCLI Example:\n\n    salt '*' grains.setval key val\n    salt '*' grains.setval key \"{'sub-key': 'val', 'sub-key2': 'val2'}\"",
			Params: []modules.Param{modules.P("key"), modules.P("val"), modules.D("destructive", false), modules.D("refresh_pillar", true)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return setvals(ctx, c, map[string]any{pydata.Str(c.Args["key"]): c.Args["val"]}, c.Args["destructive"] == true, pydata.Truthy(c.Args["refresh_pillar"]))
			}},
		{Name: "grains.append", Doc: "Append a value to a list in the grains config file. If the grain doesn't exist, the grain key is added and the value is appended to the new grain as a list item.\n\nkey\n    The grain key to be appended to\n\nval\n    The value to append to the grain key\n\nconvert\n    If convert is True, convert non-list contents into a list. If convert is False and the grain contains non-list contents, an error is given. Defaults to False.\n\ndelimiter\n    The key can be a nested dict key. Use this parameter to specify the delimiter you use, instead of the default ``:``.\n\nCLI Example:\n\n    salt '*' grains.append key val",
			Params: []modules.Param{modules.P("key"), modules.P("val"), modules.D("convert", false), modules.D("delimiter", ":")},
			Fn:     appendFn},
		{Name: "grains.remove", Doc: "Remove a value from a list in the grains config file\n\nkey\n    The grain key to remove.\n\nval\n    The value to remove.\n\ndelimiter\n    The key can be a nested dict key.\n\nCLI Example:\n\n    salt '*' grains.remove key val",
			Params: []modules.Param{modules.P("key"), modules.P("val"), modules.D("delimiter", ":")},
			Fn:     removeFn},
		{Name: "grains.set", Doc: "Set a key to an arbitrary value. It is used like setval but works with nested keys.\n\nThis function is conservative. It will only overwrite an entry if its value and the given one are not a list or a dict. The force parameter is used to allow overwriting in all cases.\n\nforce\n    Force writing over existing entry if given or existing values are list or dict. Defaults to False.\ndestructive\n    If an operation results in a key being removed, delete the key, too. Defaults to False.\ndelimiter\n    Specify an alternate delimiter to use when traversing a nested dict, the default being ``:``\n\nCLI Example:\n\n    salt '*' grains.set 'apps:myApp:port' 2209\n    salt '*' grains.set 'apps:myApp' '{port: 2209}'",
			Params: []modules.Param{modules.P("key"), modules.D("val", ""), modules.D("force", false), modules.D("destructive", false), modules.D("delimiter", ":")},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return set(ctx, c, pydata.Str(c.Args["key"]), c.Args["val"], pydata.Truthy(c.Args["force"]), c.Args["destructive"] == true, pydata.Str(c.Args["delimiter"]))
			}},
		{Name: "grains.delval", Doc: "Delete a grain value from the grains config file. This will just set the grain value to None. To completely remove the grain, run grains.delkey or pass destructive=True to grains.delval.\n\nkey\n    The grain key from which to delete the value.\n\ndestructive\n    Delete the key, too. Defaults to False.\n\nforce\n    Force remove the grain even when it is a mapped value. Defaults to False\n\nCLI Example:\n\n    salt '*' grains.delval key",
			Params: []modules.Param{modules.P("key"), modules.D("destructive", false), modules.D("force", false)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return set(ctx, c, pydata.Str(c.Args["key"]), nil, pydata.Truthy(c.Args["force"]), c.Args["destructive"] == true, ":")
			}},
		{Name: "grains.delkey", Doc: "Remove a grain completely from the grain system, this will remove the grain key and value\n\nkey\n    The grain key from which to delete the value.\n\nforce\n    Force remove the grain even when it is a mapped value. Defaults to False\n\nCLI Example:\n\n    salt '*' grains.delkey key",
			Params: []modules.Param{modules.P("key"), modules.D("force", false)},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				return set(ctx, c, pydata.Str(c.Args["key"]), nil, pydata.Truthy(c.Args["force"]), true, ":")
			}},
	}
}

// missing marks a grain that is not there.
var missing = &struct{ byte }{}

func envGrains(c *modules.Call) map[string]any {
	if c.Env == nil || c.Env.Grains == nil {
		return map[string]any{}
	}
	return c.Env.Grains()
}

func kwarg(c *modules.Call, name string, def any) any {
	if v, ok := c.Extra[name]; ok {
		return v
	}
	return def
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// sanitize replaces the grains that identify a host, as grains.items
// sanitize=True does.
func sanitize(m map[string]any) {
	for k, f := range map[string]func(any) any{
		"serialnumber": func(v any) any {
			s := pydata.Str(v)
			n := len([]rune(s))
			keep := int(math.Floor(float64(n) * 0.75))
			return string([]rune(s)[:keep]) + strings.Repeat("X", n-keep)
		},
		"domain":    func(any) any { return "DOMAINNAME" },
		"fqdn":      func(any) any { return "MINION.DOMAINNAME" },
		"id":        func(any) any { return "MINION.DOMAINNAME" },
		"host":      func(any) any { return "MINION" },
		"localhost": func(any) any { return "MINION" },
		"nodename":  func(any) any { return "MINION" },
	} {
		if v, ok := m[k]; ok {
			m[k] = f(v)
		}
	}
}

// fileMu serialises the read-modify-write of grains files within this
// process.
var fileMu sync.Mutex

// grainsFile is the grains file of the minion's configuration.
func grainsFile(c *modules.Call) (string, error) {
	if c.Env == nil || c.Env.Config == nil || c.Env.Config.ConfDir == "" {
		return "", errors.New("the minion's configuration directory is not known, so neither is its grains file")
	}
	return grains.FilePath(c.Env.Config.ConfDir), nil
}

// setvals is Salt's grains.setvals: it sets the grains in the grains file
// (None with destructive removes one), has the minion re-read its grains
// and returns what was set. The minion's grains refresh recompiles the
// pillar whenever it has a master, so refresh_pillar=False is not honoured.
func setvals(ctx context.Context, c *modules.Call, newGrains any, destructive, _ bool) (any, error) {
	ng, ok := pydata.Map(newGrains)
	if !ok {
		return pydata.Raise(c, "salt.exceptions.SaltException", "setvals grains must be a dictionary.")
	}
	if msg, err := writeGrains(ctx, c, ng, destructive); msg != "" || err != nil {
		return msg, err
	}
	return newGrains, nil
}

// writeGrains is the work of setvals. msg is Salt's return for a grains
// file that cannot be parsed; err a failure to write it or to refresh.
func writeGrains(ctx context.Context, c *modules.Call, ng map[string]any, destructive bool) (msg string, err error) {
	path, err := grainsFile(c)
	if err != nil {
		return "", err
	}
	fileMu.Lock()
	file, err := grains.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		file = map[string]any{}
	case err != nil:
		fileMu.Unlock()
		return "Unable to read existing grains file: " + err.Error(), nil
	}
	for k, v := range ng {
		if v == nil && destructive {
			delete(file, k)
		} else {
			file[k] = pydata.Plain(v)
		}
	}
	err = grains.WriteFile(path, file)
	fileMu.Unlock()
	if err != nil {
		// Salt logs this and carries on with the grains set in memory only;
		// Brine keeps grains nowhere else, so this is the call's failure.
		return "", pydata.CommandErrorf("Unable to write to grains file at %s: %v", path, err)
	}
	return "", refreshGrains(ctx, c.Env)
}

// refreshGrains has the minion re-read its grains (Salt's
// saltutil.refresh_grains). The minion recompiles its pillar on a grains
// refresh when it has a master, as Salt does by default (refresh_pillar).
func refreshGrains(ctx context.Context, env *modules.Env) error {
	if env == nil || env.Refresh == nil {
		return nil // masterless and without a minion: nothing holds grains in memory
	}
	if err := env.Refresh(ctx, "grains"); err != nil {
		return fmt.Errorf("the grains file is written, but refreshing the grains failed: %w", err)
	}
	return nil
}

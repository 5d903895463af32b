// Package configmod is Salt's config execution module: configuration
// values looked up in the minion's configuration, then its grains, then its
// pillar, then the master's configuration as the pillar carries it
// (pillar_opts), then Salt's built-in defaults.
//
// The minion configuration is Brine's: the options Brine knows, under
// Salt's names, with the minion's grains and pillar under "grains" and
// "pillar" as in Salt's __opts__. Brine refuses unknown keys in its
// configuration files, so custom options live in grains or pillar. sdb://
// values are returned as they are.
package configmod

import (
	"context"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// defaults are Salt's config.DEFAULTS, the sane defaults config.option
// and config.get fall back on.
func defaults() map[string]any {
	return map[string]any{
		"mongo.db": "salt", "mongo.password": "", "mongo.port": int64(27017), "mongo.user": "",
		"redis.db": "0", "redis.host": "salt", "redis.port": int64(6379),
		"test.foo": "unconfigured", "ca.cert_base_path": "/etc/pki",
		"solr.cores": []any{}, "solr.host": "localhost", "solr.port": "8983", "solr.baseurl": "/solr",
		"solr.type": "master", "solr.request_timeout": nil, "solr.init_script": "/etc/rc.d/solr",
		"solr.dih.import_options": map[string]any{"clean": false, "optimize": true, "commit": true, "verbose": false},
		"solr.backup_path":        nil, "solr.num_backups": int64(1),
		"poudriere.config": "/usr/local/etc/poudriere.conf", "poudriere.config_dir": "/usr/local/etc/poudriere.d",
		"ldap.uri": "", "ldap.server": "localhost", "ldap.port": "389", "ldap.tls": false, "ldap.no_verify": false,
		"ldap.anonymous": true, "ldap.scope": int64(2), "ldap.attrs": nil, "ldap.binddn": "", "ldap.bindpw": "",
		"hosts.file": "/etc/hosts", "aliases.file": "/etc/aliases",
		"virt":               map[string]any{"tunnel": false, "images": "/srv/salt-images"},
		"docker.exec_driver": "docker-exec",
		"docker.compare_container_networks": map[string]any{
			"static":    []any{"Aliases", "Links", "IPAMConfig"},
			"automatic": []any{"IPAddress", "Gateway", "GlobalIPv6Address", "IPv6Gateway"},
		},
	}
}

// Specs are the functions of the config module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "config.get", Doc: getDoc,
			Params: []modules.Param{modules.P("key"), modules.D("default", ""), modules.D("delimiter", ":"), modules.D("merge", nil),
				modules.D("omit_opts", false), modules.D("omit_pillar", false), modules.D("omit_master", false), modules.D("omit_grains", false)},
			Fn: get},
		{Name: "config.option", Doc: optionDoc,
			Params: []modules.Param{modules.P("value"), modules.D("default", nil), modules.D("omit_opts", false), modules.D("omit_grains", false),
				modules.D("omit_pillar", false), modules.D("omit_master", false), modules.D("omit_all", false), modules.D("wildcard", false)},
			Fn: option},
		{Name: "config.merge", Doc: "Retrieves an option based on key, merging all matches.\n\nSame as option() except that it merges all matches, rather than taking the first match.\n\nCLI Example:\n\n    salt '*' config.merge schedule",
			Params: []modules.Param{modules.P("value"), modules.D("default", ""), modules.D("omit_opts", false), modules.D("omit_master", false), modules.D("omit_pillar", false)},
			Fn:     merge},
		{Name: "config.items", Doc: "Return the complete config from the currently running minion process. This includes defaults for values not set in the config file.\n\nCLI Example:\n\n    salt '*' config.items",
			Fn: func(_ context.Context, c *modules.Call) (any, error) { return opts(c), nil }},
		{Name: "config.valid_fileproto", Doc: "Returns a boolean value based on whether or not the URI passed has a valid remote file protocol designation\n\nCLI Example:\n\n    salt '*' config.valid_fileproto salt://path/to/file",
			Params: []modules.Param{modules.P("uri")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				u, err := url.Parse(pydata.Str(c.Args["uri"]))
				if err != nil {
					return false, nil
				}
				switch u.Scheme {
				case "salt", "file", "http", "https", "ftp", "swift", "s3":
					return true, nil
				}
				return false, nil
			}},
	}
}

// opts is the minion's __opts__: its configuration under Salt's names,
// its grains and its pillar.
func opts(c *modules.Call) map[string]any {
	out := map[string]any{}
	if c.Env != nil && c.Env.Config != nil {
		out = structMap(reflect.ValueOf(*c.Env.Config))
		if dir := c.Env.Config.ConfDir; dir != "" {
			out["conf_file"] = filepath.Join(dir, "minion")
		}
	}
	out["grains"] = grainsOf(c)
	out["pillar"] = pillarOf(c)
	return out
}

// structMap turns a configuration struct into a map keyed by its yaml
// names.
func structMap(v reflect.Value) map[string]any {
	out := map[string]any{}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out[name] = plain(v.Field(i))
	}
	return out
}

// plain is a configuration value in the wire's value model.
func plain(v reflect.Value) any {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Struct:
		return structMap(v)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plain(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := map[string]any{}
		it := v.MapRange()
		for it.Next() {
			out[pydata.Str(plain(it.Key()))] = plain(it.Value())
		}
		return out
	}
	return nil
}

func grainsOf(c *modules.Call) map[string]any {
	if c.Env == nil || c.Env.Grains == nil {
		return map[string]any{}
	}
	return c.Env.Grains()
}

func pillarOf(c *modules.Call) map[string]any {
	if c.Env == nil || c.Env.Pillar == nil {
		return map[string]any{}
	}
	if p := c.Env.Pillar(); p != nil {
		return p
	}
	return map[string]any{}
}

// masterOf is the master's configuration, which the pillar carries under
// "master" when the master has pillar_opts.
func masterOf(p map[string]any) map[string]any {
	m, _ := pydata.Map(p["master"])
	if m == nil {
		return map[string]any{}
	}
	return m
}

// sentinel marks a value not found.
var sentinel = &struct{ byte }{}

// get is config.get.
func get(_ context.Context, c *modules.Call) (any, error) {
	key, delim := pydata.Str(c.Args["key"]), pydata.Str(c.Args["delimiter"])
	o, g, p := opts(c), grainsOf(c), pillarOf(c)
	if m := c.Args["merge"]; m != nil {
		strategy := pydata.Str(m)
		if strategy != "recurse" && strategy != "overwrite" {
			strategy = "recurse" // Salt warns: "Unsupported merge strategy"
		}
		data := defaults()
		for _, layer := range []map[string]any{masterOf(p), p, g, o} {
			data = mergeWith(data, layer, strategy)
		}
		if v := pydata.Traverse(data, key, delim, sentinel); v != sentinel {
			return v, nil
		}
		return c.Args["default"], nil
	}
	layers := []struct {
		omit string
		data map[string]any
	}{{"omit_opts", o}, {"omit_grains", g}, {"omit_pillar", p}, {"omit_master", masterOf(p)}, {"", defaults()}}
	for _, l := range layers {
		if l.omit != "" && pydata.Truthy(c.Args[l.omit]) {
			continue
		}
		if v := pydata.Traverse(l.data, key, delim, sentinel); v != sentinel {
			return v, nil
		}
	}
	return c.Args["default"], nil
}

// mergeWith is salt.utils.dictupdate.merge with the recurse or overwrite
// strategy: a new map, a deep copy of a with b merged in.
func mergeWith(a, b map[string]any, strategy string) map[string]any {
	out := pydata.Plain(a).(map[string]any)
	if strategy == "overwrite" {
		for k, v := range b {
			if _, ok := out[k]; ok {
				out[k] = v
			}
		}
	}
	return pydata.Update(out, pydata.Plain(b).(map[string]any), false)
}

// option is config.option: a top-level key (or, with wildcard, every key
// matching a glob) without traversing nested data.
func option(_ context.Context, c *modules.Call) (any, error) {
	value := pydata.Str(c.Args["value"])
	omit := func(k string) bool { return pydata.Truthy(c.Args["omit_all"]) || pydata.Truthy(c.Args[k]) }
	wildcard := pydata.Truthy(c.Args["wildcard"])
	def := c.Args["default"]
	if def == nil {
		if wildcard {
			def = map[string]any{}
		} else {
			def = ""
		}
	}
	o, g, p := opts(c), grainsOf(c), pillarOf(c)
	layers := []struct {
		omit string
		data map[string]any
	}{{"omit_opts", o}, {"omit_grains", g}, {"omit_pillar", p}, {"omit_master", masterOf(p)}}
	if !wildcard {
		for _, l := range layers {
			if omit(l.omit) {
				continue
			}
			if v, ok := l.data[value]; ok {
				return v, nil
			}
		}
		if v, ok := defaults()[value]; ok {
			return v, nil
		}
		return def, nil
	}
	ret := map[string]any{}
	for i := len(layers) - 1; i >= 0; i-- { // minion options win, so they go last
		if omit(layers[i].omit) {
			continue
		}
		for k, v := range layers[i].data {
			if fnmatch.Match(value, k) {
				ret[k] = v
			}
		}
	}
	for k, v := range defaults() {
		if _, ok := ret[k]; !ok && fnmatch.Match(value, k) {
			ret[k] = v
		}
	}
	if len(ret) == 0 {
		return def, nil
	}
	return ret, nil
}

// merge is config.merge: the value from every source, dicts merged and
// lists joined, a string returned as soon as it is found.
func merge(_ context.Context, c *modules.Call) (any, error) {
	value := pydata.Str(c.Args["value"])
	o, p := opts(c), pillarOf(c)
	var ret any
	found := false
	combine := func(tmp any) (any, bool) {
		if !found {
			found = true
			_, isStr := tmp.(string)
			return pydata.Plain(tmp), isStr
		}
		if rm, ok := ret.(map[string]any); ok {
			if tm, ok := pydata.Map(tmp); ok {
				merged := pydata.Plain(tm).(map[string]any)
				for k, v := range rm {
					merged[k] = v
				}
				return merged, false
			}
		}
		if rl, ok := pydata.List(ret); ok {
			if tl, ok := pydata.List(tmp); ok {
				return append(append([]any{}, rl...), tl...), false
			}
		}
		return ret, false
	}
	if !pydata.Truthy(c.Args["omit_opts"]) {
		if v, ok := o[value]; ok {
			var done bool
			if ret, done = combine(v); done {
				return ret, nil
			}
		}
	}
	if !pydata.Truthy(c.Args["omit_master"]) {
		if v, ok := masterOf(p)[value]; ok {
			var done bool
			if ret, done = combine(v); done {
				return ret, nil
			}
		}
	}
	if !pydata.Truthy(c.Args["omit_pillar"]) {
		if v, ok := p[value]; ok {
			var done bool
			if ret, done = combine(v); done {
				return ret, nil
			}
		}
	}
	if !found {
		if v, ok := defaults()[value]; ok {
			return v, nil
		}
		return c.Args["default"], nil
	}
	return ret, nil
}

const getDoc = `Attempt to retrieve the named value from the minion config file, pillar, grains or the master config. If the named value is not available, return the value specified by the default argument. If this argument is not specified, default falls back to an empty string.

Values can also be retrieved from nested dictionaries. Assume the below data structure:

    {'pkg': {'apache': 'httpd'}}

To retrieve the value associated with the apache key, in the sub-dictionary corresponding to the pkg key, the following command can be used:

    salt myminion config.get pkg:apache

The : (colon) is used to represent a nested dictionary level.

This function traverses these data stores in this order, returning the first match found:

- Minion configuration
- Minion's grains
- Minion's pillar data
- Master configuration (requires pillar_opts to be set to True in Minion config file in order to work)

delimiter
    Override the delimiter used to separate nested levels of a data structure.

merge
    If passed, this parameter will change the behavior of the function so that, instead of traversing each data store above in order and returning the first match, the data stores are first merged together and then searched. The supported merge strategies are recurse and overwrite.

CLI Example:

    salt '*' config.get pkg:apache
    salt '*' config.get lxc.container_profile:centos merge=recurse`

const optionDoc = `Returns the setting for the specified config value. The priority for matches is the same as in config.get, only this function does not recurse into nested data structures. Another difference between this function and config.get is that it comes with a set of "sane defaults". To view these, you can run the following command:

    salt '*' config.option '*' omit_all=True wildcard=True

default
    The default value if no match is found. If not specified, then the fallback default will be an empty string, unless wildcard=True, in which case the return will be an empty dictionary.

omit_opts : False
    Pass as True to exclude matches from the minion configuration file

omit_grains : False
    Pass as True to exclude matches from the grains

omit_pillar : False
    Pass as True to exclude matches from the pillar data

omit_master : False
    Pass as True to exclude matches from the master configuration file

omit_all : True
    Shorthand to omit all of the above and return matches only from the "sane defaults".

wildcard : False
    If used, this will perform pattern matching on keys. Instead of only a value being returned, a dictionary mapping the matched keys to their values is returned.

CLI Example:

    salt '*' config.option redis.host`

package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

const findDoc = `Approximate the Unix find(1) command and return a list of paths that meet the specified criteria.

The options include match criteria:

    name    = path-glob                 # case sensitive
    iname   = path-glob                 # case insensitive
    regex   = path-regex                # case sensitive
    iregex  = path-regex                # case insensitive
    type    = file-types                # match any listed type
    owner   = users                     # match any listed user
    group   = groups                    # match any listed group
    size    = [+-]number[size-unit]     # default unit = byte
    mtime   = interval                  # modified since date
    grep    = regex                     # search file contents

and/or actions:

    delete [= file-types]               # default type = 'f'
    print  [= print-opts]

and/or depth criteria:

    maxdepth = maximum depth to transverse in path
    mindepth = minimum depth to transverse before checking files or directories

The default action is print=path. (Salt's exec action is not supported.)

file-types: a string of one or more of b (block device), c (character device), d (directory), p (FIFO), f (plain file), l (symlink), s (socket), a (all)

size-unit: b, k, m, g, t (bytes, kilobytes, …)

interval: [<num>w] [<num>d] [<num>h] [<num>m] [<num>s]

print-opts: a comma and/or space separated list of group, md5, mode, mtime, name, path, size, type, user

CLI Examples:

    salt '*' file.find / type=f name=\*.bak size=+10m
    salt '*' file.find /var mtime=+30d size=+10m print=path,size,mtime
    salt '*' file.find /var/log name=\*.[0-9] mtime=+30d size=+10m delete`

// findError is a bad option of file.find, which Salt returns as the
// string "error: …" rather than raising.
type findError string

func (e findError) Error() string { return string(e) }

// entry is a file the finder looks at.
type entry struct {
	dir, name, path string
	st              *syscall.Stat_t // nil until needed
}

// stat is Salt's: os.stat, or os.lstat for a broken link.
func (e *entry) stat() *syscall.Stat_t {
	if e.st == nil {
		var st syscall.Stat_t
		if syscall.Stat(e.path, &st) != nil {
			if syscall.Lstat(e.path, &st) != nil {
				return &st
			}
		}
		e.st = &st
	}
	return e.st
}

// criterion is one match option; cost orders them as Salt does: path
// checks first, then stat, then contents.
type criterion struct {
	cost  int
	match func(e *entry) bool
}

// action is print or delete.
type action func(e *entry) (any, bool)

type finder struct {
	mindepth int
	maxdepth int // -1 for none
	criteria []criterion
	actions  []action
}

var fileTypes = map[rune]uint32{'b': syscall.S_IFBLK, 'c': syscall.S_IFCHR, 'd': syscall.S_IFDIR, 'f': syscall.S_IFREG, 'l': syscall.S_IFLNK, 'p': syscall.S_IFIFO, 's': syscall.S_IFSOCK}

func typeLetter(mode uint32) string {
	for l, t := range fileTypes {
		if mode&syscall.S_IFMT == t {
			return string(l)
		}
	}
	return "?"
}

func parseTypes(value string) (map[uint32]bool, error) {
	value = strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(value), ",", "")), "")
	out := map[uint32]bool{}
	for _, r := range value {
		if r == 'a' {
			for _, t := range fileTypes {
				out[t] = true
			}
			continue
		}
		t, ok := fileTypes[r]
		if !ok {
			return nil, findError(fmt.Sprintf(`invalid file type "%c"`, r))
		}
		out[t] = true
	}
	return out, nil
}

// globRegexp is Salt's glob for name and iname: '.' literal, '?' any one
// character or none, '*' any run, the rest as regular expression.
func globRegexp(glob, flags string) (*regexp.Regexp, error) {
	t := strings.ReplaceAll(glob, ".", `\.`)
	t = strings.ReplaceAll(t, "?", ".?")
	t = strings.ReplaceAll(t, "*", ".*")
	re, err := regexp.Compile(flags + "^(?:" + t + "$)")
	if err != nil {
		return nil, fmt.Errorf("file.find: name %q is not a valid pattern: %w", glob, err)
	}
	return re, nil
}

func parseSize(v any) (lo, hi int64, err error) {
	s := strings.TrimSpace(pyStr(v))
	style := byte('=')
	if s != "" && (s[0] == '-' || s[0] == '+') {
		style, s = s[0], s[1:]
	}
	mult := int64(1)
	if s != "" {
		if m, ok := map[byte]int64{'b': 1, 'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30, 't': 1 << 40}[strings.ToLower(s[len(s)-1:])[0]]; ok {
			mult, s = m, strings.TrimSpace(s[:len(s)-1])
		}
	}
	var num int64
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		num = n * mult
	} else if f, err := strconv.ParseFloat(s, 64); err == nil {
		num = int64(f * float64(mult))
	} else {
		return 0, 0, findError(fmt.Sprintf(`invalid size: "%s"`, pyStr(v)))
	}
	switch style {
	case '-':
		return 0, num, nil
	case '+':
		return num, math.MaxInt64, nil
	}
	return num, num + mult - 1, nil
}

var intervalRE = regexp.MustCompile(`^\s*([+-]?)(?:(\d+(?:\.\d*)?)\s*[wW])?\s*(?:(\d+(?:\.\d*)?)\s*[dD])?\s*(?:(\d+(?:\.\d*)?)\s*[hH])?\s*(?:(\d+(?:\.\d*)?)\s*[mM])?\s*(?:(\d+(?:\.\d*)?)\s*[sS])?\s*$`)

// parseInterval is Salt's _parse_interval: the seconds, the resolution
// (the smallest unit given) and the modifier.
func parseInterval(v any) (float64, float64, string, error) {
	m := intervalRE.FindStringSubmatch(pyStr(v))
	bad := findError(fmt.Sprintf("invalid time interval: %s", pyRepr(v)))
	if m == nil {
		return 0, 0, "", bad
	}
	var secs, res float64
	for i, mult := range []float64{604800, 86400, 3600, 60, 1} {
		if g := m[2+i]; g != "" {
			f, _ := strconv.ParseFloat(g, 64)
			secs += f * mult
			res = mult
		}
	}
	if res == 0 {
		return 0, 0, "", bad
	}
	return secs, res, m[1], nil
}

// pyRepr is Python's repr of a string or number.
func pyRepr(v any) string {
	if s, ok := v.(string); ok {
		if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
			return `"` + s + `"`
		}
		return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
	}
	return pyStr(v)
}

func idSet(v any, lookup func(string) (int, error), what string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, n := range strings.Fields(strings.ReplaceAll(pyStr(v), ",", " ")) {
		if id, err := strconv.Atoi(n); err == nil && strings.Trim(n, "0123456789") == "" {
			out[id] = true
			continue
		}
		id, err := lookup(n)
		if err != nil {
			return nil, findError(fmt.Sprintf(`no such %s "%s"`, what, n))
		}
		out[id] = true
	}
	return out, nil
}

func lookupUID(n string) (int, error) {
	u, err := user.Lookup(n)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(u.Uid)
}

func lookupGID(n string) (int, error) {
	g, err := user.LookupGroup(n)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}

func depthArg(v any, name string) (int, error) {
	n, err := intArg(v, name)
	return int(n), err
}

// newFinder is Salt's Finder: options checked (a findError for a bad
// one), criteria ordered by cost, print=path by default.
func newFinder(opts map[string]any, now time.Time) (*finder, error) {
	f := &finder{maxdepth: -1}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		value := opts[key]
		switch key {
		case "mindepth", "maxdepth":
			n, err := depthArg(value, key)
			if err != nil {
				return nil, err
			}
			if key == "mindepth" {
				f.mindepth = n
			} else {
				f.maxdepth = n
			}
			continue
		case "test":
			continue
		}
		if !pydata.Truthy(value) {
			return nil, findError(fmt.Sprintf(`missing value for "%s" option`, key))
		}
		switch key {
		case "name", "iname":
			flags := ""
			if key == "iname" {
				flags = "(?i)"
			}
			re, err := globRegexp(pyStr(value), flags)
			if err != nil {
				return nil, err
			}
			f.criteria = append(f.criteria, criterion{0, func(e *entry) bool { return re.MatchString(e.name) }})
		case "regex", "iregex":
			flags := ""
			if key == "iregex" {
				flags = "(?i)"
			}
			re, err := regexp.Compile(flags + "^(?:" + pyStr(value) + ")")
			if err != nil {
				return nil, findError(fmt.Sprintf(`invalid regular expression: "%s"`, pyStr(value)))
			}
			f.criteria = append(f.criteria, criterion{0, func(e *entry) bool { return re.MatchString(e.name) }})
		case "type":
			types, err := parseTypes(pyStr(value))
			if err != nil {
				return nil, err
			}
			f.criteria = append(f.criteria, criterion{1, func(e *entry) bool { return types[e.stat().Mode&syscall.S_IFMT] }})
		case "owner", "user":
			ids, err := idSet(value, lookupUID, "user")
			if err != nil {
				return nil, err
			}
			f.criteria = append(f.criteria, criterion{1, func(e *entry) bool { return ids[int(e.stat().Uid)] }})
		case "group":
			ids, err := idSet(value, lookupGID, "group")
			if err != nil {
				return nil, err
			}
			f.criteria = append(f.criteria, criterion{1, func(e *entry) bool { return ids[int(e.stat().Gid)] }})
		case "size":
			lo, hi, err := parseSize(value)
			if err != nil {
				return nil, err
			}
			f.criteria = append(f.criteria, criterion{1, func(e *entry) bool { s := e.stat().Size; return lo <= s && s <= hi }})
		case "mtime":
			secs, res, mod, err := parseInterval(value)
			if err != nil {
				return nil, err
			}
			limit := float64(now.UnixNano())/1e9 - math.Trunc(secs/res)*res
			f.criteria = append(f.criteria, criterion{1, func(e *entry) bool {
				mt := float64(e.stat().Mtim.Sec)
				if mod == "-" {
					return mt >= limit
				}
				return mt <= limit
			}})
		case "grep":
			re, err := regexp.Compile(pyStr(value))
			if err != nil {
				return nil, findError(fmt.Sprintf(`invalid regular expression: "%s"`, pyStr(value)))
			}
			f.criteria = append(f.criteria, criterion{2, func(e *entry) bool {
				if e.stat().Mode&syscall.S_IFMT != syscall.S_IFREG {
					return false
				}
				b, err := os.ReadFile(e.path)
				return err == nil && re.Match(b)
			}})
		case "print":
			f.actions = append(f.actions, printAction(pyStr(value)))
		case "delete":
			types, err := parseTypes(pyStr(value))
			if err != nil {
				return nil, err
			}
			f.criteria = append(f.criteria, criterion{1, func(e *entry) bool { return types[e.stat().Mode&syscall.S_IFMT] }})
			f.actions = append(f.actions, func(e *entry) (any, bool) {
				var err error
				if isDir(e.path) && !isLink(e.path) {
					err = os.RemoveAll(e.path)
				} else {
					err = os.Remove(e.path)
				}
				return e.path, err == nil
			})
		case "exec":
			return nil, errors.New("file.find: the exec action is not supported by Brine; find the files, then run the command on them with cmd.run")
		default:
			return nil, findError(fmt.Sprintf(`invalid option "%s"`, key))
		}
	}
	if len(f.actions) == 0 {
		f.actions = append(f.actions, printAction(""))
	}
	sort.SliceStable(f.criteria, func(i, j int) bool { return f.criteria[i].cost < f.criteria[j].cost })
	return f, nil
}

// printAction is Salt's PrintOption: the fields asked for, one value
// alone, several as a list.
func printAction(spec string) action {
	fields := strings.Fields(strings.ReplaceAll(spec, ",", " "))
	if len(fields) == 0 {
		fields = []string{"path"}
	}
	return func(e *entry) (any, bool) {
		var out []any
		for _, f := range fields {
			switch f {
			case "path":
				out = append(out, e.path)
			case "name":
				out = append(out, filepath.Base(e.path))
			case "size":
				out = append(out, e.stat().Size)
			case "type":
				out = append(out, typeLetter(e.stat().Mode))
			case "mode":
				out = append(out, int64(e.stat().Mode&0o777))
			case "mtime":
				out = append(out, int64(e.stat().Mtim.Sec))
			case "user":
				out = append(out, uidToUser(e.stat().Uid))
			case "group":
				out = append(out, gidToGroup(e.stat().Gid))
			case "md5":
				sum := ""
				if e.stat().Mode&syscall.S_IFMT == syscall.S_IFREG {
					sum, _ = getHash(e.path, "md5")
				}
				out = append(out, sum)
			}
		}
		if len(out) == 1 {
			return out[0], true
		}
		if out == nil {
			out = []any{}
		}
		return out, true
	}
}

func (f *finder) check(e *entry, results *[]any) {
	for _, c := range f.criteria {
		if !c.match(e) {
			return
		}
	}
	for _, a := range f.actions {
		if r, ok := a(e); ok {
			*results = append(*results, r)
		}
	}
}

// find walks root as os.walk does (not into links to directories), each
// entry at its depth: those in root at 1, root itself at 0.
func (f *finder) find(ctx context.Context, root string, results *[]any) error {
	if f.mindepth < 1 {
		dir, name := filepath.Split(root)
		f.check(&entry{dir: dir, name: name, path: root}, results)
	}
	return f.walk(ctx, root, 1, results)
}

func (f *finder) walk(ctx context.Context, dir string, depth int, results *[]any) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil // os.walk skips what it cannot list
	}
	var dirs, files []fs.DirEntry
	for _, e := range ents {
		if isDir(filepath.Join(dir, e.Name())) {
			dirs = append(dirs, e)
		} else {
			files = append(files, e)
		}
	}
	if depth >= f.mindepth && (f.maxdepth < 0 || f.maxdepth >= depth) {
		for _, e := range append(dirs[:len(dirs):len(dirs)], files...) {
			f.check(&entry{dir: dir, name: e.Name(), path: filepath.Join(dir, e.Name())}, results)
		}
	}
	if f.maxdepth >= 0 && depth > f.maxdepth {
		return nil
	}
	for _, d := range dirs {
		if d.Type()&fs.ModeSymlink != 0 {
			continue
		}
		if err := f.walk(ctx, filepath.Join(dir, d.Name()), depth+1, results); err != nil {
			return err
		}
	}
	return nil
}

// find is Salt's file.find.
func find(ctx context.Context, c *modules.Call) (any, error) {
	path := expanduser(str(c.Args["path"]))
	opts := map[string]any{}
	for k, v := range c.Extra {
		if !strings.HasPrefix(k, "_") {
			opts[k] = v
		}
	}
	var hasDelete, hasPrint bool
	for _, a := range c.VarArgs {
		hasDelete = hasDelete || a == "delete"
		hasPrint = hasPrint || a == "print"
	}
	if hasDelete {
		opts["delete"] = "f"
	} else if hasPrint {
		opts["print"] = "path"
	}
	f, err := newFinder(opts, time.Now())
	var fe findError
	if errors.As(err, &fe) {
		return "error: " + fe.Error(), nil
	}
	if err != nil {
		return nil, err
	}
	roots, err := filepath.Glob(path)
	if err != nil {
		roots = nil
	}
	results := []any{}
	for _, r := range roots {
		if err := f.find(ctx, r, &results); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(results, func(i, j int) bool { return pyLess(results[i], results[j]) })
	return results, nil
}

// pyLess orders values as Python's sort does for the values find returns:
// strings, numbers and lists of them.
func pyLess(a, b any) bool {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return x < y
		}
	case int64:
		switch y := b.(type) {
		case int64:
			return x < y
		case float64:
			return float64(x) < y
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return x < float64(y)
		case float64:
			return x < y
		}
	case []any:
		if y, ok := b.([]any); ok {
			for i := 0; i < len(x) && i < len(y); i++ {
				if pyLess(x[i], y[i]) {
					return true
				}
				if pyLess(y[i], x[i]) {
					return false
				}
			}
			return len(x) < len(y)
		}
	}
	return fmt.Sprintf("%T", a) < fmt.Sprintf("%T", b)
}

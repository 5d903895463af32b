// Package saltargs turns the function arguments of a salt command line
// into the arg list of Salt's publication, as Salt 3006's CLI does it
// (salt/utils/parsers.py hands the words after the function to
// salt.utils.args.parse_input).
//
// A word of the form name=value (name a Python identifier, dots and
// dashes allowed after the first character) is a keyword argument; any
// other word is a positional argument. Each value is read as YAML the way
// salt.utils.args.yamlify_arg does: "1" is an int, "true" and "yes" are
// booleans, "{a: 1}" is a map and "[1, 2]" a list, while "1.0.0", "a: b"
// (a map not written in braces), "- a" (a list not in brackets), "1_000",
// anything with a tab or a line break, and anything whose YAML fails to
// load stay the string they were. The keyword arguments, when there are
// any, go last, in one map whose first key is "__kwarg__" (true).
//
// The values are those of transport/wire: nil, bool, int64 (uint64 above
// math.MaxInt64), float64, string, []byte, []any and wire.Map, the last
// keeping the order Salt's dicts have.
package saltargs

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/brine-project/brine/transport/wire"
)

// Parse turns the words after the function name into the publication's
// arg list (salt.utils.args.parse_input with condition_input). Keyword
// arguments named in noParse keep their value as the string it was (Salt's
// --no-parse). It fails only for input Salt could not publish either: a
// word that is not valid UTF-8, or a value whose YAML nests deeper than the
// wire format allows or refers to itself.
//
// Parse is safe for concurrent use.
func Parse(args []string, noParse ...string) ([]any, error) {
	out := make([]any, 0, len(args))
	var kwargs wire.Map
	for i, a := range args {
		if !utf8.ValidString(a) {
			return nil, fmt.Errorf("saltargs: argument %d (%q) is not valid UTF-8", i+1, a)
		}
		if name, value, ok := parseKwarg(a); ok {
			var v any = value
			if !contains(noParse, name) {
				var err error
				if v, err = yamlify(value); err != nil {
					return nil, fmt.Errorf("saltargs: argument %s: %w", name, err)
				}
			}
			kwargs = set(kwargs, name, v)
			continue
		}
		v, err := yamlify(a)
		if err != nil {
			return nil, fmt.Errorf("saltargs: argument %d: %w", i+1, err)
		}
		// condition_input: an int that reads as a jid (20 characters) is
		// sent as a string, so that it keeps its leading digits intact
		// wherever it goes.
		if s, ok := intText(v); ok && isJID(s) {
			v = s
		}
		out = append(out, v)
	}
	if len(kwargs) > 0 {
		kw := wire.Map{{Key: "__kwarg__", Value: true}}
		for _, f := range kwargs {
			kw = set(kw, f.Key, f.Value)
		}
		out = append(out, kw)
	}
	return out, nil
}

// set puts key in m as a Python dict assignment does: a new key goes last,
// an existing one keeps its place and takes the new value.
func set(m wire.Map, key string, v any) wire.Map {
	for i := range m {
		if m[i].Key == key {
			m[i].Value = v
			return m
		}
	}
	return append(m, wire.Field{Key: key, Value: v})
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// parseKwarg is salt.utils.args.parse_kwarg: KWARG_REGEX,
// ^([^\d\W][\w.-]*)=(?!=)(.*)$ with Python's Unicode \w and \d. The name
// ends at the first "=" (no name character is one), which must not be
// followed by another "=". "." stops at a line break, and "$" also matches
// before a final one, so the value holds no "\n" except that a single one
// at the very end is dropped.
func parseKwarg(s string) (name, value string, ok bool) {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 || strings.HasPrefix(s[eq+1:], "=") {
		return "", "", false
	}
	name = s[:eq]
	for i, r := range name {
		if !isWordChar(r) && (i == 0 || (r != '.' && r != '-')) {
			return "", "", false
		}
		if i == 0 && unicode.Is(unicode.Nd, r) {
			return "", "", false
		}
	}
	value = s[eq+1:]
	if i := strings.IndexByte(value, '\n'); i >= 0 {
		if i != len(value)-1 {
			return "", "", false
		}
		value = value[:i]
	}
	return name, value, true
}

// isWordChar is Python's \w for str patterns: what str.isalnum() accepts
// (letters and the characters with a numeric value), and "_".
func isWordChar(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isJID is salt.utils.jid.is_jid applied to str(int): it holds for the
// integers written with 20 characters.
func isJID(s string) bool {
	return len(s) == 20
}

// intText is str() of an integer value.
func intText(v any) (string, bool) {
	switch n := v.(type) {
	case int64:
		return strconv.FormatInt(n, 10), true
	case uint64:
		return strconv.FormatUint(n, 10), true
	}
	return "", false
}

// isPySpace is Python's str.isspace for one character.
func isPySpace(r rune) bool {
	return (r >= 0x1c && r <= 0x1f) || unicode.IsSpace(r)
}

// yamlify is salt.utils.args.yamlify_arg.
func yamlify(arg string) (any, error) {
	stripped := strings.TrimFunc(arg, isPySpace)
	switch {
	case stripped == "" || stripped == "---" || stripped == "...":
		// YAML would read these as None, or fail.
		return arg, nil
	case strings.Contains(arg, "_") && strings.Trim(stripped, "0123456789_") == "":
		// YAML 1.1 ignores "_" in numbers: "1_000" would be 1000.
		return arg, nil
	case strings.ContainsAny(arg, "\t\r\n"):
		return arg, nil
	}
	if strings.Contains(arg, "#") {
		// "#" may start a comment: take the YAML only if it is not a
		// string (or None), lest part of the string be lost.
		v, err := load(arg)
		if err != nil {
			return arg, nil // Salt catches every exception
		}
		if _, isStr := v.(string); isStr || v == nil {
			return arg, nil
		}
		return publishable(v)
	}
	var v any
	if arg != "None" {
		var err error
		if v, err = load(arg); err != nil {
			return arg, nil // Salt catches every exception
		}
	}
	switch v := v.(type) {
	case wire.Map:
		if !strings.HasPrefix(arg, "{") {
			return arg, nil // a map must be written in braces
		}
		return publishable(v)
	case []any:
		if !strings.HasPrefix(arg, "[") {
			return arg, nil // a list must be written in brackets
		}
		return publishable(v)
	case nil:
		if arg == "!" || strings.HasPrefix(stripped, "#") {
			return arg, nil
		}
		return nil, nil
	case string:
		if v == "" && (arg == "|" || arg == "!") {
			return arg, nil
		}
		return v, nil
	case bool, float64:
		return v, nil
	case pyInt:
		return v.value(), nil
	}
	// Bytes, sets and the like: "we don't support this type".
	return arg, nil
}

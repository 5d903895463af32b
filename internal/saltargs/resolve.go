package saltargs

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// YAML 1.1's implicit types, as PyYAML's Resolver recognises plain
// scalars (yaml/resolver.py in PyYAML 6).
var (
	boolRE  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	floatRE = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	intRE   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	mergeRE = regexp.MustCompile(`^(?:<<)$`)
	nullRE  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	timeRE  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
	valueRE = regexp.MustCompile(`^(?:=)$`)
	yamlRE  = regexp.MustCompile(`^(?:!|&|\*)$`)
)

// resolvePlain is the tag PyYAML's Resolver gives a plain scalar: the
// first implicit resolver registered for its first character that
// matches, or str. (Python's "$" also matches before a final newline.)
func resolvePlain(s string) string {
	m := strings.TrimSuffix(s, "\n")
	var first byte
	if s != "" {
		first = s[0]
	}
	has := func(set string) bool { return s != "" && strings.IndexByte(set, first) >= 0 }
	switch {
	case has("yYnNtTfFoO") && boolRE.MatchString(m):
		return tagBool
	case has("-+0123456789.") && floatRE.MatchString(m):
		return tagFloat
	case has("-+0123456789") && intRE.MatchString(m):
		return tagInt
	case has("<") && mergeRE.MatchString(m):
		return tagMerge
	case (s == "" || has("~nN")) && nullRE.MatchString(m):
		return tagNull
	case has("0123456789") && timeRE.MatchString(m):
		return tagTimestamp
	case has("=") && valueRE.MatchString(m):
		return tagValue
	case has("!&*") && yamlRE.MatchString(m):
		return "!!yaml"
	}
	return tagStr
}

// errEval stands for the exception eval() raises.
var errEval = errors.New("not a Python string literal")

// saltStr is a str scalar after SaltYamlSafeLoader.construct_scalar: a
// value that looks like a Python unicode literal, ^u(['"]).+\1$ in any
// case, is replaced by what eval() makes of it. Brine evaluates only what
// is made of string literals (u'...', "..." next to each other, raw or
// not, with Python's escapes); any other expression counts as one eval
// refused, which makes yamlify keep the argument as it was.
func saltStr(value string) (any, error) {
	body := strings.TrimSuffix(value, "\n") // "$" matches before a final newline
	if len(body) < 4 || (body[0] != 'u' && body[0] != 'U') {
		return value, nil
	}
	q := body[1]
	if (q != '\'' && q != '"') || body[len(body)-1] != q || strings.Contains(body, "\n") {
		return value, nil
	}
	s, ok := evalStringLiterals(value)
	if !ok {
		return nil, errEval
	}
	return s, nil
}

// evalStringLiterals evaluates a Python expression made only of adjacent
// str literals.
func evalStringLiterals(src string) (string, bool) {
	var out strings.Builder
	i, n := 0, 0
	for {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\f') {
			i++
		}
		if i == len(src) {
			return out.String(), n > 0
		}
		raw := false
		for j := 0; j < 2 && i < len(src); j++ {
			switch src[i] {
			case 'u', 'U':
				if j > 0 || raw {
					return "", false
				}
				i++
				continue
			case 'r', 'R':
				if raw {
					return "", false
				}
				raw = true
				i++
				continue
			}
			break
		}
		if i >= len(src) || (src[i] != '\'' && src[i] != '"') {
			return "", false
		}
		quote := src[i : i+1]
		if strings.HasPrefix(src[i:], strings.Repeat(quote, 3)) {
			quote = src[i : i+3]
		}
		i += len(quote)
		start := i
		for {
			if i >= len(src) {
				return "", false
			}
			if src[i] == '\\' {
				i += 2
				continue
			}
			if strings.HasPrefix(src[i:], quote) {
				break
			}
			if len(quote) == 1 && src[i] == '\n' {
				return "", false
			}
			i++
		}
		body := src[start:i]
		i += len(quote)
		if raw {
			out.WriteString(body)
		} else if s, ok := unescapePy(body); ok {
			out.WriteString(s)
		} else {
			return "", false
		}
		n++
	}
}

// unescapePy applies the escapes of a Python str literal. \N{...} (named
// characters) is not supported and refuses the literal; unknown escapes
// stay as they are, as Python leaves them.
func unescapePy(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i - 1
			for j < len(s) && j < i+2 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i-1:j], 8, 32)
			b.WriteRune(rune(v))
			i = j
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+width > len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(s[i:i+width], 16, 32)
			if err != nil || v > utf8.MaxRune || (v >= 0xd800 && v <= 0xdfff) {
				// Surrogates make a str msgpack cannot encode.
				return "", false
			}
			b.WriteRune(rune(v))
			i += width
		case 'N':
			return "", false
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), true
}

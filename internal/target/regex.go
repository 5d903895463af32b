package target

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Unicode forms of Python 3's str-pattern classes. Python's \w is
// str.isalnum() or '_' (Unicode letters and numbers), \d is a decimal digit
// (Nd), \s is str.isspace(); RE2's are ASCII-only.
const (
	pyWord     = `\p{L}\p{N}_`
	pyDigit    = `\p{Nd}`
	pyNotDigit = `\P{Nd}`
	pySpace    = `\t\n\v\f\r\x1c-\x1f\x85\p{Z}`
)

// compilePy compiles a Python re pattern for re.match, that is anchored at
// the start of the text and not at its end. It translates what RE2 spells
// differently and refuses what RE2 would read differently from Python, so
// that a pattern either means what it means to Salt or is an error.
func compilePy(pattern string) (*regexp.Regexp, error) {
	tr, err := translatePy(pattern)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(`^(?:` + tr + `)`)
	if err == nil {
		return re, nil
	}
	// Describe the error in terms of the pattern without the wrapper.
	if _, perr := syntax.Parse(tr, syntax.Perl); perr != nil {
		err = perr
	}
	var se *syntax.Error
	if !errors.As(err, &se) {
		return nil, fmt.Errorf("regular expression %q: %v", pattern, err)
	}
	hint := ""
	if se.Code == syntax.ErrInvalidPerlOp {
		hint = " (Go's regular expressions have no lookaround, conditionals or inline comments)"
	}
	return nil, fmt.Errorf("regular expression %q: %s: `%s`%s", pattern, se.Code, se.Expr, hint)
}

// translatePy rewrites a Python pattern into RE2 syntax with the same
// meaning, or says why it cannot.
func translatePy(p string) (string, error) {
	var b strings.Builder
	b.Grow(len(p))
	inClass := false
	classStart := 0 // index in p right after "[" or "[^" of the open class
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("bad escape (end of pattern) in regular expression %q", p)
			}
			i++
			e := p[i]
			switch e {
			case 'd':
				b.WriteString(pick(inClass, pyDigit, "["+pyDigit+"]"))
			case 'D':
				if inClass {
					b.WriteString(pyNotDigit)
				} else {
					b.WriteString("[" + pyNotDigit + "]")
				}
			case 'w':
				b.WriteString(pick(inClass, pyWord, "["+pyWord+"]"))
			case 's':
				b.WriteString(pick(inClass, pySpace, "["+pySpace+"]"))
			case 'W', 'S':
				if inClass {
					return "", fmt.Errorf(`\%c inside [...] cannot be expressed in Go's regular expressions, in %q`, e, p)
				}
				if e == 'W' {
					b.WriteString("[^" + pyWord + "]")
				} else {
					b.WriteString("[^" + pySpace + "]")
				}
			case 'Z':
				if inClass {
					return "", fmt.Errorf(`bad escape \Z inside [...] in regular expression %q`, p)
				}
				b.WriteString(`\z`)
			case 'u', 'U':
				// \uXXXX and \UXXXXXXXX: RE2 writes \x{...}.
				n := 4
				if e == 'U' {
					n = 8
				}
				if i+n >= len(p) || !isHex(p[i+1:i+1+n]) {
					return "", fmt.Errorf(`incomplete escape \%c in regular expression %q`, e, p)
				}
				b.WriteString(`\x{` + p[i+1:i+1+n] + `}`)
				i += n
			case 'x':
				if i+1 < len(p) && p[i+1] == '{' {
					return "", fmt.Errorf(`bad escape \x{ in regular expression %q (Python takes \xhh)`, p)
				}
				b.WriteString(`\x`)
			case 'b':
				if inClass { // a backspace in a Python class
					b.WriteString(`\x08`)
				} else {
					b.WriteString(`\b`)
				}
			case '1', '2', '3', '4', '5', '6', '7', '8', '9':
				if !inClass {
					// A backreference to Python, an octal escape to RE2.
					return "", fmt.Errorf(`backreferences like \%c are not supported by Go's regular expressions, in %q`, e, p)
				}
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				switch {
				case isASCIILetter(e) && !strings.ContainsRune(pyLetterEscapes, rune(e)):
					// Python rejects unknown ASCII-letter escapes; some
					// of them (\z, \p, \Q, \C) mean something to RE2.
					return "", fmt.Errorf(`bad escape \%c in regular expression %q`, e, p)
				case e >= 0x80:
					// Python reads \é as é; RE2 rejects the escape. The
					// rest of the character follows as ordinary bytes.
					b.WriteByte(e)
				default:
					b.WriteByte('\\')
					b.WriteByte(e)
				}
			}
		case inClass:
			switch {
			case c == ']' && i > classStart:
				inClass = false
			case c == '[' && i+1 < len(p) && p[i+1] == ':':
				// [[:alpha:]] is a POSIX class to RE2 and a set of
				// characters followed by "]" to Python.
				return "", fmt.Errorf("POSIX character classes like [[:alpha:]] are not Python syntax, in %q", p)
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				i++
				b.WriteByte('^')
			}
			classStart = i + 1
		case c == '(' && i+2 < len(p) && p[i+1] == '?':
			switch p[i+2] {
			case '<':
				if i+3 < len(p) && (p[i+3] == '=' || p[i+3] == '!') {
					return "", fmt.Errorf("lookbehind is not supported by Go's regular expressions, in %q", p)
				}
				return "", fmt.Errorf("(?<name>...) is not Python syntax (Python writes (?P<name>...)), in %q", p)
			default:
				// An inline flag group: (?flags) or (?flags:...). RE2's
				// U (ungreedy) is not a Python flag.
				for j := i + 2; j < len(p) && p[j] != ')' && p[j] != ':'; j++ {
					if p[j] == 'U' {
						return "", fmt.Errorf("the (?U) flag is not Python syntax, in %q", p)
					}
					if !isASCIILetter(p[j]) && p[j] != '-' {
						break
					}
				}
			}
			b.WriteByte(c)
		case c == '{' && i+1 < len(p) && p[i+1] == ',' && isMinlessRepeat(p[i:]):
			// Python reads {,n} as {0,n}; RE2 reads it as literal text.
			return "", fmt.Errorf("{,n} repeats are not supported (write {0,n}), in %q", p)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// pyLetterEscapes are the ASCII letters Python's re accepts after a
// backslash in a str pattern.
const pyLetterEscapes = "abfnrtvxuUNABdDsSwWZ"

func isHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func pick(inClass bool, in, out string) string {
	if inClass {
		return in
	}
	return out
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isMinlessRepeat reports whether s starts with "{," digits "}".
func isMinlessRepeat(s string) bool {
	for i := 2; i < len(s); i++ {
		switch {
		case s[i] == '}':
			return true
		case s[i] < '0' || s[i] > '9':
			return false
		}
	}
	return false
}

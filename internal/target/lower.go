package target

import (
	"unicode"
	"unicode/utf8"
)

// Salt compares a grain or pillar value with a pattern as
// str(value).lower() (subdict_match's _match): pyfmt prints the str(), and
// the functions here lowercase it as Python's str.lower() does.

// appendLower appends s lowercased as Python's str.lower() does: rune by
// rune with Unicode's mapping, İ becoming i̇ (two code points). Bytes that
// are not UTF-8 are kept. Python's final-sigma rule (Σ → ς at the end of a
// word) is not applied.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			b = append(b, c)
		case r == 'İ':
			b = append(b, "i\u0307"...)
		default:
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
		i += w
	}
	return b
}

// lowerBytes lowercases b, in place when it is ASCII.
func lowerBytes(b []byte) []byte {
	for i, c := range b {
		if c >= utf8.RuneSelf {
			return appendLower(b[:i:i], string(b[i:]))
		}
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// isLowerASCII reports whether lowering s leaves it as it is because it is
// ASCII without capitals.
func isLowerASCII(s string) bool {
	for i := range len(s) {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

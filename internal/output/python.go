package output

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the pieces of Python's own text behaviour that Salt's
// outputters lean on besides str() and repr(), which are package pyfmt's:
// str.splitlines, bytes.splitlines and str.rstrip.

// isPySpace reports whether Python's str.isspace holds for r: the
// whitespace str.strip and str.rstrip remove. Python counts the ASCII
// information separators U+001C..U+001F as whitespace; Go's unicode.IsSpace
// does not.
func isPySpace(r rune) bool {
	if r >= 0x1c && r <= 0x1f {
		return true
	}
	return unicode.IsSpace(r)
}

// pyRstrip is Python's str.rstrip() with no argument.
func pyRstrip(s string) string {
	return strings.TrimRightFunc(s, isPySpace)
}

// isPyLineBreak reports whether str.splitlines ends a line at r.
func isPyLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// pySplitlines is Python's str.splitlines(): lines end at any of
// isPyLineBreak's characters (and at "\r\n" as one), the breaks are dropped,
// and a break at the very end does not start an empty last line. "" has no
// lines.
func pySplitlines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isPyLineBreak(r) {
			i += n
			continue
		}
		lines = append(lines, s[start:i])
		i += n
		if r == '\r' && i < len(s) && s[i] == '\n' {
			i++
		}
		start = i
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// pyBytesSplitlines is bytes.splitlines(): only "\n", "\r" and "\r\n" end
// a line.
func pyBytesSplitlines(b []byte) [][]byte {
	var lines [][]byte
	start := 0
	for i := 0; i < len(b); {
		c := b[i]
		i++
		if c != '\n' && c != '\r' {
			continue
		}
		lines = append(lines, b[start:i-1])
		if c == '\r' && i < len(b) && b[i] == '\n' {
			i++
		}
		start = i
	}
	if start < len(b) {
		lines = append(lines, b[start:])
	}
	return lines
}

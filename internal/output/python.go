package output

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file holds the pieces of Python's own text behaviour that Salt's
// outputters lean on: repr() and str() of the values a return holds,
// str.splitlines, str.rstrip and str.isprintable.

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

// isPyPrintable is Python's str.isprintable() for one character: false for
// the categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than the space.
// Go's unicode.IsPrint draws the same line (its tables may be a Unicode
// version ahead of the Python Salt runs on).
func isPyPrintable(r rune) bool {
	return unicode.IsPrint(r)
}

// pyStrRepr is repr() of a Python str. Go strings that are not valid UTF-8
// cannot come from a Python str; their bad bytes are shown as U+FFFD.
func pyStrRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			writeHexEscape(&b, 'x', uint32(r), 2)
		case r < 0x7f:
			b.WriteRune(r)
		case isPyPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			writeHexEscape(&b, 'x', uint32(r), 2)
		case r <= 0xffff:
			writeHexEscape(&b, 'u', uint32(r), 4)
		default:
			writeHexEscape(&b, 'U', uint32(r), 8)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyBytesRepr is repr() of a Python bytes: b'...'.
func pyBytesRepr(p []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(p), '\'') >= 0 && strings.IndexByte(string(p), '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(p) + 3)
	b.WriteByte('b')
	b.WriteByte(quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			writeHexEscape(&b, 'x', uint32(c), 2)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// writeHexEscape writes \<kind> and v as width lower-case hex digits, as
// Python's repr does.
func writeHexEscape(b *strings.Builder, kind byte, v uint32, width int) {
	const digits = "0123456789abcdef"
	b.WriteByte('\\')
	b.WriteByte(kind)
	for shift := (width - 1) * 4; shift >= 0; shift -= 4 {
		b.WriteByte(digits[(v>>shift)&0xf])
	}
}

// pyFloatRepr is repr() of a Python float: the shortest digits that read
// back to f, in positional notation when the decimal exponent is in
// [-4, 16) and in scientific notation ("1e+16", "1.5e-05") otherwise, with
// ".0" added to a positional integer (Python's float_repr_style "short").
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	sign := ""
	if math.Signbit(f) {
		sign = "-"
		f = -f
	}
	if f == 0 {
		return sign + "0.0"
	}
	// 'e' with precision -1 gives the shortest round-tripping digits:
	// d[.ddd]e±XX.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	decpt := x + 1 // digits are 0.ddd × 10^decpt
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			return sign + "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			return sign + digits[:decpt] + "." + digits[decpt:]
		}
	}
	out := sign + digits[:1]
	if len(digits) > 1 {
		out += "." + digits[1:]
	}
	expSign := "+"
	if x < 0 {
		expSign = "-"
		x = -x
	}
	es := strconv.Itoa(x)
	if len(es) < 2 {
		es = "0" + es
	}
	return out + "e" + expSign + es
}

// pyDatetimeRepr is repr() of the naive datetime.datetime Salt decodes
// its ext 78 into: datetime.datetime(Y, M, D, h, m[, s[, us]]), the
// seconds and microseconds left out when they (and what follows) are 0.
func pyDatetimeRepr(t time.Time) string {
	t = t.UTC()
	parts := []int{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond() / 1000}
	if parts[6] == 0 {
		parts = parts[:6]
		if parts[5] == 0 {
			parts = parts[:5]
		}
	}
	var b strings.Builder
	b.WriteString("datetime.datetime(")
	for i, p := range parts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(p))
	}
	b.WriteByte(')')
	return b.String()
}

// pyDatetimeISO is datetime.isoformat(sep) of a naive datetime: the
// microseconds appear only when they are not 0. str() uses sep ' '.
func pyDatetimeISO(t time.Time, sep byte) string {
	t = t.UTC()
	layout := "2006-01-02" + string(sep) + "15:04:05"
	if t.Nanosecond()/1000 != 0 {
		layout += ".000000"
	}
	return t.Format(layout)
}

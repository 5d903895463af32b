package pkg

import (
	"strings"
)

// debCompare compares two Debian versions ([epoch:]upstream[-revision])
// as dpkg --compare-versions does: -1, 0 or 1.
func debCompare(a, b string) int {
	ea, ua, ra := splitDeb(a)
	eb, ub, rb := splitDeb(b)
	if c := numCompare(ea, eb); c != 0 {
		return c
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return sign(c)
	}
	return sign(verrevcmp(ra, rb))
}

// splitDeb splits a Debian version into epoch, upstream version and
// revision.
func splitDeb(v string) (epoch, upstream, revision string) {
	v = strings.TrimSpace(v)
	epoch = "0"
	if e, rest, ok := strings.Cut(v, ":"); ok {
		epoch, v = e, rest
	}
	if i := strings.LastIndex(v, "-"); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// dropEpoch is a version without its "epoch:" (version_cmp's
// ignore_epoch).
func dropEpoch(v string) string {
	if _, rest, ok := strings.Cut(v, ":"); ok {
		return rest
	}
	return v
}

// numCompare compares two strings of digits by value.
func numCompare(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// debOrder is dpkg's weight of a character: '~' before the end of the
// string, which is before letters, which are before everything else.
func debOrder(s string, i int) int {
	switch {
	case i >= len(s), isDigit(s[i]):
		return 0
	case isAlpha(s[i]):
		return int(s[i])
	case s[i] == '~':
		return -1
	}
	return int(s[i]) + 256
}

// verrevcmp is dpkg's comparison of upstream versions or revisions:
// alternating runs of non-digits (compared by debOrder) and of digits
// (compared by value).
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			if ac, bc := debOrder(a, i), debOrder(b, j); ac != bc {
				return ac - bc
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		first := 0
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if first == 0 {
				first = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if first != 0 {
			return first
		}
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// rpmCompare compares two RPM versions ([epoch:]version[-release]) as
// rpm's labelCompare does: -1, 0 or 1. A release missing from either
// side is not compared.
func rpmCompare(a, b string) int {
	ea, va, ra := splitRPM(a)
	eb, vb, rb := splitRPM(b)
	if c := numCompare(ea, eb); c != 0 {
		return c
	}
	if c := rpmvercmp(va, vb); c != 0 || ra == "" || rb == "" {
		return c
	}
	return rpmvercmp(ra, rb)
}

func splitRPM(v string) (epoch, version, release string) {
	v = strings.TrimSpace(v)
	epoch = "0"
	if e, rest, ok := strings.Cut(v, ":"); ok {
		epoch, v = e, rest
	}
	if i := strings.LastIndex(v, "-"); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// rpmvercmp is rpm's comparison of versions or releases: runs of digits
// (by value) and of letters (by bytes), with separators ignored, a
// leading '~' sorting before anything and '^' after the end.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	at := func(s string, k int) byte {
		if k < len(s) {
			return s[k]
		}
		return 0
	}
	sep := func(c byte) bool { return c != 0 && !isDigit(c) && !isAlpha(c) && c != '~' && c != '^' }
	for i < len(a) || j < len(b) {
		for sep(at(a, i)) {
			i++
		}
		for sep(at(b, j)) {
			j++
		}
		ca, cb := at(a, i), at(b, j)
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		if ca == '^' || cb == '^' {
			switch {
			case ca == 0:
				return -1
			case cb == 0:
				return 1
			case ca != '^':
				return 1
			case cb != '^':
				return -1
			}
			i++
			j++
			continue
		}
		if ca == 0 || cb == 0 {
			break
		}
		si, sj := i, j
		num := isDigit(ca)
		class := isAlpha
		if num {
			class = isDigit
		}
		for i < len(a) && class(a[i]) {
			i++
		}
		for j < len(b) && class(b[j]) {
			j++
		}
		sa, sb := a[si:i], b[sj:j]
		if sb == "" {
			if num {
				return 1
			}
			return -1
		}
		if num {
			if c := numCompare(sa, sb); c != 0 {
				return c
			}
			continue
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i < len(a):
		return 1
	}
	return -1
}

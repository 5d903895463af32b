// Package fnmatch matches names against shell patterns exactly as Python's
// fnmatch.fnmatchcase does, which is what Salt uses for minion ids, key
// names and event tags: '*' matches any run of characters ('/' included),
// '?' any one character, '[seq]' one character in seq and '[!seq]' one not
// in it, with ranges like 'a-z'; a '[' without its ']' is a literal; there
// is no backslash escaping.
package fnmatch

import "unicode/utf8"

// Match reports whether name matches pattern. It runs in O(len(pattern) ×
// len(name)) time whatever the pattern: '*' backtracks only to the last
// star, as in the classic glob algorithm.
func Match(pattern, name string) bool {
	p, n := 0, 0
	starP, starN := -1, -1
	for n < len(name) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				starP, starN = p, n
				p++
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(name[n:])
				p++
				n += w
				continue
			case '[':
				r, w := utf8.DecodeRuneInString(name[n:])
				if ok, end, valid := matchClass(pattern, p, r); valid {
					if ok {
						p = end
						n += w
						continue
					}
				} else if name[n] == '[' { // no closing ']': a literal '['
					p++
					n++
					continue
				}
			default:
				pr, pw := utf8.DecodeRuneInString(pattern[p:])
				r, w := utf8.DecodeRuneInString(name[n:])
				if pr == r {
					p += pw
					n += w
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star take one more character and retry.
		_, w := utf8.DecodeRuneInString(name[starN:])
		starN += w
		p, n = starP+1, starN
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches r against the class starting at pattern[i] == '['.
// It returns whether r is in the class, the index after the class, and
// whether the class is well formed (has its closing ']').
func matchClass(pattern string, i int, r rune) (ok bool, end int, valid bool) {
	j := i + 1
	negate := false
	if j < len(pattern) && pattern[j] == '!' {
		negate = true
		j++
	}
	first := true
	for j < len(pattern) {
		if pattern[j] == ']' && !first {
			return ok != negate, j + 1, true
		}
		first = false
		lo, w := utf8.DecodeRuneInString(pattern[j:])
		j += w
		hi := lo
		if j+1 < len(pattern) && pattern[j] == '-' && pattern[j+1] != ']' {
			hi, w = utf8.DecodeRuneInString(pattern[j+1:])
			j += 1 + w
		}
		if lo <= r && r <= hi {
			ok = true
		}
	}
	return false, 0, false
}

// HasMeta reports whether s contains pattern characters, i.e. whether
// matching it differs from comparing it.
func HasMeta(s string) bool {
	for i := range len(s) {
		switch s[i] {
		case '*', '?', '[':
			return true
		}
	}
	return false
}

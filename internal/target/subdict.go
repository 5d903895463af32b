package target

import (
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/internal/pyfmt"
)

// How a grain or pillar value is compared with the pattern.
type sdMode uint8

const (
	modeGlob  sdMode = iota // fnmatch (grain, pillar, G@, I@)
	modePCRE                // re.match (grain_pcre, pillar_pcre, P@, J@)
	modeExact               // == (pillar_exact)
)

// maxCandidates bounds the places a grain or pillar target can be split:
// Salt tries every one, and nested dicts make that exponential. No real
// grain path nor value has that many delimiters.
const maxCandidates = 64

// maxSteps bounds the work of one grain or pillar test. Salt's
// subdict_match has no bound; with a deeply nested dict whose keys repeat
// a target's it takes exponential time. A test that runs out fails the
// whole match, like an error would.
const maxSteps = 1 << 18

// subdict is a compiled grain or pillar target, matched as Salt's
// salt.utils.data.subdict_match (3006) does:
//
//   - The target is split on the delimiter, and every split point is
//     tried, the rightmost first: "a:b:c" looks for the value "c" at
//     data["a"]["b"], then "b:c" at data["a"]. So the value may itself
//     contain the delimiter (G@ip6_gw:fd00::1).
//   - The key path is followed by traverse_dict_and_list: dict keys as
//     written (case-sensitive); in a list, a number is an index (negative
//     ones count from the end) and anything else is looked up in the
//     list's dicts, the first that has the key winning. A missing key, or
//     an empty dict, skips that split.
//   - A key path of exactly "*" matches the whole target against the data
//     as a dict value, so "*:Debian" matches any top-level value "Debian".
//   - A value that is a dict matches if the pattern is "*" (it exists), a
//     key of it, or matches inside it (again split, on ":" whatever the
//     delimiter; that is Salt's recursion). A pattern "*:rest" there
//     also matches any value of the dict that matches rest.
//   - A value that is a list matches if any element does (a dict element
//     as above, or as its printed form).
//   - A scalar matches as str(value).lower() against the lowered pattern:
//     case-insensitively, True/False/None as Python prints them, numbers
//     as Python prints them (2, 2.0), nested lists and dicts as their repr.
//   - In PCRE mode (re.match on the lowered value) a value pattern that
//     does not compile never matches; Compile fails only when none right
//     after a delimiter compiles and it is not "*" (which a dict takes as
//     "the key exists").
//
// A key that was not a string in the data has become its string form when
// msgpack was decoded, so "1" finds it (as Salt's YAML retry of the key
// does); Salt's lookup of integer keys in dicts inside lists is not done.
type subdict struct {
	pillar bool
	mode   sdMode
	expr   string
	delims []int // starts of the delimiter's occurrences in expr
	dlen   int
	colons []int // positions of ':' in expr
	offs   []int // offsets in expr where a pattern may start, ascending
	low    []string
	res    []*regexp.Regexp // modePCRE: low[i] compiled, nil where it does not compile
}

func (c *compiler) subdict(tgtType, expr, delim string) (*node, error) {
	s := &subdict{expr: expr, dlen: len(delim)}
	switch tgtType {
	case "grain":
	case "grain_pcre":
		s.mode = modePCRE
	case "pillar":
		s.pillar = true
	case "pillar_pcre":
		s.pillar, s.mode = true, modePCRE
	case "pillar_exact":
		s.pillar, s.mode = true, modeExact
	}
	if s.pillar {
		c.pillar = true
	} else {
		c.grains = true
	}
	what := "grain"
	if s.pillar {
		what = "pillar"
	}
	for i := 0; ; {
		j := strings.Index(expr[i:], delim)
		if j < 0 {
			break
		}
		s.delims = append(s.delims, i+j)
		i += j + len(delim)
	}
	if len(s.delims) == 0 {
		// Salt logs "Got insufficient arguments" and matches nothing.
		return nil, c.errorf("no %q between the %s's key and value", delim, what)
	}
	for i := range len(expr) {
		if expr[i] == ':' {
			s.colons = append(s.colons, i)
		}
	}
	offs := []int{0}
	for _, p := range s.delims {
		offs = append(offs, p+len(delim))
	}
	for _, p := range s.colons {
		offs = append(offs, p+1)
	}
	sort.Ints(offs)
	offs = compactInts(offs)
	if len(offs) > maxCandidates {
		return nil, c.errorf("the %s target has more than %d delimiters", what, maxCandidates-1)
	}
	s.offs = offs
	// Lowercase the pattern once. Lowering is rune by rune, so the
	// lowered suffix at each offset is a suffix of the lowered whole.
	var lowered []byte
	starts := make([]int, len(offs))
	for i, o := range offs {
		starts[i] = len(lowered)
		end := len(expr)
		if i+1 < len(offs) {
			end = offs[i+1]
		}
		lowered = appendLower(lowered, expr[o:end])
	}
	whole := string(lowered)
	s.low = make([]string, len(offs))
	for i := range offs {
		s.low[i] = whole[starts[i]:]
	}
	if s.mode == modePCRE {
		// Compile the patterns matching can reach: those from the first
		// value on, or all of them when the key path starts with "*"
		// (which matches the whole expression against the data).
		from := s.delims[0] + len(delim)
		if expr[:s.delims[0]] == "*" {
			from = 0
		}
		s.res = make([]*regexp.Regexp, len(offs))
		var firstErr error
		usable := false
		for i := len(offs) - 1; i >= 0 && offs[i] >= from; i-- {
			re, err := compilePy(s.low[i])
			s.res[i] = re
			top := s.isTopLevel(offs[i])
			switch {
			case err == nil || top && expr[offs[i]:] == "*":
				// "*" is no regex, but against a dict Salt takes it
				// as "the key exists" before any regex is tried.
				usable = usable || top
			case firstErr == nil && top:
				firstErr = err
			}
		}
		if !usable {
			// Salt's _match logs "Invalid regex" and matches nothing at
			// every split: a typo, which the user should hear about.
			return nil, c.errorf("%v", firstErr)
		}
	}
	return &node{kind: kSubdict, sd: s}, nil
}

// isTopLevel reports whether a value pattern starting at o is one Salt
// tries first: right after a delimiter.
func (s *subdict) isTopLevel(o int) bool {
	for _, p := range s.delims {
		if p+s.dlen == o {
			return true
		}
	}
	return false
}

func compactInts(a []int) []int {
	out := a[:0]
	for i, v := range a {
		if i == 0 || v != a[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func (s *subdict) match(d *Data, st *evalState) bool {
	data := d.Grains
	if s.pillar {
		data = d.Pillar
	}
	if data == nil {
		return st.greedy
	}
	return s.subdictAt(data, 0, s.delims, s.dlen, st)
}

// subdictAt is subdict_match of the pattern expr[o:] split at pos (the
// starts of delimiters of length dlen in it) against data.
func (s *subdict) subdictAt(data any, o int, pos []int, dlen int, st *evalState) bool {
	for idx := len(pos); idx >= 1; idx-- {
		if st.failed {
			return false
		}
		p := pos[idx-1]
		mo := p + dlen // where the value pattern starts
		var match any
		if s.expr[o:p] == "*" {
			mo, match = o, data
		} else {
			var ok bool
			if match, ok = s.traverse(data, o, pos[:idx], dlen, st); !ok {
				continue
			}
		}
		switch kindOf(match) {
		case vDict:
			if dictLen(match) > 0 && s.dictMatch(match, mo, st) {
				return true
			}
		case vList:
			for i := range listLen(match) {
				m := listAt(match, i)
				if kindOf(m) == vDict && s.dictMatch(m, mo, st) {
					return true
				}
				if s.valueMatch(m, mo, st) {
					return true
				}
			}
		default:
			if s.valueMatch(match, mo, st) {
				return true
			}
		}
	}
	return false
}

// traverse is traverse_dict_and_list along the keys between o and the
// delimiters at pos.
func (s *subdict) traverse(data any, o int, pos []int, dlen int, st *evalState) (any, bool) {
	ptr := data
	start := o
	for _, p := range pos {
		if !st.tick() {
			return nil, false
		}
		var ok bool
		if ptr, ok = step(ptr, s.expr[start:p]); !ok {
			return nil, false
		}
		start = p + dlen
	}
	return ptr, true
}

// step is one level of traverse_dict_and_list.
func step(ptr any, key string) (any, bool) {
	switch kindOf(ptr) {
	case vDict:
		return dictGet(ptr, key)
	case vList:
		n := listLen(ptr)
		if i, isInt, inRange := pyInt(key); isInt {
			if !inRange {
				return nil, false
			}
			if i < 0 {
				i += n
			}
			if i < 0 || i >= n {
				return nil, false
			}
			return listAt(ptr, i), true
		}
		for i := range n {
			if e := listAt(ptr, i); kindOf(e) == vDict {
				if v, ok := dictGet(e, key); ok {
					return v, true
				}
			}
		}
	}
	return nil, false
}

// dictMatch is subdict_match's _dict_match of the pattern expr[p:]
// against the dict t.
func (s *subdict) dictMatch(t any, p int, st *evalState) bool {
	if !st.tick() {
		return false
	}
	pat := s.expr[p:]
	wildcard := strings.HasPrefix(pat, "*:")
	if wildcard {
		p += 2
		pat = s.expr[p:]
	}
	if pat == "*" {
		return true
	}
	if _, ok := dictGet(t, pat); ok {
		return true
	}
	if s.subdictAt(t, p, s.colons[sort.SearchInts(s.colons, p):], 1, st) {
		return true
	}
	if !wildcard {
		return false
	}
	return dictRange(t, func(_ string, v any) bool {
		switch kindOf(v) {
		case vDict:
			return s.dictMatch(v, p, st)
		case vList:
			for i := range listLen(v) {
				if s.valueMatch(listAt(v, i), p, st) {
					return true
				}
			}
			return false
		}
		return s.valueMatch(v, p, st)
	})
}

// valueMatch is subdict_match's _match: str(v).lower() against the
// lowered pattern expr[p:].
func (s *subdict) valueMatch(v any, p int, st *evalState) bool {
	if !st.tick() {
		return false
	}
	i := sort.SearchInts(s.offs, p)
	switch s.mode {
	case modePCRE:
		return regexValue(s.res[i], v)
	case modeExact:
		return exactValue(s.low[i], v)
	}
	return globValue(s.low[i], v)
}

// globValue, exactValue and regexValue print v into a buffer on the stack
// rather than a new string: grain tests run per publication per minion.

func globValue(pat string, v any) bool {
	if str, ok := v.(string); ok && isLowerASCII(str) {
		return fnmatch.Match(pat, str)
	}
	var buf [64]byte
	b := lowerBytes(pyfmt.AppendStr(buf[:0], v))
	return fnmatch.Match(pat, string(b))
}

func exactValue(pat string, v any) bool {
	if str, ok := v.(string); ok && isLowerASCII(str) {
		return str == pat
	}
	var buf [64]byte
	return string(lowerBytes(pyfmt.AppendStr(buf[:0], v))) == pat
}

func regexValue(re *regexp.Regexp, v any) bool {
	if re == nil {
		return false
	}
	if str, ok := v.(string); ok && isLowerASCII(str) {
		return re.MatchString(str)
	}
	// regexp keeps hold of its input for a while (in its pooled
	// machines), so a stack buffer would escape; a pooled one does not
	// allocate either.
	bp := regexBufs.Get().(*[]byte)
	b := lowerBytes(pyfmt.AppendStr((*bp)[:0], v))
	ok := re.Match(b)
	if cap(b) <= 1<<16 {
		*bp = b[:0]
		regexBufs.Put(bp)
	}
	return ok
}

var regexBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 64)
	return &b
}}

// pyInt parses s as Python's int(s) does for ASCII text: surrounding
// whitespace, a sign, digits with single underscores between them. inRange
// is false for a number too big for an int (an IndexError for any list).
func pyInt(s string) (n int, isInt, inRange bool) {
	s = strings.TrimFunc(s, isPySpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' {
		return 0, false, false
	}
	inRange = true
	var v uint64
	for i := range len(s) {
		c := s[i]
		switch {
		case c == '_':
			if s[i-1] == '_' {
				return 0, false, false
			}
			continue
		case c < '0' || c > '9':
			return 0, false, false
		}
		if v > (math.MaxInt-9)/10 {
			inRange = false
			continue
		}
		v = v*10 + uint64(c-'0')
	}
	if !inRange {
		return 0, true, false
	}
	if neg {
		return -int(v), true, true
	}
	return int(v), true, true
}

// Package target decides whether a minion is targeted by a Salt target
// expression, with the semantics of Salt 3006's matchers (salt/matchers/*.py
// on the minion, salt/utils/minions.py CkMinions on the master).
//
// The minion asks it "am I targeted?" for each publication; the master asks
// it, once per accepted minion, which minions a publication should reach.
// Both go through [Compile], which parses the target once, and
// [Matcher.Match], which tests one minion's [Data] and is cheap enough to
// run per publication per minion: it does not allocate for glob, list and
// pcre targets and compounds of them, nor for grain and pillar tests of
// ordinary values.
//
// # Model
//
// A target is a tgt and a tgt_type. The tgt_types are:
//
//   - "glob" (also ""): Python fnmatch.fnmatch on the minion id; on POSIX
//     that is fnmatchcase, so it is case-sensitive (glob_match.py).
//   - "list": exact ids, as a comma-separated string or a list
//     (list_match.py); nothing is trimmed.
//   - "pcre": Python re.match on the id: anchored at the start only
//     (pcre_match.py).
//   - "grain", "grain_pcre", "pillar", "pillar_pcre", "pillar_exact":
//     "key:value" against the minion's grains or pillar, by Salt's
//     salt.utils.data.subdict_match (its rules are in subdict.go).
//   - "ipcidr": an address or a CIDR network against the grains ipv4/ipv6
//     (ipcidr_match.py).
//   - "compound": words joined by and/or/not and parentheses, each word a
//     glob or a prefixed target such as G@os:Debian (compound_match.py).
//   - "compound_pillar_exact": compound where I@ and J@ are pillar_exact,
//     which the master uses for publisher_acl checks.
//   - "nodegroup": the name of a nodegroup of the master's config, which
//     is expanded as salt.utils.minions.nodegroup_comp does.
//
// Anything else, and anything malformed, is an error: targeting fails
// closed. Where Salt would silently match nothing (a compound Python cannot
// evaluate, an unknown or self-including nodegroup, a grain target without
// ':', an unknown X@ prefix, R@, an address that does not parse), Compile
// reports why instead.
//
// # Deviations from Salt
//
// An error also replaces the few Salt matches that come from sloppy
// targets: "a or ( )" and "a or b ( c )" (Python evaluates lazily and never
// sees the empty tuple or the call), "a or G@" (a glob "G@" to Salt), and
// patterns RE2 cannot express (see below). A glob word that begins with
// "(" or ends with ")" is an error (Salt: a glob that matches nothing; its
// docs warn that parentheses need spaces). Matching data differs only at
// the margins: keys that were not strings are compared as their string
// form (Salt retries a missing key YAML-loaded, so "01" finds 1 there),
// Python's final-sigma lowercasing is not done, and Go maps print their
// keys sorted where a value is compared as its repr. Salt's exponential
// worst case on deeply nested data is cut off after a bounded number of
// steps, which fails the match, and a grain or pillar target may have at
// most 63 delimiters.
//
// # Master and minion
//
// Salt's master computes expected minions with set algebra over its minion
// data cache; for "and", "or" and "not" that is exactly per-minion boolean
// evaluation, so one evaluator serves both sides. The only difference is
// [Options.Greedy]: on the master a grain, pillar or ipcidr test of a minion
// whose cached data is unknown counts as a match (CkMinions with
// greedy=True keeps minions absent from the cache), so that the expected
// list errs on the side of too many minions, as Salt's does.
//
// # Regular expressions
//
// Python's re and Go's regexp (RE2) differ. Brine compiles a Python pattern
// p as ^(?:p) (re.match anchors at the start only) after translating what
// can be translated: \d, \w, \s and their negations become their Unicode
// forms, as in Python 3, \Z becomes \z and \uXXXX \x{XXXX}. Grain and
// pillar patterns are lowercased first, as Salt does (so \D means \d, and
// \Z becomes Python's invalid \z). What cannot be translated fails
// closed with an error: backreferences, lookaround, possessive and atomic
// groups, (?x) and friends are not RE2; \z, \p, \Q...\E, \x{...}, (?<name>),
// (?U), [[:alpha:]] and {,n} are RE2 but not Python (or mean something else
// there). Remaining differences: \b and \B see only ASCII word characters,
// and $ matches only at the very end (Python's also matches before a final
// newline).
package target

import (
	"fmt"
	"strings"
)

// Data is what a matcher knows about one minion. Grains and Pillar hold
// decoded msgpack (map[string]any or wire.Map, []any, string, int64,
// float64, bool, nil, []byte) or plain Go values ([]string,
// map[string]string, ...); Match only reads them.
type Data struct {
	ID     string
	Grains map[string]any // nil: unknown (the master has no cached grains for this minion)
	Pillar map[string]any // nil: unknown
}

// Options of a match. The zero value suits the minion side.
type Options struct {
	// Delimiter separates nested keys (and the value) of the grain,
	// grain_pcre, pillar, pillar_pcre and pillar_exact tgt_types; ""
	// means ":" (Salt's DEFAULT_TARGET_DELIM). Compound targets ignore it,
	// as Salt does: there a word picks its own delimiter (G|@os|Debian) or
	// uses ":".
	Delimiter string
	// Nodegroups is the master's nodegroups config: name → compound string
	// or list of words ([]any or []string), as Salt's nodegroup_comp takes
	// it. It serves the "nodegroup" tgt_type and N@ in compounds.
	Nodegroups map[string]any
	// Greedy is for the master: a grain, pillar or ipcidr test of a minion
	// whose grains (or pillar) are nil counts as a match, as Salt's
	// CkMinions does with greedy=True. The minion leaves it false.
	Greedy bool
}

// DefaultDelimiter is Salt's DEFAULT_TARGET_DELIM.
const DefaultDelimiter = ":"

// A Matcher is a compiled target. It is immutable and safe for concurrent
// use; the zero value matches nothing.
type Matcher struct {
	root   *node
	greedy bool
	grains bool // some test reads grains
	pillar bool // some test reads pillar
	listed []string
}

// Compile parses tgt as a target of type tgtType. tgt is a string; a
// "list" target may also be a list of ids ([]any or []string), and a
// "compound" one a list of words, as Salt publishes an expanded nodegroup.
// Any target that does not compile, whatever the reason, gets a *Error
// that says which target is wrong and why; the caller should treat the
// minion as not targeted.
func Compile(tgt any, tgtType string, opts Options) (*Matcher, error) {
	c := compiler{opts: opts, tgtType: tgtType, tgt: tgt}
	root, err := c.compile(tgt, tgtType)
	if err != nil {
		return nil, err
	}
	return &Matcher{root: root, greedy: opts.Greedy, grains: c.grains, pillar: c.pillar, listed: c.listed}, nil
}

// Match compiles tgt and matches d against it.
func Match(tgt any, tgtType string, d Data, opts Options) (bool, error) {
	m, err := Compile(tgt, tgtType, opts)
	if err != nil {
		return false, err
	}
	return m.Match(d), nil
}

// Match reports whether the minion d is targeted.
func (m *Matcher) Match(d Data) bool {
	if m == nil || m.root == nil {
		return false
	}
	st := evalState{greedy: m.greedy}
	ok := m.root.eval(&d, &st)
	// A test that Salt would abort on (an unusable ipcidr grain) or that
	// ran out of steps makes the whole target fail, whatever "not" or "or"
	// around it say: Salt raises out of the matcher there.
	return ok && !st.failed
}

// Needs reports whether matching reads the minions' grains and pillar, so
// that a master can skip loading cached data for targets that only look at
// ids.
func (m *Matcher) Needs() (grains, pillar bool) {
	if m == nil {
		return false, false
	}
	return m.grains, m.pillar
}

// ListedIDs returns the ids that the target names explicitly, from which
// the master reports "missing" minions as Salt's CkMinions does: every id
// of a "list" target, and of each L@ word of a compound except those right
// after "not" (Salt: ignore missing minions that are excluded). Empty ids
// are left out and duplicates kept, in target order.
func (m *Matcher) ListedIDs() []string {
	if m == nil {
		return nil
	}
	return append([]string(nil), m.listed...)
}

// compiler holds the state of one Compile.
type compiler struct {
	opts    Options
	tgtType string
	tgt     any // the whole target, for error messages
	grains  bool
	pillar  bool
	listed  []string
}

// errorf reports a problem with the target being compiled.
func (c *compiler) errorf(format string, args ...any) error {
	return &Error{Type: c.tgtType, Target: describe(c.tgt), Reason: fmt.Sprintf(format, args...)}
}

// Error is a target that does not compile. Compile returns one for every
// failure.
type Error struct {
	Type   string // the tgt_type
	Target string // the target, quoted
	Reason string
}

func (e *Error) Error() string {
	t := e.Type
	if t == "" {
		t = "glob"
	}
	return fmt.Sprintf("target: %s target %s: %s", t, e.Target, e.Reason)
}

// describe quotes a target for an error message.
func describe(tgt any) string {
	switch t := tgt.(type) {
	case string:
		return fmt.Sprintf("%q", clip(t))
	case []string:
		return fmt.Sprintf("%q", t)
	case []any:
		return fmt.Sprintf("%q", t)
	}
	return fmt.Sprintf("of Go type %T", tgt)
}

// clip shortens what error messages quote.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

func (c *compiler) compile(tgt any, tgtType string) (*node, error) {
	switch tgtType {
	case "", "glob":
		s, err := c.str(tgt)
		if err != nil {
			return nil, err
		}
		return &node{kind: kGlob, pattern: s}, nil
	case "list":
		return c.list(tgt, false)
	case "pcre":
		s, err := c.str(tgt)
		if err != nil {
			return nil, err
		}
		return c.pcre(s)
	case "grain", "grain_pcre", "pillar", "pillar_pcre", "pillar_exact":
		s, err := c.str(tgt)
		if err != nil {
			return nil, err
		}
		delim := c.opts.Delimiter
		if delim == "" {
			delim = DefaultDelimiter
		}
		return c.subdict(tgtType, s, delim)
	case "ipcidr":
		s, err := c.str(tgt)
		if err != nil {
			return nil, err
		}
		return c.ipcidr(s)
	case "compound", "compound_pillar_exact":
		words, err := c.words(tgt)
		if err != nil {
			return nil, err
		}
		return c.compound(words, tgtType == "compound_pillar_exact")
	case "nodegroup":
		s, err := c.str(tgt)
		if err != nil {
			return nil, err
		}
		words, err := expandNodegroup(s, c.opts.Nodegroups)
		if err != nil {
			return nil, c.errorf("%v", err)
		}
		return c.compound(words, false)
	case "range":
		return nil, c.errorf("range targets are not supported")
	}
	return nil, &Error{Type: tgtType, Target: describe(tgt), Reason: fmt.Sprintf("unknown target type %q", tgtType)}
}

// str insists on a string target, as every matcher but list and compound
// does (Salt's glob matcher returns False for anything else).
func (c *compiler) str(tgt any) (string, error) {
	s, ok := tgt.(string)
	if !ok {
		return "", c.errorf("a %s target must be a string, not %s", orGlob(c.tgtType), goType(tgt))
	}
	return s, nil
}

func orGlob(t string) string {
	if t == "" {
		return "glob"
	}
	return t
}

func goType(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

// words splits a compound target: a string on whitespace (Python's
// str.split(), which also splits on \x1c-\x1f and Unicode spaces), a list
// word by word.
func (c *compiler) words(tgt any) ([]string, error) {
	switch t := tgt.(type) {
	case string:
		return strings.FieldsFunc(t, isPySpace), nil
	case []string:
		return t, nil
	case []any:
		out := make([]string, len(t))
		for i, w := range t {
			s, ok := w.(string)
			if !ok {
				return nil, c.errorf("word %d is %s, not a string", i, goType(w))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, c.errorf("a compound target must be a string or a list of words, not %s", goType(tgt))
}

// isPySpace reports whether Python's str.split() splits on r.
func isPySpace(r rune) bool {
	switch {
	case r == ' ', r >= '\t' && r <= '\r', r >= 0x1c && r <= 0x1f, r == 0x85, r == 0xa0:
		return true
	case r < 0x1680:
		return false
	}
	switch r {
	case 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// list compiles a list target. Salt's list_match on a string matches the
// id where it stands between commas or the ends of the string (",id," in
// tgt, or a prefix "id,", a suffix ",id", or the whole tgt); on a list it
// is membership. Nothing is trimmed: "a, b" lists "a" and " b".
func (c *compiler) list(tgt any, negated bool) (*node, error) {
	n := &node{kind: kList}
	switch t := tgt.(type) {
	case string:
		n.pattern = t
		n.ids = make(map[string]struct{})
		for id := range strings.SplitSeq(t, ",") {
			n.ids[id] = struct{}{}
			if id != "" && !negated {
				c.listed = append(c.listed, id)
			}
		}
	case []string, []any:
		var ids []any
		if ss, ok := t.([]string); ok {
			for _, s := range ss {
				ids = append(ids, s)
			}
		} else {
			ids = t.([]any)
		}
		n.ids = make(map[string]struct{}, len(ids))
		n.isList = true
		for _, v := range ids {
			// Salt's `id in tgt`: an element that is no string is never
			// equal to an id, and is no error.
			s, ok := v.(string)
			if !ok {
				continue
			}
			n.ids[s] = struct{}{}
			if s != "" && !negated {
				c.listed = append(c.listed, s)
			}
		}
	default:
		return nil, c.errorf("a list target must be a string or a list of ids, not %s", goType(tgt))
	}
	return n, nil
}

package target

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// A compound target (compound_match.py on the minion, CkMinions.
// _check_compound_minions on the master) is a list of words: a string is
// split on whitespace only, so parentheses must be words of their own
// ("( a or b )"; Salt's docs: "spaces are required between the parentheses
// and targets"). Each word is an operator (and, or, not, "(", ")",
// lower-case) or a target:
//
//	G@ grain glob     P@ grain pcre     I@ pillar glob    J@ pillar pcre
//	L@ id list        E@ id pcre        S@ ip/cidr        N@ nodegroup
//	anything else: a glob on the id
//
// G, P, I and J take another delimiter between letter and '@':
// "J|@foo|bar|^foo:bar$" splits on '|' (Salt's TARGET_REX). N@ words are
// replaced by their nodegroup's expansion, as if written there.
//
// Salt turns the words into a Python expression and evals it, so
// precedence is Python's: not, then and, then or ("a or b and not c" is
// "a or (b and (not c))"). Before that it inserts "and" before a "not"
// that follows a target or ")" ("a not b" is "a and not b"), and refuses a
// binary operator at the start or right after "(". Everything Python then
// fails to evaluate is an error here: a dangling operator, "not not",
// unbalanced or empty parentheses, two targets in a row, nesting deeper
// than Python's 200 parentheses.
//
// Brine is stricter than Salt in three places, all of which Salt would
// evaluate to "no match" without telling why: a word with an unknown
// X@ prefix (Salt: a glob that matches no id), R@ range targets (Salt: no
// match without the seco.range library), and a glob word that begins with
// "(" or ends with ")", which is a parenthesis glued to a target.

// maxParenDepth is the nesting Python's parser accepts.
const maxParenDepth = 200

type tokKind uint8

const (
	tLeaf tokKind = iota
	tAnd
	tOr
	tNot
	tLParen
	tRParen
)

type token struct {
	kind     tokKind
	word     string // as written; "" for an "and" Salt inserts
	leaf     *node
	implicit bool
}

func (c *compiler) compound(words []string, pillarExact bool) (*node, error) {
	// Salt prepends a nodegroup's expansion to the words still to read.
	// A stack of word lists does that without copying the rest each time.
	pending := [][]string{words}
	var toks []token
	expanded := 0
	for len(pending) > 0 {
		top := &pending[len(pending)-1]
		if len(*top) == 0 {
			pending = pending[:len(pending)-1]
			continue
		}
		w := (*top)[0]
		*top = (*top)[1:]
		if kind, ok := operator(w); ok {
			if len(toks) == 0 {
				if kind != tLParen && kind != tNot {
					return nil, c.errorf("it starts with %q", w)
				}
			} else {
				last := toks[len(toks)-1].kind
				if last == tLParen && (kind == tAnd || kind == tOr) {
					return nil, c.errorf("%q right after \"(\"", w)
				}
				if kind == tNot && last != tAnd && last != tOr && last != tLParen {
					toks = append(toks, token{kind: tAnd, implicit: true})
				}
			}
			toks = append(toks, token{kind: kind, word: w})
			continue
		}
		engine, delim, pattern := parseWord(w)
		if engine == 'N' {
			exp, err := expandNodegroup(pattern, c.opts.Nodegroups)
			if err != nil {
				return nil, c.errorf("N@%s: %v", pattern, err)
			}
			if expanded += len(exp); expanded > maxExpandedWords {
				return nil, c.errorf("its nodegroups expand to more than %d words", maxExpandedWords)
			}
			pending = append(pending, exp)
			continue
		}
		negated := len(toks) > 0 && toks[len(toks)-1].kind == tNot
		leaf, err := c.word(w, engine, delim, pattern, pillarExact, negated)
		if err != nil {
			if te, ok := err.(*Error); ok && engine != 0 && len(words) > 1 {
				te.Reason = fmt.Sprintf("%q: %s", clip(w), te.Reason)
			}
			return nil, err
		}
		toks = append(toks, token{kind: tLeaf, word: w, leaf: leaf})
	}
	if len(toks) == 0 {
		return nil, c.errorf("it is empty")
	}
	p := parser{c: c, toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(toks) {
		t := toks[p.i]
		switch t.kind {
		case tRParen:
			return nil, c.errorf(`")" without a matching "("`)
		case tLeaf, tLParen:
			return nil, c.errorf("%q follows %q without \"and\" or \"or\" between them", t.word, toks[p.i-1].word)
		}
		return nil, c.errorf("unexpected %q", t.word) // not reached: or() takes and/or/not
	}
	return root, nil
}

// operator classifies Salt's operator words; they are case-sensitive
// ("AND" is a glob).
func operator(w string) (tokKind, bool) {
	switch w {
	case "and":
		return tAnd, true
	case "or":
		return tOr, true
	case "not":
		return tNot, true
	case "(":
		return tLParen, true
	case ")":
		return tRParen, true
	}
	return 0, false
}

// parseWord splits a compound word as Salt's TARGET_REX does:
// engine letter, optional delimiter (G, P, I, J only), '@', pattern. A word
// that does not fit is a glob: engine 0 and the word as pattern.
func parseWord(w string) (engine byte, delim, pattern string) {
	if len(w) < 3 || !strings.ContainsRune("GPIJLNSER", rune(w[0])) && !(isUpper(w[0]) && w[1] == '@') {
		return 0, "", w
	}
	// Python's '.' and '.+$' do not take a newline, but '$' matches before
	// a final one.
	rest := func(s string) (string, bool) {
		s = strings.TrimSuffix(s, "\n")
		return s, s != "" && !strings.Contains(s, "\n")
	}
	if strings.IndexByte("GPIJ", w[0]) >= 0 {
		r, n := utf8.DecodeRuneInString(w[1:])
		if r != '\n' && 1+n < len(w) && w[1+n] == '@' {
			if p, ok := rest(w[2+n:]); ok {
				return w[0], w[1 : 1+n], p
			}
		}
	}
	if w[1] == '@' {
		if p, ok := rest(w[2:]); ok {
			return w[0], "", p
		}
	}
	return 0, "", w
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// word compiles one target word of a compound.
func (c *compiler) word(w string, engine byte, delim, pattern string, pillarExact, negated bool) (*node, error) {
	if delim == "" {
		delim = DefaultDelimiter
	}
	switch engine {
	case 0:
		if len(w) >= 2 && isUpper(w[0]) && w[1] == '@' {
			if strings.IndexByte("GPIJLNSER", w[0]) >= 0 {
				return nil, c.errorf("%q has no pattern after the '@'", clip(w))
			}
			return nil, c.errorf("unknown target type %q in %q (known: G@ P@ I@ J@ L@ E@ S@ N@)", w[:2], clip(w))
		}
		if strings.HasPrefix(w, "(") || strings.HasSuffix(w, ")") {
			return nil, c.errorf("%q: parentheses must be separate words, as in \"( a or b )\"", clip(w))
		}
		return &node{kind: kGlob, pattern: w}, nil
	case 'G':
		return c.subdict("grain", pattern, delim)
	case 'P':
		return c.subdict("grain_pcre", pattern, delim)
	case 'I':
		if pillarExact {
			return c.subdict("pillar_exact", pattern, delim)
		}
		return c.subdict("pillar", pattern, delim)
	case 'J':
		if pillarExact {
			return c.subdict("pillar_exact", pattern, delim)
		}
		return c.subdict("pillar_pcre", pattern, delim)
	case 'L':
		return c.list(pattern, negated)
	case 'E':
		return c.pcre(pattern)
	case 'S':
		return c.ipcidr(pattern)
	case 'R':
		return nil, c.errorf("range targets (%q) are not supported", clip(w))
	}
	return nil, c.errorf("unknown target type %q in %q", w[:2], clip(w))
}

// pcre compiles an id regex (pcre_match.py: re.match).
func (c *compiler) pcre(s string) (*node, error) {
	re, err := compilePy(s)
	if err != nil {
		return nil, c.errorf("%v", err)
	}
	return &node{kind: kPCRE, re: re}, nil
}

// parser builds the tree of a compound's tokens with Python's precedence.
type parser struct {
	c     *compiler
	toks  []token
	i     int
	depth int
}

func (p *parser) peek(k tokKind) bool { return p.i < len(p.toks) && p.toks[p.i].kind == k }

func (p *parser) or() (*node, error) {
	return p.chain(tOr, kOr, p.and)
}

func (p *parser) and() (*node, error) {
	return p.chain(tAnd, kAnd, p.not)
}

func (p *parser) chain(op tokKind, kind nodeKind, next func() (*node, error)) (*node, error) {
	first, err := next()
	if err != nil {
		return nil, err
	}
	if !p.peek(op) {
		return first, nil
	}
	n := &node{kind: kind, kids: []*node{first}}
	for p.peek(op) {
		p.i++
		k, err := next()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, k)
		n.mayFail = n.mayFail || k.mayFail
	}
	n.mayFail = n.mayFail || first.mayFail
	return n, nil
}

func (p *parser) not() (*node, error) {
	if !p.peek(tNot) {
		return p.atom()
	}
	p.i++
	k, err := p.not()
	if err != nil {
		return nil, err
	}
	return &node{kind: kNot, kids: []*node{k}, mayFail: k.mayFail}, nil
}

func (p *parser) atom() (*node, error) {
	if p.i >= len(p.toks) {
		return nil, p.c.errorf("%q at the end has nothing after it", p.toks[p.i-1].word)
	}
	t := p.toks[p.i]
	switch t.kind {
	case tLeaf:
		p.i++
		return t.leaf, nil
	case tLParen:
		if p.depth++; p.depth > maxParenDepth {
			return nil, p.c.errorf("parentheses nest deeper than %d", maxParenDepth)
		}
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peek(tRParen) {
			if p.i < len(p.toks) {
				t := p.toks[p.i]
				return nil, p.c.errorf("%q follows %q without \"and\" or \"or\" between them", t.word, p.toks[p.i-1].word)
			}
			return nil, p.c.errorf(`"(" is never closed`)
		}
		p.i++
		p.depth--
		return n, nil
	case tRParen:
		if p.i > 0 && p.toks[p.i-1].kind == tLParen {
			return nil, p.c.errorf(`"( )" has nothing inside`)
		}
		return nil, p.c.errorf(`")" after %q, where a target is expected`, p.toks[p.i-1].word)
	}
	if t.implicit {
		// Salt inserts "and" before a "not" that follows "not".
		return nil, p.c.errorf(`"not not" (Salt reads it as "not and not")`)
	}
	if p.i == 0 {
		return nil, p.c.errorf("it starts with %q", t.word)
	}
	return nil, p.c.errorf("%q after %q, where a target is expected", t.word, p.toks[p.i-1].word)
}

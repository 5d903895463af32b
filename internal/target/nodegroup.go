package target

import (
	"fmt"
	"strings"
)

// maxExpandedWords bounds the words a nodegroup expands to: nodegroups that
// each name another twice double at every level.
const maxExpandedWords = 1 << 16

// ExpandNodegroup returns the compound words that the nodegroup name
// stands for, as Salt's salt.utils.minions.nodegroup_comp computes them.
// A master that publishes a nodegroup target sends these words as a
// compound target, as Salt's LocalClient does, so that minions need no
// nodegroups of their own.
//
// The rules are Salt's:
//   - A string definition is split on whitespace; a list one is taken word
//     by word.
//   - N@name words are expanded in place, each in parentheses; a
//     nodegroup met again inside its own expansion is an error (Salt logs
//     it and leaves the word out, which leaves a compound that cannot
//     match).
//   - A definition without operators, "*" or X@ prefixes is a list of ids,
//     returned as the single word "L@id1,id2", or a regular expression
//     ("E@...") if a word has one of ( [ { \ ? } ] ).
//   - The top-level expansion is returned without surrounding parentheses
//     unless it expanded a nested nodegroup. So "N@g and web*" with
//     g: "a or b" evaluates as "a or (b and web*)", in Salt too.
func ExpandNodegroup(name string, nodegroups map[string]any) ([]string, error) {
	words, err := expandNodegroup(name, nodegroups)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	return words, nil
}

func expandNodegroup(name string, nodegroups map[string]any) ([]string, error) {
	e := expander{nodegroups: nodegroups, seen: map[string]bool{}}
	return e.comp(name, true)
}

type expander struct {
	nodegroups map[string]any
	seen       map[string]bool // the nodegroups being expanded, outermost first
	n          int             // words produced so far
}

var compoundOpers = map[string]bool{"and": true, "or": true, "not": true, "(": true, ")": true}

func (e *expander) comp(name string, first bool) ([]string, error) {
	if e.seen[name] {
		return nil, fmt.Errorf("nodegroup %q includes itself (through N@%s)", name, name)
	}
	def, ok := e.nodegroups[name]
	if !ok {
		return nil, fmt.Errorf("unknown nodegroup %q", name)
	}
	var words []string
	switch d := def.(type) {
	case string:
		words = strings.FieldsFunc(d, isPySpace)
	case []string:
		words = d
	case []any:
		words = make([]string, len(d))
		for i, w := range d {
			s, ok := w.(string)
			if !ok {
				// Salt's str() of it would then fail in its regex check.
				return nil, fmt.Errorf("nodegroup %q: word %d is %s, not a string", name, i, goType(w))
			}
			words[i] = s
		}
	default:
		return nil, fmt.Errorf("nodegroup %q is %s, neither a string nor a list", name, goType(def))
	}

	e.seen[name] = true
	defer delete(e.seen, name)
	nested := false
	ret := []string{"("}
	for _, w := range words {
		if len(w) >= 3 && strings.HasPrefix(w, "N@") {
			nested = true
			sub, err := e.comp(w[2:], false)
			if err != nil {
				return nil, err
			}
			ret = append(ret, sub...)
			e.n += len(sub)
		} else {
			ret = append(ret, w)
			e.n++
		}
		if e.n > maxExpandedWords {
			return nil, fmt.Errorf("nodegroup %q expands to more than %d words", name, maxExpandedWords)
		}
	}
	ret = append(ret, ")")
	if len(ret) == 2 {
		ret = nil // Salt parenthesizes only a non-empty expansion
	}

	if joined, ok := nodegroupList(words); ok {
		return []string{joined}, nil
	}
	if nested || !first {
		return ret, nil
	}
	// The original definition, for backwards compatibility (Salt's words).
	return words, nil
}

// nodegroupList is Salt's _nodegroup_regex: a definition with no operator,
// no "*" and no X@ prefix is a list of minion ids, or a regular expression
// if a word has a regex character.
func nodegroupList(words []string) (string, bool) {
	for _, w := range words {
		if compoundOpers[w] || strings.Contains(w, "*") || hasEnginePrefix(w) {
			return "", false
		}
	}
	for _, w := range words {
		if strings.ContainsAny(w, `([{\?}])`) {
			return "E@" + strings.Join(words, ","), true
		}
	}
	return "L@" + strings.Join(words, ","), true
}

// hasEnginePrefix matches Salt's ^[A-Z]@.
func hasEnginePrefix(w string) bool {
	return len(w) >= 2 && 'A' <= w[0] && w[0] <= 'Z' && w[1] == '@'
}

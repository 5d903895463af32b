package target

import (
	"regexp"
	"strings"

	"github.com/brine-project/brine/internal/fnmatch"
)

type nodeKind uint8

const (
	kGlob    nodeKind = iota // fnmatch on the id
	kList                    // id in a list
	kPCRE                    // re.match on the id
	kSubdict                 // grain or pillar test
	kIPCIDR                  // address or network test on the ip grains
	kAnd
	kOr
	kNot
)

// node is a compiled target: a test, or and/or/not of other nodes. Its
// fields are set by kind.
type node struct {
	kind nodeKind
	kids []*node // kAnd, kOr (two or more), kNot (one)
	// mayFail marks a test that can fail the whole match (ipcidr on a
	// grain that holds no address), or a node above one. Salt evaluates
	// every test of a compound before combining them, so such a test runs
	// even where and/or would otherwise short-circuit.
	mayFail bool

	pattern string              // kGlob: the glob; kList: the string form, "" for a list
	ids     map[string]struct{} // kList: the ids
	isList  bool                // kList: given as a list (membership only)
	re      *regexp.Regexp      // kPCRE
	sd      *subdict            // kSubdict
	ip      *ipTarget           // kIPCIDR
}

// evalState is what one Match carries through the tree. It lives on the
// caller's stack.
type evalState struct {
	greedy bool
	failed bool // a test hit something Salt raises on, or ran out of steps
	steps  int
}

// tick counts one step of a grain or pillar test; false means stop.
func (st *evalState) tick() bool {
	if st.failed {
		return false
	}
	if st.steps++; st.steps > maxSteps {
		st.failed = true
		return false
	}
	return true
}

func (n *node) eval(d *Data, st *evalState) bool {
	switch n.kind {
	case kGlob:
		return fnmatch.Match(n.pattern, d.ID)
	case kList:
		return n.listed(d.ID)
	case kPCRE:
		return n.re.MatchString(d.ID)
	case kSubdict:
		return n.sd.match(d, st)
	case kIPCIDR:
		return n.ip.match(d.Grains, st)
	case kAnd:
		ok := true
		for _, k := range n.kids {
			if ok || k.mayFail {
				ok = k.eval(d, st) && ok
			}
			if st.failed {
				return false
			}
		}
		return ok
	case kOr:
		ok := false
		for _, k := range n.kids {
			if !ok || k.mayFail {
				ok = k.eval(d, st) || ok
			}
			if st.failed {
				return false
			}
		}
		return ok
	case kNot:
		return !n.kids[0].eval(d, st)
	}
	return false
}

// listed is list_match: membership for a list; for a string, the id
// standing between commas or the ends of the string. For an id without a
// comma that is membership in the comma-split string; an id with one is
// looked for in the string as Salt does.
func (n *node) listed(id string) bool {
	if _, ok := n.ids[id]; ok {
		return true
	}
	if n.isList || !strings.Contains(id, ",") {
		return false
	}
	s := n.pattern
	for off := 0; ; {
		i := strings.Index(s[off:], id)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(id)
		if (i == 0 || s[i-1] == ',') && (end == len(s) || s[end] == ',') {
			return true
		}
		off = i + 1
	}
}

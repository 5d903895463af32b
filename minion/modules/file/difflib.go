package file

import (
	"fmt"
	"sort"
	"strings"
)

// unifiedDiff is "".join(difflib.unified_diff(a, b)), which Salt returns
// as the changes of file.replace, file.line and file.manage_file: the same
// hunks as Python's, for Python's matcher chooses what to keep by its own
// rules (longest matching block first, "popular" lines ignored in files of
// 200 lines or more), which a different diff algorithm would not follow.
// The lines keep their line endings; one without (a file's last) is
// written as it is, as Python does.
func unifiedDiff(a, b []string) string {
	groups := newMatcher(a, b).groupedOpcodes(3)
	if len(groups) == 0 {
		return ""
	}
	var out strings.Builder
	out.WriteString("--- \n+++ \n")
	for _, g := range groups {
		first, last := g[0], g[len(g)-1]
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", unifiedRange(first.i1, last.i2), unifiedRange(first.j1, last.j2))
		for _, op := range g {
			if op.tag == 'e' {
				for _, l := range a[op.i1:op.i2] {
					out.WriteString(" " + l)
				}
				continue
			}
			if op.tag == 'r' || op.tag == 'd' {
				for _, l := range a[op.i1:op.i2] {
					out.WriteString("-" + l)
				}
			}
			if op.tag == 'r' || op.tag == 'i' {
				for _, l := range b[op.j1:op.j2] {
					out.WriteString("+" + l)
				}
			}
		}
	}
	return out.String()
}

// unifiedRange is difflib's _format_range_unified.
func unifiedRange(start, stop int) string {
	begin, length := start+1, stop-start
	if length == 1 {
		return fmt.Sprint(begin)
	}
	if length == 0 {
		begin--
	}
	return fmt.Sprintf("%d,%d", begin, length)
}

// matcher is difflib.SequenceMatcher(None, a, b) on lists of lines.
type matcher struct {
	a, b []string
	b2j  map[string][]int
}

type match struct{ i, j, size int }

// opcode is one of get_opcodes' tuples; tag is 'r'eplace, 'd'elete,
// 'i'nsert or 'e'qual.
type opcode struct {
	tag            byte
	i1, i2, j1, j2 int
}

func newMatcher(a, b []string) *matcher {
	m := &matcher{a: a, b: b, b2j: map[string][]int{}}
	for j, line := range b {
		m.b2j[line] = append(m.b2j[line], j)
	}
	// autojunk: in 200 lines or more, a line found in more than 1% of
	// them (plus one) is "popular" and never starts a match.
	if n := len(b); n >= 200 {
		ntest := n/100 + 1
		for line, idx := range m.b2j {
			if len(idx) > ntest {
				delete(m.b2j, line)
			}
		}
	}
	return m
}

// longestMatch is find_longest_match(alo, ahi, blo, bhi) with no junk
// function: popular lines may only extend a match found without them.
func (m *matcher) longestMatch(alo, ahi, blo, bhi int) match {
	besti, bestj, bestsize := alo, blo, 0
	j2len := map[int]int{}
	for i := alo; i < ahi; i++ {
		newj2len := map[int]int{}
		for _, j := range m.b2j[m.a[i]] {
			if j < blo {
				continue
			}
			if j >= bhi {
				break
			}
			k := j2len[j-1] + 1
			newj2len[j] = k
			if k > bestsize {
				besti, bestj, bestsize = i-k+1, j-k+1, k
			}
		}
		j2len = newj2len
	}
	for besti > alo && bestj > blo && m.a[besti-1] == m.b[bestj-1] {
		besti, bestj, bestsize = besti-1, bestj-1, bestsize+1
	}
	for besti+bestsize < ahi && bestj+bestsize < bhi && m.a[besti+bestsize] == m.b[bestj+bestsize] {
		bestsize++
	}
	return match{besti, bestj, bestsize}
}

func (m *matcher) matchingBlocks() []match {
	type span struct{ alo, ahi, blo, bhi int }
	queue := []span{{0, len(m.a), 0, len(m.b)}}
	var blocks []match
	for len(queue) > 0 {
		s := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		x := m.longestMatch(s.alo, s.ahi, s.blo, s.bhi)
		if x.size == 0 {
			continue
		}
		blocks = append(blocks, x)
		if s.alo < x.i && s.blo < x.j {
			queue = append(queue, span{s.alo, x.i, s.blo, x.j})
		}
		if x.i+x.size < s.ahi && x.j+x.size < s.bhi {
			queue = append(queue, span{x.i + x.size, s.ahi, x.j + x.size, s.bhi})
		}
	}
	sort.Slice(blocks, func(p, q int) bool {
		if blocks[p].i != blocks[q].i {
			return blocks[p].i < blocks[q].i
		}
		if blocks[p].j != blocks[q].j {
			return blocks[p].j < blocks[q].j
		}
		return blocks[p].size < blocks[q].size
	})
	// Join adjacent blocks.
	var out []match
	cur := match{}
	for _, x := range blocks {
		if cur.i+cur.size == x.i && cur.j+cur.size == x.j {
			cur.size += x.size
			continue
		}
		if cur.size > 0 {
			out = append(out, cur)
		}
		cur = x
	}
	if cur.size > 0 {
		out = append(out, cur)
	}
	return append(out, match{len(m.a), len(m.b), 0})
}

func (m *matcher) opcodes() []opcode {
	var out []opcode
	i, j := 0, 0
	for _, x := range m.matchingBlocks() {
		var tag byte
		switch {
		case i < x.i && j < x.j:
			tag = 'r'
		case i < x.i:
			tag = 'd'
		case j < x.j:
			tag = 'i'
		}
		if tag != 0 {
			out = append(out, opcode{tag, i, x.i, j, x.j})
		}
		i, j = x.i+x.size, x.j+x.size
		if x.size > 0 {
			out = append(out, opcode{'e', x.i, i, x.j, j})
		}
	}
	return out
}

// groupedOpcodes is get_grouped_opcodes(n): the changes with n lines of
// context, split where more than 2n lines are unchanged.
func (m *matcher) groupedOpcodes(n int) [][]opcode {
	codes := m.opcodes()
	if len(codes) == 0 {
		codes = []opcode{{'e', 0, 1, 0, 1}}
	}
	if c := &codes[0]; c.tag == 'e' {
		c.i1, c.j1 = max(c.i1, c.i2-n), max(c.j1, c.j2-n)
	}
	if c := &codes[len(codes)-1]; c.tag == 'e' {
		c.i2, c.j2 = min(c.i2, c.i1+n), min(c.j2, c.j1+n)
	}
	var groups [][]opcode
	var group []opcode
	for _, c := range codes {
		if c.tag == 'e' && c.i2-c.i1 > 2*n {
			group = append(group, opcode{'e', c.i1, min(c.i2, c.i1+n), c.j1, min(c.j2, c.j1+n)})
			groups = append(groups, group)
			group = nil
			c.i1, c.j1 = max(c.i1, c.i2-n), max(c.j1, c.j2-n)
		}
		group = append(group, c)
	}
	if len(group) > 0 && !(len(group) == 1 && group[0].tag == 'e') {
		groups = append(groups, group)
	}
	return groups
}

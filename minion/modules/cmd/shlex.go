package cmd

import (
	"strings"

	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// shlexSplit is Python's shlex.split(s) (POSIX mode, no comments), what
// Salt runs a command string through when python_shell is False: words
// split on blanks, '…' taken literally, "…" with \" and \\ escaped, and a
// backslash outside quotes escaping any character. Its errors are
// Python's ValueErrors.
func shlexSplit(s string) ([]string, error) {
	const (
		blank = iota
		word
		single
		double
	)
	var out []string
	var tok strings.Builder
	state, inToken := blank, false
	end := func() {
		if inToken {
			out = append(out, tok.String())
		}
		tok.Reset()
		inToken = false
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch state {
		case blank, word:
			switch {
			case r == ' ' || r == '\t' || r == '\r' || r == '\n':
				end()
				state = blank
			case r == '\\':
				if i+1 >= len(rs) {
					return nil, pydata.Errorf("ValueError", "No escaped character")
				}
				i++
				tok.WriteRune(rs[i])
				inToken, state = true, word
			case r == '\'':
				inToken, state = true, single
			case r == '"':
				inToken, state = true, double
			default:
				tok.WriteRune(r)
				inToken, state = true, word
			}
		case single:
			if r == '\'' {
				state = word
			} else {
				tok.WriteRune(r)
			}
		case double:
			switch r {
			case '"':
				state = word
			case '\\':
				if i+1 >= len(rs) {
					return nil, pydata.Errorf("ValueError", "No escaped character")
				}
				i++
				if next := rs[i]; next != '"' && next != '\\' {
					tok.WriteRune('\\')
				}
				tok.WriteRune(rs[i])
			default:
				tok.WriteRune(r)
			}
		}
	}
	if state == single || state == double {
		return nil, pydata.Errorf("ValueError", "No closing quotation")
	}
	end()
	if out == nil {
		out = []string{}
	}
	return out, nil
}

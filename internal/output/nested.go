package output

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/brine-project/brine/internal/pyfmt"
	"github.com/brine-project/brine/transport/wire"
)

// Salt's palette (salt/utils/color.py get_colors): each colour is a
// salt.textformat.TextFormat, which puts the reset code 0 before its own,
// so ENDC ("reset") comes out as 0;0.
const (
	ansiRed         = "\x1b[0;31m"
	ansiGreen       = "\x1b[0;32m"
	ansiYellow      = "\x1b[0;33m"
	ansiCyan        = "\x1b[0;36m"
	ansiLightYellow = "\x1b[0;1;33m"
	ansiEndc        = "\x1b[0;0m"
)

// palette is the colours an outputter uses: Salt's, or all empty strings
// when colours are off (get_colors(False)).
type palette struct {
	red, green, yellow, cyan, lightYellow, endc string
}

func colors(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{ansiRed, ansiGreen, ansiYellow, ansiCyan, ansiLightYellow, ansiEndc}
}

// nested is salt/output/nested.py NestDisplay.
type nested struct {
	c       palette
	retcode int
	lines   []string
}

// renderNested is nested.py output(): the lines of display(data,
// nested_indent, "") joined by newlines.
func renderNested(data any, opts Options) (string, error) {
	n := &nested{c: colors(opts.Color), retcode: opts.Retcode}
	if err := n.display(data, opts.Indent, "", 0); err != nil {
		return "", err
	}
	return strings.Join(n.lines, "\n"), nil
}

// line is NestDisplay.ustring: indent spaces, then the colour, the prefix,
// the text, the reset and the suffix.
func (n *nested) line(indent int, color, msg, prefix, suffix string) {
	n.lines = append(n.lines, strings.Repeat(" ", indent)+color+prefix+msg+n.c.endc+suffix)
}

func (n *nested) display(v any, indent int, prefix string, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	if b, ok := v.([]byte); ok {
		// display() decodes bytes as UTF-8; bytes that do not decode
		// match none of its cases and print nothing.
		if !utf8.Valid(b) {
			return nil
		}
		v = string(b)
	}
	if s, ok := intString(v); ok {
		n.line(indent, n.c.lightYellow, s, prefix, "")
		return nil
	}
	switch v := v.(type) {
	case nil:
		n.line(indent, n.c.lightYellow, "None", prefix, "")
	case bool:
		s := "False"
		if v {
			s = "True"
		}
		n.line(indent, n.c.lightYellow, s, prefix, "")
	case float64:
		n.line(indent, n.c.lightYellow, pyfmt.Repr(v), prefix, "")
	case string:
		// Each line of the string on a line of its own; the prefix ("- "
		// in a list) only on the first, spaces as wide on the others. An
		// empty string has no lines and prints nothing. ESC becomes "?"
		// (salt.output.strip_esc_sequence, strip_colors defaults to True)
		// so that a return cannot drive the terminal.
		for i, l := range pySplitlines(v) {
			p := prefix
			if i > 0 {
				p = strings.Repeat(" ", utf8.RuneCountInString(prefix))
			}
			n.line(indent, n.c.green, strings.ReplaceAll(l, "\x1b", "?"), p, "")
		}
	case []any:
		color := n.c.green
		if n.retcode != 0 {
			color = n.c.red
		}
		for _, e := range v {
			switch e.(type) {
			case []any:
				n.line(indent, color, "|_", "", "")
				if err := n.display(e, indent+2, "- ", depth+1); err != nil {
					return err
				}
			case map[string]any, wire.Map:
				n.line(indent, color, "|_", "", "")
				if err := n.display(e, indent+2, "", depth+1); err != nil {
					return err
				}
			default:
				if err := n.display(e, indent, "- ", depth+1); err != nil {
					return err
				}
			}
		}
	case map[string]any, wire.Map:
		color := n.c.cyan
		if n.retcode != 0 {
			color = n.c.red
		}
		if indent != 0 {
			n.line(indent, color, "----------", "", "")
		}
		// Returns reach the CLI as plain dicts (msgpack keeps no
		// OrderedDict), so nested always sorts the keys.
		fs, _ := sortedFields(v)
		for _, f := range fs {
			n.line(indent, color, f.Key, prefix, ":")
			if err := n.display(f.Value, indent+4, "", depth+1); err != nil {
				return err
			}
		}
	case time.Time:
		// A datetime is none of the types display() handles: Salt prints
		// nothing for it.
	default:
		return unsupported(v)
	}
	return nil
}

// renderNoReturn is salt/output/no_return.py: keys in cyan, string lines
// (split on "\n" only) in red, four more spaces per level, and each
// colour put before the indent rather than after it. Other values print
// nothing.
func renderNoReturn(data any, color bool) (string, error) {
	c := colors(color)
	var b strings.Builder
	var display func(v any, indent int, depth int) error
	display = func(v any, indent int, depth int) error {
		if depth > maxDepth {
			return errDepth
		}
		pad := strings.Repeat(" ", indent)
		switch v := v.(type) {
		case string:
			for _, l := range strings.Split(v, "\n") {
				b.WriteString(c.red + pad + l + c.endc + "\n")
			}
		case map[string]any, wire.Map:
			fs, _ := sortedFields(v)
			for _, f := range fs {
				b.WriteString(c.cyan + pad + f.Key + c.endc + ":\n")
				if err := display(f.Value, indent+4, depth+1); err != nil {
					return err
				}
			}
		default:
			if err := checkModel(v, depth); err != nil {
				return err
			}
		}
		return nil
	}
	if err := display(data, 0, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

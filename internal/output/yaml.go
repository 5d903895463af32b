package output

import (
	"encoding/base64"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/brine-project/brine/internal/pyfmt"
	"github.com/brine-project/brine/transport/wire"
)

// renderYAML is salt/output/yaml_out.py with Salt's defaults:
// salt.utils.yaml.safe_dump(data, default_flow_style=False), which is
// PyYAML's yaml.dump with allow_unicode=True and Salt's SafeOrderedDumper.
// That dumper is built on PyYAML's CSafeDumper when PyYAML has libyaml (as
// Salt's packages do), so the text is what libyaml 0.2.5's emitter writes
// for the nodes PyYAML's SafeRepresenter makes:
//
//   - maps are block mappings with their keys sorted (yaml.dump's
//     sort_keys; returns reach the CLI as plain dicts), lists are block
//     sequences, not indented under a key, and empty ones are {} and [];
//   - None, booleans, integers and floats are null, true/false, decimal
//     and Python's repr in lower case (".nan", ".inf", "1.0e+16");
//   - a string is plain when it would read back as the same string, and
//     otherwise single-quoted, or double-quoted with escapes when it holds
//     characters libyaml will not print as they are (controls, tabs,
//     characters beyond U+FFFF) or spaces next to line breaks;
//   - bytes are "!!binary |" and their base64 in 76-column lines;
//   - a datetime is a plain timestamp, its isoformat(' ').
//
// Lines are folded at spaces past column 80, as libyaml does.
func renderYAML(data any) (string, error) {
	root, err := represent(data, 0)
	if err != nil {
		return "", err
	}
	e := &yamlEmitter{indent: -1, whitespace: true, indention: true}
	e.node(root, true, false, false, false)
	// Document end: an implicit one only finishes the last line.
	e.writeIndent()
	return e.b.String(), nil
}

// The YAML 1.1 tags PyYAML gives the values of the model.
const (
	tagNull      = "null"
	tagBool      = "bool"
	tagInt       = "int"
	tagFloat     = "float"
	tagStr       = "str"
	tagBinary    = "binary"
	tagTimestamp = "timestamp"
)

type yamlKind int

const (
	yamlScalar yamlKind = iota
	yamlSeq
	yamlMap
)

// yamlNode is a node of PyYAML's representation graph.
type yamlNode struct {
	kind    yamlKind
	tag     string // scalars: one of the tag constants
	value   string // scalars
	literal bool   // scalars: the representer asked for the literal style
	items   []*yamlNode
	pairs   [][2]*yamlNode
}

// represent is PyYAML's SafeRepresenter for the value model.
func represent(v any, depth int) (*yamlNode, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	if s, ok := intString(v); ok {
		return &yamlNode{tag: tagInt, value: s}, nil
	}
	switch v := v.(type) {
	case nil:
		return &yamlNode{tag: tagNull, value: "null"}, nil
	case bool:
		s := "false"
		if v {
			s = "true"
		}
		return &yamlNode{tag: tagBool, value: s}, nil
	case float64:
		return &yamlNode{tag: tagFloat, value: yamlFloat(v)}, nil
	case string:
		return &yamlNode{tag: tagStr, value: strings.ToValidUTF8(v, "\uFFFD")}, nil
	case []byte:
		return &yamlNode{tag: tagBinary, value: pyEncodebytes(v), literal: true}, nil
	case time.Time:
		return &yamlNode{tag: tagTimestamp, value: pyfmt.Str(v)}, nil
	case []any:
		n := &yamlNode{kind: yamlSeq, items: make([]*yamlNode, len(v))}
		for i, e := range v {
			c, err := represent(e, depth+1)
			if err != nil {
				return nil, err
			}
			n.items[i] = c
		}
		return n, nil
	case map[string]any, wire.Map:
		fs, _ := sortedFields(v)
		n := &yamlNode{kind: yamlMap, pairs: make([][2]*yamlNode, len(fs))}
		for i, f := range fs {
			c, err := represent(f.Value, depth+1)
			if err != nil {
				return nil, err
			}
			n.pairs[i] = [2]*yamlNode{{tag: tagStr, value: strings.ToValidUTF8(f.Key, "\uFFFD")}, c}
		}
		return n, nil
	}
	return nil, unsupported(v)
}

// yamlFloat is SafeRepresenter.represent_float: repr in lower case, with
// ".0" put before an exponent that has no fraction ("1e+16" would read
// back as a string in YAML 1.1).
func yamlFloat(f float64) string {
	switch s := pyfmt.Repr(f); s {
	case "nan":
		return ".nan"
	case "inf":
		return ".inf"
	case "-inf":
		return "-.inf"
	default:
		if !strings.Contains(s, ".") && strings.Contains(s, "e") {
			s = strings.Replace(s, "e", ".0e", 1)
		}
		return s
	}
}

// pyEncodebytes is base64.encodebytes: lines of 76 characters (57 bytes),
// each ended by a newline.
func pyEncodebytes(p []byte) string {
	var b strings.Builder
	for len(p) > 0 {
		n := min(len(p), 57)
		b.WriteString(base64.StdEncoding.EncodeToString(p[:n]))
		b.WriteByte('\n')
		p = p[n:]
	}
	return b.String()
}

// YAML 1.1's implicit types, as PyYAML's Resolver recognises plain
// scalars (yaml/resolver.py). A string that matches one of them cannot be
// written plain: it would read back as something else.
var (
	yamlBoolRE  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yamlFloatRE = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yamlIntRE   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yamlMergeRE = regexp.MustCompile(`^(?:<<)$`)
	yamlNullRE  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	yamlTimeRE  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
	yamlValueRE = regexp.MustCompile(`^(?:=)$`)
	yamlYAMLRE  = regexp.MustCompile(`^(?:!|&|\*)$`)
)

// resolvePlain is the tag PyYAML's Resolver gives a plain scalar: the
// first implicit resolver registered for its first character that matches,
// or str. Python's "$" also matches before a final newline.
func resolvePlain(s string) string {
	m := strings.TrimSuffix(s, "\n")
	first := byte(0)
	if s != "" {
		first = s[0]
	}
	has := func(set string) bool { return s == "" && set == "" || s != "" && strings.IndexByte(set, first) >= 0 }
	switch {
	case has("yYnNtTfFoO") && yamlBoolRE.MatchString(m):
		return tagBool
	case has("-+0123456789.") && yamlFloatRE.MatchString(m):
		return tagFloat
	case has("-+0123456789") && yamlIntRE.MatchString(m):
		return tagInt
	case has("<") && yamlMergeRE.MatchString(m):
		return "merge"
	case (s == "" || has("~nN")) && yamlNullRE.MatchString(m):
		return tagNull
	case has("0123456789") && yamlTimeRE.MatchString(m):
		return tagTimestamp
	case has("=") && yamlValueRE.MatchString(m):
		return "value"
	case has("!&*") && yamlYAMLRE.MatchString(m):
		return "yaml"
	}
	return tagStr
}

// yamlEmitter is the part of libyaml's emitter (emitter.c) that the nodes
// above need: block collections, empty flow collections and the four
// scalar styles, at best_indent 2 and best_width 80, with unicode allowed.
type yamlEmitter struct {
	b          strings.Builder
	column     int
	whitespace bool // the last character written was whitespace
	indention  bool // only indentation so far on this line
	indent     int
	indents    []int
	flowLevel  int
	// The context of the node being written.
	rootContext, sequenceContext, mappingContext, simpleKeyContext bool
}

const (
	yamlBestIndent = 2
	yamlBestWidth  = 80
)

func (e *yamlEmitter) increaseIndent(flow, indentless bool) {
	e.indents = append(e.indents, e.indent)
	if e.indent < 0 {
		if flow {
			e.indent = yamlBestIndent
		} else {
			e.indent = 0
		}
	} else if !indentless {
		e.indent += yamlBestIndent
	}
}

func (e *yamlEmitter) popIndent() {
	e.indent = e.indents[len(e.indents)-1]
	e.indents = e.indents[:len(e.indents)-1]
}

// put writes ASCII text.
func (e *yamlEmitter) put(s string) {
	e.b.WriteString(s)
	e.column += len(s)
}

// write writes one character.
func (e *yamlEmitter) write(r rune) {
	e.b.WriteRune(r)
	e.column++
}

func (e *yamlEmitter) putBreak() {
	e.b.WriteByte('\n')
	e.column = 0
}

// writeBreak writes a line break found in a scalar: "\n" as itself,
// others (U+2028, ...) copied.
func (e *yamlEmitter) writeBreak(r rune) {
	if r == '\n' {
		e.putBreak()
		return
	}
	e.b.WriteRune(r)
	e.column = 0
}

func (e *yamlEmitter) writeIndicator(ind string, needWhitespace, isWhitespace, isIndention bool) {
	if needWhitespace && !e.whitespace {
		e.put(" ")
	}
	e.put(ind)
	e.whitespace = isWhitespace
	e.indention = e.indention && isIndention
}

func (e *yamlEmitter) writeIndent() {
	indent := max(e.indent, 0)
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.putBreak()
	}
	for e.column < indent {
		e.put(" ")
	}
	e.whitespace = true
	e.indention = true
}

func (e *yamlEmitter) node(n *yamlNode, root, sequence, mapping, simpleKey bool) {
	e.rootContext, e.sequenceContext, e.mappingContext, e.simpleKeyContext = root, sequence, mapping, simpleKey
	switch n.kind {
	case yamlScalar:
		e.scalar(n)
	case yamlSeq:
		if e.flowLevel > 0 || len(n.items) == 0 {
			e.emptyFlow("[", "]")
			return
		}
		e.increaseIndent(false, e.mappingContext && !e.indention)
		for _, item := range n.items {
			e.writeIndent()
			e.writeIndicator("-", true, false, true)
			e.node(item, false, true, false, false)
		}
		e.popIndent()
	case yamlMap:
		if e.flowLevel > 0 || len(n.pairs) == 0 {
			e.emptyFlow("{", "}")
			return
		}
		e.increaseIndent(false, false)
		for _, p := range n.pairs {
			e.writeIndent()
			key := analyzeScalar(p[0].value)
			if !key.multiline && len(p[0].value) <= 128 {
				e.node(p[0], false, false, true, true)
				e.writeIndicator(":", false, false, false)
			} else {
				e.writeIndicator("?", true, false, true)
				e.node(p[0], false, false, true, false)
				e.writeIndent()
				e.writeIndicator(":", true, false, true)
			}
			e.node(p[1], false, false, true, false)
		}
		e.popIndent()
	}
}

// emptyFlow writes an empty collection in the flow style.
func (e *yamlEmitter) emptyFlow(open, close string) {
	e.writeIndicator(open, true, true, false)
	e.increaseIndent(true, false)
	e.popIndent()
	e.writeIndicator(close, false, false, false)
}

type yamlStyle int

const (
	stylePlain yamlStyle = iota
	styleSingle
	styleDouble
	styleLiteral
)

// scalarAnalysis is what libyaml's yaml_emitter_analyze_scalar finds.
type scalarAnalysis struct {
	empty, multiline                           bool
	flowPlain, blockPlain, singleQuoted, block bool
}

// yamlPrintable is libyaml's IS_PRINTABLE: the characters it writes as
// they are. Everything beyond the Basic Multilingual Plane is escaped.
func yamlPrintable(r rune) bool {
	return r == '\n' || (r >= 0x20 && r <= 0x7e) || (r >= 0xa0 && r <= 0xd7ff) ||
		(r >= 0xe000 && r <= 0xfffd && r != 0xfeff)
}

func yamlBreak(r rune) bool {
	return r == '\r' || r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029
}

func yamlBlankZ(r rune) bool {
	return r == ' ' || r == '\t' || yamlBreak(r) || r == 0
}

func analyzeScalar(s string) scalarAnalysis {
	if s == "" {
		return scalarAnalysis{empty: true, blockPlain: true, singleQuoted: true}
	}
	rs := []rune(s)
	var blockInd, flowInd, lineBreaks, special bool
	var leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak bool
	var prevSpace, prevBreak bool
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockInd, flowInd = true, true
	}
	at := func(i int) rune {
		if i < len(rs) {
			return rs[i]
		}
		return 0
	}
	precededByWS := true
	followedByWS := yamlBlankZ(at(1))
	for i, r := range rs {
		if i == 0 {
			switch r {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				flowInd, blockInd = true, true
			case '?', ':':
				flowInd = true
				if followedByWS {
					blockInd = true
				}
			case '-':
				if followedByWS {
					flowInd, blockInd = true, true
				}
			}
		} else {
			switch r {
			case ',', '?', '[', ']', '{', '}':
				flowInd = true
			case ':':
				flowInd = true
				if followedByWS {
					blockInd = true
				}
			case '#':
				if precededByWS {
					flowInd, blockInd = true, true
				}
			}
		}
		if !yamlPrintable(r) {
			special = true
		}
		if yamlBreak(r) {
			lineBreaks = true
		}
		switch {
		case r == ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i == len(rs)-1 {
				trailingSpace = true
			}
			if prevBreak {
				breakSpace = true
			}
			prevSpace, prevBreak = true, false
		case yamlBreak(r):
			if i == 0 {
				leadingBreak = true
			}
			if i == len(rs)-1 {
				trailingBreak = true
			}
			if prevSpace {
				spaceBreak = true
			}
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		precededByWS = yamlBlankZ(r)
		if i+1 < len(rs) {
			followedByWS = yamlBlankZ(at(i + 2))
		}
	}
	a := scalarAnalysis{multiline: lineBreaks, flowPlain: true, blockPlain: true, singleQuoted: true, block: true}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
		a.flowPlain, a.blockPlain = false, false
	}
	if trailingSpace {
		a.block = false
	}
	if breakSpace {
		a.flowPlain, a.blockPlain, a.singleQuoted = false, false, false
	}
	if spaceBreak || special {
		a.flowPlain, a.blockPlain, a.singleQuoted, a.block = false, false, false, false
	}
	if lineBreaks {
		a.flowPlain, a.blockPlain = false, false
	}
	if flowInd {
		a.flowPlain = false
	}
	if blockInd {
		a.blockPlain = false
	}
	return a
}

func (e *yamlEmitter) scalar(n *yamlNode) {
	a := analyzeScalar(n.value)
	plainImplicit := resolvePlain(n.value) == n.tag
	quotedImplicit := n.tag == tagStr
	noTag := plainImplicit || quotedImplicit // the tag is written only when neither holds
	style := stylePlain
	if n.literal {
		style = styleLiteral
	}
	if e.simpleKeyContext && a.multiline {
		style = styleDouble
	}
	if style == stylePlain {
		if (e.flowLevel > 0 && !a.flowPlain) || (e.flowLevel == 0 && !a.blockPlain) {
			style = styleSingle
		}
		if a.empty && (e.flowLevel > 0 || e.simpleKeyContext) {
			style = styleSingle
		}
		if noTag && !plainImplicit {
			style = styleSingle
		}
	}
	if style == styleSingle && !a.singleQuoted {
		style = styleDouble
	}
	if style == styleLiteral && (!a.block || e.flowLevel > 0 || e.simpleKeyContext) {
		style = styleDouble
	}
	tag := ""
	if !noTag {
		tag = "!!" + n.tag
	} else if !quotedImplicit && style != stylePlain {
		tag = "!"
	}
	if tag != "" {
		if !e.whitespace {
			e.put(" ")
		}
		e.put(tag)
		e.whitespace, e.indention = false, false
	}
	e.increaseIndent(true, false)
	split := !e.simpleKeyContext
	switch style {
	case stylePlain:
		e.writePlain(n.value, split)
	case styleSingle:
		e.writeSingleQuoted(n.value, split)
	case styleDouble:
		e.writeDoubleQuoted(n.value, split)
	case styleLiteral:
		e.writeLiteral(n.value)
	}
	e.popIndent()
}

func (e *yamlEmitter) writePlain(s string, allowBreaks bool) {
	if !e.whitespace && (s != "" || e.flowLevel > 0) {
		e.put(" ")
	}
	rs := []rune(s)
	spaces, breaks := false, false
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ':
			if allowBreaks && !spaces && e.column > yamlBestWidth && !(i+1 < len(rs) && rs[i+1] == ' ') {
				e.writeIndent()
			} else {
				e.write(r)
			}
			spaces = true
		case yamlBreak(r):
			if !breaks && r == '\n' {
				e.putBreak()
			}
			e.writeBreak(r)
			e.indention = true
			breaks = true
		default:
			if breaks {
				e.writeIndent()
			}
			e.write(r)
			e.indention = false
			spaces, breaks = false, false
		}
	}
	e.whitespace, e.indention = false, false
}

func (e *yamlEmitter) writeSingleQuoted(s string, allowBreaks bool) {
	e.writeIndicator("'", true, false, false)
	rs := []rune(s)
	spaces, breaks := false, false
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ':
			if allowBreaks && !spaces && e.column > yamlBestWidth && i != 0 && i != len(rs)-1 && rs[i+1] != ' ' {
				e.writeIndent()
			} else {
				e.write(r)
			}
			spaces = true
		case yamlBreak(r):
			if !breaks && r == '\n' {
				e.putBreak()
			}
			e.writeBreak(r)
			e.indention = true
			breaks = true
		default:
			if breaks {
				e.writeIndent()
			}
			if r == '\'' {
				e.put("'")
			}
			e.write(r)
			e.indention = false
			spaces, breaks = false, false
		}
	}
	if breaks {
		e.writeIndent()
	}
	e.writeIndicator("'", false, false, false)
	e.whitespace, e.indention = false, false
}

// yamlEscapes are the short escapes of libyaml's double-quoted style.
var yamlEscapes = map[rune]string{
	0: `\0`, 0x07: `\a`, 0x08: `\b`, 0x09: `\t`, 0x0a: `\n`, 0x0b: `\v`, 0x0c: `\f`,
	0x0d: `\r`, 0x1b: `\e`, '"': `\"`, '\\': `\\`, 0x85: `\N`, 0xa0: `\_`,
	0x2028: `\L`, 0x2029: `\P`,
}

func (e *yamlEmitter) writeDoubleQuoted(s string, allowBreaks bool) {
	const hex = "0123456789ABCDEF"
	e.writeIndicator(`"`, true, false, false)
	rs := []rune(s)
	spaces := false
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case !yamlPrintable(r) || r == 0xfeff || yamlBreak(r) || r == '"' || r == '\\':
			if esc, ok := yamlEscapes[r]; ok {
				e.put(esc)
			} else {
				kind, width := byte('x'), 2
				if r > 0xffff {
					kind, width = 'U', 8
				} else if r > 0xff {
					kind, width = 'u', 4
				}
				e.put(`\` + string(kind))
				for shift := (width - 1) * 4; shift >= 0; shift -= 4 {
					e.put(string(hex[(r>>shift)&0xf]))
				}
			}
			spaces = false
		case r == ' ':
			if allowBreaks && !spaces && e.column > yamlBestWidth && i != 0 && i != len(rs)-1 {
				e.writeIndent()
				if rs[i+1] == ' ' {
					e.put(`\`)
				}
			} else {
				e.write(r)
			}
			spaces = true
		default:
			e.write(r)
			spaces = false
		}
	}
	e.writeIndicator(`"`, false, false, false)
	e.whitespace, e.indention = false, false
}

func (e *yamlEmitter) writeLiteral(s string) {
	e.writeIndicator("|", true, false, false)
	// Block scalar hints: an indentation indicator when the text starts
	// with a space or a break, and the chomping indicator its end needs.
	first, _ := utf8.DecodeRuneInString(s)
	if s != "" && (first == ' ' || yamlBreak(first)) {
		e.writeIndicator(string(rune('0'+yamlBestIndent)), false, false, false)
	}
	last, n := utf8.DecodeLastRuneInString(s)
	switch {
	case s == "" || !yamlBreak(last):
		e.writeIndicator("-", false, false, false)
	case len(s) == n:
		e.writeIndicator("+", false, false, false)
	default:
		if prev, _ := utf8.DecodeLastRuneInString(s[:len(s)-n]); yamlBreak(prev) {
			e.writeIndicator("+", false, false, false)
		}
	}
	e.putBreak()
	e.indention, e.whitespace = true, true
	breaks := true
	for _, r := range s {
		if yamlBreak(r) {
			e.writeBreak(r)
			e.indention = true
			breaks = true
			continue
		}
		if breaks {
			e.writeIndent()
		}
		e.write(r)
		e.indention = false
		breaks = false
	}
}

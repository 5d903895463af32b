package saltargs

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/brine-project/brine/transport/wire"
)

// This file loads a YAML document as salt.utils.yaml.safe_load does in
// Salt 3006: PyYAML's SafeLoader with Salt's SaltYamlSafeLoader changes
// (salt/utils/yamlloader.py). go.yaml.in/yaml/v3 parses the text; the
// resolution of plain scalars and the construction of values follow
// PyYAML's YAML 1.1 rules instead of yaml/v3's own.

// The errors that make Parse fail, when the value that has them is to be
// published: Salt could not publish it either.
var (
	errRecursive = errors.New("its YAML refers to itself (a recursive alias)")
	errDeep      = fmt.Errorf("its YAML nests more than %d lists and maps deep", maxArgDepth+1)
)

// maxArgDepth is the deepest a list or map in an argument may sit (0 for
// the argument itself): the load that carries it adds up to three levels
// (the load, the arg list, the kwarg map), and transport/wire encodes no
// more than wire.MaxDepth.
const maxArgDepth = wire.MaxDepth - 4

// unpublishable stands in a loaded value for what Salt can load but not
// publish: publishable returns its error if the value is to be sent.
type unpublishable struct{ err error }

// pyInt is a Python int: YAML integers have no size limit.
type pyInt struct{ n *big.Int }

// value is the int as Salt publishes it: msgpack takes it when it fits in
// 64 bits, and Salt's payload encoder sends any other as its decimal
// string.
func (p pyInt) value() any {
	if p.n.IsInt64() {
		return p.n.Int64()
	}
	if p.n.IsUint64() {
		return p.n.Uint64()
	}
	return p.n.String()
}

// pySet is a Python set (!!set); msgpack has none, and Salt's payload
// encoder sends it as a list.
type pySet []any

// publishable turns a loaded value into the value model: big integers and
// sets as Salt's payload encoder sends them.
func publishable(v any) (any, error) {
	switch v := v.(type) {
	case unpublishable:
		return nil, v.err
	case pyInt:
		return v.value(), nil
	case pySet:
		return publishable([]any(v))
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			p, err := publishable(e)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	case wire.Map:
		out := make(wire.Map, len(v))
		for i, f := range v {
			p, err := publishable(f.Value)
			if err != nil {
				return nil, err
			}
			out[i] = wire.Field{Key: f.Key, Value: p}
		}
		return out, nil
	}
	return v, nil
}

// load reads one YAML document. An empty document is None; a second
// document, or anything yaml/v3 cannot parse after the first, is an error
// (PyYAML's load wants the whole stream to be one document).
func load(s string) (any, error) {
	dec := yaml.NewDecoder(strings.NewReader(flowColons(s)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("more than one YAML document (%v)", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	c := &constructor{active: map[*yaml.Node]bool{}}
	return c.construct(doc.Content[0], 0)
}

// flowColons puts a space after each ":" that PyYAML's scanner takes as
// a value indicator and yaml/v3's does not: one directly followed by
// ",", "[", "]", "{" or "}" inside a flow collection ("{a:}" is {a: None}
// to PyYAML, {"a:": None} to yaml/v3). The space changes nothing else
// there. Quoted scalars and comments are left alone.
func flowColons(s string) string {
	if !strings.Contains(s, ":") {
		return s
	}
	var b strings.Builder
	level := 0
	var quote byte
	prev := byte(' ')
	tokenStart := func() bool { return strings.IndexByte(" [{,:?!-", prev) >= 0 }
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte(c)
					i++
				} else {
					quote = 0
				}
			}
		case quote == '"':
			if c == '\\' && i+1 < len(s) {
				b.WriteByte(c)
				i++
				c = s[i]
			} else if c == '"' {
				quote = 0
			}
		default:
			switch c {
			case '\'', '"':
				if tokenStart() {
					quote = c
				}
			case '[', '{':
				if level > 0 || tokenStart() {
					level++
				}
			case ']', '}':
				if level > 0 {
					level--
				}
			case '#':
				if prev == ' ' {
					return b.String() + s[i:]
				}
			case ':':
				if level > 0 && i+1 < len(s) && strings.IndexByte(",[]{}", s[i+1]) >= 0 {
					b.WriteString(": ")
					prev = ' '
					continue
				}
			}
		}
		b.WriteByte(c)
		prev = c
	}
	return b.String()
}

type constructor struct {
	// active holds the collections being constructed, to catch an alias
	// to one of them.
	active map[*yaml.Node]bool
}

const (
	tagNull      = "!!null"
	tagBool      = "!!bool"
	tagInt       = "!!int"
	tagFloat     = "!!float"
	tagStr       = "!!str"
	tagBinary    = "!!binary"
	tagTimestamp = "!!timestamp"
	tagMerge     = "!!merge"
	tagValue     = "!!value"
	tagMap       = "!!map"
	tagSeq       = "!!seq"
	tagSet       = "!!set"
	tagOmap      = "!!omap"
	tagPairs     = "!!pairs"
	tagUnicode   = "!!python/unicode"
)

// tagOf is the tag PyYAML's composer gives a node: the explicit one, or
// for a plain scalar the one its resolver finds, str for other scalars,
// and map or seq for collections.
func tagOf(n *yaml.Node) string {
	if n.Style&yaml.TaggedStyle != 0 && n.Tag != "" && n.Tag != "!" {
		return shortTag(n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		return tagMap
	case yaml.SequenceNode:
		return tagSeq
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return tagStr
	}
	return resolvePlain(n.Value)
}

func shortTag(t string) string {
	if rest, ok := strings.CutPrefix(t, "tag:yaml.org,2002:"); ok {
		return "!!" + rest
	}
	return t
}

func (c *constructor) construct(n *yaml.Node, depth int) (any, error) {
	if depth > maxArgDepth && (n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode) {
		return unpublishable{errDeep}, nil
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, errors.New("undefined alias")
		}
		if c.active[n.Alias] {
			return unpublishable{errRecursive}, nil
		}
		return c.construct(n.Alias, depth)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return constructScalar(tagOf(n), n.Value)
	case yaml.SequenceNode:
		c.active[n] = true
		defer delete(c.active, n)
		switch tag := tagOf(n); tag {
		case tagSeq:
			out := make([]any, 0, len(n.Content))
			for _, item := range n.Content {
				v, err := c.construct(item, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		case tagOmap, tagPairs:
			// A list of one-pair maps, as a list of (key, value) tuples.
			out := make([]any, 0, len(n.Content))
			for _, item := range n.Content {
				if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
					return nil, fmt.Errorf("%s expects a list of one-pair maps", tag)
				}
				k, err := c.construct(item.Content[0], depth+2)
				if err != nil {
					return nil, err
				}
				v, err := c.construct(item.Content[1], depth+2)
				if err != nil {
					return nil, err
				}
				out = append(out, []any{k, v})
			}
			return out, nil
		default:
			return nil, fmt.Errorf("no constructor for the tag %s on a list", tag)
		}
	case yaml.MappingNode:
		c.active[n] = true
		defer delete(c.active, n)
		tag := tagOf(n)
		if tag != tagMap && tag != tagSet {
			return nil, fmt.Errorf("no constructor for the tag %s on a map", tag)
		}
		m, keys, err := c.mapping(n, depth)
		if err != nil {
			return nil, err
		}
		if tag == tagSet {
			return pySet(keys), nil
		}
		return m, nil
	}
	return nil, fmt.Errorf("unexpected YAML node kind %d", n.Kind)
}

// mapping is SaltYamlSafeLoader.construct_mapping: merge keys flattened,
// keys that must be hashable, and a repeated key an error (Salt's loader
// refuses them). It returns the map and the keys as constructed.
func (c *constructor) mapping(n *yaml.Node, depth int) (wire.Map, []any, error) {
	pairs, err := c.flatten(n, depth)
	if err != nil {
		return nil, nil, err
	}
	m := make(wire.Map, 0, len(pairs))
	keys := make([]any, 0, len(pairs))
	seen := map[string]bool{}
	for _, p := range pairs {
		var k any
		var err error
		if p[0].Kind == yaml.ScalarNode && tagOf(p[0]) == tagValue {
			k, err = saltStr(p[0].Value) // flatten_mapping makes "=" a str
		} else {
			k, err = c.construct(p[0], depth+1)
		}
		if err != nil {
			return nil, nil, err
		}
		id, ok := hashKey(k)
		if !ok {
			return nil, nil, errors.New("found unacceptable key")
		}
		if id != "" && seen[id] {
			return nil, nil, fmt.Errorf("found conflicting ID %v", k)
		}
		seen[id] = true
		v, err := c.construct(p[1], depth+1)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
		// A key that is not a string is published as Salt would send
		// it, and shown here as transport/wire decodes such a key.
		key := keyString(k)
		dup := false
		for i := range m {
			if m[i].Key == key {
				m[i].Value, dup = v, true
				break
			}
		}
		if !dup {
			m = append(m, wire.Field{Key: key, Value: v})
		}
	}
	return m, keys, nil
}

// flatten is SaltYamlSafeLoader.flatten_mapping: the pairs of a map with
// its merge keys ("<<") replaced by the pairs they merge in, ahead of the
// map's own, less those whose key is written the same as one of the map's
// own keys. "=" keys are strings.
func (c *constructor) flatten(n *yaml.Node, depth int) ([][2]*yaml.Node, error) {
	if depth > wire.MaxDepth {
		return nil, errors.New("merge keys nested too deeply")
	}
	var own, merge [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if tagOf(k) != tagMerge {
			own = append(own, [2]*yaml.Node{k, v})
			continue
		}
		v = deref(v)
		switch v.Kind {
		case yaml.MappingNode:
			sub, err := c.flatten(v, depth+1)
			if err != nil {
				return nil, err
			}
			merge = append(merge, sub...)
		case yaml.SequenceNode:
			var subs [][][2]*yaml.Node
			for _, item := range v.Content {
				item = deref(item)
				if item.Kind != yaml.MappingNode {
					return nil, errors.New("expected a mapping for merging")
				}
				sub, err := c.flatten(item, depth+1)
				if err != nil {
					return nil, err
				}
				subs = append(subs, sub)
			}
			for i := len(subs) - 1; i >= 0; i-- {
				merge = append(merge, subs[i]...)
			}
		default:
			return nil, errors.New("expected a mapping or list of mappings for merging")
		}
	}
	if len(merge) == 0 {
		return own, nil
	}
	written := map[string]bool{}
	for _, p := range own {
		written[deref(p[0]).Value] = true
	}
	out := make([][2]*yaml.Node, 0, len(merge)+len(own))
	for _, p := range merge {
		if !written[deref(p[0]).Value] {
			out = append(out, p)
		}
	}
	return append(out, own...), nil
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// hashKey is an identity for a map key under Python's ==, "" for one that
// equals nothing else (NaN), and false for an unhashable key.
func hashKey(k any) (string, bool) {
	switch k := k.(type) {
	case nil:
		return "n", true
	case bool:
		if k {
			return "i1", true
		}
		return "i0", true
	case pyInt:
		return "i" + k.n.String(), true
	case float64:
		if math.IsNaN(k) {
			return "", true
		}
		if k == math.Trunc(k) && !math.IsInf(k, 0) {
			n, _ := new(big.Float).SetFloat64(k).Int(nil)
			return "i" + n.String(), true
		}
		return "f" + strconv.FormatFloat(k, 'g', -1, 64), true
	case string:
		return "s" + k, true
	case []byte:
		return "b" + string(k), true
	}
	return "", false
}

// keyString is how transport/wire decodes a map key that is not a string
// (fmt.Sprint of the decoded value); bytes become the string of their
// bytes.
func keyString(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case []byte:
		return string(k)
	case pyInt:
		return fmt.Sprint(k.value())
	}
	return fmt.Sprint(k)
}

// constructScalar builds the value of a scalar with the given tag, as
// PyYAML's SafeConstructor with Salt's overrides does.
func constructScalar(tag, value string) (any, error) {
	switch tag {
	case tagNull:
		return nil, nil
	case tagBool:
		switch strings.ToLower(value) {
		case "yes", "true", "on":
			return true, nil
		case "no", "false", "off":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a YAML bool", value)
	case tagInt:
		return constructInt(value)
	case tagFloat:
		return constructFloat(value)
	case tagStr:
		return saltStr(value)
	case tagUnicode, tagTimestamp:
		// Salt's loader keeps timestamps as the text they were.
		return value, nil
	case tagBinary:
		return decodeBinary(value)
	}
	return nil, fmt.Errorf("no constructor for the tag %s", tag)
}

// constructInt is SafeConstructor.construct_yaml_int after Salt's
// construct_scalar, which strips the leading zeros of an int that is not
// 0b or 0x, so that "010" is 10 and not octal 8.
func constructInt(value string) (any, error) {
	if value != "0" && strings.HasPrefix(value, "0") && !strings.HasPrefix(value, "0b") && !strings.HasPrefix(value, "0x") {
		value = strings.TrimLeft(value, "0")
		if value == "" {
			value = "0"
		}
	}
	value = strings.ReplaceAll(value, "_", "")
	if value == "" {
		return nil, errors.New("empty int")
	}
	sign := 1
	if value[0] == '-' {
		sign = -1
	}
	if value[0] == '+' || value[0] == '-' {
		value = value[1:]
	}
	n := new(big.Int)
	var ok bool
	switch {
	case value == "0":
		ok = true
	case strings.HasPrefix(value, "0b"):
		n, ok = n.SetString(value[2:], 2)
	case strings.HasPrefix(value, "0x"):
		n, ok = n.SetString(value[2:], 16)
	case strings.HasPrefix(value, "0"):
		n, ok = n.SetString(value, 8)
	case strings.Contains(value, ":"):
		ok = true
		for _, part := range strings.Split(value, ":") {
			d, good := new(big.Int).SetString(part, 10)
			if !good || part == "" || strings.ContainsAny(part, "+-") {
				return nil, fmt.Errorf("bad sexagesimal int %q", value)
			}
			n.Mul(n, big.NewInt(60))
			n.Add(n, d)
		}
	default:
		n, ok = n.SetString(value, 10)
		ok = ok && !strings.ContainsAny(value, "+-")
	}
	if !ok {
		return nil, fmt.Errorf("bad int %q", value)
	}
	if sign < 0 {
		n.Neg(n)
	}
	return pyInt{n}, nil
}

// pyFloatRE is what Python's float() reads, once "_" is gone.
var pyFloatRE = regexp.MustCompile(`^[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$`)

// constructFloat is SafeConstructor.construct_yaml_float.
func constructFloat(value string) (any, error) {
	value = strings.ToLower(strings.ReplaceAll(value, "_", ""))
	if value == "" {
		return nil, errors.New("empty float")
	}
	sign := 1.0
	if value[0] == '-' {
		sign = -1
	}
	if value[0] == '+' || value[0] == '-' {
		value = value[1:]
	}
	switch {
	case value == ".inf":
		return sign * math.Inf(1), nil
	case value == ".nan":
		return math.NaN(), nil
	case strings.Contains(value, ":"):
		f := 0.0
		for _, part := range strings.Split(value, ":") {
			d, err := pyFloat(part)
			if err != nil {
				return nil, err
			}
			f = f*60 + d
		}
		return sign * f, nil
	}
	f, err := pyFloat(value)
	if err != nil {
		return nil, err
	}
	return sign * f, nil
}

// pyFloat is Python's float() of a str.
func pyFloat(s string) (float64, error) {
	s = strings.TrimFunc(s, isPySpace)
	if !pyFloatRE.MatchString(strings.ToLower(s)) {
		return 0, fmt.Errorf("could not convert %q to float", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, err
	}
	return f, nil // out of range: ±Inf or 0, as Python rounds
}

// decodeBinary is SafeConstructor.construct_yaml_binary:
// base64.decodebytes, which skips characters outside the alphabet.
func decodeBinary(value string) (any, error) {
	var b strings.Builder
	for _, r := range value {
		if r >= 0x80 {
			return nil, errors.New("failed to convert base64 data into ascii")
		}
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=' {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if i := strings.IndexByte(s, '='); i >= 0 {
		s = s[:i] // decoding stops at the padding
	}
	p, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return p, nil
}

package output

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/brine-project/brine/internal/pyfmt"
	"github.com/brine-project/brine/transport/wire"
)

// renderJSON is salt/output/json_out.py with Salt's defaults (no
// output_indent in the config): salt.utils.json.dumps(data, default=repr,
// indent=4), which is Python's json.dumps with ensure_ascii=False. Keys
// keep the dict's order, items are separated by ",\n" and keys from
// values by ": ", empty containers are {} and [], floats are their repr
// (NaN, Infinity and -Infinity for the special ones), and values JSON has
// no type for (bytes, datetimes) become the string of their Python repr.
func renderJSON(data any) (string, error) {
	var b strings.Builder
	if err := writeJSON(&b, data, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

const jsonIndent = 4

func writeJSON(b *strings.Builder, v any, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	if s, ok := intString(v); ok {
		b.WriteString(s)
		return nil
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case float64:
		switch s := pyfmt.Repr(v); s {
		case "nan":
			b.WriteString("NaN")
		case "inf":
			b.WriteString("Infinity")
		case "-inf":
			b.WriteString("-Infinity")
		default:
			b.WriteString(s)
		}
	case string:
		writeJSONString(b, v)
	case []byte:
		writeJSONString(b, pyfmt.Repr(v))
	case time.Time:
		writeJSONString(b, pyfmt.Repr(v))
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			jsonNewline(b, depth+1)
			if err := writeJSON(b, e, depth+1); err != nil {
				return err
			}
		}
		jsonNewline(b, depth)
		b.WriteByte(']')
	case map[string]any, wire.Map:
		fs, _ := fields(v)
		if len(fs) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, f := range fs {
			if i > 0 {
				b.WriteByte(',')
			}
			jsonNewline(b, depth+1)
			writeJSONString(b, f.Key)
			b.WriteString(": ")
			if err := writeJSON(b, f.Value, depth+1); err != nil {
				return err
			}
		}
		jsonNewline(b, depth)
		b.WriteByte('}')
	default:
		return unsupported(v)
	}
	return nil
}

func jsonNewline(b *strings.Builder, depth int) {
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", depth*jsonIndent))
}

// writeJSONString writes s as Python's json module does with
// ensure_ascii=False: the quote, the backslash and the five named controls
// get their short escapes, other characters below U+0020 are \u00XX in
// lower case, and everything else, DEL and non-ASCII included, is written
// as it is.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[r>>4])
				b.WriteByte(hex[r&0xf])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

package output

import (
	"strings"

	"github.com/brine-project/brine/internal/pyfmt"
)

// renderTxt is salt/output/txt.py: for each minion, each line of a string
// (or bytes) return as "id: line", and any other return as "id: " and its
// str(). An empty string has no lines and prints nothing.
func renderTxt(data any) (string, error) {
	var b strings.Builder
	fs, ok := fields(data)
	if !ok {
		return pyStr(data) // not a return set: txt.py prints str(data)
	}
	for _, f := range fs {
		switch v := f.Value.(type) {
		case string:
			for _, l := range pySplitlines(v) {
				b.WriteString(f.Key + ": " + l + "\n")
			}
		case []byte:
			// bytes.splitlines() yields bytes, which format as b'...'.
			for _, l := range pyBytesSplitlines(v) {
				b.WriteString(f.Key + ": " + pyfmt.Repr(l) + "\n")
			}
		default:
			s, err := pyStr(v)
			if err != nil {
				return "", err
			}
			b.WriteString(f.Key + ": " + s + "\n")
		}
	}
	return b.String(), nil
}

// renderRaw is salt/output/raw.py: str(data), the Python repr of the whole
// return set.
func renderRaw(data any) (string, error) {
	return pyStr(data)
}

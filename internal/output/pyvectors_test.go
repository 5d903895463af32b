package output

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/brine-project/brine/internal/pyvectors"
	"github.com/brine-project/brine/transport/wire"
)

// pyCase is one case of testdata/pyvectors.json, made by
// testdata/gen_pyvectors.py from what Python and PyYAML print.
type pyCase struct {
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
	JSON string          `json:"json"`
	YAML string          `json:"yaml"`
	Raw  string          `json:"raw"`
	Txt  string          `json:"txt"`
}

// TestPythonVectors checks json, yaml, raw and txt against what Python's
// json, PyYAML (with libyaml) and str() print for the same return sets.
func TestPythonVectors(t *testing.T) {
	for _, c := range pyvectors.Load[[]pyCase](t, "testdata/pyvectors.json") {
		t.Run(c.Name, func(t *testing.T) {
			m := pyvectors.Decoder{}.Decode(t, c.Data).(wire.Map)
			data := make(map[string]any, len(m))
			for _, f := range m {
				data[f.Key] = f.Value
			}
			for _, o := range []struct{ name, want string }{
				{"json", c.JSON}, {"yaml", c.YAML}, {"raw", c.Raw}, {"txt", c.Txt},
			} {
				p, err := New(o.name, Options{})
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				if err := p.Print(&got, data); err != nil {
					t.Fatalf("%s: %v", o.name, err)
				}
				if got.String() != o.want {
					t.Errorf("%s:\ngot:\n%s\nwant:\n%s", o.name, got.String(), o.want)
				}
			}
		})
	}
}

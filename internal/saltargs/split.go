package saltargs

import "github.com/brine-project/brine/transport/wire"

// Split separates an arg list (as Parse makes it, or as a publication
// carries it) into positional values and keyword arguments: the entries of
// the maps marked "__kwarg__": true.
func Split(arg []any) (pos []any, kw map[string]any) {
	kw = map[string]any{}
	for _, a := range arg {
		switch m := a.(type) {
		case wire.Map:
			if v, _ := m.Get("__kwarg__"); v == true {
				for _, f := range m {
					if f.Key != "__kwarg__" {
						kw[f.Key] = f.Value
					}
				}
				continue
			}
		case map[string]any:
			if m["__kwarg__"] == true {
				for k, v := range m {
					if k != "__kwarg__" {
						kw[k] = v
					}
				}
				continue
			}
		}
		pos = append(pos, a)
	}
	return pos, kw
}

// Package output prints minion returns the way Salt 3006's CLI does, byte
// for byte: the outputters of salt/output (nested, json, yaml, txt, raw,
// quiet and no_return) and what salt.output.display_output does with their
// text.
//
// The CLI hands an Outputter one return set at a time: {id: return} as
// each minion's return arrives, or every return at once under --static.
// The values are those transport/wire decodes. Salt sees a decoded return
// as a plain Python dict, so:
//
//   - nested, yaml and no_return sort map keys (Salt sorts plain dicts);
//   - json, raw and txt keep a dict's order: a wire.Map's own order (the
//     order the minion sent), and sorted keys for a map[string]any, whose
//     order Go does not keep. The return set itself is a map[string]any,
//     so minions always come in id order; Salt would print them in the
//     order they arrived, which no two runs share anyway.
//
// Where Python formats a value itself (str() and repr(), which package
// pyfmt prints; json.dumps; str.splitlines; str.rstrip) this package does
// what Python does, not what Go's libraries would. The YAML is what
// PyYAML's C emitter (libyaml 0.2.5) writes, because Salt's dumper is
// built on CSafeDumper wherever PyYAML has libyaml, as Salt's own packages
// do; PyYAML's pure-Python emitter differs in a few places (characters
// beyond U+FFFF, empty and long keys, folding of double-quoted lines).
// testdata/pyvectors.json holds what Python prints for a few hundred
// return sets, and the tests compare against it.
//
// Colours are Salt's palette (salt/utils/color.py) and appear only when
// Options.Color is set; nested and no_return are the only outputters that
// use them.
package output

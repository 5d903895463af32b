// Package pydata is what the execution modules share of Python's and Salt's
// value semantics: truthiness, int(), ==, str() and repr() of the values a
// publication carries, salt.utils.data's traversal and filter_by,
// salt.utils.dictupdate, and the texts Salt's minion returns when a
// function raises.
//
// Values are those of transport/wire: nil, bool, int64 (int), uint64,
// float64, string, []byte, []any, map[string]any and wire.Map (a map that
// keeps Salt's order), time.Time. Every function is safe for concurrent use
// and none modifies its arguments unless its name says it updates.
package pydata

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/transport/wire"
)

// Map returns v as a map[string]any when it is a dict (a wire.Map is
// copied into one, its order lost).
func Map(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case wire.Map:
		out := make(map[string]any, len(m))
		for _, f := range m {
			out[f.Key] = f.Value
		}
		return out, true
	}
	return nil, false
}

// IsMap reports whether v is a dict.
func IsMap(v any) bool {
	_, ok := Map(v)
	return ok
}

// Keys returns the keys of dict v in Python's iteration order where v
// keeps one (wire.Map), else sorted.
func Keys(v any) []string {
	switch m := v.(type) {
	case wire.Map:
		return m.Keys()
	case map[string]any:
		return slices.Sorted(maps.Keys(m))
	}
	return nil
}

// List returns v as a []any when it is a list.
func List(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// Plain returns v with every wire.Map, at any depth, turned into a
// map[string]any, and every list and map copied: a value a function may
// change without touching the one it was given.
func Plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Plain(e)
		}
		return out
	case wire.Map:
		out := make(map[string]any, len(x))
		for _, f := range x {
			out[f.Key] = Plain(f.Value)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	case []string:
		l, _ := List(x)
		return l
	case []byte:
		return slices.Clone(x)
	}
	return v
}

// Truthy is Python's bool(v).
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case int:
		return x != 0
	case uint64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []byte:
		return len(x) > 0
	case []any:
		return len(x) > 0
	case []string:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case wire.Map:
		return len(x) > 0
	}
	return true
}

// IsTrue is salt.utils.data.is_true: a number (or a string int() or
// float() reads) is true above 0, another string only if it is "true" in
// any case, anything else as Python's bool().
func IsTrue(v any) bool {
	switch x := v.(type) {
	case int64:
		return x > 0
	case int:
		return x > 0
	case uint64:
		return x > 0
	case float64:
		return x > 0
	case string:
		// Python's float() reads what ParseFloat does, hexadecimal aside.
		t := strings.TrimSpace(x)
		if f, err := strconv.ParseFloat(t, 64); err == nil && !strings.Contains(strings.ToLower(t), "0x") {
			return f > 0
		}
		return strings.EqualFold(x, "true")
	}
	return Truthy(v)
}

// Int is Python's int(v): integers as they are, floats truncated, bools as
// 0 and 1, strings parsed as base-10 integers (surrounding blanks and "_"
// between digits allowed). Its error is Python's ValueError or TypeError
// text.
func Int(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, &Exception{Kind: "OverflowError", Msg: "Python int too large to convert to C long"}
		}
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case float64:
		if math.IsNaN(x) {
			return 0, &Exception{Kind: "ValueError", Msg: "cannot convert float NaN to integer"}
		}
		if math.IsInf(x, 0) {
			return 0, &Exception{Kind: "OverflowError", Msg: "cannot convert float infinity to integer"}
		}
		return int64(x), nil
	case string:
		s := strings.TrimSpace(x)
		if s != "" && !strings.HasPrefix(s, "_") && !strings.HasSuffix(s, "_") && !strings.Contains(s, "__") {
			if n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64); err == nil {
				return n, nil
			}
		}
		return 0, &Exception{Kind: "ValueError", Msg: "invalid literal for int() with base 10: " + Repr(x)}
	}
	return 0, &Exception{Kind: "TypeError", Msg: fmt.Sprintf("int() argument must be a string, a bytes-like object or a real number, not '%s'", TypeName(v))}
}

// IsNumber reports whether v is a Python int or float (bool included, as
// isinstance(v, (int, float)) has it).
func IsNumber(v any) bool {
	switch v.(type) {
	case int64, int, uint64, float64, bool:
		return true
	}
	return false
}

// number returns v as a float64 when it is a Python number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Equal is Python's a == b for these values: numbers compare by value
// (True == 1 == 1.0), lists item by item, dicts by their items.
func Equal(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		if !ok {
			return false
		}
		// Integers beyond float64's precision compare exactly.
		if ia, ok := a.(int64); ok {
			if ib, ok := b.(int64); ok {
				return ia == ib
			}
		}
		return x == y
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	if la, ok := List(a); ok {
		lb, ok := List(b)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !Equal(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	if ma, ok := Map(a); ok {
		mb, ok := Map(b)
		if !ok || len(ma) != len(mb) {
			return false
		}
		for k, v := range ma {
			w, ok := mb[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// Contains is Python's v in l for a list l.
func Contains(l []any, v any) bool {
	return slices.ContainsFunc(l, func(x any) bool { return Equal(x, v) })
}

// TypeName is the name of v's Python type.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int, uint64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case []any, []string:
		return "list"
	case map[string]any, wire.Map:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// CleanKwargs is salt.utils.args.clean_kwargs: the keyword arguments
// without the ones whose names start with "__" (Salt's __pub_* and the
// like).
func CleanKwargs(kw map[string]any) map[string]any {
	out := make(map[string]any, len(kw))
	for k, v := range kw {
		if !strings.HasPrefix(k, "__") {
			out[k] = v
		}
	}
	return out
}

// InvalidKwargs is the text of salt.utils.args.invalid_kwargs for kw.
func InvalidKwargs(kw map[string]any) string {
	parts := make([]string, 0, len(kw))
	for _, k := range slices.Sorted(maps.Keys(kw)) {
		parts = append(parts, k+"="+Str(kw[k]))
	}
	return "The following keyword arguments are not valid: " + strings.Join(parts, ", ")
}

// Exception is a Python exception a function raises: Kind is its class
// ("ValueError", "salt.exceptions.SaltException"), Msg its message.
type Exception struct{ Kind, Msg string }

func (e *Exception) Error() string { return e.Msg }

// Errorf returns an Exception of class kind.
func Errorf(kind, format string, args ...any) error {
	return &Exception{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// RaiseErr is Raise for err: an Exception raises its class, any other
// error a plain Exception.
func RaiseErr(c *modules.Call, err error) (any, error) {
	var e *Exception
	if errors.As(err, &e) {
		if e.Kind == "KeyError" {
			return RaiseKeyError(c, e.Msg)
		}
		return Raise(c, e.Kind, e.Msg)
	}
	return Raise(c, "Exception", err.Error())
}

// Raise makes c return what Salt's minion returns when the function raises
// an exception of Python class kind (say "Exception", "ValueError",
// "salt.exceptions.SaltException") with message msg: the text below as the
// return and retcode 1 (EX_GENERIC). The traceback has only its last line:
// there is no Python stack to show.
func Raise(c *modules.Call, kind, msg string) (any, error) {
	c.Retcode = 1
	last := kind
	if msg != "" {
		last += ": " + msg
	}
	return "The minion function caused an exception: Traceback (most recent call last):\n" +
		"  (raised by Brine, which runs no Python: there is no stack to show)\n" + last + "\n", nil
}

// RaiseKeyError is Raise for a KeyError, whose message Python shows
// quoted.
func RaiseKeyError(c *modules.Call, msg string) (any, error) {
	return Raise(c, "KeyError", Repr(msg))
}

// InvocationError makes c return what Salt's minion returns for a
// SaltInvocationError: "ERROR executing 'fun': msg", retcode 1.
func InvocationError(c *modules.Call, msg string) (any, error) {
	c.Retcode = 1
	return fmt.Sprintf("ERROR executing '%s': %s", c.Fun, msg), nil
}

// isPrintable is Python's str.isprintable() for one character.
func isPrintable(r rune) bool {
	if r == ' ' {
		return true
	}
	return unicode.IsPrint(r) && !unicode.Is(unicode.Zs, r)
}

// CommandExecutionError is Salt's CommandExecutionError, which the minion
// returns as "ERROR: <text>". Its texts are Salt's, capital letters and
// full stops included, hence a type of its own rather than errors.New.
type CommandExecutionError string

func (e CommandExecutionError) Error() string { return string(e) }

// CommandErrorf returns a CommandExecutionError.
func CommandErrorf(format string, args ...any) error {
	return CommandExecutionError(fmt.Sprintf(format, args...))
}

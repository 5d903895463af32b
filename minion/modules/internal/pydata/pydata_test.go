package pydata

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/transport/wire"
)

// The expected texts are what CPython 3.10 prints.
func TestRepr(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"none", nil, "None"},
		{"bools", []any{true, false}, "[True, False]"},
		{"ints", []any{int64(-3), 7, uint64(math.MaxUint64)}, "[-3, 7, 18446744073709551615]"},
		{"float integral", 1.0, "1.0"},
		{"float", 3.1, "3.1"},
		{"float negative zero", math.Copysign(0, -1), "-0.0"},
		{"float big", 1e16, "1e+16"},
		{"float below big", 123456789012345.0, "123456789012345.0"},
		{"float small", 1.5e-05, "1.5e-05"},
		{"float small positional", 0.0001, "0.0001"},
		{"float inf", math.Inf(1), "inf"},
		{"float nan", math.NaN(), "nan"},
		{"str", "two", "'two'"},
		{"str with single quote", "it's", `"it's"`},
		{"str with both quotes", `it's "x"`, `'it\'s "x"'`},
		{"str escapes", "a\x00\n\t\\\x7f", `'a\x00\n\t\\\x7f'`},
		{"str unicode", "é€😀", "'é€😀'"},
		{"str unprintable unicode", "\u00a0\u200b\U000e0001", `'\xa0\u200b\U000e0001'`},
		{"bytes", []byte("a'\x00\xff"), `b"a'\x00\xff"`},
		{"tuple", Tuple{int64(1), "two", 3.1}, "(1, 'two', 3.1)"},
		{"tuple of one", Tuple{int64(1)}, "(1,)"},
		{"empty tuple", Tuple{}, "()"},
		{"dict sorted", map[string]any{"b": []any{nil}, "a": int64(1)}, "{'a': 1, 'b': [None]}"},
		{"dict in order", wire.Map{{Key: "b", Value: true}, {Key: "a", Value: map[string]any{}}}, "{'b': True, 'a': {}}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Repr(tc.v); got != tc.want {
				t.Fatalf("Repr(%#v) = %s, want %s", tc.v, got, tc.want)
			}
		})
	}
	if Str("x") != "x" || Str(int64(1)) != "1" || Str([]any{"x"}) != "['x']" {
		t.Fatal("Str is str()")
	}
}

func TestInt(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want int64
		err  string
	}{
		{"int", int64(42), 42, ""},
		{"float truncates", -2.9, -2, ""},
		{"bool", true, 1, ""},
		{"string", " 12 ", 12, ""},
		{"string with underscores", "1_000", 1000, ""},
		{"float string", "1.5", 0, "ValueError: invalid literal for int() with base 10: '1.5'"},
		{"word", "abc", 0, "ValueError: invalid literal for int() with base 10: 'abc'"},
		{"none", nil, 0, "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"},
		{"list", []any{}, 0, "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'list'"},
		{"infinity", math.Inf(1), 0, "OverflowError: cannot convert float infinity to integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Int(tc.v)
			if tc.err != "" {
				e, ok := err.(*Exception)
				if !ok || e.Kind+": "+e.Msg != tc.err {
					t.Fatalf("Int(%#v) error = %v, want %s", tc.v, err, tc.err)
				}
				return
			}
			if err != nil || n != tc.want {
				t.Fatalf("Int(%#v) = %d, %v; want %d", tc.v, n, err, tc.want)
			}
		})
	}
}

func TestEqualTruthy(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b any
		want bool
	}{
		{"int float", int64(1), 1.0, true},
		{"bool int", true, int64(1), true},
		{"str int", "1", int64(1), false},
		{"lists", []any{"a", int64(1)}, []string{"a"}, false},
		{"same lists", []any{"a", []any{nil}}, []any{"a", []any{nil}}, true},
		{"maps across kinds", map[string]any{"a": int64(1)}, wire.Map{{Key: "a", Value: 1.0}}, true},
		{"maps differ", map[string]any{"a": int64(1)}, map[string]any{"a": int64(2)}, false},
		{"none", nil, nil, true},
		{"none and false", nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Equal(tc.a, tc.b); got != tc.want {
				t.Fatalf("Equal(%#v, %#v) = %v", tc.a, tc.b, got)
			}
		})
	}
	for v, want := range map[any]bool{nil: false, "": false, "0": true, int64(0): false, 0.5: true, false: false} {
		if Truthy(v) != want {
			t.Errorf("Truthy(%#v) != %v", v, want)
		}
	}
	if Truthy([]any{}) || !Truthy(map[string]any{"a": nil}) || Truthy(wire.Map{}) {
		t.Error("Truthy of containers is their length")
	}
	for v, want := range map[any]bool{
		"True": true, "yes": false, "1": true, "0": false, int64(2): true, nil: false,
		int64(-1): false, -0.5: false, "-1": false, "1.5": true, " 2 ": true, "0x10": false, false: false, true: true,
	} {
		if IsTrue(v) != want {
			t.Errorf("IsTrue(%#v) != %v", v, want)
		}
	}
	if !IsTrue([]any{int64(0)}) || IsTrue(map[string]any{}) {
		t.Error("IsTrue of containers is their truth")
	}
}

func TestTraverse(t *testing.T) {
	data := map[string]any{
		"pkg":   map[string]any{"apache": "httpd", "list": []any{map[string]any{"c": int64(1)}, "x"}},
		"a:b":   "colon",
		"str":   "text",
		"'q'":   "quoted key",
		"plain": "unquoted",
	}
	for _, tc := range []struct {
		name, key, delim string
		want             any
	}{
		{"nested", "pkg:apache", ":", "httpd"},
		{"list index", "pkg:list:1", ":", "x"},
		{"negative index", "pkg:list:-1", ":", "x"},
		{"index out of range", "pkg:list:2", ":", "DEF"},
		{"dict inside list", "pkg:list:c", ":", int64(1)},
		{"not in any dict of the list", "pkg:list:d", ":", "DEF"},
		{"under a string", "str:0", ":", "DEF"},
		{"missing", "pkg:nginx", ":", "DEF"},
		{"other delimiter", "a:b", "|", "colon"},
		{"quoted key found as is", "'q'", ":", "quoted key"},
		{"quoted key unquoted", "'plain'", ":", "unquoted"},
		{"whole", "pkg", ":", data["pkg"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Traverse(data, tc.key, tc.delim, "DEF"); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Traverse(%q) = %#v, want %#v", tc.key, got, tc.want)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	dest := map[string]any{"a": map[string]any{"x": int64(1), "l": []any{"p"}}, "b": "old"}
	got := Update(dest, map[string]any{"a": map[string]any{"y": int64(2), "l": []any{"p", "q"}}, "b": "new"}, true)
	want := map[string]any{"a": map[string]any{"x": int64(1), "y": int64(2), "l": []any{"p", "q"}}, "b": "new"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Update with merge_lists = %#v", got)
	}
	got = Update(map[string]any{"l": []any{"p"}}, map[string]any{"l": []any{"q"}}, false)
	if !reflect.DeepEqual(got, map[string]any{"l": []any{"q"}}) {
		t.Fatalf("Update without merge_lists replaces lists: %#v", got)
	}
}

// The cases of grains.filter_by's documentation, with the results it
// states.
func TestFilterBy(t *testing.T) {
	grains := map[string]any{"os_family": "Debian", "id": "salt-minion-1", "roles": []any{"db", "web"}}
	abc := map[string]any{"A": "B", "C": map[string]any{"D": map[string]any{"E": "F", "G": "H"}}}
	deflt := map[string]any{"default": map[string]any{"A": map[string]any{"B": "C"}, "D": "E"},
		"F": map[string]any{"A": map[string]any{"B": "G"}}, "H": map[string]any{"D": "I"}}
	for _, tc := range []struct {
		name      string
		lookup    any
		key       string
		merge     any
		def, base string
		want      any
		err       string
	}{
		{"by os_family", map[string]any{"Debian": "Debheads rule", "RedHat": "I love my hat"}, "os_family", nil, "default", "", "Debheads rule", ""},
		{"glob key", map[string]any{"salt*": "got some salt", "default": "salt is not here"}, "id", nil, "default", "", "got some salt", ""},
		{"exact before glob", map[string]any{"s*": "glob", "salt-minion-1": "exact"}, "id", nil, "default", "", "exact", ""},
		{"ordered keys keep their order", wire.Map{{Key: "s*", Value: "glob"}, {Key: "salt-minion-1", Value: "exact"}}, "id", nil, "default", "", "glob", ""},
		{"list grain", map[string]any{"web": "www", "mail": "smtp"}, "roles", nil, "default", "", "www", ""},
		{"default and merge", abc, "xxx", map[string]any{"D": map[string]any{"E": "I"}, "J": "K"}, "C", "",
			map[string]any{"D": map[string]any{"E": "I", "G": "H"}, "J": "K"}, ""},
		{"base", deflt, "xxx", map[string]any{"D": "J"}, "F", "default",
			map[string]any{"A": map[string]any{"B": "G"}, "D": "J"}, ""},
		{"base with another default", deflt, "xxx", map[string]any{"D": "J"}, "H", "default",
			map[string]any{"A": map[string]any{"B": "C"}, "D": "J"}, ""},
		{"nothing", map[string]any{"RedHat": "x"}, "os_family", nil, "default", "", nil, ""},
		{"merge not a dict", map[string]any{"Debian": map[string]any{}}, "os_family", "str", "default", "", nil, "filter_by merge argument must be a dictionary."},
		{"base and value of different kinds", map[string]any{"Debian": "x", "b": map[string]any{}}, "os_family", nil, "default", "b", nil,
			"filter_by default and look-up values must both be dictionaries."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FilterBy(tc.lookup, tc.key, grains, tc.merge, tc.def, tc.base)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("FilterBy = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestRaise(t *testing.T) {
	c := &modules.Call{Fun: "test.exception"}
	ret, err := RaiseErr(c, Errorf("KeyError", "Pillar key not found: x"))
	s, _ := ret.(string)
	if err != nil || c.Retcode != 1 || !strings.HasPrefix(s, "The minion function caused an exception: Traceback (most recent call last):\n") ||
		!strings.HasSuffix(s, "\nKeyError: 'Pillar key not found: x'\n") {
		t.Fatalf("RaiseErr = %q, %v, retcode %d", s, err, c.Retcode)
	}
	c = &modules.Call{Fun: "saltutil.refresh_grains"}
	if ret, _ := InvocationError(c, InvalidKwargs(map[string]any{"foo": "bar", "n": int64(1)})); ret != "ERROR executing 'saltutil.refresh_grains': The following keyword arguments are not valid: foo=bar, n=1" || c.Retcode != 1 {
		t.Fatalf("InvocationError = %q", ret)
	}
	if kw := CleanKwargs(map[string]any{"__pub_jid": "1", "a": int64(1)}); len(kw) != 1 || kw["a"] != int64(1) {
		t.Fatalf("CleanKwargs = %v", kw)
	}
}

package target

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/internal/fnmatch"
)

// fuzzTypes are the tgt_types FuzzCompile picks from.
var fuzzTypes = []string{"compound", "glob", "list", "pcre", "grain", "grain_pcre", "pillar", "pillar_pcre", "pillar_exact", "ipcidr", "nodegroup", "compound_pillar_exact"}

// fuzzData are the minions a fuzzed target is matched against: the real
// one, one that knows nothing, and one with awkward data.
func fuzzData(t testing.TB) []Data {
	deep := map[string]any{}
	cur := deep
	for range 12 {
		next := map[string]any{"a": "x"}
		cur["a"] = next
		cur = next
	}
	return []Data{
		{ID: minionID, Grains: loadGrains(t), Pillar: map[string]any{"role": "db", "users": []any{"a", map[string]any{"b": nil}}}},
		{ID: ""},
		{ID: "web1,web2", Grains: map[string]any{}, Pillar: map[string]any{}},
		{ID: "x", Grains: map[string]any{"a": deep, "ipv4": []any{"bogus"}, "ipv6": "fd00::1", "f": 1.5, "b": []byte{0xff}},
			Pillar: map[string]any{"a": []any{[]any{nil, true}, map[string]any{}}}},
	}
}

func FuzzCompile(f *testing.F) {
	for _, tc := range compoundCases(f) {
		if s, ok := tc.tgt.(string); ok {
			f.Add(s, uint8(0), false)
		}
	}
	for _, tc := range compoundErrorCases() {
		if s, ok := tc.tgt.(string); ok {
			f.Add(s, uint8(0), true)
		}
	}
	for i, typ := range fuzzTypes {
		for _, tc := range append(append(grainCases(f), ipcidrCases(f)...), pcreCases()...) {
			if s, ok := tc.tgt.(string); ok && tc.typ == typ {
				f.Add(s, uint8(i), false)
			}
		}
	}
	f.Add("group3", uint8(10), false)
	f.Add("*:*:*:*:*:x", uint8(4), true)
	f.Add("a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:x", uint8(4), false)
	datas := fuzzData(f)
	f.Fuzz(func(t *testing.T, tgt string, typ uint8, greedy bool) {
		tgtType := fuzzTypes[int(typ)%len(fuzzTypes)]
		m, err := Compile(tgt, tgtType, Options{Nodegroups: nodegroups, Greedy: greedy})
		if err != nil {
			var te *Error
			if m != nil || !errors.As(err, &te) || !strings.HasPrefix(err.Error(), "target: ") {
				t.Fatalf("Compile(%q, %s) = %v, %v: want a nil Matcher and a *target.Error", tgt, tgtType, m, err)
			}
			return
		}
		for _, d := range datas {
			if a, b := m.Match(d), m.Match(d); a != b {
				t.Fatalf("Compile(%q, %s).Match(%q) is not deterministic", tgt, tgtType, d.ID)
			}
		}
	})
}

// FuzzMatchGlob checks glob targets against fnmatch, and a compound of one
// plain glob word against the glob.
func FuzzMatchGlob(f *testing.F) {
	for _, tc := range globCases() {
		if s, ok := tc.tgt.(string); ok {
			f.Add(s, tc.d.ID)
		}
	}
	f.Add("[!a-]*", "-x")
	f.Add("*[", "a[")
	f.Fuzz(func(t *testing.T, pattern, id string) {
		got, err := Match(pattern, "glob", Data{ID: id}, Options{})
		if err != nil {
			t.Fatalf("Match(%q, glob): %v", pattern, err)
		}
		if want := fnmatch.Match(pattern, id); got != want {
			t.Fatalf("Match(%q, glob, %q) = %v, fnmatch says %v", pattern, id, got, want)
		}
		if len(strings.FieldsFunc(pattern, isPySpace)) != 1 || strings.FieldsFunc(pattern, isPySpace)[0] != pattern {
			return
		}
		if _, isOp := operator(pattern); isOp {
			return
		}
		if e, _, _ := parseWord(pattern); e != 0 || strings.HasPrefix(pattern, "(") || strings.HasSuffix(pattern, ")") ||
			len(pattern) >= 2 && isUpper(pattern[0]) && pattern[1] == '@' {
			return
		}
		if c, err := Match(pattern, "compound", Data{ID: id}, Options{}); err != nil || c != got {
			t.Fatalf("Match(%q, compound, %q) = %v, %v; the glob gives %v", pattern, id, c, err, got)
		}
	})
}

// longInputs are large hostile targets, n bytes or so each.
func longInputs(n int) []struct{ name, tgt, typ string } {
	return []struct{ name, tgt, typ string }{
		{"many nodegroups", strings.Repeat("N@group3 or ", n/12) + "x", "compound"},
		{"many small nodegroups", strings.Repeat("N@hosts or ", n/11) + "x", "compound"},
		{"many words", strings.Repeat("web* or ", n/8) + "x", "compound"},
		{"many parens", strings.Repeat("( ", n/2) + "x" + strings.Repeat(" )", n/2), "compound"},
		{"many nots", strings.Repeat("not ", n/4) + "x", "compound"},
		{"long glob", strings.Repeat("*a", n/2) + "b", "glob"},
		{"long list", strings.Repeat("web1,", n/5), "list"},
		{"many colons", "a" + strings.Repeat(":", n), "grain"},
		{"long grain value", "os:" + strings.Repeat("*D", n/2), "grain"},
		{"long regex", "os:" + strings.Repeat("(a|b)*", n/6), "grain_pcre"},
		{"unbalanced regex", "P@a" + strings.Repeat(":(", 60), "compound"},
		{"many grain words", strings.Repeat("G@a:b:c:d:e:f:g and ", n/20) + "x", "compound"},
	}
}

// TestCompileLongInputs compiles and matches large hostile targets: they
// must not panic, and quadratic or exponential behaviour would blow the
// test's deadline. BenchmarkCompileLongInputs measures the cost.
func TestCompileLongInputs(t *testing.T) {
	datas := fuzzData(t)
	for _, tc := range longInputs(1 << 16) {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Compile(tc.tgt, tc.typ, Options{Nodegroups: nodegroups})
			if err == nil {
				for _, d := range datas {
					m.Match(d)
				}
			}
		})
	}
}

// BenchmarkCompileLongInputs is the cost of Compile and Match on 256 KiB
// hostile targets; it should grow linearly with the size.
func BenchmarkCompileLongInputs(b *testing.B) {
	datas := fuzzData(b)
	for _, tc := range longInputs(1 << 18) {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				m, err := Compile(tc.tgt, tc.typ, Options{Nodegroups: nodegroups})
				if err == nil {
					for _, d := range datas {
						m.Match(d)
					}
				}
			}
		})
	}
}

// TestDeepDataIsBounded matches a grain target against data nested so
// that Salt's algorithm takes exponential time: the step bound makes it
// fail instead.
func TestDeepDataIsBounded(t *testing.T) {
	deep := map[string]any{}
	cur := deep
	for range 60 {
		next := map[string]any{}
		cur["a"] = next
		cur = next
	}
	cur["a"] = "y"
	tgt := strings.Repeat("a:", 60) + "x"
	start := time.Now()
	ok, err := Match(tgt, "grain", Data{ID: "m", Grains: deep}, Options{})
	if err != nil || ok {
		t.Fatalf("Match = %v, %v", ok, err)
	}
	if ok, _ := Match("not G@"+tgt, "compound", Data{ID: "m", Grains: deep}, Options{}); ok {
		t.Fatal("a test that ran out of steps made \"not\" match")
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("took %v", el)
	}
}

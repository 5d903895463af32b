package target

import (
	"strings"
	"testing"
)

// benchCases are targets as a master matches them against each minion and
// a minion against each publication.
var benchCases = []struct {
	name, tgt, typ string
}{
	{"glob", "web*.example.net", "glob"},
	{"glob_star", "*", "glob"},
	{"list", "web1,web2,web3,real-minion-1,db1", "list"},
	{"pcre", `real-\w+-\d`, "pcre"},
	{"grain", "os:Debian", "grain"},
	{"grain_nested", "locale_info:timezone:UTC", "grain"},
	{"grain_list", "cpu_flags:avx512*", "grain"},
	{"grain_int", "num_cpus:2", "grain"},
	{"grain_pcre", `os:deb\w+`, "grain_pcre"},
	{"ipcidr", "192.0.2.0/24", "ipcidr"},
	{"compound_globs", "web* or db* or ( real-* and not *-2 )", "compound"},
	{"compound_mixed", "G@os:Debian and ( web* or L@real-minion-1,x ) and not E@db.*", "compound"},
}

func BenchmarkMatch(b *testing.B) {
	d := Data{ID: minionID, Grains: loadGrains(b)}
	for _, bc := range benchCases {
		m, err := Compile(bc.tgt, bc.typ, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(d)
			}
		})
	}
}

// BenchmarkMasterFanout is the master's expected-minions pass: one target
// against many minions.
func BenchmarkMasterFanout(b *testing.B) {
	g := loadGrains(b)
	ds := make([]Data, 1000)
	for i := range ds {
		ds[i] = Data{ID: "web" + strings.Repeat("x", i%7) + ".example.net", Grains: g}
	}
	m, err := Compile("web* and G@os:Debian and not G@virtual:physical", "compound", Options{Greedy: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range ds {
			m.Match(ds[i])
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compile(bc.tgt, bc.typ, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMatchDoesNotAllocate pins what the benchmarks show: matching runs per
// publication per minion and must not allocate.
func TestMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	d := Data{ID: minionID, Grains: loadGrains(t)}
	for _, bc := range benchCases {
		m, err := Compile(bc.tgt, bc.typ, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { m.Match(d) }); n != 0 {
			t.Errorf("%s: Match allocates %v times", bc.name, n)
		}
	}
}

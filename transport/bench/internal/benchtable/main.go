// Command benchtable reads the output of
//
//	go test -run '^$' -bench . ./transport/bench/
//
// on its standard input and prints each figure of the suite as a row
// "figure | brine | zmq4 | ratio", then whether the suite's goals are met.
// A figure is a benchmark name without its /impl=... element and GOMAXPROCS
// suffix, plus one custom metric unit (msgs/s, rt/s, replies/s, p50-µs,
// p99-µs); the testing package's own units (ns/op, B/op, allocs/op, MB/s)
// are left out. With -count above 1 the median of the runs is shown.
//
// ratio is how many times better brine is: brine/zmq4 for rates (units
// ending in /s), zmq4/brine for latencies, so above 1 always favours brine.
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	t, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(t.rows) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results with custom metrics in the input")
		os.Exit(1)
	}
	t.print(os.Stdout)
}

// standard units are the testing package's, not figures of the suite.
var standard = map[string]bool{"ns/op": true, "B/op": true, "allocs/op": true, "MB/s": true, "capped": true}

var procSuffix = regexp.MustCompile(`-\d+$`)

type key struct{ figure, unit string }

type table struct {
	rows   []key                        // in order of first appearance
	values map[key]map[string][]float64 // impl → values
	capped map[key]map[string]bool
}

func parse(r io.Reader) (*table, error) {
	t := &table{values: map[key]map[string][]float64{}, capped: map[key]map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // not a result line
		}
		figure, impl := split(procSuffix.ReplaceAllString(f[0], ""))
		metrics := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			metrics[f[i+1]] = v
		}
		for unit, v := range metrics {
			if standard[unit] {
				continue
			}
			k := key{figure, unit}
			if t.values[k] == nil {
				t.rows = append(t.rows, k)
				t.values[k] = map[string][]float64{}
				t.capped[k] = map[string]bool{}
			}
			t.values[k][impl] = append(t.values[k][impl], v)
			if metrics["capped"] > 0 {
				t.capped[k][impl] = true
			}
		}
	}
	// Within a figure keep the units in a stable order: rates, then p50, p99.
	slices.SortStableFunc(t.rows, func(a, b key) int {
		if a.figure != b.figure {
			return 0
		}
		return unitRank(a.unit) - unitRank(b.unit)
	})
	return t, sc.Err()
}

func unitRank(u string) int {
	switch {
	case strings.HasSuffix(u, "/s"):
		return 0
	case strings.HasPrefix(u, "p50"):
		return 1
	case strings.HasPrefix(u, "p99"):
		return 2
	}
	return 3
}

// split takes the impl=... element out of a benchmark name.
func split(name string) (figure, impl string) {
	parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
	var keep []string
	for _, p := range parts {
		if v, ok := strings.CutPrefix(p, "impl="); ok {
			impl = v
			continue
		}
		keep = append(keep, p)
	}
	return strings.Join(keep, "/"), impl
}

// value returns the median for impl, or NaN.
func (t *table) value(k key, impl string) float64 {
	vs := slices.Clone(t.values[k][impl])
	if len(vs) == 0 {
		return math.NaN()
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// ratio is brine's advantage: >1 favours brine.
func ratio(unit string, brine, zmq4 float64) float64 {
	if strings.HasSuffix(unit, "/s") {
		return brine / zmq4
	}
	return zmq4 / brine
}

func (t *table) print(w io.Writer) {
	header := []string{"figure", "brine", "zmq4", "ratio"}
	lines := [][]string{header}
	for _, k := range t.rows {
		b, z := t.value(k, "brine"), t.value(k, "zmq4")
		bs, zs := num(b, k.unit), num(z, k.unit)
		if t.capped[k]["brine"] {
			bs += " (capped)"
		}
		if t.capped[k]["zmq4"] {
			zs += " (capped)"
		}
		rs := "—"
		if !math.IsNaN(b) && !math.IsNaN(z) && b > 0 && z > 0 {
			rs = fmt.Sprintf("%.2f×", ratio(k.unit, b, z))
		}
		lines = append(lines, []string{k.figure + " " + k.unit, bs, zs, rs})
	}
	width := make([]int, len(header))
	for _, l := range lines {
		for i, c := range l {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for n, l := range lines {
		for i, c := range l {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i == 0 {
				fmt.Fprint(w, c+pad)
			} else {
				fmt.Fprint(w, " | "+pad+c)
			}
		}
		fmt.Fprintln(w)
		if n == 0 {
			for i := range header {
				if i > 0 {
					fmt.Fprint(w, "-|-")
				}
				fmt.Fprint(w, strings.Repeat("-", width[i]))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w, "ratio: how many times better brine is (brine/zmq4 for rates, zmq4/brine for latencies)")
	t.goals(w)
}

// goals prints the suite's goals and whether this run met them.
func (t *table) goals(w io.Writer) {
	check := func(what string, ok, known bool, got string) {
		verdict := "MET"
		switch {
		case !known:
			verdict, got = "NOT MEASURED", ""
		case !ok:
			verdict = "NOT MET"
		}
		fmt.Fprintf(w, "goal: %s: %s%s\n", what, verdict, got)
	}
	pp := key{"PushPull/size=100B", "msgs/s"}
	b, z := t.value(pp, "brine"), t.value(pp, "zmq4")
	r := b / z
	check("100 B PUSH→PULL throughput ≥ 10× zmq4's", r >= 10, !math.IsNaN(r), fmt.Sprintf(" (%.2f×)", r))
	rp := key{"RouterPeers/peers=10000", "replies/s"}
	b = t.value(rp, "brine")
	check("ROUTER at 10,000 peers ≥ 20,000 replies/s", b >= 20000, !math.IsNaN(b), " ("+num(b, "replies/s")+")")
}

// num formats v with about three significant digits.
func num(v float64, unit string) string {
	if math.IsNaN(v) {
		return "—"
	}
	if strings.HasSuffix(unit, "/s") {
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.3gM", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.3gk", v/1e3)
		}
		return fmt.Sprintf("%.3g", v)
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

package target

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// grainsWith returns the real minion's grains with some replaced.
func grainsWith(t testing.TB, kv ...any) map[string]any {
	g := loadGrains(t)
	for i := 0; i < len(kv); i += 2 {
		g[kv[i].(string)] = kv[i+1]
	}
	return g
}

func compoundCases(t testing.TB) []tcase {
	real := Data{ID: minionID, Grains: loadGrains(t)}
	centos := grainsWith(t, "os", "CentOS", "os_family", "RedHat")
	debian := loadGrains(t)
	id := func(id string, g map[string]any) Data { return Data{ID: id, Grains: g} }
	c := func(name, tgt string, d Data, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "compound", d: d, want: want}
	}
	pillar := Data{ID: "web1", Grains: debian, Pillar: map[string]any{
		"foo":     map[string]any{"bar": "foo:bar"},
		"gitrepo": "https://github.com:example/project.git",
		"pdata":   "foobar",
	}}
	// Precedence is checked with ids only: id "a" is matched by "a" alone.
	a := Data{ID: "a"}
	docs := "webserv* and G@os:Debian or E@web-dc1-srv.*"
	return []tcase{
		// compound.rst
		c("docs: webserv and Debian", docs, id("webserv1", debian), true),
		c("docs: webserv not Debian", docs, id("webserv1", centos), false),
		c("docs: the regex alone", docs, id("web-dc1-srv7", centos), true),
		c("docs: neither", docs, id("db1", debian), false),
		c("docs: leading not excludes", "not web-dc1-srv", id("web-dc1-srv", debian), false),
		c("docs: leading not includes", "not web-dc1-srv", id("db1", debian), true),
		c("docs: and not grain", "* and not G@kernel:Darwin", real, true),
		c("docs: and not id", "* and not web-dc1-srv", id("web-dc1-srv", debian), false),
		c("docs: parentheses ms-1", "( ms-1 or G@id:ms-3 ) and G@id:ms-3", id("ms-1", grainsWith(t, "id", "ms-1")), false),
		c("docs: parentheses ms-3", "( ms-1 or G@id:ms-3 ) and G@id:ms-3", id("ms-3", grainsWith(t, "id", "ms-3")), true),
		c("docs: list or glob, listed", "L@minion1.example.com,minion3.domain.com or bl*.domain.com", id("minion3.domain.com", nil), true),
		c("docs: list or glob, glob", "L@minion1.example.com,minion3.domain.com or bl*.domain.com", id("bl2.domain.com", nil), true),
		c("docs: list or glob, neither", "L@minion1.example.com,minion3.domain.com or bl*.domain.com", id("minion2.example.com", nil), false),
		c("docs: alternate delimiters", "J|@foo|bar|^foo:bar$ or J!@gitrepo!https://github.com:example/project.git", pillar, true),
		c("docs: alternate delimiter first half", "J|@foo|bar|^foo:bar$", pillar, true),
		c("docs: alternate delimiter second half", "J!@gitrepo!https://github.com:example/project.git", pillar, true),
		c("docs: G@", "G@os:Ubuntu", real, false),
		c("docs: E@", `E@web\d+\.(dev|qa|prod)\.loc`, id("web12.prod.loc", nil), true),
		c("docs: P@", "P@os:(RedHat|Fedora|CentOS)", id("x", centos), true),
		c("docs: I@", "I@pdata:foobar", pillar, true),
		c("docs: S@", "S@192.168.1.0/24 or S@192.168.1.100", real, false),
		c("S@ real", "S@192.0.2.0/24 and not S@127.0.0.2", real, true),
		c("S@ ipv6", "S@fd00::/8", real, true),
		c("E@ real", "E@real-.*", real, true),
		c("L@ real", "L@a,real-minion-1", real, true),
		c("G@ with its own delimiter", "G|@locale_info|timezone|UTC", real, true),
		c("P@ with its own delimiter", `P%@ip6_gw%fd00::\d`, real, true),
		c("G@ with @ as delimiter", "G@@os@Debian", real, true),
		c("G@ with a multibyte delimiter", "G§@locale_info§timezone§UTC", real, true),
		{name: "G@ value with spaces splits in a string", tgt: "G@osfullname:Debian GNU/Linux", typ: "compound", d: real, err: `"GNU/Linux" follows`},
		{name: "list form keeps spaces", tgt: []any{"G@osfullname:Debian GNU/Linux"}, typ: "compound", d: real, want: true},
		{name: "list form", tgt: []any{"G@os:Debian", "and", "real-*"}, typ: "compound", d: real, want: true},
		{name: "list form of strings", tgt: []string{"not", "G@os:Debian"}, typ: "compound", d: real, want: false},
		{name: "delimiter option is ignored", tgt: "G@os:Debian", typ: "compound", d: real, opts: Options{Delimiter: "|"}, want: true},
		c("whitespace of any kind", "b\tor\na\u00a0and\u2003a", a, true),
		c("AND is a glob, not an operator", "a and AND", id("AND", nil), false),

		// Python's precedence: not, and, or.
		c("or below and", "a or b and not a", a, true),
		c("parentheses override", "( a or b ) and not a", a, false),
		c("not binds tightest", "not a or a", a, true),
		c("not of a group", "not ( a or b )", a, false),
		c("and first then or", "b and a or a", a, true),
		c("and first then or, false", "a and b or b", a, false),
		c("chain of ors", "b or c or d or a", a, true),
		c("chain of ands", "a and * and ? and b", a, false),
		c("nested groups", "( ( a ) )", a, true),
		c("not inside a group", "( not b ) and a", a, true),
		c("implicit and before not", "a not b", a, true),
		c("implicit and before not, false", "a not a", a, false),
		c("implicit and after a group", "( a ) not b", a, true),
		c("not after and", "a and not b", a, true),
		c("not after or", "b or not b", a, true),
		c("leading not", "not b", a, true),
		c("leading not false", "not a", a, false),
		c("leading not grain", "not G@os:Debian", real, false),
		c("not then group", "not ( b ) and a", a, true),
		c("200 parentheses", strings.Repeat("( ", 200)+"a"+strings.Repeat(" )", 200), a, true),
		c("globs", "web* or a*", a, true),
	}
}

func TestCompound(t *testing.T) { runCases(t, compoundCases(t)) }

func compoundErrorCases() []tcase {
	e := func(name string, tgt any, err string) tcase {
		return tcase{name: name, tgt: tgt, typ: "compound", d: Data{ID: "a"}, err: err}
	}
	return []tcase{
		e("empty", "", "empty"),
		e("blank", " \t\n", "empty"),
		e("empty list", []any{}, "empty"),
		e("leading and", "and a", `starts with "and"`),
		e("leading or", "or a", `starts with "or"`),
		e("leading )", ") a", `starts with ")"`),
		e("( and", "( and a )", `"and" right after "("`),
		e("( or", "a and ( or b )", `"or" right after "("`),
		e("trailing and", "a and", `"and" at the end`),
		e("trailing or not", "a or not", `"not" at the end`),
		e("not alone", "not", `"not" at the end`),
		e("not not", "not not a", `"not not"`),
		e("and not not", "a and not not b", `"not not"`),
		e("and and", "a and and b", `"and" after "and"`),
		e("or and", "a or and b", `"and" after "or"`),
		e("unclosed", "( a or b", `never closed`),
		e("unopened", "a or b )", `")" without a matching "("`),
		e("empty group", "a or ( )", `"( )" has nothing inside`),
		e("close after operator", "( a or )", `")" after "or"`),
		e("two targets", "a b", `"b" follows "a"`),
		e("target then group", "a ( b )", `"(" follows "a"`),
		e("group then group", "( a ) ( b )", `"(" follows ")"`),
		e("group then target", "( a ) b", `"b" follows ")"`),
		e("glued parentheses", "(a or b)", "parentheses must be separate words"),
		e("glued closing parenthesis", "( a or b)", "parentheses must be separate words"),
		e("unknown prefix", "X@foo", `unknown target type "X@"`),
		e("resource prefix of later Salts", "T@foo", `unknown target type "T@"`),
		e("range", "R@%foo.bar", "range targets"),
		e("no pattern", "a or G@", "no pattern"),
		e("no pattern for L@", "L@ or a", "no pattern"),
		e("grain without delimiter", "G@os", `no ":"`),
		e("grain with another delimiter missing", "G|@os:Debian", `no "|"`),
		e("bad regex", "E@web(", "missing closing )"),
		e("bad grain regex", "P@os:(deb", "missing closing )"),
		e("bad address", "a or S@bogus", `"S@bogus": neither an IP address`),
		e("unknown nodegroup", "N@nope or a", `unknown nodegroup "nope"`),
		e("too deep", strings.Repeat("( ", 201)+"a"+strings.Repeat(" )", 201), "deeper than 200"),
		e("word not a string", []any{"a", "or", int64(1)}, "word 2"),
		e("not a string nor a list", int64(1), "must be a string or a list"),
	}
}

func TestCompoundErrors(t *testing.T) { runCases(t, compoundErrorCases()) }

// The nodegroups of Salt's nodegroups.rst, and some more.
var nodegroups = map[string]any{
	"group1":  "L@foo.domain.com,bar.domain.com,baz.domain.com or bl*.domain.com",
	"group2":  "G@os:Debian and foo.domain.com",
	"group3":  "G@os:Debian and N@group1",
	"group4":  []any{"G@foo:bar", "or", "G@foo:baz"},
	"hosts":   []any{"host1", "host2", "host3"},
	"hostsL":  "L@host1,host2,host3",
	"ids":     "host1 host2",
	"regex":   `web\d+`,
	"quirk":   "a or b",
	"nested":  "N@group1 or N@hosts",
	"inner":   "N@quirk",
	"strs":    []string{"x", "or", "y"},
	"cyc1":    "N@cyc2 or x",
	"cyc2":    "N@cyc1 or y",
	"self":    "N@self",
	"number":  int64(3),
	"badword": []any{"a", int64(1)},
	"empty":   "",
}

func TestExpandNodegroup(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string
		err  string
	}{
		{"group1", []string{"L@foo.domain.com,bar.domain.com,baz.domain.com", "or", "bl*.domain.com"}, ""},
		{"group3", []string{"(", "G@os:Debian", "and", "(", "L@foo.domain.com,bar.domain.com,baz.domain.com", "or", "bl*.domain.com", ")", ")"}, ""},
		{"group4", []string{"G@foo:bar", "or", "G@foo:baz"}, ""},
		{"hosts", []string{"L@host1,host2,host3"}, ""},
		{"hostsL", []string{"L@host1,host2,host3"}, ""},
		{"ids", []string{"L@host1,host2"}, ""},
		{"regex", []string{`E@web\d+`}, ""},
		{"nested", []string{"(", "(", "L@foo.domain.com,bar.domain.com,baz.domain.com", "or", "bl*.domain.com", ")", "or", "L@host1,host2,host3", ")"}, ""},
		{"inner", []string{"(", "(", "a", "or", "b", ")", ")"}, ""},
		{"strs", []string{"x", "or", "y"}, ""},
		{"empty", []string{"L@"}, ""},
		{"nope", nil, `unknown nodegroup "nope"`},
		{"cyc1", nil, `nodegroup "cyc1" includes itself`},
		{"self", nil, `nodegroup "self" includes itself`},
		{"number", nil, "neither a string nor a list"},
		{"badword", nil, "word 1 is int64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExpandNodegroup(tc.name, nodegroups)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ExpandNodegroup(%q) = %q, %v; want error %q", tc.name, got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ExpandNodegroup(%q) = %q, %v; want %q", tc.name, got, err, tc.want)
			}
		})
	}
}

func TestExpandNodegroupTooBig(t *testing.T) {
	ngs := map[string]any{}
	for i := range 20 {
		ngs[fmt.Sprint("d", i)] = fmt.Sprintf("N@d%d or N@d%d", i+1, i+1)
	}
	ngs["d20"] = "x"
	if _, err := ExpandNodegroup("d0", ngs); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("ExpandNodegroup(d0) = %v, want a too-big error", err)
	}
	if _, err := Compile("N@d0", "compound", Options{Nodegroups: ngs}); err == nil {
		t.Fatal("Compile(N@d0) succeeded")
	}
}

func nodegroupCases(t testing.TB) []tcase {
	opts := Options{Nodegroups: nodegroups}
	debian := loadGrains(t)
	centos := grainsWith(t, "os", "CentOS")
	foo := func(v string) map[string]any { return grainsWith(t, "foo", v) }
	n := func(name, tgt string, d Data, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "nodegroup", d: d, opts: opts, want: want}
	}
	c := func(name, tgt string, d Data, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "compound", d: d, opts: opts, want: want}
	}
	ne := func(name, tgt, err string) tcase {
		return tcase{name: name, tgt: tgt, typ: "nodegroup", d: Data{ID: "a"}, opts: opts, err: err}
	}
	return []tcase{
		n("group1 listed", "group1", Data{ID: "bar.domain.com"}, true),
		n("group1 glob", "group1", Data{ID: "bl7.domain.com"}, true),
		n("group1 neither", "group1", Data{ID: "foo.domain.org"}, false),
		n("group2", "group2", Data{ID: "foo.domain.com", Grains: debian}, true),
		n("group2 other os", "group2", Data{ID: "foo.domain.com", Grains: centos}, false),
		n("group3 nested", "group3", Data{ID: "bl7.domain.com", Grains: debian}, true),
		n("group3 nested other os", "group3", Data{ID: "bl7.domain.com", Grains: centos}, false),
		n("group4 list", "group4", Data{ID: "x", Grains: foo("baz")}, true),
		n("group4 list neither", "group4", Data{ID: "x", Grains: foo("qux")}, false),
		n("list of ids", "hosts", Data{ID: "host2"}, true),
		n("list of ids absent", "hosts", Data{ID: "host4"}, false),
		n("ids string", "ids", Data{ID: "host2"}, true),
		n("regex", "regex", Data{ID: "web12"}, true),
		n("regex no", "regex", Data{ID: "db1"}, false),
		n("nested two", "nested", Data{ID: "host3"}, true),
		c("N@ in a compound", "N@group1 and bar*", Data{ID: "bar.domain.com"}, true),
		c("N@ negated", "not N@hosts", Data{ID: "host1"}, false),
		c("two N@", "N@hosts or N@group1", Data{ID: "baz.domain.com"}, true),
		// Salt splices a nodegroup without nested ones in unparenthesized:
		// "N@quirk and c" is "a or b and c", that is "a or (b and c)".
		c("top-level expansion has no parentheses (Salt)", "N@quirk and c", Data{ID: "a"}, true),
		c("nested expansion has parentheses", "N@inner and c", Data{ID: "a"}, false),
		ne("unknown", "nope", `unknown nodegroup "nope"`),
		ne("recursive", "cyc1", "includes itself"),
		ne("empty expands to an empty L@", "empty", "no pattern"),
		{name: "no nodegroups configured", tgt: "group1", typ: "nodegroup", d: Data{ID: "a"}, err: "unknown nodegroup"},
		{name: "name must be a string", tgt: []any{"group1"}, typ: "nodegroup", d: Data{ID: "a"}, opts: opts, err: "must be a string"},
	}
}

func TestNodegroup(t *testing.T) { runCases(t, nodegroupCases(t)) }

// The master matches with Greedy: a minion whose data it does not have is
// expected for any grain, pillar or ipcidr test, as Salt's CkMinions with
// greedy=True keeps minions absent from its cache.
func greedyCases(t testing.TB) []tcase {
	unknown := Data{ID: "m"}
	master := Options{Greedy: true}
	g := func(name, tgt, typ string, d Data, opts Options, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: typ, d: d, opts: opts, want: want}
	}
	known := Data{ID: minionID, Grains: loadGrains(t)}
	return []tcase{
		g("master grain unknown", "os:Debian", "grain", unknown, master, true),
		g("master grain pcre unknown", "os:x", "grain_pcre", unknown, master, true),
		g("master pillar unknown", "role:db", "pillar", unknown, master, true),
		g("master pillar exact unknown", "role:db", "pillar_exact", unknown, master, true),
		g("master ipcidr unknown", "10.0.0.0/8", "ipcidr", unknown, master, true),
		g("master G@ unknown", "G@os:Debian", "compound", unknown, master, true),
		g("master not G@ unknown", "not G@os:Debian", "compound", unknown, master, false),
		g("master id still decides", "G@os:Debian and x", "compound", unknown, master, false),
		g("master id and grain", "G@os:Debian and m", "compound", unknown, master, true),
		g("master glob not greedy", "x*", "glob", unknown, master, false),
		g("master known grains decide", "os:CentOS", "grain", known, master, false),
		g("master known grains match", "os:Debian", "grain", known, master, true),
		g("master pillar unknown, grains known", "I@role:db and G@os:Debian", "compound", known, master, true),
		g("minion grain unknown", "os:Debian", "grain", unknown, Options{}, false),
		g("minion not G@ unknown", "not G@os:Debian", "compound", unknown, Options{}, true),
		g("minion ipcidr unknown", "10.0.0.0/8", "ipcidr", unknown, Options{}, false),
		g("minion id with grains unknown", "m", "glob", unknown, Options{}, true),
		g("minion list with grains unknown", "a,m", "list", unknown, Options{}, true),
		g("minion pcre with grains unknown", "^m$", "pcre", unknown, Options{}, true),
	}
}

func TestGreedy(t *testing.T) { runCases(t, greedyCases(t)) }

func TestParseWord(t *testing.T) {
	for _, tc := range []struct {
		w              string
		engine         byte
		delim, pattern string
	}{
		{"G@os:Debian", 'G', "", "os:Debian"},
		{"G|@os|Debian", 'G', "|", "os|Debian"},
		{"G@@x", 'G', "@", "x"},
		{"G@@", 'G', "", "@"},
		{"G@", 0, "", "G@"},
		{"L|@a", 0, "", "L|@a"},
		{"E@web.*", 'E', "", "web.*"},
		{"N@g", 'N', "", "g"},
		{"X@g", 'X', "", "g"},
		{"web*", 0, "", "web*"},
		{"G§@a§b", 'G', "§", "a§b"},
		{"G@a\n", 'G', "", "a"},
		{"G@a\nb", 0, "", "G@a\nb"},
		{"G\n@a", 0, "", "G\n@a"},
	} {
		e, d, p := parseWord(tc.w)
		if e != tc.engine || d != tc.delim || p != tc.pattern {
			t.Errorf("parseWord(%q) = %q, %q, %q; want %q, %q, %q", tc.w, e, d, p, tc.engine, tc.delim, tc.pattern)
		}
	}
}

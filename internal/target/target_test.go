package target

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/brine-project/brine/internal/saltvectors"
)

// minionID is the id of the real Salt 3006.16 minion whose grains are in
// testdata/grains.json.
const minionID = "real-minion-1"

// loadGrains reads testdata/grains.json, the grains the real minion sent
// in its _pillar request (a-new-minion capture), with numbers as the wire
// decoder gives them: int64 for integers, float64 otherwise.
func loadGrains(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/grains.json")
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, b).(map[string]any)
}

func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return fromJSON(v)
}

func fromJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = fromJSON(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = fromJSON(v[k])
		}
	}
	return v
}

// TestGrainsAreTheCaptured checks testdata/grains.json against the capture
// it was taken from, where the capture is at hand.
func TestGrainsAreTheCaptured(t *testing.T) {
	dir := saltvectors.Dir(t)
	raw := saltvectors.ReadFile(t, dir, "a-new-minion/decoded.json")
	var dec struct {
		Messages []struct {
			Cmd     string          `json:"cmd"`
			Kind    string          `json:"kind"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(raw, &dec); err != nil {
		t.Fatal(err)
	}
	for _, m := range dec.Messages {
		if m.Cmd != "_pillar" || !strings.HasPrefix(m.Kind, "AES request") {
			continue
		}
		var c struct {
			Grains json.RawMessage `json:"grains"`
		}
		if err := json.Unmarshal(m.Content, &c); err != nil {
			t.Fatal(err)
		}
		if got, want := loadGrains(t), decodeJSON(t, c.Grains); !reflect.DeepEqual(got, want) {
			t.Fatal("testdata/grains.json differs from the grains of the capture's _pillar request")
		}
		return
	}
	t.Fatal("no _pillar request in a-new-minion")
}

// tcase is one match: tgt of type typ against d, with opts. err, if set,
// is a substring of the expected Compile error.
type tcase struct {
	name string
	tgt  any
	typ  string
	d    Data
	opts Options
	want bool
	err  string
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Match(tc.tgt, tc.typ, tc.d, tc.opts)
			switch {
			case tc.err != "" && err == nil:
				t.Fatalf("Match(%q, %q) = %v, want an error with %q", tc.tgt, tc.typ, got, tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("Match(%q, %q): error %q, want one with %q", tc.tgt, tc.typ, err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatalf("Match(%q, %q): %v", tc.tgt, tc.typ, err)
			case got != tc.want:
				t.Fatalf("Match(%q, %q) on %q = %v, want %v", tc.tgt, tc.typ, tc.d.ID, got, tc.want)
			}
		})
	}
}

// Examples of Salt's "Matching the minion id" docs (globbing.rst).
func globCases() []tcase {
	c := func(name, tgt, id string, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "glob", d: Data{ID: id}, want: want}
	}
	return []tcase{
		c("star", "*", "web1.example.net", true),
		c("domain", "*.example.net", "web1.example.net", true),
		c("domain other", "*.example.net", "web1.example.org", false),
		c("any example domain", "*.example.*", "db.example.org", true),
		c("question mark", "web?.example.net", "web7.example.net", true),
		c("question mark two chars", "web?.example.net", "web17.example.net", false),
		c("range", "web[1-5]", "web3", true),
		c("range outside", "web[1-5]", "web6", false),
		c("set with comma", "web[1,3]", "web3", true),
		c("set matches comma", "web[1,3]", "web,", true),
		c("set not 2", "web[1,3]", "web2", false),
		c("letters", "web-[x-z]", "web-y", true),
		c("case-sensitive", "WEB*", "web1", false),
		c("whole id", "web", "web1", false),
		c("empty type is glob", "real-*", minionID, true),
		{name: "type defaults to glob", tgt: "real-*", typ: "", d: Data{ID: minionID}, want: true},
		c("unknown grains do not matter", "real-minion-?", minionID, true),
		{name: "not a string", tgt: []any{"web1"}, typ: "glob", d: Data{ID: "web1"}, err: "must be a string"},
	}
}

func TestGlob(t *testing.T) { runCases(t, globCases()) }

func listCases() []tcase {
	c := func(name string, tgt any, id string, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "list", d: Data{ID: id}, want: want}
	}
	return []tcase{
		c("docs", "web1,web2,web3", "web2", true),
		c("first", "web1,web2,web3", "web1", true),
		c("last", "web1,web2,web3", "web3", true),
		c("absent", "web1,web2,web3", "web4", false),
		c("no globbing", "web*", "web1", false),
		c("single", "web1", "web1", true),
		c("prefix is not enough", "web1,web2", "web", false),
		c("not trimmed", "web1, web2", "web2", false),
		c("list form", []any{"web1", "web2"}, "web2", true),
		c("list of strings", []string{"web1", "web2"}, "web1", true),
		c("list form absent", []any{"web1", "web2"}, "web3", false),
		c("list form is exact", []any{"web1,web2"}, "web1", false),
		c("id with a comma", "x,a,b,y", "a,b", true),
		c("id with a comma at the start", "a,b,y", "a,b", true),
		c("id with a comma not between commas", "xa,b,y", "a,b", false),
		c("empty id between commas", "a,,b", "", true),
		{name: "list element not a string", tgt: []any{"web1", int64(2)}, typ: "list", d: Data{ID: "web1"}, want: true},
		{name: "list element not a string never matches", tgt: []any{int64(2)}, typ: "list", d: Data{ID: "2"}, want: false},
		{name: "a number", tgt: int64(1), typ: "list", d: Data{ID: "1"}, err: "must be a string or a list"},
	}
}

func TestList(t *testing.T) { runCases(t, listCases()) }

func pcreCases() []tcase {
	c := func(name, tgt, id string, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "pcre", d: Data{ID: id}, want: want}
	}
	e := func(name, tgt, err string) tcase {
		return tcase{name: name, tgt: tgt, typ: "pcre", d: Data{ID: "web1"}, err: err}
	}
	return []tcase{
		c("docs prod", "web1-(prod|devel)", "web1-prod", true),
		c("docs devel", "web1-(prod|devel)", "web1-devel", true),
		c("docs other", "web1-(prod|devel)", "web1-qa", false),
		c("anchored at the start", "eb1", "web1", false),
		c("not anchored at the end", "web", "web1-prod", true),
		c("dollar anchors the end", "web1$", "web1-prod", false),
		c("compound docs", `web\d+\.(dev|qa|prod)\.loc`, "web12.qa.loc", true),
		c("unicode digit", `web\d`, "web٣", true),
		c("not a digit", `web\D`, "web٣", false),
		c("unicode word", `\w+$`, "wébé", true),
		c(`\Z is the end`, `web1\Z`, "web1", true),
		c(`\Z is the end, no more`, `web1\Z`, "web12", false),
		c("case-sensitive", "WEB", "web1", false),
		c("inline flag", "(?i)WEB", "web1", true),
		c("backspace in a class", `web[\b1]`, "web1", true),
		c("unicode escape", `w\u00e9b`, "wéb", true),
		c("escaped non-ASCII", `w\éb`, "wéb", true),
		e("bad regex", "web(", "missing closing )"),
		e("lookahead", "web(?=1)", "lookaround"),
		e("lookbehind", "(?<=w)eb", "lookbehind"),
		e("backreference", `(w)\1`, "backreferences"),
		e(`\z is RE2 only`, `web\z`, `bad escape \z`),
		e(`\p is RE2 only`, `\pL`, `bad escape \p`),
		e(`\Q is RE2 only`, `\Qa.b\E`, `bad escape \Q`),
		e(`\x{} is RE2 only`, `\x{41}`, `\x{`),
		e("named group RE2 style", "(?<n>web)", "(?P<name>"),
		e("ungreedy flag", "(?U)web.*", "(?U)"),
		e("posix class", "[[:alpha:]]+", "POSIX"),
		e("minless repeat", "a{,3}", "{,n}"),
		e(`\W in a class`, `[\W]`, "inside [...]"),
		e("trailing backslash", `web\`, "end of pattern"),
		e("verbose flag", "(?x) web", "invalid or unsupported"),
	}
}

func TestPCRE(t *testing.T) { runCases(t, pcreCases()) }

func grainCases(t testing.TB) []tcase {
	g := loadGrains(t)
	d := Data{ID: minionID, Grains: g}
	c := func(name, tgt string, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "grain", d: d, want: want}
	}
	p := func(name, tgt string, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "grain_pcre", d: d, want: want}
	}
	custom := Data{ID: "web1", Grains: map[string]any{
		// The docs' static grains (grains.rst) and ec2_tags example.
		"roles":      []any{"webserver", "memcache"},
		"deployment": "datacenter4",
		"cabinet":    int64(13),
		"cab_u":      "14-15",
		"ec2_tags":   map[string]any{"environment": "eu-production-1", "Name": "web1"},
		"node_type":  "web",
		"empty":      map[string]any{},
		"nested":     []any{map[string]any{"a": "x"}, map[string]any{"a": "y", "b": "z"}},
		"ratio":      0.5,
		"big":        1e16,
		"none":       nil,
		"bytes":      []byte{0xff, 'a'},
		"strs":       []string{"Alpha", "beta"},
		"smap":       map[string]string{"k": "V"},
		"deep":       map[string]any{"a": map[string]any{"b": map[string]any{"c": "d"}}},
		"url":        "https://github.com:example/project.git",
	}}
	cc := func(name, tgt string, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "grain", d: custom, want: want}
	}
	return []tcase{
		c("os", "os:Debian", true),
		c("os other", "os:CentOS", false),
		c("case-insensitive value", "os:DEBIAN", true),
		c("case-sensitive key", "OS:Debian", false),
		c("glob value", "os:Deb*", true),
		c("cpuarch docs", "cpuarch:x86_64", true),
		c("int", "num_cpus:2", true),
		c("int glob", "mem_total:24*", true),
		c("bool as Python prints it", "ip_gw:True", true),
		c("bool lowered", "ip_gw:true", true),
		c("bool is not 1", "ip_gw:1", false),
		c("false", "efi:False", true),
		c("virtual", "virtual:container", true),
		c("list member", "cpu_flags:avx2", true),
		c("list member glob", "cpu_flags:avx512*", true),
		c("list member absent", "cpu_flags:neon", false),
		c("int in a list", "osrelease_info:12", true),
		c("mixed list", "pythonversion:final", true),
		c("mixed list int", "pythonversion:11", true),
		c("empty list", "gpus:*", false),
		c("dict key exists", "dns:nameservers", true),
		c("dict star", "dns:*", true),
		c("dict key absent", "dns:resolvers", false),
		c("nested value in a list", "dns:nameservers:10.255.255.53", true),
		c("nested dict value", "locale_info:timezone:UTC", true),
		c("nested dict glob", "systemd:version:25?", true),
		c("value with the delimiter", "ip6_gw:fd00::1", true),
		c("value with the delimiter glob", "ip6_gw:fd00:*", true),
		c("mac address", "hwaddr_interfaces:eth0:02:fc:00:00:00:01", true),
		c("interface list", "ip4_interfaces:eth0:192.0.2.2", true),
		c("interface list other", "ip4_interfaces:lo:192.0.2.2", false),
		c("list index", "ipv4:1:192.0.2.2", true),
		c("negative list index", "ipv4:-1:192.0.2.2", true),
		c("list index out of range", "ipv4:5:192.0.2.2", false),
		c("list of lists printed", "kernelparams:*console*", true),
		c("list of lists printed lowered", "kernelparams:?'console', 'ttys0'?", true),
		c("list of lists printed, [ is a glob class", "kernelparams:['console', 'ttys0']", false),
		c("list of lists index", "kernelparams:1:ttyS0", true),
		c("id grain", "id:real-minion-1", true),
		c("missing grain", "roles:webserver", false),
		c("top-level wildcard", "*:Debian", true),
		c("top-level wildcard no", "*:Gentoo", false),
		c("wildcard into dicts is keys only", "*:UTC", false),
		c("wildcard two levels", "*:*:UTC", true),
		c("osfinger", "osfinger:Debian-1?", true),
		p("pcre docs no", "os:(RedHat|Fedora|CentOS)", false),
		p("pcre docs yes", "os:(Debian|Ubuntu)", true),
		p("pcre anchored at the start", "os:bian", false),
		p("pcre not anchored at the end", "os:deb", true),
		p("pcre case-insensitive", "os:DEB", true),
		p("pcre pattern lowered", `os:^Deb\w+$`, true),
		p("pcre on an int", `num_cpus:\d$`, true),
		p("pcre star is key existence", "dns:*", true),
		p("pcre star on a scalar is no regex", "os:*", false),
		p("pcre list member", `cpu_flags:sse4_\d`, true),
		p("pcre nested", `locale_info:timezone:u.c`, true),
		p("pcre with the delimiter in the value", `ip6_gw:fd00::\d`, true),
		{name: "pcre bad", tgt: "os:(Debian", typ: "grain_pcre", d: d, err: "missing closing )"},
		{name: "pcre lowered \\Z is Python's bad escape", tgt: `os:Debian\Z`, typ: "grain_pcre", d: d, err: `bad escape \z`},
		{name: "pcre one split compiles", tgt: "a:b(:c)", typ: "grain_pcre", d: d, want: false},
		{name: "no delimiter", tgt: "os", typ: "grain", d: d, err: `no ":"`},
		{name: "custom delimiter", tgt: "ip6_gw|fd00::1", typ: "grain", d: d, opts: Options{Delimiter: "|"}, want: true},
		{name: "custom delimiter nested", tgt: "locale_info|timezone|UTC", typ: "grain", d: d, opts: Options{Delimiter: "|"}, want: true},
		{name: "custom delimiter inner split on colon", tgt: "locale_info|timezone:UTC", typ: "grain", d: d, opts: Options{Delimiter: "|"}, want: true},
		{name: "multi-character delimiter", tgt: "locale_info::timezone::UTC", typ: "grain", d: d, opts: Options{Delimiter: "::"}, want: true},
		{name: "too many delimiters", tgt: "a" + strings.Repeat(":a", 64), typ: "grain", d: d, err: "more than 63"},
		{name: "not a string", tgt: []any{"os:Debian"}, typ: "grain", d: d, err: "must be a string"},
		cc("docs roles", "roles:webserver", true),
		cc("docs deployment", "deployment:datacenter4", true),
		cc("docs cabinet int", "cabinet:13", true),
		cc("docs ec2_tags", "ec2_tags:environment:*production*", true),
		cc("docs node_type", "node_type:web", true),
		cc("dict key case-sensitive", "ec2_tags:name", false),
		cc("dict key", "ec2_tags:Name", true),
		cc("empty dict is skipped", "empty:*", false),
		cc("embedded dicts in a list", "nested:a:x", true),
		cc("list index then key", "nested:1:b:z", true),
		cc("list member dicts are each tried", "nested:a:y", true),
		cc("embedded dict member", "nested:b", true),
		cc("embedded dict member printed", "nested:{'a': 'x'}", true),
		cc("float", "ratio:0.5", true),
		cc("float in exponent form", "big:1e+16", true),
		cc("none", "none:None", true),
		cc("bytes printed", `bytes:b'\xffa'`, true),
		cc("[]string", "strs:alpha", true),
		cc("map[string]string", "smap:k:v", true),
		cc("deep", "deep:a:b:c", true),
		cc("deep value", "deep:a:b:c:d", true),
		cc("deep wrong", "deep:a:c:d", false),
		cc("url value", "url:https://github.com:example/project.git", true),
	}
}

func TestGrain(t *testing.T) { runCases(t, grainCases(t)) }

func pillarCases() []tcase {
	pillar := map[string]any{
		"somekey": "specialvalue",
		"foo":     map[string]any{"bar": "bazinga", "baz": "x|y"},
		"pdata":   "foobar",
		"gitrepo": "https://github.com:example/project.git",
		"users":   []any{"alice", "Bob"},
		"role":    "DB",
	}
	d := Data{ID: "web1", Pillar: pillar}
	c := func(name, tgt, typ string, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: typ, d: d, want: want}
	}
	return []tcase{
		c("docs", "somekey:specialvalue", "pillar", true),
		c("docs nested glob", "foo:bar:baz*", "pillar", true),
		c("docs compound I@", "pdata:foobar", "pillar", true),
		c("glob no", "somekey:other", "pillar", false),
		c("list", "users:bob", "pillar", true),
		c("pcre docs", "pdata:^(foo|bar)$", "pillar_pcre", false),
		c("pcre", "pdata:^(foo|bar)", "pillar_pcre", true),
		c("exact", "role:db", "pillar_exact", true),
		c("exact is no glob", "role:d*", "pillar_exact", false),
		c("exact list member", "users:ALICE", "pillar_exact", true),
		{name: "pcre delimiter option", tgt: "foo|baz|x\\|y", typ: "pillar_pcre", d: d, opts: Options{Delimiter: "|"}, want: true},
		{name: "grains are not pillar", tgt: "somekey:specialvalue", typ: "grain", d: Data{ID: "web1", Grains: pillar}, want: true},
		{name: "pillar unknown on the minion", tgt: "somekey:specialvalue", typ: "pillar", d: Data{ID: "web1"}, want: false},
	}
}

func TestPillar(t *testing.T) { runCases(t, pillarCases()) }

// Subnet/IP address matching (ipcidr.rst) against the real minion's
// grains: ipv4 127.0.0.1 192.0.2.2, ipv6 ::1 fd00::2 fe80::fc:ff:fe00:1.
func ipcidrCases(t testing.TB) []tcase {
	d := Data{ID: minionID, Grains: loadGrains(t)}
	c := func(name, tgt string, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "ipcidr", d: d, want: want}
	}
	e := func(name, tgt, err string) tcase {
		return tcase{name: name, tgt: tgt, typ: "ipcidr", d: d, err: err}
	}
	g := func(name, tgt string, grains map[string]any, want bool) tcase {
		return tcase{name: name, tgt: tgt, typ: "ipcidr", d: Data{ID: "m", Grains: grains}, want: want}
	}
	return []tcase{
		c("docs address", "192.168.40.20", false),
		c("docs network", "10.0.0.0/24", false),
		c("address", "192.0.2.2", true),
		c("loopback address", "127.0.0.1", true),
		c("network", "192.0.2.0/24", true),
		c("host network", "192.0.2.2/32", true),
		c("loopback network", "127.0.0.0/8", true),
		c("everything", "0.0.0.0/0", true),
		c("netmask", "192.0.2.0/255.255.255.0", true),
		c("hostmask", "192.0.2.0/0.0.0.255", true),
		c("prefix with a leading zero", "192.0.2.0/024", true),
		c("ipv6 address", "fd00::2", true),
		c("ipv6 address written long", "FD00:0:0:0:0:0:0:2", true),
		c("ipv6 network", "fd00::/64", true),
		c("ipv6 link-local", "fe80::/10", true),
		c("ipv6 network with zone", "fe80::%eth0/64", true),
		c("ipv6 other", "2001:db8::/32", false),
		c("ipv6 address not a v4 one", "::ffff:192.0.2.2", false),
		e("host bits set", "192.0.2.2/24", "host bits set"),
		e("not an address", "web1", "neither an IP address nor a network"),
		e("not an address before the slash", "web1/8", `"web1", before the '/', is not an IP address`),
		e("prefix too long", "10.0.0.0/33", "invalid prefix length"),
		e("bad netmask", "10.0.0.0/255.0.255.0", "invalid netmask"),
		e("leading zeros", "010.0.0.1", "neither"),
		e("leading zeros in a network", "010.0.0.0/8", "is not an IP address"),
		e("two slashes", "10.0.0.0/8/8", "more than one"),
		e("ipv6 netmask", "fd00::/ffff::", "invalid netmask"),
		g("no ip grains", "10.0.0.0/8", map[string]any{"os": "Debian"}, false),
		g("a string grain is searched", "10.0.0.1", map[string]any{"ipv4": "10.0.0.10"}, true),
		g("a string grain network", "10.0.0.0/8", map[string]any{"ipv4": "10.0.0.10"}, true),
		g("garbage before a match fails", "10.0.0.0/8", map[string]any{"ipv4": []any{"bogus", "10.0.0.1"}}, false),
		g("garbage after a match", "10.0.0.0/8", map[string]any{"ipv4": []any{"10.0.0.1", "bogus"}}, true),
		g("an integer address", "10.0.0.0/8", map[string]any{"ipv4": []any{int64(167772161)}}, true),
		g("[]string grain", "10.0.0.0/8", map[string]any{"ipv4": []string{"10.1.2.3"}}, true),
		g("v4-mapped prints in hex", "::ffff:192.0.2.2", map[string]any{"ipv6": []any{"::ffff:c000:202"}}, true),
		g("v4-mapped not in a v4 network", "192.0.2.0/24", map[string]any{"ipv4": []any{"::ffff:192.0.2.2"}}, false),
	}
}

func TestIPCIDR(t *testing.T) { runCases(t, ipcidrCases(t)) }

func TestIPCIDRGarbageFailsCompound(t *testing.T) {
	// Salt raises out of the matcher: "not" cannot turn that into a match.
	d := Data{ID: "m", Grains: map[string]any{"ipv4": []any{"bogus"}}}
	for _, tgt := range []string{"S@10.0.0.0/8", "not S@10.0.0.0/8", "m or S@10.0.0.0/8"} {
		if got, err := Match(tgt, "compound", d, Options{}); err != nil || got {
			t.Errorf("Match(%q) = %v, %v; want false", tgt, got, err)
		}
	}
}

func TestUnknownType(t *testing.T) {
	for _, typ := range []string{"range", "grains", "Glob", "data", "pillar_target"} {
		if _, err := Compile("*", typ, Options{}); err == nil {
			t.Errorf("Compile(*, %q) succeeded", typ)
		}
	}
	_, err := Compile("*", "bogus", Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown target type "bogus"`) {
		t.Errorf("Compile(*, bogus) = %v", err)
	}
	var te *Error
	if !asError(err, &te) || te.Type != "bogus" {
		t.Errorf("error %v is not a *target.Error of type bogus", err)
	}
}

func asError(err error, te **Error) bool {
	e, ok := err.(*Error)
	*te = e
	return ok
}

func TestZeroMatcher(t *testing.T) {
	var m *Matcher
	if m.Match(Data{ID: "x"}) {
		t.Error("nil Matcher matched")
	}
	if (&Matcher{}).Match(Data{ID: "x"}) {
		t.Error("zero Matcher matched")
	}
}

func TestNeeds(t *testing.T) {
	for _, tc := range []struct {
		tgt, typ       string
		grains, pillar bool
	}{
		{"web*", "glob", false, false},
		{"a,b", "list", false, false},
		{"web* and L@a,b or E@x", "compound", false, false},
		{"os:Debian", "grain", true, false},
		{"10.0.0.0/8", "ipcidr", true, false},
		{"role:db", "pillar", false, true},
		{"web* and ( G@os:Debian or I@role:db )", "compound", true, true},
	} {
		m, err := Compile(tc.tgt, tc.typ, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if g, p := m.Needs(); g != tc.grains || p != tc.pillar {
			t.Errorf("%s %q: Needs() = %v, %v; want %v, %v", tc.typ, tc.tgt, g, p, tc.grains, tc.pillar)
		}
	}
}

func TestListedIDs(t *testing.T) {
	for _, tc := range []struct {
		tgt  any
		typ  string
		want []string
	}{
		{"web1,,web2", "list", []string{"web1", "web2"}},
		{[]any{"a", "b", "a"}, "list", []string{"a", "b", "a"}},
		{"web*", "glob", nil},
		{"L@a,b or L@c", "compound", []string{"a", "b", "c"}},
		{"web* and not L@a,b", "compound", nil},
		{"not L@a or L@b", "compound", []string{"b"}},
		{"not ( L@a )", "compound", []string{"a"}}, // Salt only looks right after "not"
		{"group1", "nodegroup", []string{"host1", "host2"}},
	} {
		m, err := Compile(tc.tgt, tc.typ, Options{Nodegroups: map[string]any{"group1": []any{"host1", "host2"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.ListedIDs(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %q: ListedIDs() = %q, want %q", tc.typ, tc.tgt, got, tc.want)
		}
	}
}

// TestConcurrentMatch shares one Matcher between goroutines, as a master
// does; run with -race.
func TestConcurrentMatch(t *testing.T) {
	g := loadGrains(t)
	m, err := Compile(`web* or P@os:deb\w+ and G@cpu_flags:avx* and not S@10.0.0.0/8`, "compound", Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 200 {
				ok = ok && m.Match(Data{ID: minionID, Grains: g})
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("a concurrent Match failed")
		}
	}
}

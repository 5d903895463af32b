package pkg

import (
	"context"
	"os/exec"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

func TestDetect(t *testing.T) {
	apt := map[string]string{"apt-get": "", "apt-cache": "", "dpkg-query": ""}
	dpkgDB := map[string]string{"/var/lib/dpkg/status": ""}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	osr := func(s string) map[string]string { return map[string]string{"/etc/os-release": s} }
	for _, tc := range []struct {
		name     string
		programs map[string]string
		files    map[string]string
		want     string
	}{
		{"debian", apt, merge(dpkgDB, osr("ID=debian\n")), "apt"},
		{"ubuntu through ID_LIKE", apt, merge(dpkgDB, osr("ID=ubuntu\nID_LIKE=debian\n")), "apt"},
		{"debian with dnf and rpm installed", merge(apt, map[string]string{"dnf": "", "rpm": ""}), merge(dpkgDB, osr("ID=debian\n")), "apt"},
		{"fedora", map[string]string{"dnf": "", "rpm": ""}, osr(`ID=fedora` + "\n"), "dnf"},
		{"fedora with apt-get around", merge(apt, map[string]string{"dnf": "", "rpm": ""}), merge(dpkgDB, osr("ID=fedora\n")), "dnf"},
		{"centos 7: yum only", map[string]string{"yum": "", "rpm": ""}, osr(`ID="centos"` + "\n" + `ID_LIKE="rhel fedora"` + "\n"), "yum"},
		{"rocky: dnf before yum", map[string]string{"yum": "", "dnf": "", "rpm": ""}, osr(`ID="rocky"` + "\n" + `ID_LIKE="rhel centos fedora"` + "\n"), "dnf"},
		{"alpine", map[string]string{"apk": ""}, map[string]string{"/etc/os-release": "ID=alpine\n", "/etc/apk/": ""}, "apk"},
		{"openwrt", map[string]string{"opkg": ""}, osr(`ID="openwrt"` + "\n"), "opkg"},
		{"no os-release: by programs", map[string]string{"apk": ""}, map[string]string{"/etc/apk/": ""}, "apk"},
		{"apt without a dpkg database", apt, osr("ID=debian\n"), ""},
		{"rpm without dnf or yum", map[string]string{"rpm": ""}, osr("ID=fedora\n"), ""},
		{"nothing", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := modtest.FakeHost(t, tc.programs, tc.files)
			if got := detect(h); got != tc.want {
				t.Fatalf("detect = %q, want %q", got, tc.want)
			}
			if specs := specsFor(h); (len(specs) > 0) != (tc.want != "") {
				t.Fatalf("specsFor gave %d functions for provider %q", len(specs), tc.want)
			}
		})
	}
}

// With no package manager there are no pkg functions, and a call gets
// Salt's answer for a function the minion does not have.
func TestNoProvider(t *testing.T) {
	h, _ := modtest.FakeHost(t, nil, nil)
	r := modtest.Registry(specsFor(h))
	res := r.Run(context.Background(), "pkg.install", []any{"vim"}, modules.Job{Fun: "pkg.install"}, &modules.Env{})
	if res.Return != "'pkg.install' is not available." || res.Retcode != 1 {
		t.Fatalf("pkg.install = %#v", res)
	}
}

func TestDebCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.0-0", 0},
		{"1.0-1", "1.0-2", -1},
		{"1:1.0", "2.0", 1},
		{"0:1.0", "1.0", 0},
		{"1.0~rc1", "1.0", -1},
		{"1.0~rc1", "1.0~rc2", -1},
		{"1.0~~", "1.0~", -1},
		{"1.0a", "1.0", 1},
		{"1.0+b1", "1.0", 1},
		{"1.0.1", "1.0a", 1}, // letters sort before other characters
		{"5.2.15-2+b8", "5.2.15-2+b13", -1},
		{"2.10-3", "2.10-3", 0},
		{"1.010", "1.10", 0},
		{"1.2.3", "1.2.10", -1},
		{"7.4.052-1ubuntu3", "7.4.052-1ubuntu3.1", -1},
		{"3.03+dfsg2-8", "3.03+dfsg1-8", 1},
		{"1:9.18.28-1~deb12u2", "1:9.18.24-1", 1},
	} {
		got := debCompare(tc.a, tc.b)
		if got != tc.want {
			t.Errorf("debCompare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if back := debCompare(tc.b, tc.a); back != -tc.want {
			t.Errorf("debCompare(%q, %q) = %d, want %d", tc.b, tc.a, back, -tc.want)
		}
		// Where dpkg is at hand, it has the last word.
		if _, err := exec.LookPath("dpkg"); err == nil {
			for op, w := range map[string]int{"lt": -1, "eq": 0, "gt": 1} {
				if err := exec.Command("dpkg", "--compare-versions", tc.a, op, tc.b).Run(); (err == nil) != (w == got) {
					t.Errorf("dpkg --compare-versions %s %s %s disagrees with %d", tc.a, op, tc.b, got)
				}
			}
		}
	}
}

// The cases of rpm's own tests (tests/rpmvercmp.at).
func TestRPMCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0", "1.0", 1}, {"2.0.1", "2.0.1", 0}, {"2.0", "2.0.1", -1}, {"2.0.1", "2.0", 1},
		{"2.0.1a", "2.0.1a", 0}, {"2.0.1a", "2.0.1", 1}, {"2.0.1", "2.0.1a", -1}, {"5.5p1", "5.5p1", 0}, {"5.5p1", "5.5p2", -1},
		{"5.5p2", "5.5p1", 1}, {"5.5p10", "5.5p10", 0}, {"5.5p1", "5.5p10", -1}, {"5.5p10", "5.5p1", 1}, {"10xyz", "10.1xyz", -1},
		{"10.1xyz", "10xyz", 1}, {"xyz10", "xyz10", 0}, {"xyz10", "xyz10.1", -1}, {"xyz10.1", "xyz10", 1}, {"xyz.4", "xyz.4", 0},
		{"xyz.4", "8", -1}, {"8", "xyz.4", 1}, {"xyz.4", "2", -1}, {"2", "xyz.4", 1}, {"5.5p2", "5.6p1", -1}, {"5.6p1", "5.5p2", 1},
		{"5.6p1", "6.5p1", -1}, {"6.5p1", "5.6p1", 1}, {"6.0.rc1", "6.0", 1}, {"6.0", "6.0.rc1", -1}, {"10b2", "10a1", 1},
		{"10a2", "10b2", -1}, {"1.0aa", "1.0aa", 0}, {"1.0a", "1.0aa", -1}, {"1.0aa", "1.0a", 1}, {"10.0001", "10.0001", 0},
		{"10.0001", "10.1", 0}, {"10.1", "10.0001", 0}, {"10.0001", "10.0039", -1}, {"10.0039", "10.0001", 1}, {"4.999.9", "5.0", -1},
		{"5.0", "4.999.9", 1}, {"20101121", "20101121", 0}, {"20101121", "20101122", -1}, {"20101122", "20101121", 1},
		{"2_0", "2_0", 0}, {"2.0", "2_0", 0}, {"2_0", "2.0", 0}, {"a", "a", 0}, {"a+", "a+", 0}, {"a+", "a_", 0}, {"a_", "a+", 0},
		{"+a", "+a", 0}, {"+a", "_a", 0}, {"_a", "+a", 0}, {"+_", "+_", 0}, {"_+", "+_", 0}, {"_+", "_+", 0}, {"+", "_", 0}, {"_", "+", 0},
		{"1.0~rc1", "1.0~rc1", 0}, {"1.0~rc1", "1.0", -1}, {"1.0", "1.0~rc1", 1}, {"1.0~rc1", "1.0~rc2", -1}, {"1.0~rc2", "1.0~rc1", 1},
		{"1.0~rc1~git123", "1.0~rc1~git123", 0}, {"1.0~rc1~git123", "1.0~rc1", -1}, {"1.0~rc1", "1.0~rc1~git123", 1},
		{"1.0^", "1.0^", 0}, {"1.0^", "1.0", 1}, {"1.0", "1.0^", -1}, {"1.0^git1", "1.0^git1", 0}, {"1.0^git1", "1.0", 1},
		{"1.0", "1.0^git1", -1}, {"1.0^git1", "1.0^git2", -1}, {"1.0^git2", "1.0^git1", 1}, {"1.0^git1", "1.01", -1},
		{"1.01", "1.0^git1", 1}, {"1.0^20160101", "1.0^20160101", 0}, {"1.0^20160101", "1.0.1", -1}, {"1.0.1", "1.0^20160101", 1},
		{"1.0^20160101^git1", "1.0^20160101^git1", 0}, {"1.0^20160102", "1.0^20160101^git1", 1}, {"1.0^20160101^git1", "1.0^20160102", -1},
		{"1.0~rc1^git1", "1.0~rc1^git1", 0}, {"1.0~rc1^git1", "1.0~rc1", 1}, {"1.0~rc1", "1.0~rc1^git1", -1},
		{"1.0^git1~pre", "1.0^git1~pre", 0}, {"1.0^git1", "1.0^git1~pre", 1}, {"1.0^git1~pre", "1.0^git1", -1},
	} {
		if got := rpmvercmp(tc.a, tc.b); got != tc.want {
			t.Errorf("rpmvercmp(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1:1.0-1", "2.0-1", 1},
		{"1.0-1.el9", "1.0-2.el9", -1},
		{"1.0", "1.0-5", 0}, // no release on one side: not compared
		{"0:2.4.57-5.el9", "2.4.57-5.el9", 0},
	} {
		if got := rpmCompare(tc.a, tc.b); got != tc.want {
			t.Errorf("rpmCompare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// Salt's CommandExecutionError with info prints the info with the nested
// outputter after its message.
func TestExecError(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		info map[string]any
		want string
	}{
		{"plain", "E: Could not open lock file", nil, "E: Could not open lock file"},
		{"info", "Problem encountered installing package(s)", map[string]any{"errors": []any{"E: Unable to locate package nosuch"}, "changes": map[string]any{}},
			"Problem encountered installing package(s). Additional info follows:\n\nchanges:\n    ----------\nerrors:\n    - E: Unable to locate package nosuch"},
		{"message ends a sentence", "Failed!", map[string]any{"result": false}, "Failed! Additional info follows:\n\nresult:\n    False"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := execError(tc.msg, tc.info).Error(); got != tc.want {
				t.Fatalf("execError = %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestParseTargets(t *testing.T) {
	up := func(s string) string { return s + "!" }
	for _, tc := range []struct {
		name                  string
		nameArg, pkgs, source any
		version               string
		want                  []target
		kind                  string
	}{
		{"one name", "vim", nil, nil, "", []target{{name: "vim!"}}, repoTargets},
		{"comma list with version", "vim,git", nil, nil, "1.0", []target{{"vim!", "1.0"}, {"git!", "1.0"}}, repoTargets},
		{"pkgs win over name", "vim", []any{"a", map[string]any{"b": "2.0"}, map[string]any{"c": int64(3)}}, nil, "9",
			[]target{{name: "a!"}, {"b!", "2.0"}, {"c!", "3"}}, repoTargets},
		{"pkgs as YAML text", nil, `["a", {"b": "1.0"}]`, nil, "", []target{{name: "a!"}, {"b!", "1.0"}}, repoTargets},
		{"sources", nil, nil, []any{map[string]any{"foo": "salt://foo.deb"}}, "", []target{{"foo", "salt://foo.deb"}}, fileTargets},
		{"pkgs and sources", nil, []any{"a"}, []any{map[string]any{"foo": "/tmp/foo.deb"}}, "", nil, ""},
		{"bad pkgs", nil, []any{map[string]any{"a": "1", "b": "2"}}, nil, "", nil, ""},
		{"nothing", nil, nil, nil, "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, kind := parseTargets(tc.nameArg, tc.pkgs, tc.source, tc.version, up)
			if kind != tc.kind || len(got) != len(tc.want) {
				t.Fatalf("parseTargets = %v %q, want %v %q", got, kind, tc.want, tc.kind)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("parseTargets = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

package pkg

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

// realApt is the registry of this machine's pkg functions when they are
// apt's; the test is skipped elsewhere.
func realApt(t *testing.T) *modules.Registry {
	t.Helper()
	h := cmd.SystemHost()
	if detect(h) != "apt" {
		t.Skip("not an apt/dpkg host: the apt provider is tested with fakes only")
	}
	return modtest.Registry(newApt(h).specs())
}

// dpkgInstalled reads dpkg's database apart from the code under test:
// {name: version} of the packages dpkg has installed.
func dpkgInstalled(t *testing.T) map[string]any {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Status}\t${Package}\t${Version}\n").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 3 && f[0] == "installed" {
			want[f[1]] = f[2]
		}
	}
	return want
}

func TestAptListAndVersion(t *testing.T) {
	r := realApt(t)
	want := dpkgInstalled(t)
	ctx := context.Background()
	run := func(fun string, arg ...any) modules.Result {
		return r.Run(ctx, fun, arg, modules.Job{Fun: fun}, &modules.Env{})
	}
	res := run("pkg.list_pkgs")
	if !reflect.DeepEqual(res.Return, want) {
		got, _ := res.Return.(map[string]any)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("list_pkgs[%s] = %v, dpkg-query says %v", k, got[k], v)
			}
		}
		t.Fatalf("list_pkgs has %d packages, dpkg-query %d", len(got), len(want))
	}
	asList := run("pkg.list_pkgs", modtest.Kw("versions_as_list", true)).Return.(map[string]any)
	if l, ok := asList["dpkg"].([]any); !ok || len(l) != 1 || l[0] != want["dpkg"] {
		t.Fatalf("list_pkgs versions_as_list: dpkg = %#v", asList["dpkg"])
	}
	globbed := map[string]any{}
	for k, v := range want {
		if strings.HasPrefix(k, "dpkg") {
			globbed[k] = v
		}
	}
	modtest.RunCalls(t, r, []modtest.Call{
		{"version of one", "pkg.version", []any{"dpkg"}, want["dpkg"], 0},
		{"version of one not installed", "pkg.version", []any{"no-such-package-brine"}, "", 0},
		{"version of several", "pkg.version", []any{"dpkg", "no-such-package-brine"}, map[string]any{"dpkg": want["dpkg"], "no-such-package-brine": ""}, 0},
		{"version as list", "pkg.version", []any{"dpkg", modtest.Kw("versions_as_list", true)}, []any{want["dpkg"]}, 0},
		{"version glob", "pkg.version", []any{"dpkg*"}, globbed, 0},
		{"removed list has no installed package", "pkg.version", []any{"dpkg", modtest.Kw("removed", true)}, "", 0},
		{"version_cmp", "pkg.version_cmp", []any{"1:1.0", "2.0"}, int64(1), 0},
		{"version_cmp ignore_epoch", "pkg.version_cmp", []any{"1:1.0", "2.0", modtest.Kw("ignore_epoch", true)}, int64(-1), 0},
		{"normalize_name", "pkg.normalize_name", []any{"dpkg:all"}, "dpkg", 0},
		{"parse_arch", "pkg.parse_arch", []any{"zsh:i386"}, map[string]any{"name": "zsh", "arch": "i386"}, 0},
		{"latest_version with repo", "pkg.latest_version", []any{"dpkg", modtest.Kw("repo", "x")},
			"ERROR executing 'pkg.latest_version': The 'repo' argument is invalid, use 'fromrepo' instead", 1},
		{"latest_version of nothing", "pkg.latest_version", nil, "", 0},
	})
	// latest_version of an installed package: "" or a newer version.
	latest := run("pkg.latest_version", "dpkg", modtest.Kw("refresh", false)).Return
	if v, ok := latest.(string); !ok || (v != "" && debCompare(v, want["dpkg"].(string)) <= 0) {
		t.Fatalf("latest_version dpkg = %#v (installed %v)", latest, want["dpkg"])
	}
	if res := run("pkg.list_upgrades", modtest.Kw("refresh", false)); res.Retcode != 0 {
		t.Fatalf("list_upgrades = %#v", res)
	} else if ups, ok := res.Return.(map[string]any); !ok {
		t.Fatalf("list_upgrades = %#v", res.Return)
	} else {
		for n, v := range ups {
			if cur, ok := want[n].(string); ok && debCompare(v.(string), cur) <= 0 {
				t.Errorf("list_upgrades %s: %v is not newer than %s", n, v, cur)
			}
		}
	}
}

// Installing and removing a real package, when this runs as root on a
// host whose apt can fetch one.
func TestAptInstallRemove(t *testing.T) {
	r := realApt(t)
	if os.Geteuid() != 0 {
		t.Skip("not root: apt-get cannot install here")
	}
	const pkg = "hello"
	if _, installed := dpkgInstalled(t)[pkg]; installed {
		t.Skipf("%s is installed already; this test installs and removes it", pkg)
	}
	out, err := exec.Command("apt-cache", "policy", pkg).Output()
	if err != nil || !strings.Contains(string(out), "Candidate:") || strings.Contains(string(out), "Candidate: (none)") {
		t.Skipf("apt has no candidate for %s (run apt-get update?): %s", pkg, out)
	}
	var cand string
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Candidate: "); ok {
			cand = v
		}
	}
	t.Cleanup(func() {
		if _, left := dpkgInstalled(t)[pkg]; left {
			_ = exec.Command("apt-get", "-y", "-q", "purge", pkg).Run()
		}
	})
	// Long enough for a slow mirror, bounded all the same.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(fun string, arg ...any) modules.Result {
		return r.Run(ctx, fun, arg, modules.Job{Fun: fun}, &modules.Env{})
	}
	check := func(what string, got modules.Result, want any) {
		t.Helper()
		if got.Retcode != 0 || !reflect.DeepEqual(got.Return, want) {
			t.Fatalf("%s = %#v (retcode %d), want %#v", what, got.Return, got.Retcode, want)
		}
	}
	check("latest_version before", run("pkg.latest_version", pkg, modtest.Kw("refresh", false)), cand)
	check("install", run("pkg.install", pkg), map[string]any{pkg: change("", cand)})
	check("version", run("pkg.version", pkg), cand)
	check("latest_version when newest is installed", run("pkg.latest_version", pkg, modtest.Kw("refresh", false)), "")
	check("upgrade_available", run("pkg.upgrade_available", pkg, modtest.Kw("refresh", false)), false)
	check("install again changes nothing", run("pkg.install", modtest.Kw("pkgs", []any{pkg})), map[string]any{})
	check("install pinned to the installed version", run("pkg.install", pkg, modtest.Kw("version", cand)), map[string]any{})
	check("remove", run("pkg.remove", pkg), map[string]any{pkg: change(cand, "")})
	check("remove again changes nothing", run("pkg.remove", pkg), map[string]any{})
	check("install with version", run("pkg.install", modtest.Kw("pkgs", []any{map[string]any{pkg: cand}})), map[string]any{pkg: change("", cand)})
	check("purge", run("pkg.purge", pkg), map[string]any{"removed": map[string]any{}, "installed": map[string]any{pkg: change(cand, "")}})

	res := run("pkg.install", "no-such-package-brine")
	want := "ERROR: Problem encountered installing package(s). Additional info follows:\n\nchanges:\n    ----------\nerrors:\n    - E: Unable to locate package no-such-package-brine"
	if res.Retcode != 1 || res.Return != want {
		t.Fatalf("install of a missing package = %#v\nwant %q", res.Return, want)
	}
	res = run("pkg.install", pkg, modtest.Kw("version", ">=999"))
	want = "ERROR: Problem encountered installing package(s). Additional info follows:\n\nchanges:\n    ----------\nerrors:\n    - No version matching 'hello>=999' could be found (available: " + cand + ")"
	if res.Retcode != 1 || res.Return != want {
		t.Fatalf("install of a version apt does not have = %#v\nwant %q", res.Return, want)
	}
	if res := run("pkg.refresh_db"); res.Retcode != 0 || len(res.Return.(map[string]any)) == 0 {
		t.Fatalf("refresh_db = %#v", res)
	}
}

// The parts of the apt provider a real host cannot show: a dpkg lock
// held by another process, a failing upgrade, and apt-get update's
// report.
func TestAptFake(t *testing.T) {
	h, state := modtest.FakeHost(t, map[string]string{
		"dpkg-query": `cat $D/status`,
		"dpkg":       `echo amd64`,
		"apt-cache":  `cat $D/policy`,
		"apt-get": `echo "$@" >> $D/calls
case "$*" in
*" update") cat $D/update; exit 0 ;;
*" upgrade")
  n=$(cat $D/tries 2>/dev/null || echo 0); echo $((n+1)) > $D/tries
  if [ "$n" = 0 ]; then echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 42 (apt-get)" >&2; exit 100; fi
  sed -i 's/ 2.0-1 / 2.0-2 /' $D/status
  echo "E: Sub-process /usr/bin/dpkg returned an error code (1)" >&2; exit 100 ;;
esac`,
	}, map[string]string{"/var/lib/dpkg/status": ""})
	modtest.WriteState(t, state, map[string]string{
		"status": "install ok installed dpkg 1.21.22 amd64\n" +
			"install ok installed foo 2.0-1 amd64\n" +
			"install ok installed libfoo 1.0 i386\n" +
			"deinstall ok config-files gone 3.0 amd64\n" +
			"unknown ok not-installed never  amd64\n" +
			"purge ok installed stuck 4.0 all\n",
		"update": "Hit:1 http://deb.debian.org/debian bookworm InRelease\n" +
			"Get:2 http://deb.debian.org/debian bookworm-updates InRelease [55.4 kB]\n" +
			"Ign:3 http://example.org/repo stable InRelease\n" +
			"Err:4 http://example.org/broken stable Release\n" +
			"Reading package lists...\n",
		"policy": "foo:\n  Installed: 2.0-1\n  Candidate: 2.0-2\n  Version table:\n" +
			"bar:\n  Installed: (none)\n  Candidate: (none)\n",
	})
	a := newApt(h)
	a.lockWait = func(int) time.Duration { return 0 }
	specs := a.specs()
	for _, s := range specs {
		s.Fn = reportInvocation(s.Fn)
	}
	r := modtest.Registry(specs)
	modtest.RunCalls(t, r, []modtest.Call{
		{"list_pkgs", "pkg.list_pkgs", nil, map[string]any{"dpkg": "1.21.22", "foo": "2.0-1", "libfoo:i386": "1.0", "stuck": "4.0"}, 0},
		{"list_pkgs removed", "pkg.list_pkgs", []any{modtest.Kw("removed", true)}, map[string]any{"gone": "3.0"}, 0},
		{"list_pkgs purge_desired", "pkg.list_pkgs", []any{modtest.Kw("purge_desired", true)}, map[string]any{"stuck": "4.0"}, 0},
		{"latest_version", "pkg.latest_version", []any{"foo", "bar", modtest.Kw("refresh", false)}, map[string]any{"foo": "2.0-2", "bar": ""}, 0},
		{"refresh_db", "pkg.refresh_db", nil, map[string]any{
			"http://deb.debian.org/debian bookworm InRelease":         nil,
			"http://deb.debian.org/debian bookworm-updates InRelease": true,
			"http://example.org/repo stable InRelease":                false,
			"http://example.org/broken stable Release":                false,
		}, 0},
		{"install from a relative path", "pkg.install", []any{modtest.Kw("sources", []any{map[string]any{"foo": "foo.deb"}})},
			"ERROR executing 'pkg.install': Path foo.deb is either not absolute or an invalid protocol", 1},
		{"install from salt:// without a master", "pkg.install", []any{modtest.Kw("sources", []any{map[string]any{"foo": "salt://foo.deb"}})},
			"ERROR: Unable to cache salt://foo.deb: this minion has no master file server", 1},
		{"refresh_db failhard", "pkg.refresh_db", []any{modtest.Kw("failhard", true)}, "ERROR: Error getting repos: http://example.org/broken stable Release", 1},
		{"upgrade that fails after waiting for the lock", "pkg.upgrade", []any{modtest.Kw("refresh", false)},
			"ERROR: Problem encountered upgrading packages. Additional info follows:\n\n" +
				"changes:\n    ----------\n    foo:\n        ----------\n        new:\n            2.0-2\n        old:\n            2.0-1\n" +
				"result:\n    ----------\n    pid:\n        PID\n    retcode:\n        100\n    stderr:\n" +
				"        E: Sub-process /usr/bin/dpkg returned an error code (1)\n    stdout:", 1},
	})
	if calls := modtest.ReadState(t, state, "calls"); strings.Count(calls, "upgrade") != 2 ||
		!strings.Contains(calls, "-q -y -o DPkg::Options::=--force-confold -o DPkg::Options::=--force-confdef upgrade") {
		t.Fatalf("apt-get calls:\n%s", calls)
	}
}

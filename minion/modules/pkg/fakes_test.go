package pkg

import (
	"strings"
	"testing"

	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

// fakeApk is apk as far as the provider uses it, over two state files:
// installed (apk info -v lines) and repo (the newest name-version of
// each package the repositories have).
const fakeApk = `
pkgre() { echo "^$1-[^-]*-r[0-9]*\$"; }
case "$1" in
info)
  case "$2" in
  -v) cat $D/installed ;;
  -L) grep -q "$(pkgre $3)" $D/installed || exit 1; echo "$(grep "$(pkgre $3)" $D/installed) contains:"; echo "usr/bin/$3" ;;
  -W) if [ "$3" = /bin/busybox ]; then echo "/bin/busybox is owned by busybox-1.36.1-r5"; else echo "ERROR: $3: Could not find owner package"; fi ;;
  esac ;;
update) [ -f $D/offline ] && { echo "ERROR: unable to fetch index"; exit 1; }; echo "OK: 2 distinct packages available" ;;
search) grep "$(pkgre $2)" $D/repo ;;
upgrade)
  i=0
  while read line; do
    n=${line%-*-*}; new=$(grep "$(pkgre $n)" $D/repo)
    if [ -n "$new" ] && [ "$new" != "$line" ]; then
      i=$((i+1)); echo "($i/1) Upgrading $n (${line#$n-} -> ${new#$n-})"
      [ "$2" = -s ] || sed -i "s/^$line\$/$new/" $D/installed
    fi
  done < $D/installed
  [ "$2" = -s ] || [ ! -f $D/brokenupgrade ] || { echo "ERROR: upgrade failed" >&2; exit 2; } ;;
add)
  shift; [ "$1" = -u ] && shift
  for p; do
    new=$(grep "$(pkgre $p)" $D/repo) || { echo "ERROR: unable to select packages:" >&2; echo "  $p (no such package):" >&2; exit 1; }
    grep -v "$(pkgre $p)" $D/installed > $D/tmp; echo "$new" >> $D/tmp; sort $D/tmp > $D/installed
  done ;;
del)
  shift; [ "$1" = --purge ] && { shift; echo purge >> $D/calls; }
  for p; do grep -q "$(pkgre $p)" $D/installed || { echo "ERROR: No such package: $p" >&2; exit 1; }; grep -v "$(pkgre $p)" $D/installed > $D/tmp; mv $D/tmp $D/installed; done ;;
esac
`

func TestApkFake(t *testing.T) {
	h, state := modtest.FakeHost(t, map[string]string{"apk": fakeApk}, map[string]string{"/etc/os-release": "ID=alpine\n", "/etc/apk/": ""})
	if p := detect(h); p != "apk" {
		t.Fatalf("detect = %q", p)
	}
	modtest.WriteState(t, state, map[string]string{
		"installed": "busybox-1.36.1-r5\nmusl-1.2.4-r1\nssl_client-1.36.1-r5\n",
		"repo":      "busybox-1.36.1-r5\nmusl-1.2.4-r2\nssl_client-1.36.1-r5\ncurl-8.5.0-r0\nlibcurl-8.5.0-r0\n",
	})
	r := modtest.Registry(specsFor(h))
	modtest.RunCalls(t, r, []modtest.Call{
		{"list_pkgs", "pkg.list_pkgs", nil, map[string]any{"busybox": "1.36.1-r5", "musl": "1.2.4-r1", "ssl_client": "1.36.1-r5"}, 0},
		{"list_pkgs as lists", "pkg.list_pkgs", []any{true}, map[string]any{"busybox": []any{"1.36.1-r5"}, "musl": []any{"1.2.4-r1"}, "ssl_client": []any{"1.36.1-r5"}}, 0},
		{"list_pkgs removed", "pkg.list_pkgs", []any{modtest.Kw("removed", true)}, map[string]any{}, 0},
		{"version", "pkg.version", []any{"musl"}, "1.2.4-r1", 0},
		{"version of several", "pkg.version", []any{"musl", "curl"}, map[string]any{"musl": "1.2.4-r1", "curl": ""}, 0},
		{"latest_version of an upgrade", "pkg.latest_version", []any{"musl"}, "1.2.4-r2", 0},
		{"latest_version of several", "pkg.latest_version", []any{"musl", "busybox", "curl", "nope"},
			map[string]any{"musl": "1.2.4-r2", "busybox": "", "curl": "8.5.0-r0", "nope": ""}, 0},
		{"list_upgrades", "pkg.list_upgrades", nil, map[string]any{"musl": "1.2.4-r2"}, 0},
		{"refresh_db", "pkg.refresh_db", nil, true, 0},
		{"install", "pkg.install", []any{"curl"}, map[string]any{"curl": change("", "8.5.0-r0")}, 0},
		{"install a comma list", "pkg.install", []any{"libcurl,curl"}, map[string]any{"libcurl": change("", "8.5.0-r0")}, 0},
		{"install what is missing", "pkg.install", []any{modtest.Kw("pkgs", []any{"nope"})},
			"ERROR: Problem encountered installing package(s). Additional info follows:\n\nchanges:\n    ----------\n" +
				"errors:\n    - ERROR: unable to select packages:\n        nope (no such package):", 1},
		{"install nothing", "pkg.install", nil, map[string]any{}, 0},
		{"remove", "pkg.remove", []any{modtest.Kw("pkgs", []any{"curl", map[string]any{"libcurl": "8.5.0-r0"}})},
			map[string]any{"curl": change("8.5.0-r0", ""), "libcurl": change("8.5.0-r0", "")}, 0},
		{"remove what is not there", "pkg.remove", []any{"curl"},
			"ERROR: Problem encountered removing package(s). Additional info follows:\n\nchanges:\n    ----------\nerrors:\n    - ERROR: No such package: curl", 1},
		{"upgrade", "pkg.upgrade", nil, map[string]any{"changes": map[string]any{"musl": change("1.2.4-r1", "1.2.4-r2")}, "result": true, "comment": ""}, 0},
		{"file_list", "pkg.file_list", []any{"musl"}, map[string]any{"errors": []any{}, "packages": map[string]any{"musl": []any{"usr/bin/musl"}}}, 0},
		{"file_list of nothing", "pkg.file_list", nil, "Package name should be provided", 0},
		{"owner", "pkg.owner", []any{"/bin/busybox", "/nope"},
			map[string]any{"/bin/busybox": "busybox-1.36.1-r5", "/nope": "Could not find owner package"}, 0},
		{"purge", "pkg.purge", []any{"ssl_client"}, map[string]any{"ssl_client": change("1.36.1-r5", "")}, 0},
		{"no available_version in apkpkg", "pkg.available_version", []any{"musl"}, "'pkg.available_version' is not available.", 1},
	})
	if !strings.Contains(modtest.ReadState(t, state, "calls"), "purge") {
		t.Fatal("pkg.purge did not run apk del --purge")
	}
	modtest.WriteState(t, state, map[string]string{"offline": ""})
	modtest.RunCalls(t, r, []modtest.Call{
		{"refresh_db offline", "pkg.refresh_db", nil,
			"ERROR: Problem encountered installing package(s). Additional info follows:\n\nchanges:\n    False\nerrors:\n    - ERROR: unable to fetch index", 1},
	})
}

// fakeRPM is rpm and fakeDNF dnf over two state files: rpmdb ("name
// epoch version release arch" lines) and repo ("name arch epoch version
// release repo" lines).
const (
	fakeRPM = `
case "$1" in
--eval) echo x86_64 ;;
-qa) awk '{printf "%s_|-%s_|-%s_|-%s_|-%s_|-(none)_|-1700000000\n", $1, $2, $3, $4, $5}' $D/rpmdb ;;
esac`
	fakeDNF = `
echo "$@" >> $D/calls
evr='{ v = $4 "-" $5; if ($3 != "0") v = $3 ":" v }'
case "$*" in
"--quiet --assumeyes clean expire-cache") exit 0 ;;
"--quiet --assumeyes check-update") exit 100 ;;
"--quiet list --available"*)
  shift 3; echo "Available Packages"
  for n; do awk -v n="$n" "\$1 == n $evr \$1 == n { print \$1 \".\" \$2, v, \$6 }" $D/repo; done ;;
"--quiet list --upgrades")
  echo "Available Upgrades"
  awk "$evr { print \$1 \".\" \$2, v, \$6 }" $D/repo | while read na v r; do n=${na%.*}
    cur=$(awk -v n="$n" '$1 == n { v = $3 "-" $4; if ($2 != "(none)") v = $2 ":" v; print v; exit }' $D/rpmdb); [ -n "$cur" ] && [ "$cur" != "$v" ] && echo "$na $v $r"; done ;;
"-y install --best --allowerasing"*)
  shift 4
  for t; do
    line=$(awk -v t="$t" '$1 == t || $1 "-" $4 "-" $5 == t || $1 "-" $4 == t { print $1, $3, $4, $5, $2 }' $D/repo)
    [ -n "$line" ] || { echo "No match for argument: $t"; echo "Error: Unable to find a match: $t" >&2; exit 1; }
    echo "$line" >> $D/rpmdb
  done ;;
"-y remove"*)
  shift 2
  for t; do awk -v t="$t" '!($1 == t || $1 "-" $3 "-" $4 == t)' $D/rpmdb > $D/tmp; mv $D/tmp $D/rpmdb; done ;;
"--quiet -y upgrade")
  awk 'NR == FNR { have[$1]; next } $1 in have { print $1, $3, $4, $5, $2 }' $D/rpmdb $D/repo > $D/tmp; mv $D/tmp $D/rpmdb ;;
esac`
)

func TestDNFFake(t *testing.T) {
	h, state := modtest.FakeHost(t, map[string]string{"dnf": fakeDNF, "rpm": fakeRPM}, map[string]string{"/etc/os-release": "ID=fedora\n"})
	if p := detect(h); p != "dnf" {
		t.Fatalf("detect = %q", p)
	}
	modtest.WriteState(t, state, map[string]string{
		"rpmdb": "bash (none) 5.2.26 3.fc40 x86_64\nglibc (none) 2.39 17.fc40 x86_64\nglibc (none) 2.39 17.fc40 i686\n" +
			"tzdata (none) 2024a 5.fc40 noarch\nshadow-utils 2 4.15.1 3.fc40 x86_64\n",
		"repo": "bash x86_64 0 5.2.26 4.fc40 updates\nglibc x86_64 0 2.39 17.fc40 fedora\ntzdata noarch 0 2024a 5.fc40 fedora\n" +
			"shadow-utils x86_64 2 4.15.1 3.fc40 fedora\nhtop x86_64 0 3.3.0 3.fc40 fedora\n",
	})
	r := modtest.Registry(specsFor(h))
	modtest.RunCalls(t, r, []modtest.Call{
		{"list_pkgs", "pkg.list_pkgs", nil, map[string]any{"bash": "5.2.26-3.fc40", "glibc": "2.39-17.fc40", "glibc.i686": "2.39-17.fc40",
			"tzdata": "2024a-5.fc40", "shadow-utils": "2:4.15.1-3.fc40"}, 0},
		{"version", "pkg.version", []any{"shadow-utils"}, "2:4.15.1-3.fc40", 0},
		{"latest_version", "pkg.latest_version", []any{"bash", "glibc", "htop"}, map[string]any{"bash": "5.2.26-4.fc40", "glibc": "", "htop": "3.3.0-3.fc40"}, 0},
		{"upgrade_available", "pkg.upgrade_available", []any{"bash"}, true, 0},
		{"list_upgrades", "pkg.list_upgrades", nil, map[string]any{"bash": "5.2.26-4.fc40"}, 0},
		{"refresh_db: updates available", "pkg.refresh_db", nil, true, 0},
		{"install", "pkg.install", []any{"htop"}, map[string]any{"htop": change("", "3.3.0-3.fc40")}, 0},
		{"install missing", "pkg.install", []any{modtest.Kw("pkgs", []any{"nope"})},
			"ERROR: Error occurred installing package(s). Additional info follows:\n\nchanges:\n    ----------\n" +
				"errors:\n    - No match for argument: nope\n      Error: Unable to find a match: nope", 1},
		{"remove", "pkg.remove", []any{"htop"}, map[string]any{"htop": change("3.3.0-3.fc40", "")}, 0},
		{"remove what is not installed", "pkg.remove", []any{"htop"}, map[string]any{}, 0},
		{"upgrade", "pkg.upgrade", []any{modtest.Kw("refresh", false)}, map[string]any{"bash": change("5.2.26-3.fc40", "5.2.26-4.fc40"),
			"glibc.i686": change("2.39-17.fc40", "")}, 0},
		{"version_cmp", "pkg.version_cmp", []any{"2:1.0-1", "3.0-1"}, int64(1), 0},
	})
	if calls := modtest.ReadState(t, state, "calls"); !strings.Contains(calls, "-y install --best --allowerasing htop") {
		t.Fatalf("dnf calls:\n%s", calls)
	}
}

const fakeOpkg = `
case "$1" in
list-installed) cat $D/installed ;;
list-upgradable) while read n dash v; do new=$(awk -v n="$n" '$1 == n { print $3 }' $D/feed); [ "$new" != "$v" ] && echo "$n - $v - $new"; done < $D/installed ;;
list) awk -v n="$2" '$1 == n' $D/feed ;;
update) echo "Downloading http://downloads.openwrt.org/base/Packages.gz"; echo "Updated list of available packages in /var/opkg-lists/openwrt_base" ;;
install) shift; for p; do l=$(awk -v n="$p" '$1 == n' $D/feed); [ -n "$l" ] || { echo "Unknown package '$p'." >&2; exit 255; }; echo "$l" >> $D/installed; done ;;
remove) shift; for p; do awk -v n="$p" '$1 != n' $D/installed > $D/tmp; mv $D/tmp $D/installed; done ;;
upgrade) cp $D/feed $D/installed.new; awk 'NR==FNR { have[$1]; next } $1 in have' $D/installed $D/feed > $D/tmp; mv $D/tmp $D/installed ;;
esac`

func TestOpkgFake(t *testing.T) {
	h, state := modtest.FakeHost(t, map[string]string{"opkg": fakeOpkg}, map[string]string{"/etc/os-release": `ID="openwrt"` + "\n"})
	modtest.WriteState(t, state, map[string]string{
		"installed": "busybox - 1.36.1-1\ndropbear - 2022.82-5\n",
		"feed":      "busybox - 1.36.1-1\ndropbear - 2022.82-6\nhtop - 3.2.2-1\n",
	})
	r := modtest.Registry(specsFor(h))
	modtest.RunCalls(t, r, []modtest.Call{
		{"list_pkgs", "pkg.list_pkgs", nil, map[string]any{"busybox": "1.36.1-1", "dropbear": "2022.82-5"}, 0},
		{"version", "pkg.version", []any{"dropbear"}, "2022.82-5", 0},
		{"latest_version", "pkg.latest_version", []any{"dropbear", "busybox", "htop"}, map[string]any{"dropbear": "2022.82-6", "busybox": "", "htop": "3.2.2-1"}, 0},
		{"refresh_db", "pkg.refresh_db", nil, map[string]any{"openwrt_base": true}, 0},
		{"install", "pkg.install", []any{"htop"}, map[string]any{"htop": change("", "3.2.2-1")}, 0},
		{"install unknown", "pkg.install", []any{"nope"},
			"ERROR: Problem encountered installing package(s). Additional info follows:\n\nchanges:\n    ----------\nerrors:\n    - Unknown package 'nope'.", 1},
		{"upgrade", "pkg.upgrade", nil, map[string]any{"dropbear": change("2022.82-5", "2022.82-6")}, 0},
		{"remove", "pkg.remove", []any{"htop"}, map[string]any{"htop": change("3.2.2-1", "")}, 0},
	})
}

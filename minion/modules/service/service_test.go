package service

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name     string
		programs map[string]string
		files    map[string]string
		want     string
	}{
		{"systemd booted", map[string]string{"systemctl": "", "rc-service": "", "rc-update": ""}, map[string]string{"/run/systemd/system/": "", "/etc/init.d/": ""}, "systemd"},
		{"systemd installed but not booted", map[string]string{"systemctl": ""}, map[string]string{"/etc/init.d/": ""}, "sysv"},
		{"openrc", map[string]string{"rc-service": "", "rc-update": ""}, map[string]string{"/etc/init.d/": ""}, "openrc"},
		{"rc-service alone is not openrc", map[string]string{"rc-service": ""}, map[string]string{"/etc/init.d/": ""}, "sysv"},
		{"sysv", nil, map[string]string{"/etc/init.d/": ""}, "sysv"},
		{"nothing", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := modtest.FakeHost(t, tc.programs, tc.files)
			if got := detect(h); got != tc.want {
				t.Fatalf("detect = %q, want %q", got, tc.want)
			}
		})
	}
	h, _ := modtest.FakeHost(t, nil, nil)
	r := modtest.Registry(specsFor(h))
	if res := r.Run(context.Background(), "service.start", []any{"sshd"}, modules.Job{}, &modules.Env{}); res.Return != "'service.start' is not available." {
		t.Fatalf("service.start without an init system = %#v", res)
	}
}

// initScript is a fake init script: start and stop flip a state file that
// status reads; every action is logged.
const initScript = `#!/bin/sh
n=$(basename $0)
echo "$n $1" >> $D/log
case "$1" in
start) touch $D/$n.up ;;
stop) rm -f $D/$n.up ;;
restart|force-reload) touch $D/$n.up ;;
reload) [ "$n" != beta ] || exit 3 ;;
status) [ -f $D/$n.up ] || exit 3 ;;
enable) ln -sf ../init.d/$n $R/etc/rc.d/S50$n ;;
disable) rm -f $R/etc/rc.d/S50$n ;;
*) exit 3 ;;
esac
`

// Boot link tools: Debian's update-rc.d and Red Hat's chkconfig, acting
// on runlevel 3's links.
const (
	fakeUpdateRCD = `echo "update-rc.d $*" >> $D/log
cd $R/etc/rc3.d
case "$2" in
defaults) [ -e K01$1 ] || [ -e S01$1 ] || ln -s ../init.d/$1 S01$1 ;;
enable) [ -e K01$1 ] && mv K01$1 S01$1; true ;;
disable) [ -e S01$1 ] && mv S01$1 K01$1; true ;;
esac`
	fakeChkconfig = `echo "chkconfig $*" >> $D/log
cd $R/etc/rc3.d
case "$2" in on) ln -sf ../init.d/$1 S50$1 ;; off) rm -f S50$1 ;; esac`
)

func sysvFiles() map[string]string {
	return map[string]string{
		"/etc/init.d/alpha":    initScript,
		"/etc/init.d/beta":     initScript,
		"/etc/init.d/README":   "not a service",
		"/etc/rc.d/":           "",
		"@/etc/rc3.d/S01alpha": "../init.d/alpha",
		"@/etc/rcS.d/S02gamma": "../init.d/gamma", // a start link without a script
		"@/etc/rc2.d/S01beta":  "../init.d/beta",  // another runlevel
	}
}

func TestSysV(t *testing.T) {
	for _, tool := range []string{"update-rc.d", "chkconfig", "the script"} {
		t.Run(tool, func(t *testing.T) {
			programs := map[string]string{"runlevel": `echo "N 3"`}
			switch tool {
			case "update-rc.d":
				programs[tool] = fakeUpdateRCD
			case "chkconfig":
				programs[tool] = fakeChkconfig
			}
			h, state := modtest.FakeHost(t, programs, sysvFiles())
			if p := detect(h); p != "sysv" {
				t.Fatalf("detect = %q", p)
			}
			r := modtest.Registry(specsFor(h))
			modtest.RunCalls(t, r, []modtest.Call{
				{"get_all", "service.get_all", nil, []any{"alpha", "beta", "gamma"}, 0},
				{"get_enabled", "service.get_enabled", nil, []any{"alpha", "gamma"}, 0},
				{"get_disabled", "service.get_disabled", nil, []any{"beta"}, 0},
				{"available", "service.available", []any{"beta"}, true, 0},
				{"available README", "service.available", []any{"README"}, false, 0},
				{"missing", "service.missing", []any{"nope"}, true, 0},
				{"status stopped", "service.status", []any{"alpha"}, false, 0},
				{"start", "service.start", []any{"alpha"}, true, 0},
				{"status started", "service.status", []any{"alpha"}, true, 0},
				{"status glob", "service.status", []any{"[ab]*"}, map[string]any{"alpha": true, "beta": false}, 0},
				{"get_running", "service.get_running", nil, []any{"alpha"}, 0},
				{"reload", "service.reload", []any{"alpha"}, true, 0},
				{"reload unsupported", "service.reload", []any{"beta"}, false, 0},
				{"restart", "service.restart", []any{"beta"}, true, 0},
				{"stop", "service.stop", []any{"alpha"}, true, 0},
				{"start a missing service", "service.start", []any{"nope"}, false, 0},
				{"start outside init.d", "service.start", []any{"../../bin/sh"}, false, 0},
				{"enabled", "service.enabled", []any{"alpha"}, true, 0},
				{"disabled", "service.disabled", []any{"beta"}, true, 0},
				{"enable", "service.enable", []any{"beta"}, true, 0},
				{"enabled after enable", "service.enabled", []any{"beta"}, true, 0},
				{"disable", "service.disable", []any{"beta"}, true, 0},
				{"enabled after disable", "service.enabled", []any{"beta"}, false, 0},
				{"too many arguments", "service.start", []any{"a", "b"},
					"Passed invalid arguments to service.start: start() takes 1 positional arguments but 2 were given\n\nUsage: service.start(name)\n\nStart a service; return whether its init script succeeded.", 1},
			})
			log := modtest.ReadState(t, state, "log")
			for _, want := range []string{"alpha start", "alpha reload", "beta restart", "alpha stop"} {
				if !strings.Contains(log, want+"\n") {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
			if tool == "update-rc.d" && !strings.Contains(log, "update-rc.d beta defaults\nupdate-rc.d beta enable\nupdate-rc.d beta disable\n") {
				t.Errorf("update-rc.d calls:\n%s", log)
			}
		})
	}
}

// Without the runlevel program (a container, BusyBox) the runlevel is
// Debian's default, 2.
func TestSysVDefaultRunlevel(t *testing.T) {
	h, _ := modtest.FakeHost(t, nil, sysvFiles())
	modtest.RunCalls(t, modtest.Registry(specsFor(h)), []modtest.Call{
		{"get_enabled", "service.get_enabled", nil, []any{"beta", "gamma"}, 0},
	})
}

// status with sig looks for a process, as Salt's status.pid does.
func TestStatusSig(t *testing.T) {
	sig := "brine-status-sig-" + filepath.Base(t.TempDir())
	p := exec.Command("/bin/sh", "-c", "read x", sig)
	stdin, err := p.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // ends the read
		_ = p.Wait()
	}()
	h := cmd.Host{Path: "/usr/bin:/bin", Root: "/"}
	modtest.RunCalls(t, modtest.Registry((&sysv{h: h}).specs()), []modtest.Call{
		{"a process with the signature", "service.status", []any{"whatever", sig}, true, 0},
		{"none with it", "service.status", []any{"whatever", sig + "-not"}, false, 0},
	})
}

// This machine's own init scripts, when it has SysV init (and is not run
// by systemd): read-only calls checked against the files and the scripts.
func TestSysVReal(t *testing.T) {
	h := cmd.SystemHost()
	if detect(h) != "sysv" {
		t.Skipf("the host's init system is %q, not SysV", detect(h))
	}
	r := modtest.Registry(specsFor(h))
	var scripts []any
	entries, err := os.ReadDir("/etc/init.d")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "README" && !strings.HasPrefix(e.Name(), ".") {
			scripts = append(scripts, e.Name())
		}
	}
	level := "2"
	if out, err := exec.Command("runlevel").Output(); err == nil {
		if f := strings.Fields(string(out)); len(f) == 2 && f[1] != "unknown" {
			level = f[1]
		}
	}
	var enabled []any
	for _, dir := range []string{"/etc/rc" + level + ".d", "/etc/rcS.d"} {
		links, _ := os.ReadDir(dir)
		for _, l := range links {
			if n := strings.TrimLeft(strings.TrimPrefix(l.Name(), "S"), "0123456789"); strings.HasPrefix(l.Name(), "S") && !slices.Contains(enabled, any(n)) {
				enabled = append(enabled, n)
			}
		}
	}
	slices.SortFunc(enabled, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	all := slices.Clone(scripts)
	for _, n := range enabled {
		if !slices.Contains(all, n) {
			all = append(all, n)
		}
	}
	slices.SortFunc(all, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	ctx := context.Background()
	run := func(fun string, arg ...any) any {
		return r.Run(ctx, fun, arg, modules.Job{Fun: fun}, &modules.Env{}).Return
	}
	if got := run("service.get_all"); !reflect.DeepEqual(got, all) {
		t.Fatalf("get_all = %v, /etc/init.d has %v", got, all)
	}
	if got := run("service.get_enabled"); !reflect.DeepEqual(got, anyOrEmpty(enabled)) {
		t.Fatalf("get_enabled = %v, the start links of runlevel %s are %v", got, level, enabled)
	}
	for _, n := range scripts {
		name := n.(string)
		want := exec.Command(filepath.Join("/etc/init.d", name), "status").Run() == nil
		if got := run("service.status", name); got != want {
			t.Errorf("status %s = %v, its script says %v", name, got, want)
		}
		if got := run("service.available", name); got != true {
			t.Errorf("available %s = %v", name, got)
		}
	}
	if got := run("service.available", "no-such-service-brine"); got != false {
		t.Errorf("available of a missing service = %v", got)
	}
}

func anyOrEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// Fake OpenRC: rc-service runs the actions on state files, rc-update
// keeps the runlevels in $D/levels ("name level..." lines).
const (
	fakeRCService = `echo "rc-service $*" >> $D/log
grep -q "^$1 \|^$1\$" $D/levels || { echo " * rc-service: service '$1' does not exist" >&2; exit 1; }
case "$2" in
start|restart) touch $D/$1.up ;;
stop) rm -f $D/$1.up ;;
status) [ -f $D/$1.up ] || { echo " * status: stopped"; exit 3; } ;;
esac`
	fakeRCUpdate = `echo "rc-update $*" >> $D/log
case "$1" in
-v) while read n levels; do printf '%20s | %s\n' "$n" "$levels"; done < $D/levels ;;
add) n=$2; shift 2; [ $# = 0 ] && set default
  for l; do awk -v n=$n -v l=$l '$1 == n { $0 = $0 " " l } 1' $D/levels > $D/tmp; mv $D/tmp $D/levels; done ;;
delete) n=$2; shift 2
  awk -v n=$n -v drop="$*" 'BEGIN { split(drop, d) } $1 == n { s = n; for (i = 2; i <= NF; i++) { keep = drop != ""; for (j in d) if ($i == d[j]) keep = 0; if (keep) s = s " " $i } $0 = s } 1' $D/levels > $D/tmp; mv $D/tmp $D/levels ;;
esac`
)

func TestOpenRC(t *testing.T) {
	h, state := modtest.FakeHost(t, map[string]string{"rc-service": fakeRCService, "rc-update": fakeRCUpdate}, nil)
	if p := detect(h); p != "openrc" {
		t.Fatalf("detect = %q", p)
	}
	modtest.WriteState(t, state, map[string]string{"levels": "chronyd boot\ncrond default\nsshd default\nhwdrivers\n"})
	r := modtest.Registry(specsFor(h))
	modtest.RunCalls(t, r, []modtest.Call{
		{"get_all", "service.get_all", nil, map[string]any{"chronyd": []any{"boot"}, "crond": []any{"default"}, "sshd": []any{"default"}, "hwdrivers": []any{}}, 0},
		{"get_enabled", "service.get_enabled", nil, map[string]any{"chronyd": []any{"boot"}, "crond": []any{"default"}, "sshd": []any{"default"}}, 0},
		{"get_disabled", "service.get_disabled", nil, []any{"hwdrivers"}, 0},
		{"available", "service.available", []any{"hwdrivers"}, true, 0},
		{"missing", "service.missing", []any{"nginx"}, true, 0},
		{"start", "service.start", []any{"sshd"}, true, 0},
		{"start missing", "service.start", []any{"nginx"}, false, 0},
		{"status", "service.status", []any{"sshd"}, true, 0},
		{"status glob", "service.status", []any{"*d"}, map[string]any{"chronyd": false, "crond": false, "sshd": true}, 0},
		{"get_running", "service.get_running", nil, []any{"sshd"}, 0},
		{"stop", "service.stop", []any{"sshd"}, true, 0},
		{"enabled", "service.enabled", []any{"crond"}, true, 0},
		{"enabled in a runlevel it is not in", "service.enabled", []any{"crond", modtest.Kw("runlevels", "boot")}, false, 0},
		{"enable", "service.enable", []any{"hwdrivers"}, true, 0},
		{"enabled after enable", "service.enabled", []any{"hwdrivers", modtest.Kw("runlevels", []any{"default"})}, true, 0},
		{"enable in other runlevels", "service.enable", []any{"crond", modtest.Kw("runlevels", []any{"boot", "sysinit"})}, true, 0},
		{"levels after", "service.get_enabled", nil, map[string]any{"chronyd": []any{"boot"}, "crond": []any{"boot", "sysinit"}, "sshd": []any{"default"}, "hwdrivers": []any{"default"}}, 0},
		{"disable one runlevel", "service.disable", []any{"crond", modtest.Kw("runlevels", "sysinit")}, true, 0},
		{"disable", "service.disable", []any{"sshd"}, true, 0},
		{"disabled", "service.disabled", []any{"sshd"}, true, 0},
		{"zap", "service.zap", []any{"sshd"}, true, 0},
	})
	log := modtest.ReadState(t, state, "log")
	for _, want := range []string{"rc-update add hwdrivers\n", "rc-update delete crond default\n", "rc-update add crond boot sysinit\n",
		"rc-update delete crond sysinit\n", "rc-update delete sshd\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// Fake systemctl, replaying what systemd 252 (Debian 12) prints. No test
// here runs against a real systemd: this machine was not booted with it.
const fakeSystemctl = `echo "systemctl $*" >> $D/log
unit() { for a; do case "$a" in *.service|*.socket|*.timer|*.target) echo "$a"; return ;; esac; done; }
u=$(unit "$@"); n=${u%.service}
known() { [ -f $R/usr/lib/systemd/system/$u ] || [ -f $R/etc/systemd/system/$u ] && [ ! -f $D/$u.unknown ]; }
case "$*" in
--version) echo "systemd 252 (252.36-1~deb12u1)"; echo "+PAM +AUDIT +SELINUX +APPARMOR" ;;
"--full --no-legend --no-pager") cat $D/units ;;
"--full --no-legend --no-pager list-unit-files") cat $D/unitfiles ;;
"--system daemon-reload") rm -f $D/*.changed $D/*.unknown ;;
"status "*)
  known || { echo "Unit $u could not be found." >&2; exit 4; }
  echo "● $u - $n"; echo "     Loaded: loaded (/lib/systemd/system/$u; enabled; preset: enabled)"
  [ -f $D/$u.changed ] && echo "Warning: The unit file, source configuration file or drop-ins of $u changed on disk. Run 'systemctl daemon-reload' to reload units."
  [ -f $D/$u.up ] || exit 3 ;;
"is-active "*) [ -f $D/$u.up ] ;;
"is-enabled "*) [ -f $D/$u.enabled ] ;;
start*|restart*|reload*|force-reload*|"--no-block "*)
  [ -f $D/$u.masked ] && { echo "Failed to $1 $u: Unit $u is masked." >&2; exit 1; }
  known || { echo "Failed to $1 $u: Unit $u not found." >&2; exit 5; }
  touch $D/$u.up ;;
stop*) rm -f $D/$u.up ;;
enable*) known || { echo "Failed to enable unit: Unit file $u does not exist." >&2; exit 1; }; touch $D/$u.enabled ;;
disable*) rm -f $D/$u.enabled ;;
"unmask "*) rm -f $D/$u.masked $R/etc/systemd/system/$u ;;
"mask "*) ln -sf /dev/null $R/etc/systemd/system/$u; touch $D/$u.masked ;;
esac`

func TestSystemd(t *testing.T) {
	h, state := modtest.FakeHost(t, map[string]string{"systemctl": fakeSystemctl, "update-rc.d": fakeUpdateRCD}, map[string]string{
		"/run/systemd/system/":                    "",
		"/usr/lib/systemd/system/cron.service":    "[Unit]",
		"/usr/lib/systemd/system/dbus.service":    "[Unit]",
		"/usr/lib/systemd/system/ssh.service":     "[Unit]",
		"/usr/lib/systemd/system/ssh.socket":      "[Unit]",
		"/usr/lib/systemd/system/getty@.service":  "[Unit]",
		"/usr/lib/systemd/system/apt-daily.timer": "[Unit]",
		"/usr/lib/systemd/system/README":          "not a unit",
		"@/lib/systemd/system":                    "../usr/lib/systemd/system",
		"/etc/systemd/system/custom.service":      "[Unit]",
		"/etc/init.d/cron":                        initScript, // has a unit: not a SysV service
		"/etc/init.d/legacy":                      initScript,
		"/etc/rc3.d/":                             "",
	})
	if p := detect(h); p != "systemd" {
		t.Fatalf("detect = %q", p)
	}
	modtest.WriteState(t, state, map[string]string{
		// systemctl --full --no-legend --no-pager
		"units": "  cron.service                 loaded active running Regular background program processing daemon\n" +
			"  dbus.service                 loaded active running D-Bus System Message Bus\n" +
			"● postgresql@15-main.service   loaded failed failed  PostgreSQL Cluster 15-main\n" +
			"  ssh.socket                   loaded active listening OpenBSD Secure Shell server socket\n" +
			"  systemd-journald.socket      loaded active running Journal Socket\n" +
			"  getty.target                 loaded active active  Login Prompts\n",
		// systemctl --full --no-legend --no-pager list-unit-files
		"unitfiles": "cron.service                               enabled         enabled\n" +
			"dbus.service                               static          -\n" +
			"getty@.service                             enabled         enabled\n" +
			"ssh.service                                disabled        enabled\n" +
			"ssh.socket                                 disabled        enabled\n" +
			"apt-daily.timer                            enabled         enabled\n" +
			"custom.service                             masked          enabled\n",
		"cron.service.up":        "",
		"cron.service.enabled":   "",
		"custom.service.unknown": "", // a local unit file systemd has not loaded yet
	})
	r := modtest.Registry(specsFor(h))
	modtest.RunCalls(t, r, []modtest.Call{
		{"get_all", "service.get_all", nil, []any{"apt-daily.timer", "cron", "custom", "dbus", "getty@", "legacy", "ssh", "ssh.socket"}, 0},
		{"get_running", "service.get_running", nil, []any{"cron", "dbus", "systemd-journald.socket"}, 0},
		{"get_enabled", "service.get_enabled", nil, []any{"apt-daily.timer", "cron", "getty@"}, 0},
		{"get_disabled", "service.get_disabled", nil, []any{"legacy", "ssh", "ssh.socket"}, 0},
		{"get_static", "service.get_static", nil, []any{"dbus"}, 0},
		{"status", "service.status", []any{"cron"}, true, 0},
		{"available", "service.available", []any{"ssh"}, true, 0},
		{"available after a daemon-reload", "service.available", []any{"custom"}, true, 0},
		{"status glob", "service.status", []any{"[cd]*"}, map[string]any{"cron": true, "custom": false, "dbus": false}, 0},
		{"missing", "service.missing", []any{"nope"}, true, 0},
		{"start", "service.start", []any{"ssh"}, true, 0},
		{"start unknown", "service.start", []any{"nope"}, "ERROR: Failed to start nope.service: Unit nope.service not found.", 1},
		{"stop", "service.stop", []any{"ssh"}, true, 0},
		{"restart no_block", "service.restart", []any{"dbus", modtest.Kw("no_block", true)}, true, 0},
		{"mask", "service.mask", []any{"ssh"}, true, 0},
		{"masked", "service.masked", []any{"ssh"}, true, 0},
		{"start masked", "service.start", []any{"ssh"}, "ERROR: Failed to start ssh.service: Unit ssh.service is masked.", 1},
		{"start unmasking", "service.start", []any{"ssh", modtest.Kw("unmask", true)}, true, 0},
		{"enabled", "service.enabled", []any{"cron"}, true, 0},
		{"disabled", "service.disabled", []any{"ssh"}, true, 0},
		{"enable", "service.enable", []any{"ssh"}, true, 0},
		{"enabled after enable", "service.enabled", []any{"ssh"}, true, 0},
		{"enable unknown", "service.enable", []any{"nope"}, "ERROR: Failed to enable unit: Unit file nope.service does not exist.", 1},
		{"disable", "service.disable", []any{"ssh"}, true, 0},
		{"enable a SysV script", "service.enable", []any{"legacy"}, true, 0},
		{"SysV script enabled", "service.enabled", []any{"legacy"}, false, 0}, // runlevel 2 here, the fake links runlevel 3
		{"systemctl_reload", "service.systemctl_reload", nil, true, 0},
	})
	log := modtest.ReadState(t, state, "log")
	for _, want := range []string{
		"systemctl status custom.service -n 0\n", "systemctl --system daemon-reload\n", "systemctl start ssh.service\n",
		"systemctl --no-block restart dbus.service\n", "systemctl unmask ssh.service\n", "systemctl enable ssh.service\n",
		"update-rc.d -f legacy defaults 99\n", "systemctl is-active cron.service\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

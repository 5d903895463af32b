package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/brine-project/brine/config"
)

// unit is a systemd unit file's [Service] section: each key's values in
// order (a key may repeat, and one value may list several words).
type unit map[string][]string

func readUnit(t testing.TB, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: %q is not key=value", path, line)
			}
			u[k] = append(u[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// words returns every value of key, split on spaces.
func (u unit) words(key string) []string {
	var out []string
	for _, v := range u[key] {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

func (u unit) last(key string) string {
	if v := u[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// writable reports whether the service can write path, and if not why:
// the paths ProtectSystem and ProtectHome take away, less ReadWritePaths
// and the directories systemd makes writable for it. A ReadWritePaths
// entry must exist when the service starts: unless "-" marks it optional,
// one of the unit's *Directory= settings has to make it.
func (u unit) writable(path string) (bool, string) {
	path = strings.Replace(path, "/var/run/", "/run/", 1)
	var readOnly []string
	switch u.last("ProtectSystem") {
	case "yes", "true":
		readOnly = []string{"/usr", "/boot", "/efi"}
	case "full":
		readOnly = []string{"/usr", "/boot", "/efi", "/etc"}
	case "strict":
		readOnly = []string{"/"}
	}
	if p := u.last("ProtectHome"); p != "" && p != "no" && p != "false" {
		for _, home := range []string{"/home", "/root", "/run/user"} {
			if within(path, home) {
				return false, "ProtectHome=" + p + " hides " + home
			}
		}
	}
	made := map[string]bool{}
	for key, base := range map[string]string{"ConfigurationDirectory": "/etc", "RuntimeDirectory": "/run",
		"StateDirectory": "/var/lib", "CacheDirectory": "/var/cache", "LogsDirectory": "/var/log"} {
		for _, d := range u.words(key) {
			made[filepath.Join(base, d)] = true
			if key != "ConfigurationDirectory" && within(path, filepath.Join(base, d)) {
				return true, ""
			}
		}
	}
	for _, rw := range u.words("ReadWritePaths") {
		p := strings.TrimLeft(rw, "-+")
		if !within(path, p) {
			continue
		}
		if !strings.HasPrefix(rw, "-") && !made[p] {
			return false, "ReadWritePaths=" + p + " does not exist on a fresh host, and the service would not start"
		}
		return true, ""
	}
	for _, ro := range readOnly {
		if within(path, ro) {
			return false, "ProtectSystem=" + u.last("ProtectSystem") + " makes " + ro + " read-only"
		}
	}
	return true, ""
}

// The units start their daemon from /usr/bin on the default
// configuration directory, and the sandbox leaves it every path its
// defaults write.
func TestSystemdUnits(t *testing.T) {
	for _, tc := range []struct {
		daemon  string
		written map[string]string
	}{
		{"brine-master", writtenPaths(config.DefaultMaster())},
		{"brine-minion", writtenPaths(config.DefaultMinion())},
	} {
		t.Run(tc.daemon, func(t *testing.T) {
			u := readUnit(t, filepath.Join("systemd", tc.daemon+".service"))
			if want := []string{"/usr/bin/" + tc.daemon + " -c " + config.DefaultDir}; !slices.Equal(u["ExecStart"], want) {
				t.Errorf("ExecStart=%q, want %q", u["ExecStart"], want)
			}
			if len(tc.written) == 0 {
				t.Fatal("found no paths in the default configuration")
			}
			for key, path := range tc.written {
				if ok, why := u.writable(path); !ok {
					t.Errorf("%s (%s) is not writable: %s", key, path, why)
				}
			}
		})
	}
}

// systemd-analyze verify accepts each unit as it is installed: in a root
// holding the system's units, the unit in /etc/systemd/system and its
// binary in /usr/bin. Any complaint fails the test, warnings included
// (an unknown or misspelt setting is only a warning to systemd).
func TestSystemdVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
	}
	sysUnits := ""
	for _, d := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		if _, err := os.Stat(filepath.Join(d, "sysinit.target")); err == nil {
			sysUnits = d
			break
		}
	}
	if sysUnits == "" {
		t.Skip("no system units (sysinit.target) to verify against")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", sysUnits, filepath.Join(root, "usr/lib/systemd/system")).CombinedOutput(); err != nil {
		t.Fatalf("copying %s: %v\n%s", sysUnits, err, out)
	}
	for _, daemon := range []string{"brine-master", "brine-minion"} {
		t.Run(daemon, func(t *testing.T) {
			copyFile(t, bin(daemon), filepath.Join(root, "usr/bin", daemon), 0o755)
			path := filepath.Join(root, "etc/systemd/system", daemon+".service")
			copyFile(t, filepath.Join("systemd", daemon+".service"), path, 0o644)
			out, err := exec.Command(analyze, "verify", "--root="+root, path).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("systemd-analyze verify: %v\n%s", err, out)
			}
		})
	}
}

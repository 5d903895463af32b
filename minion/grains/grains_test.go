package grains

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// keyValues reads a KEY=value file (os-release, lsb-release) the simple
// way, to check the grains against.
func keyValues(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && !strings.HasPrefix(k, "#") {
			out[k] = strings.Trim(v, `"'`)
		}
	}
	return out
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s: %v", path, err)
	}
	return strings.TrimSpace(string(b))
}

// The grains of this machine, checked against what its files and
// programs say.
func TestCollectHost(t *testing.T) {
	g := CollectConf("host-test", t.TempDir(), map[string]any{"role": "tester"}, nil)
	osRel := keyValues(t, "/etc/os-release")
	lsb := keyValues(t, "/etc/lsb-release")
	wantFull, wantRel := osRel["NAME"], osRel["VERSION_ID"]
	if lsb["DISTRIB_ID"] != "" {
		wantFull, wantRel = lsb["DISTRIB_ID"], lsb["DISTRIB_RELEASE"]
	}
	var ncpu int64
	var model string
	sc := bufio.NewScanner(strings.NewReader(readTrim(t, "/proc/cpuinfo")))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		switch strings.TrimSpace(k) {
		case "processor":
			ncpu++
		case "model name":
			model = strings.TrimSpace(v)
		}
	}
	var memKB int64
	for _, line := range strings.Split(readTrim(t, "/proc/meminfo"), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			memKB, _ = strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
		}
	}
	machine, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	host := readTrim(t, "/proc/sys/kernel/hostname")
	u, _ := user.Current()
	want := map[string]any{
		"id":            "host-test",
		"role":          "tester",
		"kernel":        "Linux",
		"kernelrelease": readTrim(t, "/proc/sys/kernel/osrelease"),
		"kernelversion": readTrim(t, "/proc/sys/kernel/version"),
		"cpuarch":       strings.TrimSpace(string(machine)),
		"nodename":      host,
		"localhost":     host,
		"fqdn":          host,
		"osfullname":    wantFull,
		"osrelease":     wantRel,
		"num_cpus":      ncpu,
		"mem_total":     memKB / 1024,
		"path":          os.Getenv("PATH"),
		"pid":           int64(os.Getpid()),
		"uid":           int64(os.Getuid()),
		"gid":           int64(os.Getgid()),
		"username":      u.Username,
		"saltversion":   "3006.16",
	}
	if model != "" {
		want["cpu_model"] = model
	}
	if _, err := os.Stat("/etc/machine-id"); err == nil {
		want["machine_id"] = readTrim(t, "/etc/machine-id")
	}
	if osRel["ID"] == "debian" && lsb["DISTRIB_ID"] == "" {
		want["os"], want["os_family"] = "Debian", "Debian"
		want["osfinger"] = "Debian-" + strings.Split(wantRel, ".")[0]
		if out, err := exec.Command("dpkg", "--print-architecture").Output(); err == nil {
			want["osarch"] = strings.TrimSpace(string(out))
		}
	}
	if c := osRel["VERSION_CODENAME"]; c != "" && lsb["DISTRIB_CODENAME"] == "" {
		want["oscodename"] = c
	}
	for k, v := range want {
		if !reflect.DeepEqual(g[k], v) {
			t.Errorf("grain %s = %#v, want %#v", k, g[k], v)
		}
	}
	if s, _ := g["shell"].(string); s == "" {
		t.Errorf("shell grain %#v", g["shell"])
	}
	if v, _ := g["virtual"].(string); v == "" {
		t.Errorf("virtual grain %#v", g["virtual"])
	}
	ips, _ := g["ipv4"].([]any)
	lo, _ := g["ip4_interfaces"].(map[string]any)["lo"].([]any)
	if len(lo) > 0 && !contains(ips, "127.0.0.1") {
		t.Errorf("ipv4 %v lacks the loopback of ip4_interfaces:lo %v", ips, lo)
	}
	ifs, _ := net.Interfaces()
	hw, _ := g["hwaddr_interfaces"].(map[string]any)
	for _, ifi := range ifs {
		if len(ifi.HardwareAddr) > 0 && hw[ifi.Name] != ifi.HardwareAddr.String() {
			t.Errorf("hwaddr_interfaces:%s = %v, want %s", ifi.Name, hw[ifi.Name], ifi.HardwareAddr)
		}
	}
}

func contains(l []any, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func utsname(sys, node, release, machine string) func() (unix.Utsname, error) {
	return func() (unix.Utsname, error) {
		var u unix.Utsname
		copy(u.Sysname[:], sys)
		copy(u.Nodename[:], node)
		copy(u.Release[:], release)
		copy(u.Version[:], "#1 SMP")
		copy(u.Machine[:], machine)
		return u, nil
	}
}

// fakeHost is a host made of files under a temporary root.
type fakeHost struct {
	root  string
	files map[string]string // path under root: content ("" with a trailing / makes a directory)
	exec  map[string]string // programs in /usr/bin: their output
	arch  string
	env   map[string]string
}

func (f fakeHost) sources(t *testing.T) sources {
	t.Helper()
	root := f.root
	if root == "" {
		root = t.TempDir()
	}
	for p, content := range f.files {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name := range f.exec {
		full := filepath.Join(root, "usr/bin", name)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	arch := f.arch
	if arch == "" {
		arch = "x86_64"
	}
	env := f.env
	if env == nil {
		env = map[string]string{"PATH": "/usr/bin"}
	}
	return sources{
		root:       root,
		uname:      utsname("Linux", "box", "6.1.0", arch),
		hostname:   func() (string, error) { return "box.example.com", nil },
		interfaces: func() ([]netInterface, error) { return nil, nil },
		getenv:     func(k string) string { return env[k] },
		run: func(name string, args ...string) (string, int, error) {
			out, ok := f.exec[filepath.Base(name)]
			if !ok {
				return "", -1, errors.New("no such program")
			}
			if out == "!fail" {
				return "", 1, nil
			}
			return out, 0, nil
		},
	}
}

func TestDistributions(t *testing.T) {
	for _, tc := range []struct {
		name string
		host fakeHost
		want map[string]any
	}{
		{"debian", fakeHost{files: map[string]string{
			"/etc/os-release":     "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
			"/etc/debian_version": "12.5\n",
		}, exec: map[string]string{"dpkg": "amd64"}}, map[string]any{
			"os": "Debian", "os_family": "Debian", "osfullname": "Debian GNU/Linux", "osrelease": "12",
			"osrelease_info": []any{int64(12)}, "osmajorrelease": int64(12), "oscodename": "bookworm",
			"osfinger": "Debian-12", "osarch": "amd64", "lsb_distrib_id": "Debian GNU/Linux",
		}},
		{"debian without dpkg on arm", fakeHost{arch: "armv7l", files: map[string]string{
			"/etc/os-release": "NAME=\"Raspbian GNU/Linux\"\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\nID=raspbian\n",
		}}, map[string]any{
			"os": "Raspbian", "os_family": "Debian", "osfinger": "Raspbian-11", "osarch": "armhf", "cpuarch": "armv7l",
		}},
		{"ubuntu with lsb-release", fakeHost{files: map[string]string{
			"/etc/os-release":  "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\nID=ubuntu\n",
			"/etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION=\"Ubuntu 22.04.3 LTS\"\n",
		}}, map[string]any{
			"os": "Ubuntu", "os_family": "Debian", "osfullname": "Ubuntu", "osrelease": "22.04",
			"osrelease_info": []any{int64(22), int64(4)}, "osmajorrelease": int64(22), "oscodename": "jammy",
			"osfinger": "Ubuntu-22.04", "lsb_distrib_description": "Ubuntu 22.04.3 LTS", "osarch": "amd64",
		}},
		{"rocky", fakeHost{files: map[string]string{
			"/etc/os-release": "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n",
		}, exec: map[string]string{"rpm": "x86_64"}}, map[string]any{
			"os": "Rocky", "os_family": "RedHat", "osfullname": "Rocky Linux", "osrelease": "9.3",
			"oscodename": "Rocky Linux 9.3 (Blue Onyx)", "osfinger": "Rocky Linux-9", "osarch": "x86_64",
		}},
		{"centos 7 takes the release file's version", fakeHost{files: map[string]string{
			"/etc/os-release":     "NAME=\"CentOS Linux\"\nVERSION=\"7 (Core)\"\nID=\"centos\"\nVERSION_ID=\"7\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\n",
			"/etc/centos-release": "CentOS Linux release 7.9.2009 (Core)\n",
		}}, map[string]any{
			"os": "CentOS", "os_family": "RedHat", "osrelease": "7.9.2009", "osrelease_info": []any{int64(7), int64(9), int64(2009)},
			"oscodename": "CentOS Linux 7 (Core)", "osfinger": "CentOS Linux-7",
		}},
		{"opensuse leap", fakeHost{files: map[string]string{
			"/etc/os-release": "NAME=\"openSUSE Leap\"\nVERSION=\"15.5\"\nID=\"opensuse-leap\"\nVERSION_ID=\"15.5\"\nPRETTY_NAME=\"openSUSE Leap 15.5\"\nCPE_NAME=\"cpe:/o:opensuse:leap:15.5\"\n",
		}}, map[string]any{
			"os": "SUSE", "os_family": "Suse", "osfullname": "Leap", "osrelease": "15.5", "osfinger": "Leap-15",
		}},
		{"alpine", fakeHost{arch: "aarch64", files: map[string]string{
			"/etc/os-release": "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
		}}, map[string]any{
			"os": "Alpine", "os_family": "Alpine", "osrelease": "3.19.1", "osmajorrelease": int64(3),
			"oscodename": "Alpine Linux v3.19", "osfinger": "Alpine Linux-3", "osarch": "aarch64",
		}},
		{"arch has no version", fakeHost{files: map[string]string{
			"/etc/os-release": "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n",
		}}, map[string]any{
			"os": "Arch", "os_family": "Arch", "osrelease": "", "osfinger": nil, "osrelease_info": nil,
		}},
		{"os-release in /usr/lib, escapes", fakeHost{files: map[string]string{
			"/usr/lib/os-release": "NAME=\"My \\\"Distro\\\"\"\nVERSION_ID='2'\n",
		}}, map[string]any{"osfullname": `My "Distro"`, "os": `My "Distro"`, "osfinger": `My "Distro"-2`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := collect("m", "", nil, nil, tc.host.sources(t))
			for k, v := range tc.want {
				if !reflect.DeepEqual(g[k], v) {
					t.Errorf("grain %s = %#v, want %#v", k, g[k], v)
				}
			}
		})
	}
}

func TestHardware(t *testing.T) {
	for _, tc := range []struct {
		name string
		host fakeHost
		want map[string]any
	}{
		{"x86 cpu, memory, dmi", fakeHost{files: map[string]string{
			"/proc/cpuinfo":                    "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU\nflags\t\t: fpu vme\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU\nflags\t\t: fpu vme\n",
			"/proc/meminfo":                    "MemTotal:       16303264 kB\nSwapTotal:       2097148 kB\n",
			"/sys/class/dmi/id/sys_vendor":     "QEMU\n",
			"/sys/class/dmi/id/product_name":   "Standard PC (Q35 + ICH9, 2009)\n",
			"/sys/class/dmi/id/bios_version":   "1.16.2-debian-1.16.2-1\n",
			"/sys/class/dmi/id/bios_date":      "04/01/2014\n",
			"/sys/class/dmi/id/product_uuid":   "ABCDEF01-2345-6789-ABCD-EF0123456789\n",
			"/sys/class/dmi/id/product_serial": "SN123\n",
			"/etc/machine-id":                  "0123456789abcdef0123456789abcdef\n",
		}}, map[string]any{
			"num_cpus": int64(2), "cpu_model": "Intel(R) Xeon(R) CPU", "cpu_flags": []any{"fpu", "vme"},
			"mem_total": int64(15921), "swap_total": int64(2047), "manufacturer": "QEMU",
			"productname": "Standard PC (Q35 + ICH9, 2009)", "biosversion": "1.16.2-debian-1.16.2-1",
			"biosreleasedate": "04/01/2014", "uuid": "abcdef01-2345-6789-abcd-ef0123456789", "serialnumber": "SN123",
			"machine_id": "0123456789abcdef0123456789abcdef",
		}},
		{"old arm cpuinfo", fakeHost{arch: "armv6l", files: map[string]string{
			"/proc/cpuinfo": "Processor\t: ARMv6-compatible processor rev 7 (v6l)\nBogoMIPS\t: 697.95\nFeatures\t: swp half thumb\nHardware\t: BCM2708\n",
		}}, map[string]any{"num_cpus": int64(1), "cpu_model": "ARMv6", "cpu_flags": []any{"swp", "half", "thumb"}}},
		{"aarch64 cpuinfo has no model", fakeHost{arch: "aarch64", files: map[string]string{
			"/proc/cpuinfo":            "processor\t: 0\nFeatures\t: fp asimd\n\nprocessor\t: 1\nFeatures\t: fp asimd\n",
			"/var/lib/dbus/machine-id": "dbusid\n",
		}}, map[string]any{"num_cpus": int64(2), "cpu_model": "Unknown", "machine_id": "dbusid", "biosversion": nil}},
		{"docker container", fakeHost{files: map[string]string{"/proc/1/cgroup": "12:pids:/docker/0123abc\n"}},
			map[string]any{"virtual": "container", "virtual_subtype": "Docker"}},
		{"systemd-detect-virt", fakeHost{exec: map[string]string{"systemd-detect-virt": "kvm"}}, map[string]any{"virtual": "kvm"}},
		{"systemd-detect-virt says none", fakeHost{exec: map[string]string{"systemd-detect-virt": "!fail"}}, map[string]any{"virtual": "physical"}},
		{"virt-what first", fakeHost{exec: map[string]string{"virt-what": "vmware", "systemd-detect-virt": "kvm"}}, map[string]any{"virtual": "VMware"}},
		{"virtualbox product", fakeHost{files: map[string]string{"/sys/devices/virtual/dmi/id/product_name": "VirtualBox\n"}},
			map[string]any{"virtual": "VirtualBox"}},
		{"lxc environ", fakeHost{files: map[string]string{"/proc/1/environ": "container=lxc\x00TERM=linux\x00"}},
			map[string]any{"virtual": "container", "virtual_subtype": "LXC"}},
		{"systemd init", fakeHost{files: map[string]string{"/run/systemd/system/": ""}}, map[string]any{"init": "systemd"}},
		{"init binary names itself", fakeHost{files: map[string]string{
			"/proc/1/cmdline": "/sbin/init\x00splash\x00",
			"/sbin/init":      "\x7fELF... Upstart is an event-based replacement ...",
		}}, map[string]any{"init": "upstart"}},
		{"tini", fakeHost{files: map[string]string{"/proc/1/cmdline": "/usr/bin/tini\x00--\x00app\x00"}, exec: map[string]string{"tini": ""}},
			map[string]any{"init": "tini"}},
		{"unknown init", fakeHost{files: map[string]string{"/proc/1/cmdline": "/process_api\x00"}}, map[string]any{"init": "unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := collect("m", "", nil, nil, tc.host.sources(t))
			for k, v := range tc.want {
				if !reflect.DeepEqual(g[k], v) {
					t.Errorf("grain %s = %#v, want %#v", k, g[k], v)
				}
			}
		})
	}
}

// A host where nothing can be read (no /etc, /proc or /sys to speak of,
// no host name, no interfaces, no helper programs) still gets its grains.
func TestCollectNothingReadable(t *testing.T) {
	src := sources{
		root:       t.TempDir(),
		uname:      func() (unix.Utsname, error) { return unix.Utsname{}, errors.New("no uname") },
		hostname:   func() (string, error) { return "", errors.New("no name") },
		interfaces: func() ([]netInterface, error) { return nil, errors.New("no netlink") },
		getenv:     func(string) string { return "" },
	}
	g := collect("lonely", "", map[string]any{"os": "Custom"}, nil, src)
	want := map[string]any{
		"id": "lonely", "os": "Custom", "os_family": "Unknown", "kernel": "",
		"mem_total": int64(0), "virtual": "physical", "fqdn": "localhost.localdomain", "host": "localhost",
		"domain": "localdomain", "ipv4": []any{}, "ipv6": []any{}, "ip4_interfaces": map[string]any{},
		"shell": "/bin/sh", "path": "", "saltversion": SaltVersion, "osarch": "", "ps": "ps -efHww",
		"locale_info": map[string]any{"defaultlanguage": nil, "defaultencoding": nil, "detectedencoding": "utf-8", "timezone": g["locale_info"].(map[string]any)["timezone"]},
	}
	for k, v := range want {
		if !reflect.DeepEqual(g[k], v) {
			t.Errorf("grain %s = %#v, want %#v", k, g[k], v)
		}
	}
	// A Linux kernel with nothing else readable.
	src.uname = utsname("Linux", "n", "6.1", "x86_64")
	g = collect("lonely", "", nil, nil, src)
	if g["os"] != "Unknown Linux" || g["os_family"] != "Unknown" || g["init"] != "unknown" || g["cpu_model"] != "Unknown" || g["num_cpus"] != int64(0) {
		t.Errorf("os %v, os_family %v, init %v, cpu_model %v, num_cpus %v", g["os"], g["os_family"], g["init"], g["cpu_model"], g["num_cpus"])
	}
}

func TestNetwork(t *testing.T) {
	src := fakeHost{}.sources(t)
	src.interfaces = func() ([]netInterface, error) {
		return []netInterface{
			{name: "lo", loopback: true, addrs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}},
			{name: "eth0", hwaddr: net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0, 2},
				addrs: []net.IP{net.ParseIP("10.0.0.9"), net.ParseIP("9.1.1.1").To16(), net.ParseIP("fe80::42:acff:fe11:2")}},
			{name: "tun0"},
		}, nil
	}
	g := collect("m", "", nil, nil, src)
	want := map[string]any{
		"ipv4":              []any{"9.1.1.1", "10.0.0.9", "127.0.0.1"}, // numeric order, as Python's ipaddress sorts
		"ipv6":              []any{"::1", "fe80::42:acff:fe11:2"},
		"ip4_interfaces":    map[string]any{"lo": []any{"127.0.0.1"}, "eth0": []any{"10.0.0.9", "9.1.1.1"}, "tun0": []any{}},
		"ip6_interfaces":    map[string]any{"lo": []any{"::1"}, "eth0": []any{"fe80::42:acff:fe11:2"}, "tun0": []any{}},
		"ip_interfaces":     map[string]any{"lo": []any{"127.0.0.1", "::1"}, "eth0": []any{"10.0.0.9", "9.1.1.1", "fe80::42:acff:fe11:2"}, "tun0": []any{}},
		"hwaddr_interfaces": map[string]any{"lo": "00:00:00:00:00:00", "eth0": "02:42:ac:11:00:02"},
		"fqdn":              "box.example.com", "host": "box", "domain": "example.com", "localhost": "box.example.com",
	}
	for k, v := range want {
		if !reflect.DeepEqual(g[k], v) {
			t.Errorf("grain %s = %#v, want %#v", k, g[k], v)
		}
	}
}

func TestLocale(t *testing.T) {
	for _, tc := range []struct {
		env       map[string]string
		lang, enc any
	}{
		{map[string]string{}, nil, nil},
		{map[string]string{"LANG": "C"}, nil, nil},
		{map[string]string{"LANG": "POSIX"}, nil, nil},
		{map[string]string{"LANG": "C.UTF-8"}, "en_US", "UTF-8"},
		{map[string]string{"LANG": "en_US.UTF-8"}, "en_US", "UTF-8"},
		{map[string]string{"LANG": "de_DE.utf8", "LC_ALL": "fr_FR"}, "fr_FR", "ISO8859-1"},
		{map[string]string{"LC_CTYPE": "de_DE.ISO-8859-15@euro"}, "de_DE", "ISO8859-15"},
		{map[string]string{"LANGUAGE": "nl_NL.UTF-8:en"}, "nl_NL", "UTF-8"},
	} {
		src := fakeHost{env: tc.env}.sources(t)
		g := collect("m", "", nil, nil, src)
		li := g["locale_info"].(map[string]any)
		if li["defaultlanguage"] != tc.lang || li["defaultencoding"] != tc.enc {
			t.Errorf("%v: locale_info %v, want %v %v", tc.env, li, tc.lang, tc.enc)
		}
	}
}

func TestServerID(t *testing.T) {
	// abs(int(hashlib.sha256(b"m1").hexdigest(), 16) % 2**31), from CPython.
	if got := serverID("m1"); got != 890885657 {
		t.Fatalf("serverID(m1) = %d", got)
	}
}

// The grains file lies over the core grains, the configuration's grains
// over both; a malformed file is skipped with a warning.
func TestGrainsFile(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       map[string]any
		warn       string
	}{
		{"over core grains", "os: FileOS\nroles:\n- web\n- db\nport: 8080\nnested:\n  a: 1\n", map[string]any{
			"os": "FileOS", "roles": []any{"web", "db"}, "port": int64(8080), "nested": map[string]any{"a": int64(1)},
			"role": "static", "kernel": "Linux"}, ""},
		{"under static grains", "role: from-file\n", map[string]any{"role": "static"}, ""},
		{"empty", "", map[string]any{"role": "static"}, ""},
		{"malformed", "roles: [web\n", map[string]any{"role": "static", "roles": nil}, "skipping the grains file"},
		{"not a mapping", "- a\n- b\n", map[string]any{"role": "static"}, "not a mapping of grains"},
		{"integer keys", "1: one\n", map[string]any{"1": "one"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(FilePath(dir), []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			g := collect("m", dir, map[string]any{"role": "static"}, log, fakeHost{}.sources(t))
			for k, v := range tc.want {
				if !reflect.DeepEqual(g[k], v) {
					t.Errorf("grain %s = %#v, want %#v", k, g[k], v)
				}
			}
			if tc.warn == "" && logs.Len() > 0 || !strings.Contains(logs.String(), tc.warn) {
				t.Errorf("log %q, want %q", logs.String(), tc.warn)
			}
		})
	}
	// No file at all is no warning.
	var logs bytes.Buffer
	collect("m", t.TempDir(), nil, slog.New(slog.NewTextHandler(&logs, nil)), fakeHost{}.sources(t))
	if logs.Len() > 0 {
		t.Errorf("a missing grains file logged %q", logs.String())
	}
}

func TestWriteReadFile(t *testing.T) {
	path := FilePath(t.TempDir())
	grains := map[string]any{"roles": []any{"web", "db"}, "b": map[string]any{"x": int64(1), "z": nil}, "a": "text: with colon", "t": true}
	if err := WriteFile(path, grains); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	// PyYAML's safe_dump(default_flow_style=False) layout: sorted keys,
	// block style, list items not indented under their key.
	want := "a: 'text: with colon'\nb:\n  x: 1\n  z: null\nroles:\n- web\n- db\nt: true\n"
	if string(b) != want {
		t.Errorf("file:\n%s\nwant:\n%s", b, want)
	}
	got, err := ReadFile(path)
	if err != nil || !reflect.DeepEqual(got, grains) {
		t.Fatalf("ReadFile = %#v, %v", got, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the file's 0600 kept", fi.Mode().Perm())
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "grains")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "dir", "grains"), grains); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

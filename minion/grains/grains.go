// Package grains finds the facts a minion reports about its host, under
// Salt's grain names: what targeting by grain and grains.items see.
package grains

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Collect returns the grains of this host for minion id. static (the
// minion config's grains) override what is found.
func Collect(id string, static map[string]any) map[string]any {
	g := map[string]any{
		"id":       id,
		"kernel":   kernelName(),
		"num_cpus": int64(runtime.NumCPU()),
		"init":     initSystem(),
	}
	host, _ := os.Hostname()
	g["host"], g["nodename"], g["localhost"] = shortHost(host), host, host
	g["fqdn"] = host
	if u, ok := uname(); ok {
		g["kernelrelease"], g["kernelversion"], g["cpuarch"] = u.release, u.version, u.machine
	}
	for k, v := range osRelease("/etc/os-release") {
		g[k] = v
	}
	if mem, ok := memTotalMB("/proc/meminfo"); ok {
		g["mem_total"] = mem
	}
	g["ipv4"], g["ipv6"] = addresses()
	g["saltversion"] = "3006.16"
	for k, v := range static {
		g[k] = v
	}
	return g
}

func kernelName() string {
	switch runtime.GOOS {
	case "linux":
		return "Linux"
	case "freebsd":
		return "FreeBSD"
	case "darwin":
		return "Darwin"
	}
	return runtime.GOOS
}

func shortHost(h string) string {
	s, _, _ := strings.Cut(h, ".")
	return s
}

func initSystem() string {
	if fi, err := os.Stat("/run/systemd/system"); err == nil && fi.IsDir() {
		return "systemd"
	}
	if _, err := os.Stat("/sbin/openrc"); err == nil {
		return "openrc"
	}
	return "unknown"
}

type unameInfo struct{ release, version, machine string }

// uname asks the kernel (or qemu-user, which answers for the emulated
// machine: what an ARM minion under emulation must report).
func uname() (unameInfo, bool) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return unameInfo{}, false
	}
	str := func(b []byte) string {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	return unameInfo{str(u.Release[:]), str(u.Version[:]), str(u.Machine[:])}, true
}

// distros maps os-release IDs to Salt's os grain and family.
var distros = map[string][2]string{
	"debian": {"Debian", "Debian"}, "ubuntu": {"Ubuntu", "Debian"}, "raspbian": {"Raspbian", "Debian"},
	"linuxmint": {"Mint", "Debian"}, "devuan": {"Devuan", "Debian"},
	"rhel": {"RedHat", "RedHat"}, "centos": {"CentOS", "RedHat"}, "fedora": {"Fedora", "RedHat"},
	"rocky": {"Rocky", "RedHat"}, "almalinux": {"AlmaLinux", "RedHat"}, "ol": {"OEL", "RedHat"}, "amzn": {"Amazon", "RedHat"},
	"alpine": {"Alpine", "Alpine"}, "arch": {"Arch", "Arch"}, "gentoo": {"Gentoo", "Gentoo"},
	"opensuse-leap": {"Leap", "Suse"}, "opensuse-tumbleweed": {"openSUSE Tumbleweed", "Suse"}, "sles": {"SUSE", "Suse"},
	"openwrt": {"OpenWrt", "OpenWrt"},
}

// osRelease reads /etc/os-release into Salt's os grains.
func osRelease(path string) map[string]any {
	b, err := os.ReadFile(path)
	if err != nil {
		return map[string]any{"os": kernelName(), "os_family": kernelName()}
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			kv[k] = strings.Trim(v, `"'`)
		}
	}
	id := strings.ToLower(kv["ID"])
	osName, family := kv["NAME"], kernelName()
	if d, ok := distros[id]; ok {
		osName, family = d[0], d[1]
	} else {
		for _, like := range strings.Fields(kv["ID_LIKE"]) {
			if d, ok := distros[like]; ok {
				family = d[1]
				break
			}
		}
	}
	g := map[string]any{
		"os": osName, "os_family": family, "osfullname": kv["NAME"],
		"osrelease": kv["VERSION_ID"], "oscodename": kv["VERSION_CODENAME"],
	}
	if major, _, _ := strings.Cut(kv["VERSION_ID"], "."); major != "" {
		if n, err := strconv.ParseInt(major, 10, 64); err == nil {
			g["osmajorrelease"] = n
		}
	}
	return g
}

func memTotalMB(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb / 1024, err == nil
			}
		}
	}
	return 0, false
}

// addresses lists the host's IPv4 and IPv6 addresses, as Salt's ipv4 and
// ipv6 grains (loopback included).
func addresses() ([]any, []any) {
	addrs, err := net.InterfaceAddrs()
	var v4, v6 []string
	if err == nil {
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			if ip4 := ipn.IP.To4(); ip4 != nil {
				v4 = append(v4, ip4.String())
			} else {
				v6 = append(v6, ipn.IP.String())
			}
		}
	}
	slices.Sort(v4)
	slices.Sort(v6)
	return toAny(v4), toAny(v6)
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Package pkg is Salt's pkg execution module: install, remove, upgrade
// and list the host's packages.
//
// Salt has one module per package manager, each loading as "pkg" only
// where its __virtual__ accepts the host (aptpkg, yumpkg, apkpkg, opkg).
// Brine does the same once, when Specs is called: it looks at the host
// (/etc/os-release, the programs on PATH, dpkg's database) and returns the
// functions of the one provider that fits, with that provider's
// arguments, return shapes and error texts. The providers drive the
// package manager's own programs (apt-get, dpkg-query, apk, dnf, rpm,
// opkg), so the minion needs nothing else on the host: no Python, no
// library bindings.
//
// A host with no usable package manager gets no pkg functions at all.
// That is what Salt does too: every provider's __virtual__ fails, Salt's
// loader files the reasons under the providers' file names (aptpkg,
// yumpkg, ...), not under "pkg", so a call answers "'pkg.install' is not
// available." rather than a "__virtual__ returned False" text.
package pkg

import (
	"slices"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
)

// Specs are the functions of the pkg module for this host's package
// manager; none when it has none Brine knows.
func Specs() []*modules.Spec { return specsFor(cmd.SystemHost()) }

func specsFor(h cmd.Host) []*modules.Spec {
	var specs []*modules.Spec
	switch m := detect(h); m {
	case "apt":
		specs = newApt(h).specs()
	case "dnf", "yum":
		specs = newRPM(h, m).specs()
	case "apk":
		specs = newApk(h).specs()
	case "opkg":
		specs = newOpkg(h).specs()
	}
	for _, s := range specs {
		s.Fn = reportInvocation(s.Fn)
	}
	return specs
}

// Provider names the package manager Specs drives on this host: "apt",
// "dnf", "yum", "apk", "opkg", or "" for none.
func Provider() string { return detect(cmd.SystemHost()) }

// detect picks the package manager: the first usable one, trying those
// of the family /etc/os-release names first (a Debian host may well have
// rpm, or even dnf, installed).
func detect(h cmd.Host) string {
	order := []string{"apt", "dnf", "yum", "apk", "opkg"}
	family := map[string][]string{
		"debian": {"apt"}, "ubuntu": {"apt"}, "raspbian": {"apt"}, "devuan": {"apt"}, "kali": {"apt"},
		"rhel": {"dnf", "yum"}, "fedora": {"dnf", "yum"}, "centos": {"dnf", "yum"}, "rocky": {"dnf", "yum"},
		"almalinux": {"dnf", "yum"}, "amzn": {"dnf", "yum"}, "ol": {"dnf", "yum"},
		"alpine": {"apk"}, "openwrt": {"opkg"},
	}
	ids := osRelease(h)
	for i := len(ids) - 1; i >= 0; i-- { // ID (listed before ID_LIKE) ends up first
		for _, m := range slices.Backward(family[ids[i]]) {
			order = slices.DeleteFunc(order, func(s string) bool { return s == m })
			order = slices.Insert(order, 0, m)
		}
	}
	for _, m := range order {
		if usable(h, m) {
			return m
		}
	}
	return ""
}

// usable reports whether the package manager m is there to be driven.
func usable(h cmd.Host, m string) bool {
	switch m {
	case "apt":
		return h.Has("apt-get") && h.Has("apt-cache") && h.Has("dpkg-query") && h.Exists("/var/lib/dpkg/status")
	case "dnf", "yum":
		return h.Has(m) && h.Has("rpm")
	case "apk":
		return h.Has("apk") && h.Exists("/etc/apk")
	case "opkg":
		return h.Has("opkg")
	}
	return false
}

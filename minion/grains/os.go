package grains

import (
	"bufio"
	"bytes"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// osData gives the grains of Salt's os_data: the kernel's (kernel,
// nodename, kernelrelease, kernelversion, cpuarch), the distribution's (os,
// os_family, osfullname, osrelease, osrelease_info, osmajorrelease,
// oscodename, osfinger, osarch, lsb_distrib_*), and, through the helpers
// os_data calls, the hardware's.
func (c *collector) osData() {
	u, err := c.src.uname()
	if err == nil {
		c.g["kernel"] = cstr(u.Sysname[:])
		c.g["nodename"] = cstr(u.Nodename[:])
		c.g["kernelrelease"] = cstr(u.Release[:])
		c.g["kernelversion"] = cstr(u.Version[:])
		c.g["cpuarch"] = cstr(u.Machine[:]) // qemu-user answers for the emulated machine
	} else {
		c.g["kernel"], c.g["nodename"], c.g["kernelrelease"], c.g["kernelversion"], c.g["cpuarch"] = "", "", "", "", ""
	}
	kernel := c.g["kernel"].(string)
	if kernel == "Linux" {
		c.linuxTools()
		c.initSystem()
		c.linuxDistribution()
		c.cpuData()
	} else {
		c.g["os"] = kernel
		c.g["num_cpus"] = int64(runtime.NumCPU()) // Salt asks sysctl on the BSDs and macOS
	}
	osName, _ := c.g["os"].(string)
	if osName == "" {
		c.g["os"] = "Unknown " + kernel
		c.g["os_family"] = "Unknown"
	} else if fam, ok := osFamilyMap[osName]; ok {
		c.g["os_family"] = fam
	} else {
		c.g["os_family"] = osName
	}
	c.osArch()
	c.memData()
	c.hwData()
	c.virtual()
	c.g["ps"] = "ps -efHww"
	if c.g["virtual"] == "openvzhn" {
		c.g["ps"] = `ps -fH -p $(grep -l "^envID:[[:space:]]*0\$" /proc/[0-9]*/status | sed -e "s=/proc/\([0-9]*\)/.*=\1=")  | awk '{ $7=""; print }'`
	}
	c.osFinger()
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// linuxTools gives the selinux and systemd grains, when their tools are
// installed.
func (c *collector) linuxTools() {
	if c.which("selinuxenabled") != "" {
		if _, code, ok := c.helper("selinuxenabled"); ok {
			se := map[string]any{"enabled": code == 0}
			if out, _, ok := c.helper("getenforce"); ok {
				se["enforced"] = out
			}
			c.g["selinux"] = se
		}
	}
	if c.which("systemctl") != "" && c.which("localectl") != "" {
		if out, _, ok := c.helper("systemctl", "--version"); ok {
			lines := strings.Split(out, "\n")
			sd := map[string]any{}
			if f := strings.Fields(lines[0]); len(f) > 1 {
				sd["version"] = f[1]
			}
			if len(lines) > 1 {
				sd["features"] = lines[1]
			}
			c.g["systemd"] = sd
		}
	}
}

var (
	osReleaseLine  = regexp.MustCompile(`^(\w+)=(?:'|")?(.*?)(?:'|")?$`)
	osReleaseEsc   = regexp.MustCompile("\\\\([$\"'\\\\`])")
	lsbLine        = regexp.MustCompile(`^(DISTRIB_(?:ID|RELEASE|CODENAME|DESCRIPTION))=(?:'|")?([\w\s.\-_]+)(?:'|")?`)
	debianCodename = regexp.MustCompile(`\((\w+)\)$`)
	replaceLinux   = regexp.MustCompile(`(?i)\W(?:gnu/)?linux`)
	releaseNumber  = regexp.MustCompile(`(\d+(?:\.\d+)*)`)
)

// parseOSRelease reads the first of the os-release files that can be
// read, as Salt's _parse_os_release does.
func (c *collector) parseOSRelease() map[string]string {
	for _, rel := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		b, err := c.read(rel)
		if err != nil {
			continue
		}
		ret := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if m := osReleaseLine.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
				ret[m[1]] = osReleaseEsc.ReplaceAllString(m[2], "$1")
			}
		}
		return ret
	}
	return map[string]string{}
}

// parseLSBRelease reads /etc/lsb-release as Salt's _parse_lsb_release.
func (c *collector) parseLSBRelease() map[string]string {
	ret := map[string]string{}
	b, err := c.read("/etc/lsb-release")
	if err != nil {
		return ret
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if m := lsbLine.FindStringSubmatch(sc.Text()); m != nil {
			ret["lsb_"+strings.ToLower(m[1])] = strings.TrimRightFunc(m[2], isSpace)
		}
	}
	return ret
}

func isSpace(r rune) bool { return strings.ContainsRune(" \t\n\r\v\f", r) }

// linuxDistribution gives the distribution grains as Salt's os_data does:
// /etc/lsb-release first, then os-release, then what the distro library
// finds (its id, most precise version and codename) for what is still
// missing.
func (c *collector) linuxDistribution() {
	lsb := c.parseLSBRelease()
	for k, v := range lsb {
		c.g[k] = v
	}
	osRel := c.parseOSRelease()
	if strings.HasPrefix(strings.ToLower(lsb["lsb_distrib_description"]), "antergos") {
		c.g["osfullname"] = "Antergos Linux"
	} else if _, ok := lsb["lsb_distrib_id"]; !ok && len(osRel) > 0 {
		if v, ok := osRel["NAME"]; ok {
			c.g["lsb_distrib_id"] = strings.TrimSpace(v)
		}
		if v, ok := osRel["VERSION_ID"]; ok {
			c.g["lsb_distrib_release"] = v
		}
		if v, ok := osRel["VERSION_CODENAME"]; ok {
			c.g["lsb_distrib_codename"] = v
		} else if v, ok := osRel["PRETTY_NAME"]; ok {
			if osRel["ID"] == "debian" {
				if m := debianCodename.FindStringSubmatch(v); m != nil {
					v = m[1]
				}
			}
			c.g["lsb_distrib_codename"] = v
		}
		if cpe, ok := osRel["CPE_NAME"]; ok {
			c.cpe(cpe, osRel)
		}
	}
	dID, dVersion, dCodename := c.distro(osRel, lsb)
	str := func(k string) (string, bool) { s, ok := c.g[k].(string); return s, ok }
	if _, ok := c.g["osfullname"]; !ok {
		id, ok := str("lsb_distrib_id")
		if !ok {
			id = dID
		}
		if strings.HasPrefix(strings.ToLower(id), "nilrt") {
			c.g["osfullname"] = "nilrt"
		} else {
			c.g["osfullname"] = strings.TrimSpace(id)
		}
	}
	if _, ok := c.g["osrelease"]; !ok {
		code, _ := str("lsb_distrib_codename")
		if strings.Contains(code, "CentOS Linux 7") || strings.Contains(code, "CentOS Linux 8") {
			delete(c.g, "lsb_distrib_release")
		}
		rel, ok := str("lsb_distrib_release")
		if !ok {
			rel = dVersion
		}
		c.g["osrelease"] = strings.TrimSpace(rel)
	}
	code, _ := str("lsb_distrib_codename")
	if code = strings.TrimSpace(code); code == "" || strings.Contains(code, "Red Hat") {
		code = dCodename
	}
	c.g["oscodename"] = code
	if _, ok := c.g["os"]; !ok {
		full, _ := str("osfullname")
		name := strings.TrimSpace(replaceLinux.ReplaceAllString(full, ""))
		short := strings.ToLower(strings.ReplaceAll(name, " ", ""))
		if len(short) > 10 {
			short = short[:10]
		}
		if os, ok := osNameMap[short]; ok {
			name = os
		}
		c.g["os"] = name
	}
}

// cpe applies Salt's SUSE handling of os-release's CPE_NAME.
func (c *collector) cpe(name string, osRel map[string]string) {
	p := strings.Split(name, ":")
	var vendor, version string
	switch {
	case len(p) > 4 && p[0] == "cpe" && strings.HasPrefix(p[1], "/"):
		vendor, version = p[2], p[4]
	case len(p) == 6 && p[0] == "cpe" && p[1] == "2.3", len(p) > 7 && len(p) <= 13 && p[0] == "cpe" && p[1] == "2.3":
		vendor, version = p[3], p[5]
		if vendor == "*" {
			vendor = ""
		}
		if version == "*" {
			version = ""
		}
	default:
		return // Salt logs "Broken CPE_NAME format in /etc/os-release!"
	}
	if v := strings.ToLower(vendor); v != "suse" && v != "opensuse" {
		return
	}
	c.g["os"] = "SUSE"
	if osRel["NAME"] == "openSUSE Leap" {
		c.g["osfullname"] = "Leap"
	} else if osRel["VERSION"] == "Tumbleweed" {
		c.g["osfullname"] = osRel["VERSION"]
	}
	if version != "" && vendor == "opensuse" {
		c.g["lsb_distrib_release"] = version
	}
}

// distro is what Salt asks the distro library for: the distribution's id,
// its most precise version (os-release, lsb-release and the distribution's
// own release file compared) and its codename.
func (c *collector) distro(osRel, lsb map[string]string) (id, version, codename string) {
	id = strings.ToLower(strings.ReplaceAll(osRel["ID"], " ", "_"))
	switch id {
	case "ol":
		id = "oracle"
	case "opensuse-leap":
		id = "opensuse"
	}
	if id == "" {
		id = strings.ToLower(strings.ReplaceAll(lsb["lsb_distrib_id"], " ", "_"))
	}
	versions := []string{osRel["VERSION_ID"], lsb["lsb_distrib_release"]}
	for _, rel := range []string{"/etc/" + id + "-release", "/etc/redhat-release", "/etc/debian_version"} {
		if b, err := c.read(rel); err == nil {
			if m := releaseNumber.FindString(string(b)); m != "" {
				versions = append(versions, m)
			}
			break
		}
	}
	for _, v := range versions {
		if v != "" && (version == "" || strings.Count(v, ".") > strings.Count(version, ".")) {
			version = v
		}
	}
	codename = osRel["VERSION_CODENAME"]
	if codename == "" {
		if v := osRel["VERSION"]; v != "" {
			if i, j := strings.IndexByte(v, '('), strings.LastIndexByte(v, ')'); i >= 0 && j > i {
				codename = v[i+1 : j]
			} else if _, after, ok := strings.Cut(v, ", "); ok {
				codename = after
			}
		}
	}
	if codename == "" {
		codename = osRel["UBUNTU_CODENAME"]
	}
	if codename == "" {
		codename = lsb["lsb_distrib_codename"]
	}
	return id, version, codename
}

// osArch gives osarch: the package manager's name for the architecture
// (dpkg's on Debian, rpm's on Red Hat and SUSE), else cpuarch.
func (c *collector) osArch() {
	cpuarch, _ := c.g["cpuarch"].(string)
	arch := cpuarch
	switch c.g["os_family"] {
	case "Debian":
		if out, code, ok := c.helper("dpkg", "--print-architecture"); ok && code == 0 && out != "" {
			arch = out
		} else if a, ok := debianArch[cpuarch]; ok {
			arch = a
		}
	case "RedHat", "Suse":
		if out, code, ok := c.helper("rpm", "--eval", "%{_host_cpu}"); ok && code == 0 && out != "" {
			arch = out
		}
	}
	c.g["osarch"] = arch
}

// debianArch is dpkg's architecture name for a kernel's machine name, for
// a Debian system without dpkg.
var debianArch = map[string]string{
	"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "armv6l": "armhf", "i386": "i386",
	"i686": "i386", "ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64", "mips64": "mips64el",
}

// osFinger gives osrelease_info, osmajorrelease and osfinger from
// osrelease.
func (c *collector) osFinger() {
	rel, _ := c.g["osrelease"].(string)
	if rel == "" {
		return
	}
	parts := strings.Split(rel, ".")
	info := make([]any, len(parts))
	for i, p := range parts {
		info[i] = p
		if isDigits(p) {
			if n, err := strconv.ParseInt(p, 10, 64); err == nil {
				info[i] = n
			}
		}
	}
	c.g["osrelease_info"] = info
	switch first := info[0].(type) {
	case int64:
		c.g["osmajorrelease"] = first
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(first), 10, 64); err == nil {
			c.g["osmajorrelease"] = n
		}
	}
	name := c.g["osfullname"]
	switch c.g["os"] {
	case "Debian", "FreeBSD", "OpenBSD", "NetBSD", "Mac", "Raspbian":
		name = c.g["os"]
	}
	nameStr, _ := name.(string)
	ver := rel
	if nameStr != "Ubuntu" {
		switch first := info[0].(type) {
		case int64:
			ver = strconv.FormatInt(first, 10)
		case string:
			ver = first
		}
	}
	c.g["osfinger"] = nameStr + "-" + ver
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// osNameMap is Salt's _OS_NAME_MAP: the first ten letters of a
// distribution's name, lower case without blanks, to Salt's os grain.
var osNameMap = map[string]string{
	"redhatente": "RedHat", "gentoobase": "Gentoo", "archarm": "Arch ARM", "arch": "Arch", "debian": "Debian",
	"Junos": "Junos", "raspbian": "Raspbian", "fedoraremi": "Fedora", "chapeau": "Chapeau", "korora": "Korora",
	"amazonami": "Amazon", "alt": "ALT", "enterprise": "OEL", "oracleserv": "OEL", "cloudserve": "CloudLinux",
	"cloudlinux": "CloudLinux", "almalinux": "AlmaLinux", "pidora": "Fedora", "scientific": "ScientificLinux",
	"synology": "Synology", "nilrt": "NILinuxRT", "poky": "Poky", "manjaro": "Manjaro", "manjarolin": "Manjaro",
	"univention": "Univention", "antergos": "Antergos", "sles": "SUSE", "void": "Void", "slesexpand": "RES",
	"linuxmint": "Mint", "neon": "KDE neon", "pop": "Pop", "rocky": "Rocky", "alibabaclo": "Alinux",
	"mendel": "Mendel",
}

// osFamilyMap is Salt's _OS_FAMILY_MAP: the os grain to os_family (an os
// not in it is its own family).
var osFamilyMap = map[string]string{
	"Ubuntu": "Debian", "Fedora": "RedHat", "Chapeau": "RedHat", "Korora": "RedHat", "FedBerry": "RedHat",
	"CentOS": "RedHat", "CentOS Stream": "RedHat", "GoOSe": "RedHat", "Scientific": "RedHat", "Amazon": "RedHat",
	"CloudLinux": "RedHat", "AlmaLinux": "RedHat", "OVS": "RedHat", "OEL": "RedHat", "XCP": "RedHat",
	"XCP-ng": "RedHat", "XenServer": "RedHat", "RES": "RedHat", "Sangoma": "RedHat", "VMware Photon OS": "RedHat",
	"Mandrake": "Mandriva", "ESXi": "VMware", "Mint": "Debian", "VMwareESX": "VMware", "Bluewhite64": "Bluewhite",
	"Slamd64": "Slackware", "SLES": "Suse", "SUSE Enterprise Server": "Suse", "SUSE  Enterprise Server": "Suse",
	"SLED": "Suse", "openSUSE": "Suse", "SUSE": "Suse", "openSUSE Leap": "Suse", "openSUSE Tumbleweed": "Suse",
	"SLES_SAP": "Suse", "Solaris": "Solaris", "SmartOS": "Solaris", "OmniOS": "Solaris",
	"OpenIndiana Development": "Solaris", "OpenIndiana": "Solaris", "OpenSolaris Development": "Solaris",
	"OpenSolaris": "Solaris", "Oracle Solaris": "Solaris", "Arch ARM": "Arch", "Manjaro": "Arch", "Antergos": "Arch",
	"ALT": "RedHat", "Trisquel": "Debian", "GCEL": "Debian", "Linaro": "Debian", "elementary OS": "Debian",
	"elementary": "Debian", "Univention": "Debian", "ScientificLinux": "RedHat", "Raspbian": "Debian",
	"Devuan": "Debian", "antiX": "Debian", "Kali": "Debian", "neon": "Debian", "Cumulus": "Debian",
	"Deepin": "Debian", "NILinuxRT": "NILinuxRT", "KDE neon": "Debian", "Void": "Void", "IDMS": "Debian",
	"Funtoo": "Gentoo", "AIX": "AIX", "TurnKey": "Debian", "Pop": "Debian", "Rocky": "RedHat",
	"AstraLinuxCE": "Debian", "AstraLinuxSE": "Debian", "Alinux": "RedHat", "Mendel": "Debian",
}

package grains

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// cpuData gives num_cpus, cpu_model and cpu_flags from /proc/cpuinfo as
// Salt's _linux_cpudata reads it (num_cpus is the last "processor" number
// plus one: the CPUs the kernel knows, not the ones this process may use).
func (c *collector) cpuData() {
	var num any
	model, flags := "Unknown", []any{}
	if b, err := c.read("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			comps := strings.Split(sc.Text(), ":")
			if len(comps) < 2 {
				continue
			}
			key, val := strings.TrimSpace(comps[0]), strings.TrimSpace(comps[1])
			switch key {
			case "processor":
				if n, err := strconv.ParseInt(val, 10, 64); err == nil {
					num = n + 1
				}
			case "# processors":
				if n, err := strconv.ParseInt(val, 10, 64); err == nil {
					num = n
				}
			case "vendor_id", "model name":
				model = val
			case "flags", "Features":
				flags = fields(val)
			case "Processor": // old ARM kernels
				model, _, _ = strings.Cut(val, "-")
				num = int64(1)
			}
		}
	}
	if num == nil {
		num = int64(0)
	}
	c.g["num_cpus"], c.g["cpu_model"], c.g["cpu_flags"] = num, model, flags
}

func fields(s string) []any {
	f := strings.Fields(s)
	out := make([]any, len(f))
	for i, x := range f {
		out[i] = x
	}
	return out
}

// memData gives mem_total and swap_total in MiB from /proc/meminfo.
func (c *collector) memData() {
	memTotal, swapTotal := int64(0), int64(0)
	if b, err := c.read("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			key, rest, ok := strings.Cut(sc.Text(), ":")
			f := strings.Fields(rest)
			if !ok || len(f) == 0 {
				continue
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				continue
			}
			switch strings.TrimSpace(key) {
			case "MemTotal":
				memTotal = kb / 1024
			case "SwapTotal":
				swapTotal = kb / 1024
			}
		}
	}
	c.g["mem_total"], c.g["swap_total"] = memTotal, swapTotal
}

// dmiFiles are the grains Salt reads from /sys/class/dmi/id.
var dmiFiles = map[string]string{
	"biosversion": "bios_version", "productname": "product_name", "manufacturer": "sys_vendor",
	"biosreleasedate": "bios_date", "uuid": "product_uuid", "serialnumber": "product_serial",
}

// hwData gives the firmware grains from /sys/class/dmi/id, each when its
// file is readable (product_serial and product_uuid are root's only).
// Hosts without DMI in sysfs (most ARM boards) have none of them: Salt
// would ask dmidecode or fw_printenv there.
func (c *collector) hwData() {
	if !c.exists("/sys/class/dmi/id") {
		return
	}
	for grain, file := range dmiFiles {
		b, err := c.read("/sys/class/dmi/id/" + file)
		if err != nil {
			continue
		}
		v := strings.ToValidUTF8(string(bytes.TrimSpace(b)), "\uFFFD")
		if grain == "uuid" {
			v = strings.ToLower(v)
		}
		c.g[grain] = v
	}
}

// virtual gives virtual (and virtual_subtype where there is one) as Salt's
// _virtual does on Linux: systemd-detect-virt or virt-what, dmidecode and
// lspci when installed, then what /proc and /sys tell.
func (c *collector) virtual() {
	g := map[string]string{"virtual": "physical"}
	cmds := []string{"systemd-detect-virt", "virt-what", "dmidecode"}
	if c.which("virt-what") != "" {
		cmds = []string{"virt-what"}
	}
	if c.exists("/proc/bus/pci") {
		cmds = append(cmds, "lspci")
	}
probe:
	for _, cmd := range cmds {
		out, code, ok := c.helper(cmd)
		if !ok || code > 0 {
			continue
		}
		switch cmd {
		case "systemd-detect-virt":
			switch {
			case oneOf(out, "qemu", "kvm", "oracle", "xen", "bochs", "chroot", "uml", "systemd-nspawn"):
				g["virtual"] = out
				break probe
			case strings.Contains(out, "vmware"):
				g["virtual"] = "VMware"
				break probe
			case strings.Contains(out, "microsoft"):
				g["virtual"] = "VirtualPC"
				break probe
			case strings.Contains(out, "lxc"):
				g["virtual"], g["virtual_subtype"] = "container", "LXC"
				break probe
			}
		case "virt-what":
			for _, line := range strings.Split(out, "\n") {
				switch {
				case oneOf(line, "kvm", "qemu", "uml", "xen"):
					g["virtual"] = line
				case strings.Contains(line, "lxc"):
					g["virtual"], g["virtual_subtype"] = "container", "LXC"
				case strings.Contains(line, "vmware"):
					g["virtual"] = "VMware"
				case strings.Contains(line, "parallels"):
					g["virtual"] = "Parallels"
				case strings.Contains(line, "hyperv"):
					g["virtual"] = "HyperV"
				default:
					continue
				}
				break
			}
			break probe
		case "dmidecode":
			dmidecodeVirtual(out, g)
			break probe
		case "lspci":
			model := strings.ToLower(out)
			switch {
			case strings.Contains(model, "vmware"):
				g["virtual"] = "VMware"
			case strings.Contains(model, "virtualbox"):
				g["virtual"] = "VirtualBox"
			case strings.Contains(model, "qemu"), strings.Contains(model, "virtio"):
				g["virtual"] = "kvm"
			}
			break probe
		}
	}
	c.procVirtual(g)
	if g["virtual_subtype"] != "" && g["virtual"] == "physical" {
		g["virtual"] = "virtual"
	}
	c.g["virtual"] = g["virtual"]
	if s, ok := g["virtual_subtype"]; ok {
		c.g["virtual_subtype"] = s
	}
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

func dmidecodeVirtual(out string, g map[string]string) {
	has := func(s string) bool { return strings.Contains(out, s) }
	if has("Vendor: QEMU") || has("Manufacturer: QEMU") || has("Vendor: Bochs") || has("Manufacturer: Bochs") {
		g["virtual"] = "kvm"
	}
	switch {
	case has("BHYVE"):
		g["virtual"] = "bhyve"
	case has("Manufacturer: oVirt"):
		g["virtual"], g["virtual_subtype"] = "kvm", "ovirt"
	case has("Product Name: RHEV Hypervisor"):
		g["virtual"], g["virtual_subtype"] = "kvm", "rhev"
	case has("VirtualBox"):
		g["virtual"] = "VirtualBox"
	case has("VMware"):
		g["virtual"] = "VMware"
	case has(": Microsoft") && has("Virtual Machine"):
		g["virtual"] = "VirtualPC"
	case has("Parallels Software"):
		g["virtual"] = "Parallels"
	case has("Manufacturer: Google"), has("Vendor: SeaBIOS"):
		g["virtual"] = "kvm"
	}
}

var envID = regexp.MustCompile(`^envID:\s+(\d+)$`)

// procVirtual is the part of Salt's _virtual that reads /proc and /sys.
func (c *collector) procVirtual(g map[string]string) {
	if c.isDir("/proc") {
		var self, init syscall.Stat_t
		if syscall.Stat(c.path("/"), &self) == nil && syscall.Stat(c.path("/proc/1/root/."), &init) == nil &&
			(self.Dev != init.Dev || self.Ino != init.Ino) {
			g["virtual_subtype"] = "chroot"
		}
	}
	if c.isDir("/proc/vz") {
		if c.isFile("/proc/vz/version") {
			g["virtual"] = "openvzhn"
		} else if c.isFile("/proc/vz/veinfo") {
			g["virtual"] = "openvzve"
		}
	}
	if b, err := c.read("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if m := envID.FindStringSubmatch(line); m != nil {
				if n, _ := strconv.Atoi(m[1]); n != 0 {
					g["virtual"] = "openvzve"
				} else {
					g["virtual"] = "openvzhn"
				}
			}
		}
	}
	if c.isDir("/proc/sys/xen") || c.isDir("/sys/bus/xen") || c.isDir("/proc/xen") {
		switch {
		case c.isFile("/proc/xen/xsd_kva"):
			g["virtual_subtype"] = "Xen Dom0"
		case c.g["productname"] == "HVM domU":
			g["virtual_subtype"] = "Xen HVM DomU"
		case c.isFile("/proc/xen/capabilities"):
			if b, err := c.read("/proc/xen/capabilities"); err == nil {
				if strings.Contains(string(b), "control_d") {
					g["virtual_subtype"] = "Xen Dom0"
				} else {
					g["virtual_subtype"] = "Xen PV DomU"
				}
			}
		case c.isDir("/sys/bus/xen/drivers/xenconsole"):
			g["virtual_subtype"] = "Xen PV DomU"
		}
		if strings.Contains(strings.ToLower(g["virtual_subtype"]), "dom") {
			g["virtual"] = "xen"
		}
	}
	if b, err := c.read("/proc/cpuinfo"); err == nil && bytes.Contains(b, []byte("QEMU Virtual CPU")) {
		g["virtual"] = "kvm"
	}
	if b, err := c.read("/sys/devices/virtual/dmi/id/product_name"); err == nil {
		out := string(b)
		switch {
		case strings.Contains(out, "VirtualBox"):
			g["virtual"] = "VirtualBox"
		case strings.Contains(out, "RHEV Hypervisor"):
			g["virtual"], g["virtual_subtype"] = "kvm", "rhev"
		case strings.Contains(out, "oVirt Node"):
			g["virtual"], g["virtual_subtype"] = "kvm", "ovirt"
		case strings.Contains(out, "Google"):
			g["virtual"] = "gce"
		case strings.Contains(out, "BHYVE"):
			g["virtual"] = "bhyve"
		}
	}
	if b, err := c.read("/proc/1/cgroup"); err == nil {
		s := string(b)
		switch {
		case strings.Contains(s, ":/lxc/"):
			g["virtual"], g["virtual_subtype"] = "container", "LXC"
		case strings.Contains(s, ":/kubepods/"):
			g["virtual_subtype"] = "kubernetes"
		case strings.Contains(s, ":/libpod_parent/"):
			g["virtual_subtype"] = "libpod"
		case strings.Contains(s, ":/system.slice/docker"), strings.Contains(s, ":/docker/"), strings.Contains(s, ":/docker-ce/"):
			g["virtual"], g["virtual_subtype"] = "container", "Docker"
		}
	}
	if g["virtual_subtype"] != "LXC" {
		if b, err := c.read("/proc/1/environ"); err == nil && bytes.Contains(b, []byte("container=lxc")) {
			g["virtual"], g["virtual_subtype"] = "container", "LXC"
		}
	}
}

// maxInitScan bounds how much of the init binary initSystem reads.
const maxInitScan = 64 << 20

// initSystem gives init as Salt finds it: systemd when /run/systemd/system
// exists, else what the binary of PID 1 names itself (upstart, sysvinit,
// systemd) or what runs as PID 1 (supervisord, dumb-init, tini, runit),
// else "unknown".
func (c *collector) initSystem() {
	c.g["init"] = "unknown"
	if c.exists("/run/systemd/system") {
		c.g["init"] = "systemd"
		return
	}
	b, err := c.read("/proc/1/cmdline")
	if err != nil {
		return
	}
	cmdline := strings.Fields(strings.ReplaceAll(string(b), "\x00", " "))
	if len(cmdline) == 0 {
		return
	}
	in := func(exe string) bool {
		p := c.which(exe)
		return p != "" && oneOf(p, cmdline...)
	}
	initBin := c.which(cmdline[0])
	switch {
	case initBin != "" && strings.HasSuffix(initBin, "bin/init"):
		if name := scanInit(c.path(initBin)); name != "" {
			c.g["init"] = name
		}
	case in("supervisord"):
		c.g["init"] = "supervisord"
	case in("dumb-init"):
		c.g["init"] = "dumb-init"
	case in("tini"):
		c.g["init"] = "tini"
	case len(cmdline) == 1 && cmdline[0] == "runit", oneOf("/sbin/my_init", cmdline...):
		c.g["init"] = "runit"
	}
}

// scanInit looks for the name of an init system in its binary.
func scanInit(path string) string {
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxInitScan))
	if err != nil {
		return ""
	}
	b = bytes.ToLower(b)
	// Salt reads the file in chunks and takes, in the first chunk holding
	// any, the first of these names it tests for.
	const chunk = 262144
	for off := 0; off < len(b); off += chunk {
		start := max(off-len("sysvinit")+1, 0)
		part := b[start:min(off+chunk, len(b))]
		for _, name := range []string{"upstart", "sysvinit", "systemd"} {
			if bytes.Contains(part, []byte(name)) {
				return name
			}
		}
	}
	return ""
}

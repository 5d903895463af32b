package network

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// iface is one network interface as "ip addr show" prints it.
type iface struct {
	index  int
	name   string
	up     bool
	hwaddr string // "" when ip prints none (link/none)
	parent string // the name after '@' (eth0@if5), "" when none
	addrs  []ifaddr
}

// ifaddr is one address line of "ip addr show".
type ifaddr struct {
	family    string // "inet" or "inet6"
	addr      netip.Addr
	prefix    int
	peer      bool // a point-to-point address: ip prints no /prefix after it
	broadcast string
	label     string
	scope     string
	secondary bool
}

// Linux's link types whose addresses ip prints as IP addresses.
const (
	arphrdTunnel  = 768
	arphrdTunnel6 = 769
	arphrdSit     = 776
	arphrdIPGRE   = 778
	arphrdIP6GRE  = 823
)

// interfaces asks the kernel for every link and address, in its order.
func interfaces() (ifaces, error) {
	links, err := dump(syscall.RTM_GETLINK)
	if err != nil {
		return nil, err
	}
	var out ifaces
	byIndex := map[int]int{}
	parents := map[int][2]uint32{} // index: IFLA_LINK, has netnsid
	for _, m := range links {
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			continue
		}
		typ := binary.NativeEndian.Uint16(m.Data[2:4])
		i := iface{index: int(int32(binary.NativeEndian.Uint32(m.Data[4:8])))}
		i.up = binary.NativeEndian.Uint32(m.Data[8:12])&syscall.IFF_UP != 0
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return nil, fmt.Errorf("network: parsing a link message: %w", err)
		}
		var link, netns uint32
		hasLink := false
		for _, a := range attrs {
			switch a.Attr.Type {
			case syscall.IFLA_IFNAME:
				i.name = strings.TrimRight(string(a.Value), "\x00")
			case syscall.IFLA_ADDRESS:
				i.hwaddr = linkAddr(typ, a.Value)
			case syscall.IFLA_LINK:
				if len(a.Value) >= 4 {
					link, hasLink = binary.NativeEndian.Uint32(a.Value), true
				}
			case 37: // IFLA_LINK_NETNSID
				netns = 1
			}
		}
		if hasLink {
			parents[i.index] = [2]uint32{link, netns}
		}
		byIndex[i.index] = len(out)
		out = append(out, i)
	}
	for idx, p := range parents {
		i := &out[byIndex[idx]]
		switch j, known := byIndex[int(p[0])]; {
		case p[0] == 0:
			i.parent = "NONE"
		case p[1] == 0 && known:
			i.parent = out[j].name
		default:
			i.parent = "if" + strconv.Itoa(int(p[0]))
		}
	}
	addrs, err := dump(syscall.RTM_GETADDR)
	if err != nil {
		return nil, err
	}
	for _, m := range addrs {
		if m.Header.Type != syscall.RTM_NEWADDR || len(m.Data) < syscall.SizeofIfAddrmsg {
			continue
		}
		j, ok := byIndex[int(binary.NativeEndian.Uint32(m.Data[4:8]))]
		if !ok {
			continue
		}
		a, ok := parseAddr(&m)
		if ok {
			out[j].addrs = append(out[j].addrs, a)
		}
	}
	return out, nil
}

func dump(req int) ([]syscall.NetlinkMessage, error) {
	b, err := syscall.NetlinkRIB(req, syscall.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("network: asking the kernel for its interfaces: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return nil, fmt.Errorf("network: parsing the kernel's answer: %w", err)
	}
	return msgs, nil
}

// linkAddr formats a link-layer address as ip does: as an IP address for
// IP tunnels, in colon-separated hex for the rest.
func linkAddr(typ uint16, b []byte) string {
	switch {
	case len(b) == 4 && (typ == arphrdTunnel || typ == arphrdSit || typ == arphrdIPGRE):
		return netip.AddrFrom4([4]byte(b)).String()
	case len(b) == 16 && (typ == arphrdTunnel6 || typ == arphrdIP6GRE):
		return netip.AddrFrom16([16]byte(b)).String()
	}
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, ":")
}

func parseAddr(m *syscall.NetlinkMessage) (ifaddr, bool) {
	family, prefix, flags, scope := m.Data[0], m.Data[1], uint32(m.Data[2]), m.Data[3]
	var a ifaddr
	switch family {
	case syscall.AF_INET:
		a.family = "inet"
	case syscall.AF_INET6:
		a.family = "inet6"
	default:
		return a, false
	}
	attrs, err := syscall.ParseNetlinkRouteAttr(m)
	if err != nil {
		return a, false
	}
	var local, address netip.Addr
	for _, at := range attrs {
		switch at.Attr.Type {
		case syscall.IFA_LOCAL:
			local, _ = netip.AddrFromSlice(at.Value)
		case syscall.IFA_ADDRESS:
			address, _ = netip.AddrFromSlice(at.Value)
		case syscall.IFA_BROADCAST:
			if b, ok := netip.AddrFromSlice(at.Value); ok {
				a.broadcast = b.String()
			}
		case syscall.IFA_LABEL:
			a.label = strings.TrimRight(string(at.Value), "\x00")
		case 8: // IFA_FLAGS, the full 32 bits
			if len(at.Value) >= 4 {
				flags = binary.NativeEndian.Uint32(at.Value)
			}
		}
	}
	a.addr = address
	if local.IsValid() {
		a.addr = local
		a.peer = address.IsValid() && address != local
	}
	if !a.addr.IsValid() {
		return a, false
	}
	a.prefix = int(prefix)
	a.scope = scopeName(scope)
	// IFA_F_SECONDARY; for IPv6 the same bit means "temporary", which ip
	// prints as such and Salt keeps among the addresses.
	a.secondary = a.family == "inet" && flags&0x01 != 0
	if a.label == "" {
		a.label = a.scope
	}
	return a, true
}

// scopeName is ip's name for an address scope.
func scopeName(s uint8) string {
	switch s {
	case 0:
		return "global"
	case 200:
		return "site"
	case 253:
		return "link"
	case 254:
		return "host"
	case 255:
		return "nowhere"
	}
	return strconv.Itoa(int(s))
}

// netmask is Salt's cidr_to_ipv4_netmask: "" outside 1..32.
func netmask(bits int) string {
	if bits < 1 || bits > 32 {
		return ""
	}
	mask := ^uint32(0) << (32 - bits)
	return netip.AddrFrom4([4]byte{byte(mask >> 24), byte(mask >> 16), byte(mask >> 8), byte(mask)}).String()
}

// dict is Salt's network.interfaces: keyed by interface name, with up,
// hwaddr (when there is one), parent (for name@parent), inet, inet6 and
// secondary (when there are some).
func (ifs ifaces) dict() map[string]any {
	ret := make(map[string]any, len(ifs))
	for _, i := range ifs {
		d := map[string]any{"up": i.up}
		if i.hwaddr != "" {
			d["hwaddr"] = i.hwaddr
		}
		if i.parent != "" {
			d["parent"] = i.parent
		}
		var inet, inet6, secondary []any
		for _, a := range i.addrs {
			bits := a.prefix
			if a.peer {
				bits = 32 // ip prints no /prefix after the local address
			}
			var brd any
			if a.broadcast != "" {
				brd = a.broadcast
			}
			switch {
			case a.secondary:
				secondary = append(secondary, map[string]any{"type": "inet", "address": a.addr.String(), "netmask": netmask(bits), "broadcast": brd, "label": a.label})
			case a.family == "inet":
				inet = append(inet, map[string]any{"address": a.addr.String(), "netmask": netmask(bits), "broadcast": brd, "label": a.label})
			default:
				inet6 = append(inet6, map[string]any{"address": a.addr.String(), "prefixlen": strconv.Itoa(bits), "scope": a.scope})
			}
		}
		if inet != nil {
			d["inet"] = inet
		}
		if inet6 != nil {
			d["inet6"] = inet6
		}
		if secondary != nil {
			d["secondary"] = secondary
		}
		ret[i.name] = d
	}
	return ret
}

// ifaces are the interfaces in the kernel's order.
type ifaces []iface

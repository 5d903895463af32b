package grains

import (
	"net/netip"
	"slices"
)

// network gives Salt's address grains: ipv4 and ipv6 (every address,
// loopback included, sorted as Python's ipaddress sorts them, no
// duplicates), ip4_interfaces, ip6_interfaces and ip_interfaces (the
// addresses of each interface, interfaces without any included), and
// hwaddr_interfaces (the link address of each interface that has one; the
// loopback's is all zeros, as `ip link` shows it).
func (c *collector) network() {
	v4, v6 := []netip.Addr{}, []netip.Addr{}
	ip4if, ip6if, ipif, hwif := map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	var ifs []netInterface
	if c.src.interfaces != nil {
		ifs, _ = c.src.interfaces() // none found is what a host without interfaces reports
	}
	for _, ifi := range ifs {
		a4, a6 := []any{}, []any{}
		for _, ip := range ifi.addrs {
			addr, ok := netip.AddrFromSlice(ip)
			if !ok {
				continue
			}
			if addr.Is4In6() {
				addr = addr.Unmap()
			}
			if addr.Is4() {
				a4 = append(a4, addr.String())
				v4 = append(v4, addr)
			} else {
				a6 = append(a6, addr.WithZone("").String())
				v6 = append(v6, addr.WithZone(""))
			}
		}
		ip4if[ifi.name], ip6if[ifi.name] = a4, a6
		ipif[ifi.name] = append(append([]any{}, a4...), a6...)
		switch {
		case len(ifi.hwaddr) > 0:
			hwif[ifi.name] = ifi.hwaddr.String()
		case ifi.loopback:
			hwif[ifi.name] = "00:00:00:00:00:00"
		}
	}
	c.g["ipv4"], c.g["ipv6"] = sortedAddrs(v4), sortedAddrs(v6)
	c.g["ip4_interfaces"], c.g["ip6_interfaces"], c.g["ip_interfaces"] = ip4if, ip6if, ipif
	c.g["hwaddr_interfaces"] = hwif
}

// sortedAddrs is sorted(set(addrs)) as strings.
func sortedAddrs(addrs []netip.Addr) []any {
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	addrs = slices.Compact(addrs)
	out := make([]any, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

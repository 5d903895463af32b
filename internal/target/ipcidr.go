package target

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ipTarget is a compiled ipcidr target (ipcidr_match.py, S@ in
// compounds): Python's ipaddress.ip_address(tgt), or failing that
// ipaddress.ip_network(tgt) (strict: no host bits set), tested against
// the minion's grain "ipv4" or "ipv6", whichever is the target's version.
//
//   - An address matches when str(address) is in the grain: for the
//     grain's usual list, an element equal to Python's canonical form
//     (compressed, lower-case IPv6).
//   - A network matches when any address of the grain is in it
//     (salt.utils.network.in_subnet); scope ids are ignored, and an
//     address of the other IP version is never in it.
//   - A minion without the grain does not match. One whose grain holds
//     something that is not an address makes Salt raise, and the minion is
//     not targeted at all: Brine fails the whole match.
type ipTarget struct {
	v6     bool
	str    string       // an address target as Python prints it
	prefix netip.Prefix // a network target (valid) without zone
}

func (c *compiler) ipcidr(s string) (*node, error) {
	c.grains = true
	t := &ipTarget{}
	if a, ok := pyIPAddress(s); ok {
		t.v6, t.str = a.Is6(), pyAddrString(a)
		return &node{kind: kIPCIDR, ip: t, mayFail: true}, nil
	}
	p, err := pyIPNetwork(s)
	if err != nil {
		return nil, c.errorf("%v", err)
	}
	t.v6, t.prefix = p.Addr().Is6(), p
	return &node{kind: kIPCIDR, ip: t, mayFail: true}, nil
}

func (t *ipTarget) match(grains map[string]any, st *evalState) bool {
	if grains == nil {
		return st.greedy
	}
	proto := "ipv4"
	if t.v6 {
		proto = "ipv6"
	}
	v, ok := grains[proto]
	if !ok {
		return false
	}
	if !t.prefix.IsValid() {
		// str(tgt) in grains[proto]
		switch kindOf(v) {
		case vList:
			for i := range listLen(v) {
				if s, ok := listAt(v, i).(string); ok && s == t.str {
					return true
				}
			}
			return false
		case vDict:
			_, ok := dictGet(v, t.str)
			return ok
		}
		if s, ok := v.(string); ok {
			return strings.Contains(s, t.str)
		}
		st.failed = true // TypeError: not iterable
		return false
	}
	if kindOf(v) != vList {
		return t.contains(v, st)
	}
	for i := range listLen(v) {
		if t.contains(listAt(v, i), st) {
			return true
		}
		if st.failed {
			return false
		}
	}
	return false
}

// contains is ipaddress.ip_address(v) in network; a v that is no address
// fails the match (Salt raises ValueError).
func (t *ipTarget) contains(v any, st *evalState) bool {
	var a netip.Addr
	ok := false
	switch v := v.(type) {
	case string:
		a, ok = pyIPAddress(v)
	case int64:
		a, ok = ipFromInt(v >= 0, uint64(v))
	case int:
		a, ok = ipFromInt(v >= 0, uint64(v))
	case uint64:
		a, ok = ipFromInt(true, v)
	case bool: // a Python bool is an int
		n := uint64(0)
		if v {
			n = 1
		}
		a, ok = ipFromInt(true, n)
	}
	if !ok {
		st.failed = true
		return false
	}
	return t.prefix.Contains(a.WithZone(""))
}

// pyIPAddress parses s as Python's ipaddress.ip_address does. Go's parser
// agrees with Python's on what an address is (no leading zeros in IPv4,
// scope ids on IPv6 only), except that Go takes any text as a scope id and
// Python no '/' (anywhere) and no second '%'.
func pyIPAddress(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || strings.Count(s, "%") > 1 || strings.Contains(s, "/") {
		return netip.Addr{}, false
	}
	return a, true
}

// ipFromInt is ipaddress.ip_address of an integer: IPv4 below 2**32,
// IPv6 above; a negative one is no address.
func ipFromInt(nonNegative bool, v uint64) (netip.Addr, bool) {
	if !nonNegative {
		return netip.Addr{}, false
	}
	if v < 1<<32 {
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
	}
	var b [16]byte
	for i := range 8 {
		b[15-i] = byte(v >> (8 * i))
	}
	return netip.AddrFrom16(b), true
}

// pyAddrString is Python 3.10's str() of an address: Go's form, except
// that an IPv4-mapped IPv6 address prints in hex (::ffff:c000:202), not
// dotted.
func pyAddrString(a netip.Addr) string {
	if !a.Is4In6() {
		return a.String()
	}
	b := a.As16()
	s := fmt.Sprintf("::ffff:%x:%x", uint16(b[12])<<8|uint16(b[13]), uint16(b[14])<<8|uint16(b[15]))
	if z := a.Zone(); z != "" {
		s += "%" + z
	}
	return s
}

// pyIPNetwork parses s as Python's ipaddress.ip_network(s) with
// strict=True: "addr/prefixlen", and for IPv4 also "addr/netmask" and
// "addr/hostmask"; host bits must be zero. The zone of an IPv6 network is
// dropped: containment ignores it.
func pyIPNetwork(s string) (netip.Prefix, error) {
	addrPart, maskPart, hasMask := strings.Cut(s, "/")
	if strings.Contains(maskPart, "/") {
		return netip.Prefix{}, fmt.Errorf("more than one '/' in the network")
	}
	a, ok := pyIPAddress(addrPart)
	if !ok {
		if !hasMask {
			return netip.Prefix{}, fmt.Errorf("neither an IP address nor a network")
		}
		return netip.Prefix{}, fmt.Errorf("%q, before the '/', is not an IP address", addrPart)
	}
	a = a.WithZone("")
	bits := a.BitLen()
	if hasMask {
		var err error
		if bits, err = pyPrefixLen(maskPart, a.Is4()); err != nil {
			return netip.Prefix{}, err
		}
	}
	p := netip.PrefixFrom(a, bits)
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("host bits set (the network is %s)", p.Masked())
	}
	return p, nil
}

// pyPrefixLen is ipaddress's _make_netmask for a string: ASCII digits
// (leading zeros allowed), or for IPv4 a netmask or hostmask in dotted
// form.
func pyPrefixLen(m string, v4 bool) (int, error) {
	max := 128
	if v4 {
		max = 32
	}
	if m != "" && strings.Trim(m, "0123456789") == "" {
		n, err := strconv.Atoi(m)
		if err != nil || n > max {
			return 0, fmt.Errorf("invalid prefix length %q", m)
		}
		return n, nil
	}
	if v4 {
		if a, err := netip.ParseAddr(m); err == nil && a.Is4() {
			b := a.As4()
			v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			if n, ok := maskLen(v); ok {
				return n, nil
			}
			if n, ok := maskLen(^v); ok {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("invalid netmask %q", m)
}

// maskLen returns the prefix length of a netmask: ones then zeros.
func maskLen(v uint32) (int, bool) {
	n := 0
	for v&(1<<31) != 0 {
		v <<= 1
		n++
	}
	return n, v == 0
}

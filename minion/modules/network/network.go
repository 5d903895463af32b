// Package network is Salt's network execution module: the interfaces and
// addresses of the minion, its hostname, reachability tests and open
// sockets.
//
// Salt parses the output of "ip link show" and "ip addr show" (or
// ifconfig) and of netstat; Brine asks the kernel the same questions over
// rtnetlink and reads /proc/net, so the answers need none of those tools,
// and are shaped as Salt shapes what it parsed.
package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/brine-project/brine/internal/fnmatch"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

// Specs are the functions of the network module.
func Specs() []*modules.Spec {
	addrParams := []modules.Param{modules.D("interface", nil), modules.D("include_loopback", false), modules.D("cidr", nil)}
	return []*modules.Spec{
		{Name: "network.interfaces", Doc: "Return a dictionary of information about all the interfaces on the minion.\n\nCLI Example:\n\n    salt '*' network.interfaces",
			Fn: func(context.Context, *modules.Call) (any, error) {
				ifs, err := interfaces()
				if err != nil {
					return nil, err
				}
				return ifs.dict(), nil
			}},
		{Name: "network.hw_addr", Doc: "Return the hardware address (a.k.a. MAC address) for a given interface.\n\nCLI Example:\n\n    salt '*' network.hw_addr eth0",
			Params: []modules.Param{modules.P("iface")}, Fn: hwAddr},
		{Name: "network.hwaddr", Doc: "Return the hardware address (a.k.a. MAC address) for a given interface.\n\nCLI Example:\n\n    salt '*' network.hwaddr eth0",
			Params: []modules.Param{modules.P("iface")}, Fn: hwAddr},
		{Name: "network.ip_addrs", Doc: "Returns a list of IPv4 addresses assigned to the host. 127.0.0.1 is ignored, unless 'include_loopback=True' is indicated. If 'interface' is provided, then only IP addresses from that interface will be returned. Providing a CIDR via 'cidr=\"10.0.0.0/8\"' will return only the addresses which are within that subnet. If 'type' is 'public', then only public addresses will be returned. Ditto for 'type'='private'.\n\nCLI Example:\n\n    salt '*' network.ip_addrs",
			Params: append(addrParams[:3:3], modules.D("type", nil)),
			Fn:     func(_ context.Context, c *modules.Call) (any, error) { return ipAddrs(c, "inet") }},
		{Name: "network.ip_addrs6", Doc: "Returns a list of IPv6 addresses assigned to the host. ::1 is ignored, unless 'include_loopback=True' is indicated. If 'interface' is provided, then only IP addresses from that interface will be returned. Providing a CIDR via 'cidr=\"2000::/3\"' will return only the addresses which are within that subnet.\n\nCLI Example:\n\n    salt '*' network.ip_addrs6",
			Params: addrParams,
			Fn:     func(_ context.Context, c *modules.Call) (any, error) { return ipAddrs(c, "inet6") }},
		{Name: "network.get_hostname", Doc: "Get hostname.\n\nCLI Example:\n\n    salt '*' network.get_hostname",
			Fn: func(context.Context, *modules.Call) (any, error) { return os.Hostname() }},
		{Name: "network.ping", Doc: "Performs an ICMP ping to a host.\n\nReturn a True or False instead of ping output with return_boolean=True; set the time to wait for a response in seconds with timeout=3.\n\nCLI Example:\n\n    salt '*' network.ping archlinux.org",
			Params: []modules.Param{modules.P("host"), modules.D("timeout", false), modules.D("return_boolean", false)}, Fn: ping},
		{Name: "network.connect", Doc: "Test connectivity to a host using a particular port from the minion.\n\nCLI Example:\n\n    salt '*' network.connect archlinux.org 80\n    salt '*' network.connect archlinux.org 80 timeout=3\n    salt '*' network.connect archlinux.org 80 timeout=3 family=ipv4\n    salt '*' network.connect google-public-dns-a.google.com port=53 proto=udp timeout=3",
			Params: []modules.Param{modules.P("host"), modules.D("port", nil)}, VarKw: true, Fn: connect},
		{Name: "network.netstat", Doc: "Return information on open ports and states.\n\nCLI Example:\n\n    salt '*' network.netstat",
			Fn: func(context.Context, *modules.Call) (any, error) { return netstat("/proc") }},
	}
}

func hwAddr(_ context.Context, c *modules.Call) (any, error) {
	ifs, err := interfaces()
	if err != nil {
		return nil, err
	}
	name := fmt.Sprint(c.Args["iface"])
	for _, i := range ifs {
		if i.name == name {
			return i.hwaddr, nil
		}
	}
	// Salt returns this text as the value, not as an error.
	names := make([]string, len(ifs))
	for i, f := range ifs {
		names[i] = f.name
	}
	return fmt.Sprintf(`Interface "%s" not in available interfaces: "%s"`, name, strings.Join(names, `", "`)), nil
}

// splitInput is Salt's args.split_input: a list as is, a string split on
// commas.
func splitInput(v any) []string {
	switch v := v.(type) {
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = fmt.Sprint(x)
		}
		return out
	case string:
		parts := strings.Split(v, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	return []string{fmt.Sprint(v)}
}

// ipAddrs is ip_addrs and ip_addrs6: the addresses (secondary ones too)
// of the interfaces matching the globs of interface, without loopback
// unless asked for, within cidr, public or private, sorted and unique.
func ipAddrs(c *modules.Call, family string) (any, error) {
	ifs, err := interfaces()
	if err != nil {
		return nil, err
	}
	var pats []string
	if c.Args["interface"] != nil {
		pats = splitInput(c.Args["interface"])
	}
	loop := pydata.Truthy(c.Args["include_loopback"])
	seen := map[netip.Addr]bool{}
	var addrs []netip.Addr
	for _, i := range ifs {
		if pats != nil && !matchAny(pats, i.name) {
			continue
		}
		for _, a := range i.addrs {
			if a.family != family {
				continue
			}
			if (a.addr.IsLoopback() && !loop) || seen[a.addr] {
				continue
			}
			seen[a.addr] = true
			addrs = append(addrs, a.addr)
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
	var prefix netip.Prefix
	hasCIDR := pydata.Truthy(c.Args["cidr"])
	if hasCIDR {
		// Python's ip_network is strict: host bits set is an error, which
		// Salt logs and treats as no match.
		p, err := netip.ParsePrefix(fmt.Sprint(c.Args["cidr"]))
		if err == nil && p.Masked() == p {
			prefix = p
		}
	}
	out := []any{}
	for _, a := range addrs {
		switch {
		case hasCIDR:
			if !prefix.IsValid() || !prefix.Contains(a) {
				continue
			}
		case c.Args["type"] == "public":
			if isPrivate(a) {
				continue
			}
		case c.Args["type"] == "private":
			if !isPrivate(a) {
				continue
			}
		}
		out = append(out, a.String())
	}
	return out, nil
}

func matchAny(pats []string, name string) bool {
	for _, p := range pats {
		if fnmatch.Match(p, name) {
			return true
		}
	}
	return false
}

// privateNets are the networks Python's ipaddress calls private.
var privateNets = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/29",
		"192.0.0.170/31", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"::1/128", "::/128", "::ffff:0:0/96", "100::/64", "2001::/23", "2001:2::/48", "2001:db8::/32",
		"2001:10::/28", "fc00::/7", "fe80::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

func isPrivate(a netip.Addr) bool {
	for _, p := range privateNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// sanitizeHost is Salt's network.sanitize_host: the characters of a
// hostname (RFC 952), the rest dropped, 255 at most.
func sanitizeHost(host string) string {
	if len(host) > 255 {
		host = host[:255]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, host)
}

// ping runs the system's ping as Salt does ("ping -c 4 host", with -W
// timeout), returning its output, or whether it succeeded.
func ping(ctx context.Context, c *modules.Call) (any, error) {
	bin, err := exec.LookPath("ping")
	if err != nil {
		return nil, errors.New("ping is not installed on this minion: network.ping runs the system's ping (iputils or BusyBox)")
	}
	args := []string{"-c", "4", sanitizeHost(fmt.Sprint(c.Args["host"]))}
	if t := c.Args["timeout"]; pydata.Truthy(t) {
		args = append([]string{"-W", fmt.Sprint(t)}, args...)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	code := 0
	switch {
	case ctx.Err() != nil:
		return nil, context.Cause(ctx)
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	if pydata.Truthy(c.Args["return_boolean"]) {
		return code == 0, nil
	}
	// cmd.run's failing exit code becomes the job's, as in Salt.
	c.Retcode = code
	return strings.TrimRight(string(out), "\n"), nil
}

// connect is Salt's network.connect: can a TCP connection (or a UDP
// exchange) be made to host:port within timeout seconds?
func connect(ctx context.Context, c *modules.Call) (any, error) {
	ret := map[string]any{"result": nil, "comment": ""}
	host := ""
	if h := c.Args["host"]; pydata.Truthy(h) {
		host = fmt.Sprint(h)
	}
	if host == "" {
		ret["result"], ret["comment"] = false, "Required argument, host, is missing."
		return ret, nil
	}
	if !pydata.Truthy(c.Args["port"]) {
		ret["result"], ret["comment"] = false, "Required argument, port, is missing."
		return ret, nil
	}
	port := pyStr(c.Args["port"])
	proto := "tcp"
	if c.Extra["proto"] == "udp" {
		proto = "udp"
	}
	timeout := 5 * time.Second
	if t, ok := c.Extra["timeout"]; ok {
		d, err := modules.Seconds(t)
		if err != nil {
			return nil, err
		}
		timeout = d
	}
	network := "ip"
	switch c.Extra["family"] {
	case "ipv4":
		network = "ip4"
	case "ipv6":
		network = "ip6"
	}
	address := host
	if _, err := netip.ParseAddr(host); err != nil {
		address = sanitizeHost(host)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	unresolved := func() (any, error) {
		ret["result"], ret["comment"] = false, fmt.Sprintf("Unable to resolve host %s on %s port %s", host, proto, port)
		return ret, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, address)
	if err != nil || len(ips) == 0 {
		return unresolved()
	}
	pn, err := net.DefaultResolver.LookupPort(ctx, proto, port)
	if err != nil {
		return unresolved()
	}
	ip := ips[0].Unmap()
	target := net.JoinHostPort(ip.String(), strconv.Itoa(pn))
	if err := probe(ctx, proto, target); err != nil {
		ret["result"], ret["comment"] = false, fmt.Sprintf("Unable to connect to %s (%s) on %s port %s", host, ip, proto, port)
		return ret, nil
	}
	ret["result"], ret["comment"] = true, fmt.Sprintf("Successfully connected to %s (%s) on %s port %s", host, ip, proto, port)
	return ret, nil
}

// probe connects over TCP, or sends a datagram over UDP and waits for an
// answer, before ctx ends.
func probe(ctx context.Context, proto, target string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, proto, target)
	if err != nil {
		return err
	}
	defer conn.Close()
	if proto == "tcp" {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return err
		}
	}
	msg := strconv.FormatInt(time.Now().UnixNano(), 16)
	if _, err := conn.Write([]byte(msg)); err != nil {
		return err
	}
	buf := make([]byte, 255)
	_, err = conn.Read(buf)
	return err
}

// pyStr is Python's str() of a decoded value.
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

package network

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/modtest"
)

func run(t *testing.T, fun string, arg ...any) modules.Result {
	t.Helper()
	return modtest.Registry(Specs()).Run(context.Background(), fun, arg, modules.Job{Fun: fun}, &modules.Env{})
}

func TestInterfacesMatchNet(t *testing.T) {
	res := run(t, "network.interfaces")
	if !res.Success {
		t.Fatalf("failed: %v", res.Return)
	}
	got := res.Return.(map[string]any)
	want, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%d interfaces, net.Interfaces has %d", len(got), len(want))
	}
	for _, ni := range want {
		d, ok := got[ni.Name].(map[string]any)
		if !ok {
			t.Errorf("no %s in %v", ni.Name, got)
			continue
		}
		if d["up"] != (ni.Flags&net.FlagUp != 0) {
			t.Errorf("%s: up %v, flags %v", ni.Name, d["up"], ni.Flags)
		}
		if len(ni.HardwareAddr) > 0 && d["hwaddr"] != ni.HardwareAddr.String() {
			t.Errorf("%s: hwaddr %v, want %v", ni.Name, d["hwaddr"], ni.HardwareAddr)
		}
		addrs, err := ni.Addrs()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			ipn := a.(*net.IPNet)
			ones, _ := ipn.Mask.Size()
			if !hasAddr(d, ipn.IP.String(), ones) {
				t.Errorf("%s: %v missing from %v", ni.Name, ipn, d)
			}
		}
	}
	if lo, ok := got["lo"].(map[string]any); ok {
		inet := lo["inet"].([]any)[0].(map[string]any)
		want := map[string]any{"address": "127.0.0.1", "netmask": "255.0.0.0", "broadcast": nil, "label": "lo"}
		if !reflect.DeepEqual(inet, want) {
			t.Errorf("lo inet %v, want %v", inet, want)
		}
	}
}

func hasAddr(d map[string]any, addr string, ones int) bool {
	for _, key := range []string{"inet", "inet6", "secondary"} {
		list, _ := d[key].([]any)
		for _, x := range list {
			m := x.(map[string]any)
			if m["address"] != addr {
				continue
			}
			if m["prefixlen"] == strconv.Itoa(ones) || m["netmask"] == netmask(ones) {
				return true
			}
		}
	}
	return false
}

// netAddrs is what the test expects of ip_addrs, from package net.
func netAddrs(t *testing.T, v6, loop bool, name string) []any {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Addr]bool{}
	var addrs []netip.Addr
	for _, ni := range ifs {
		if name != "" && ni.Name != name {
			continue
		}
		as, _ := ni.Addrs()
		for _, a := range as {
			ip, _ := netip.AddrFromSlice(a.(*net.IPNet).IP)
			ip = ip.Unmap()
			if ip.Is6() != v6 || (ip.IsLoopback() && !loop) || seen[ip] {
				continue
			}
			seen[ip] = true
			addrs = append(addrs, ip)
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
	out := []any{}
	for _, a := range addrs {
		out = append(out, a.String())
	}
	return out
}

func TestIPAddrs(t *testing.T) {
	for _, tc := range []struct {
		name string
		fun  string
		arg  []any
		want []any
	}{
		{name: "ipv4", fun: "network.ip_addrs", want: netAddrs(t, false, false, "")},
		{name: "ipv4 with loopback", fun: "network.ip_addrs", arg: []any{modtest.Kw("include_loopback", true)}, want: netAddrs(t, false, true, "")},
		{name: "ipv6", fun: "network.ip_addrs6", want: netAddrs(t, true, false, "")},
		{name: "ipv6 with loopback", fun: "network.ip_addrs6", arg: []any{nil, true}, want: netAddrs(t, true, true, "")},
		{name: "one interface", fun: "network.ip_addrs", arg: []any{"lo", true}, want: []any{"127.0.0.1"}},
		{name: "glob", fun: "network.ip_addrs", arg: []any{modtest.Kw("interface", "l?", "include_loopback", true)}, want: []any{"127.0.0.1"}},
		{name: "list of interfaces", fun: "network.ip_addrs", arg: []any{modtest.Kw("interface", []any{"nosuch", "lo"}, "include_loopback", true)}, want: []any{"127.0.0.1"}},
		{name: "comma list", fun: "network.ip_addrs", arg: []any{modtest.Kw("interface", "nosuch, lo", "include_loopback", true)}, want: []any{"127.0.0.1"}},
		{name: "no such interface", fun: "network.ip_addrs", arg: []any{"nosuch0"}, want: []any{}},
		{name: "cidr", fun: "network.ip_addrs", arg: []any{modtest.Kw("cidr", "127.0.0.0/8", "include_loopback", true)}, want: []any{"127.0.0.1"}},
		{name: "cidr outside", fun: "network.ip_addrs", arg: []any{modtest.Kw("cidr", "203.0.113.0/24", "include_loopback", true)}, want: []any{}},
		{name: "cidr with host bits", fun: "network.ip_addrs", arg: []any{modtest.Kw("cidr", "127.0.0.1/8", "include_loopback", true)}, want: []any{}},
		{name: "private", fun: "network.ip_addrs", arg: []any{modtest.Kw("type", "private", "include_loopback", true, "interface", "lo")}, want: []any{"127.0.0.1"}},
		{name: "public", fun: "network.ip_addrs", arg: []any{modtest.Kw("type", "public", "include_loopback", true, "interface", "lo")}, want: []any{}},
		{name: "ipv6 cidr", fun: "network.ip_addrs6", arg: []any{modtest.Kw("cidr", "::1/128", "include_loopback", true)}, want: netAddrs(t, true, true, "lo")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.fun, tc.arg...)
			if !res.Success {
				t.Fatalf("failed: %v", res.Return)
			}
			if !reflect.DeepEqual(res.Return, tc.want) {
				t.Errorf("got %#v, want %#v", res.Return, tc.want)
			}
		})
	}
	if res := run(t, "network.ip_addrs", "lo", true, nil, nil, "extra"); res.Success || !strings.Contains(res.Return.(string), "ip_addrs() takes 4 positional arguments but 5 were given") {
		t.Errorf("too many arguments: %v", res.Return)
	}
}

func TestHwAddr(t *testing.T) {
	ifs, _ := net.Interfaces()
	names := make([]string, len(ifs))
	for i, ni := range ifs {
		names[i] = ni.Name
	}
	for _, tc := range []struct {
		name, iface string
		want        any
	}{
		{"loopback", "lo", "00:00:00:00:00:00"},
		{"missing", "nosuch0", `Interface "nosuch0" not in available interfaces: "` + strings.Join(names, `", "`) + `"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, fun := range []string{"network.hw_addr", "network.hwaddr"} {
				if res := run(t, fun, tc.iface); !res.Success || res.Return != tc.want {
					t.Errorf("%s(%s) = %v, want %v", fun, tc.iface, res.Return, tc.want)
				}
			}
		})
	}
	if res := run(t, "network.hw_addr"); res.Success || !strings.HasPrefix(res.Return.(string), "Passed invalid arguments to network.hw_addr: hw_addr() missing 1 required positional argument(s): 'iface'") {
		t.Errorf("no iface: %v", res.Return)
	}
}

func TestGetHostname(t *testing.T) {
	want, _ := os.Hostname()
	if res := run(t, "network.get_hostname"); res.Return != want {
		t.Errorf("got %v, want %v", res.Return, want)
	}
}

func TestPing(t *testing.T) {
	if _, err := exec.LookPath("ping"); err != nil {
		res := run(t, "network.ping", "127.0.0.1")
		if res.Success || res.Return != "ERROR: ping is not installed on this minion: network.ping runs the system's ping (iputils or BusyBox)" {
			t.Errorf("without ping: %v", res.Return)
		}
		return
	}
	if res := run(t, "network.ping", "127.0.0.1", 1, true); res.Return != true {
		t.Errorf("ping 127.0.0.1: %v", res.Return)
	}
}

// udpEcho answers each datagram on 127.0.0.1 with itself until stopped.
func udpEcho(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], addr)
		}
	}()
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func TestConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	open := ln.Addr().(*net.TCPAddr).Port
	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := closedLn.Addr().(*net.TCPAddr).Port
	closedLn.Close()
	echo := udpEcho(t)
	for _, tc := range []struct {
		name string
		arg  []any
		want map[string]any
	}{
		{"tcp open", []any{"127.0.0.1", open}, map[string]any{"result": true, "comment": fmt.Sprintf("Successfully connected to 127.0.0.1 (127.0.0.1) on tcp port %d", open)}},
		{"localhost", []any{"localhost", strconv.Itoa(open), modtest.Kw("family", "ipv4", "timeout", int64(2))}, map[string]any{"result": true, "comment": fmt.Sprintf("Successfully connected to localhost (127.0.0.1) on tcp port %d", open)}},
		{"tcp closed", []any{"127.0.0.1", closed, modtest.Kw("timeout", int64(2))}, map[string]any{"result": false, "comment": fmt.Sprintf("Unable to connect to 127.0.0.1 (127.0.0.1) on tcp port %d", closed)}},
		{"udp echo", []any{"127.0.0.1", modtest.Kw("port", echo, "proto", "udp", "timeout", int64(2))}, map[string]any{"result": true, "comment": fmt.Sprintf("Successfully connected to 127.0.0.1 (127.0.0.1) on udp port %d", echo)}},
		{"udp closed", []any{"127.0.0.1", closed, modtest.Kw("proto", "udp", "timeout", int64(2))}, map[string]any{"result": false, "comment": fmt.Sprintf("Unable to connect to 127.0.0.1 (127.0.0.1) on udp port %d", closed)}},
		{"unknown proto is tcp", []any{"127.0.0.1", open, modtest.Kw("proto", "sctp")}, map[string]any{"result": true, "comment": fmt.Sprintf("Successfully connected to 127.0.0.1 (127.0.0.1) on tcp port %d", open)}},
		{"wrong family", []any{"127.0.0.1", open, modtest.Kw("family", "ipv6", "timeout", int64(2))}, map[string]any{"result": false, "comment": fmt.Sprintf("Unable to resolve host 127.0.0.1 on tcp port %d", open)}},
		{"no host", []any{"", 80}, map[string]any{"result": false, "comment": "Required argument, host, is missing."}},
		{"no port", []any{"127.0.0.1"}, map[string]any{"result": false, "comment": "Required argument, port, is missing."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, "network.connect", tc.arg...)
			if !res.Success || !reflect.DeepEqual(res.Return, tc.want) {
				t.Errorf("got %v, want %v", res.Return, tc.want)
			}
		})
	}
	if res := run(t, "network.connect", "127.0.0.1", open, modtest.Kw("timeout", "soon")); res.Success || res.Return != `ERROR: "soon" is not a number of seconds` {
		t.Errorf("bad timeout: %v", res.Return)
	}
}

func TestNetstat(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	local := ln.Addr().String()
	res := run(t, "network.netstat")
	if !res.Success {
		t.Fatalf("failed: %v", res.Return)
	}
	var found map[string]any
	for _, e := range res.Return.([]any) {
		m := e.(map[string]any)
		if m["local-address"] == local && m["proto"] == "tcp" {
			found = m
		}
		for _, k := range []string{"proto", "recv-q", "send-q", "local-address", "remote-address", "user", "inode", "program"} {
			if _, ok := m[k].(string); !ok {
				t.Fatalf("no string %q in %v", k, m)
			}
		}
	}
	if found == nil {
		t.Fatalf("listener %s not in netstat", local)
	}
	arg0 := os.Args[0]
	if strings.HasPrefix(arg0, "/") {
		arg0 = filepath.Base(arg0)
	}
	wantProg := strconv.Itoa(os.Getpid()) + "/" + arg0
	if len(wantProg) > 19 {
		wantProg = wantProg[:19]
	}
	want := map[string]any{"state": "LISTEN", "remote-address": "0.0.0.0:*", "user": strconv.Itoa(os.Getuid()), "program": wantProg}
	for k, v := range want {
		if found[k] != v {
			t.Errorf("%s = %v, want %v", k, found[k], v)
		}
	}
}

func TestHelpers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0100007F:0016", "127.0.0.1:22"},
		{"00000000:0000", "0.0.0.0:*"},
		{"00000000000000000000000000000000:0016", ":::22"},
		{"00000000000000000000000001000000:0277", "::1:631"},
		{"0000000000000000FFFF00000100007F:1F90", "::ffff:127.0.0.1:8080"},
		{"junk", "junk"},
	} {
		if got := sockAddr(tc.in); got != tc.want {
			t.Errorf("sockAddr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		bits int
		want string
	}{{0, ""}, {8, "255.0.0.0"}, {20, "255.255.240.0"}, {32, "255.255.255.255"}, {33, ""}} {
		if got := netmask(tc.bits); got != tc.want {
			t.Errorf("netmask(%d) = %q, want %q", tc.bits, got, tc.want)
		}
	}
	for _, tc := range []struct {
		typ  uint16
		b    []byte
		want string
	}{
		{1, []byte{2, 0xfc, 0, 0, 0, 1}, "02:fc:00:00:00:01"},
		{arphrdSit, []byte{10, 0, 0, 1}, "10.0.0.1"},
		{arphrdTunnel6, netip.MustParseAddr("2001:db8::1").AsSlice(), "2001:db8::1"},
	} {
		if got := linkAddr(tc.typ, tc.b); got != tc.want {
			t.Errorf("linkAddr(%d, %v) = %q, want %q", tc.typ, tc.b, got, tc.want)
		}
	}
	if got := sanitizeHost("exa mple.com;rm -rf /_x"); got != "example.comrm-rf_x" {
		t.Errorf("sanitizeHost: %q", got)
	}
	for _, tc := range []struct {
		addr string
		want bool
	}{{"10.1.2.3", true}, {"192.168.1.1", true}, {"8.8.8.8", false}, {"fe80::1", true}, {"2606:4700::1111", false}, {"fd00::2", true}} {
		if got := isPrivate(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("isPrivate(%s) = %v", tc.addr, got)
		}
	}
	if got := scopeName(253) + "," + scopeName(0) + "," + scopeName(7); got != "link,global,7" {
		t.Errorf("scopeName: %s", got)
	}
}

package network

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tcpStates are the kernel's TCP states as netstat names them.
var tcpStates = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT",
	"07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING", "0C": "NEW_SYN_RECV",
}

// netstat is Salt's network.netstat, the shape it parses out of
// "netstat -tulpnea": one dict per TCP and UDP socket, TCP first, IPv4
// before IPv6, as the kernel lists them, every value a string. The program
// ("pid/name") is known for the sockets of processes this one may look
// into, "-" for the others, as netstat shows them.
func netstat(proc string) ([]any, error) {
	owners := socketOwners(proc)
	out := []any{}
	for _, f := range []struct{ file, proto string }{{"tcp", "tcp"}, {"tcp6", "tcp6"}, {"udp", "udp"}, {"udp6", "udp6"}} {
		b, err := os.ReadFile(filepath.Join(proc, "net", f.file))
		if err != nil {
			continue // no IPv6, or no such protocol
		}
		lines := strings.Split(string(b), "\n")
		for _, line := range lines[1:] {
			fl := strings.Fields(line)
			if len(fl) < 10 {
				continue
			}
			local, remote := sockAddr(fl[1]), sockAddr(fl[2])
			txq, rxq, _ := strings.Cut(fl[4], ":")
			program := owners[fl[9]]
			if program == "" {
				program = "-"
			}
			e := map[string]any{
				"proto":          f.proto,
				"recv-q":         hexDec(rxq),
				"send-q":         hexDec(txq),
				"local-address":  local,
				"remote-address": remote,
				"user":           fl[7],
				"inode":          fl[9],
				"program":        program,
			}
			if strings.HasPrefix(f.proto, "tcp") {
				e["state"] = tcpStates[fl[3]]
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func hexDec(s string) string {
	n, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return s
	}
	return strconv.FormatUint(n, 10)
}

// sockAddr formats a /proc/net address ("0100007F:0016") as netstat -n
// does: "127.0.0.1:22", ":::22", with "*" for port 0.
func sockAddr(s string) string {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return s
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return s
	}
	// The kernel prints each 32-bit word of the address in host order.
	for i := 0; i+4 <= len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.NativeEndian.Uint32(raw[i:]))
	}
	addr, ok := netip.AddrFromSlice(raw)
	if !ok {
		return s
	}
	port := "*"
	if n, err := strconv.ParseUint(p, 16, 16); err == nil && n != 0 {
		port = strconv.FormatUint(n, 10)
	}
	return addr.String() + ":" + port
}

// socketOwners maps socket inodes to netstat's "pid/program", from the
// file descriptors in /proc this process may read.
func socketOwners(proc string) map[string]string {
	owners := map[string]string{}
	ents, err := os.ReadDir(proc)
	if err != nil {
		return owners
	}
	for _, e := range ents {
		pid := e.Name()
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		fds, err := os.ReadDir(filepath.Join(proc, pid, "fd"))
		if err != nil {
			continue
		}
		name := ""
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(proc, pid, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			inode := strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")
			if _, seen := owners[inode]; seen {
				continue
			}
			if name == "" {
				name = progName(filepath.Join(proc, pid))
			}
			// netstat's buffer holds 19 characters of "pid/program".
			owner := pid + "/" + name
			if len(owner) > 19 {
				owner = owner[:19]
			}
			owners[inode] = owner
		}
	}
	return owners
}

// progName is argv[0] as netstat shows it (the base name of an absolute
// path), or the process name when the command line is empty.
func progName(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err == nil && len(b) > 0 {
		arg0, _, _ := strings.Cut(string(b), "\x00")
		if strings.HasPrefix(arg0, "/") {
			return arg0[strings.LastIndexByte(arg0, '/')+1:]
		}
		if arg0 != "" {
			return arg0
		}
	}
	comm, _ := os.ReadFile(filepath.Join(dir, "comm"))
	return strings.TrimSpace(string(comm))
}

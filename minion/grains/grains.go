// Package grains finds the facts a minion reports about its host, under
// Salt 3006's grain names and in its value formats: what targeting by grain
// and grains.items see.
//
// Grains come in three layers, each over the one before, as in Salt: the
// core grains found on the host (salt/grains/core.py and its siblings), the
// grains file (<conf dir>/grains, YAML, which grains.setval writes), and the
// minion configuration's grains. Finding them is best effort throughout:
// with no network, no DNS, no /sys, an unreadable /etc or a malformed grains
// file the minion still gets every grain it can, and a warning for the
// file. Nothing here asks DNS: fqdn is the host name as the system has it.
package grains

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/brine-project/brine/internal/version"
)

// SaltVersion is the saltversion grain: the Salt release whose protocol
// and functions Brine provides.
const SaltVersion = "3006.16"

// saltVersionInfo is the saltversioninfo grain.
var saltVersionInfo = []any{int64(3006), int64(16)}

// CollectConf returns the grains of this host for minion id: the core
// grains, over them the grains file in confDir (none when confDir is ""),
// over those static (the minion configuration's grains). A grains file
// that cannot be read or parsed is skipped with a warning on log (nil
// discards). It is safe for concurrent use; it takes some tens of
// milliseconds (it runs dpkg or rpm, and systemd-detect-virt or virt-what
// when they are installed).
func CollectConf(id, confDir string, static map[string]any, log *slog.Logger) map[string]any {
	return collect(id, confDir, static, log, hostSources())
}

// Collect is CollectConf with no grains file: the core grains under
// static.
func Collect(id string, static map[string]any) map[string]any {
	return CollectConf(id, "", static, nil)
}

// sources is where collect looks: the real host, or, in tests, a fake root
// directory and fake system calls.
type sources struct {
	root       string // prefix of every file read: "/" on the host
	uname      func() (unix.Utsname, error)
	hostname   func() (string, error)
	interfaces func() ([]netInterface, error)
	getenv     func(string) string
	// run runs a helper program (dpkg, systemd-detect-virt, …) and returns
	// its output and exit code; nil means there are none to run.
	run func(name string, args ...string) (string, int, error)
}

func hostSources() sources {
	return sources{
		root:       "/",
		uname:      func() (unix.Utsname, error) { var u unix.Utsname; return u, unix.Uname(&u) },
		hostname:   os.Hostname,
		interfaces: hostInterfaces,
		getenv:     os.Getenv,
		run:        runHelper,
	}
}

// helperTimeout bounds each helper program: a hung probe must not hold
// the minion's start.
const helperTimeout = 10 * time.Second

// runHelper runs name with args and returns its stdout, stripped.
func runHelper(name string, args ...string) (string, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return strings.TrimSpace(out.String()), exit.ExitCode(), nil
	}
	if err != nil {
		return "", -1, err
	}
	return strings.TrimSpace(out.String()), 0, nil
}

// collector holds one collection's sources and results.
type collector struct {
	src sources
	g   map[string]any
}

// path is rel (absolute, slash-separated) under the sources' root.
func (c *collector) path(rel string) string { return filepath.Join(c.src.root, rel) }

func (c *collector) read(rel string) ([]byte, error) { return os.ReadFile(c.path(rel)) }

func (c *collector) exists(rel string) bool {
	_, err := os.Stat(c.path(rel))
	return err == nil
}

func (c *collector) isDir(rel string) bool {
	fi, err := os.Stat(c.path(rel))
	return err == nil && fi.IsDir()
}

func (c *collector) isFile(rel string) bool {
	fi, err := os.Stat(c.path(rel))
	return err == nil && fi.Mode().IsRegular()
}

// which is salt.utils.path.which over the sources' root: the first
// executable file named exe in $PATH and Salt's extra directories, or "".
func (c *collector) which(exe string) string {
	if exe == "" {
		return ""
	}
	if strings.Contains(exe, "/") {
		if c.executable(exe) {
			return exe
		}
		return ""
	}
	for _, dir := range searchPath(c.src.getenv("PATH")) {
		p := filepath.Join(dir, exe)
		if c.executable(p) {
			return p
		}
	}
	return ""
}

func (c *collector) executable(p string) bool {
	fi, err := os.Stat(c.path(p))
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// searchPath is $PATH with the directories Salt's which always adds.
func searchPath(path string) []string {
	dirs := strings.Split(path, ":")
	for _, d := range []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"} {
		found := false
		for _, x := range dirs {
			if x == d {
				found = true
				break
			}
		}
		if !found {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// helper runs a helper program found by which; ok is false when there is
// none or it could not run.
func (c *collector) helper(name string, args ...string) (out string, code int, ok bool) {
	if c.src.run == nil {
		return "", 0, false
	}
	p := c.which(name)
	if p == "" {
		return "", 0, false
	}
	out, code, err := c.src.run(p, args...)
	if err != nil {
		return "", 0, false
	}
	return out, code, true
}

func collect(id, confDir string, static map[string]any, log *slog.Logger, src sources) map[string]any {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &collector{src: src, g: map[string]any{"id": id}}
	c.osData()
	c.hostname()
	c.network()
	c.process()
	c.locale()
	c.machineID()
	c.g["saltversion"] = SaltVersion
	c.g["saltversioninfo"] = append([]any(nil), saltVersionInfo...)
	c.g["brineversion"] = brineVersion()
	c.g["server_id"] = serverID(id)

	if confDir != "" {
		path := FilePath(confDir)
		file, err := ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			log.Warn("grains: skipping the grains file", "path", path, "err", err)
		}
		for k, v := range file {
			c.g[k] = v
		}
	}
	for k, v := range static {
		c.g[k] = v
	}
	return c.g
}

// machineID gives machine_id: the first of systemd's and D-Bus's files
// that exists.
func (c *collector) machineID() {
	for _, rel := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if c.exists(rel) {
			if b, err := c.read(rel); err == nil {
				c.g["machine_id"] = strings.TrimSpace(string(b))
			}
			return
		}
	}
}

// brineVersion is the Brine release, without the protocol note that
// version.String adds.
func brineVersion() string {
	v, _, _ := strings.Cut(version.String(), ", ")
	return v
}

// serverID is Salt's server_id grain: a number from the minion id,
// abs(int(sha256(id).hexdigest(), 16) % 2**31).
func serverID(id string) int64 {
	sum := sha256.Sum256([]byte(id))
	n := new(big.Int).SetBytes(sum[:])
	return n.Mod(n, big.NewInt(1<<31)).Int64()
}

// hostname gives localhost, fqdn, host and domain: the host name as the
// system has it, split at its first dot (Salt resolves the fqdn through
// DNS; Brine does not, so that a minion with no resolver starts at once).
func (c *collector) hostname() {
	h, err := c.src.hostname()
	if err != nil || h == "" {
		h = "localhost.localdomain" // Salt's fallback when there is no name
	}
	c.g["localhost"] = h
	c.g["fqdn"] = h
	host, domain, _ := strings.Cut(h, ".")
	c.g["host"], c.g["domain"] = host, domain
}

// process gives the grains of the minion process: path, systempath,
// shell, cwd, pid, uid, gid, username and groupname.
func (c *collector) process() {
	path := strings.TrimSpace(c.src.getenv("PATH"))
	sys := []any{}
	for _, p := range strings.Split(path, ":") {
		sys = append(sys, p)
	}
	c.g["path"], c.g["systempath"] = path, sys
	shell := c.src.getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	c.g["shell"] = shell
	if wd, err := os.Getwd(); err == nil {
		c.g["cwd"] = wd
	}
	c.g["pid"] = int64(os.Getpid())
	uid, gid := os.Getuid(), os.Getgid()
	c.g["uid"], c.g["gid"] = int64(uid), int64(gid)
	c.g["username"], c.g["groupname"] = nil, nil
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		c.g["username"] = u.Username
	}
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		c.g["groupname"] = g.Name
	}
}

// locale gives locale_info as Python's locale.getdefaultlocale() and
// dateutil's local zone name have it.
func (c *collector) locale() {
	var name string
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG", "LANGUAGE"} {
		if s := c.src.getenv(v); s != "" {
			name = s
			if v == "LANGUAGE" {
				name, _, _ = strings.Cut(s, ":")
			}
			break
		}
	}
	lang, enc := defaultLocale(name)
	zone, _ := time.Now().Zone()
	c.g["locale_info"] = map[string]any{
		"defaultlanguage":  lang,
		"defaultencoding":  enc,
		"detectedencoding": "utf-8",
		"timezone":         zone,
	}
}

// defaultLocale is locale.getdefaultlocale() for a locale name, as the
// Python 3.10 of Salt 3006 has it: language and encoding, None (nil) for
// the C locale. Python normalises names through a table of aliases; this
// handles the forms systems use ("en_US.UTF-8", "de_DE.utf8", "C.UTF-8",
// "fr_FR", "C", "POSIX").
func defaultLocale(name string) (lang, enc any) {
	name, _, _ = strings.Cut(name, "@")
	if name == "" || name == "C" || name == "POSIX" {
		return nil, nil
	}
	l, e, hasEnc := strings.Cut(name, ".")
	if ll, terr, ok := strings.Cut(l, "_"); ok {
		l = strings.ToLower(ll) + "_" + strings.ToUpper(terr)
	} else if strings.EqualFold(l, "c") {
		l = "C"
	}
	if !hasEnc {
		return l, "ISO8859-1"
	}
	norm := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(e))
	if l == "C" && norm == "utf8" {
		return "en_US", "UTF-8" // Python 3.10's alias, which Salt 3006 runs on
	}
	switch {
	case norm == "utf8":
		e = "UTF-8"
	case strings.HasPrefix(norm, "iso8859"):
		e = "ISO8859-" + strings.TrimPrefix(norm, "iso8859")
	}
	return l, e
}

// netInterface is what network needs of an interface.
type netInterface struct {
	name     string
	loopback bool
	hwaddr   net.HardwareAddr
	addrs    []net.IP
}

func hostInterfaces() ([]netInterface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]netInterface, 0, len(ifs))
	for _, ifi := range ifs {
		ni := netInterface{name: ifi.Name, loopback: ifi.Flags&net.FlagLoopback != 0, hwaddr: ifi.HardwareAddr}
		addrs, err := ifi.Addrs()
		if err == nil {
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok {
					ni.addrs = append(ni.addrs, ipn.IP)
				}
			}
		}
		out = append(out, ni)
	}
	return out, nil
}

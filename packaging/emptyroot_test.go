package packaging

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/brine-project/brine/internal/proctest"
)

// rootEnv carries a rootSpec from inRoot to the test binary it re-runs:
// that child enters the root and executes the spec's command there.
const rootEnv = "BRINE_PACKAGING_ROOT"

// rootSpec is one command to run in an empty root.
type rootSpec struct {
	Dir      string   // the root, on the host
	Proc     bool     // mount a fresh /proc, as container runtimes do
	UID, GID int      // who runs argv
	Argv     []string // a path inside the root, and its arguments
}

// inRoot returns a command that runs spec.Argv chrooted into spec.Dir as
// spec.UID:spec.GID, with an empty environment, in its own mount and PID
// namespaces: argv is that namespace's PID 1, so its children (the
// master's publish daemon) die with it. The re-run test binary does the
// work (enterRoot), because mounting /proc must happen between the fork
// and the exec.
func inRoot(t testing.TB, spec rootSpec) *exec.Cmd {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = []string{rootEnv + "=" + string(b)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID}
	return cmd
}

// enterRoot is the child's side of inRoot; it never returns.
func enterRoot() {
	var spec rootSpec
	err := json.Unmarshal([]byte(os.Getenv(rootEnv)), &spec)
	if err == nil {
		err = enter(spec)
	}
	fmt.Fprintf(os.Stderr, "entering the root: %v\n", err)
	os.Exit(126)
}

func enter(spec rootSpec) error {
	// Mounts made from here on stay in this mount namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	if spec.Proc {
		proc := filepath.Join(spec.Dir, "proc")
		if err := os.MkdirAll(proc, 0o555); err != nil {
			return err
		}
		if err := syscall.Mount("proc", proc, "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mounting /proc: %w", err)
		}
	}
	if err := syscall.Chroot(spec.Dir); err != nil {
		return err
	}
	if err := syscall.Chdir("/"); err != nil {
		return err
	}
	if err := syscall.Setgroups(nil); err != nil {
		return err
	}
	if err := syscall.Setgid(spec.GID); err != nil {
		return err
	}
	if err := syscall.Setuid(spec.UID); err != nil {
		return err
	}
	err := syscall.Exec(spec.Argv[0], spec.Argv, []string{})
	return fmt.Errorf("executing %s: %w", spec.Argv[0], err)
}

// requireRoot skips the test unless this process may chroot and make
// namespaces: it tries, with a command that cannot exist in the root.
func requireRoot(t *testing.T) {
	t.Helper()
	out, err := proctest.Run(inRoot(t, rootSpec{Dir: t.TempDir(), Argv: []string{"/nothing"}}))
	if err == nil || !strings.Contains(out, "executing /nothing") {
		t.Skipf("cannot chroot into an empty root here (needs root, or CAP_SYS_CHROOT and CAP_SYS_ADMIN): %v: %s", err, out)
	}
}

// layTree makes img's tree under dir, as its Dockerfile's build stage
// makes it in /rootfs: its binaries (those TestMain built) in /usr/bin,
// its directories with their owners and modes. Nothing else: no libc, no
// /etc/passwd, no /etc/resolv.conf, no /dev.
func layTree(t testing.TB, img image, dir string) {
	t.Helper()
	for _, name := range img.binaries {
		copyFile(t, bin(name), filepath.Join(dir, "usr/bin", name), 0o755)
	}
	for _, d := range img.rootDirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range img.owned {
		p := filepath.Join(dir, d.path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, d.uid, d.gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, d.mode); err != nil {
			t.Fatal(err)
		}
	}
	// The parents of the root must be searchable by the image's user.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// imageCmd returns the command the image runs by default, ENTRYPOINT then
// CMD, in the root at dir.
func imageCmd(t testing.TB, img image, dir string) *exec.Cmd {
	return inRoot(t, rootSpec{Dir: dir, Proc: true, UID: img.uid, GID: img.gid,
		Argv: append(slices.Clone(img.entrypoint), img.cmd...)})
}

// The master and the minion each run in their image's tree, laid out on
// the host from their Dockerfiles, as the images' user: nothing in the
// root but the static binaries, their directories and a configuration
// file. brine-key accepts the minion's key and brine gets its test.ping
// back, both run inside the master's root as `docker exec` runs them.
func TestEmptyRootDaemons(t *testing.T) {
	requireRoot(t)
	ctx := ctxT(t)
	tmp := proctest.TempDir(t, "bpkg")
	retPort, pubPort := proctest.FreePort(t), proctest.FreePort(t)

	mimg := readImage(t, "Dockerfile.master")
	mroot := filepath.Join(tmp, "m")
	layTree(t, mimg, mroot)
	// Configuration comes in as the containers' documentation has it: a
	// file in master.d or minion.d, bind-mounted over the image's empty
	// directory.
	writeFile(t, filepath.Join(mroot, "etc/brine/master.d/ports.conf"), fmt.Sprintf(
		"interface: 127.0.0.1\nret_port: %d\npublish_port: %d\n", retPort, pubPort))
	master := proctest.Start(t, "brine-master", imageCmd(t, mimg, mroot))
	master.Log.WaitLines(t, 1, "master: serving")
	bus := proctest.Watch(t, ctx, filepath.Join(mroot, "var/run/brine/master"))
	inMaster := func(argv ...string) string {
		t.Helper()
		out, err := proctest.Run(inRoot(t, rootSpec{Dir: mroot, Proc: true, UID: mimg.uid, GID: mimg.gid, Argv: argv}))
		if err != nil {
			t.Fatalf("%v in the master's root: %v\n%s", argv, err, out)
		}
		return out
	}

	nimg := readImage(t, "Dockerfile.minion")
	nroot := filepath.Join(tmp, "n")
	layTree(t, nimg, nroot)
	writeFile(t, filepath.Join(nroot, "etc/brine/minion.d/master.conf"), fmt.Sprintf(
		"id: scratch\nmaster: 127.0.0.1\nmaster_port: %d\npublish_port: %d\nacceptance_wait_time: 1\nrandom_reauth_delay: 0\n",
		retPort, pubPort))
	proctest.Start(t, "brine-minion", imageCmd(t, nimg, nroot))
	proctest.WaitEvents(t, ctx, bus, "salt/auth") // the key is pending
	inMaster("/usr/bin/brine-key", "-c", "/etc/brine", "-a", "scratch", "-y")
	proctest.WaitEvents(t, ctx, bus, "salt/minion/scratch/start")

	out := inMaster("/usr/bin/brine", "-c", "/etc/brine", "--static", "--out", "json", "*", "test.ping")
	var rets map[string]any
	if err := json.Unmarshal([]byte(out), &rets); err != nil {
		t.Fatalf("brine's output is not JSON: %v\n%s", err, out)
	}
	if len(rets) != 1 || rets["scratch"] != true {
		t.Errorf("test.ping returned %v, want {scratch: true}", rets)
	}
}

// Every binary, alone in a root with no /proc, /dev or /etc, as nobody,
// prints its version and its help.
func TestEmptyRootEveryBinary(t *testing.T) {
	requireRoot(t)
	for _, name := range binaries {
		t.Run(name, func(t *testing.T) {
			assertStatic(t, bin(name))
			dir := t.TempDir()
			copyFile(t, bin(name), filepath.Join(dir, name), 0o755)
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct{ flag, want string }{
				{"--version", testVersion},
				{"--help", "USAGE:"},
			} {
				out, err := proctest.Run(inRoot(t, rootSpec{Dir: dir, UID: 65534, GID: 65534, Argv: []string{"/" + name, tc.flag}}))
				if err != nil || !strings.Contains(out, tc.want) {
					t.Errorf("%s %s: %v, want %q in:\n%s", name, tc.flag, err, tc.want, out)
				}
			}
		})
	}
}

// assertStatic fails the test unless path is an ELF executable without a
// program interpreter or shared libraries.
func assertStatic(t testing.TB, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a program interpreter: it is dynamically linked", path)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v", path, libs)
	}
}

package cliutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/config"
)

// DaemonFlag is Salt's -d/--daemon, which Brine refuses: its daemons stay
// in the foreground for a supervisor (systemd) to run, so that they never
// fork a Go runtime.
func DaemonFlag() *cli.BoolFlag {
	return &cli.BoolFlag{Name: "daemon", Aliases: []string{"d"},
		Usage: "not supported: Brine's daemons stay in the foreground; run them under systemd (Type=simple) or another supervisor"}
}

// ErrNoDaemon is what -d gets.
var ErrNoDaemon = Hint(errors.New("-d/--daemon is not supported: Brine's daemons stay in the foreground"),
	"run it under systemd (Type=simple), or in the background with your shell's &")

// Overrides are the daemon flags that override configuration keys, as
// Salt's do: -l/--log-level (log_level), --log-file (log_file),
// --log-file-level (log_level_logfile), --pid-file (pidfile) and
// -u/--user (user). "" leaves the configuration's value.
type Overrides struct {
	LogLevel, LogFile, LogFileLevel, Pidfile, User string
}

// DaemonFlags are the flags of Overrides, --user only where withUser
// (the master: Brine's minion has no user key).
func DaemonFlags(withUser bool) []cli.Flag {
	flags := []cli.Flag{
		LogLevelFlag(true),
		&cli.StringFlag{Name: "log-file", Usage: "log to `FILE` as well as to the console (default: the config's log_file)"},
		&cli.StringFlag{Name: "log-file-level", Usage: "log to the file at `LEVEL`: " + strings.Join(config.LogLevels, ", ") + " (default: the config's log_level_logfile, else the console's level)"},
		&cli.StringFlag{Name: "pid-file", Usage: "write the process id to `FILE` (default: the config's pidfile)"},
	}
	if withUser {
		flags = append(flags, &cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as `USER`, when started as root (default: the config's user)"})
	}
	return flags
}

// OverridesFrom reads the flags of DaemonFlags.
func OverridesFrom(c *cli.Context) Overrides {
	return Overrides{LogLevel: c.String("log-level"), LogFile: c.String("log-file"),
		LogFileLevel: c.String("log-file-level"), Pidfile: c.String("pid-file"), User: c.String("user")}
}

// Apply sets the configuration's keys to the flags given, then resolves
// its logging (see ApplyLogLevel). user is nil for a daemon without a
// user key. The paths are taken as given, as Salt takes them: root_dir
// moves the configuration's paths only.
func (o Overrides) Apply(l *config.Logging, pidfile, user *string) error {
	if o.LogFileLevel != "" {
		if err := config.CheckLogLevel(o.LogFileLevel); err != nil {
			return Hint(err, "--log-file-level takes a level such as debug, info or warning")
		}
	}
	set := func(dst *string, v string) {
		if v != "" && dst != nil {
			*dst = v
		}
	}
	set(&l.LogFile, o.LogFile)
	set(&l.LogLevelLogfile, o.LogFileLevel)
	set(pidfile, o.Pidfile)
	set(user, o.User)
	return ApplyLogLevel(l, o.LogLevel)
}

// Args are the flags that give o again, for a process the daemon starts
// with its own command line (the master's publish daemon).
func (o Overrides) Args() []string {
	var args []string
	for _, f := range []struct{ name, v string }{{"--log-level", o.LogLevel}, {"--log-file", o.LogFile},
		{"--log-file-level", o.LogFileLevel}, {"--pid-file", o.Pidfile}, {"--user", o.User}} {
		if f.v != "" {
			args = append(args, f.name, f.v)
		}
	}
	return args
}

// PrintConfigFlag is --print-config.
func PrintConfigFlag() *cli.BoolFlag {
	return &cli.BoolFlag{Name: "print-config",
		Usage: "print the effective configuration (every key, YAML, after -c's files, include and root_dir) and exit"}
}

// PrintConfig is --print-config: the configuration's warnings on stderr
// (at the console's level), then on stdout a comment naming the files it
// was read from and its YAML.
func PrintConfig(stdout, stderr io.Writer, level string, warns []config.Warning, files []string, yml func() ([]byte, error)) error {
	log, err := Logger(stderr, level)
	if err != nil {
		return err
	}
	LogWarnings(log, slog.LevelWarn, warns)
	b, err := yml()
	if err != nil {
		return err
	}
	from := "no file: the defaults"
	if len(files) > 0 {
		from = strings.Join(files, ", ")
	}
	if _, err := fmt.Fprintf(stdout, "# read from %s\n", from); err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}

// WritePidfile writes this process's pid to path, creating its directory.
// It refuses when path names a live process of this program's name: the
// daemon is running already. The returned func removes the file if it
// still holds this pid; that is best effort, as a process that dropped
// privileges may no longer write the directory (Salt's pidfile is left
// behind the same way, and is harmless: the next start replaces it).
func WritePidfile(path string) (remove func(), err error) {
	if pid, ok := runningPid(path); ok {
		return nil, Hint(fmt.Errorf("already running as pid %d (pidfile %s)", pid, path),
			fmt.Sprintf("stop it first; if pid %d is not this daemon, remove %s", pid, path))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("pidfile: %w", err)
	}
	self := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(path, []byte(self+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("pidfile: %w", err)
	}
	return func() {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == self {
			os.Remove(path)
		}
	}, nil
}

// runningPid reports the pid path holds if that process lives and runs a
// program of this one's name (the same /proc comm): a pid left by a
// crash may since have gone to anything else.
func runningPid(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return 0, false
	}
	theirs, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return 0, false
	}
	ours, err := os.ReadFile("/proc/self/comm")
	return pid, err == nil && bytes.Equal(theirs, ours)
}

// RunAs makes the process run as user name, as salt-master's user key
// does: when it runs as root and name is another user, it creates the
// dirs that are missing (0700, their missing parents 0755 so that the
// user reaches them), hands each of dirs with everything in it and each
// of files that exists to that user, and then sets the process's groups, gid and
// uid, for every thread (Go does so on Linux since 1.16), so that
// whatever it opens and starts next is the user's. Not root, it cannot
// switch: it logs that once and runs on as who it is.
func RunAs(name string, dirs, files []string, log *slog.Logger) error {
	if name == "" {
		return nil
	}
	if os.Geteuid() != 0 {
		if cur, err := user.Current(); err == nil && name != cur.Username && name != "root" {
			log.Warn("not switching to the configured user: only root can", "user", name, "running_as", cur.Username)
		}
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return Hint(fmt.Errorf("user %q: %w", name, err), "set user to an existing user, or root")
	}
	uid, gid, groups, err := ids(u)
	if err != nil {
		return err
	}
	if uid == 0 {
		return nil
	}
	if err := makeDirs(dirs); err != nil {
		return err
	}
	for _, p := range append(slices.Clip(dirs), files...) {
		if err := chownTree(p, uid, gid); err != nil {
			return fmt.Errorf("handing %s to user %s: %w", p, name, err)
		}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups for user %s: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("setgid %d: %w", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("setuid %d: %w", uid, err)
	}
	log.Info("running as user", "user", name, "uid", uid, "gid", gid)
	return nil
}

func ids(u *user.User) (uid, gid int, groups []int, err error) {
	if uid, err = strconv.Atoi(u.Uid); err != nil {
		return 0, 0, nil, fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	if gid, err = strconv.Atoi(u.Gid); err != nil {
		return 0, 0, nil, fmt.Errorf("user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	gids, err := u.GroupIds()
	if err != nil {
		gids = []string{u.Gid} // no group database: the primary group alone
	}
	for _, g := range gids {
		n, err := strconv.Atoi(g)
		if err != nil {
			return 0, 0, nil, fmt.Errorf("user %s: group %q: %w", u.Username, g, err)
		}
		groups = append(groups, n)
	}
	return uid, gid, groups, nil
}

// chownTree gives path, and all under it when it is a directory, to
// uid:gid; a missing path is skipped. Symbolic links are changed
// themselves, never followed.
func chownTree(path string, uid, gid int) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	return filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func makeDirs(dirs []string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Dir(d), 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

package status

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// utmpFile returns the utmp file of this host ("" when there is none).
func utmpFile() string {
	for _, p := range []string{"/run/utmp", "/var/run/utmp"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// session is a USER_PROCESS record of utmp: someone logged in.
type session struct {
	user, line, host string
	pid              int
	login            time.Time
}

// glibc's struct utmp, the same on every Linux architecture it supports.
const (
	utmpSize    = 384
	userProcess = 7
)

// readUtmp returns the sessions recorded in a utmp file.
func readUtmp(path string) ([]session, error) {
	if path == "" {
		return nil, os.ErrNotExist
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cstr := func(b []byte) string {
		if i := strings.IndexByte(string(b), 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	var out []session
	for ; len(b) >= utmpSize; b = b[utmpSize:] {
		r := b[:utmpSize]
		typ := int16(hostOrder().Uint16(r[0:2]))
		u := cstr(r[44:76])
		if typ != userProcess || u == "" {
			continue
		}
		out = append(out, session{
			user:  u,
			line:  cstr(r[8:40]),
			host:  cstr(r[76:332]),
			pid:   int(int32(hostOrder().Uint32(r[4:8]))),
			login: time.Unix(int64(int32(hostOrder().Uint32(r[340:344]))), 0),
		})
	}
	return out, nil
}

// hostOrder is the byte order utmp is written in: this machine's.
func hostOrder() binary.ByteOrder { return binary.NativeEndian }

// hertz is USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100 on
// every architecture Linux still runs on but alpha.
const hertz = 100

// w is Salt's status.w: who is logged in and what they run, parsed from
// "w -fh" by Salt, built here from utmp and /proc as procps' w builds its
// lines.
func w(procRoot, utmp string, now time.Time) ([]any, error) {
	sessions, err := readUtmp(utmp)
	if err != nil {
		return []any{}, nil
	}
	ps, err := readProcs(procRoot)
	if err != nil {
		return nil, fmt.Errorf("status: reading processes: %w", err)
	}
	out := []any{}
	for _, s := range sessions {
		tty := "/dev/" + s.line
		var st syscall.Stat_t
		var dev uint64
		idle := time.Duration(0)
		if err := syscall.Stat(tty, &st); err == nil {
			dev = encodeDev(uint64(st.Rdev))
			idle = now.Sub(time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec)))
		}
		best, jcpu := sessionProc(s, dev, ps)
		what, pcpu := "-", uint64(0)
		if best != nil {
			what = best.command()
			pcpu = best.utime + best.stime
		}
		idleText := ival7(int64(idle/time.Second), 0)
		if strings.HasPrefix(s.line, ":") {
			idleText = "?xdm?"
		}
		out = append(out, map[string]any{
			"user":  s.user,
			"tty":   s.line,
			"login": loginTime(s.login, now),
			"idle":  idleText,
			"jcpu":  ival7(int64(jcpu/hertz), int64(jcpu%hertz)*100/hertz),
			"pcpu":  ival7(int64(pcpu/hertz), int64(pcpu%hertz)*100/hertz),
			"what":  strings.Join(strings.Fields(what), " "),
		})
	}
	return out, nil
}

// encodeDev is the kernel's new_encode_dev, the form of tty_nr in
// /proc/<pid>/stat.
func encodeDev(rdev uint64) uint64 {
	major, minor := uint64(unix.Major(rdev)), uint64(unix.Minor(rdev))
	return minor&0xff | major<<8 | (minor&^0xff)<<12
}

// sessionProc picks the process w shows for a session, as procps does: the
// newest foreground process on the session's terminal owned by its user,
// else the session's own process, else the newest on the terminal; and
// sums the CPU time of everything on the terminal.
func sessionProc(s session, tty uint64, ps []proc) (*proc, uint64) {
	uid := -2
	if u, err := user.Lookup(s.user); err == nil {
		uid, _ = strconv.Atoi(u.Uid)
	}
	var best, second *proc
	var jcpu uint64
	for i := range ps {
		p := &ps[i]
		if p.pid == s.pid && best == nil {
			best = p
		}
		if tty == 0 || p.tty != tty {
			continue
		}
		jcpu += p.utime + p.stime
		if second == nil || p.start > second.start {
			second = p
		}
		if uid != p.euid && uid != p.ruid {
			continue
		}
		if p.pgrp != p.tpgid {
			continue
		}
		if best != nil && p.start <= best.start {
			continue
		}
		best = p
	}
	if best == nil {
		best = second
	}
	return best, jcpu
}

// ival7 is procps' print_time_ival7, trimmed as Salt's split leaves it.
func ival7(secs, centis int64) string {
	switch {
	case secs < 0:
		return "?"
	case secs >= 48*60*60:
		return fmt.Sprintf("%ddays", secs/(24*60*60))
	case secs >= 60*60:
		return fmt.Sprintf("%d:%02dm", secs/(60*60), secs/60%60)
	case secs > 60:
		return fmt.Sprintf("%d:%02d", secs/60, secs%60)
	}
	return fmt.Sprintf("%d.%02ds", secs, centis)
}

// loginTime is procps' print_logintime: the time today, the weekday and
// hour within the week, the date before that.
func loginTime(login, now time.Time) string {
	login, now = login.Local(), now.Local()
	age := now.Sub(login)
	if age > 12*time.Hour && login.YearDay() != now.YearDay() {
		if age > 6*24*time.Hour {
			return fmt.Sprintf("%02d%s%02d", login.Day(), login.Format("Jan"), login.Year()%100)
		}
		return fmt.Sprintf("%s%02d", login.Format("Mon"), login.Hour())
	}
	return fmt.Sprintf("%02d:%02d", login.Hour(), login.Minute())
}

package cliutil

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/brine-project/brine/config"
)

// ApplyLogLevel sets the console's level to -l's, when given, then gives
// the log file the console's level and format where the configuration
// sets none of its own (so -l also sets the file's level, as Salt's does).
func ApplyLogLevel(l *config.Logging, flag string) error {
	if err := CheckLogLevel(flag); err != nil {
		return err
	}
	if flag != "" {
		l.LogLevel = flag
	}
	l.Resolve()
	return nil
}

// CheckLogLevel checks -l's level, if given.
func CheckLogLevel(flag string) error {
	if flag == "" {
		return nil
	}
	if err := config.CheckLogLevel(flag); err != nil {
		return Hint(err, "-l/--log-level takes a level such as debug, info or warning")
	}
	return nil
}

// NewLogger returns the logger of a daemon: the console (w, normally
// stderr) at log_level in log_format and, unless log_file is empty, the
// log file at log_level_logfile in log_format_logfile. The file is
// appended to, created 0600 (its directory 0755, so that a process that
// has dropped to the master's user reaches it) if need be; the
// caller closes it (nil without a file). Call ApplyLogLevel first.
func NewLogger(w io.Writer, l config.Logging) (*slog.Logger, *os.File, error) {
	var hs []slog.Handler
	h, err := handler(w, l.LogLevel, l.LogFormat)
	if err != nil {
		return nil, nil, err
	}
	if h != nil {
		hs = append(hs, h)
	}
	var f *os.File
	if l.LogFile != "" {
		if f, err = OpenLogFile(l.LogFile); err != nil {
			return nil, nil, err
		}
		h, err := handler(f, l.LogLevelLogfile, l.LogFormatLogfile)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		if h != nil {
			hs = append(hs, h)
		}
	}
	switch len(hs) {
	case 0:
		return slog.New(slog.DiscardHandler), f, nil
	case 1:
		return slog.New(hs[0]), f, nil
	}
	return slog.New(slog.NewMultiHandler(hs...)), f, nil
}

// OpenLogFile opens log_file for appending. Salt also takes syslog URLs
// there (udp://, file:///dev/log); Brine writes files only.
func OpenLogFile(path string) (*os.File, error) {
	if strings.Contains(path, "://") {
		return nil, Hint(fmt.Errorf("log_file %q: Brine logs to a file, not to syslog", path),
			"set log_file to a path, or to '' to log to stderr only (journald keeps it under systemd)")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, Hint(fmt.Errorf("log_file: %w", err), "set root_dir, or log_file to a path you can write, or to '' to log to stderr only")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, Hint(fmt.Errorf("log_file: %w", err), "set root_dir, or log_file to a path you can write, or to '' to log to stderr only")
	}
	return f, nil
}

// handler is a slog handler on w at a Salt level name in a log_format;
// nil for quiet.
func handler(w io.Writer, level, format string) (slog.Handler, error) {
	lvl, on, err := ParseLevel(level)
	if err != nil || !on {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "", "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("unknown log format %q: use text or json", format)
}

// LogWarnings logs the configuration's warnings at lvl: Warn in the
// daemons, Debug in the command-line tools, which read the same files on
// every run and would repeat them each time.
func LogWarnings(log *slog.Logger, lvl slog.Level, warns []config.Warning) {
	for _, w := range warns {
		log.Log(context.Background(), lvl, "config: "+w.String())
	}
}

// ToolLogger is the logger of a command-line tool: the console only, at
// -l's level (flag) or else the configuration's log_level; the
// configuration's warnings go to it at Debug.
func ToolLogger(w io.Writer, flag string, l config.Logging, warns []config.Warning) (*slog.Logger, error) {
	if err := ApplyLogLevel(&l, flag); err != nil {
		return nil, err
	}
	log, err := Logger(w, l.LogLevel)
	if err != nil {
		return nil, err
	}
	LogWarnings(log, slog.LevelDebug, warns)
	return log, nil
}

// Package cliutil holds what every Brine binary's command line shares: the
// config-dir and log-level flags, the logger they set up, and the way a
// failure is reported to the user.
package cliutil

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/config"
)

// ConfigDirFlag is -c/--config-dir, as on every Salt command.
func ConfigDirFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name: "config-dir", Aliases: []string{"c"}, Value: config.DefaultDir,
		EnvVars: []string{"BRINE_CONFIG_DIR"},
		Usage:   "read the configuration from `DIR`",
	}
}

// LogLevelFlag is --log-level (and -l where the command has no other use
// for it).
func LogLevelFlag(short bool) *cli.StringFlag {
	f := &cli.StringFlag{
		Name: "log-level", EnvVars: []string{"BRINE_LOG_LEVEL"},
		Usage: "console log level: all, garbage, trace, debug, info, warning, error, critical, quiet (default: the config's log_level)",
	}
	if short {
		f.Aliases = []string{"l"}
	}
	return f
}

// ParseLevel maps Salt's log level names to slog levels. quiet disables
// logging.
func ParseLevel(s string) (slog.Level, bool, error) {
	switch strings.ToLower(s) {
	case "all", "garbage", "trace", "debug", "profile":
		return slog.LevelDebug, true, nil
	case "info":
		return slog.LevelInfo, true, nil
	case "", "warning", "warn":
		return slog.LevelWarn, true, nil
	case "error":
		return slog.LevelError, true, nil
	case "critical":
		return slog.LevelError + 4, true, nil
	case "quiet":
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("unknown log level %q", s)
}

// Logger returns a text logger on w at the given Salt level name.
func Logger(w io.Writer, level string) (*slog.Logger, error) {
	lvl, on, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	if !on {
		return slog.New(slog.DiscardHandler), nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

// HintError is an error with a hint for the user about what to do.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// Hint wraps err with a hint.
func Hint(err error, hint string) error { return &HintError{Err: err, Hint: hint} }

// Exit reports err on stderr as "prog: error: ..." (and "prog: hint: ..."),
// then exits with code.
func Exit(prog string, err error, code int) {
	fmt.Fprintf(os.Stderr, "%s: error: %v\n", prog, err)
	var h *HintError
	if errors.As(err, &h) && h.Hint != "" {
		fmt.Fprintf(os.Stderr, "%s: hint: %s\n", prog, h.Hint)
	}
	os.Exit(code)
}

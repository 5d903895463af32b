package config

import (
	"fmt"
	"slices"
	"strings"
)

// LogLevels are Salt's log level names, most verbose first; quiet logs
// nothing. Brine logs all, garbage, trace and profile as debug.
var LogLevels = []string{"all", "garbage", "trace", "debug", "profile", "info", "warning", "error", "critical", "quiet"}

// LogFormats are the values of log_format and log_format_logfile.
var LogFormats = []string{"text", "json"}

// Logging is where and how a daemon logs. The level keys and log_file are
// Salt's. Salt's log_fmt_console and log_fmt_logfile are Python format
// strings Brine cannot honour, so it has its own log_format and
// log_format_logfile: text (slog's key=value lines) or json (one object a
// line), for the console and the file, the file's following the
// console's as Salt's log_fmt_logfile follows log_fmt_console.
type Logging struct {
	// LogLevel is the console's level (stderr), one of LogLevels.
	LogLevel string `yaml:"log_level"`
	// LogFile is the daemon's log file; the command-line tools log to
	// stderr only. A URL (Salt's syslog forms) is not supported.
	LogFile string `yaml:"log_file" brine:"path"`
	// LogLevelLogfile is the file's level; empty: LogLevel, as in Salt.
	LogLevelLogfile string `yaml:"log_level_logfile"`
	// LogFormat is the console's format, one of LogFormats.
	LogFormat string `yaml:"log_format"`
	// LogFormatLogfile is the file's format; empty: LogFormat.
	LogFormatLogfile string `yaml:"log_format_logfile"`
}

// Resolve gives the file's level and format, where unset, the console's:
// call it after the command line has set the console's, as Salt's -l also
// sets the file's level when the configuration does not.
func (l *Logging) Resolve() {
	if l.LogLevelLogfile == "" {
		l.LogLevelLogfile = l.LogLevel
	}
	if l.LogFormatLogfile == "" {
		l.LogFormatLogfile = l.LogFormat
	}
}

func (l *Logging) validate() error {
	for _, k := range []struct{ key, v string }{{"log_level", l.LogLevel}, {"log_level_logfile", l.LogLevelLogfile}} {
		if err := CheckLogLevel(k.v); k.v != "" && err != nil {
			return fmt.Errorf("config: %s: %w", k.key, err)
		}
	}
	for _, k := range []struct{ key, v string }{{"log_format", l.LogFormat}, {"log_format_logfile", l.LogFormatLogfile}} {
		if k.v != "" && !slices.Contains(LogFormats, k.v) {
			return fmt.Errorf("config: %s %q is not one of %s", k.key, k.v, strings.Join(LogFormats, ", "))
		}
	}
	return nil
}

// CheckLogLevel reports whether s is one of Salt's level names (any case;
// warn too, for Python's logging).
func CheckLogLevel(s string) error {
	if l := strings.ToLower(s); slices.Contains(LogLevels, l) || l == "warn" {
		return nil
	}
	return fmt.Errorf("unknown log level %q: use one of %s", s, strings.Join(LogLevels, ", "))
}

func defaultLogging(file string) Logging {
	return Logging{LogLevel: "warning", LogFile: file, LogFormat: "text"}
}

// Package cliutil holds what every Brine binary's command line shares: the
// config-dir, log-level and version flags, the loggers they set up, the
// daemons' pidfile and user switch, and the way a failure is reported to
// the user.
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
		Usage: "log to the console at `LEVEL`: " + strings.Join(config.LogLevels, ", ") + " (default: the config's log_level)",
	}
	if short {
		f.Aliases = []string{"l"}
	}
	return f
}

// HelpTemplate is every binary's --help: urfave/cli's, with OPTIONS
// where it says GLOBAL OPTIONS, as no Brine binary has subcommands. Set
// it with HideHelpCommand, which drops the help subcommand.
var HelpTemplate = strings.ReplaceAll(cli.AppHelpTemplate, "GLOBAL OPTIONS:", "OPTIONS:")

// PrintVersion is every binary's cli.VersionPrinter: the program's name
// and version.String(), as salt-master --version prints its name and
// release.
func PrintVersion(c *cli.Context) {
	fmt.Fprintf(c.App.Writer, "%s %s\n", c.App.Name, c.App.Version)
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

// Logger returns a text logger on w at the given Salt level name: the
// command-line tools' logger, which logs to the console only.
func Logger(w io.Writer, level string) (*slog.Logger, error) {
	h, err := handler(w, level, "text")
	if err != nil {
		return nil, err
	}
	if h == nil {
		return slog.New(slog.DiscardHandler), nil
	}
	return slog.New(h), nil
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

// targetKinds maps the targeting flags salt and salt-cp share to Salt's
// tgt_type.
var targetKinds = []struct{ flag, short, typ, usage string }{
	{"pcre", "E", "pcre", "the target is a regular expression on minion ids"},
	{"list", "L", "list", "the target is a comma-separated list of ids"},
	{"grain", "G", "grain", "the target is a grain: 'os:Debian'"},
	{"grain-pcre", "P", "grain_pcre", "the target is a grain with a regular expression value"},
	{"pillar", "I", "pillar", "the target is a pillar value: 'role:web'"},
	{"pillar-pcre", "J", "pillar_pcre", "the target is a pillar value as a regular expression"},
	{"ipcidr", "S", "ipcidr", "the target is an address or a CIDR subnet"},
	{"compound", "C", "compound", "the target is a compound expression: 'G@os:Debian and web*'"},
	{"nodegroup", "N", "nodegroup", "the target is a nodegroup of the master's config"},
}

// TargetFlags are salt's targeting flags (-E -L -G -P -I -J -S -C -N).
func TargetFlags() []cli.Flag {
	flags := make([]cli.Flag, 0, len(targetKinds))
	for _, k := range targetKinds {
		flags = append(flags, &cli.BoolFlag{Name: k.flag, Aliases: []string{k.short}, Usage: k.usage})
	}
	return flags
}

// TargetType returns the tgt_type the targeting flags ask for ("glob"
// without one), or an error when several are given.
func TargetType(c *cli.Context) (string, error) {
	typ := "glob"
	var chosen []string
	for _, k := range targetKinds {
		if c.Bool(k.flag) {
			chosen = append(chosen, "-"+k.short)
			typ = k.typ
		}
	}
	if len(chosen) > 1 {
		return "", Hint(fmt.Errorf("%s cannot be combined", strings.Join(chosen, " and ")), "give one kind of target; -C combines kinds in one expression")
	}
	return typ, nil
}

package cliutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brine-project/brine/config"
)

func TestNewLoggerConsoleAndFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "var", "log", "brine", "master")
	var console bytes.Buffer
	l := config.Logging{LogLevel: "warning", LogFormat: "text", LogFile: file, LogLevelLogfile: "debug", LogFormatLogfile: "json"}
	log, f, err := NewLogger(&console, l)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("detail", "jid", "1")
	log.Warn("trouble", "minion", "m1")
	f.Close()
	if c := console.String(); strings.Contains(c, "detail") || !strings.Contains(c, `level=WARN msg=trouble minion=m1`) {
		t.Errorf("console at warning, text: %q", c)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("log file at debug has %d lines: %q", len(lines), b)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec["msg"] != "detail" || rec["level"] != "DEBUG" {
		t.Errorf("log file line %q: %v %v", lines[0], rec, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, %v", fi.Mode(), err)
	}
}

func TestNewLoggerQuietAndNoFile(t *testing.T) {
	var console bytes.Buffer
	log, f, err := NewLogger(&console, config.Logging{LogLevel: "quiet", LogFile: ""})
	if err != nil || f != nil {
		t.Fatal(err, f)
	}
	log.Error("x")
	if console.Len() != 0 {
		t.Fatalf("quiet logged %q", console.String())
	}
	var h *HintError
	if _, _, err := NewLogger(&console, config.Logging{LogFile: "udp://loghost:514"}); err == nil || !errors.As(err, &h) {
		t.Fatalf("a syslog URL: err = %v, want one with a hint", err)
	}
}

func TestApplyLogLevel(t *testing.T) {
	for _, tc := range []struct {
		name, flag             string
		in                     config.Logging
		console, file, fileFmt string
	}{
		{"file follows -l", "debug", config.Logging{LogLevel: "warning", LogFormat: "json"}, "debug", "debug", "json"},
		{"file keeps its own", "info", config.Logging{LogLevel: "warning", LogLevelLogfile: "error", LogFormat: "text", LogFormatLogfile: "json"}, "info", "error", "json"},
		{"no flag", "", config.Logging{LogLevel: "error", LogFormat: "text"}, "error", "error", "text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.in
			if err := ApplyLogLevel(&l, tc.flag); err != nil {
				t.Fatal(err)
			}
			if l.LogLevel != tc.console || l.LogLevelLogfile != tc.file || l.LogFormatLogfile != tc.fileFmt {
				t.Fatalf("got %+v", l)
			}
		})
	}
	if err := ApplyLogLevel(&config.Logging{}, "loud"); err == nil {
		t.Fatal("-l loud accepted")
	}
}

package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// which is salt.utils.path.which: exe itself when it is an executable file
// (relative to the minion's directory), else the first executable file
// named exe in $PATH and the directories Salt always adds, else "".
func which(exe string) string {
	if exe == "" {
		return ""
	}
	if isExecutable(exe) {
		return exe
	}
	dirs := strings.Split(os.Getenv("PATH"), string(os.PathListSeparator))
	for _, d := range []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"} {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		if p := filepath.Join(d, exe); isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && unix.Access(p, unix.X_OK) == nil
}

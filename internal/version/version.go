// Package version says which Brine a binary is and which Salt protocol it
// speaks.
package version

import "runtime/debug"

// Version is stamped by the Makefile (-ldflags -X); without it the module
// version from the build info is used.
var Version = ""

// SaltProtocol is the Salt release whose wire protocol Brine speaks.
const SaltProtocol = "3006.16 (request envelope version 3, ZMTP 3.1)"

// String returns the version line every binary prints for --version.
func String() string {
	v := Version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	return v + ", Salt protocol " + SaltProtocol
}

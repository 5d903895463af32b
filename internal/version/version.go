// Package version says which Brine a binary is and which Salt protocol it
// speaks.
package version

import (
	"runtime/debug"
	"strconv"
)

// Version is stamped by the Makefile (-ldflags -X); without it the module
// version from the build info is used.
var Version = ""

// The Salt protocol Brine speaks: the Salt release it matches, the
// "version" every request envelope to the ret port carries (3 from Salt
// 3006.12 on), and the ZMTP revision of its sockets.
const (
	SaltRelease    = "3006.16"
	RequestVersion = 3
	ZMTP           = "3.1"
)

// Brine returns Brine's own version: the stamped one, else the module
// version from the build info, else "(devel)".
func Brine() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// String returns the version line every binary prints for --version, e.g.
//
//	v0.4.0, Salt protocol 3006.16 (request envelope version 3, ZMTP 3.1)
//
// Brine's version ends at the first ", ": the minion's grains and
// test.versions_information cut it there.
func String() string {
	return Brine() + ", Salt protocol " + SaltRelease +
		" (request envelope version " + strconv.Itoa(RequestVersion) + ", ZMTP " + ZMTP + ")"
}

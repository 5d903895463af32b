package version_test

import (
	"strings"
	"testing"

	"github.com/brine-project/brine/internal/version"
	"github.com/brine-project/brine/minion/grains"
)

// --version names the Salt protocol, and Brine's own version stays the
// part before the first ", " that the minion reports.
func TestString(t *testing.T) {
	defer func(v string) { version.Version = v }(version.Version)
	version.Version = "v1.2.3-4-gabcdef0-dirty"
	got := version.String()
	if want := "v1.2.3-4-gabcdef0-dirty, Salt protocol 3006.16 (request envelope version 3, ZMTP 3.1)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if v, _, _ := strings.Cut(got, ", "); v != version.Brine() {
		t.Errorf("the part before \", \" is %q, want Brine() = %q", v, version.Brine())
	}
}

// The release --version names is the one the minion announces in its
// saltversion grain and test.version.
func TestSaltReleaseMatchesGrains(t *testing.T) {
	if version.SaltRelease != grains.SaltVersion {
		t.Errorf("version.SaltRelease %q, grains.SaltVersion %q", version.SaltRelease, grains.SaltVersion)
	}
}

func TestBrineUnstamped(t *testing.T) {
	defer func(v string) { version.Version = v }(version.Version)
	version.Version = ""
	// A test binary's build info has no module version but "(devel)".
	if got := version.Brine(); got != "(devel)" {
		t.Errorf("Brine() = %q, want the build info's (devel)", got)
	}
}

package test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/brine-project/brine/internal/version"
)

// versionSections are the sections of the versions report, in order: Salt
// has Python and its dependencies where Brine has itself and Go.
var versionSections = []string{"Salt Version", "Brine Version", "System Versions"}

// versionsInformation is salt.version.versions_information for Brine.
func versionsInformation(g map[string]any) map[string]any {
	brine, _, _ := strings.Cut(version.String(), ", ")
	str := func(k string) string { s, _ := g[k].(string); return s }
	join := func(parts ...string) string {
		var out []string
		for _, p := range parts {
			if p != "" {
				out = append(out, p)
			}
		}
		return strings.Join(out, " ")
	}
	return map[string]any{
		"Salt Version":  map[string]any{"Salt": SaltVersion},
		"Brine Version": map[string]any{"Brine": brine, "Go": runtime.Version()},
		"System Versions": map[string]any{
			"system":  str("kernel"),
			"dist":    join(strings.ToLower(str("os")), str("osrelease"), str("oscodename")),
			"release": str("kernelrelease"),
			"machine": str("cpuarch"),
			"version": join(str("osfullname"), str("osrelease"), str("oscodename")),
			"locale":  "utf-8",
		},
	}
}

// versionsReport is salt.version.versions_report joined into one text:
// each section's title, its entries right-aligned on the colon, and a line
// holding one space after each section.
func versionsReport(g map[string]any) string {
	info := versionsInformation(g)
	pad := len("Not Installed")
	for _, sec := range info {
		for name := range sec.(map[string]any) {
			pad = max(pad, len(name))
		}
	}
	pad++
	var lines []string
	for _, title := range versionSections {
		sec := info[title].(map[string]any)
		lines = append(lines, title+":")
		names := make([]string, 0, len(sec))
		for n := range sec {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		for _, n := range names {
			v, _ := sec[n].(string)
			if v == "" {
				v = "Not Installed"
			}
			lines = append(lines, fmt.Sprintf("%*s: %s", pad, n, v))
		}
		lines = append(lines, " ")
	}
	return strings.Join(lines, "\n")
}

func versionsReportDoc(fun string) string {
	return "Returns versions of components used by salt\n\nCLI Example:\n\n    salt '*' " + fun
}

package fnmatch

import (
	"regexp"
	"strings"
	"testing"
)

// Cases checked against Python 3's fnmatch.fnmatchcase.
func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true},
		{"*", "web1", true},
		{"web*", "web1.example.com", true},
		{"web*", "db1", false},
		{"*.example.com", "a/b.example.com", true}, // '*' crosses '/'
		{"web?", "web1", true},
		{"web?", "web12", false},
		{"web[0-9]", "web7", true},
		{"web[0-9]", "webx", false},
		{"web[!0-9]", "webx", true},
		{"web[!0-9]", "web7", false},
		{"web[]]", "web]", true},  // ']' first in a class is literal
		{"web[!]]", "webx", true}, // and after '!'
		{"web[", "web[", true},    // unclosed '[' is literal
		{"web[a", "web[a", true},
		{"web[a-]", "web-", true}, // trailing '-' is literal
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"*a", strings.Repeat("b", 1000), false},
		{"ü?", "üß", true},
		{"[ä-ü]x", "öx", true},
		{`a\*`, `a\b`, true}, // no escaping: '\' is literal, '*' a star
		{"G@os:Linux", "G@os:Linux", true},
		{"", "", true},
		{"", "a", false},
		{"a", "", false},
	} {
		if got := Match(tc.pattern, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

// translate is Python's fnmatch.translate, simplified, as an oracle.
func translate(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(pat); {
		c := pat[i]
		i++
		switch c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i
			if j < len(pat) && pat[j] == '!' {
				j++
			}
			if j < len(pat) && pat[j] == ']' {
				j++
			}
			for j < len(pat) && pat[j] != ']' {
				j++
			}
			if j >= len(pat) {
				b.WriteString(`\[`)
				continue
			}
			stuff := pat[i:j]
			i = j + 1
			neg := strings.HasPrefix(stuff, "!")
			if neg {
				stuff = stuff[1:]
			}
			stuff = strings.ReplaceAll(stuff, `\`, `\\`)
			stuff = strings.ReplaceAll(stuff, `[`, `\[`)
			stuff = strings.ReplaceAll(stuff, `]`, `\]`)
			stuff = strings.ReplaceAll(stuff, `^`, `\^`)
			if neg {
				stuff = "^" + stuff
			}
			b.WriteString("[" + stuff + "]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil
	}
	return re
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"web*", "w[!0-9]?", "a*b*c", "[a-", "[]]x"} {
		f.Add(s, "web1")
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 64 || len(name) > 64 {
			return
		}
		re := translate(pattern)
		if re == nil || !isASCII(pattern) || !isASCII(name) {
			Match(pattern, name) // must not panic
			return
		}
		if got, want := Match(pattern, name), re.MatchString(name); got != want {
			t.Fatalf("Match(%q, %q) = %v, fnmatch says %v", pattern, name, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

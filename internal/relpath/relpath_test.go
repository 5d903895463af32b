package relpath

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "top.sls", "top.sls"},
		{"nested", "apache/files/httpd.conf", "apache/files/httpd.conf"},
		{"dot components", "./a/./b", "a/b"},
		{"double slash", "a//b/", "a/b"},
		{"dots in names", "a/..b/c..", "a/..b/c.."},
		{"hidden file", ".bashrc", ".bashrc"},
		{"backslash is a name", `a\..\b`, `a\..\b`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Clean(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("Clean(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCleanRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"dot", "."},
		{"dotdot", ".."},
		{"parent", "../etc/passwd"},
		{"inner parent", "a/../../etc/passwd"},
		{"harmless parent still refused", "a/../b"},
		{"trailing parent", "a/.."},
		{"absolute", "/etc/passwd"},
		{"salt url with parent", "salt://../etc/passwd"},
		{"nul", "a\x00b"},
		{"nul at end", "top.sls\x00.png"},
		{"too long", strings.Repeat("a/", MaxLen)},
		{"slashes only", "//"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Clean(tc.in)
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("Clean(%q) = %q, %v; want ErrUnsafe", tc.in, got, err)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	for _, ok := range []string{"base", "dev", "__env__", "prod-2", ".hidden"} {
		if err := Env(ok); err != nil {
			t.Errorf("Env(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../x", "a\x00", strings.Repeat("e", 256)} {
		if err := Env(bad); !errors.Is(err, ErrUnsafe) {
			t.Errorf("Env(%q) = %v, want ErrUnsafe", bad, err)
		}
	}
}

// FuzzCleanPath checks that whatever Clean accepts stays inside the
// directory it is joined to, and that cleaning is idempotent.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"top.sls", "a/b/c", "../x", "/etc/passwd", "a/../..", "a\x00", "./.", "salt://../x", "a//b/./c/", "..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, err := Clean(p)
		if err != nil {
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("Clean(%q): error %v does not wrap ErrUnsafe", p, err)
			}
			return
		}
		if c == "" || c == "." || strings.HasPrefix(c, "/") || strings.IndexByte(c, 0) >= 0 {
			t.Fatalf("Clean(%q) = %q", p, c)
		}
		for comp := range strings.SplitSeq(c, "/") {
			if comp == "" || comp == "." || comp == ".." {
				t.Fatalf("Clean(%q) = %q has component %q", p, c, comp)
			}
		}
		const root = "/srv/salt"
		if j := path.Join(root, c); !strings.HasPrefix(j, root+"/") {
			t.Fatalf("Clean(%q) = %q escapes: %q", p, c, j)
		}
		if again, err := Clean(c); err != nil || again != c {
			t.Fatalf("Clean(Clean(%q)) = %q, %v; want %q", p, again, err, c)
		}
	})
}

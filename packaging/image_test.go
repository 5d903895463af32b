package packaging

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/brine-project/brine/config"
)

// image is the tree a Dockerfile lays out, as read back from it: the
// empty-root test runs that tree.
type image struct {
	builder    string   // the build stage's base image
	cgoOff     bool     // the go build runs with CGO_ENABLED=0
	binaries   []string // built into /usr/bin
	rootDirs   []string // made by mkdir -p: root's
	owned      []ownedDir
	uid, gid   int // USER
	expose     []string
	entrypoint []string
	cmd        []string
	scratch    bool // the final stage is FROM scratch and copies the tree whole
}

// ownedDir is a directory the build stage makes with install -d -o -g.
type ownedDir struct {
	path     string
	uid, gid int
	mode     os.FileMode
}

// rootfs is where the build stage lays out the image's tree.
const rootfs = "/rootfs"

// readImage reads the Dockerfile at path. It knows the instructions and
// the RUN commands Brine's Dockerfiles use, and fails on anything in the
// final stage it does not know, so a Dockerfile cannot drift from what
// the tests run without the tests noticing.
func readImage(t testing.TB, path string) image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var img image
	stages := 0
	for _, ins := range instructions(string(b)) {
		op, arg, _ := strings.Cut(ins, " ")
		arg = strings.TrimSpace(arg)
		switch op {
		case "FROM":
			stages++
			if stages == 1 {
				img.builder, _, _ = strings.Cut(arg, " ")
			}
			img.scratch = arg == "scratch"
		case "RUN":
			if stages == 1 {
				readRun(t, &img, arg)
			}
		case "COPY":
			if stages > 1 && arg != "--from=build "+rootfs+"/ /" {
				t.Fatalf("%s: the final stage copies %q; the tests know only the whole %s/ tree", path, arg, rootfs)
			}
		case "USER":
			u, g, _ := strings.Cut(arg, ":")
			if img.uid, err = strconv.Atoi(u); err == nil {
				img.gid, err = strconv.Atoi(g)
			}
			if err != nil {
				t.Fatalf("%s: USER %q: want numeric uid:gid (a scratch image has no /etc/passwd)", path, arg)
			}
		case "EXPOSE":
			img.expose = strings.Fields(arg)
		case "ENTRYPOINT", "CMD":
			var argv []string
			if err := json.Unmarshal([]byte(arg), &argv); err != nil {
				t.Fatalf("%s: %s %s: want the exec form, a JSON array: %v", path, op, arg, err)
			}
			if op == "ENTRYPOINT" {
				img.entrypoint = argv
			} else {
				img.cmd = argv
			}
		case "WORKDIR", "ARG", "VOLUME":
		default:
			if stages > 1 {
				t.Fatalf("%s: %s in the final stage: the tests do not know it", path, op)
			}
		}
	}
	return img
}

// instructions returns the Dockerfile's instructions, comments dropped
// and continuation lines joined.
func instructions(text string) []string {
	var out []string
	cur := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || (line == "" && cur == "") {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur += s + " "
			continue
		}
		out = append(out, strings.TrimSpace(cur+line))
		cur = ""
	}
	return out
}

// readRun reads the build stage's go build, mkdir -p and install -d.
func readRun(t testing.TB, img *image, run string) {
	t.Helper()
	for _, c := range strings.Split(run, "&&") {
		f := strings.Fields(c)
		switch {
		case slices.Contains(f, "go") && slices.Contains(f, "build"):
			img.cgoOff = slices.Contains(f, "CGO_ENABLED=0")
			if i := slices.Index(f, "-o"); i < 0 || i+1 >= len(f) || f[i+1] != rootfs+"/usr/bin/" {
				t.Fatalf("go build must write into %s/usr/bin/: %s", rootfs, c)
			}
			for _, a := range f {
				if name, ok := strings.CutPrefix(a, "./cmd/"); ok {
					img.binaries = append(img.binaries, name)
				}
			}
		case len(f) > 2 && f[0] == "mkdir" && f[1] == "-p":
			img.rootDirs = append(img.rootDirs, inRootfs(t, f[2:])...)
		case len(f) > 1 && f[0] == "install" && f[1] == "-d":
			img.owned = append(img.owned, readInstall(t, f[2:])...)
		}
	}
}

// readInstall reads install -d's -o UID -g GID [-m MODE] DIR...
func readInstall(t testing.TB, args []string) []ownedDir {
	t.Helper()
	d := ownedDir{mode: 0o755}
	for len(args) > 1 && strings.HasPrefix(args[0], "-") {
		n, err := strconv.ParseUint(args[1], 10, 32)
		if args[0] == "-m" {
			n, err = strconv.ParseUint(args[1], 8, 32)
		}
		if err != nil {
			t.Fatalf("install -d %s %s: %v", args[0], args[1], err)
		}
		switch args[0] {
		case "-o":
			d.uid = int(n)
		case "-g":
			d.gid = int(n)
		case "-m":
			d.mode = os.FileMode(n)
		default:
			t.Fatalf("install -d: unknown option %s", args[0])
		}
		args = args[2:]
	}
	var out []ownedDir
	for _, p := range inRootfs(t, args) {
		d.path = p
		out = append(out, d)
	}
	return out
}

// inRootfs returns paths (under rootfs) as the image's paths.
func inRootfs(t testing.TB, paths []string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		rel, ok := strings.CutPrefix(p, rootfs+"/")
		if !ok {
			t.Fatalf("%s is not under %s", p, rootfs)
		}
		out = append(out, "/"+rel)
	}
	return out
}

// writtenPaths returns the directories a daemon writes into under its
// default configuration cfg (a config.Master or config.Minion): its
// pki_dir, cachedir and sock_dir, and the directories of its log_file
// and pidfile, as far as the configuration has those keys.
func writtenPaths(cfg any) map[string]string {
	out := map[string]string{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(v.Field(i))
				continue
			}
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch key {
			case "pki_dir", "cachedir", "sock_dir":
				out[key] = v.Field(i).String()
			case "log_file", "pidfile":
				out[key] = filepath.Dir(v.Field(i).String())
			}
		}
	}
	walk(reflect.ValueOf(cfg))
	return out
}

// within reports whether path is dir or under it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// Each image is a static build of its daemon in FROM scratch, run by a
// non-root user that can write every path the daemon's defaults name,
// started as `<daemon> -c /etc/brine`.
func TestDockerfiles(t *testing.T) {
	goMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, daemon string
		written      map[string]string
		expose       []string
	}{
		{"Dockerfile.master", "brine-master", writtenPaths(config.DefaultMaster()), []string{"4505", "4506"}},
		{"Dockerfile.minion", "brine-minion", writtenPaths(config.DefaultMinion()), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := readImage(t, tc.name)
			if !img.scratch {
				t.Error("the final stage is not FROM scratch")
			}
			if !img.cgoOff {
				t.Error("go build runs without CGO_ENABLED=0: the binaries would not be static")
			}
			if want := "golang:" + goMajorMinor(string(goMod)); img.builder != want {
				t.Errorf("builds FROM %s; go.mod wants %s", img.builder, want)
			}
			if !slices.Contains(img.binaries, tc.daemon) {
				t.Errorf("builds %v, not %s", img.binaries, tc.daemon)
			}
			if want := []string{"/usr/bin/" + tc.daemon, "-c", config.DefaultDir}; !slices.Equal(img.entrypoint, want) {
				t.Errorf("ENTRYPOINT %q, want %q", img.entrypoint, want)
			}
			if img.uid == 0 || img.gid == 0 {
				t.Errorf("USER %d:%d: the image should not run as root", img.uid, img.gid)
			}
			if !slices.Equal(img.expose, tc.expose) {
				t.Errorf("EXPOSE %v, want %v", img.expose, tc.expose)
			}
			for key, path := range tc.written {
				ok := false
				for _, d := range img.owned {
					ok = ok || (within(path, d.path) && d.uid == img.uid && d.gid == img.gid)
				}
				if !ok {
					t.Errorf("%s (%s) is in no directory the image's user %d:%d owns", key, path, img.uid, img.gid)
				}
			}
		})
	}
}

// goMajorMinor returns go.mod's go version without its patch level.
func goMajorMinor(goMod string) string {
	for _, line := range strings.Split(goMod, "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
			return strings.Join(parts[:min(2, len(parts))], ".")
		}
	}
	return ""
}

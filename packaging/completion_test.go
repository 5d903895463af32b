package packaging

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The completion scripts are generated from each binary's --help, so
// that they offer exactly the flags the binary takes; TestCompletionFiles
// fails when they differ from what the binaries say, and -update
// rewrites them.
var update = flag.Bool("update", false, "rewrite packaging/completion from the binaries' --help")

// cliFlag is one option of a --help's OPTIONS section.
type cliFlag struct {
	names       []string // as typed: --config-dir, -c
	placeholder string   // "" for a boolean flag; DIR, FILE, value...
	usage       string   // the first clause, for zsh's description
	choices     []string // the values the usage lists, if it lists them
}

// helpFlags runs `name --help` and reads its options: urfave/cli prints
// one per line, "   --long PH, -s PH   usage".
func helpFlags(t testing.TB, name string) []cliFlag {
	t.Helper()
	out, err := exec.Command(bin(name), "--help").Output()
	if err != nil {
		t.Fatalf("%s --help: %v", name, err)
	}
	var flags []cliFlag
	in := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasSuffix(line, "OPTIONS:"):
			in = true
		case in && strings.TrimSpace(line) == "":
			in = false
		case in && strings.HasPrefix(strings.TrimSpace(line), "-"):
			flags = append(flags, parseFlagLine(strings.TrimSpace(line)))
		}
	}
	if len(flags) == 0 {
		t.Fatalf("%s --help lists no options:\n%s", name, out)
	}
	return flags
}

var (
	columns      = regexp.MustCompile(`\s{2,}`)
	parenthetic  = regexp.MustCompile(`\s*\([^()]*\)`)
	envHint      = regexp.MustCompile(`\s*\[\$[A-Z_]+\]$`)
	choiceWord   = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	choiceSplits = regexp.MustCompile(`,\s*|\s+or\s+`)
)

func parseFlagLine(line string) cliFlag {
	spec, usage, _ := strings.Cut(columns.ReplaceAllString(line, "\x00"), "\x00")
	var f cliFlag
	for _, name := range strings.Split(spec, ", ") {
		n, ph, _ := strings.Cut(name, " ")
		f.names = append(f.names, n)
		f.placeholder = ph
	}
	usage = envHint.ReplaceAllString(usage, "")
	plain := parenthetic.ReplaceAllString(usage, "")
	f.usage, _, _ = strings.Cut(plain, ": ")
	f.usage, _, _ = strings.Cut(f.usage, "; ")
	// "output: nested (default), json, yaml, txt, raw or quiet" lists the
	// values the flag takes.
	if _, list, ok := strings.Cut(plain, ": "); ok && f.placeholder != "" {
		words := choiceSplits.Split(strings.TrimSpace(list), -1)
		if len(words) > 1 && !slices.ContainsFunc(words, func(w string) bool { return !choiceWord.MatchString(w) }) {
			f.choices = words
		}
	}
	return f
}

// completion is what a flag's value completes to, in bash and in zsh.
func (f cliFlag) completion() (bash, zsh string) {
	switch {
	case f.choices != nil:
		return "COMPREPLY=($(compgen -W '" + strings.Join(f.choices, " ") + "' -- \"$cur\"))",
			"(" + strings.Join(f.choices, " ") + ")"
	case f.placeholder == "DIR":
		return `COMPREPLY=($(compgen -d -- "$cur"))`, "_files -/"
	case f.placeholder == "FILE":
		return `COMPREPLY=($(compgen -f -- "$cur"))`, "_files"
	}
	// A number, an id, a glob: nothing to offer.
	return "COMPREPLY=()", " "
}

const generatedBy = "generated from `%s --help` by packaging/completion_test.go;\n" +
	"# regenerate with: go test ./packaging -run TestCompletionFiles -update"

func bashScript(name string, flags []cliFlag) string {
	fn := "_" + strings.ReplaceAll(name, "-", "_")
	var b strings.Builder
	fmt.Fprintf(&b, "# bash completion for %s, "+generatedBy+"\n", name, name)
	fmt.Fprintf(&b, "%s() {\n\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n\tcase $prev in\n", fn)
	// One case arm per completion, naming every flag that completes so.
	var all, arms []string
	names := map[string][]string{}
	for _, f := range flags {
		all = append(all, f.names...)
		if f.placeholder != "" {
			bash, _ := f.completion()
			if names[bash] == nil {
				arms = append(arms, bash)
			}
			names[bash] = append(names[bash], f.names...)
		}
	}
	for _, arm := range arms {
		fmt.Fprintf(&b, "\t%s)\n\t\t%s\n\t\treturn\n\t\t;;\n", strings.Join(names[arm], "|"), arm)
	}
	b.WriteString("\tesac\n\tif [[ $cur == -* ]]; then\n")
	fmt.Fprintf(&b, "\t\tCOMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n\tfi\n}\n", strings.Join(all, " "))
	// -o default: the arguments (targets, functions, files) complete as
	// file names.
	fmt.Fprintf(&b, "complete -o default -F %s %s\n", fn, name)
	return b.String()
}

func zshScript(name string, flags []cliFlag) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#compdef %s\n# zsh completion for %s, "+generatedBy+"\n", name, name, name)
	b.WriteString("_arguments -s -S \\\n")
	for _, f := range flags {
		desc := strings.NewReplacer("[", `\[`, "]", `\]`, "'", `'\''`).Replace(f.usage)
		spec := "'" + f.names[0] + "[" + desc + "]"
		if len(f.names) > 1 {
			spec = "'(" + strings.Join(f.names, " ") + ")'{" + strings.Join(f.names, ",") + "}'[" + desc + "]"
		}
		if f.placeholder != "" {
			_, zsh := f.completion()
			spec += ":" + strings.ToLower(f.placeholder) + ":" + zsh
		}
		fmt.Fprintf(&b, "\t%s' \\\n", spec)
	}
	b.WriteString("\t'*:argument:_default'\n")
	return b.String()
}

// completionFiles returns each binary's scripts: path under completion/
// to text.
func completionFiles(t testing.TB) map[string]string {
	files := map[string]string{}
	for _, name := range binaries {
		flags := helpFlags(t, name)
		files[filepath.Join("bash", name)] = bashScript(name, flags)
		files[filepath.Join("zsh", "_"+name)] = zshScript(name, flags)
	}
	return files
}

// packaging/completion holds exactly the scripts the binaries' --help
// make, and nothing else.
func TestCompletionFiles(t *testing.T) {
	want := completionFiles(t)
	if *update {
		if err := os.RemoveAll("completion"); err != nil {
			t.Fatal(err)
		}
		for path, text := range want {
			writeFile(t, filepath.Join("completion", path), text)
		}
	}
	got := map[string]bool{}
	err := filepath.WalkDir("completion", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("completion", p)
		got[rel] = true
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if text, ok := want[rel]; !ok {
			t.Errorf("completion/%s: no binary of that name; run go test ./packaging -run TestCompletionFiles -update", rel)
		} else if string(b) != text {
			t.Errorf("completion/%s is stale: run go test ./packaging -run TestCompletionFiles -update; want:\n%s", rel, text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for path := range want {
		if !got[path] {
			t.Errorf("completion/%s is missing: run go test ./packaging -run TestCompletionFiles -update", path)
		}
	}
}

// bash, with the shipped script loaded, completes flags and their values.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		words []string // the command line; the last is being completed
		want  []string
	}{
		{"long flag", []string{"brine", "--conf"}, []string{"--config-dir"}},
		{"short flag", []string{"brine-key", "-"}, []string{"-L", "-a", "--accept-all", "--yes"}},
		{"choices", []string{"brine", "--out", "j"}, []string{"json"}},
		{"log levels", []string{"brine-minion", "-l", ""}, []string{"debug", "info", "quiet"}},
		{"key states", []string{"brine-key", "--list", "acc"}, []string{"acc", "accepted"}},
		{"directories", []string{"brine-master", "-c", dir + "/"}, []string{dir + "/etc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, filepath.Join(dir, "etc", "master"), "")
			script := fmt.Sprintf(`source completion/bash/%s
COMP_WORDS=(%s); COMP_CWORD=%d
%s
printf '%%s\n' "${COMPREPLY[@]}"`,
				tc.words[0], shellQuote(tc.words), len(tc.words)-1, "_"+strings.ReplaceAll(tc.words[0], "-", "_"))
			out, err := exec.Command("bash", "--norc", "--noprofile", "-c", script).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("completing %q offers %q, want %q among them", tc.words, got, w)
				}
			}
		})
	}
}

func shellQuote(words []string) string {
	var q []string
	for _, w := range words {
		q = append(q, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
	}
	return strings.Join(q, " ")
}

// zsh parses every zsh script, and its completion system takes each up
// for its command.
func TestZshCompletion(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("zsh is not installed (Debian: apt-get install zsh)")
	}
	for _, name := range binaries {
		if out, err := exec.Command("zsh", "-n", filepath.Join("completion", "zsh", "_"+name)).CombinedOutput(); err != nil {
			t.Errorf("zsh -n _%s: %v\n%s", name, err, out)
		}
	}
	script := `fpath=(completion/zsh $fpath); autoload -Uz compinit; compinit -u -D
for c in "$@"; do print -r -- "$c=${_comps[$c]}"; done`
	out, err := exec.Command("zsh", append([]string{"-f", "-c", script, "zsh"}, binaries...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("zsh: %v\n%s", err, out)
	}
	for _, name := range binaries {
		if !strings.Contains(string(out), name+"=_"+name+"\n") {
			t.Errorf("compinit did not take _%s up for %s:\n%s", name, name, out)
		}
	}
}

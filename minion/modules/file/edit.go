package file

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
)

const replaceDoc = `Replace occurrences of a pattern in a file. If show_changes is True, then a diff of what changed will be returned, otherwise a True will be returned when changes are made, and False when no changes are made.

path
    Filesystem path to the file to be edited. If a symlink is specified, it will be resolved to its target.

pattern
    A regular expression (RE2 syntax: no backreferences or lookarounds).

repl
    The replacement text (\1 or \g<name> refer to groups).

count: 0
    Maximum number of pattern occurrences to be replaced; 0 replaces them all.

flags (list or int)
    A list of flags of Python's re module (IGNORECASE, MULTILINE, DOTALL), or their int. Defaults to 8 (MULTILINE).

bufsize (int or str)
    Accepted for compatibility; the file is read whole.

append_if_not_found: False
    If set to True, and pattern is not found, then the content will be appended to the file.

prepend_if_not_found: False
    If set to True and pattern is not found, then the content will be prepended to the file.

not_found_content
    Content to use for append/prepend if not found. If None (default), uses repl.

backup: .bak
    The file extension to use for a backup of the file before editing. Set to False to skip making a backup.

dry_run: False
    If set to True, no changes will be made to the file, the function will just return the changes that would have been made.

search_only: False
    If set to true, no changes will be performed on the file, and this function will simply return True if the pattern was matched, and False if not.

show_changes: True
    If True, return a diff of changes made. Otherwise, return True if changes were made, and False if not.

ignore_if_missing: False
    If set to True, this function will simply return False if the file doesn't exist. Otherwise, an error will be thrown.

preserve_inode: True
    Preserve the inode of the file, so that any hard links continue to share the inode with the original filename.

backslash_literal: False
    Interpret backslashes as literal backslashes for the repl and not escape characters.

CLI Examples:

    salt '*' file.replace /etc/httpd/httpd.conf pattern='LogLevel warn' repl='LogLevel info'
    salt '*' file.replace /some/file pattern='before' repl='after' flags='[MULTILINE, IGNORECASE]'`

// reFlags are the flags of Python's re module, by name.
var reFlags = map[string]int64{
	"TEMPLATE": 1, "T": 1, "IGNORECASE": 2, "I": 2, "LOCALE": 4, "L": 4, "MULTILINE": 8, "M": 8,
	"DOTALL": 16, "S": 16, "UNICODE": 32, "U": 32, "VERBOSE": 64, "X": 64, "DEBUG": 128, "ASCII": 256, "A": 256,
}

const (
	flagIgnoreCase = 2
	flagMultiline  = 8
	flagDotall     = 16
	flagVerbose    = 64
)

// getFlags is Salt's _get_flags: an int as it is, a flag name or a list of
// them or'ed together.
func getFlags(v any) (int64, error) {
	switch f := v.(type) {
	case int64:
		return f, nil
	case int:
		return int64(f), nil
	case string:
		v = []any{f}
	case map[string]any, nil, bool, float64:
		return 0, saltError(fmt.Sprintf(`Invalid re flags: "%s", must be given either as a single flag string, a list of strings, as an integer, or as an re flag`, pyStr(v)))
	}
	list, ok := v.([]any)
	if !ok {
		return 0, saltError(fmt.Sprintf("Invalid re flags: %q", pyStr(v)))
	}
	var out int64
	for _, x := range list {
		f, ok := reFlags[strings.ToUpper(pyStr(x))]
		if !ok {
			return 0, saltError("Invalid re flag given: " + pyStr(x))
		}
		out |= f
	}
	return out, nil
}

// compile compiles a Python pattern with re flags into Go's regexp.
func compile(pattern string, flags int64) (*regexp.Regexp, error) {
	if flags&flagVerbose != 0 {
		return nil, saltError("the VERBOSE regular expression flag is not supported by Brine")
	}
	var prefix string
	if flags&flagIgnoreCase != 0 {
		prefix += "i"
	}
	if flags&flagMultiline != 0 {
		prefix += "m"
	}
	if flags&flagDotall != 0 {
		prefix += "s"
	}
	// Python's \Z is the end of the text, Go's \z.
	p := strings.ReplaceAll(pattern, `\Z`, `\z`)
	if prefix != "" {
		p = "(?" + prefix + ")" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, saltError(fmt.Sprintf("invalid regular expression %q: %v", pattern, err))
	}
	return re, nil
}

// template turns a Python re replacement ("\1", "\g<name>", "\n") into a
// Go regexp template ("${1}", "${name}", a newline; "$" doubled).
func template(repl string, re *regexp.Regexp) (string, error) {
	var out strings.Builder
	for i := 0; i < len(repl); i++ {
		ch := repl[i]
		if ch == '$' {
			out.WriteString("$$")
			continue
		}
		if ch != '\\' || i+1 == len(repl) {
			out.WriteByte(ch)
			continue
		}
		i++
		c := repl[i]
		switch {
		case c == 'g':
			end := strings.IndexByte(repl[i:], '>')
			if i+1 >= len(repl) || repl[i+1] != '<' || end < 0 {
				return "", saltError(fmt.Sprintf("missing group name at position %d", i+1))
			}
			name := repl[i+2 : i+end]
			if n, err := strconv.Atoi(name); err == nil {
				if n > re.NumSubexp() {
					return "", saltError(fmt.Sprintf("invalid group reference %d at position %d", n, i+1))
				}
			} else if re.SubexpIndex(name) < 0 {
				return "", saltError(fmt.Sprintf("unknown group name '%s'", name))
			}
			out.WriteString("${" + name + "}")
			i += end
		case c == '0' || (c >= '1' && c <= '7' && i+2 < len(repl) && isOctal(repl[i+1]) && isOctal(repl[i+2])):
			// An octal escape: \0, \0nn or \nnn.
			j := i + 1
			for j < len(repl) && j < i+3 && isOctal(repl[j]) {
				j++
			}
			n, _ := strconv.ParseUint(repl[i:j], 8, 16)
			out.WriteByte(byte(n))
			i = j - 1
		case c >= '1' && c <= '9':
			j := i + 1
			if j < len(repl) && repl[j] >= '0' && repl[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(repl[i:j])
			if n > re.NumSubexp() {
				return "", saltError(fmt.Sprintf("invalid group reference %d at position %d", n, i))
			}
			out.WriteString("${" + strconv.Itoa(n) + "}")
			i = j - 1
		default:
			if e, ok := pyEscapes[c]; ok {
				out.WriteByte(e)
			} else if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return "", saltError(fmt.Sprintf(`bad escape \%c at position %d`, c, i-1))
			} else if c == '\\' {
				out.WriteByte('\\')
			} else {
				// Other escapes stay as they are, backslash included.
				out.WriteByte('\\')
				out.WriteByte(c)
			}
		}
	}
	return out.String(), nil
}

var pyEscapes = map[byte]byte{'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// subn is Python's re.subn: data with the first count matches (all for
// 0) replaced, and how many there were.
func subn(re *regexp.Regexp, tmpl string, data []byte, count int) ([]byte, int) {
	n := -1
	if count > 0 {
		n = count
	}
	matches := re.FindAllSubmatchIndex(data, n)
	if len(matches) == 0 {
		return data, 0
	}
	var out []byte
	last := 0
	for _, m := range matches {
		out = append(out, data[last:m[0]]...)
		out = re.Expand(out, []byte(tmpl), data, m)
		last = m[1]
	}
	return append(out, data[last:]...), len(matches)
}

// isText is salt.utils.files.is_text: the first 512 bytes have no NUL
// and are UTF-8, or are at most 30% outside printable ASCII.
func isText(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	block := make([]byte, 512)
	n, _ := f.Read(block)
	block = block[:n]
	if bytes.IndexByte(block, 0) >= 0 {
		return false
	}
	if len(block) == 0 || utf8.Valid(block) {
		return true
	}
	nontext := 0
	for _, c := range block {
		if !(c >= 32 && c < 127 || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\b') {
			nontext++
		}
	}
	return float64(nontext)/float64(len(block)) <= 0.30
}

// splitlines is Python's bytes.splitlines(True): lines ending in \n, \r
// or \r\n, each kept.
func splitlines(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			out = append(out, s)
			break
		}
		end := i + 1
		if s[i] == '\r' && end < len(s) && s[end] == '\n' {
			end++
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}

type replaceArgs struct {
	path, pattern, repl                        string
	notFound                                   *string
	count                                      any
	flags                                      any
	appendIfNotFound, prependIfNotFound        bool
	backup                                     string
	dryRun, searchOnly, showChanges, ignoreMis bool
	preserveInode, backslashLiteral            bool
}

func replaceArgsOf(c *modules.Call) replaceArgs {
	a := c.Args
	r := replaceArgs{
		path: str(a["path"]), pattern: str(a["pattern"]), repl: pyStr(a["repl"]), count: a["count"], flags: a["flags"],
		appendIfNotFound: pydata.Truthy(a["append_if_not_found"]), prependIfNotFound: pydata.Truthy(a["prepend_if_not_found"]),
		dryRun: pydata.Truthy(a["dry_run"]), searchOnly: pydata.Truthy(a["search_only"]), showChanges: pydata.Truthy(a["show_changes"]),
		ignoreMis: pydata.Truthy(a["ignore_if_missing"]), preserveInode: pydata.Truthy(a["preserve_inode"]), backslashLiteral: pydata.Truthy(a["backslash_literal"]),
	}
	if pydata.Truthy(a["backup"]) {
		r.backup = pyStr(a["backup"])
	}
	if v := a["not_found_content"]; pydata.Truthy(v) {
		s := pyStr(v)
		r.notFound = &s
	}
	return r
}

// replace is Salt's file.replace.
func replace(r replaceArgs) (any, error) {
	given := expanduser(r.path)
	symlink := isLink(given)
	var target string
	if symlink {
		target, _ = os.Readlink(given)
	}
	path := realpath(given)
	if !exists(path) {
		if r.ignoreMis {
			return false, nil
		}
		return nil, saltError("File not found: " + path)
	}
	if !isText(path) {
		return nil, saltError("Cannot perform string replacements on a binary file: " + path)
	}
	if r.searchOnly && (r.appendIfNotFound || r.prependIfNotFound) {
		return nil, saltError("search_only cannot be used with append/prepend_if_not_found")
	}
	if r.appendIfNotFound && r.prependIfNotFound {
		return nil, saltError("Only one of append and prepend_if_not_found is permitted")
	}
	flags, err := getFlags(r.flags)
	if err != nil {
		return nil, err
	}
	count, err := intArg(r.count, "count")
	if err != nil {
		return nil, err
	}
	re, err := compile(r.pattern, flags)
	if err != nil {
		return nil, err
	}
	pre, err := stats(path, "", true)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, saltError(fmt.Sprintf("Unable to open file '%s'. Exception: %v", path, pyOSError(err, path)))
	}
	if r.searchOnly {
		return re.Match(data), nil
	}
	repl := r.repl
	if r.backslashLiteral {
		repl = strings.ReplaceAll(repl, `\`, `\\`)
	}
	tmpl, err := template(repl, re)
	if err != nil {
		return nil, err
	}
	result, nrepl := subn(re, tmpl, data, int(count))
	found := nrepl > 0
	// Python compares the pattern (str) with repl (bytes): always unequal.
	hasChanges := found
	content := r.repl
	if r.notFound != nil && (r.appendIfNotFound || r.prependIfNotFound) {
		content = *r.notFound
	}
	if (r.appendIfNotFound || r.prependIfNotFound) && hasLine(string(data), content, flags) {
		found = true
	}
	origLines := splitlines(string(data))
	newLines := splitlines(string(result))
	if string(data) == string(result) {
		hasChanges = false
	}
	var tempFile string
	if hasChanges && !r.dryRun {
		if tempFile, err = tempCopy(path, r.preserveInode); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, result, 0o666); err != nil {
			return nil, saltError(fmt.Sprintf("Unable to write file '%s'. Contents may be truncated. Temporary file contains copy at '%s'. Exception: %v", path, tempFile, pyOSError(err, path)))
		}
	}
	if !found && (r.appendIfNotFound || r.prependIfNotFound) {
		nf := r.repl
		if r.notFound != nil {
			nf = *r.notFound
		}
		if r.prependIfNotFound {
			newLines = append([]string{nf + "\n"}, newLines...)
		} else {
			if n := len(newLines); n > 0 && !strings.HasSuffix(newLines[n-1], "\n") {
				newLines[n-1] += "\n"
			}
			newLines = append(newLines, nf+"\n")
		}
		hasChanges = true
		if !r.dryRun {
			if tempFile != "" {
				os.Remove(tempFile)
			}
			if tempFile, err = tempCopy(path, r.preserveInode); err != nil {
				return nil, err
			}
			if err := atomicWrite(path, []byte(strings.Join(newLines, ""))); err != nil {
				return nil, pyOSError(err, path)
			}
		}
	}
	if r.backup != "" && hasChanges && !r.dryRun {
		backupName := path + r.backup
		if err := moveFile(tempFile, backupName); err != nil {
			return nil, saltError(fmt.Sprintf("Unable to move the temp file '%s' to the backup file '%s'. Exception: %v", path, tempFile, err))
		}
		if symlink {
			link, to := given+r.backup, target+r.backup
			if err := os.Symlink(to, link); err != nil {
				os.Remove(link)
				if err := os.Symlink(to, link); err != nil {
					return nil, saltError(fmt.Sprintf("Unable create backup symlink '%s'. Target was '%s'. Exception: %v", link, to, err))
				}
			}
		}
	} else if tempFile != "" {
		if err := os.Remove(tempFile); err != nil {
			return nil, saltError(fmt.Sprintf("Unable to delete temp file '%s'. Exception: %v", tempFile, err))
		}
	}
	if !r.dryRun {
		if _, _, err := checkPerms(path, nil, pre["user"], pre["group"], pre["mode"], false); err != nil {
			return nil, err
		}
	}
	diff := unifiedDiff(origLines, newLines)
	if r.showChanges {
		return diff, nil
	}
	if diff == "" {
		hasChanges = false
	}
	return hasChanges, nil
}

// hasLine is Salt's search for content already pre/appended:
// ^content($|(?=\r\n)) with the replace's flags.
func hasLine(data, content string, flags int64) bool {
	eq := func(a, b string) bool {
		if flags&flagIgnoreCase != 0 {
			return strings.EqualFold(a, b)
		}
		return a == b
	}
	ends := func(rest string) bool {
		// $ matches at the end, or before the newline ending the text (or
		// before any newline in MULTILINE); (?=\r\n) before a CRLF.
		return rest == "" || rest == "\n" || strings.HasPrefix(rest, "\r\n") || (flags&flagMultiline != 0 && strings.HasPrefix(rest, "\n"))
	}
	starts := []int{0}
	if flags&flagMultiline != 0 {
		for i := 0; i < len(data); i++ {
			if data[i] == '\n' {
				starts = append(starts, i+1)
			}
		}
	}
	for _, s := range starts {
		if len(data)-s >= len(content) && eq(data[s:s+len(content)], content) && ends(data[s+len(content):]) {
			return true
		}
	}
	return false
}

// tempCopy is Salt's _mkstemp_copy: the file copied (to preserve its
// inode) or moved into a new temporary file, whose name it returns.
func tempCopy(path string, preserveInode bool) (string, error) {
	f, err := os.CreateTemp("", "__salt.tmp.")
	if err != nil {
		return "", saltError(fmt.Sprintf("Unable to create temp file. Exception: %v", err))
	}
	f.Close()
	if preserveInode {
		if err := copyFile2(path, f.Name()); err != nil {
			return "", saltError(fmt.Sprintf("Unable to copy file '%s' to the temp file '%s'. Exception: %v", path, f.Name(), err))
		}
		return f.Name(), nil
	}
	if err := moveFile(path, f.Name()); err != nil {
		return "", saltError(fmt.Sprintf("Unable to move file '%s' to the temp file '%s'. Exception: %v", path, f.Name(), err))
	}
	return f.Name(), nil
}

// copyFile2 is shutil.copy2: the contents, the mode and the times.
func copyFile2(src, dst string) error {
	if err := copyFile(src, dst); err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if err := os.Chmod(dst, st.Mode().Perm()|st.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
		return err
	}
	return os.Chtimes(dst, st.ModTime(), st.ModTime())
}

// moveFile is shutil.move: a rename, or a copy and a removal across file
// systems.
func moveFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	if err := copyFile(src, dst); err != nil {
		return err
	}
	if st, err := os.Stat(src); err == nil {
		_ = os.Chmod(dst, st.Mode().Perm())
	}
	return os.Remove(src)
}

// atomicWrite is salt.utils.atomicfile.atomic_open: data written to a
// temporary file beside path, given path's mode and owner, and renamed
// over it.
func atomicWrite(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err == nil {
		if err := os.Chmod(f.Name(), os.FileMode(st.Mode&0o777)|goModeBits(st.Mode)); err != nil {
			return err
		}
		_ = os.Chown(f.Name(), int(st.Uid), int(st.Gid)) // only root may give a file away
	}
	return os.Rename(f.Name(), path)
}

func search(_ context.Context, c *modules.Call) (any, error) {
	flags, err := getFlags(c.Args["flags"])
	if err != nil {
		return nil, err
	}
	if pydata.Truthy(c.Args["multiline"]) {
		flags |= flagMultiline
	}
	return replace(replaceArgs{
		path: str(c.Args["path"]), pattern: str(c.Args["pattern"]), count: int64(0), flags: flags,
		dryRun: true, searchOnly: true, ignoreMis: pydata.Truthy(c.Args["ignore_if_missing"]),
	})
}

const lineDoc = `Line-focused editing of a file.

path
    Filesystem path to the file to be edited.

content
    Content of the line. Allowed to be empty if mode='delete'.

match
    Match the target line for an action by a fragment of a string or regular expression. If neither before nor after are provided, and match is also None, match falls back to the content value.

mode
    Defines how to edit a line: ensure, replace, delete or insert.

location
    In mode='insert' only, whether to place the content at the beginning (start) or end (end) of the file.

before
    Regular expression or an exact case-sensitive fragment of the string; must match exactly one line.

after
    Regular expression or an exact case-sensitive fragment of the string; must match exactly one line.

show_changes
    Output a unified diff of the old file and the new file. If False return a boolean if any changes were made.

backup
    Create a backup of the original file with the extension: "Year-Month-Day-Hour-Minutes-Seconds".

quiet
    Do not raise any exceptions.

indent
    Keep indentation with the previous line.

CLI Example:

    salt '*' file.line /etc/nsswitch.conf "networks:\tfiles dns" after="hosts:.*?" mode='ensure'`

// eol is Salt's _get_eol: the line ending a line ends with, or "".
func eol(line string) string {
	switch {
	case strings.HasSuffix(line, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(line, "\n"):
		return "\n"
	case strings.HasSuffix(line, "\r"):
		return "\r"
	}
	return ""
}

// pyIndex is Python's negative indexing of a list.
func pyIndex(lines []string, i int) string {
	if i < 0 {
		i += len(lines)
	}
	if i < 0 || i >= len(lines) {
		return ""
	}
	return lines[i]
}

func indentLike(src, line string, indent bool) string {
	if !indent {
		return line
	}
	i := 0
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return src[:i] + strings.TrimLeft(line, " \t\n\r\v\f")
}

func withEOL(src, line string) string {
	e := eol(src)
	if e == "" {
		e = "\n"
	}
	return strings.TrimRight(line, " \t\n\r\v\f") + e
}

// toStatic is Salt's _regex_to_static: the lines the expression matches,
// as a regular expression (with DOTALL) or as a fragment; nil when there
// are no lines or no expression.
func toStatic(lines []string, expr *string) ([]string, error) {
	if len(lines) == 0 || expr == nil || *expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile("(?s)" + *expr)
	if err != nil {
		return nil, saltError(fmt.Sprintf("%v: '%s'", err, *expr))
	}
	out := []string{}
	for _, l := range lines {
		if re.MatchString(l) || strings.Contains(l, *expr) {
			out = append(out, l)
		}
	}
	return out, nil
}

func assertOne(probe []string, target string) error {
	switch {
	case len(probe) > 1:
		return saltError(fmt.Sprintf(`Found more than expected occurrences in "%s" expression`, target))
	case len(probe) < 1:
		return saltError(fmt.Sprintf(`Found less than expected occurrences in "%s" expression`, target))
	}
	return nil
}

func index(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}

func insertAt(lines []string, i int, s string) []string {
	lines = append(lines, "")
	copy(lines[i+1:], lines[i:])
	lines[i] = s
	return lines
}

// setLine is Salt's _set_line: lines with content put in or taken out.
func setLine(lines []string, content string, match, before, after *string, mode, location string, indent bool) ([]string, error) {
	if match == nil && before == nil && after == nil {
		match = &content
	}
	afterL, err := toStatic(lines, after)
	if err != nil {
		return nil, err
	}
	beforeL, err := toStatic(lines, before)
	if err != nil {
		return nil, err
	}
	matchL, err := toStatic(lines, match)
	if err != nil {
		return nil, err
	}
	trimEOL := func(s string) string { return strings.TrimRight(s, "\r\n") }
	switch {
	case len(lines) == 0 && (mode == "delete" || mode == "replace"):
		return []string{}, nil
	case mode == "delete" && len(matchL) > 0:
		var out []string
		for _, l := range lines {
			if l != matchL[0] {
				out = append(out, l)
			}
		}
		return out, nil
	case mode == "replace" && len(matchL) > 0:
		i := index(lines, matchL[0])
		lines[i] = indentLike(lines[i], content, indent)
		return lines, nil
	case mode == "insert":
		if before == nil && after == nil && location == "" {
			return nil, saltError(`On insert either "location" or "before/after" conditions are required.`)
		}
		switch {
		case location == "end":
			if len(lines) > 0 {
				return append(lines, indentLike(lines[len(lines)-1], content, indent)), nil
			}
			return append(lines, content), nil
		case location == "start":
			if len(lines) > 0 {
				return insertAt(lines, 0, withEOL(lines[0], content)), nil
			}
			return []string{content + "\n"}, nil
		case location != "":
			return lines, nil
		case len(beforeL) > 0 && len(afterL) > 0:
			if err := assertOne(beforeL, "before"); err != nil {
				return nil, err
			}
			if err := assertOne(afterL, "after"); err != nil {
				return nil, err
			}
			last := index(lines, beforeL[0])
			return insertAt(lines, last, indentLike(lines[last], content, indent)), nil
		case len(afterL) > 0:
			if err := assertOne(afterL, "after"); err != nil {
				return nil, err
			}
			i := index(lines, afterL[0])
			if i+1 >= len(lines) || trimEOL(lines[i+1]) != trimEOL(content) {
				return insertAt(lines, i+1, indentLike(lines[i], content, indent)), nil
			}
			return lines, nil
		case len(beforeL) > 0:
			if err := assertOne(beforeL, "before"); err != nil {
				return nil, err
			}
			i := index(lines, beforeL[0])
			if trimEOL(pyIndex(lines, i-1)) != trimEOL(content) {
				return insertAt(lines, i, indentLike(lines[i], content, indent)), nil
			}
			return lines, nil
		}
		return nil, saltError("Neither before or after was found in file")
	case mode == "ensure":
		switch {
		case len(beforeL) > 0 && len(afterL) > 0:
			if err := assertOne(afterL, "after"); err != nil {
				return nil, err
			}
			if err := assertOne(beforeL, "before"); err != nil {
				return nil, err
			}
			ai, bi := index(lines, afterL[0]), index(lines, beforeL[0])
			for _, l := range lines {
				if strings.TrimLeft(l, " \t\n\r\v\f") == content {
					return lines, nil
				}
			}
			switch {
			case ai+1 == bi:
				return insertAt(lines, ai+1, indentLike(lines[ai], content, indent)), nil
			case ai+2 == bi:
				lines[ai+1] = indentLike(lines[ai], content, indent)
				return lines, nil
			}
			return nil, saltError(`Found more than one line between boundaries "before" and "after".`)
		case len(beforeL) > 0:
			if err := assertOne(beforeL, "before"); err != nil {
				return nil, err
			}
			i := index(lines, beforeL[0])
			if i == 0 || trimEOL(lines[i-1]) != trimEOL(content) {
				return insertAt(lines, i, indentLike(pyIndex(lines, i-1), content, indent)), nil
			}
			return lines, nil
		case len(afterL) > 0:
			if err := assertOne(afterL, "after"); err != nil {
				return nil, err
			}
			i := index(lines, afterL[0])
			if i+1 >= len(lines) || trimEOL(lines[i+1]) != trimEOL(content) {
				return insertAt(lines, i+1, indentLike(lines[i], content, indent)), nil
			}
			return lines, nil
		}
		return nil, saltError("Wrong conditions? Unable to ensure line without knowing where to put it before and/or after.")
	}
	return lines, nil
}

// optPtr is an optional string argument: nil for None.
func optPtr(v any) *string {
	if v == nil {
		return nil
	}
	s := pyStr(v)
	return &s
}

// line is Salt's file.line.
func line(_ context.Context, c *modules.Call) (any, error) {
	a := c.Args
	path := realpath(expanduser(str(a["path"])))
	if !isFile(path) {
		if !pydata.Truthy(a["quiet"]) {
			return nil, saltError(fmt.Sprintf(`File "%s" does not exists or is not a file.`, path))
		}
		return false, nil
	}
	mode := ""
	if a["mode"] != nil {
		mode = strings.ToLower(pyStr(a["mode"]))
	}
	switch mode {
	case "insert", "ensure", "delete", "replace":
	case "":
		if a["mode"] == nil {
			return nil, saltError("Mode was not defined. How to process the file?")
		}
		return nil, saltError(`Unknown mode: ""`)
	default:
		return nil, saltError(fmt.Sprintf(`Unknown mode: "%s"`, mode))
	}
	content := optPtr(a["content"])
	if mode != "delete" && content == nil {
		return nil, saltError(`Content can only be empty if mode is "delete"`)
	}
	contentStr := ""
	if content != nil {
		contentStr = *content
	}
	match, before, after := optPtr(a["match"]), optPtr(a["before"]), optPtr(a["after"])
	if !pydata.Truthy(a["match"]) {
		match = nil
	}
	if before == nil && after == nil && match == nil {
		match = content
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, pyOSError(err, path)
	}
	// Python reads the file in text mode: its line endings become "\n".
	text := strings.ReplaceAll(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\r", "\n")
	body := splitAfterNL(text)
	sumBefore := sha256.Sum256([]byte(strings.Join(body, "")))
	if len(body) > 0 && eol(body[len(body)-1]) != "" {
		body = append(body, "")
	}
	if len(raw) == 0 && (mode == "delete" || mode == "replace") {
		body = []string{}
	}
	location := ""
	if a["location"] != nil {
		location = pyStr(a["location"])
	}
	body, err = setLine(body, contentStr, match, before, after, mode, location, pydata.Truthy(a["indent"]))
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		for i, l := range body {
			if eol(l) == "" && i+1 < len(body) {
				prev := 1
				if i > 0 {
					prev = i - 1
				}
				body[i] = withEOL(body[prev], l)
			}
		}
		if body[len(body)-1] == "" {
			body = body[:len(body)-1]
		}
	}
	newText := strings.Join(body, "")
	changed := sumBefore != sha256.Sum256([]byte(newText))
	if pydata.Truthy(a["backup"]) && changed {
		bk := path + "." + time.Now().Format("2006-01-02-15-04-05")
		if err := copyFile2(path, bk); err != nil {
			return nil, saltError(fmt.Sprintf("Unable to create the backup file of %s. Exception: %v", path, err))
		}
	}
	var diff string
	if changed {
		if pydata.Truthy(a["show_changes"]) {
			cur, err := os.ReadFile(path)
			if err != nil {
				return nil, pyOSError(err, path)
			}
			curText := strings.ReplaceAll(strings.ReplaceAll(string(cur), "\r\n", "\n"), "\r", "\n")
			diff = unifiedDiff(splitAfterNL(curText), body)
		}
		if err := atomicWrite(path, []byte(newText)); err != nil {
			return nil, pyOSError(err, path)
		}
	}
	if pydata.Truthy(a["show_changes"]) && diff != "" {
		return diff, nil
	}
	return changed, nil
}

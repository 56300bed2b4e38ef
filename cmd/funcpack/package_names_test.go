package main

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestShow: a name that could drive a terminal, forge a line, hide
// characters or pass for a quoted name is printed Go-quoted; a plain one
// as it is, so the listing of a normal app reads as before.
func TestShow(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Hello/function.json", "Hello/function.json"},
		{"/tmp/x-1/app.zip", "/tmp/x-1/app.zip"},
		{"host.json~", "host.json~"},
		{"!Me/function.json", "!Me/function.json"},
		{"", `""`},
		{"a b", `"a b"`},
		{"évian", `"évian"`},
		{"x\x1b[2J", `"x\x1b[2J"`},
		{"x\x1b]0;title\x07", `"x\x1b]0;title\a"`},
		{"a\nfuncpack: wrote it", `"a\nfuncpack: wrote it"`},
		{"a\rb", `"a\rb"`},
		{"del\x7f", `"del\x7f"`},
		{"c1\u009b31m", `"c1\u009b31m"`},
		{"bad\xff", `"bad\xff"`},
		{"rlo\u202eexe.txt", `"rlo\u202eexe.txt"`},
		{"zw\u200dj", `"zw\u200dj"`},
		{"ls\u2028x", `"ls\u2028x"`},
		{"nb\u00a0sp", `"nb\u00a0sp"`},
		{`"quoted"`, `"\"quoted\""`},
		{`a\b`, `"a\\b"`},
	} {
		if got := show(tt.in); got != tt.want {
			t.Errorf("show(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

var errNoPath = errors.New("no path")

// TestPathError: the os package's errors print the path raw; funcpack
// prints it as show does.
func TestPathError(t *testing.T) {
	for _, tt := range []struct {
		err   error
		want  string
		cause error
	}{
		{&fs.PathError{Op: "open", Path: "a\x1bb", Err: fs.ErrPermission}, `open "a\x1bb": permission denied`, fs.ErrPermission},
		{&fs.PathError{Op: "stat", Path: "/plain", Err: fs.ErrNotExist}, `stat /plain: file does not exist`, fs.ErrNotExist},
		{&os.LinkError{Op: "rename", Old: "a\nb", New: "c", Err: fs.ErrExist}, `rename "a\nb" c: file already exists`, fs.ErrExist},
		{errNoPath, "no path", errNoPath},
	} {
		got := pathError(tt.err)
		if got.Error() != tt.want || !errors.Is(got, tt.cause) {
			t.Errorf("pathError(%v) = %q, want %q, wrapping %v", tt.err, got, tt.want, tt.cause)
		}
	}
}

// TestNameProblem: the shapes of zip slip and of names that print as
// other names, including those a walk of a real tree cannot produce.
func TestNameProblem(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"Hello/function.json", ""},
		{"host.json.bak", ""},
		{"Hello/résumé copy.txt", ""},
		{"日本/設定.json", ""},
		{"...", ""},
		{"..x/y", ""},
		{"/etc/passwd", "absolute"},
		{"../outside", ". or .."},
		{"a/../../x", ". or .."},
		{"a/./b", ". or .."},
		{"a//b", "empty"},
		{"a/", "empty"},
		{`..\..\x`, "backslash"},
		{`a\b`, "backslash"},
		{"a\x00b", "control"},
		{"a\nb", "control"},
		{"a\rb", "control"},
		{"a\tb", "control"},
		{"a\x1b[31mb", "control"},
		{"a\x7fb", "control"},
		{"a\u0085b", "control"},
		{"a\u009bb", "control"},
		{"a\u2028b", "line or paragraph"},
		{"a\u2029b", "line or paragraph"},
		{"a\u202eb", "format"},
		{"a\u2066b", "format"},
		{"a\u200bb", "format"},
		{"a\ufeffb", "format"},
		{"a\u00adb", "format"},
		{"a\ue000b", "private-use"},
		{"a\uffffb", "noncharacter"},
		{"a\xffb", "UTF-8"},
		{"a\xc0\xafb", "UTF-8"},
		{"a\xed\xa0\x80b", "UTF-8"},
		{"a:b", "Azure Files"},
		{"a|b", "Azure Files"},
		{"a*b", "Azure Files"},
		{"a?b", "Azure Files"},
		{`a"b`, "Azure Files"},
		{"a<b>", "Azure Files"},
	} {
		got := nameProblem(tt.name)
		if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
			t.Errorf("nameProblem(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestAdmittedBy: which ! lines match a path whole, and which only its
// start (what Core Tools lets in, but the line did not name).
func TestAdmittedBy(t *testing.T) {
	for _, tt := range []struct {
		patterns, path string
		exact          bool
		prefix         []int // lines
	}{
		{"*\n!host.json", "host.json", true, nil},
		{"*\n!/host.json", "host.json", true, nil},
		{"*\n!host.json", "host.json.bak", false, []int{2}},
		{"*\n!host.json", "host.json~", false, []int{2}},
		{"*\n!host.json", "host.json-old/x", false, []int{2}},
		{"*\n!host.json", "host.jsonx", false, nil},
		{"*\n!Me/function.json", "Me/function.json.d/.env", false, []int{2}},
		{"*\n!*/function.json", "Hello/function.json", true, nil},
		{"*\n!*/function.json", "Hello/function.json.orig", false, []int{2}},
		{"*\n!**/function.json", "a/b/function.json", true, nil},
		{"*\n!docs", "docs/a.md", false, []int{2}},
		{"*\n!", "anything", false, []int{2}},
		{"*\n!", ".env", false, nil},
		{"*\n!host\n!host.json", "host.json", true, nil},
		{"*\n!host\n!host.json", "host.json.bak", false, []int{2, 3}},
		{"*\n!handler", "handler", true, nil},
		{"*\n!handler", "handler.exe", false, []int{2}},
		{"*\n!handler", "handlers/x", false, nil},
	} {
		ig := parseFuncignore(tt.patterns)
		exact, prefix := ig.admittedBy(tt.path)
		var lines []int
		for _, p := range prefix {
			lines = append(lines, p.line)
		}
		if exact != tt.exact || !slices.Equal(lines, tt.prefix) {
			t.Errorf("patterns %q, path %q: exact %v, prefix lines %v; want %v, %v", tt.patterns, tt.path, exact, lines, tt.exact, tt.prefix)
		}
	}
}

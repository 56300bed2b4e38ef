package tools

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A comment or a document that sends the reader to a Markdown file must
// name one the reader has: a file of this repository, or a public page by
// its address. Notes kept outside the repository (cited as "platform.md
// §2.1" or "shared reference connector.md") leave a reader of a clone with
// nothing to open, so these tests refuse them, and any other reference to
// a *.md file that is not here.

// noteNames are the outside notes this repository was once written from.
// Cited with a section sign they can only mean those notes: a file of the
// repository with the same name has no numbered sections.
const noteNames = `platform|users|tokens|data|connector|aesthetics|design-review|env-probe`

var (
	// noteSectionRE is a note cited by section: "platform.md §2.1".
	noteSectionRE = regexp.MustCompile(`\b(?:` + noteNames + `)\.md\s*§`)
	// sharedRE is how the outside notes were named as a whole, and
	// sharedPathRE a path to one of them beside the repository. Other
	// paths through ../shared are left alone: test data uses them.
	sharedRE     = regexp.MustCompile(`(?i)\bshared\s+reference\b`)
	sharedPathRE = regexp.MustCompile(`\.\./shared/(?:[A-Za-z0-9_.-]+/)*(?:` + noteNames + `)\.md\b`)
	// mdRefRE is a path to a Markdown file: optional directories, then a
	// name that ends in .md (a link's #anchor is not part of it).
	mdRefRE = regexp.MustCompile(`(?:[A-Za-z0-9_.~-]+/)*[A-Za-z0-9_][A-Za-z0-9_.-]*\.md\b`)
	// domainRE is a path's first segment that is a host name
	// (github.com/…, learn.microsoft.com/…): a public address, not a file.
	domainRE = regexp.MustCompile(`^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/`)
)

// examplePaths are folders whose comments use made-up paths as examples:
// cmd/funcpack documents .funcignore rules with paths such as docs/a.md.
// Only the check for outside notes applies there.
var examplePaths = []string{"cmd/funcpack/"}

// citationProblems lists the references in one file's text that a reader
// of the repository cannot follow. file is the path from the repository's
// root, with slashes; exists says whether such a repository path is a
// file. In Go files only comments are read: string literals are data
// (test inputs, generated file names), not citations. JSON files are data
// throughout and are checked for outside notes only.
func citationProblems(file, text string, files []string) []string {
	set := make(map[string]bool, len(files))
	names := map[string]bool{}
	for _, f := range files {
		set[f], names[path.Base(f)] = true, true
	}
	exists := func(p string) bool { return set[p] }
	var problems []string
	generic := !strings.HasSuffix(file, ".json")
	for _, p := range examplePaths {
		if strings.HasPrefix(file, p) {
			generic = false
		}
	}
	for i, line := range strings.Split(text, "\n") {
		at := fmt.Sprintf("%s:%d", file, i+1)
		if m := noteSectionRE.FindString(line); m != "" {
			problems = append(problems, fmt.Sprintf("%s: %q cites a section of a note that is not in the repository: cite the public source instead", at, m))
		}
		if m := sharedRE.FindString(line); m != "" {
			problems = append(problems, fmt.Sprintf("%s: %q names material outside the repository: cite the public source instead", at, m))
		}
		if m := sharedPathRE.FindString(line); m != "" {
			problems = append(problems, fmt.Sprintf("%s: %q names material outside the repository: cite the public source instead", at, m))
		}
		if !generic {
			continue
		}
		prose := line
		if strings.HasSuffix(file, ".go") {
			c := strings.Index(line, "//")
			if c < 0 {
				continue
			}
			prose = line[c+2:]
		}
		for _, loc := range mdRefRE.FindAllStringIndex(prose, -1) {
			ref, ext := external(prose, loc[0], prose[loc[0]:loc[1]])
			if ext {
				continue
			}
			if !resolves(file, ref, exists, names) {
				problems = append(problems, fmt.Sprintf("%s: %s is not a file of the repository, from %s or from the root", at, ref, path.Dir(file)))
			}
		}
	}
	return problems
}

// external says whether the reference at start of line is part of a
// public address rather than a path: a URL (https://…/README.md), a host
// name without a scheme, or a repo@commit:path citation. A reference
// that follows a lone slash is a path from the root, returned with it.
func external(line string, start int, ref string) (string, bool) {
	if domainRE.MatchString(ref) {
		return ref, true
	}
	// The word the reference is part of starts after a space or after
	// punctuation that opens a path.
	w := start
	for w > 0 && !strings.ContainsRune(" \t([<\"'`*!,;=|{", rune(line[w-1])) {
		w--
	}
	switch line[w:start] {
	case "":
		return ref, false
	case "/":
		return "/" + ref, false
	}
	return ref, true
}

// resolves says whether ref names a file, relative to the citing file's
// folder or to the repository's root. A bare name (benchmarks.md, with no
// folder) names a document the way prose does, and resolves when the
// repository has a file of that name anywhere; a path must be exact.
func resolves(file, ref string, exists func(string) bool, names map[string]bool) bool {
	if strings.HasPrefix(ref, "/") {
		return exists(path.Clean(strings.TrimPrefix(ref, "/")))
	}
	if !strings.Contains(ref, "/") && names[ref] {
		return true
	}
	return exists(path.Join(path.Dir(file), ref)) || exists(path.Clean(ref))
}

func TestDocCitationMatcher(t *testing.T) {
	t.Parallel()
	files := []string{"README.md", "docs/benchmarks.md", "docs/connector.md", "docs/deploy.md", "e2e/testdata/README.md", "tools/testdata/connector-schemas/README.md", "api/invoke.go"}
	tests := []struct {
		name string
		file string
		text string
		bad  int // how many problems
	}{
		{name: "note cited by section", file: "api/invoke.go", text: "// inside another (platform.md §2.1).", bad: 2},
		{name: "note with a space before the section", file: "tools/package_test.go", text: "// See users.md §1.1–§1.2.", bad: 2},
		{name: "shared reference", file: "tools/x.yaml", text: "# summarised in shared reference connector.md §2)", bad: 2},
		{name: "shared reference, no file", file: "e2e/testdata/README.md", text: "copied from shared reference connector-schemas/", bad: 1},
		{name: "shared folder", file: "docs/x.md", text: "see [notes](../shared/platform.md)", bad: 2},
		{name: "shared folder in a Go string", file: "e2e/x_test.go", text: `	p := "../../shared/notes/users.md"`, bad: 1},
		{name: "other files in a shared folder are data", file: "cmd/funcpack/pack_test.go", text: `	"vendor/schema.json": "../shared/schema.json"`, bad: 0},
		{name: "note name in a Go string is still checked", file: "e2e/x_test.go", text: `const s = "tokens.md §3"`, bad: 1},
		{name: "missing file in a comment", file: "api/invoke.go", text: "// details in docs/platform.md", bad: 1},
		{name: "missing bare name", file: "api/invoke.go", text: "// details in platform.md", bad: 1},
		{name: "path to a name that exists elsewhere", file: "bench/http.sh", text: "# writes bench/out/benchmarks.md", bad: 1},
		{name: "missing file relative to the citing folder", file: "tools/testdata/connector-schemas/README.md", text: "(details in ../connector.md)", bad: 1},
		{name: "missing Markdown link", file: "docs/deploy.md", text: "[the guide](guide.md#setup)", bad: 1},

		{name: "link relative to the citing file", file: "docs/deploy.md", text: "[connector.md](connector.md#3-create-the-connector)", bad: 0},
		{name: "link up to the root", file: "docs/deploy.md", text: "[Logs](../README.md#logs)", bad: 0},
		{name: "path from the root", file: "api/invoke.go", text: "// (docs/connector.md has the details)", bad: 0},
		{name: "bare name of a file elsewhere", file: "bench/cmd/bench/main.go", text: "// It writes benchmarks.md and its chart", bad: 0},
		{name: "root path from a subfolder", file: "docs/connector.md", text: "Create the connector (docs/connector.md has the details):", bad: 0},
		{name: "leading slash is the root", file: "e2e/x_test.go", text: "// see /docs/deploy.md", bad: 0},
		{name: "leading slash, missing", file: "e2e/x_test.go", text: "// see /deploy.md", bad: 1},
		{name: "URL", file: "api/invoke.go", text: "// https://github.com/Azure/azure-functions-host/blob/dev/README.md", bad: 0},
		{name: "host name without a scheme", file: "docs/deploy.md", text: "see github.com/microsoft/PowerPlatformConnectors/blob/dev/README.md", bad: 0},
		{name: "repo@commit:path", file: "e2e/testdata/README.md", text: "| microsoft/x@8bff86e:schemas/README.md |", bad: 0},
		{name: "Go string literal is data", file: "connector/x_test.go", text: `	p := filepath.Join(dir, "benchmarks.md")`, bad: 0},
		{name: "JSON is data", file: "tools/testdata/connectors/x.json", text: `{"description": "see CONTRIBUTING.md"}`, bad: 0},
		{name: "example paths in cmd/funcpack", file: "cmd/funcpack/ignore.go", text: `//     "docs" with "!docs/a.md" ships docs/a.md`, bad: 0},
		{name: "section sign after another file", file: "README.md", text: "(RFC 9112 §6.1) and README.md", bad: 0},
		{name: "a name that only ends like .md", file: "docs/deploy.md", text: "see notes.mdx and x.md5", bad: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := citationProblems(tt.file, tt.text, files)
			if len(got) != tt.bad {
				t.Errorf("%d problems, want %d:\n%s", len(got), tt.bad, strings.Join(got, "\n"))
			}
		})
	}
}

// repoFiles lists the repository's files as git sees them: tracked, and
// new ones not ignored, so that a citation is caught before its commit.
// Files deleted from the working tree are left out.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		if st, err := os.Stat(filepath.Join(root, filepath.FromSlash(f))); err == nil && st.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	return files
}

// TestDocCitations holds every text file of the repository to
// citationProblems.
func TestDocCitations(t *testing.T) {
	t.Parallel()
	root := ".."
	files := repoFiles(t, root)
	checked := 0
	for _, f := range files {
		// This file spells out what it refuses.
		if f == "tools/citations_test.go" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			continue // binary
		}
		checked++
		for _, p := range citationProblems(f, string(b), files) {
			t.Error(p)
		}
	}
	if checked < 50 || !slices.Contains(files, "README.md") {
		t.Fatalf("checked %d files (README.md among them: %v): the file list is broken", checked, slices.Contains(files, "README.md"))
	}
}

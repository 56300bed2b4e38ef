package main

import "testing"

// TestFuncignoreMatch holds the matcher to Core Tools' reading of
// .funcignore, including where it differs from git's: the comments say
// what git would do instead.
func TestFuncignoreMatch(t *testing.T) {
	tests := []struct {
		name     string
		patterns string
		path     string
		excluded bool
	}{
		{"folder name excludes its files", "docs", "docs/guide.md", true},
		{"folder name, deep file", "docs", "docs/a/b/c.md", true},
		{"folder name matches a file of that name", "docs", "docs", true},
		// git: no, docs-old is another name.
		{"prefix ending at a word boundary", "docs", "docs-old/x.md", true},
		{"prefix ending at a dot", "Makefile", "Makefile.bak", true},
		{"longer word is another name", "docs", "docsx/a.md", false},
		{"longer word is another name, plural", "handler", "handlers/x", false},
		// git: yes, a pattern without a slash matches at any depth.
		{"anchored at the root", "docs", "api/docs/x.md", false},
		{"star at the root", "*.go", "main.go", true},
		// git: yes.
		{"star does not reach into folders", "*.go", "Hello/main.go", false},
		{"star needs a character", "*.go", ".go", false},
		{"star then boundary", "*.go", "main.gox", false},
		{"star, longer extension after a dot", "*.go", "main.go.orig", true},
		{"double star reaches into folders", "**/*.go", "Hello/main.go", true},
		{"double star, deep", "**/*.go", "a/b/c/main.go", true},
		// git: yes, **/ matches zero folders too.
		{"double star needs a folder", "**/*.go", "main.go", false},
		{"double star testdata nested", "**/testdata", "e2e/testdata/x.json", true},
		{"double star testdata deep", "**/testdata", "a/b/testdata/c/d", true},
		// git: yes.
		{"double star testdata not at the root", "**/testdata", "testdata/x.json", false},
		// git: yes, a/**/b matches a/b.
		{"inner double star needs a folder", "a/**/b", "a/b", false},
		{"inner double star", "a/**/b", "a/x/y/b", true},
		{"trailing double star", "dist/**", "dist/app.zip", true},
		{"leading slash is dropped", "/handler", "handler", true},
		{"leading slash still anchored", "/docs", "docs/x", true},
		{"trailing slash, word after it", "node_modules/", "node_modules/left-pad/index.js", true},
		// git: yes, everything under node_modules/.
		{"trailing slash, dot after it", "node_modules/", "node_modules/.bin/tsc", false},
		{"trailing slash, @ after it", "node_modules/", "node_modules/@types/node/x.d.ts", false},
		{"trailing slash, not the file itself", "node_modules/", "node_modules", false},
		{"dot-git star", ".git*", ".gitattributes", true},
		{"dot-git star, folder", ".git*", ".github/workflows/ci.yml", true},
		{"question mark is literal", "a?c", "abc", false},
		{"question mark is literal, itself", "a?c", "a?c", true},
		{"brackets are literal", "[ab].txt", "a.txt", false},
		{"brackets are literal, themselves", "[ab].txt", "[ab].txt", true},
		{"dot is literal", "a.c", "abc", false},
		{"plus and parens are literal", "f(1)+x", "f(1)+x", true},
		{"case-sensitive", "readme.md", "README.md", false},
		{"comment", "# docs", "docs/x", false},
		{"indented comment", "   # docs", "docs/x", false},
		// git: \# is a literal #; Core Tools has no escapes.
		{"no escapes", `\#x`, "#x", false},
		{"blank lines and spaces", "\n\n   docs   \n", "docs/x", true},
		{"CRLF line ends", "api\r\ndocs\r\n", "docs/x", true},
		{"byte order mark", "\uFEFFdocs", "docs/x", true},
		{"exception re-includes", "docs\n!docs/keep.md", "docs/keep.md", false},
		{"exception leaves the rest", "docs\n!docs/keep.md", "docs/other.md", true},
		// git: the last matching line wins, so docs/keep.md is excluded.
		{"exception wins wherever it is", "!docs/keep.md\ndocs", "docs/keep.md", false},
		{"exception with leading slash", "docs\n!/docs/keep.md", "docs/keep.md", false},
		{"exception on its own excludes nothing", "!docs", "docs/x", false},
		// A lone ! is the empty pattern: it matches every path that starts
		// with a word character.
		{"lone exception re-includes almost all", "docs\n!", "docs/x", false},
		{"lone exception, dot name", ".git*\n!", ".github/x", true},
		{"star alone", "*", "Hello/function.json", true},
		{"star alone, dot file", "*", ".env", true},
		{"allow-list", "*\n!host.json\n!*/function.json", "Hello/function.json", false},
		{"allow-list excludes the rest", "*\n!host.json\n!*/function.json", "LICENSE", true},
		{"unicode is literal", "résumé*", "résumé.pdf", true},
		{"no patterns", "", "anything", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ig := parseFuncignore(tt.patterns)
			_, got := ig.excludedBy(tt.path)
			if got != tt.excluded {
				t.Errorf("patterns %q, path %q: excluded = %v, want %v", tt.patterns, tt.path, got, tt.excluded)
			}
		})
	}
}

// TestFuncignoreReportsLine: a refusal names the line that excluded a file.
func TestFuncignoreReportsLine(t *testing.T) {
	ig := parseFuncignore("# header\n\n*.go\n  handler  \n")
	p, ok := ig.excludedBy("handler")
	if !ok || p.line != 4 || p.text != "handler" {
		t.Errorf("excludedBy(handler) = %+v, %v; want line 4, text handler", p, ok)
	}
}

// TestFuncignorePrunes: the walk skips a folder only when no file under it
// could ship, which is the same answer as matching each file.
func TestFuncignorePrunes(t *testing.T) {
	for _, tt := range []struct {
		patterns, dir string
		want          bool
	}{
		{"tools", "tools", true},
		{"tools", "tools/node_modules", true},
		{"**/testdata", "e2e/testdata", true},
		{"**/testdata", "testdata", false},
		{"*.go", "cmd", false},
		{"node_modules/", "node_modules", false},
		{"tools\n!tools/keep", "tools", false},
		// No ! line can match under tools/, so nothing there can ship.
		{"tools\n!other", "tools", true},
		// An allow-list: the folders its ! lines could reach are entered,
		// the rest pruned (with a link in them not refused).
		{"*\n!host.json\n!Me/function.json", "tools", true},
		{"*\n!host.json\n!Me/function.json", "Me", false},
		{"*\n!host.json\n!Me/function.json", "Me/other", true},
		// Core Tools' "!Me/function.json" matches under a folder
		// Me/function.json.d too.
		{"*\n!host.json\n!Me/function.json", "Me/function.json.d", false},
		{"*\n!host.json\n!Me/function.json", "host.json.d", false},
		{"*\n!*/function.json", "tools", false},
		{"*\n!*/function.json", "tools/node_modules", true},
		{"*\n!**/keep", "tools/node_modules", false},
		{"*\n!tools/", "tools/node_modules", false},
		{"*\n!", "tools", false},
	} {
		ig := parseFuncignore(tt.patterns)
		if got := ig.prunes(tt.dir); got != tt.want {
			t.Errorf("patterns %q: prunes(%q) = %v, want %v", tt.patterns, tt.dir, got, tt.want)
		}
		if !tt.want {
			continue
		}
		for _, f := range []string{"/x", "/.x", "/-", "/a/b.go", "/@types/x", "/function.json", "/function.json.d/.env", "/keep"} {
			if _, ok := ig.excludedBy(tt.dir + f); !ok {
				t.Errorf("patterns %q prune %q, but %q would ship", tt.patterns, tt.dir, tt.dir+f)
			}
		}
	}
}

func TestAlwaysSkipped(t *testing.T) {
	for _, name := range []string{"local.settings.json", "Local.Settings.JSON", ".funcignore", ".gitignore", "project.lock.json"} {
		if !alwaysSkipped(name, false) {
			t.Errorf("file %s is not always skipped", name)
		}
	}
	for _, name := range []string{".git", ".VSCode"} {
		if !alwaysSkipped(name, true) {
			t.Errorf("folder %s is not always skipped", name)
		}
	}
	for _, name := range []string{"host.json", "settings.json", "local.settings.json.example", "function.json"} {
		if alwaysSkipped(name, false) {
			t.Errorf("file %s is skipped", name)
		}
	}
	if alwaysSkipped(".github", true) || alwaysSkipped(".git", false) {
		t.Error(".github folder or .git file skipped")
	}
}

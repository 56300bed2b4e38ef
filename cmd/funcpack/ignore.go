package main

import (
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// funcignore is a .funcignore file read the way Core Tools reads it for
// `func azure functionapp publish` (its GitIgnoreParser, a port of the npm
// package gitignore-parser), not the way git reads a .gitignore. What ships
// must be what publish would ship, so the differences from git are kept on
// purpose:
//
//   - Lines are trimmed; empty lines and lines starting with # are skipped.
//     There are no escapes: a backslash is a literal character.
//   - A leading ! makes the line an exception, then a leading / is dropped.
//   - Every pattern is anchored at the app root, with or without a leading
//     /: "*.go" matches main.go but not Hello/main.go, and "testdata"
//     matches testdata/x but not e2e/testdata/x.
//   - * is one or more characters other than /; ** is one or more of any
//     character, / included, so "**/testdata" needs a folder before
//     testdata (it misses a testdata folder at the root) and "a/**/b"
//     misses a/b. ? [ ] { } are literal characters.
//   - A pattern matches a file's path when it matches a prefix of it that
//     ends at a word boundary (between [A-Za-z0-9_] and anything else, or
//     the end). So "docs" excludes everything under docs/, but also
//     docs-old/x and docs.txt, and "Makefile" also excludes Makefile.bak.
//     A trailing / is just a character: "node_modules/" excludes
//     node_modules/a/b but not node_modules/.bin/x, whose name after the
//     slash does not start with a word character.
//   - Only files are matched, never folders, and an exception wins over
//     any exclusion wherever it is in the file: "docs" with "!docs/a.md"
//     ships docs/a.md (git could not re-include a file in an excluded
//     folder), and a lone "!" ships every path that starts with a word
//     character.
//   - Matching is case-sensitive.
type funcignore struct {
	exclude []ignorePattern
	include []ignorePattern // the ! lines
}

type ignorePattern struct {
	line int    // 1-based, for messages
	text string // the line as written, trimmed
	re   *regexp.Regexp
}

// parseFuncignore reads a .funcignore file's text. Any text is valid: Core
// Tools has no syntax errors either.
func parseFuncignore(src string) *funcignore {
	// .NET strips a UTF-8 byte order mark when it reads the file.
	src = strings.TrimPrefix(src, "\uFEFF")
	f := &funcignore{}
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := line
		negated := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		p = strings.TrimPrefix(p, "/")
		ip := ignorePattern{line: i + 1, text: line, re: compileIgnorePattern(p)}
		if negated {
			f.include = append(f.include, ip)
		} else {
			f.exclude = append(f.exclude, ip)
		}
	}
	return f
}

// compileIgnorePattern turns one pattern into the regular expression Core
// Tools builds for it: anchored at the start, ending at a word boundary.
// Go's \b is ASCII-only, like .NET's in ECMAScript mode.
func compileIgnorePattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?:`)
	for i := 0; i < len(p); {
		switch {
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(`.+`)
			i += 2
		case p[i] == '*':
			b.WriteString(`[^/]+`)
			i++
		default:
			_, n := utf8.DecodeRuneInString(p[i:])
			b.WriteString(regexp.QuoteMeta(p[i : i+n]))
			i += n
		}
	}
	b.WriteString(`)\b`)
	// Every character but * is quoted, so the expression always compiles.
	return regexp.MustCompile(b.String())
}

// excludedBy returns the pattern that keeps the file at rel (a slash path
// relative to the app root) out of the package, if one does.
func (f *funcignore) excludedBy(rel string) (ignorePattern, bool) {
	for _, p := range f.include {
		if p.re.MatchString(rel) {
			return ignorePattern{}, false
		}
	}
	for _, p := range f.exclude {
		if p.re.MatchString(rel) {
			return p, true
		}
	}
	return ignorePattern{}, false
}

// prunes reports whether every file under the folder dir is excluded, so
// that the walk need not enter it (tools/node_modules is large). A pattern
// that matches dir matches dir/anything too: the match is a prefix, and
// the / after dir is a non-word character just as the end of dir is. An
// exception could re-include any file, so with exceptions nothing is
// pruned.
func (f *funcignore) prunes(dir string) bool {
	if len(f.include) > 0 {
		return false
	}
	_, ok := f.excludedBy(dir)
	return ok
}

// Core Tools leaves these out of every package, whatever .funcignore says,
// at any depth and in any letter case.
var (
	alwaysSkippedDirs  = []string{".git", ".vscode"}
	alwaysSkippedFiles = []string{
		".funcignore",
		".gitignore",
		// The local runs' app settings: connection strings, keys and
		// other secrets that must never reach the app's files. Settings
		// go to Azure only when asked (publish --publish-local-settings).
		"local.settings.json",
		"project.lock.json",
	}
)

func alwaysSkipped(name string, dir bool) bool {
	list := alwaysSkippedFiles
	if dir {
		list = alwaysSkippedDirs
	}
	for _, s := range list {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	return false
}

// cleanRel reports whether rel is a clean relative slash path inside the
// root, the form every path here takes.
func cleanRel(rel string) bool {
	return rel != "" && rel != "." && path.Clean(rel) == rel && !path.IsAbs(rel) && rel != ".." && !strings.HasPrefix(rel, "../")
}

package main

import (
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// funcignore is a .funcignore file read the way Core Tools reads it for
// `func azure functionapp publish` (its GitIgnoreParser, a port of the npm
// package gitignore-parser: github.com/Azure/azure-functions-core-tools,
// src/Cli/func/Common/GitIgnoreParser.cs, with the word
// boundary from pull request 1730), not the way git reads a .gitignore.
// What ships must be what publish would ship, so the differences from git
// are kept on purpose; where they let in a file the lines meant to keep
// out, funcpack refuses to pack rather than ship it (see plan):
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
	pat  string // the pattern: text less a leading ! and then a leading /
	re   *regexp.Regexp
	// full matches a path the pattern matches whole, not just its start:
	// what an allow-list line is meant to name.
	full *regexp.Regexp
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
		body := ignoreRegexp(p)
		ip := ignorePattern{
			line: i + 1, text: line, pat: p,
			// Every character but * is quoted, so the expressions always
			// compile.
			re:   regexp.MustCompile(`^(?:` + body + `)\b`),
			full: regexp.MustCompile(`^(?:` + body + `)$`),
		}
		if negated {
			f.include = append(f.include, ip)
		} else {
			f.exclude = append(f.exclude, ip)
		}
	}
	return f
}

// ignoreRegexp turns one pattern into the body of the regular expression
// Core Tools builds for it (GitIgnoreParser.PrepareRegexPattern), which it
// anchors at the start and ends at a word boundary: ^(?:body)\b. Go's \b is
// ASCII-only, like .NET's in ECMAScript mode.
func ignoreRegexp(p string) string {
	var b strings.Builder
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
	return b.String()
}

// excludedBy returns the pattern that keeps the file at rel (a slash path
// relative to the app root) out of the package, if one does.
func (f *funcignore) excludedBy(rel string) (ignorePattern, bool) {
	for _, p := range f.include {
		if p.re.MatchString(rel) {
			return ignorePattern{}, false
		}
	}
	return f.matchingExclude(rel)
}

// matchingExclude returns the first line without ! that matches rel,
// whatever the ! lines say.
func (f *funcignore) matchingExclude(rel string) (ignorePattern, bool) {
	for _, p := range f.exclude {
		if p.re.MatchString(rel) {
			return p, true
		}
	}
	return ignorePattern{}, false
}

// admittedBy says how the ! lines match the file at rel: exact when one
// matches the whole path, and otherwise the lines that match only a start
// of it ending at a word boundary. Core Tools lets a file in on such a
// match, so "!host.json" admits host.json.bak and host.json~, and
// "!Me/function.json" admits a folder Me/function.json.d/ and all it
// holds: a line meant to name one file names every file whose path starts
// with it.
func (f *funcignore) admittedBy(rel string) (exact bool, prefix []ignorePattern) {
	for _, p := range f.include {
		switch {
		case p.full.MatchString(rel):
			return true, nil
		case p.re.MatchString(rel):
			prefix = append(prefix, p)
		}
	}
	return false, prefix
}

// allowListLine returns a line made of stars only ("*", "**", "/*"),
// which makes the file an allow-list: everything is meant to stay out
// unless a ! line names it. Core Tools' * is [^/]+ and ** is .+, each
// followed by a word boundary, so they miss a path whose first name (for
// **, whose whole path) holds no ASCII letter, digit or _ at its end
// ("~", "-", "...", "été"): those ship unless something else excludes
// them.
func (f *funcignore) allowListLine() (ignorePattern, bool) {
	for _, p := range f.exclude {
		if p.pat != "" && strings.Trim(p.pat, "*") == "" {
			return p, true
		}
	}
	return ignorePattern{}, false
}

// prunes reports whether every file under the folder dir is excluded, so
// that the walk need not enter it (tools/node_modules is large) and a
// symbolic link to it need not be refused. A pattern that matches dir
// matches dir/anything too: the match is a prefix, and the / after dir is
// a non-word character just as the end of dir is. A folder under which a
// ! line could match a file is entered.
func (f *funcignore) prunes(dir string) bool {
	for _, p := range f.include {
		if mayMatchUnder(p.pat, dir) {
			return false
		}
	}
	_, ok := f.matchingExclude(dir)
	return ok
}

// mayMatchUnder reports whether the pattern could match the path of some
// file under the folder dir. It may say yes when no such file exists, never
// no when one does: * and the literal characters cannot match a /, so
// without ** the pattern's names line up with the path's, each but the
// last matched whole (the last may match a start of its name, or the
// pattern may go on below dir). A ** can span folders: past it, anything
// may match.
func mayMatchUnder(pat, dir string) bool {
	ps, ds := strings.Split(pat, "/"), strings.Split(dir, "/")
	for i, d := range ds {
		if i >= len(ps) {
			return true
		}
		if strings.Contains(ps[i], "**") {
			return true
		}
		body := ignoreRegexp(ps[i])
		if i == len(ps)-1 {
			return regexp.MustCompile(`^(?:` + body + `)`).MatchString(d)
		}
		if !regexp.MustCompile(`^(?:` + body + `)$`).MatchString(d) {
			return false
		}
	}
	return true
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

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// show returns a path (or a .funcignore line) as funcpack prints it. A
// file name can hold any byte but / and NUL: an ESC that drives the
// terminal, a newline that forges a line of the listing or a "funcpack:"
// message, a right-to-left override that shows a name backwards. A name
// made only of characters that can do none of that, and that cannot be
// mistaken for a quoted one, is printed as it is; any other is printed
// Go-quoted (strconv.Quote), which escapes control characters, invalid
// UTF-8 and invisible format characters, so that a quoted name always
// starts with " and never spans lines.
func show(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isWordByte(c) && !strings.ContainsRune("/.-+,=@~%!*", rune(c)) {
			return strconv.Quote(s)
		}
	}
	return s
}

// pathError is err with the path an *fs.PathError or *os.LinkError
// carries shown as show shows it, since the os package prints it raw.
func pathError(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("%s %s: %w", pe.Op, show(pe.Path), pe.Err)
	case errors.As(err, &le):
		return fmt.Errorf("%s %s %s: %w", le.Op, show(le.Old), show(le.New), le.Err)
	}
	return err
}

// azureFilesForbidden are the characters Azure Files refuses in a file or
// folder name (besides / and \, and controls): the content share the
// platform extracts the zip to on Consumption and Premium plans.
// https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-shares--directories--files--and-metadata
const azureFilesForbidden = `":|<>*?`

// nameProblem says what is wrong with a zip entry name (a slash path from
// the app root), or returns "". The zip is extracted by tools funcpack
// does not control (unzip, Kudu's zip deploy, a reviewer's archive
// manager, Windows Explorer), and a name is an instruction to each:
//
//   - an absolute path, or a . or .. or empty name, writes outside the
//     folder being extracted to, or somewhere else than it says (zip
//     slip); a walk of a real tree never yields one, but funcpack does
//     not rely on it;
//   - a backslash is a folder separator to Windows tools, so a\..\..\x
//     is zip slip there, and Core Tools turns \ into / in the names it
//     compares;
//   - control characters (C0, DEL, C1), line and paragraph separators and
//     invisible format characters (bidi overrides, zero-width characters)
//     make a name print as another one, or drive the terminal of whoever
//     lists the zip;
//   - invalid UTF-8 is a name no two tools decode alike, and Azure Files
//     refuses it, as it refuses the characters in azureFilesForbidden.
func nameProblem(rel string) string {
	switch {
	case !utf8.ValidString(rel):
		return "is not valid UTF-8"
	case strings.HasPrefix(rel, "/"):
		return "is an absolute path"
	}
	for _, part := range strings.Split(rel, "/") {
		if part == "" || part == "." || part == ".." {
			return "has an empty, . or .. name in it"
		}
	}
	for _, r := range rel {
		switch {
		case r == '\\':
			return `holds a backslash, a folder separator on Windows`
		case r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f:
			return "holds a control character"
		case unicode.In(r, unicode.Zl, unicode.Zp):
			return "holds a line or paragraph separator"
		case unicode.Is(unicode.Cf, r):
			return "holds an invisible format character (bidi control, zero-width character or the like)"
		case unicode.Is(unicode.Co, r) || unicode.Is(unicode.Noncharacter_Code_Point, r):
			return "holds a private-use or noncharacter code point, which Azure Files refuses"
		case strings.ContainsRune(azureFilesForbidden, r):
			return fmt.Sprintf("holds %q, which Azure Files refuses in a name", r)
		}
	}
	return ""
}

// caseClashes returns the pairs of names that differ only in letter case.
// Azure Files, where the platform extracts the zip on Consumption and
// Premium plans, and Windows and macOS file systems keep names' case but
// ignore it: one of the pair overwrites the other, or lands in the other's
// folder, and which one depends on the extractor.
func caseClashes(names []string) [][2]string {
	seen := map[string]string{}
	var clashes [][2]string
	for _, n := range names {
		k := strings.ToUpper(strings.ToLower(n))
		if first, ok := seen[k]; ok {
			clashes = append(clashes, [2]string{first, n})
			continue
		}
		seen[k] = n
	}
	return clashes
}

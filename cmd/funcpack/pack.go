package main

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dosEpoch is the earliest time a zip entry can carry (MS-DOS dates start
// in 1980), and the entries' time unless SOURCE_DATE_EPOCH says otherwise.
var dosEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// modTime returns the time every entry carries: SOURCE_DATE_EPOCH, the
// reproducible-builds convention, when set.
func modTime(sourceDateEpoch string) (time.Time, error) {
	if sourceDateEpoch == "" {
		return dosEpoch, nil
	}
	n, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a whole number of seconds since 1970", sourceDateEpoch)
	}
	t := time.Unix(n, 0).UTC()
	switch {
	case t.Before(dosEpoch):
		return dosEpoch, nil
	case t.Year() > 2107:
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is after 2107, the last year a zip entry can carry", sourceDateEpoch)
	}
	return t, nil
}

// entry is one member of the zip.
type entry struct {
	name string // slash path from the root; folders end in /
	src  string // the file on disk, empty for a folder
	mode fs.FileMode
	size int64
	info fs.FileInfo // the file as the walk found it, nil for a folder
}

// pkg is what the zip will hold, and what is worth saying about it.
type pkg struct {
	entries  []entry
	warnings []string
}

// plan decides what goes in the zip, and returns every reason it should
// not be written at all as one joined error. out is the zip to be
// written, which is never packed into itself.
func plan(ctx context.Context, root, out string) (*pkg, error) {
	p := &pkg{}
	var errs []error
	fi, err := os.Stat(root)
	if err != nil {
		return p, fmt.Errorf("-root: %w", pathError(err))
	}
	if !fi.IsDir() {
		return p, fmt.Errorf("-root %s is not a folder", show(root))
	}

	exe, err := hostExecutable(root)
	if err != nil {
		errs = append(errs, err)
	}

	ig := &funcignore{}
	switch b, err := os.ReadFile(filepath.Join(root, ".funcignore")); {
	case err == nil:
		ig = parseFuncignore(string(b))
	case errors.Is(err, fs.ErrNotExist):
		p.warnings = append(p.warnings, fmt.Sprintf("no .funcignore in %s: every file there ships, as publish would ship it (sources, tests, tools)", show(root)))
	default:
		errs = append(errs, pathError(err))
	}

	// The previous zip, when -o is inside the root and .funcignore does
	// not exclude it.
	var skip fs.FileInfo
	if fi, err := os.Stat(out); err == nil {
		skip = fi
	}
	files, walkErrs := walk(ctx, root, ig, skip)
	errs = append(errs, walkErrs...)
	if err := ctx.Err(); err != nil {
		return p, err
	}

	shipped := map[string]bool{}
	for _, f := range files {
		shipped[f.name] = true
	}
	if !shipped["host.json"] {
		if pat, ok := ig.excludedBy("host.json"); ok {
			errs = append(errs, fmt.Errorf(".funcignore line %d (%s) excludes host.json, which the host needs to run the app", pat.line, show(pat.text)))
		}
	}
	if exe != "" {
		errs = append(errs, checkShippedExecutable(root, exe, ig, shipped)...)
	}
	errs = append(errs, checkAdmitted(files, ig, exe)...)
	errs = append(errs, checkNames(files)...)
	if len(errs) > 0 {
		return p, errors.Join(errs...)
	}

	hasFunction := false
	for _, f := range files {
		if strings.Count(f.name, "/") == 1 && path.Base(f.name) == "function.json" {
			hasFunction = true
		}
	}
	if !hasFunction {
		p.warnings = append(p.warnings, "no function folder (a folder holding function.json) is in the package: the app would have no functions")
	}

	folders := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f.name); d != "."; d = path.Dir(d) {
			folders[d] = true
		}
		f.mode = 0o644
		if f.name == exe {
			f.mode = 0o755
		}
		p.entries = append(p.entries, f)
	}
	for d := range folders {
		p.entries = append(p.entries, entry{name: d + "/", mode: fs.ModeDir | 0o755})
	}
	// A folder's name ends in /, so it sorts before what it holds.
	slices.SortFunc(p.entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	return p, nil
}

// checkShippedExecutable returns every reason the executable host.json
// names would not start on the host once published.
func checkShippedExecutable(root, exe string, ig *funcignore, shipped map[string]bool) []error {
	file := filepath.Join(root, filepath.FromSlash(exe))
	fi, err := os.Stat(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return []error{fmt.Errorf("%s, host.json's defaultExecutablePath, does not exist: %s", show(file), buildHint)}
		}
		return []error{pathError(err)}
	}
	errs := checkExecutable(file)
	if !shipped[exe] && fi.Mode().IsRegular() {
		if pat, ok := ig.excludedBy(exe); ok {
			errs = append(errs, fmt.Errorf(".funcignore line %d (%s) excludes %s, host.json's defaultExecutablePath: publish would ship no handler", pat.line, show(pat.text), show(exe)))
		} else {
			errs = append(errs, fmt.Errorf("%s, host.json's defaultExecutablePath, is in a place publish always leaves out (.git, .vscode, or a name such as local.settings.json)", show(exe)))
		}
	}
	return errs
}

// hostExecutable returns the slash path host.json names as the custom
// handler's executable.
func hostExecutable(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "host.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no host.json in %s: -root must be the function app's root", show(root))
	}
	if err != nil {
		return "", pathError(err)
	}
	var h struct {
		CustomHandler *struct {
			Description *struct {
				DefaultExecutablePath *string
			}
		}
	}
	if err := json.Unmarshal(b, &h); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + strings.Count(string(b[:se.Offset]), "\n")
			return "", fmt.Errorf("host.json is not valid JSON: line %d: %v", line, err)
		}
		return "", fmt.Errorf("host.json: %v", err)
	}
	if h.CustomHandler == nil || h.CustomHandler.Description == nil || h.CustomHandler.Description.DefaultExecutablePath == nil || *h.CustomHandler.Description.DefaultExecutablePath == "" {
		return "", errors.New("host.json has no customHandler.description.defaultExecutablePath: funcpack packages custom handler apps only")
	}
	exe := *h.CustomHandler.Description.DefaultExecutablePath
	// The host runs the path as written, on Linux, and Core Tools marks
	// executable only the zip entry whose name equals it.
	switch {
	case strings.Contains(exe, `\`):
		return "", fmt.Errorf("host.json's defaultExecutablePath %q has a backslash, which Linux reads as part of a name: use /", exe)
	case path.IsAbs(exe) || filepath.IsAbs(exe):
		return "", fmt.Errorf("host.json's defaultExecutablePath %q is absolute: name the file relative to the app root, so that it ships and is marked executable", exe)
	case !cleanRel(exe):
		if c := path.Clean(exe); cleanRel(c) {
			return "", fmt.Errorf("host.json's defaultExecutablePath %q is not in its plain form: write %q (publish compares the name as written, and would not mark the file executable)", exe, c)
		}
		return "", fmt.Errorf("host.json's defaultExecutablePath %q is not a file inside the app root", exe)
	}
	return exe, nil
}

// walk lists the files under root that publish would ship, as Core Tools
// lists them, skipping what .funcignore and the fixed list exclude, and
// returns every reason not to ship them. skip, if not nil, is the previous
// output.
//
// Core Tools follows symbolic links, to files and to folders: its
// FileSystemHelpers.GetFiles recurses into every folder
// Directory.GetDirectories lists, links included, with no guard against a
// loop (github.com/Azure/azure-functions-core-tools,
// src/Cli/func/Common/FileSystemHelpers.cs). funcpack refuses every link
// that would ship instead, rather than judge where it points: a link an
// allow-list line admits ships the bytes of the file it points to, which
// the line never named, and where that is (local.settings.json, a key
// outside the app, /etc) is decided when the zip is read, not when it was
// checked. A tree that ships needs no link, and the rule needs no
// resolving of targets, which is where link checks go wrong (chains, ..
// after a link, a target swapped between check and read). A link to a
// folder is never followed, so a link to / or back up the tree cannot
// make the walk endless; it is refused unless nothing under it could
// ship. A file with more than one hard link is refused for the same
// reason as a symbolic one: it is another file under this name.
func walk(ctx context.Context, root string, ig *funcignore, skip fs.FileInfo) ([]entry, []error) {
	var files []entry
	var errs []error
	var visit func(dir, rel string)
	visit = func(dir, rel string) {
		des, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, pathError(err))
			return
		}
		for _, de := range des {
			if ctx.Err() != nil {
				return
			}
			name, full := de.Name(), filepath.Join(dir, de.Name())
			r := path.Join(rel, name)
			if de.Type()&fs.ModeSymlink != 0 {
				if e, err := walkLink(full, r, ig); err != nil {
					errs = append(errs, err)
					if e != nil {
						files = append(files, *e)
					}
				}
				continue
			}
			info, err := de.Info()
			if err == nil && info.IsDir() {
				if !alwaysSkipped(name, true) && !ig.prunes(r) {
					visit(full, r)
				}
				continue
			}
			if alwaysSkipped(name, false) {
				continue
			}
			if _, ok := ig.excludedBy(r); ok {
				continue
			}
			switch {
			case err != nil:
				errs = append(errs, pathError(err))
			case skip != nil && os.SameFile(info, skip):
			case !info.Mode().IsRegular():
				errs = append(errs, fmt.Errorf("%s is not a regular file (%v): exclude it in .funcignore", show(full), info.Mode().Type()))
			default:
				if n := hardLinks(info); n > 1 {
					errs = append(errs, fmt.Errorf("%s would ship, but it has %d hard links: it is also another file, perhaps one .funcignore excludes (local.settings.json, a key), and publish would ship those bytes under this name: replace it with a copy", show(r), n))
				}
				files = append(files, entry{name: r, src: full, size: info.Size(), info: info})
			}
		}
	}
	visit(root, "")
	return files, errs
}

// walkLink judges the symbolic link full, at rel in the package, and
// returns why it cannot ship, if it would; and, for a link to a regular
// file, the entry Core Tools would pack, for the checks that look at every
// name that would ship.
func walkLink(full, rel string, ig *funcignore) (*entry, error) {
	name := path.Base(rel)
	target, err := os.Readlink(full)
	if err != nil {
		return nil, pathError(err)
	}
	fi, statErr := os.Stat(full)
	if statErr == nil && fi.IsDir() {
		if alwaysSkipped(name, true) || ig.prunes(rel) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s is a symbolic link to a folder (%s), which publish would follow and ship what .funcignore lets in from there: funcpack does not follow it; make it a real folder or delete it", show(rel), show(target))
	}
	if alwaysSkipped(name, false) {
		return nil, nil
	}
	if _, ok := ig.excludedBy(rel); ok {
		return nil, nil
	}
	switch {
	case statErr != nil:
		return nil, fmt.Errorf("%s is a symbolic link to %s, which cannot be read (%v): delete it or exclude it in .funcignore", show(rel), show(target), cause(statErr))
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is a symbolic link to %s, not a regular file (%v): delete it or exclude it in .funcignore", show(rel), show(target), fi.Mode().Type())
	}
	return &entry{name: rel, src: full, size: fi.Size(), info: fi},
		fmt.Errorf("%s is a symbolic link to %s: publish would ship that file's bytes under this name, whatever .funcignore says of it; replace the link with a copy", show(rel), show(target))
}

// cause is what went wrong in err, without the path an *fs.PathError
// repeats.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeZip writes the entries to out through a temporary file beside it,
// so that a failed run leaves no partial zip behind.
func writeZip(ctx context.Context, out string, entries []entry, mtime time.Time) (err error) {
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".funcpack-*.zip")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<16)
	zw := zip.NewWriter(bw)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		if e.mode.IsDir() {
			h.Method = zip.Store
		}
		// SetMode records the mode as Unix's (creator version 3), which
		// is what makes unzip and Kudu apply it.
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if e.src == "" {
			continue
		}
		if err := copyFile(w, e); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; the zip is no secret.
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// copyFile copies the file the walk found for e, and fails if another file
// is at its path now: a link or a secret swapped in after the checks must
// not be packed in its place.
func copyFile(w io.Writer, e entry) error {
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	if e.info != nil {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if !os.SameFile(fi, e.info) {
			return fmt.Errorf("%s changed while it was being packed: run again", show(e.name))
		}
	}
	_, err = io.Copy(w, f)
	return err
}

// isWordByte is Core Tools' (and regexp's \w) word character.
func isWordByte(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

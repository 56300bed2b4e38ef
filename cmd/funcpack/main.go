// Command funcpack writes the zip that `func azure functionapp publish`
// deploys for this custom handler app, and refuses when that zip could not
// run on Azure Functions on Linux:
//
//	funcpack [-o dist/functionapp.zip] [-root .]
//
// The zip holds every file under the root that .funcignore does not
// exclude, read with Core Tools' own rules (see funcignore), less what
// Core Tools always leaves out: .git and .vscode folders, and .funcignore,
// .gitignore, local.settings.json and project.lock.json files. The file
// host.json names as customHandler.description.defaultExecutablePath gets
// Unix mode 0755, every other file 0644 and each folder 0755, in entries
// marked as made on Unix, so that unzip and the platform's deployment
// (Kudu) restore them: without the executable bit the host cannot start
// the handler. Core Tools does no build for a custom handler and would
// ship whatever that file is, so funcpack refuses when it is missing, is
// not a static x86-64 Linux ELF executable or is excluded, and when
// host.json is missing, invalid or excluded.
//
// Where it differs from Core Tools, on purpose:
//   - Modes are 0755 and 0644; Core Tools writes 0777 and 0666.
//   - Every folder that holds a packed file gets an entry (0755); Core
//     Tools writes files only.
//   - Entries are sorted and all carry one modification time,
//     SOURCE_DATE_EPOCH if set, else 1980-01-01 00:00:00 UTC (the earliest
//     a zip can hold), so that the same files give the same bytes (with
//     the same Go release, whose deflate writes them).
//   - The output file is never packed into itself.
//   - A defaultExecutablePath that is not a plain relative path (./handler,
//     a backslash, an absolute path, one outside the root) is refused:
//     Core Tools compares it with the zip's entry names as written, and
//     would not mark ./handler executable.
//   - host.json must be strict JSON (no comments).
//   - A symbolic link that would ship is refused, where Core Tools would
//     ship the bytes it points to (local.settings.json, a key outside the
//     app); a link to a folder is never followed, so a link to / or back
//     up the tree cannot make the walk endless, and is refused unless
//     nothing under it could ship. A file with more than one hard link, or
//     that is not a regular file, is refused unless excluded.
//   - A file that would ship only because a ! line matches the start of
//     its path (Core Tools lets host.json.bak in on "!host.json", and a
//     folder Me/function.json.d/ on "!Me/function.json"), or because an
//     allow-list's * misses it (a first name with no ASCII letter, digit or
//     _, such as ~), is refused, naming the file and the line.
//   - A name with a control character, a line separator, an invisible
//     format character (bidi, zero-width), a backslash, invalid UTF-8, a
//     character Azure Files refuses, or one that differs from another only
//     in case, is refused.
//   - Every path printed is escaped (Go-quoted) unless it is made only of
//     plain characters, so that a name cannot drive the terminal or forge
//     a line.
//
// Exit status: 0 on success, 1 when the app cannot be packaged (every
// problem found is listed), 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

const usage = `usage: funcpack [-o FILE] [-root DIR]

Write the zip that func azure functionapp publish deploys for a custom
handler app: the files under DIR that .funcignore does not exclude, with
host.json's defaultExecutablePath marked executable (0755). Refuses when
host.json is missing or invalid, or the executable is missing or is not a
static linux/amd64 ELF binary (build it with CGO_ENABLED=0 GOOS=linux
GOARCH=amd64). SOURCE_DATE_EPOCH, if set, is the entries' time.
Exit status: 0 on success, 1 on failure, 2 for a usage error.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a mistake in the command line, already reported on stderr
// with the usage when run returns it.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode reports err, unless run has already, and returns the exit
// status it calls for. An error that joins several problems gets a line
// each.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "funcpack: %s\n", line)
	}
	return 1
}

// run is the whole program, its surroundings passed in for tests: args as
// os.Args, getenv as os.Getenv.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("funcpack", flag.ContinueOnError)
	// The flag package would print a bad flag's error with the argument
	// raw; it is printed below, escaped, and the usage after it, to
	// stdout for -h and stderr for errors.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	out := fs.String("o", "dist/functionapp.zip", "write the zip to `FILE` (relative to the current directory)")
	root := fs.String("root", ".", "the function app's root `DIR`, where host.json is")
	printUsage := func(w io.Writer) {
		io.WriteString(w, usage+"\nflags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	switch err := fs.Parse(args[1:]); {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout)
		return nil
	case err != nil:
		fmt.Fprintf(stderr, "funcpack: %s\n", bounded.Cut(err.Error(), bounded.Max))
		printUsage(stderr)
		return usageError{err}
	case fs.NArg() > 0:
		err := fmt.Errorf("unexpected argument %s", bounded.Quote(fs.Arg(0)))
		fmt.Fprintf(stderr, "funcpack: %v\n", err)
		printUsage(stderr)
		return usageError{err}
	case *out == "" || *root == "":
		err := errors.New("-o and -root must not be empty")
		fmt.Fprintf(stderr, "funcpack: %v\n", err)
		printUsage(stderr)
		return usageError{err}
	}

	mtime, err := modTime(getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	p, err := plan(ctx, *root, *out)
	if p != nil {
		for _, w := range p.warnings {
			fmt.Fprintf(stderr, "funcpack: warning: %s\n", w)
		}
	}
	if err != nil {
		return err
	}
	if err := writeZip(ctx, *out, p.entries, mtime); err != nil {
		return pathError(err)
	}
	files, size := 0, int64(0)
	for _, e := range p.entries {
		fmt.Fprintf(stdout, "%v %10d  %s\n", e.mode, e.size, show(e.name))
		if !e.mode.IsDir() {
			files++
			size += e.size
		}
	}
	fmt.Fprintf(stdout, "wrote %s: %d files, %d bytes before compression\n", show(*out), files, size)
	return nil
}

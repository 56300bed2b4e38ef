package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

const usage = `usage: handler [command] [flags]

commands:
  serve     serve the functions (the default; what the Functions host runs)
  dev       serve in dev mode on loopback, ignoring the environment's
            AUTH_* settings, and print a request that works (make dev)
  token     print a development access token
  check     validate the configuration and print the effective settings;
            --online also fetches the tenant's signing keys;
            --connector-resource checks a connector's Resource URL
  connector write the Power Platform custom connector for this API
  explain   say whether the server would accept an access token, and if
            not, why and what to change (handler explain - < token.txt)
  version   print the build's version, revision and Go version
  help      print this help, or a command's: handler help token

Configuration comes from the environment; see the README.
Every command takes -h for its flags. Exit status: 0 on success, 1 on
failure, 2 for a usage error.
`

// usageError is a mistake in the command line. Its message is already on
// stderr when run returns it, so main only exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run is the whole program, with the process's surroundings passed in so
// that tests can drive it: args as os.Args, lookupEnv as os.LookupEnv
// (whether a variable is set at all matters: see detectPlatform), and the
// standard streams.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	lookup := lookupFunc(lookupEnv)
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "serve":
		return serveCommand(ctx, rest, lookup, stdout, stderr)
	case "dev":
		return dev(ctx, rest, lookup, stdout, stderr)
	case "token":
		return token(rest, lookup, stdout, stderr)
	case "check":
		return check(ctx, rest, lookup, stdout, stderr)
	case "connector":
		return connectorCommand(rest, lookup.get, stdout, stderr)
	case "explain":
		return explain(ctx, rest, lookup, stdin, stdout, stderr)
	case "version":
		return version(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		return help(ctx, cmd, rest, args[0], lookupEnv, stdin, stdout, stderr)
	}
	return usageFail(stderr, "handler", errors.New("unknown command "+shown(cmd)))
}

// help prints the usage to stdout; handler help COMMAND (or --help
// COMMAND) is handler COMMAND -h.
func help(ctx context.Context, cmd string, rest []string, argv0 string, lookupEnv func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case len(rest) == 0 || len(rest) == 1 && isHelp(rest[0]):
		io.WriteString(stdout, usage)
		return nil
	case len(rest) == 1:
		return run(ctx, []string{argv0, rest[0], "-h"}, lookupEnv, stdin, stdout, stderr)
	}
	return usageFail(stderr, "handler", fmt.Errorf("%s takes at most one command, not %s", cmd, shown(strings.Join(rest, " "))))
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// usageFail reports a mistake in the top-level command line: the error,
// and where the usage is, rather than the usage burying the error.
func usageFail(stderr io.Writer, prefix string, err error) error {
	fmt.Fprintf(stderr, "%s: %s\nRun 'handler -h' for usage.\n", prefix, safeText(err.Error()))
	return usageError{err}
}

// cmdFlags is one command's flag set. Help asked for with -h goes to
// stdout; a usage error goes to stderr as one line with the command's
// name, and a pointer to its -h.
type cmdFlags struct {
	*flag.FlagSet
	usage          string // before the flags' defaults
	stdout, stderr io.Writer
}

func newFlags(name, usage string, stdout, stderr io.Writer) *cmdFlags {
	fs := flag.NewFlagSet("handler "+name, flag.ContinueOnError)
	// The flag package would print a bad flag's error itself, argument
	// and all (a token glued to a flag name, --online<token>, is one):
	// parse prints it instead, through safeText.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, usage: usage, stdout: stdout, stderr: stderr}
}

// parse parses args, which hold flags only. It reports help when -h or
// --help asked for it and it has been printed; the command then returns
// nil.
func (f *cmdFlags) parse(args []string) (help bool, err error) {
	err = f.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.printUsage(f.stdout)
		return true, nil
	case err != nil:
		return false, f.fail(err)
	case f.NArg() > 0:
		return false, f.fail(fmt.Errorf("unexpected argument %s", shown(f.Arg(0))))
	}
	return false, nil
}

// parseArgs parses args, flags and positional arguments in any order:
// handler explain TOKEN --online is as good as --online TOKEN. A lone
// "-" is an argument (standard input), and "--" ends the flags.
func (f *cmdFlags) parseArgs(args []string) (help bool, pos []string, err error) {
	for {
		err := f.Parse(args)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printUsage(f.stdout)
				return true, nil, nil
			}
			return false, nil, f.fail(err)
		}
		rest := f.Args()
		if len(rest) == 0 {
			return false, pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			// After --, everything is an argument.
			return false, append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// fail reports a bad use of the command, such as an unknown flag or a
// flag's value out of range, as a usage error: one line, and where the
// command's usage is.
func (f *cmdFlags) fail(err error) error {
	fmt.Fprintf(f.stderr, "%s: %s\nRun '%s -h' for usage.\n", f.Name(), safeText(err.Error()), f.Name())
	return usageError{err}
}

func (f *cmdFlags) printUsage(w io.Writer) {
	io.WriteString(w, f.usage)
	hasFlags := false
	f.VisitAll(func(*flag.Flag) { hasFlags = true })
	if !hasFlags {
		return
	}
	io.WriteString(w, "\nflags:\n")
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// maxShown bounds a value from the command line or the environment when
// an error or the settings table repeats it.
const maxShown = 64

// shown quotes a value from the command line or the environment for a
// message, escaped and cut to maxShown bytes; a value that may be a
// credential is not shown at all.
func shown(s string) string { return bounded.Value(s, maxShown) }

// maxErrorLine bounds each line of an error on the terminal.
const maxErrorLine = 1024

// safeText is how an error reaches the terminal: nothing that may be a
// credential (an argument may be a token pasted in the wrong place), no
// control or formatting character that could drive the terminal or
// reorder the line, and bounded lines. Line breaks between the problems
// of a list are kept.
func safeText(s string) string {
	lines := strings.Split(bounded.Redact(s), "\n")
	for i, l := range lines {
		lines[i] = bounded.Cut(l, maxErrorLine)
	}
	return strings.Join(lines, "\n")
}

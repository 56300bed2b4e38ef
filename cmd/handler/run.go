package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
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

// usageError is a mistake in the command line. Its message and the usage
// are already on stderr when run returns it, so main only exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run is the whole program, with the process's surroundings passed in so
// that tests can drive it: args as os.Args, getenv as os.Getenv.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "serve":
		return serveCommand(ctx, rest, getenv, stdout, stderr)
	case "dev":
		return dev(ctx, rest, getenv, stdout, stderr)
	case "token":
		return token(rest, getenv, stdout, stderr)
	case "check":
		return check(ctx, rest, getenv, stdout, stderr)
	case "connector":
		return connectorCommand(rest, getenv, stdout, stderr)
	case "explain":
		return explain(ctx, rest, getenv, stdout, stderr)
	case "version":
		return version(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		return help(ctx, cmd, rest, args[0], getenv, stdout, stderr)
	}
	return usageFail(stderr, usage, "handler", errors.New("unknown command "+bounded(cmd)))
}

// help prints the usage to stdout; handler help COMMAND (or --help
// COMMAND) is handler COMMAND -h.
func help(ctx context.Context, cmd string, rest []string, argv0 string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(rest) == 0 || len(rest) == 1 && isHelp(rest[0]):
		io.WriteString(stdout, usage)
		return nil
	case len(rest) == 1:
		return run(ctx, []string{argv0, rest[0], "-h"}, getenv, stdout, stderr)
	}
	return usageFail(stderr, usage, "handler", fmt.Errorf("%s takes at most one command, not %s", cmd, bounded(strings.Join(rest, " "))))
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// usageFail prints err and the usage u to stderr, and returns err as a
// usage error.
func usageFail(stderr io.Writer, u, prefix string, err error) error {
	fmt.Fprintf(stderr, "%s: %v\n%s", prefix, err, u)
	return usageError{err}
}

// cmdFlags is one command's flag set. Help asked for with -h goes to
// stdout; a usage error goes to stderr, once, with the usage.
type cmdFlags struct {
	*flag.FlagSet
	usage          string // before the flags' defaults
	stdout, stderr io.Writer
	// secretValues keeps flag values out of error messages.
	secretValues bool
}

func newFlags(name, usage string, stdout, stderr io.Writer) *cmdFlags {
	fs := flag.NewFlagSet("handler "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The flag package prints a bad flag's error itself, then calls Usage
	// for errors and for -h alike: parse prints the usage instead, to
	// the stream each case calls for.
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
		// The flag package has printed err already.
		f.printUsage(f.stderr)
		return false, usageError{err}
	case f.NArg() > 0:
		return false, f.fail(fmt.Errorf("unexpected argument %s", bounded(f.Arg(0))))
	}
	return false, nil
}

// parseArgs parses args, flags and positional arguments in any order:
// handler explain TOKEN --online is as good as --online TOKEN. A lone
// "-" is an argument (standard input), and "--" ends the flags.
func (f *cmdFlags) parseArgs(args []string) (help bool, pos []string, err error) {
	for {
		if f.secretValues {
			// The flag package prints its errors, value and all.
			f.SetOutput(io.Discard)
		}
		err := f.Parse(args)
		f.SetOutput(f.stderr)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printUsage(f.stdout)
				return true, nil, nil
			}
			if f.secretValues {
				err = errors.New(quotedValue.ReplaceAllString(err.Error(), "(value not shown)"))
				fmt.Fprintln(f.stderr, err)
			}
			f.printUsage(f.stderr)
			return false, nil, usageError{err}
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

// quotedValue is a quoted value in the flag package's errors.
var quotedValue = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// fail reports a bad use of the command, such as a flag's value out of
// range, as a usage error.
func (f *cmdFlags) fail(err error) error {
	fmt.Fprintf(f.stderr, "%s: %v\n", f.Name(), err)
	f.printUsage(f.stderr)
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
	f.SetOutput(f.stderr)
}

// maxShown bounds a value from the command line or the environment when
// an error or the settings table repeats it.
const maxShown = 64

// bounded quotes s for a message, cut to maxShown bytes.
func bounded(s string) string {
	if len(s) <= maxShown {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…", strings.ToValidUTF8(s[:maxShown], ""))
}

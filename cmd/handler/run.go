package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
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
// (whether a variable is set at all matters: see detectPlatform).
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
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
		return explain(ctx, rest, lookup, stdout, stderr)
	case "version":
		return version(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		return help(ctx, cmd, rest, args[0], lookupEnv, stdout, stderr)
	}
	return usageFail(stderr, usage, "handler", errors.New("unknown command "+shown(cmd)))
}

// help prints the usage to stdout; handler help COMMAND (or --help
// COMMAND) is handler COMMAND -h.
func help(ctx context.Context, cmd string, rest []string, argv0 string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	switch {
	case len(rest) == 0 || len(rest) == 1 && isHelp(rest[0]):
		io.WriteString(stdout, usage)
		return nil
	case len(rest) == 1:
		return run(ctx, []string{argv0, rest[0], "-h"}, lookupEnv, stdout, stderr)
	}
	return usageFail(stderr, usage, "handler", fmt.Errorf("%s takes at most one command, not %s", cmd, shown(strings.Join(rest, " "))))
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// usageFail reports a mistake in the top-level command line: the error,
// and where the usage is, rather than the usage burying the error.
func usageFail(stderr io.Writer, _, prefix string, err error) error {
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

// shown quotes s for a message, cut to maxShown bytes; a token-shaped
// value is not shown at all, since a cut token is still part of one.
func shown(s string) string {
	if hasTokenShape(s) {
		return fmt.Sprintf("(a token-shaped value of %d bytes, not shown)", len(s))
	}
	if len(s) <= maxShown {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…", strings.ToValidUTF8(s[:maxShown], ""))
}

// tokenShaped finds what may be a credential inside a message (see
// isToken): runs of base64, base64url and JWT characters.
var tokenShaped = regexp.MustCompile(`[A-Za-z0-9_\-.~+/=]{30,}`)

// isToken says a run found by tokenShaped may be a credential: a JWT or
// JWE, found by its base64url "eyJ" (`{"`) even glued to something
// before it (--online<token>); a run with a "~", as Entra's client
// secrets have; and a long run mixing upper and lower case and digits,
// the shape of opaque tokens.
func isToken(m string) bool {
	if strings.Contains(m, "eyJ") || strings.Contains(m, "~") {
		return true
	}
	var upper, lower, digit bool
	for _, r := range m {
		upper = upper || 'A' <= r && r <= 'Z'
		lower = lower || 'a' <= r && r <= 'z'
		digit = digit || '0' <= r && r <= '9'
	}
	return len(m) >= 60 && upper && lower && digit
}

// hasTokenShape says s holds what may be a credential.
func hasTokenShape(s string) bool {
	for _, m := range tokenShaped.FindAllString(s, -1) {
		if isToken(m) {
			return true
		}
	}
	return false
}

// safeText is how an error reaches the terminal: nothing token-shaped
// (an argument may be a token pasted in the wrong place), no control or
// formatting character that could drive the terminal or reorder the
// line, and a bounded length.
func safeText(s string) string {
	s = tokenShaped.ReplaceAllStringFunc(s, func(m string) string {
		if i := strings.Index(m, "eyJ"); i > 0 {
			// Keep what the token was glued to: -online(token…) says
			// what went wrong.
			return m[:i] + "(token-shaped text, not shown)"
		}
		if isToken(m) {
			return "(token-shaped text, not shown)"
		}
		return m
	})
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == utf8.RuneError, !unicode.IsGraphic(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	const maxError = 4096
	if out := b.String(); len(out) > maxError {
		return strings.ToValidUTF8(out[:maxError], "") + "…"
	}
	return b.String()
}

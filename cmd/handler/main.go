// Command handler is the Azure Functions custom handler: the host starts it,
// forwards each HTTP request to it, and it answers after deciding who is
// calling and whether they may.
//
//	handler [serve]           serve the functions (what the host runs)
//	handler dev [-port N]     serve in dev mode on loopback, whatever the
//	                          environment says, and print a curl that works
//	handler token [--dev]     print a development access token
//	handler check [--online]  validate the configuration, print the effective
//	                          settings; --online also loads the signing keys;
//	                          --connector-resource URL checks a Resource URL
//	handler connector         write the custom connector's files (--out DIR)
//	handler explain TOKEN|-   say whether the server would accept a token,
//	                          and if not, why and what to change
//	handler version           print the module version, VCS revision and Go version
//	handler help [command]    print the usage, or a command's
//
// Every command takes -h. The exit status is 0 on success, 1 on failure and
// 2 for a usage error (an unknown command or flag, a stray argument).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, the next one ends the process at once, as
	// usual, instead of waiting for the drain.
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args, os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// reported is a failure whose command has already said what it was: exit
// status 1, and nothing more on stderr.
type reported struct{ err error }

func (e reported) Error() string { return e.err.Error() }
func (e reported) Unwrap() error { return e.err }

// exitCode reports err, unless run has already, and returns the exit
// status it calls for.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	var rp reported
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		// Printed with the usage already, by run or by the flag package.
		return 2
	case errors.As(err, &rp):
		// A failure the command has printed itself, such as explain's
		// verdict of refusal.
		return 1
	}
	fmt.Fprintf(stderr, "handler: %s\n", safeText(err.Error()))
	return 1
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

const usage = `usage: handler [command]

commands:
  serve   serve the functions (the default; what the Functions host runs)
  token   print a development access token (see handler token -h)
  check   validate the configuration and print the effective settings

Configuration comes from the environment; see the README.
`

// run is the whole program, with the process's surroundings passed in so
// that tests can drive it: args as os.Args, getenv as os.Getenv.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "serve":
		if len(rest) > 0 {
			return fmt.Errorf("serve takes no arguments\n%s", usage)
		}
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout)
	case "token":
		return token(rest, getenv, stdout, stderr)
	case "check":
		return check(getenv, stdout)
	case "help", "-h", "-help", "--help":
		io.WriteString(stdout, usage)
		return nil
	}
	return errors.New("unknown command " + cmd + "\n" + usage)
}

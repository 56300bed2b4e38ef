// Command handler is the Azure Functions custom handler: the host starts it,
// forwards each HTTP request to it, and it answers after deciding who is
// calling and whether they may.
//
//	handler          serve (what the host runs)
//	handler token    print a development access token
//	handler check    validate the configuration and print the effective settings
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "handler: %v\n", err)
		os.Exit(1)
	}
}

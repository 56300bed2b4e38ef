//go:build !stdslog

package main

import (
	"io"
	"log/slog"

	"github.com/entrafunc/entrafunc/internal/logjson"
)

// newLogHandler returns the handler writing the log: logjson, which writes
// the lines slog.JSONHandler would at a fraction of its cost on the
// request path. Building with -tags stdslog swaps in slog.JSONHandler
// (loghandler_stdslog.go), so a benchmark over HTTP can tell what the
// swap is worth.
func newLogHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return logjson.New(w, opts)
}

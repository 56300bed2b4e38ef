//go:build stdslog

package main

import (
	"io"
	"log/slog"
)

// newLogHandler returns slog.JSONHandler, the standard handler logjson
// stands in for (loghandler.go): this build is the baseline a benchmark
// compares logjson with. The lines are the same but for what logjson's
// documentation lists.
func newLogHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return slog.NewJSONHandler(w, opts)
}

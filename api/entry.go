package api

import (
	"context"
	"net/http"
)

// entryKey is the context key of the request's log entry.
type entryKey struct{}

// requestState is the request's context and its response writer in one
// allocation: the context answers entryKey with the log entry, and passes
// every other key to its parent. The layers below learn the caller and
// the refusal there, in the one channel of per-request state that already
// carries the principal (the way chi's middleware.WithLogEntry carries its
// entry), at the cost of one copy of the request.
type requestState struct {
	context.Context
	sw statusWriter
}

func (s *requestState) Value(key any) any {
	if _, ok := key.(entryKey); ok {
		return &s.sw.e
	}
	return s.Context.Value(key)
}

// track starts the log entry id for the request r that w answers: it
// returns the writer that records the status, and r carrying the entry.
func track(w http.ResponseWriter, r *http.Request, id string) (*statusWriter, *http.Request) {
	s := &requestState{Context: r.Context(), sw: statusWriter{ResponseWriter: w, e: entry{id: id}}}
	return &s.sw, r.WithContext(s)
}

// entryOf finds the log entry of the request r, or nil outside
// logRequests.
func entryOf(r *http.Request) *entry {
	e, _ := r.Context().Value(entryKey{}).(*entry)
	return e
}

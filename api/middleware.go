package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/entrafunc/entrafunc/tasks"
	"github.com/go-chi/chi/v5"
)

// InvocationIDHeader carries the Functions host's id for the invocation.
const InvocationIDHeader = "X-Azure-Functions-InvocationId"

// entry is what the request's log line says beyond the request itself. It
// is filled in by the layers that learn it: who called, and why a request
// was refused.
type entry struct {
	id        string
	principal *auth.Principal
	err       error
	resStatus int // the function's status inside an invocation payload
}

// statusWriter remembers the status a handler wrote, and carries the
// request's log entry.
type statusWriter struct {
	http.ResponseWriter
	e      entry
	status int
}

func (sw *statusWriter) WriteHeader(code int) {
	if sw.status == 0 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	return sw.ResponseWriter.Write(b)
}

func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// logRequests writes one line per request: method, path (never the query,
// which may hold a name or a smuggled token), status, duration, the host's
// invocation id, a request id, and the caller's oid and tid when known.
// Never a header, a token or a whole principal.
//
// Every string on the line but the request id is one a client could
// choose, directly or through a token or a principal, so every one goes
// through bounded: cut, with control, format and other invisible
// characters escaped. A right-to-left override in a path would otherwise
// make a log viewer show the rest of the line reversed.
func logRequests(logger *slog.Logger) func(http.Handler) http.Handler {
	var seq atomic.Uint64
	boot := make([]byte, 4)
	rand.Read(boot)
	prefix := hex.EncodeToString(boot) + "-"
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw, r := track(w, r, prefix+strconv.FormatUint(seq.Add(1), 10))
			e := &sw.e
			next.ServeHTTP(sw, r)
			end := time.Now()
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			attrs := make([]slog.Attr, 0, 11)
			attrs = append(attrs,
				slog.String("method", bounded.String(r.Method)), // any token, any length
				slog.String("path", bounded.String(r.URL.Path)),
				slog.Int("status", sw.status),
				slog.Float64("duration_ms", float64(end.Sub(start).Microseconds())/1000),
				slog.String("request_id", e.id),
			)
			if e.resStatus != 0 {
				attrs = append(attrs, slog.Int("res_status", e.resStatus))
			}
			if id := r.Header.Get(InvocationIDHeader); id != "" {
				attrs = append(attrs, slog.String("invocation_id", bounded.String(id)))
			}
			if p := e.principal; p != nil {
				// Bounded too: an Easy Auth principal's oid and tid are
				// whatever the header said.
				attrs = append(attrs, slog.String("oid", bounded.String(p.ObjectID)), slog.String("tid", bounded.String(p.TenantID)), slog.String("source", bounded.String(string(p.Source))))
			}
			if e.err != nil {
				if reason := reasonOf(e.err); reason != "" {
					attrs = append(attrs, slog.String("reason", bounded.String(reason)))
				}
				// Every client value in an error is bounded where the
				// error is made; this bounds the whole, in case one is not.
				// And no URL's query: a failed request's error quotes
				// its URL, whose query may hold a credential.
				attrs = append(attrs, slog.String("error", bounded.Cut(bounded.HideQueries(e.err.Error()), maxLoggedError)))
			}
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			// Straight to the handler: the Logger would look up the
			// caller's program counter, which this line does not use and
			// which costs as much as writing it.
			if h := logger.Handler(); h.Enabled(r.Context(), level) {
				rec := slog.NewRecord(end, level, "request", 0)
				rec.AddAttrs(attrs...)
				h.Handle(r.Context(), rec)
			}
		})
	}
}

// reasonOf is the word the log line gives for err: auth's, or the task
// store's reason for not answering.
func reasonOf(err error) string {
	if r := auth.Reason(err); r != "" {
		return r
	}
	var ue *tasks.UnavailableError
	if errors.As(err, &ue) {
		return ue.Reason
	}
	return ""
}

// maxLoggedPath bounds what a log line repeats of the request: no route is
// longer, no invocation id either, and a long unknown path is more likely
// a pasted token than a typo.
const maxLoggedPath = bounded.Max

// maxLoggedError bounds a log line's error field: room for a message that
// quotes a few bounded values, such as a 503's last load failure.
const maxLoggedError = 1024

// Header values every response shares: net/http only reads them, and
// Header.Set and Add replace rather than change a slice, so one slice
// serves every response without an allocation.
var (
	nosniff   = []string{"nosniff"}
	noStore   = []string{"no-store"}
	connClose = []string{"close"}
)

// setResponseHeaders sets the headers every answer carries, whatever it
// is: nosniff, because Hello echoes the caller's text and a browser must
// never take it for HTML; no-store, because Me returns personal data and
// an answer to one caller must not be served to another from a cache (an
// error or GET /'s "ready" loses nothing by it).
func setResponseHeaders(h http.Header) {
	h["X-Content-Type-Options"] = nosniff
	h["Cache-Control"] = noStore
}

// responseHeaders sets the headers of every answer before anything else
// runs, so that no path (404, 405, a panic, GET /) can miss them.
//
// It also answers any request that came with a Transfer-Encoding with
// Connection: close. A request with both Content-Length and
// Transfer-Encoding is the classic request-smuggling shape: a front end
// that honours Content-Length and net/http, which honours the chunked
// coding and drops Content-Length, disagree on where the body ends, and
// what one of them takes for body the other reads as the next request.
// RFC 9112 §6.1 says to close the connection after answering such a
// request; net/http does not, so the handler asks it to. net/http removes
// Transfer-Encoding from r.Header but keeps it in r.TransferEncoding. No
// client of this API needs a chunked request body, and the host forwards
// requests with a Content-Length, so closing costs nothing in practice.
func responseHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		setResponseHeaders(h)
		if len(r.TransferEncoding) > 0 {
			h["Connection"] = connClose
		}
		next.ServeHTTP(w, r)
	})
}

// noteCaller records the authenticated caller on the request's log line.
func noteCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := entryOf(r); e != nil {
			e.principal, _ = auth.FromContext(r.Context())
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into a logged 500, so that one bad request
// never takes the worker down (the host restarts a dead worker, and gives
// up on the app after three deaths in 30 minutes).
func recoverPanics(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				// The value may quote what the request held; the stack
				// is the program's own (names, offsets, argument words).
				logger.ErrorContext(r.Context(), "panic", slog.String("panic", bounded.Cut(fmt.Sprint(v), maxLoggedError)), slog.String("path", bounded.String(r.URL.Path)), slog.String("stack", string(debug.Stack())))
				writeError(w, r, errors.New("panic while serving the request"))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// matchCase routes on the decoded path with its literal segments (the
// route prefix and the function's route) lower-cased: the host matches
// them case-insensitively, in ASCII only (see routeKey), and forwards the
// client's casing. A route's parameters keep theirs: an id is the
// client's to spell. It tells chi the path to route on rather than
// copying the request.
func matchCase(literals map[string]bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rctx := chi.RouteContext(r.Context()); rctx != nil {
				rctx.RoutePath = foldPath(literals, r.URL.Path)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody refuses bodies over max bytes: at once when Content-Length
// says so, otherwise when a handler reads past the limit.
func limitBody(max int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				writeError(w, r, ErrBodyTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

// allowHeader returns the Allow value for a route's methods.
func allowHeader(methods []string) string { return strings.Join(methods, ", ") }

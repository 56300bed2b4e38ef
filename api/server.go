package api

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/go-chi/chi/v5"
)

// DefaultMaxBodyBytes bounds a request body.
const DefaultMaxBodyBytes = 64 << 10

// Options are NewServer's dependencies.
type Options struct {
	// Logger receives one line per request. Required.
	Logger *slog.Logger
	// Authenticator establishes the caller of every function route.
	// Required: there is no anonymous mode.
	Authenticator auth.Authenticator
	// Policy decides which callers may call; each route may add to it.
	Policy auth.Policy
	// Routes are the functions served. Default: [Routes].
	Routes []Route
	// MaxBodyBytes bounds request bodies. Default: [DefaultMaxBodyBytes].
	MaxBodyBytes int64
}

// NewServer returns the handler's HTTP surface: GET / for the host's
// readiness probe, and every route behind authentication and the policy,
// both as the host forwards it (/api/{Function}) and through the host's
// invocation payload (POST /{Function}).
func NewServer(o Options) http.Handler {
	if o.Routes == nil {
		o.Routes = Routes()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	deps := Deps{Logger: o.Logger}

	r := chi.NewRouter()
	r.Use(responseHeaders, logRequests(o.Logger), recoverPanics(o.Logger), matchCase)

	// A dev-mode server's refusals point at handler explain.
	onAuthError := writeError
	if auth.SourceOf(o.Authenticator) == auth.SourceDev {
		onAuthError = writeDevError
	}
	allowed := make(map[string]string, len(o.Routes))
	for _, rt := range o.Routes {
		path := routeKey(rt.Path())
		allowed[path] = allowHeader(rt.Methods)
		h := limitBody(o.MaxBodyBytes)(
			auth.Middleware(o.Authenticator, o.Policy.Require(rt.Scopes, rt.Roles), onAuthError)(
				noteCaller(rt.Handler(deps))))
		for _, m := range rt.Methods {
			r.Method(m, path, h)
		}
		// The same function through the host's invocation payload. The
		// envelope holds the body JSON-escaped, plus the headers.
		invokePath := routeKey("/" + rt.Function)
		allowed[invokePath] = http.MethodPost
		r.Method(http.MethodPost, invokePath, handleInvoke(rt, h, 8*o.MaxBodyBytes+64<<10))
	}
	r.Get("/", handleReady())
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, ErrNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := allowed[routeKey(r.URL.Path)]; ok {
			w.Header().Set("Allow", a)
		} else if r.URL.Path == "/" {
			w.Header().Set("Allow", http.MethodGet)
		}
		writeError(w, r, ErrMethodNotAllowed)
	})
	return r
}

// handleReady serves "GET /". The host polls it until the first answer and
// then considers the worker started, so it answers at once and needs no
// credentials.
func handleReady() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ready\n")
	}
}

package api

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/tasks"
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
	// Tasks serves the Tasks function; nil answers its calls with 503.
	Tasks *tasks.Service
	// BaseURL is the app's public address for absolute links, such as a
	// list's next page: https:// and WEBSITE_HOSTNAME on Azure. Never
	// derive it from a request's Host, which the client chooses. ""
	// makes links relative to the API's root.
	BaseURL string
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
	deps := Deps{Logger: o.Logger, Tasks: o.Tasks, BaseURL: o.BaseURL}

	r := chi.NewRouter()
	literals := literalPrefixes(o.Routes)
	r.Use(responseHeaders, logRequests(o.Logger), recoverPanics(o.Logger), matchCase(literals))

	// A dev-mode server's refusals point at handler explain.
	onAuthError := writeError
	if auth.SourceOf(o.Authenticator) == auth.SourceDev {
		onAuthError = writeDevError
	}
	var patterns []allowed
	for _, rt := range o.Routes {
		policy := o.Policy.Require(rt.Scopes, rt.Roles)
		policy.AppRoles = rt.AppRoles
		h := limitBody(o.MaxBodyBytes)(
			auth.Middleware(o.Authenticator, policy, onAuthError)(
				noteCaller(rt.Handler(deps))))
		for _, path := range rt.Paths() {
			pattern := foldLiterals(path)
			patterns = append(patterns, allowed{pattern, allowHeader(rt.Methods)})
			for _, m := range rt.Methods {
				r.Method(m, pattern, h)
			}
		}
		// The same function through the host's invocation payload. The
		// envelope holds the body JSON-escaped, plus the headers and the
		// route's values.
		invokePath := routeKey("/" + rt.Function)
		patterns = append(patterns, allowed{invokePath, http.MethodPost})
		r.Method(http.MethodPost, invokePath, handleInvoke(rt, h, 8*o.MaxBodyBytes+64<<10))
	}
	r.Get("/", handleReady())
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, ErrNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		if a := allowFor(patterns, foldPath(literals, r.URL.Path)); a != "" {
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

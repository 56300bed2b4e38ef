package api

import (
	"cmp"
	"log/slog"
	"net/http"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/entrafunc/entrafunc/tasks"
)

// RoutePrefix is the Functions host's default HTTP route prefix
// (extensions.http.routePrefix in host.json).
const RoutePrefix = "/api"

// Deps are what handlers may depend on.
type Deps struct {
	Logger *slog.Logger
	// Tasks is the Tasks function's service; nil answers 503.
	Tasks *tasks.Service
	// BaseURL is the app's public address (scheme and host, no trailing
	// slash) as the platform states it, for absolute links; "" makes them
	// relative to the API's root.
	BaseURL string
}

// Route is one function of the app. [Routes] is the single declaration of
// the API surface: the router serves it, the tests check the function.json
// files against it, and the connector generator (package connector) writes
// the custom connector from its actions.
type Route struct {
	// Function is the function's name: its folder holds function.json,
	// and the host's invocation requests come to /{Function}.
	Function string
	// Template is function.json's "route": the path after the route
	// prefix, literal segments then {name} parameters, the last of which
	// may be optional ({name?}). Empty serves the function at its name,
	// as the host does for a function.json without a route. Literal
	// segments match in any ASCII letter case, as the host matches them;
	// parameters keep the client's case.
	Template string
	// Methods are the HTTP methods function.json allows.
	Methods []string
	// Actions are the route's operations in the custom connector: one
	// per method and path the connector calls.
	Actions []Action
	// Scopes and Roles are required on this route in addition to the
	// configured policy.
	Scopes []string
	Roles  []string
	// AppRoles admit an app-only caller holding one of them in place of
	// the delegated scopes (auth.Policy.AppRoles); empty admits none.
	AppRoles []string
	// Handler builds the route's handler from its dependencies. It serves
	// every method and path of the route; a path parameter is
	// r.PathValue(name), "" when an optional one is absent.
	Handler func(Deps) http.Handler
}

// Paths returns the paths the host forwards the function's requests to,
// in the router's pattern syntax: the template without its optional
// parameter, then with it.
func (rt Route) Paths() []string {
	t := cmp.Or(rt.Template, rt.Function)
	if base, name, ok := optionalParam(t); ok {
		return []string{RoutePrefix + "/" + base, RoutePrefix + "/" + base + "/{" + name + "}"}
	}
	return []string{RoutePrefix + "/" + t}
}

// Path returns the route's first path: the one without an optional
// parameter.
func (rt Route) Path() string { return rt.Paths()[0] }

// Params returns the names of the template's parameters, in order.
func (rt Route) Params() []string {
	var out []string
	for seg := range strings.SplitSeq(rt.Template, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			out = append(out, strings.TrimSuffix(strings.TrimSuffix(name, "}"), "?"))
		}
	}
	return out
}

// PathOf returns the path action a calls: a.Path, or the route's first.
func (rt Route) PathOf(a Action) string { return cmp.Or(a.Path, rt.Path()) }

// optionalParam splits a template ending in an optional parameter.
func optionalParam(t string) (base, name string, ok bool) {
	i := strings.LastIndexByte(t, '/')
	last := t[i+1:]
	if i < 0 || !strings.HasPrefix(last, "{") || !strings.HasSuffix(last, "?}") {
		return "", "", false
	}
	return t[:i], last[1 : len(last)-2], true
}

// Routes returns the app's functions.
func Routes() []Route {
	return []Route{
		{
			Function: "Hello",
			Methods:  []string{http.MethodGet, http.MethodPost},
			Handler:  func(Deps) http.Handler { return handleHello() },
			Actions: []Action{{
				Method:      http.MethodPost,
				OperationID: "SayHello",
				Summary:     "Say hello",
				Description: "Returns a greeting for the name given, as the Azure Functions HTTP trigger template does.",
				Visibility:  VisibilityImportant,
				Body:        helloRequest,
				Response: Response{
					Description: "The greeting.",
					ContentType: "text/plain",
					Text:        &Field{Title: "Greeting", Description: "The greeting, as one line of text."},
				},
				Errors:  []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable},
				Example: Example{Body: `{"name": "Marc"}`, Text: "Hello, Marc" + helloSuffix},
			}},
		},
		{
			Function: "Me",
			Methods:  []string{http.MethodGet},
			Handler:  func(Deps) http.Handler { return handleMe() },
			Actions: []Action{{
				Method:      http.MethodGet,
				OperationID: "GetCaller",
				Summary:     "Get the signed-in caller",
				Description: "Returns the caller whose identity the call carries, as the API sees it: tenant, object ID, scopes, roles and groups.",
				Visibility:  VisibilityAdvanced,
				Response: Response{
					Description: "The caller.",
					ContentType: "application/json",
					Object:      principalObject(),
				},
				Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable},
			}},
		},
		tasksRoute(),
	}
}

// routeKey is how the router matches a path: the host treats function
// routes case-insensitively, chi does not. It folds ASCII letters only,
// as the host's ordinal ignore-case comparison does: strings.ToLower
// would make "/apİ/Hello" (U+0130) "/api/hello" and route to Hello a path
// the host never matches (bounded.EqualFold says more).
func routeKey(path string) string { return bounded.Lower(path) }

// literalPrefixes are the routes' paths up to their first parameter, and
// their invocation paths, folded as routeKey folds them: what foldPath may
// fold.
func literalPrefixes(routes []Route) map[string]bool {
	out := map[string]bool{}
	for _, rt := range routes {
		out[routeKey("/"+rt.Function)] = true
		for _, p := range rt.Paths() {
			lit, _, _ := strings.Cut(p, "/{")
			for lit != "" {
				out[routeKey(lit)] = true
				lit = lit[:max(strings.LastIndexByte(lit, '/'), 0)]
			}
		}
	}
	return out
}

// foldPath folds the longest prefix of path, ending at a segment's end,
// that is one of literals, and keeps the rest as the client wrote it. A
// path no route starts with is folded whole: it will not match either way,
// and the 404 does not depend on its case.
func foldPath(literals map[string]bool, path string) string {
	lower := routeKey(path)
	if lower == path || literals[lower] {
		return lower
	}
	end := -1
	for i := 1; i < len(lower); i++ {
		if lower[i] == '/' && literals[lower[:i]] {
			end = i
		}
	}
	if end < 0 {
		return lower
	}
	return lower[:end] + path[end:]
}

// foldLiterals folds a route pattern's literal segments, keeping its
// {parameters} as they are.
func foldLiterals(pattern string) string {
	lit, params, ok := strings.Cut(pattern, "/{")
	if !ok {
		return routeKey(pattern)
	}
	return routeKey(lit) + "/{" + params
}

// allowed is a route pattern and the Allow value of a 405 on it.
type allowed struct{ pattern, allow string }

// allowFor returns the Allow value for a folded path that matches one of
// patterns, or "": segment by segment, a {parameter} matching any one.
func allowFor(patterns []allowed, path string) string {
	for _, p := range patterns {
		if matchPattern(p.pattern, path) {
			return p.allow
		}
	}
	return ""
}

func matchPattern(pattern, path string) bool {
	for {
		ps, prest, pmore := strings.Cut(pattern, "/")
		s, rest, more := strings.Cut(path, "/")
		if pmore != more {
			return false
		}
		if strings.HasPrefix(ps, "{") {
			if s == "" {
				return false
			}
		} else if ps != s {
			return false
		}
		if !more {
			return true
		}
		pattern, path = prest, rest
	}
}

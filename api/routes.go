package api

import (
	"log/slog"
	"net/http"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

// RoutePrefix is the Functions host's default HTTP route prefix
// (extensions.http.routePrefix in host.json).
const RoutePrefix = "/api"

// Deps are what handlers may depend on.
type Deps struct {
	Logger *slog.Logger
}

// Route is one function of the app. [Routes] is the single declaration of
// the API surface: the router serves it, the tests check the function.json
// files against it, and the connector generator (package connector) writes
// the custom connector from its actions.
type Route struct {
	// Function is the function's name: its folder holds function.json and
	// it is served at /api/{Function}, matched case-insensitively as the
	// host matches it.
	Function string
	// Methods are the HTTP methods function.json allows.
	Methods []string
	// Action is the route as the custom connector presents it.
	Action Action
	// Scopes and Roles are required on this route in addition to the
	// configured policy.
	Scopes []string
	Roles  []string
	// Handler builds the route's handler from its dependencies.
	Handler func(Deps) http.Handler
}

// Path returns the path the host forwards the function's requests to.
func (rt Route) Path() string { return RoutePrefix + "/" + rt.Function }

// Routes returns the app's functions.
func Routes() []Route {
	return []Route{
		{
			Function: "Hello",
			Methods:  []string{http.MethodGet, http.MethodPost},
			Handler:  func(Deps) http.Handler { return handleHello() },
			Action: Action{
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
			},
		},
		{
			Function: "Me",
			Methods:  []string{http.MethodGet},
			Handler:  func(Deps) http.Handler { return handleMe() },
			Action: Action{
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
			},
		},
	}
}

// routeKey is how the router matches a path: the host treats function
// routes case-insensitively, chi does not. It folds ASCII letters only,
// as the host's ordinal ignore-case comparison does: strings.ToLower
// would make "/apİ/Hello" (U+0130) "/api/hello" and route to Hello a path
// the host never matches (bounded.EqualFold says more).
func routeKey(path string) string { return bounded.Lower(path) }

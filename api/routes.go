package api

import (
	"log/slog"
	"net/http"
	"strings"
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
// files against it, and its descriptions are there for the connector
// definition to be generated from.
type Route struct {
	// Function is the function's name: its folder holds function.json and
	// it is served at /api/{Function}, matched case-insensitively as the
	// host matches it.
	Function string
	// Methods are the HTTP methods function.json allows.
	Methods []string
	// OperationID, Summary and Description describe the operation in the
	// connector definition.
	OperationID string
	Summary     string
	Description string
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
			Function:    "Hello",
			Methods:     []string{http.MethodGet, http.MethodPost},
			OperationID: "Hello",
			Summary:     "Say hello",
			Description: "Greets the name given in the query string or the JSON body, as the Azure Functions HTTP trigger template does.",
			Handler:     func(Deps) http.Handler { return handleHello() },
		},
		{
			Function:    "Me",
			Methods:     []string{http.MethodGet},
			OperationID: "Me",
			Summary:     "Who am I",
			Description: "Describes the signed-in caller whose identity the call carries.",
			Handler:     func(Deps) http.Handler { return handleMe() },
		},
	}
}

// routeKey is how the router matches a path: the host treats function
// routes case-insensitively, chi does not.
func routeKey(path string) string { return strings.ToLower(path) }

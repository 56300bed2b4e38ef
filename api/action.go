package api

import (
	"net/http"
	"reflect"
	"strings"

	"github.com/entrafunc/entrafunc/auth"
)

// Action is how a route appears in the custom connector: the operation
// that the connector generator (package connector) writes for it, and the
// call its Postman collection makes. Every route has at least one; a route
// without one fails TestRoutesHaveActions.
type Action struct {
	// Method is the method the connector calls: one of the route's
	// Methods. A method the connector does not need has no action.
	Method string
	// Path is the path the action calls, one of the route's Paths; empty
	// means the first.
	Path string
	// OperationID names the operation: PascalCase, unique.
	OperationID string
	// Summary is the action's name in Power Automate and Power Apps:
	// sentence case, at most 80 characters, no trailing punctuation.
	Summary string
	// Description says what the action does, in sentences ending with a
	// period.
	Description string
	// Visibility is x-ms-visibility: where the action is shown.
	Visibility Visibility
	// Params are the action's path, query and header parameters, in the
	// order makers see them. Every {name} in Path has one.
	Params []Param
	// Body is the JSON object the action sends, or nil for none.
	Body *Object
	// Response is what a successful call returns.
	Response Response
	// Errors are the other statuses the call can answer, each with an
	// application/problem+json body ([ProblemObject]).
	Errors []int
	// Example is a call that the generated collection makes and checks.
	Example Example
}

// Param is a path, query or header parameter of an action. Its Field
// says what makers see: Title (x-ms-summary), Description, Visibility,
// Required (always, for a path parameter) and Type.
type Param struct {
	Field
	// In is where it goes: path, query or header.
	In string
	// Values, when set, lists the parameter's values from another action
	// (x-ms-dynamic-values): a maker picks a task by its title.
	Values *DynamicValues
}

// DynamicValues names the action that lists a parameter's values, and
// which member of each item is the value and which its title.
type DynamicValues struct {
	OperationID string
	// Collection is the member of the answer that holds the items.
	Collection string
	Value      string
	Title      string
}

// Visibility is where Power Platform shows an action, parameter or
// property (x-ms-visibility).
type Visibility string

// The visibilities Power Platform knows.
const (
	VisibilityImportant Visibility = "important" // shown first
	VisibilityAdvanced  Visibility = "advanced"  // behind "Show advanced options"
	VisibilityInternal  Visibility = "internal"  // hidden from makers
)

// Object is a JSON object: a named definition in the connector.
type Object struct {
	// Name is the definition's name.
	Name        string
	Description string
	Fields      []Field
}

// Field is one property of an [Object].
type Field struct {
	// Name is the JSON member name.
	Name string
	// Type is the JSON Schema type: string, boolean, integer, number,
	// array or object. A parameter or a header is none of the last two
	// (a parameter may be an array of the others).
	Type string
	// Items is the element type when Type is array.
	Items string
	// Object describes the members when Type is object, or the elements
	// when Items is object.
	Object *Object
	// Enum lists the values a string takes, when it is closed.
	Enum []string
	// Title is the name makers see (x-ms-summary), in Title Case.
	Title string
	// Description is one sentence, ending with a period.
	Description string
	// Visibility is x-ms-visibility; empty leaves it out, except on a
	// Param, which must have one (and not internal when Required: an
	// internal parameter needs a default, which Param cannot give).
	Visibility Visibility
	// Required says the member is always present.
	Required bool
}

// Response is an action's successful answer: plain text (Text set), a
// JSON object (Object set), or no content (neither, with status 204).
type Response struct {
	// Status is the success status: 200 when zero.
	Status      int
	Description string
	// Headers are response headers a client may use, such as ETag.
	Headers []Field
	// NextLink names the member that links to the next page when the
	// Object is one page of a list (x-ms-pageable).
	NextLink string
	// ContentType is the media type of the body, without parameters.
	ContentType string
	// Text names a text/plain body: its Title and Description.
	Text *Field
	// Object describes an application/json body.
	Object *Object
}

// Example is a call to the action and what it must answer.
type Example struct {
	// Body is the JSON request body sent, if any.
	Body string
	// Text, for a text response, is the whole answer expected.
	Text string
}

// Actions lists the routes' connector actions in route order, each with
// its Path filled in.
func Actions(routes []Route) []Action {
	var out []Action
	for _, rt := range routes {
		for _, a := range rt.Actions {
			a.Path = rt.PathOf(a)
			out = append(out, a)
		}
	}
	return out
}

// helloRequest is the body Hello takes in the connector.
var helloRequest = &Object{
	Name:        "HelloRequest",
	Description: "The name to greet.",
	Fields: []Field{{
		Name: "name", Type: "string", Title: "Name", Required: true,
		Description: "The name of the person to greet.", Visibility: VisibilityImportant,
	}},
}

// principalDocs describes each member of auth.Principal as Me returns it.
// principalObject reads the members from the type itself, so that a new
// member without a description here fails TestActionsAreDescribed rather
// than reach the connector undescribed.
var principalDocs = map[string]Field{
	"tid":          {Title: "Tenant ID", Description: "The ID of the Entra ID tenant the caller signed in to."},
	"oid":          {Title: "Object ID", Description: "The caller's object ID in that tenant: with the tenant ID, the key to identify a user."},
	"name":         {Title: "Display Name", Description: "The caller's display name, for showing only, never for access decisions."},
	"username":     {Title: "Username", Description: "The caller's sign-in name, for showing only, never for access decisions."},
	"scopes":       {Title: "Scopes", Description: "The delegated scopes granted to the connector for this caller."},
	"roles":        {Title: "Roles", Description: "The app roles assigned to the caller on this API."},
	"groups":       {Title: "Groups", Description: "The object IDs of the groups the token lists for the caller."},
	"clientAppId":  {Title: "Client App ID", Description: "The client ID of the app that called, such as the connector's app registration."},
	"tokenVersion": {Title: "Token Version", Description: "The access token's version, 1.0 or 2.0."},
	"source":       {Title: "Source", Description: "How the caller was authenticated: jwt, easyauth or dev.", Enum: []string{string(auth.SourceJWT), string(auth.SourceEasyAuth), string(auth.SourceDev)}},
}

// principalObject is the JSON object Me answers with.
func principalObject() *Object {
	return &Object{
		Name:        "Principal",
		Description: "The caller of the request, as the API sees it.",
		Fields:      objectFields(reflect.TypeFor[auth.Principal](), principalDocs),
	}
}

// problemDocs describes each member of the problem+json error body.
var problemDocs = map[string]Field{
	"type":      {Title: "Type", Description: "A URI reference that names the kind of problem."},
	"title":     {Title: "Title", Description: "The HTTP status text."},
	"status":    {Title: "Status", Description: "The HTTP status code."},
	"detail":    {Title: "Detail", Description: "What went wrong, for a person to read."},
	"code":      {Title: "Code", Description: "A stable word for the error, such as invalid_token or insufficient_scope."},
	"rule":      {Title: "Rule", Description: "The configuration setting that refused the caller, on a 403."},
	"requestId": {Title: "Request ID", Description: "The request's ID, to find its line in the API's log."},
}

// ProblemObject is the application/problem+json body of every error
// answer (see writeError).
func ProblemObject() *Object {
	return &Object{
		Name:        "Problem",
		Description: "An error, as RFC 9457 problem details.",
		Fields:      objectFields(reflect.TypeFor[problem](), problemDocs),
	}
}

// ErrorDescription says when the API answers status, for the connector's
// response list; "" for a status this API does not answer on its own.
func ErrorDescription(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "The request is malformed, or carries the token somewhere other than the Authorization header."
	case http.StatusUnauthorized:
		return "No access token, or one that is not valid for this API."
	case http.StatusForbidden:
		return "The caller is authenticated but not allowed: a missing scope or role, or a setting that does not list them."
	case http.StatusRequestEntityTooLarge:
		return "The request body is larger than the API accepts."
	case http.StatusNotFound:
		return "No such task for the caller: it does not exist, or it is another user's."
	case http.StatusPreconditionFailed:
		return "The task changed since the ETag that If-Match names; get it again and retry."
	case http.StatusUnsupportedMediaType:
		return "The request body is not JSON (application/json, or application/merge-patch+json for an update)."
	case http.StatusServiceUnavailable:
		return "The API could not load its signing keys yet, or its data store did not answer; retry after the Retry-After seconds."
	}
	return ""
}

// objectFields lists t's JSON members, in field order, with what docs says
// about them. A member is required unless tagged omitempty; Go types map
// to the JSON Schema types the connector uses. A member missing from docs
// keeps an empty Description, which the tests and the generator refuse.
func objectFields(t reflect.Type, docs map[string]Field) []Field {
	var out []Field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fd := docs[name]
		fd.Name = name
		fd.Required = !strings.Contains(","+opts+",", ",omitempty,")
		fd.Type, fd.Items = jsonType(f.Type)
		out = append(out, fd)
	}
	return out
}

// jsonType maps a Go type to its JSON Schema type (and element type).
func jsonType(t reflect.Type) (string, string) {
	switch t.Kind() {
	case reflect.String:
		return "string", ""
	case reflect.Bool:
		return "boolean", ""
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer", ""
	case reflect.Float32, reflect.Float64:
		return "number", ""
	case reflect.Slice, reflect.Array:
		elem, _ := jsonType(t.Elem())
		return "array", elem
	}
	return "object", ""
}

package connector

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/entrafunc/entrafunc/api"
)

// File names Generate writes; the collection is named after the connector.
const (
	APIDefinitionFile = "apiDefinition.swagger.json"
	APIPropertiesFile = "apiProperties.json"
	SettingsFile      = "settings.json"
)

// CollectionFile is the name of the Postman collection for a connector
// named name.
func CollectionFile(name string) string { return name + ".postman_collection.json" }

// File is one generated file.
type File struct {
	Name string
	Data []byte
}

// Generate returns the connector's files for the routes, in a fixed
// order: the definition, the properties, the collection, the settings.
// It fails, listing every problem, when the configuration or a route's
// action breaks a rule the connector must follow.
func Generate(cfg Config, routes []api.Route) ([]File, error) {
	cfg, errs := cfg.withDefaults()
	for _, rt := range routes {
		errs = append(errs, checkAction(rt)...)
	}
	errs = append(errs, checkDefinitions(routes)...)
	errs = append(errs, checkDynamicValues(routes)...)
	errs = append(errs, checkFlows(routes)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// One connection token serves every action, so the connection asks
	// for every scope any route requires; each operation still says what
	// it needs.
	base := cfg.Scopes
	for _, rt := range routes {
		cfg.Scopes = routeScopes(cfg.Scopes, rt.Scopes)
	}
	var files []File
	for _, f := range []struct {
		name string
		v    any
	}{
		{APIDefinitionFile, definition(cfg, base, routes)},
		{APIPropertiesFile, properties(cfg, routes)},
		{CollectionFile(cfg.Name), collection(cfg, routes)},
		{SettingsFile, settings(cfg)},
	} {
		b, err := encode(f.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		files = append(files, File{Name: f.name, Data: b})
	}
	return files, nil
}

// encode writes v as JSON indented by four spaces, without HTML escaping,
// ending with a newline.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// The OpenAPI 2.0 document, its members in the order Microsoft's coding
// standards suggest.
type swagger struct {
	Swagger             string                    `json:"swagger"`
	Info                info                      `json:"info"`
	Host                string                    `json:"host"`
	BasePath            string                    `json:"basePath"`
	Schemes             []string                  `json:"schemes"`
	Consumes            []string                  `json:"consumes"`
	Produces            []string                  `json:"produces"`
	Paths               map[string]map[string]op  `json:"paths"`
	Definitions         map[string]*schema        `json:"definitions"`
	Parameters          struct{}                  `json:"parameters"`
	Responses           struct{}                  `json:"responses"`
	SecurityDefinitions map[string]securityScheme `json:"securityDefinitions"`
	Security            []map[string][]string     `json:"security"`
	Tags                []struct{}                `json:"tags"`
	Metadata            []metadata                `json:"x-ms-connector-metadata"`
}

type info struct {
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Version     string  `json:"version"`
	Contact     contact `json:"contact"`
}

type contact struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type op struct {
	OperationID string         `json:"operationId"`
	Summary     string         `json:"summary"`
	Description string         `json:"description"`
	Visibility  api.Visibility `json:"x-ms-visibility"`
	// Pageable names the member that links to the next page; the
	// updatenextlink policy in apiProperties.json goes with it.
	Pageable   *pageable             `json:"x-ms-pageable,omitempty"`
	Consumes   []string              `json:"consumes,omitempty"`
	Produces   []string              `json:"produces"`
	Parameters []parameter           `json:"parameters"`
	Responses  map[string]response   `json:"responses"`
	Security   []map[string][]string `json:"security,omitempty"`
}

type pageable struct {
	NextLinkName string `json:"nextLinkName"`
}

// parameter is a body parameter (Schema set) or a path, query or header
// parameter (Type set).
type parameter struct {
	Name          string         `json:"name"`
	In            string         `json:"in"`
	Required      bool           `json:"required"`
	Type          string         `json:"type,omitempty"`
	Items         *schema        `json:"items,omitempty"`
	Enum          []string       `json:"enum,omitempty"`
	Description   string         `json:"description"`
	Summary       string         `json:"x-ms-summary"`
	Visibility    api.Visibility `json:"x-ms-visibility,omitempty"`
	DynamicValues *dynamicValues `json:"x-ms-dynamic-values,omitempty"`
	Schema        *schema        `json:"schema,omitempty"`
}

// dynamicValues is x-ms-dynamic-values: the action that lists a
// parameter's values, as Power Platform's designer offers them.
type dynamicValues struct {
	OperationID string `json:"operationId"`
	Collection  string `json:"value-collection"`
	ValuePath   string `json:"value-path"`
	ValueTitle  string `json:"value-title"`
}

type response struct {
	Description string            `json:"description"`
	Schema      *schema           `json:"schema,omitempty"`
	Headers     map[string]header `json:"headers,omitempty"`
}

type header struct {
	Type        string         `json:"type"`
	Description string         `json:"description"`
	Summary     string         `json:"x-ms-summary,omitempty"`
	Visibility  api.Visibility `json:"x-ms-visibility,omitempty"`
}

type schema struct {
	Ref         string             `json:"$ref,omitempty"`
	Type        string             `json:"type,omitempty"`
	Description string             `json:"description,omitempty"`
	Summary     string             `json:"x-ms-summary,omitempty"`
	Visibility  api.Visibility     `json:"x-ms-visibility,omitempty"`
	Enum        []string           `json:"enum,omitempty"`
	Items       *schema            `json:"items,omitempty"`
	Required    []string           `json:"required,omitempty"`
	Properties  map[string]*schema `json:"properties,omitempty"`
}

type securityScheme struct {
	Type             string            `json:"type"`
	Flow             string            `json:"flow"`
	AuthorizationURL string            `json:"authorizationUrl"`
	TokenURL         string            `json:"tokenUrl"`
	Scopes           map[string]string `json:"scopes"`
}

type metadata struct {
	Name  string `json:"propertyName"`
	Value string `json:"propertyValue"`
}

// securityName names the one security scheme.
const securityName = "oauth2_auth"

func definition(c Config, baseScopes []string, routes []api.Route) swagger {
	login := DefaultLoginURI + "/" + c.TenantID + "/oauth2/"
	scopes := map[string]string{}
	for _, s := range c.Scopes {
		scopes[s] = scopeDescription(s)
	}
	d := swagger{
		Swagger: "2.0",
		Info: info{
			Title: c.Title, Description: c.Description, Version: "1.0",
			Contact: contact{Name: c.Publisher, URL: c.Website},
		},
		Host:        c.Host,
		BasePath:    api.RoutePrefix,
		Schemes:     []string{"https"},
		Consumes:    []string{"application/json"},
		Produces:    []string{"application/json"},
		Paths:       map[string]map[string]op{},
		Definitions: map[string]*schema{},
		SecurityDefinitions: map[string]securityScheme{securityName: {
			Type: "oauth2", Flow: "accessCode",
			AuthorizationURL: login + "authorize", TokenURL: login + "token",
			Scopes: scopes,
		}},
		Security: []map[string][]string{{securityName: baseScopes}},
		Tags:     []struct{}{},
		Metadata: []metadata{
			{"Website", c.Website},
			{"Privacy policy", c.PrivacyPolicy},
			{"Categories", strings.Join(c.Categories, ";")},
		},
	}
	for _, rt := range routes {
		for _, a := range rt.Actions {
			addOperation(&d, rt, a, baseScopes)
		}
	}
	if slices.ContainsFunc(api.Actions(routes), func(a api.Action) bool { return len(a.Errors) > 0 }) {
		p := api.ProblemObject()
		d.Definitions[p.Name] = objectSchema(p)
	}
	return d
}

// addOperation writes action a of route rt into d: its operation, and the
// definitions of its body and response.
func addOperation(d *swagger, rt api.Route, a api.Action, baseScopes []string) {
	o := op{
		OperationID: a.OperationID,
		Summary:     a.Summary,
		Description: a.Description,
		Visibility:  a.Visibility,
		Produces:    []string{},
		Parameters:  []parameter{},
		Responses:   map[string]response{},
	}
	if ct := a.Response.ContentType; ct != "" {
		o.Produces = append(o.Produces, ct)
	}
	for _, p := range a.Params {
		o.Parameters = append(o.Parameters, nonBodyParameter(p))
	}
	if a.Body != nil {
		// Power Platform sends a body as application/json, an update as
		// much as a create: an API that also takes a merge patch's own
		// media type still lists only this one.
		o.Consumes = []string{"application/json"}
		o.Parameters = append(o.Parameters, parameter{
			Name: "body", In: "body", Required: true,
			Description: a.Body.Description, Summary: "Request",
			Visibility: api.VisibilityImportant,
			Schema:     &schema{Ref: ref(a.Body.Name)},
		})
		addDefinition(d, a.Body)
	}
	ok := response{Description: a.Response.Description}
	switch r := a.Response; {
	case r.Text != nil:
		ok.Schema = &schema{Type: "string", Summary: r.Text.Title, Description: r.Text.Description}
	case r.Object != nil:
		ok.Schema = &schema{Ref: ref(r.Object.Name)}
		addDefinition(d, r.Object)
	}
	for _, h := range a.Response.Headers {
		if ok.Headers == nil {
			ok.Headers = map[string]header{}
		}
		ok.Headers[h.Name] = header{Type: h.Type, Description: h.Description, Summary: h.Title, Visibility: h.Visibility}
	}
	if a.Response.NextLink != "" {
		o.Pageable = &pageable{NextLinkName: a.Response.NextLink}
	}
	o.Responses[strconv.Itoa(successStatus(a))] = ok
	if len(a.Errors) > 0 {
		o.Produces = append(o.Produces, "application/problem+json")
	}
	for _, status := range a.Errors {
		r := response{Description: api.ErrorDescription(status), Schema: &schema{Ref: ref(api.ProblemObject().Name)}}
		switch status {
		case http.StatusUnauthorized:
			r.Headers = map[string]header{"WWW-Authenticate": {Type: "string", Description: "The Bearer challenge, with the error when a token was sent (RFC 6750)."}}
		case http.StatusForbidden:
			r.Headers = map[string]header{"WWW-Authenticate": {Type: "string", Description: "On a missing scope, the Bearer challenge with error insufficient_scope (RFC 6750)."}}
		case http.StatusServiceUnavailable:
			r.Headers = map[string]header{"Retry-After": {Type: "integer", Description: "Seconds to wait before retrying."}}
		}
		o.Responses[strconv.Itoa(status)] = r
	}
	if own := routeScopes(baseScopes, rt.Scopes); len(own) > len(baseScopes) {
		o.Security = []map[string][]string{{securityName: own}}
	}
	path := strings.TrimPrefix(rt.PathOf(a), api.RoutePrefix)
	if d.Paths[path] == nil {
		d.Paths[path] = map[string]op{}
	}
	d.Paths[path][strings.ToLower(a.Method)] = o
}

// successStatus is the status a's call answers when it succeeds.
func successStatus(a api.Action) int { return cmp.Or(a.Response.Status, http.StatusOK) }

// nonBodyParameter is a path, query or header parameter.
func nonBodyParameter(p api.Param) parameter {
	out := parameter{
		Name: p.Name, In: p.In, Required: p.Required, Type: p.Type, Enum: p.Enum,
		Description: p.Description, Summary: p.Title, Visibility: p.Visibility,
	}
	if p.Type == "array" {
		out.Items = &schema{Type: p.Items}
	}
	if v := p.Values; v != nil {
		out.DynamicValues = &dynamicValues{OperationID: v.OperationID, Collection: v.Collection, ValuePath: v.Value, ValueTitle: v.Title}
	}
	return out
}

// addDefinition writes o, and the objects it holds, into d's definitions.
// checkDefinitions has made sure that one name is one object.
func addDefinition(d *swagger, o *api.Object) {
	if _, done := d.Definitions[o.Name]; done {
		return
	}
	d.Definitions[o.Name] = objectSchema(o)
	for _, f := range o.Fields {
		if f.Object != nil {
			addDefinition(d, f.Object)
		}
	}
}

func ref(name string) string { return "#/definitions/" + name }

// routeScopes are the scopes a route requires: the API's, then its own.
func routeScopes(base, route []string) []string {
	out := slices.Clone(base)
	for _, s := range route {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func scopeDescription(s string) string {
	return "Call the API as the signed-in user (" + s + ")."
}

func objectSchema(o *api.Object) *schema {
	s := &schema{Type: "object", Description: o.Description, Properties: map[string]*schema{}}
	for _, f := range o.Fields {
		p := &schema{Type: f.Type, Description: f.Description, Summary: f.Title, Visibility: f.Visibility, Enum: f.Enum}
		switch {
		case f.Type == "object" && f.Object != nil:
			// A reference alone: Swagger 2.0 ignores whatever stands
			// beside a $ref (Spectral's no-$ref-siblings refuses it), so
			// the member's text is its definition's.
			p = &schema{Ref: ref(f.Object.Name)}
		case f.Type == "array" && f.Object != nil:
			p.Items = &schema{Ref: ref(f.Object.Name)}
		case f.Type == "array":
			p.Items = &schema{Type: f.Items}
		}
		s.Properties[f.Name] = p
		if f.Required {
			s.Required = append(s.Required, f.Name)
		}
	}
	return s
}

// The connection's properties (apiProperties.json).
type apiProperties struct {
	Properties struct {
		ConnectionParameters map[string]any `json:"connectionParameters"`
		IconBrandColor       string         `json:"iconBrandColor"`
		Capabilities         []string       `json:"capabilities"`
		Publisher            string         `json:"publisher"`
		// Policies are the connector's policy template instances:
		// updatenextlink for each pageable action.
		Policies []policy `json:"policyTemplateInstances,omitempty"`
	} `json:"properties"`
}

// policy is a policy template instance of apiProperties.json.
type policy struct {
	TemplateID string         `json:"templateId"`
	Title      string         `json:"title"`
	Parameters map[string]any `json:"parameters"`
}

// nextLinkPolicies are the updatenextlink instances for the pageable
// actions, one per next-link member name. Microsoft's connector schema
// asks for it beside x-ms-pageable "to enable the correct routing of this
// link": Power Platform then calls the next page through the connector,
// with the connection's token, rather than at the link as the API wrote
// it (docs/connector.md says what is known of it).
func nextLinkPolicies(routes []api.Route) []policy {
	var out []policy
	byName := map[string]int{}
	for _, a := range api.Actions(routes) {
		name := a.Response.NextLink
		if name == "" {
			continue
		}
		i, ok := byName[name]
		if !ok {
			i = len(out)
			byName[name] = i
			out = append(out, policy{
				TemplateID: "updatenextlink",
				Title:      "Route the " + name + " of a page through the connector",
				Parameters: map[string]any{
					"x-ms-apimTemplate-operationName":                 []string{},
					"x-ms-apimTemplateParameter.nextLinkPropertyName": name,
				},
			})
		}
		ops := out[i].Parameters["x-ms-apimTemplate-operationName"].([]string)
		out[i].Parameters["x-ms-apimTemplate-operationName"] = append(ops, a.OperationID)
	}
	return out
}

type oauthToken struct {
	Type          string        `json:"type"`
	OAuthSettings oauthSettings `json:"oAuthSettings"`
}

type oauthSettings struct {
	IdentityProvider string   `json:"identityProvider"`
	ClientID         string   `json:"clientId"`
	Scopes           []string `json:"scopes"`
	// RedirectMode GlobalPerConnector gives each connector its own
	// redirect URL, which the service fills in (no redirectUrl here).
	RedirectMode     string           `json:"redirectMode"`
	Properties       oauthProperties  `json:"properties"`
	CustomParameters map[string]value `json:"customParameters"`
}

type oauthProperties struct {
	IsFirstParty                   string `json:"IsFirstParty"`
	AzureActiveDirectoryResourceID string `json:"AzureActiveDirectoryResourceId"`
}

type value struct {
	Value string `json:"value"`
}

func properties(c Config, routes []api.Route) apiProperties {
	var p apiProperties
	p.Properties.ConnectionParameters = map[string]any{
		"token": oauthToken{
			Type: "oauthSetting",
			OAuthSettings: oauthSettings{
				IdentityProvider: "aad",
				ClientID:         c.ClientID,
				Scopes:           c.Scopes,
				RedirectMode:     "GlobalPerConnector",
				Properties:       oauthProperties{IsFirstParty: "False", AzureActiveDirectoryResourceID: c.Resource},
				CustomParameters: map[string]value{
					"loginUri":    {DefaultLoginURI},
					"tenantId":    {c.TenantID},
					"resourceUri": {c.Resource},
					// On-behalf-of login sends the API a token that the
					// connector runtime obtained for it; see
					// docs/connector.md before turning it on.
					"enableOnbehalfOfLogin": {"false"},
				},
			},
		},
		// The tenant of the signed-in user, which the service fills in.
		"token:TenantId": map[string]any{
			"type":         "string",
			"metadata":     map[string]string{"sourceType": "AzureActiveDirectoryTenant"},
			"uiDefinition": map[string]any{"constraints": map[string]string{"required": "false", "hidden": "true"}},
		},
	}
	p.Properties.IconBrandColor = c.BrandColor
	p.Properties.Capabilities = []string{}
	p.Properties.Publisher = c.Publisher
	p.Properties.Policies = nextLinkPolicies(routes)
	return p
}

// The paconn argument file (settings.json).
type paconnSettings struct {
	Environment         string `json:"environment,omitempty"`
	APIProperties       string `json:"apiProperties"`
	APIDefinition       string `json:"apiDefinition"`
	PowerAppsURL        string `json:"powerAppsUrl"`
	PowerAppsAPIVersion string `json:"powerAppsApiVersion"`
	FlowURL             string `json:"flowUrl"`
	FlowAPIVersion      string `json:"flowApiVersion"`
}

func settings(c Config) paconnSettings {
	return paconnSettings{
		Environment:         c.Environment,
		APIProperties:       APIPropertiesFile,
		APIDefinition:       APIDefinitionFile,
		PowerAppsURL:        "https://api.powerapps.com",
		PowerAppsAPIVersion: "2016-11-01",
		FlowURL:             "https://api.flow.microsoft.com",
		FlowAPIVersion:      "2016-11-01",
	}
}

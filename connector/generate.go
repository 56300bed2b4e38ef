package connector

import (
	"bytes"
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
		{APIPropertiesFile, properties(cfg)},
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

// checkAction refuses a route whose action the definition cannot carry.
// api's tests hold the text rules; this catches what would break the
// output itself.
func checkAction(rt api.Route) []error {
	a := rt.Action
	var errs []error
	bad := func(format string, v ...any) {
		errs = append(errs, invalid("route "+rt.Function+": "+fmt.Sprintf(format, v...)))
	}
	if a.OperationID == "" || a.Summary == "" || a.Description == "" {
		bad("no connector action (OperationID, Summary and Description are required)")
	}
	if !slices.Contains(rt.Methods, a.Method) {
		bad("action method %q is not served", a.Method)
	}
	if (a.Response.Text == nil) == (a.Response.Object == nil) {
		bad("the response must be text or an object")
	}
	for _, o := range []*api.Object{a.Body, a.Response.Object} {
		if o == nil {
			continue
		}
		for _, f := range o.Fields {
			if f.Description == "" || f.Title == "" {
				bad("%s.%s has no Title or Description", o.Name, f.Name)
			}
		}
	}
	return errs
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
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description"`
	Visibility  api.Visibility        `json:"x-ms-visibility"`
	Consumes    []string              `json:"consumes,omitempty"`
	Produces    []string              `json:"produces"`
	Parameters  []parameter           `json:"parameters"`
	Responses   map[string]response   `json:"responses"`
	Security    []map[string][]string `json:"security,omitempty"`
}

type parameter struct {
	Name        string         `json:"name"`
	In          string         `json:"in"`
	Required    bool           `json:"required"`
	Description string         `json:"description"`
	Summary     string         `json:"x-ms-summary"`
	Visibility  api.Visibility `json:"x-ms-visibility"`
	Schema      *schema        `json:"schema"`
}

type response struct {
	Description string            `json:"description"`
	Schema      *schema           `json:"schema,omitempty"`
	Headers     map[string]header `json:"headers,omitempty"`
}

type header struct {
	Type        string `json:"type"`
	Description string `json:"description"`
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
	needProblem := false
	for _, rt := range routes {
		a := rt.Action
		o := op{
			OperationID: a.OperationID,
			Summary:     a.Summary,
			Description: a.Description,
			Visibility:  a.Visibility,
			Produces:    []string{a.Response.ContentType},
			Parameters:  []parameter{},
			Responses:   map[string]response{},
		}
		if a.Body != nil {
			o.Consumes = []string{"application/json"}
			o.Parameters = append(o.Parameters, parameter{
				Name: "body", In: "body", Required: true,
				Description: a.Body.Description, Summary: "Request",
				Visibility: api.VisibilityImportant,
				Schema:     &schema{Ref: ref(a.Body.Name)},
			})
			d.Definitions[a.Body.Name] = objectSchema(a.Body)
		}
		ok := response{Description: a.Response.Description}
		if t := a.Response.Text; t != nil {
			ok.Schema = &schema{Type: "string", Summary: t.Title, Description: t.Description}
		} else {
			ok.Schema = &schema{Ref: ref(a.Response.Object.Name)}
			d.Definitions[a.Response.Object.Name] = objectSchema(a.Response.Object)
		}
		o.Responses["200"] = ok
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
			needProblem = true
		}
		if own := routeScopes(baseScopes, rt.Scopes); len(own) > len(baseScopes) {
			o.Security = []map[string][]string{{securityName: own}}
		}
		d.Paths["/"+rt.Function] = map[string]op{strings.ToLower(a.Method): o}
	}
	if needProblem {
		p := api.ProblemObject()
		d.Definitions[p.Name] = objectSchema(p)
	}
	return d
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
		if f.Type == "array" {
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
	} `json:"properties"`
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

func properties(c Config) apiProperties {
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

package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/entrafunc/entrafunc/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenConfig is the fixed input of the golden files.
var goldenConfig = Config{
	Host:     "hello-fn.azurewebsites.net",
	ClientID: "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b",
	Resource: "api://hello-fn",
}

func TestGenerateGolden(t *testing.T) {
	// The files for fixed inputs, byte for byte. After an intended change:
	// go test ./connector -run Golden -update, and read the diff.
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"default", goldenConfig},
		{"custom", Config{
			Host: "contoso-hello.azurewebsites.net", ClientID: "a1b2c3d4-0000-4000-8000-000000000001",
			Resource: "a1b2c3d4-0000-4000-8000-0000000000aa", TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
			Title: "Contoso Greetings", Name: "contoso-greetings", Scopes: []string{"access_as_user"},
			Website: "https://contoso.example", PrivacyPolicy: "https://contoso.example/privacy",
			Categories: []string{"IT Operations", "Productivity"}, Publisher: "Contoso Ltd", BrandColor: "#1f6feb",
			Environment: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
			Audiences:   []string{"a1b2c3d4-0000-4000-8000-0000000000aa", "api://contoso-hello"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Generate(tc.cfg, api.Routes())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				golden := filepath.Join("testdata", tc.name, f.Name)
				if *update {
					os.MkdirAll(filepath.Dir(golden), 0o755)
					if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(f.Data, want) {
					t.Errorf("%s differs from %s; rerun with -update if intended.\ngot:\n%s", f.Name, golden, f.Data)
				}
			}
		})
	}
}

func TestGenerateFiles(t *testing.T) {
	files, err := Generate(goldenConfig, api.Routes())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		if !utf8.Valid(f.Data) || bytes.HasPrefix(f.Data, []byte("\xef\xbb\xbf")) || !json.Valid(f.Data) {
			t.Errorf("%s: want UTF-8 JSON without a byte order mark", f.Name)
		}
		if !bytes.HasSuffix(f.Data, []byte("}\n")) || bytes.Contains(f.Data, []byte(" \n")) || bytes.Contains(f.Data, []byte("\t")) {
			t.Errorf("%s: want a final newline, no trailing spaces and no tabs", f.Name)
		}
		if bytes.Contains(bytes.ToLower(f.Data), []byte("secret")) {
			t.Errorf("%s mentions a secret; the files never hold one", f.Name)
		}
	}
	want := []string{APIDefinitionFile, APIPropertiesFile, "HelloFunction.postman_collection.json", SettingsFile}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", names, want)
	}
}

func TestEveryRouteIsAnAction(t *testing.T) {
	// Adding a route with its action adds the operation: the definition's
	// operations are exactly the actions, and the collection has one
	// request per action.
	extra := api.Route{Function: "Echo", Methods: []string{"GET"}, Scopes: []string{"Echo.Read"},
		Actions: []api.Action{{Method: "GET", OperationID: "Echo", Summary: "Echo", Description: "Echoes.", Visibility: api.VisibilityInternal,
			Response: api.Response{Description: "The echo.", ContentType: "text/plain", Text: &api.Field{Title: "Echo", Description: "The echo."}}}}}
	routes := append(api.Routes(), extra)
	files, err := Generate(goldenConfig, routes)
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		Paths map[string]map[string]struct {
			OperationID string                `json:"operationId"`
			Security    []map[string][]string `json:"security"`
		} `json:"paths"`
		SecurityDefinitions map[string]struct {
			Scopes map[string]string `json:"scopes"`
		} `json:"securityDefinitions"`
	}
	var col struct {
		Item []struct {
			Request struct {
				Method string `json:"method"`
				URL    struct {
					Raw string `json:"raw"`
				} `json:"url"`
			} `json:"request"`
		} `json:"item"`
	}
	var props struct {
		Properties struct {
			ConnectionParameters struct {
				Token struct {
					OAuthSettings struct {
						Scopes []string `json:"scopes"`
					} `json:"oAuthSettings"`
				} `json:"token"`
			} `json:"connectionParameters"`
		} `json:"properties"`
	}
	for i, v := range []any{&def, &props, &col} {
		if err := json.Unmarshal(files[i].Data, v); err != nil {
			t.Fatalf("%s: %v", files[i].Name, err)
		}
	}
	actions := api.Actions(routes)
	ops := 0
	for _, methods := range def.Paths {
		ops += len(methods)
	}
	if ops != len(actions) {
		t.Fatalf("%d operations for %d actions", ops, len(actions))
	}
	for _, a := range actions {
		m := def.Paths[strings.TrimPrefix(a.Path, api.RoutePrefix)][strings.ToLower(a.Method)]
		if m.OperationID != a.OperationID {
			t.Errorf("%s: operationId %q, want %q", a.Path, m.OperationID, a.OperationID)
		}
	}
	// Every action is called, and a route without a path parameter is
	// called once per action, in order: Hello, Me, then (after the
	// Tasks) Echo.
	var calls []string
	for _, it := range col.Item {
		calls = append(calls, it.Request.Method+" "+it.Request.URL.Raw)
	}
	for _, a := range actions {
		call := a.Method + " {{baseUrl}}" + strings.ReplaceAll(a.Path, "{id}", "{{tasksId}}")
		if !slices.Contains(calls, call) {
			t.Errorf("%s: the collection never calls %s", a.OperationID, call)
		}
	}
	if n := len(calls); n < 3 || calls[0] != "POST {{baseUrl}}/api/Hello" || calls[1] != "GET {{baseUrl}}/api/Me" || calls[n-1] != "GET {{baseUrl}}/api/Echo" {
		t.Errorf("calls %v: want Hello and Me first, and Echo last", calls)
	}
	// A route's own scope is required on its operation, and declared.
	if sec := def.Paths["/Echo"]["get"].Security; len(sec) != 1 || strings.Join(sec[0][securityName], " ") != "user_impersonation Echo.Read" {
		t.Errorf("Echo security = %v", sec)
	}
	if _, ok := def.SecurityDefinitions[securityName].Scopes["Echo.Read"]; !ok {
		t.Errorf("Echo.Read is not among the declared scopes")
	}
	// One connection token serves every action: the connection asks for
	// every scope an operation requires, and the definition declares them.
	asked := props.Properties.ConnectionParameters.Token.OAuthSettings.Scopes
	declared := slices.Sorted(maps.Keys(def.SecurityDefinitions[securityName].Scopes))
	if strings.Join(asked, " ") != "user_impersonation Echo.Read" || !slices.Equal(slices.Sorted(slices.Values(asked)), declared) {
		t.Errorf("the connection asks for %v, the definition declares %v", asked, declared)
	}
	if def.Paths["/Hello"]["post"].Security != nil {
		t.Errorf("Hello has its own security, but needs only the API's scopes")
	}
}

func TestGenerateRefusesIncompleteActions(t *testing.T) {
	routes := append(api.Routes(), api.Route{Function: "Bare", Methods: []string{"GET"}})
	_, err := Generate(goldenConfig, routes)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "route Bare") {
		t.Errorf("err = %v, want ErrInvalidConfig naming route Bare", err)
	}
}

func TestProperties(t *testing.T) {
	files, err := Generate(goldenConfig, api.Routes())
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Properties struct {
			ConnectionParameters struct {
				Token struct {
					Type          string `json:"type"`
					OAuthSettings struct {
						IdentityProvider string   `json:"identityProvider"`
						ClientID         string   `json:"clientId"`
						ClientSecret     *string  `json:"clientSecret"`
						Scopes           []string `json:"scopes"`
						RedirectMode     string   `json:"redirectMode"`
						Properties       struct {
							IsFirstParty string `json:"IsFirstParty"`
							Resource     string `json:"AzureActiveDirectoryResourceId"`
						} `json:"properties"`
						CustomParameters map[string]struct {
							Value string `json:"value"`
						} `json:"customParameters"`
					} `json:"oAuthSettings"`
				} `json:"token"`
			} `json:"connectionParameters"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(files[1].Data, &p); err != nil {
		t.Fatal(err)
	}
	o := p.Properties.ConnectionParameters.Token.OAuthSettings
	cp := o.CustomParameters
	for _, c := range []struct{ what, got, want string }{
		{"identityProvider", o.IdentityProvider, "aad"},
		{"clientId", o.ClientID, goldenConfig.ClientID},
		{"redirectMode", o.RedirectMode, "GlobalPerConnector"},
		{"IsFirstParty", o.Properties.IsFirstParty, "False"},
		{"AzureActiveDirectoryResourceId", o.Properties.Resource, goldenConfig.Resource},
		{"resourceUri", cp["resourceUri"].Value, goldenConfig.Resource},
		{"tenantId", cp["tenantId"].Value, "common"},
		{"loginUri", cp["loginUri"].Value, DefaultLoginURI},
		{"enableOnbehalfOfLogin", cp["enableOnbehalfOfLogin"].Value, "false"},
		{"scopes", strings.Join(o.Scopes, " "), "user_impersonation"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if o.ClientSecret != nil {
		t.Errorf("clientSecret is present")
	}
}

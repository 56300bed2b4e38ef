package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// itemsRoute is a resource route: a collection and its items, the shape
// of function.json's "items/{id?}".
func itemsRoute() Route {
	return Route{
		Function: "Items",
		Template: "items/{id?}",
		Methods:  []string{http.MethodGet, http.MethodPost, http.MethodDelete},
		Handler: func(Deps) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.Method+" id="+r.PathValue("id"))
			})
		},
	}
}

func TestRoutePaths(t *testing.T) {
	tests := []struct {
		rt     Route
		paths  []string
		params []string
	}{
		{Route{Function: "Hello"}, []string{"/api/Hello"}, nil},
		{Route{Function: "Items", Template: "items/{id?}"}, []string{"/api/items", "/api/items/{id}"}, []string{"id"}},
		{Route{Function: "Items", Template: "items/{id}"}, []string{"/api/items/{id}"}, []string{"id"}},
		{Route{Function: "X", Template: "a/b"}, []string{"/api/a/b"}, nil},
	}
	for _, tt := range tests {
		if got := tt.rt.Paths(); !slices.Equal(got, tt.paths) {
			t.Errorf("%s %q: Paths() = %q, want %q", tt.rt.Function, tt.rt.Template, got, tt.paths)
		}
		if got := tt.rt.Params(); !slices.Equal(got, tt.params) {
			t.Errorf("%s %q: Params() = %q, want %q", tt.rt.Function, tt.rt.Template, got, tt.params)
		}
	}
}

// TestTemplateRoutes: the literal segments match in any ASCII case, the
// parameter keeps the client's spelling, a path the template cannot
// produce is a 404, and a 405 on an item names the route's methods.
func TestTemplateRoutes(t *testing.T) {
	routes := append(Routes(), itemsRoute())
	esc := func(p string) string { return (&url.URL{Path: p}).EscapedPath() }
	tests := []struct {
		name, method, target string
		status               int
		body, allow          string
	}{
		{"the collection", "GET", "/api/items", 200, "GET id=", ""},
		{"the collection in other case", "GET", "/API/ITEMS", 200, "GET id=", ""},
		{"an item keeps its case", "GET", "/api/items/AbC-x_9", 200, "GET id=AbC-x_9", ""},
		{"the literals fold, the id does not", "DELETE", "/Api/Items/MiXeD", 200, "DELETE id=MiXeD", ""},
		{"an escaped quote", "GET", "/api/items/" + url.PathEscape("a'b"), 200, "GET id=a'b", ""},
		{"an escaped hash", "GET", "/api/items/" + url.PathEscape("a#b"), 200, "GET id=a#b", ""},
		{"an escaped slash is two segments", "GET", "/api/items/a%2Fb", 404, "", ""},
		{"a second segment", "GET", "/api/items/a/b", 404, "", ""},
		{"capital dotted I in the literal", "GET", esc("/api/İtems/x"), 404, "", ""},
		{"KELVIN SIGN for the literal's k", "GET", esc("/api/items/\u212A"), 200, "GET id=\u212A", ""},
		{"KELVIN SIGN in a literal", "GET", esc("/api/ite\u212Ams"), 404, "", ""},
		{"a method the route lacks, on an item", "PATCH", "/api/items/x", 405, "", "GET, POST, DELETE"},
		{"a method the route lacks, on the collection", "PUT", "/API/items", 405, "", "GET, POST, DELETE"},
		{"the function's name is not its path", "GET", "/api/Items2", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Routes = routes })
			w := f.do(t, req{method: tt.method, target: tt.target, token: goodToken})
			if w.Code != tt.status {
				t.Fatalf("%s %s = %d, want %d: %s", tt.method, tt.target, w.Code, tt.status, w.Body)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body %q, want %q", w.Body, tt.body)
			}
			if got := w.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

// TestInvocationParams: through the host's invocation payload, the route's
// values come from Data.req.Params, as the host matched them.
func TestInvocationParams(t *testing.T) {
	routes := append(Routes(), itemsRoute())
	tests := []struct {
		name, params, want string
		status             string
	}{
		{"an item", `{"id":"AbC"}`, "GET id=AbC", "200"},
		{"no params", `{}`, "GET id=", "200"},
		{"absent", ``, "GET id=", "200"},
		{"not strings", `{"id":1}`, "", "400"},
		{"not an object", `"id"`, "", "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Routes = routes })
			req := map[string]any{"Url": "http://h/api/items/AbC", "Method": "GET", "Headers": map[string][]string{"Authorization": {"Bearer " + goodToken}}}
			if tt.params != "" {
				req["Params"] = json.RawMessage(tt.params)
			}
			b, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": req}})
			w := f.do(t, reqInvoke("/Items", string(b)))
			if tt.status == "400" {
				if w.Code != 400 {
					t.Fatalf("%d %s, want 400", w.Code, w.Body)
				}
				return
			}
			var out struct{ Outputs map[string]httpOutput }
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if got := out.Outputs["res"]; got.StatusCode != tt.status || got.Body != tt.want {
				t.Errorf("%s %q, want %s %q", got.StatusCode, got.Body, tt.status, tt.want)
			}
		})
	}
}

func reqInvoke(path, body string) req {
	return req{method: http.MethodPost, target: path, ctype: "application/json", body: strings.NewReader(body)}
}

package api

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/tasks"
	"github.com/entrafunc/entrafunc/tasks/taskstest"
)

func TestRoutes(t *testing.T) {
	known := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions}
	routes := Routes()
	if len(routes) == 0 {
		t.Fatal("no routes")
	}
	paths := map[string]string{}
	for _, rt := range routes {
		t.Run(rt.Function, func(t *testing.T) {
			if rt.Function == "" || strings.ContainsAny(rt.Function, "/?#{} ") {
				t.Errorf("bad Function %q", rt.Function)
			}
			if len(rt.Methods) == 0 {
				t.Errorf("no methods")
			}
			for i, m := range rt.Methods {
				if !slices.Contains(known, m) {
					t.Errorf("method %q is not an upper-case HTTP method", m)
				}
				if slices.Contains(rt.Methods[:i], m) {
					t.Errorf("method %q repeats", m)
				}
			}
			if rt.Handler == nil {
				t.Errorf("no Handler")
			}
			if got, want := rt.Path(), "/api/"+cmp.Or(strings.TrimSuffix(rt.Template, "/{id?}"), rt.Function); got != want {
				t.Errorf("Path() = %q, want %q", got, want)
			}
			key := strings.ToLower(rt.Path())
			if other, ok := paths[key]; ok {
				t.Errorf("path %q collides with %q", rt.Path(), other)
			}
			paths[key] = rt.Path()
		})
	}
}

func TestRoutesDeclaresTheFunctions(t *testing.T) {
	want := map[string][]string{
		"Hello": {http.MethodGet, http.MethodPost},
		"Me":    {http.MethodGet},
	}
	got := map[string][]string{}
	for _, rt := range Routes() {
		got[rt.Function] = rt.Methods
	}
	for fn, methods := range want {
		if !slices.Equal(got[fn], methods) {
			t.Errorf("%s methods = %v, want %v", fn, got[fn], methods)
		}
	}
}

func TestRoutesAreServed(t *testing.T) {
	// Every declared function and method answers through NewServer, at
	// its paths and in any case of their literals: a route without a
	// template with 200, a resource route from its own handler (not the
	// router's 404 or 405; TestActionExamplesHold checks its answers).
	// Every other method gets 405 naming the route's methods.
	f := newFixture(t, func(o *Options) { o.Tasks = tasks.NewService(taskstest.NewMemory(), tasks.Options{}) })
	for _, rt := range Routes() {
		var paths []string
		for _, p := range rt.Paths() {
			lit, param, _ := strings.Cut(p, "{id}")
			if strings.Contains(p, "{id}") {
				param = "Some-Id"
			}
			paths = append(paths, lit+param, strings.ToLower(lit)+param, strings.ToUpper(lit)+param)
		}
		for _, path := range paths {
			for _, m := range rt.Methods {
				w := f.do(t, req{method: m, target: path, token: goodToken, ctype: "application/json", body: strings.NewReader(`{"title":"x"}`)})
				switch {
				case rt.Template == "" && w.Code != http.StatusOK:
					t.Errorf("%s %s = %d, want 200; body %s", m, path, w.Code, w.Body.String())
				case strings.Contains(w.Body.String(), "There is no function"):
					t.Errorf("%s %s = %d from the router: %s", m, path, w.Code, w.Body.String())
				}
			}
			for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
				if slices.Contains(rt.Methods, m) {
					continue
				}
				w := f.do(t, req{method: m, target: path, token: goodToken})
				if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != strings.Join(rt.Methods, ", ") {
					t.Errorf("%s %s = %d Allow %q, want 405 Allow %q", m, path, w.Code, w.Header().Get("Allow"), strings.Join(rt.Methods, ", "))
				}
			}
		}
	}
}

func TestRoutePath(t *testing.T) {
	for _, fn := range []string{"Hello", "x", "Some_Function-2"} {
		if got := (Route{Function: fn}).Path(); got != RoutePrefix+"/"+fn || !strings.HasPrefix(got, "/api/") {
			t.Errorf("Path() of %q = %q", fn, got)
		}
	}
}

// TestRoutesFoldASCIIOnly: a path reaches a function only if the host
// would route it there, matching the route prefix and the function name
// in any ASCII letter case and no other folding. Go's Unicode folding
// lowered U+0130 to i and KELVIN SIGN to k, so "/apİ/Hello" reached Hello
// here, where the host's ordinal ignore-case comparison matches nothing.
// Kiosk and Signin give the function names an i, a k and an s to fold.
func TestRoutesFoldASCIIOnly(t *testing.T) {
	routes := append(Routes(),
		Route{Function: "Kiosk", Methods: []string{http.MethodGet}, Handler: func(Deps) http.Handler { return handleHello() }},
		Route{Function: "Signin", Methods: []string{http.MethodGet}, Handler: func(Deps) http.Handler { return handleHello() }},
	)
	esc := func(p string) string { return (&url.URL{Path: p}).EscapedPath() }
	invocation := `{"Data":{"req":{"Url":"http://h/api/Kiosk","Method":"GET","Headers":{"Authorization":["Bearer ` + goodToken + `"]}}}}`
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"the route", "GET", "/api/Hello", 200},
		{"the route in other ASCII case", "GET", "/API/hELLO", 200},
		{"a name with i, k and s in ASCII case", "GET", "/api/KIOSK", 200},
		{"a name with i and s in ASCII case", "GET", "/api/sIGNIN", 200},
		{"the invocation endpoint in ASCII case", "POST", "/KIOSK", 200},

		{"capital dotted I in the prefix", "GET", "/apİ/Hello", 404},
		{"capital dotted I in the prefix, upper case", "GET", "/APİ/Me", 404},
		{"capital dotted I in a name", "GET", "/api/Kİosk", 404},
		{"capital dotted I in another name", "GET", "/api/Sİgnİn", 404},
		{"KELVIN SIGN for K", "GET", "/api/\u212Aiosk", 404},
		{"KELVIN SIGN at the invocation endpoint", "POST", "/\u212Aiosk", 404},
		{"capital dotted I at the invocation endpoint", "POST", "/Kİosk", 404},
		{"capital dotted I, a method the route lacks", "DELETE", "/apİ/Hello", 404},
		{"dotless i", "GET", "/api/Kıosk", 404},
		{"LONG S for s", "GET", "/api/\u017Fignin", 404},
		{"LONG S for s, upper case", "GET", "/api/KIO\u017FK", 404},
		{"fullwidth letters", "GET", "/api/\uff28ello", 404},
		{"a zero-width space inside", "GET", "/api/Hel\u200blo", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Routes = routes })
			q := req{method: tt.method, target: esc(tt.path), token: goodToken}
			if tt.method == http.MethodPost {
				q = req{method: tt.method, target: esc(tt.path), ctype: "application/json", body: strings.NewReader(invocation)}
			}
			w := f.do(t, q)
			if w.Code != tt.status {
				t.Errorf("%s %q = %d, want %d: %s", tt.method, tt.path, w.Code, tt.status, w.Body.String())
			}
		})
	}
}

package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
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
			if got, want := rt.Path(), "/api/"+rt.Function; got != want {
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
	// Every declared function and method answers through NewServer, at its
	// Path() and in any case; every other method gets 405 naming them.
	f := newFixture(t, nil)
	for _, rt := range Routes() {
		for _, path := range []string{rt.Path(), strings.ToLower(rt.Path()), strings.ToUpper(rt.Path())} {
			for _, m := range rt.Methods {
				w := f.do(t, req{method: m, target: path, token: goodToken})
				if w.Code != http.StatusOK {
					t.Errorf("%s %s = %d, want 200; body %s", m, path, w.Code, w.Body.String())
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

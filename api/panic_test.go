package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func panicking(v any) func(Deps) http.Handler {
	return func(Deps) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(v) })
	}
}

func panicRoutes(v any) []Route {
	return append(Routes(), Route{
		Function: "Boom", Methods: []string{http.MethodGet},
		Handler: panicking(v),
	})
}

// typedNilError panics in Error on a nil receiver: logging the recovered
// value must not panic again.
type typedNilError struct{ msg string }

func (e *typedNilError) Error() string { return "typedNilError " + e.msg }

func TestPanicBecomes500(t *testing.T) {
	tests := []struct {
		name  string
		value any
		text  string // what the panic says, which the client must not see
	}{
		{"string", "secret panic text", "secret panic text"},
		{"error", errors.New("secret panic error"), "secret panic error"},
		{"typed nil error", error((*typedNilError)(nil)), "<nil>"}, // as slog writes it
		{"nil map write", nil, "assignment to entry in nil map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes := panicRoutes(tt.value)
			if tt.value == nil {
				routes[len(routes)-1].Handler = func(Deps) http.Handler {
					return http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
						var m map[string]int
						m["x"] = 1
					})
				}
			}
			f := newFixture(t, func(o *Options) { o.Routes = routes })
			w := f.do(t, req{method: http.MethodGet, target: "/api/Boom", token: goodToken})
			pb := checkProblem(t, w, http.StatusInternalServerError)
			if pb.Detail != "Internal error." {
				t.Errorf("detail = %q, want %q", pb.Detail, "Internal error.")
			}
			if strings.Contains(w.Body.String(), tt.text) || strings.Contains(w.Body.String(), "goroutine") {
				t.Errorf("the response leaks the panic: %s", w.Body.String())
			}

			var panicLine, requestLine map[string]any
			for _, l := range f.logLines(t) {
				switch l["msg"] {
				case "panic":
					if panicLine != nil {
						t.Errorf("more than one panic line")
					}
					panicLine = l
				case "request":
					if requestLine != nil {
						t.Errorf("more than one request line")
					}
					requestLine = l
				}
			}
			if panicLine == nil || requestLine == nil {
				t.Fatalf("want a panic line and a request line:\n%s", f.logs.String())
			}
			if panicLine["level"] != "ERROR" {
				t.Errorf("panic line level = %v, want ERROR", panicLine["level"])
			}
			if s, _ := panicLine["panic"].(string); !strings.Contains(s, tt.text) {
				t.Errorf("panic line does not record the panic %q: %v", tt.text, panicLine["panic"])
			}
			if requestLine["level"] != "ERROR" || requestLine["status"] != float64(500) {
				t.Errorf("request line level, status = %v, %v, want ERROR, 500", requestLine["level"], requestLine["status"])
			}
			if requestLine["request_id"] != pb.RequestID {
				t.Errorf("request_id %v differs from requestId %q", requestLine["request_id"], pb.RequestID)
			}

			// The server keeps serving.
			for range 2 {
				w = f.do(t, req{method: http.MethodGet, target: "/api/Hello?name=Marc", token: goodToken})
				checkText(t, w, hello("Marc"))
			}
		})
	}
}

func TestPanicAbortHandlerPropagates(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Routes = panicRoutes(http.ErrAbortHandler) })
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler", v)
			}
		}()
		f.do(t, req{method: http.MethodGet, target: "/api/Boom", token: goodToken})
		t.Errorf("ServeHTTP returned normally")
	}()
	if strings.Contains(f.logs.String(), `"msg":"panic"`) {
		t.Errorf("an aborted request was logged as a panic:\n%s", f.logs.String())
	}
	// And the next request is served.
	checkText(t, f.do(t, req{method: http.MethodGet, target: "/api/Hello", token: goodToken}), helloAnonymousT)
}

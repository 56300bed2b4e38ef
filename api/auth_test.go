package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/auth"
)

func TestAuthRefusals(t *testing.T) {
	type want struct {
		status    int
		challenge string // exact WWW-Authenticate; "" means absent
		prefix    bool   // challenge is only a prefix of the header
		code      string
		rule      string
		reason    string // the log line's reason
	}
	noCreds := want{status: 401, challenge: `Bearer realm="api"`, reason: "no_credentials"}
	invalidRequest := want{status: 400, challenge: `Bearer realm="api", error="invalid_request", error_description="`, prefix: true, code: "invalid_request", reason: "invalid_request"}
	tests := []struct {
		name    string
		query   string
		headers http.Header
		policy  *auth.Policy
		want    want
	}{
		{name: "no authorization header", want: noCreds},
		{name: "basic scheme", headers: http.Header{"Authorization": {"Basic xyz"}}, want: noCreds},
		{name: "bare token without scheme", headers: http.Header{"Authorization": {goodToken}}, want: noCreds},
		{name: "expired token", headers: http.Header{"Authorization": {"Bearer " + badToken}},
			want: want{status: 401, challenge: `Bearer realm="api", error="invalid_token", error_description="`, prefix: true, code: "invalid_token", reason: "expired"}},
		{name: "token in the query", query: "access_token=x", want: invalidRequest},
		{name: "token in the query besides a good header", query: "access_token=x", headers: http.Header{"Authorization": {"Bearer " + goodToken}}, want: invalidRequest},
		{name: "two authorization headers", headers: http.Header{"Authorization": {"Bearer " + goodToken, "Bearer " + goodToken}}, want: invalidRequest},
		{name: "empty bearer token", headers: http.Header{"Authorization": {"Bearer "}}, want: invalidRequest},
		{name: "malformed bearer token", headers: http.Header{"Authorization": {"Bearer a b\"c"}}, want: invalidRequest},
		{name: "missing scope", headers: http.Header{"Authorization": {"Bearer " + noScopeToken}},
			want: want{status: 403, challenge: `Bearer realm="api", error="insufficient_scope", scope="user_impersonation"`, code: "insufficient_scope", reason: "insufficient_scope"}},
		{name: "app-only token", headers: http.Header{"Authorization": {"Bearer " + appOnlyToken}},
			want: want{status: 403, challenge: `Bearer realm="api", error="insufficient_scope", scope="user_impersonation"`, code: "insufficient_scope", reason: "insufficient_scope"}},
		{name: "client app not allowed", headers: http.Header{"Authorization": {"Bearer " + goodToken}},
			policy: &auth.Policy{RequiredScopes: []string{requiredScope}, AllowedClientApps: []string{otherClientApp}},
			want:   want{status: 403, code: "forbidden", rule: "AUTH_ALLOWED_CLIENT_APPS", reason: "AUTH_ALLOWED_CLIENT_APPS"}},
		{name: "user not allowed", headers: http.Header{"Authorization": {"Bearer " + goodToken}},
			policy: &auth.Policy{RequiredScopes: []string{requiredScope}, AllowedUsers: []string{"someone-else"}},
			want:   want{status: 403, code: "forbidden", rule: "AUTH_ALLOWED_USERS", reason: "AUTH_ALLOWED_USERS"}},
		{name: "keys unavailable", headers: http.Header{"Authorization": {"Bearer " + keysToken}},
			want: want{status: 503, code: "keys_unavailable", reason: "keys_unavailable"}},
	}
	routes := []struct{ method, path string }{
		{http.MethodGet, "/api/Hello"},
		{http.MethodPost, "/api/Hello"},
		{http.MethodGet, "/api/Me"},
		{http.MethodGet, "/api/me"},
	}
	for _, tt := range tests {
		for _, rt := range routes {
			t.Run(tt.name+"/"+rt.method+" "+rt.path, func(t *testing.T) {
				f := newFixture(t, func(o *Options) {
					if tt.policy != nil {
						o.Policy = *tt.policy
					}
				})
				target := rt.path
				if tt.query != "" {
					target += "?" + tt.query
				}
				w := f.do(t, req{method: rt.method, target: target, headers: tt.headers})
				pb := checkProblem(t, w, tt.want.status)

				got := w.Header().Get("WWW-Authenticate")
				switch {
				case tt.want.challenge == "" && got != "":
					t.Errorf("WWW-Authenticate = %q, want none", got)
				case tt.want.prefix && !strings.HasPrefix(got, tt.want.challenge):
					t.Errorf("WWW-Authenticate = %q, want prefix %q", got, tt.want.challenge)
				case !tt.want.prefix && got != tt.want.challenge:
					t.Errorf("WWW-Authenticate = %q, want %q", got, tt.want.challenge)
				}
				if n := len(w.Header().Values("WWW-Authenticate")); n > 1 {
					t.Errorf("%d WWW-Authenticate headers", n)
				}
				if tt.want.challenge == `Bearer realm="api"` && strings.Contains(got, "error=") {
					t.Errorf("a request without credentials got an error code: %q", got)
				}
				if tt.want.code == "invalid_token" {
					for _, secret := range []string{badToken, "EXPIRED-R3CG", "expired"} {
						if strings.Contains(got, secret) {
							t.Errorf("challenge %q gives away %q", got, secret)
						}
					}
					if strings.Contains(w.Body.String(), "EXPIRED-R3CG") {
						t.Errorf("body holds the token: %s", w.Body.String())
					}
					if !strings.HasSuffix(got, `"`) || len(got) <= len(tt.want.challenge)+1 {
						t.Errorf("challenge %q has no error_description", got)
					}
				}
				if pb.Code != tt.want.code {
					t.Errorf("problem code = %q, want %q", pb.Code, tt.want.code)
				}
				if pb.Rule != tt.want.rule {
					t.Errorf("problem rule = %q, want %q", pb.Rule, tt.want.rule)
				}
				ra := w.Header().Get("Retry-After")
				if tt.want.status == http.StatusServiceUnavailable {
					if n, err := strconv.Atoi(ra); err != nil || n <= 0 {
						t.Errorf("Retry-After = %q, want a positive number of seconds", ra)
					}
				} else if ra != "" {
					t.Errorf("Retry-After = %q, want none", ra)
				}
				if strings.Contains(w.Body.String(), "This HTTP triggered function") || strings.Contains(w.Body.String(), goodOID) {
					t.Errorf("the function ran for a refused caller: %s", w.Body.String())
				}
				line := f.requestLine(t)
				if line["reason"] != tt.want.reason {
					t.Errorf("log reason = %v, want %q", line["reason"], tt.want.reason)
				}
				if line["request_id"] != pb.RequestID {
					t.Errorf("log request_id %v differs from the problem's requestId %q", line["request_id"], pb.RequestID)
				}
			})
		}
	}
}

func TestAuthAdmits(t *testing.T) {
	tests := []struct {
		name   string
		policy auth.Policy
	}{
		{"required scope", auth.Policy{RequiredScopes: []string{requiredScope}}},
		{"allowed client app in another case", auth.Policy{RequiredScopes: []string{requiredScope}, AllowedClientApps: []string{otherClientApp, strings.ToUpper(goodClientApp)}}},
		{"allowed user", auth.Policy{RequiredScopes: []string{requiredScope}, AllowedUsers: []string{goodOID}}},
		{"allowed group", auth.Policy{RequiredScopes: []string{requiredScope}, AllowedGroups: []string{"g1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Policy = tt.policy })
			w := f.do(t, req{method: http.MethodGet, target: "/api/Hello?name=Marc", token: goodToken})
			checkText(t, w, hello("Marc"))
			if got := w.Header().Get("WWW-Authenticate"); got != "" {
				t.Errorf("WWW-Authenticate = %q on success", got)
			}
			w = f.do(t, req{method: http.MethodGet, target: "/api/Me", token: goodToken})
			if w.Code != http.StatusOK {
				t.Errorf("Me status = %d, want 200", w.Code)
			}
		})
	}
}

func TestReadinessNeedsNoCredentials(t *testing.T) {
	tests := []struct {
		name    string
		headers http.Header
	}{
		{"no credentials", nil},
		{"bad credentials", http.Header{"Authorization": {"Bearer " + badToken}}},
		{"token in the query is ignored", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			f := newFixture(t, func(o *Options) {
				o.Authenticator = auth.AuthenticatorFunc(func(r *http.Request) (*auth.Principal, error) {
					calls++
					return fakeAuthenticate(r)
				})
			})
			target := "/"
			if tt.name == "token in the query is ignored" {
				target = "/?access_token=x"
			}
			w := f.do(t, req{method: http.MethodGet, target: target, headers: tt.headers})
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body.String())
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if w.Body.String() != "ready\n" {
				t.Errorf("body = %q, want %q", w.Body.String(), "ready\n")
			}
			if calls != 0 {
				t.Errorf("the authenticator ran %d times for the readiness probe", calls)
			}
			// The same server does authenticate its functions.
			w = f.do(t, req{method: http.MethodGet, target: "/api/Hello", headers: tt.headers})
			if w.Code == http.StatusOK || calls != 1 {
				t.Errorf("Hello without a good token: status %d, authenticator calls %d", w.Code, calls)
			}
		})
	}
}

func TestRouteLevelPolicy(t *testing.T) {
	text := func(s string) func(Deps) http.Handler {
		return func(Deps) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(s)) })
		}
	}
	routes := []Route{
		// Extra comes first: its additions must not leak into later routes.
		{Function: "Extra", Methods: []string{http.MethodGet}, Scopes: []string{"extra"}, Handler: text("extra")},
		{Function: "Admin", Methods: []string{http.MethodGet}, Roles: []string{"Admin"}, Handler: text("admin")},
		{Function: "Plain", Methods: []string{http.MethodGet}, Handler: text("plain")},
	}
	// Spare capacity would let an appending Require write into the shared
	// backing array.
	scopes := make([]string, 1, 8)
	scopes[0] = requiredScope
	tests := []struct {
		path      string
		token     string
		status    int
		body      string
		challenge string
		rule      string
	}{
		{"/api/Plain", goodToken, 200, "plain", "", ""},
		{"/api/Extra", goodToken, 403, "", `Bearer realm="api", error="insufficient_scope", scope="user_impersonation extra"`, ""},
		{"/api/Extra", extraToken, 200, "extra", "", ""},
		{"/api/Extra", noScopeToken, 403, "", `Bearer realm="api", error="insufficient_scope", scope="user_impersonation extra"`, ""},
		{"/api/Admin", goodToken, 403, "", "", "route roles"},
		{"/api/Admin", adminToken, 200, "admin", "", ""},
		{"/api/Plain", extraToken, 200, "plain", "", ""},
		{"/api/Plain", adminToken, 200, "plain", "", ""},
		{"/api/Plain", noScopeToken, 403, "", `Bearer realm="api", error="insufficient_scope", scope="user_impersonation"`, ""},
		{"/api/Hello", goodToken, 404, "", "", ""}, // only the given routes are served
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.token, func(t *testing.T) {
			f := newFixture(t, func(o *Options) {
				o.Routes = routes
				o.Policy = auth.Policy{RequiredScopes: scopes}
			})
			w := f.do(t, req{method: http.MethodGet, target: tt.path, token: tt.token})
			if tt.status == http.StatusOK {
				if w.Code != 200 || w.Body.String() != tt.body {
					t.Fatalf("got %d %q, want 200 %q", w.Code, w.Body.String(), tt.body)
				}
				return
			}
			pb := checkProblem(t, w, tt.status)
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if pb.Rule != tt.rule {
				t.Errorf("rule = %q, want %q", pb.Rule, tt.rule)
			}
		})
	}
}

package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMiddleware(t *testing.T) {
	t.Parallel()
	alice := policyUser(nil)
	authErr := &TokenError{Reason: "expired"}
	cases := []struct {
		name       string
		principal  *Principal
		authErr    error
		policy     Policy
		wantNext   bool
		wantErr    error // kind passed to onError
		wantInCtx  bool  // onError's request carries the principal
		wantReason string
	}{
		{name: "success", principal: alice, policy: Policy{RequiredScopes: []string{DefaultRequiredScope}}, wantNext: true},
		{name: "no credentials", authErr: ErrNoCredentials, wantErr: ErrNoCredentials, wantReason: "no_credentials"},
		{name: "invalid token", authErr: authErr, wantErr: ErrInvalidToken, wantReason: "expired"},
		{
			name: "authenticator refuses a known caller", principal: alice,
			authErr: &PolicyError{Rule: "easy auth"}, wantErr: ErrForbidden, wantInCtx: true, wantReason: "easy auth",
		},
		{name: "authenticator says nothing", wantErr: ErrNoCredentials, wantReason: "no_credentials"},
		{
			name: "policy refuses scope", principal: alice,
			policy:  Policy{RequiredScopes: []string{"Files.Read"}},
			wantErr: ErrInsufficientScope, wantInCtx: true, wantReason: "insufficient_scope",
		},
		{
			name: "policy refuses user", principal: alice,
			policy:  Policy{AllowedUsers: []string{otherU}},
			wantErr: ErrForbidden, wantInCtx: true, wantReason: "AUTH_ALLOWED_USERS",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var authCalls, nextCalls, errCalls int
			var gotErr error
			var errCtxPrincipal *Principal
			var errCtxOK bool
			a := AuthenticatorFunc(func(r *http.Request) (*Principal, error) {
				authCalls++
				if r.Header.Get("X-Test") != "1" {
					t.Error("authenticator did not get the request")
				}
				return c.principal, c.authErr
			})
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nextCalls++
				p, ok := FromContext(r.Context())
				if !ok || p != c.principal {
					t.Errorf("FromContext in next = %v, %v; want the authenticated principal", p, ok)
				}
				w.WriteHeader(http.StatusNoContent)
			})
			onError := func(w http.ResponseWriter, r *http.Request, err error) {
				errCalls++
				gotErr = err
				errCtxPrincipal, errCtxOK = FromContext(r.Context())
				w.WriteHeader(http.StatusTeapot)
			}
			h := Middleware(a, c.policy, onError)(next)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			req.Header.Set("X-Test", "1")
			h.ServeHTTP(rec, req)

			if authCalls != 1 {
				t.Errorf("authenticator called %d times", authCalls)
			}
			if c.wantNext {
				if nextCalls != 1 || errCalls != 0 || rec.Code != http.StatusNoContent {
					t.Errorf("next %d, onError %d (%v), status %d; want next once", nextCalls, errCalls, gotErr, rec.Code)
				}
				return
			}
			if nextCalls != 0 {
				t.Error("next was called for a refused request")
			}
			if errCalls != 1 || rec.Code != http.StatusTeapot {
				t.Fatalf("onError called %d times, status %d", errCalls, rec.Code)
			}
			if !errors.Is(gotErr, c.wantErr) {
				t.Errorf("onError got %v, want %v", gotErr, c.wantErr)
			}
			if got := Reason(gotErr); got != c.wantReason {
				t.Errorf("Reason = %q, want %q", got, c.wantReason)
			}
			if errCtxOK != c.wantInCtx || c.wantInCtx && errCtxPrincipal != c.principal {
				t.Errorf("principal in onError's context = %v, %v; want present=%v", errCtxPrincipal, errCtxOK, c.wantInCtx)
			}
		})
	}
}

// Bearer and Middleware together, with a real verifier.
func TestBearerMiddleware(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, nil)
	var gotErr error
	h := Middleware(Bearer(v), Policy{RequiredScopes: []string{DefaultRequiredScope}},
		func(w http.ResponseWriter, r *http.Request, err error) {
			gotErr = err
			http.Error(w, Reason(err), http.StatusUnauthorized)
		})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := FromContext(r.Context())
		io.WriteString(w, p.ObjectID)
	}))

	cases := []struct {
		name     string
		target   string
		header   string
		wantBody string
		wantKind error
	}{
		{"valid token", "/api", "Bearer " + signRS256(t, v2Claims()), testOID, nil},
		{"no header", "/api", "", "no_credentials\n", ErrNoCredentials},
		{"expired token", "/api", "Bearer " + signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-time.Hour).Unix())), "expired\n", ErrInvalidToken},
		{"missing scope", "/api", "Bearer " + signRS256(t, claimsWith(v2Claims(), "scp", "Files.Read")), "insufficient_scope\n", ErrInsufficientScope},
		{"token in query", "/api?access_token=x", "Bearer " + signRS256(t, v2Claims()), "invalid_request\n", ErrInvalidRequest},
	}
	for _, c := range cases {
		gotErr = nil
		req := httptest.NewRequest(http.MethodGet, c.target, nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Body.String() != c.wantBody {
			t.Errorf("%s: body %q, want %q", c.name, rec.Body.String(), c.wantBody)
		}
		if c.wantKind == nil && gotErr != nil || c.wantKind != nil && !errors.Is(gotErr, c.wantKind) {
			t.Errorf("%s: error %v, want %v", c.name, gotErr, c.wantKind)
		}
	}
}

func TestFromContext(t *testing.T) {
	t.Parallel()
	if p, ok := FromContext(context.Background()); ok || p != nil {
		t.Errorf("empty context: %v, %v", p, ok)
	}
	if p, ok := FromContext(newContext(context.Background(), nil)); ok || p != nil {
		t.Errorf("nil principal: %v, %v", p, ok)
	}
	want := policyUser(nil)
	if p, ok := FromContext(newContext(context.Background(), want)); !ok || p != want {
		t.Errorf("FromContext = %v, %v", p, ok)
	}
}

func TestPrincipalHasScopeAndRole(t *testing.T) {
	t.Parallel()
	p := policyUser(func(p *Principal) { p.Scopes = []string{"a", "b"}; p.Roles = []string{"R"} })
	if !p.hasScope("b") || p.hasScope("c") || p.hasScope("A") {
		t.Error("HasScope")
	}
	if !p.hasRole("R") || p.hasRole("r") {
		t.Error("HasRole")
	}
}

func TestPrincipalLogValue(t *testing.T) {
	t.Parallel()
	p := policyUser(func(p *Principal) {
		p.Name = "Secret Name"
		p.Username = "secret.user@contoso.example"
		p.Groups = []string{"secret-group"}
		p.Scopes = []string{"secret_scope"}
		p.ClientAppID = "secret-client"
	})
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("call", "principal", p)
	logger.Info("call", slog.Any("principal", p))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines: %q", len(lines), buf.String())
	}
	for _, line := range lines {
		var rec struct {
			Principal map[string]any `json:"principal"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if want := map[string]any{"oid": testOID, "tid": testTenant}; !reflect.DeepEqual(rec.Principal, want) {
			t.Errorf("principal logged as %v, want %v", rec.Principal, want)
		}
	}
	for _, secret := range []string{"Secret Name", "secret.user", "secret-group", "secret_scope", "secret-client"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log contains %q: %s", secret, buf.String())
		}
	}

	// A nil principal logs without panicking and without identifiers.
	buf.Reset()
	logger.Info("call", "principal", (*Principal)(nil))
	if !strings.Contains(buf.String(), `"msg":"call"`) || strings.Contains(buf.String(), "oid") {
		t.Errorf("nil principal logged as %s", buf.String())
	}
}

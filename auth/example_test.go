package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/entrafunc/entrafunc/auth"
)

func ExampleBearerToken() {
	r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	r.Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	tok, err := auth.BearerToken(r)
	fmt.Println(tok, err)

	// A token in the query string is refused, even next to a valid header.
	r = httptest.NewRequest(http.MethodGet, "/api/me?access_token=eyJhbGciOiJSUzI1NiJ9.e30.c2ln", nil)
	r.Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	_, err = auth.BearerToken(r)
	fmt.Println(errors.Is(err, auth.ErrInvalidRequest), auth.Reason(err))

	// Another scheme is no credentials at all for this API.
	r = httptest.NewRequest(http.MethodGet, "/api/me", nil)
	r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	_, err = auth.BearerToken(r)
	fmt.Println(errors.Is(err, auth.ErrNoCredentials), auth.Reason(err))
	// Output:
	// eyJhbGciOiJSUzI1NiJ9.e30.c2ln <nil>
	// true invalid_request
	// true no_credentials
}

func ExamplePolicy_Check() {
	const team = "11b8475a-fb12-41aa-b1f6-8497c1b5385b"
	policy := auth.Policy{
		RequiredScopes: []string{auth.DefaultRequiredScope},
		AllowedGroups:  []string{team},
	}

	member := &auth.Principal{
		ObjectID: "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170",
		Scopes:   []string{"user_impersonation"},
		Groups:   []string{team},
	}
	fmt.Println(policy.Check(member))

	// An app-only token carries no delegated scope.
	app := &auth.Principal{ObjectID: "0d7f3e2a-9c1b-4a8d-b6e5-f4c3b2a19087", AppOnly: true, Roles: []string{"Data.Read.All"}}
	err := policy.Check(app)
	fmt.Println(errors.Is(err, auth.ErrInsufficientScope), auth.Reason(err))

	outsider := &auth.Principal{ObjectID: "0d7f3e2a-9c1b-4a8d-b6e5-f4c3b2a19087", Scopes: []string{"user_impersonation"}}
	err = policy.Check(outsider)
	var pe *auth.PolicyError
	fmt.Println(errors.Is(err, auth.ErrForbidden), errors.As(err, &pe) && pe.Rule == "AUTH_ALLOWED_GROUPS")

	// A route may add requirements without changing the base policy.
	admin := policy.Require(nil, []string{"Task.Admin"})
	fmt.Println(admin.RequiredScopes, admin.RequiredRoles, policy.RequiredRoles)
	// Output:
	// <nil>
	// true insufficient_scope
	// true true
	// [user_impersonation] [Task.Admin] []
}

func ExampleDevKey_Mint() {
	dir, err := os.MkdirTemp("", "entrafunc-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	key, err := auth.LoadOrCreateDevKey(filepath.Join(dir, "dev-key.pem"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := key.Mint(auth.DevToken{Name: "Grace Hopper"})
	if err != nil {
		log.Fatal(err)
	}

	keys, err := key.KeySet()
	if err != nil {
		log.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{
		TenantID:  auth.DevTenantID,
		Audiences: []string{auth.DevAudience},
		Source:    auth.SourceDev,
	}, keys)
	if err != nil {
		log.Fatal(err)
	}
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Name, p.Scopes)
	fmt.Println(p.Username, p.Source, p.TokenVersion)
	// Output:
	// Grace Hopper [user_impersonation]
	// grace.hopper@dev.localhost dev 2.0
}

func ExampleMiddleware() {
	dir, err := os.MkdirTemp("", "entrafunc-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	key, err := auth.LoadOrCreateDevKey(filepath.Join(dir, "dev-key.pem"))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := key.KeySet()
	if err != nil {
		log.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{TenantID: auth.DevTenantID, Audiences: []string{auth.DevAudience}}, keys)
	if err != nil {
		log.Fatal(err)
	}

	onError := func(w http.ResponseWriter, r *http.Request, err error) {
		status := http.StatusUnauthorized
		if errors.Is(err, auth.ErrInsufficientScope) || errors.Is(err, auth.ErrForbidden) {
			status = http.StatusForbidden
		}
		http.Error(w, auth.Reason(err), status)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.Name)
	})
	policy := auth.Policy{RequiredScopes: []string{auth.DefaultRequiredScope}}
	srv := httptest.NewServer(auth.Middleware(auth.Bearer(v), policy, onError)(hello))
	defer srv.Close()

	call := func(token string) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/hello", nil)
		if err != nil {
			log.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}

	good, _ := key.Mint(auth.DevToken{})
	noScope, _ := key.Mint(auth.DevToken{Scopes: []string{"Files.Read"}})
	call(good)
	call("")
	call(noScope)
	call("not-a-token")
	// Output:
	// 200 hello Dev User
	// 401 no_credentials
	// 403 insufficient_scope
	// 401 malformed
}

package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/entrafunc/entrafunc/api"
	"github.com/entrafunc/entrafunc/auth"
)

func ExampleNewServer() {
	// A stand-in for auth.Bearer(verifier): it accepts one fixed token.
	authenticator := auth.AuthenticatorFunc(func(r *http.Request) (*auth.Principal, error) {
		tok, err := auth.BearerToken(r)
		if err != nil {
			return nil, err
		}
		if tok != "demo-token" {
			return nil, &auth.TokenError{Reason: "signature"}
		}
		return &auth.Principal{TenantID: "t", ObjectID: "o", Scopes: []string{auth.DefaultRequiredScope}}, nil
	})
	srv := api.NewServer(api.Options{
		Logger:        slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Authenticator: authenticator,
		Policy:        auth.Policy{RequiredScopes: []string{auth.DefaultRequiredScope}},
	})

	r := httptest.NewRequest(http.MethodPost, "/api/Hello", strings.NewReader(`{"name": "Marc"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer demo-token")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())

	r = httptest.NewRequest(http.MethodGet, "/api/Hello?name=Marc", nil)
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 Hello, Marc. This HTTP triggered function executed successfully.
	// 401 Bearer realm="api"
}

package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"fmt"

	"github.com/entrafunc/entrafunc/auth"
)

func TestZZProbe(t *testing.T) {
	var logs bytes.Buffer
	h := NewServer(Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Authenticator: auth.AuthenticatorFunc(func(r *http.Request) (*auth.Principal, error) {
		return &auth.Principal{ObjectID: "o", TenantID: "t", Scopes: []string{"user_impersonation"}}, nil
	}), Policy: auth.Policy{RequiredScopes: []string{"user_impersonation"}}})
	for _, c := range []struct{ m, u, b string }{
		{"POST", "/api/Hello", `{}}`},
		{"POST", "/api/Hello", `{"name":"Marc"}]`},
		{"POST", "/api/Hello", `null}`},
		{"POST", "/api/Hello", `{} {}`},
		{"GET", "/api/Hello?Name=Marc", ``},
		{"GET", "/api/Hello?na%6De=Marc", ``},
		{"GET", "/api/hell%6F?name=Marc", ``},
		{"GET", "/api/HELL%4F?name=Marc", ``},
		{"HEAD", "/api/Hello", ``},
		{"OPTIONS", "/api/Hello", ``},
		{"HEAD", "/", ``},
		{"POST", "/", ``},
		{"GET", "/api/Hello/", ``},
		{"GET", "/api/Me", ``},
		{"GET", "/api/Hello?name=a&name=b", ``},
	} {
		var body *strings.Reader = strings.NewReader(c.b)
		r := httptest.NewRequest(c.m, c.u, body)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%s %s %q -> %d %v %q\n", c.m, c.u, c.b, w.Code, w.Header(), w.Body.String())
	}
	fmt.Println(logs.String())
}

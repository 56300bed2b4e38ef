package auth

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzBearerToken feeds BearerToken the three places a client can put a
// token (RFC 6750): the Authorization header, the query string and a form
// body. What it returns must be a token the header really carried, and
// never one while a token is offered another way; its errors are exactly
// one of "no credentials" and "invalid request"; and the body it reads to
// look for a smuggled token is left whole for the handler.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []struct{ authorization, query, form string }{
		{"Bearer " + sampleJWT, "", ""},
		{"bearer  " + sampleJWT + " ", "name=Marc", ""},
		{"Bearer " + sampleJWT, "access_token=x", ""},
		{"Bearer " + sampleJWT, "a=1;access_token=x", ""},
		{"Bearer " + sampleJWT, "%61ccess_token=x", ""},
		{"Bearer " + sampleJWT, "access%5Ftoken", ""},
		{"Bearer " + sampleJWT, "", "access_token=x&greeting=hi"},
		{"Bearer " + sampleJWT, "", "greeting=hi%zz&access+token=1"},
		{"Bearer " + sampleJWT, "", "greeting=hi"},
		{"Basic dXNlcjpwYXNz", "", ""},
		{"Bearer", "", ""},
		{"Bearer a b", "", ""},
		{"Bearer =abc", "", ""},
		{"Bearer abc+/~_-.==", "", ""},
		{"Bearer \x00", "", ""},
		{"Bearer é", "", ""},
		{"", "", ""},
		{"Bearer " + strings.Repeat("a", 64), strings.Repeat("&", 64), strings.Repeat("=", 64)},
	} {
		f.Add(s.authorization, s.query, s.form)
	}
	f.Fuzz(func(t *testing.T, authorization, query, form string) {
		r := &http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Path: "/api/Hello", RawQuery: query},
			Header: http.Header{},
			Body:   http.NoBody,
		}
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		if form != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Body = io.NopCloser(strings.NewReader(form))
		}
		tok, err := BearerToken(r)

		noCreds, invalid := errors.Is(err, ErrNoCredentials), errors.Is(err, ErrInvalidRequest)
		switch {
		case err == nil && tok == "":
			t.Fatalf("no error and no token for %q", authorization)
		case err != nil && tok != "":
			t.Fatalf("token %q with the error %v", tok, err)
		case err != nil && noCreds == invalid:
			t.Fatalf("error %v is not exactly one of ErrNoCredentials and ErrInvalidRequest", err)
		}
		if err == nil {
			scheme, rest, _ := strings.Cut(authorization, " ")
			if strings.ToLower(scheme) != "bearer" || tok != strings.Trim(rest, " ") {
				t.Fatalf("token %q from the header %q", tok, authorization)
			}
			if !isToken68(tok) {
				t.Fatalf("accepted token %q (%d bytes of header)", tok, len(authorization))
			}
		}
		// Whatever net/url finds in the query or form, BearerToken finds
		// too (it reads the pairs itself, stricter: a bad escape or a
		// semicolon hides nothing from it).
		for what, s := range map[string]string{"query string": query, "form body": form} {
			if v, perr := url.ParseQuery(s); perr == nil && v.Has("access_token") && !invalid {
				t.Fatalf("the %s %q offers access_token, yet BearerToken answered %q, %v", what, s, tok, err)
			}
		}
		if form != "" {
			b, rerr := io.ReadAll(r.Body)
			if rerr != nil || string(b) != form {
				t.Fatalf("the handler reads %q (%v) of the form %q", b, rerr, form)
			}
		}
	})
}

package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// expectHello is the reference for a body that is valid JSON: the status
// and text the template's rules give it.
func expectHello(body []byte) (int, string) {
	if len(body) > DefaultMaxBodyBytes {
		return http.StatusRequestEntityTooLarge, ""
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		panic("expectHello needs valid JSON: " + err.Error())
	}
	switch v := v.(type) {
	case nil:
		return http.StatusOK, helloAnonymousT
	case map[string]any:
		switch name := v["name"].(type) {
		case nil:
			return http.StatusOK, helloAnonymousT
		case string:
			if name == "" {
				return http.StatusOK, helloAnonymousT
			}
			return http.StatusOK, hello(name)
		}
	}
	return http.StatusBadRequest, ""
}

func FuzzHelloBody(f *testing.F) {
	for _, s := range []string{
		``, ` `, `{}`, `null`, `{"name": "Marc"}`, `{"name": null}`, `{"name": ""}`,
		`{"name": 5}`, `{"name": ["a"]}`, `{"name": {}}`, `{"name":`, `[1]`, `{} {}`,
		`"Marc"`, `{"name":"a","name":"b"}`, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}",
		`{"name":"Marc"}]`, `{}}`, "\u00a0", `{"a":{"b":[{"c":null}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t, nil)
		firstCode, firstBody := 0, ""
		for _, framed := range []bool{true, false} {
			var rd io.Reader = bytes.NewReader(body)
			if !framed {
				rd = chunked{rd}
			}
			w := fx.do(t, req{method: http.MethodPost, target: "/api/Hello", ctype: "application/json", body: rd, token: goodToken})
			switch w.Code {
			case http.StatusOK:
				if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Fatalf("200 with Content-Type %q", ct)
				}
				if s := w.Body.String(); s != helloAnonymousT && !(strings.HasPrefix(s, "Hello, ") && strings.HasSuffix(s, ". This HTTP triggered function executed successfully.")) {
					t.Fatalf("200 with body %q", s)
				}
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
				checkProblem(t, w, w.Code)
			default:
				t.Fatalf("status %d for body %q: %s", w.Code, body, w.Body.String())
			}
			if json.Valid(body) {
				status, text := expectHello(body)
				if w.Code != status || (status == http.StatusOK && w.Body.String() != text) {
					t.Fatalf("body %q (framed %v): got %d %q, want %d %q", body, framed, w.Code, w.Body.String(), status, text)
				}
			}
			if w.Code == http.StatusOK && !utf8.Valid(w.Body.Bytes()) && utf8.Valid(body) {
				t.Fatalf("valid UTF-8 in, invalid out: %q", w.Body.String())
			}
			// Both framings of the same bytes get the same answer.
			if framed {
				firstCode, firstBody = w.Code, w.Body.String()
			} else if w.Code != firstCode || (w.Code == http.StatusOK && w.Body.String() != firstBody) {
				t.Fatalf("body %q: chunked answer %d %q differs from framed answer %d %q", body, w.Code, w.Body.String(), firstCode, firstBody)
			}
		}
		if strings.Contains(fx.logs.String(), `"msg":"panic"`) {
			t.Fatalf("a panic was logged:\n%s", fx.logs.String())
		}
	})
}

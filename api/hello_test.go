package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestHello(t *testing.T) {
	const js = "application/json"
	tests := []struct {
		name   string
		method string
		target string
		ctype  string
		body   io.Reader
		want   string
	}{
		{"post json body", http.MethodPost, "/api/Hello", js, strings.NewReader(`{"name": "Marc"}`), hello("Marc")},
		{"get query", http.MethodGet, "/api/Hello?name=Marc", "", nil, hello("Marc")},
		{"post query", http.MethodPost, "/api/Hello?name=Marc", "", nil, hello("Marc")},
		{"query wins over body", http.MethodPost, "/api/Hello?name=Q", js, strings.NewReader(`{"name": "B"}`), hello("Q")},
		{"empty query wins over body", http.MethodPost, "/api/Hello?name=", js, strings.NewReader(`{"name": "B"}`), helloAnonymousT},
		{"empty query wins over bad body", http.MethodPost, "/api/Hello?name=", js, strings.NewReader(`{"name":`), helloAnonymousT},
		{"empty query without equals", http.MethodGet, "/api/Hello?name", "", nil, helloAnonymousT},
		{"repeated query joins with commas", http.MethodGet, "/api/Hello?name=a&name=b", "", nil, hello("a,b")},
		{"query key in another case, as ASP.NET matches it", http.MethodGet, "/api/Hello?Name=Marc", "", nil, hello("Marc")},
		{"query key percent-encoded", http.MethodGet, "/api/Hello?na%6De=Marc", "", nil, hello("Marc")},
		{"encoded path", http.MethodGet, "/api/hell%6F?name=Marc", "", nil, hello("Marc")},
		{"query among other keys", http.MethodGet, "/api/Hello?code=x&name=Marc&z=1", "", nil, hello("Marc")},
		{"query plus is a space", http.MethodGet, "/api/Hello?name=Marc+Smith", "", nil, hello("Marc Smith")},
		{"query percent-decoded", http.MethodGet, "/api/Hello?name=Ren%C3%A9%20%26%20co", "", nil, hello("René & co")},
		{"other query key consults body", http.MethodPost, "/api/Hello?nickname=Q", js, strings.NewReader(`{"name": "B"}`), hello("B")},
		{"body name unicode", http.MethodPost, "/api/Hello", js, strings.NewReader(`{"name": "Zo\u00eb \u2603"}`), hello("Zoë ☃")},
		{"body name escapes", http.MethodPost, "/api/Hello", js, strings.NewReader(`{"name": "a\"b\\c"}`), hello(`a"b\c`)},
		{"body extra fields", http.MethodPost, "/api/Hello", js, strings.NewReader(`{"greeting": [1, {"x": null}], "name": "Marc", "n": 5}`), hello("Marc")},
		{"body surrounded by whitespace", http.MethodPost, "/api/Hello", js, strings.NewReader("\r\n\t {\"name\":\"Marc\"} \n"), hello("Marc")},
		{"body chunked", http.MethodPost, "/api/Hello", js, chunked{strings.NewReader(`{"name": "Marc"}`)}, hello("Marc")},
		{"get ignores nothing but has no body", http.MethodGet, "/api/Hello", "", nil, helloAnonymousT},
		{"post no body", http.MethodPost, "/api/Hello", "", nil, helloAnonymousT},
		{"post empty body", http.MethodPost, "/api/Hello", js, strings.NewReader(""), helloAnonymousT},
		{"post whitespace body", http.MethodPost, "/api/Hello", js, strings.NewReader(" \r\n\t "), helloAnonymousT},
		{"empty object", http.MethodPost, "/api/Hello", js, strings.NewReader(`{}`), helloAnonymousT},
		{"name null", http.MethodPost, "/api/Hello", js, strings.NewReader(`{"name": null}`), helloAnonymousT},
		{"name empty string", http.MethodPost, "/api/Hello", js, strings.NewReader(`{"name": ""}`), helloAnonymousT},
		{"body null", http.MethodPost, "/api/Hello", js, strings.NewReader(`null`), helloAnonymousT},
		{"other key only", http.MethodPost, "/api/Hello", js, strings.NewReader(`{"nom": "Marc"}`), helloAnonymousT},
		{"path lower case", http.MethodGet, "/api/hello?name=Marc", "", nil, hello("Marc")},
		{"path upper case", http.MethodGet, "/API/HELLO?name=Marc", "", nil, hello("Marc")},
		{"path mixed case post", http.MethodPost, "/Api/hElLo", js, strings.NewReader(`{"name": "Marc"}`), hello("Marc")},
		{"path upper case escaped", http.MethodGet, "/API/HELL%4F?name=Marc", "", nil, hello("Marc")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			w := f.do(t, req{method: tt.method, target: tt.target, ctype: tt.ctype, body: tt.body, token: goodToken})
			checkText(t, w, tt.want)
			if strings.HasSuffix(w.Body.String(), "\n") {
				t.Errorf("body ends with a newline")
			}
		})
	}
}

func TestHelloBadInput(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantDetail string // a substring the detail must hold, if set
	}{
		{"truncated object", `{"name":`, ""},
		{"truncated string", `{"name": "Marc`, ""},
		{"not json", `name=Marc`, ""},
		{"single quotes", `{'name': 'Marc'}`, ""},
		{"trailing comma", `{"name": "Marc",}`, ""},
		{"name number", `{"name": 5}`, "name"},
		{"name array", `{"name": ["a"]}`, "name"},
		{"name object", `{"name": {}}`, "name"},
		{"name bool", `{"name": true}`, "name"},
		{"array body", `[1]`, ""},
		{"empty array body", `[]`, ""},
		{"string body", `"Marc"`, ""},
		{"number body", `5`, ""},
		{"true body", `true`, ""},
		{"two objects", `{} {}`, ""},
		{"trailing brace", `{}}`, ""},
		{"trailing bracket after a name", `{"name":"Marc"}]`, ""},
		{"null then brace", `null}`, ""},
		{"two named objects", `{"name":"a"}{"name":"b"}`, ""},
		{"object then null", `{"name":"a"} null`, ""},
		{"object then garbage", `{"name":"a"} x`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			w := f.do(t, req{method: http.MethodPost, target: "/api/Hello", ctype: "application/json", body: strings.NewReader(tt.body), token: goodToken})
			pb := checkProblem(t, w, http.StatusBadRequest)
			if tt.wantDetail != "" && !strings.Contains(pb.Detail, tt.wantDetail) {
				t.Errorf("detail %q does not mention %q", pb.Detail, tt.wantDetail)
			}
			if strings.Contains(w.Body.String(), "This HTTP triggered function") {
				t.Errorf("a refused body was greeted: %s", w.Body.String())
			}
		})
	}
}

func TestHelloBodyLimit(t *testing.T) {
	// nameBody returns {"name":"aaa…"} of exactly n bytes.
	nameBody := func(n int) []byte {
		const frame = len(`{"name":""}`)
		return []byte(`{"name":"` + strings.Repeat("a", n-frame) + `"}`)
	}
	atLimit := nameBody(DefaultMaxBodyBytes)
	over := nameBody(DefaultMaxBodyBytes + 1)
	wayOver := bytes.Repeat([]byte(" "), 4*DefaultMaxBodyBytes)
	if len(atLimit) != DefaultMaxBodyBytes || len(over) != DefaultMaxBodyBytes+1 {
		t.Fatalf("bad test bodies: %d, %d", len(atLimit), len(over))
	}
	tests := []struct {
		name    string
		max     int64 // Options.MaxBodyBytes
		body    []byte
		chunked bool
		status  int
	}{
		{"at limit with length", 0, atLimit, false, http.StatusOK},
		{"at limit chunked", 0, atLimit, true, http.StatusOK},
		{"over limit with length", 0, over, false, http.StatusRequestEntityTooLarge},
		{"over limit chunked", 0, over, true, http.StatusRequestEntityTooLarge},
		{"far over limit with length", 0, wayOver, false, http.StatusRequestEntityTooLarge},
		{"far over limit chunked", 0, wayOver, true, http.StatusRequestEntityTooLarge},
		{"custom limit honoured", 20, []byte(`{"name":"0123456789"}`), false, http.StatusRequestEntityTooLarge},
		{"custom limit honoured chunked", 20, []byte(`{"name":"0123456789"}`), true, http.StatusRequestEntityTooLarge},
		{"custom limit at limit", 21, []byte(`{"name":"0123456789"}`), true, http.StatusOK},
		{"negative limit means default", -1, atLimit, true, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.MaxBodyBytes = tt.max })
			var body io.Reader = bytes.NewReader(tt.body)
			if tt.chunked {
				body = chunked{body}
			}
			w := f.do(t, req{method: http.MethodPost, target: "/api/Hello", ctype: "application/json", body: body, token: goodToken})
			if tt.status != http.StatusOK {
				checkProblem(t, w, tt.status)
				return
			}
			var in struct{ Name string }
			if err := json.Unmarshal(tt.body, &in); err != nil {
				t.Fatal(err)
			}
			checkText(t, w, hello(in.Name))
		})
	}
}

func TestChunkedHelperHidesLength(t *testing.T) {
	// The chunked cases above rely on httptest treating an unknown reader
	// as a body of unknown length.
	f := newFixture(t, func(o *Options) {
		o.Routes = []Route{{Function: "Len", Methods: []string{http.MethodPost},
			Handler: func(Deps) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.ContentLength != -1 {
						t.Errorf("ContentLength = %d, want -1", r.ContentLength)
					}
				})
			}}}
	})
	w := f.do(t, req{method: http.MethodPost, target: "/api/Len", body: chunked{strings.NewReader("{}")}, token: goodToken})
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	tests := []struct {
		method string
		target string
		status int
		allow  string
	}{
		{http.MethodDelete, "/api/Hello", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodPut, "/api/Hello", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodPatch, "/api/Hello", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodHead, "/api/Hello", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodOptions, "/api/Hello", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodPut, "/API/hello", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodPost, "/api/Me", http.StatusMethodNotAllowed, "GET"},
		{http.MethodDelete, "/api/me", http.StatusMethodNotAllowed, "GET"},
		{http.MethodPost, "/", http.StatusMethodNotAllowed, "GET"},
		{http.MethodGet, "/api/Nope", http.StatusNotFound, ""},
		{http.MethodPost, "/api/Nope", http.StatusNotFound, ""},
		{http.MethodGet, "/api", http.StatusNotFound, ""},
		{http.MethodGet, "/api/", http.StatusNotFound, ""},
		{http.MethodGet, "/Hello", http.StatusMethodNotAllowed, "POST"}, // the invocation payload path
		{http.MethodGet, "/Nope", http.StatusNotFound, ""},
		{http.MethodGet, "/api/Hello/extra", http.StatusNotFound, ""},
		{http.MethodGet, "/favicon.ico", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		for _, token := range []string{"", goodToken} {
			t.Run(tt.method+" "+tt.target+" token="+token, func(t *testing.T) {
				f := newFixture(t, nil)
				w := f.do(t, req{method: tt.method, target: tt.target, token: token})
				pb := checkProblem(t, w, tt.status)
				if got := w.Header().Get("Allow"); got != tt.allow {
					t.Errorf("Allow = %q, want %q", got, tt.allow)
				}
				if tt.status == http.StatusMethodNotAllowed && !strings.Contains(pb.Detail, tt.method) {
					t.Errorf("detail %q does not name the method %s", pb.Detail, tt.method)
				}
				if w.Header().Get("WWW-Authenticate") != "" {
					t.Errorf("unexpected challenge %q", w.Header().Get("WWW-Authenticate"))
				}
			})
		}
	}
}

package auth

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const sampleJWT = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl"

func TestBearerToken(t *testing.T) {
	t.Parallel()
	type want int
	const (
		ok want = iota
		noCredentials
		invalidRequest
	)
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name        string
		method      string
		target      string
		headers     []string // Authorization values, in order
		contentType string
		body        string
		want        want
		wantToken   string
	}{
		{name: "no header", want: noCredentials},
		{name: "basic scheme", headers: []string{"Basic dXNlcjpwYXNz"}, want: noCredentials},
		{name: "scheme only, unknown", headers: []string{"Negotiate"}, want: noCredentials},
		{name: "scheme glued to token", headers: []string{"Bearer" + sampleJWT}, want: noCredentials},
		{name: "bearer", headers: []string{"Bearer " + sampleJWT}, wantToken: sampleJWT},
		{name: "lower-case scheme", headers: []string{"bearer " + sampleJWT}, wantToken: sampleJWT},
		{name: "upper-case scheme", headers: []string{"BEARER " + sampleJWT}, wantToken: sampleJWT},
		{name: "extra spaces", headers: []string{"Bearer  " + sampleJWT}, wantToken: sampleJWT},
		{name: "trailing spaces", headers: []string{"Bearer " + sampleJWT + "  "}, wantToken: sampleJWT},
		{name: "token68 padding", headers: []string{"Bearer abc+/~_-.=="}, wantToken: "abc+/~_-.=="},
		{name: "two headers", headers: []string{"Bearer " + sampleJWT, "Bearer " + sampleJWT}, want: invalidRequest},
		{name: "bearer and basic", headers: []string{"Basic dXNlcjpwYXNz", "Bearer " + sampleJWT}, want: invalidRequest},
		// The token's size is Verify's to judge (TestTokenSizeIsOneLimit):
		// the header's is no limit of its own, so that "Bearer " and the
		// spaces around a token never count against it.
		{name: "a token at the limit", headers: []string{"Bearer " + strings.Repeat("a", MaxTokenBytes)}, wantToken: strings.Repeat("a", MaxTokenBytes)},
		{name: "a token at the limit, with spaces", headers: []string{"bearer    " + strings.Repeat("a", MaxTokenBytes) + "   "}, wantToken: strings.Repeat("a", MaxTokenBytes)},
		{name: "a token over the limit", headers: []string{"Bearer " + strings.Repeat("a", MaxTokenBytes+1)}, wantToken: strings.Repeat("a", MaxTokenBytes+1)},
		{name: "a large header with another scheme", headers: []string{"Basic " + strings.Repeat("a", MaxTokenBytes)}, want: noCredentials},
		{name: "empty bearer", headers: []string{"Bearer "}, want: invalidRequest},
		{name: "bare scheme", headers: []string{"Bearer"}, want: invalidRequest},
		{name: "two tokens", headers: []string{"Bearer a b"}, want: invalidRequest},
		{name: "comma", headers: []string{"Bearer a,b"}, want: invalidRequest},
		{name: "padding first", headers: []string{"Bearer =abc"}, want: invalidRequest},
		{name: "padding inside", headers: []string{"Bearer ab=c"}, want: invalidRequest},
		{name: "quoted token", headers: []string{`Bearer "` + sampleJWT + `"`}, want: invalidRequest},
		{name: "non-ASCII token", headers: []string{"Bearer t\u00f6ken"}, want: invalidRequest},
		{name: "token in query", target: "/api?access_token=x", want: invalidRequest},
		{name: "token in query with a valid header", target: "/api?a=1&access_token=x", headers: []string{"Bearer " + sampleJWT}, want: invalidRequest},
		{name: "empty token in query", target: "/api?access_token=", headers: []string{"Bearer " + sampleJWT}, want: invalidRequest},
		{name: "access_token as a query value", target: "/api?q=access_token", headers: []string{"Bearer " + sampleJWT}, wantToken: sampleJWT},
		{name: "similar query name", target: "/api?my_access_token_hint=1", headers: []string{"Bearer " + sampleJWT}, wantToken: sampleJWT},
		{
			name: "token in form body", method: http.MethodPost, contentType: form,
			body: "a=1&access_token=x", headers: []string{"Bearer " + sampleJWT}, want: invalidRequest,
		},
		{
			name: "token in form body with charset", method: http.MethodPost, contentType: form + "; charset=utf-8",
			body: "access_token=x", want: invalidRequest,
		},
		{
			name: "form body without token", method: http.MethodPost, contentType: form,
			body: "grant=1&note=access_token", headers: []string{"Bearer " + sampleJWT}, wantToken: sampleJWT,
		},
		{
			name: "JSON body mentioning access_token", method: http.MethodPost, contentType: "application/json",
			body: `{"access_token":"x"}`, headers: []string{"Bearer " + sampleJWT}, wantToken: sampleJWT,
		},
		{
			name: "text body shaped like a form", method: http.MethodPost, contentType: "text/plain",
			body: "access_token=x", headers: []string{"Bearer " + sampleJWT}, wantToken: sampleJWT,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			method, target := c.method, c.target
			if method == "" {
				method = http.MethodGet
			}
			if target == "" {
				target = "/api"
			}
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			r := httptest.NewRequest(method, target, body)
			for _, h := range c.headers {
				r.Header.Add("Authorization", h)
			}
			if c.contentType != "" {
				r.Header.Set("Content-Type", c.contentType)
			}
			tok, err := BearerToken(r)
			switch c.want {
			case ok:
				if err != nil || tok != c.wantToken {
					t.Fatalf("BearerToken = %q, %v; want %q", tok, err, c.wantToken)
				}
			case noCredentials:
				if !errors.Is(err, ErrNoCredentials) || tok != "" {
					t.Fatalf("BearerToken = %q, %v; want ErrNoCredentials", tok, err)
				}
				if errors.Is(err, ErrInvalidRequest) {
					t.Errorf("error %v is also ErrInvalidRequest", err)
				}
			case invalidRequest:
				var re *RequestError
				if !errors.Is(err, ErrInvalidRequest) || !errors.As(err, &re) || tok != "" {
					t.Fatalf("BearerToken = %q, %v (%T); want a *RequestError", tok, err, err)
				}
				if re.Description == "" {
					t.Error("RequestError without description")
				}
				if errors.Is(err, ErrNoCredentials) || errors.Is(err, ErrInvalidToken) {
					t.Errorf("error %v matches another kind", err)
				}
				if strings.Contains(err.Error(), sampleJWT) || strings.Contains(re.Description, "access_token=x") {
					t.Errorf("error %q echoes the credential", err)
				}
			}
			if c.body != "" {
				// Whatever BearerToken did, the handler still sees the body.
				got, err := io.ReadAll(r.Body)
				if err != nil || string(got) != c.body {
					t.Errorf("body after BearerToken = %q, %v; want %q", got, err, c.body)
				}
			}
		})
	}
}

// A form body bigger than BearerToken looks at is still delivered whole.
// TestBearerTokenRefusesFormsTooLargeToInspect: a token could hide past
// what is read of a form, so a form larger than that is refused, with or
// without a token in the header; the body stays intact for the handler.
func TestBearerTokenRefusesFormsTooLargeToInspect(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	for i := 0; b.Len() < 3*maxFormBytes; i++ {
		b.WriteString("field=")
		b.WriteString(strings.Repeat(string(rune('a'+i%26)), 100))
		b.WriteString("&")
	}
	want := b.String()
	for _, header := range []string{"Bearer " + sampleJWT, ""} {
		r := httptest.NewRequest(http.MethodPost, "/api", strings.NewReader(want))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if _, err := BearerToken(r); !errors.Is(err, ErrInvalidRequest) {
			t.Fatalf("header %q: BearerToken: %v, want ErrInvalidRequest", header, err)
		}
		got, err := io.ReadAll(r.Body)
		if err != nil || string(got) != want {
			t.Fatalf("body after BearerToken: %d bytes, %v; want it intact", len(got), err)
		}
	}
}

// Through a real server: the handler reads the form the client sent.
func TestBearerTokenFormThroughServer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := BearerToken(r); err != nil {
			http.Error(w, Reason(err), http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, r.PostForm.Get("greeting"))
	}))
	t.Cleanup(srv.Close)

	for _, c := range []struct {
		body, wantBody string
		wantStatus     int
	}{
		{"greeting=hello+world&n=1", "hello world", http.StatusOK},
		{"greeting=hi&access_token=" + sampleJWT, "invalid_request\n", http.StatusBadRequest},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+sampleJWT)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.wantStatus || string(got) != c.wantBody {
			t.Errorf("body %q: got %d %q, want %d %q", c.body, resp.StatusCode, got, c.wantStatus, c.wantBody)
		}
	}
}

func TestBearerTokenRefusesEncodedTokenNames(t *testing.T) {
	for _, c := range []struct {
		name string
		r    func() *http.Request
	}{
		{"query", func() *http.Request { return httptest.NewRequest("GET", "/x?access%5Ftoken=eyJ.a.b", nil) }},
		{"query, another escape", func() *http.Request { return httptest.NewRequest("GET", "/x?%61ccess_token=eyJ.a.b", nil) }},
		{"form", func() *http.Request {
			r := httptest.NewRequest("POST", "/x", strings.NewReader("access%5Ftoken=eyJ.a.b"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.r()
			r.Header.Set("Authorization", "Bearer abc")
			if _, err := BearerToken(r); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
}

func TestBearerTokenRefusesTokensURLParsingWouldDrop(t *testing.T) {
	for _, target := range []string{
		"/x?access_token=%zz",
		"/x?access_token=a;b",
		"/x?x=1;access_token=eyJ.a.b",
		"/x?a=%zz&access_token=eyJ.a.b",
	} {
		r := httptest.NewRequest("GET", "/x", nil)
		r.URL.RawQuery = strings.SplitN(target, "?", 2)[1]
		r.Header.Set("Authorization", "Bearer abc")
		if _, err := BearerToken(r); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", target, err)
		}
	}
	r := httptest.NewRequest("POST", "/x", strings.NewReader("x=1;access_token=eyJ.a.b"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Bearer abc")
	if _, err := BearerToken(r); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("form with a semicolon: err = %v, want ErrInvalidRequest", err)
	}
	ok := httptest.NewRequest("GET", "/x?name=access_token&my_access_token=1", nil)
	ok.Header.Set("Authorization", "Bearer abc")
	if _, err := BearerToken(ok); err != nil {
		t.Errorf("a value or a longer name that merely contains access_token: %v", err)
	}
}

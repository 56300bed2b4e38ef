package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/auth"
)

// Bearer tokens the fake authenticator knows. Each is distinctive so that a
// test can prove it never reaches the log.
const (
	goodToken       = "good-QX7ZK9-token"                         // user_impersonation, the usual caller
	extraToken      = "extra-M4RB1E-token"                        // user_impersonation and extra
	adminToken      = "admin-W2JH8L-token"                        // user_impersonation and the Admin role
	noScopeToken    = "noscope-P0LKJ3-token"                      // only openid
	appOnlyToken    = "apponly-Z9XC6V-token"                      // app-only, though it names the scope
	keysToken       = "keys-loading-N5TG7Y"                       // the keys are not loaded yet
	badToken        = "eyJhbGciOi.EXPIRED-R3CG-FAKE.c2lnbmF0dXJl" // expired
	goodOID         = "00000000-0000-0000-0000-0000000000a1"
	goodTID         = "00000000-0000-0000-0000-0000000000b2"
	goodClientApp   = "00000000-0000-0000-0000-0000000000c3"
	otherClientApp  = "00000000-0000-0000-0000-0000000000d4"
	invocationID    = "b986fcf6-1111-2222-3333-444455556666"
	requiredScope   = auth.DefaultRequiredScope
	helloAnonymousT = "This HTTP triggered function executed successfully. Pass a name in the query string or in the request body for a personalized response."
)

func hello(name string) string {
	return "Hello, " + name + ". This HTTP triggered function executed successfully."
}

// principalFor returns the principal the fake authenticator accepts for
// token, or nil.
func principalFor(token string) *auth.Principal {
	p := &auth.Principal{
		TenantID:     goodTID,
		ObjectID:     goodOID,
		Name:         "Marc Example",
		Username:     "marc@example.com",
		Scopes:       []string{requiredScope},
		Roles:        []string{},
		Groups:       []string{"g1"},
		ClientAppID:  goodClientApp,
		TokenVersion: "2.0",
		Source:       auth.SourceJWT,
	}
	switch token {
	case goodToken:
	case extraToken:
		p.Scopes = []string{requiredScope, "extra"}
	case adminToken:
		p.Roles = []string{"Admin"}
	case noScopeToken:
		p.Scopes = []string{"openid"}
	case appOnlyToken:
		p.AppOnly = true
	default:
		return nil
	}
	return p
}

// fakeAuthenticate follows the real header rules (auth.BearerToken) and
// then judges the token by the table above.
func fakeAuthenticate(r *http.Request) (*auth.Principal, error) {
	tok, err := auth.BearerToken(r)
	if err != nil {
		return nil, err
	}
	if tok == keysToken {
		return nil, auth.ErrUnavailable
	}
	if p := principalFor(tok); p != nil {
		return p, nil
	}
	return nil, &auth.TokenError{Reason: "expired", Err: errors.New("token has invalid claims: token is expired")}
}

type fixture struct {
	h    http.Handler
	logs *bytes.Buffer
}

// newFixture builds the server with the fake authenticator, a JSON logger
// into a buffer and the policy requiring user_impersonation; edit adjusts
// the options first.
func newFixture(t testing.TB, edit func(*Options)) *fixture {
	t.Helper()
	var logs bytes.Buffer
	o := Options{
		Logger:        slog.New(slog.NewJSONHandler(&logs, nil)),
		Authenticator: auth.AuthenticatorFunc(fakeAuthenticate),
		Policy:        auth.Policy{RequiredScopes: []string{requiredScope}},
	}
	if edit != nil {
		edit(&o)
	}
	return &fixture{h: NewServer(o), logs: &logs}
}

// req describes one request.
type req struct {
	method  string
	target  string
	body    io.Reader // nil: no body
	ctype   string
	token   string // sent as Authorization: Bearer token when set
	headers http.Header
}

func (f *fixture) do(t testing.TB, q req) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(q.method, q.target, q.body)
	if q.ctype != "" {
		r.Header.Set("Content-Type", q.ctype)
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	for k, vs := range q.headers {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// logLines parses the log buffer, one JSON object per line.
func (f *fixture) logLines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(f.logs.Bytes()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// requestLine returns the single "request" line the buffer must hold.
func (f *fixture) requestLine(t testing.TB) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, l := range f.logLines(t) {
		if l["msg"] == "request" {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one request log line, got %d:\n%s", len(found), f.logs.String())
	}
	return found[0]
}

// problemBody mirrors the problem+json the API sends.
type problemBody struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	Rule      string `json:"rule"`
	RequestID string `json:"requestId"`
}

// checkProblem asserts w is a problem+json response with status and
// returns its body.
func checkProblem(t testing.TB, w *httptest.ResponseRecorder, status int) problemBody {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var pb problemBody
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pb); err != nil {
		t.Fatalf("body is not a problem: %v: %s", err, w.Body.String())
	}
	if dec.More() {
		t.Errorf("body holds more than one JSON value: %s", w.Body.String())
	}
	if pb.Type == "" {
		t.Errorf("problem type is empty")
	}
	if pb.Title != http.StatusText(status) {
		t.Errorf("problem title = %q, want %q", pb.Title, http.StatusText(status))
	}
	if pb.Status != status {
		t.Errorf("problem status = %d, want %d", pb.Status, status)
	}
	if strings.TrimSpace(pb.Detail) == "" {
		t.Errorf("problem detail is empty")
	}
	if pb.RequestID == "" {
		t.Errorf("problem requestId is empty")
	}
	return pb
}

// checkText asserts w is a 200 text/plain answer with exactly body.
func checkText(t testing.TB, w *httptest.ResponseRecorder, body string) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/plain; charset=utf-8", ct)
	}
	if got := w.Body.String(); got != body {
		t.Errorf("body = %q, want %q", got, body)
	}
}

// chunked hides a reader's length, so httptest.NewRequest leaves
// ContentLength at -1 as for a chunked request.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

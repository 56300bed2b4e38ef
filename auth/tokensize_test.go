package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestTokenSizeIsOneLimit: MaxTokenBytes is measured on the token, never
// on the header that carried it, so that a token gets the same answer
// however it was sent: with any casing of the scheme and any spaces
// around it, through Bearer, through Easy Auth's token check (in
// Authorization or in X-MS-TOKEN-AAD-ACCESS-TOKEN), and from Explain,
// which handler explain runs. A bound on the header refused tokens of
// MaxTokenBytes-6 to MaxTokenBytes bytes at the server ("Bearer " is
// seven bytes) while Explain accepted them, and answered 400
// invalid_request where Explain said 401 malformed.
func TestTokenSizeIsOneLimit(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, nil)
	easy, err := EasyAuth(EasyAuthConfig{TenantID: testTenant, Audiences: []string{testAudience}, Verifier: v, Now: testNowFunc})
	if err != nil {
		t.Fatal(err)
	}
	principal := eaPrincipal(t, "aad", "oid", testOID, "tid", testTenant, "aud", testAudience)

	type via struct {
		name string
		a    Authenticator
		// header sets the token on r.
		header func(r *http.Request, tok string)
	}
	authorization := func(prefix, suffix string) func(*http.Request, string) {
		return func(r *http.Request, tok string) { r.Header.Set("Authorization", prefix+tok+suffix) }
	}
	ways := []via{
		{"Bearer", Bearer(v), authorization("Bearer ", "")},
		{"lower-case bearer and spaces", Bearer(v), authorization("bearer   ", "  ")},
		{"upper-case BEARER", Bearer(v), authorization("BEARER ", "")},
		{"Easy Auth, Authorization", easy, func(r *http.Request, tok string) {
			r.Header.Set(HeaderClientPrincipal, principal)
			r.Header.Set(HeaderClientPrincipalIDP, "aad")
			r.Header.Set("Authorization", "Bearer  "+tok)
		}},
		{"Easy Auth, the token store's header", easy, func(r *http.Request, tok string) {
			r.Header.Set(HeaderClientPrincipal, principal)
			r.Header.Set(HeaderClientPrincipalIDP, "aad")
			r.Header.Set(headerAADAccessToken, " "+tok+" ")
		}},
	}
	sizes := []struct {
		name   string
		length int
		reason string // "" when accepted
	}{
		{"a header of exactly the limit", MaxTokenBytes - len("Bearer "), ""},
		{"the first length a header bound refused", MaxTokenBytes - len("Bearer ") + 1, ""},
		{"one under the limit", MaxTokenBytes - 1, ""},
		{"at the limit", MaxTokenBytes, ""},
		{"one over the limit", MaxTokenBytes + 1, reasonMalformed},
	}
	for _, sz := range sizes {
		tok := tokenOfLength(t, sz.length)
		for _, w := range ways {
			t.Run(sz.name+"/"+w.name, func(t *testing.T) {
				r := httptest.NewRequest(http.MethodGet, "/api/Me", nil)
				w.header(r, tok)
				p, err := w.a.Authenticate(r)
				if got := Reason(err); got != sz.reason {
					t.Fatalf("%d-byte token: reason %q (%v), want %q", len(tok), got, err, sz.reason)
				}
				if sz.reason == "" && p == nil {
					t.Fatal("accepted without a principal")
				}
				for _, checked := range []bool{true, false} {
					tr := v.Trace(context.Background(), tok, TraceOptions{CheckSignature: checked})
					if Reason(tr.Err) != Reason(err) || (tr.Err == nil) != (err == nil) {
						t.Errorf("Trace(CheckSignature %v) answers %v; the server %q (%v)", checked, tr.Err, Reason(err), err)
					}
				}
			})
		}
	}
}

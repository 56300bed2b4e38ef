package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/entratest"
)

// TestTokenSizeServerAgreesWithExplain: at auth.MaxTokenBytes and one byte
// either side, the server answers a forwarded request and an invocation
// payload as auth's Trace (handler explain's judge) says it will, with any
// casing of the scheme and any spaces around the token. Before, the
// server bounded the whole header, "Bearer " included, and answered 400
// to tokens of 16378 to 16384 bytes that explain accepted.
func TestTokenSizeServerAgreesWithExplain(t *testing.T) {
	key, keys := logKeySet(t)
	const aud = "api://size-test"
	v, err := auth.NewVerifier(auth.Config{TenantID: goodTID, Audiences: []string{aud}}, keys)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := map[string]any{
		"aud": aud, "iss": "https://login.microsoftonline.com/" + goodTID + "/v2.0", "tid": goodTID, "oid": goodOID,
		"ver": "2.0", "scp": requiredScope, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	// ofLength signs a token of exactly n bytes.
	ofLength := func(n int) string {
		tok := entratest.OfLength(n, func(h, p string) string {
			claims["pad"] = p
			return signedBy(t, key, `{"alg":"RS256","typ":"JWT","kid":"`+logKID+`","x":"`+h+`"}`, mustJSON(t, claims))
		})
		if tok == "" {
			t.Fatalf("no token of %d bytes", n)
		}
		return tok
	}

	forms := []struct{ name, prefix, suffix string }{
		{"Bearer", "Bearer ", ""},
		{"bearer with spaces", "bearer    ", "   "},
		{"BEARER", "BEARER ", ""},
	}
	for _, n := range []int{auth.MaxTokenBytes - len("Bearer ") + 1, auth.MaxTokenBytes - 1, auth.MaxTokenBytes, auth.MaxTokenBytes + 1} {
		tok := ofLength(n)
		tr := v.Trace(context.Background(), tok, auth.TraceOptions{Policy: auth.Policy{RequiredScopes: []string{requiredScope}}, CheckSignature: true})
		accepted, reason := tr.Err == nil, auth.Reason(tr.Err)
		wantStatus := http.StatusOK
		if !accepted {
			wantStatus, _ = Refusal(tr.Err)
		}
		if (n <= auth.MaxTokenBytes) != accepted {
			t.Fatalf("Explain: a %d-byte token accepted %v (reason %q)", n, accepted, reason)
		}
		for _, form := range forms {
			header := form.prefix + tok + form.suffix
			t.Run(fmt.Sprintf("%d bytes/%s", n, form.name), func(t *testing.T) {
				f := newFixture(t, func(o *Options) { o.Authenticator = auth.Bearer(v) })
				w := f.do(t, req{method: http.MethodGet, target: "/api/Me", headers: http.Header{"Authorization": {header}}})
				if w.Code != wantStatus {
					t.Errorf("forwarded, %d-byte token: %d, Explain says %d (%s): %s", n, w.Code, wantStatus, reason, w.Body.String())
				}
				if line := f.requestLine(t); line["reason"] != nil && line["reason"] != reason {
					t.Errorf("forwarded: logged reason %v, Explain says %q", line["reason"], reason)
				}
				f.logs.Reset()
				p := hostPayload(t, "GET", "http://localhost:7071/api/Me", map[string][]string{"Authorization": {header}}, nil, nil)
				status, _, body := invoke(t, f, "/Me", p)
				if status != strconv.Itoa(wantStatus) {
					t.Errorf("invocation, %d-byte token: %s, Explain says %d (%s): %s", n, status, wantStatus, reason, body)
				}
			})
		}
	}
}

package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// documentedReasons are the TokenError reasons of errors.go.
var documentedReasons = []string{
	"expired", "not_yet_valid", "signature", "unknown_key", "algorithm", "header", "malformed",
	"audience", "issuer", "tenant", "version", "duplicate_claim", "missing_claim", "principal",
}

// seedPayloads are claim sets shaped like real tokens, and a few that are
// not.
func seedPayloads(tb testing.TB) []string {
	tb.Helper()
	marshal := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return string(b)
	}
	seeds := []string{
		marshal(v2Claims()),
		marshal(v1Claims()),
		marshal(claimsWith(v2Claims(), "aud", []string{"x", testAudience}, "roles", []string{"r"}, "groups", []string{groupA})),
		marshal(claimsWith(v2Claims(), "_claim_names", map[string]any{"groups": "src1"}, "idtyp", "app")),
		`{"tid":"a","TID":"b"}`,
		`{"tid":"a","tid":"b"}`,
		`{"t\u0069d":"a","Tid":"b"}`,
		`{"exp":1e400}`,
		`{"exp":-1e300,"nbf":"x"}`,
		`{"aud":[1,2]}`,
		`{"_claim_names":null,"groups":null,"roles":[null]}`,
		`null`, `[]`, `""`, `{}`, `{"a":{"b":[{"c":{}}]}}`,
	}
	for _, name := range []string{"v2-access-token-navikt.jwt", "v1-access-token-passport.jwt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			tb.Fatal(err)
		}
		parts := strings.Split(strings.TrimSpace(string(b)), ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, string(payload))
	}
	return seeds
}

func FuzzClaimsUnmarshal(f *testing.F) {
	for _, s := range seedPayloads(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeClaims(b)
		if err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON %q decoded", b)
		}
		p := c.principal(SourceJWT)
		if p.Scopes == nil || p.Roles == nil || p.Groups == nil {
			t.Fatalf("principal has nil slices: %+v", p)
		}
		if !slices.Equal(p.Scopes, strings.Fields(c.Scope)) {
			t.Fatalf("Scopes %q from scp %q", p.Scopes, c.Scope)
		}
		if p.AppOnly != (c.IDType == "app") {
			t.Fatalf("AppOnly %v from idtyp %q", p.AppOnly, c.IDType)
		}
		// Exactly the member named "tid" (and "oid") is read, never a case
		// variant: compare with a plain map decode, which keeps exact names.
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return // null is a valid claims value for neither
		}
		for name, got := range map[string]string{"tid": p.TenantID, "oid": p.ObjectID, "ver": p.TokenVersion} {
			want, _ := m[name].(string)
			if got != want {
				t.Fatalf("%s = %q, want the exact member's %q in %q", name, got, want, b)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	trusted, attacker := testKeys(f)
	v := newTestVerifier(f, nil)
	seeds := []string{
		signRS256(f, v2Claims()),
		signRS256(f, v1Claims()),
		signRS256(f, claimsWith(v2Claims(), "tid", otherTenant)),
		signRaw(f, trusted, rawHeader, `{"tid":"a","TID":"b"}`),
		signRaw(f, attacker, rawHeader, seedPayloads(f)[0]),
		"", ".", "..", "a.b.c", "a.b.c.d.e", "eyJhbGciOiJub25lIn0.e30.",
		strings.Repeat("A", 100) + "." + strings.Repeat("B", 100) + "." + strings.Repeat("C", 100),
	}
	for _, name := range []string{"v2-access-token-navikt.jwt", "v1-access-token-passport.jwt"} {
		seeds = append(seeds, fixtureToken(f, name))
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.Verify(context.Background(), raw)
		checkVerifyResult(t, raw, p, err)
	})
}

// FuzzSignedToken signs arbitrary headers and payloads with the trusted
// key, so that the checks after the signature are fuzzed too.
func FuzzSignedToken(f *testing.F) {
	trusted, _ := testKeys(f)
	v := newTestVerifier(f, nil)
	headers := []string{rawHeader, `{"alg":"RS256"}`, `{"alg":"RS256","kid":"` + testKID + `","jku":"http://127.0.0.1/"}`, `{"alg":"none"}`}
	for i, p := range seedPayloads(f) {
		f.Add(headers[i%len(headers)], p)
	}
	f.Fuzz(func(t *testing.T, header, payload string) {
		raw := signRaw(t, trusted, header, payload)
		p, err := v.Verify(context.Background(), raw)
		checkVerifyResult(t, raw, p, err)
		if err != nil {
			return
		}
		var h map[string]any
		if json.Unmarshal([]byte(header), &h) != nil || h["alg"] != "RS256" {
			t.Fatalf("accepted a token with header %q", header)
		}
		var c map[string]any
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			t.Fatalf("accepted a payload that is not a JSON object: %q", payload)
		}
		if iss, _ := c["iss"].(string); !slices.Contains(entraIssuers(testTenant), iss) {
			t.Fatalf("accepted issuer %q", c["iss"])
		}
		if !strings.EqualFold(p.TenantID, testTenant) || p.ObjectID == "" || p.TokenVersion != "1.0" && p.TokenVersion != "2.0" {
			t.Fatalf("accepted principal %+v", p)
		}
		if p.ExpiresAt.IsZero() || !testNow.Before(p.ExpiresAt.Add(maxLeeway)) {
			t.Fatalf("accepted expiry %v", p.ExpiresAt)
		}
		// No security claim may appear twice in any letter case.
		dec := json.NewDecoder(strings.NewReader(payload))
		seen := map[string]bool{}
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			name := strings.ToLower(tok.(string))
			if securityClaim(name) >= 0 && seen[name] {
				t.Fatalf("accepted a duplicate %q in %q", name, payload)
			}
			seen[name] = true
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func checkVerifyResult(t *testing.T, raw string, p *Principal, err error) {
	t.Helper()
	switch {
	case err == nil && p == nil:
		t.Fatalf("Verify(%q) returned neither principal nor error", raw)
	case err != nil && p != nil:
		t.Fatalf("Verify(%q) returned a principal and the error %v", raw, err)
	case err != nil:
		var te *TokenError
		if !errors.Is(err, ErrInvalidToken) || !errors.As(err, &te) {
			t.Fatalf("Verify(%q) error %v (%T) is not a *TokenError", raw, err, err)
		}
		if !slices.Contains(documentedReasons, te.Reason) {
			t.Fatalf("Verify(%q) reason %q is not documented (%v)", raw, te.Reason, err)
		}
	}
}

// FuzzTrace signs arbitrary headers and payloads with the trusted key
// and traces them, with the signature checked and without: Trace must
// never panic, must give Verify's answer when it checks the signature,
// must answer with its first failed step, and must never repeat the
// signature.
func FuzzTrace(f *testing.F) {
	trusted, _ := testKeys(f)
	v := newTestVerifier(f, nil)
	headers := []string{rawHeader, `{"alg":"RS256"}`, `{"alg":"none"}`, `{"alg":"RS256","kid":"` + testKID + `","nonce":"x"}`}
	for i, p := range seedPayloads(f) {
		f.Add(headers[i%len(headers)], p, false)
	}
	f.Add(rawHeader, `{"aud":"https://apihub.azure.com","exp":1e300}`, true)
	f.Fuzz(func(t *testing.T, header, payload string, garble bool) {
		raw := signRaw(t, trusted, header, payload)
		if garble {
			raw = raw[:len(raw)/2] + "." + raw[len(raw)/2:]
		}
		_, verr := v.Verify(context.Background(), raw)
		if !isToken68(raw) {
			verr = errNotToken68
		}
		for _, checked := range []bool{true, false} {
			tr := v.Trace(context.Background(), raw, TraceOptions{CheckSignature: checked, Policy: Policy{RequiredScopes: []string{DefaultRequiredScope}}})
			if checked && tr.Err == nil && verr != nil {
				t.Fatalf("Trace accepted what Verify refuses (%v)", verr)
			}
			var first error
			for _, s := range tr.Steps {
				if s.Err != nil && first == nil {
					first = s.Err
				}
			}
			if first != tr.Err {
				t.Fatalf("verdict %v, first failed step %v", tr.Err, first)
			}
			b, err := json.Marshal(tr.Steps)
			if err != nil {
				t.Fatal(err)
			}
			if parts := strings.Split(raw, "."); len(parts) == 3 && len(parts[2]) >= 16 && strings.Contains(string(b), parts[2]) {
				t.Fatal("the trace repeats the signature")
			}
		}
	})
}

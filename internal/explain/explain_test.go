package explain

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/entratest"
)

// otherTenant is a tenant that is not the issuer's.
const otherTenant = "9b1e2c3d-4f5a-4b6c-8d7e-0f1a2b3c4d5e"

// issuerVerifier returns a verifier of is's tenant that accepts the API's
// client id and App ID URI, with is's published keys.
func issuerVerifier(t *testing.T, is *entratest.Issuer, src auth.Source) *auth.Verifier {
	t.Helper()
	resp, err := http.Get(is.JWKSURL(entratest.V2))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	jwks, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewStaticKeySet(jwks)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{TenantID: is.TenantID(), Audiences: []string{is.ClientID(), is.AppIDURI()}, Source: src}, keys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// explainCase is one token, and the verdict and case Explain must find.
type explainCase struct {
	name  string
	token string
	pol   auth.Policy
	// reason is the verdict's word, "" when accepted; key the case of the
	// reason table whose fix the first failure quotes ("" the general
	// row). signed, when set, is the verdict's word with the signature
	// checked.
	reason, key, signed string
	// kind and actor, when set, are the shape's.
	kind  Kind
	actor Actor
	// note must be among the notes.
	note string
}

// TestExplain explains a token of each case, with the signature checked
// and without, and holds each explanation to the trace it comes from (the
// verdict is the trace's, the first failed check is the verdict's, every
// check is a step's) and to its form (every failure has a problem and the
// reason table's fix, nothing repeats the signature).
func TestExplain(t *testing.T) {
	t.Parallel()
	is := entratest.New(t, entratest.Config{})
	v := issuerVerifier(t, is, auth.SourceJWT)
	now := time.Now()
	v1 := entratest.V1
	good := is.Mint(entratest.Token{})
	iss := func(tid string) map[string]any {
		return map[string]any{"tid": tid, "iss": "https://login.microsoftonline.com/" + tid + "/v2.0"}
	}
	dev, err := auth.LoadOrCreateDevKey(filepath.Join(t.TempDir(), "dev.pem"))
	if err != nil {
		t.Fatal(err)
	}
	devToken, err := dev.Mint(auth.DevToken{})
	if err != nil {
		t.Fatal(err)
	}
	scope := auth.Policy{RequiredScopes: []string{auth.DefaultRequiredScope}}

	cases := []explainCase{
		{name: "v2 delegated", token: good, pol: scope, kind: KindAccessToken, actor: ActorDelegated},
		{name: "v1 delegated", token: is.Mint(entratest.Token{Version: v1}), pol: scope},

		{name: "aud the function app (v1)", token: is.Mint(entratest.Token{Version: v1, Audience: "https://myfn.azurewebsites.net"}), reason: "audience", key: caseResourceURL},
		{name: "aud a near miss", token: is.Mint(entratest.Token{Version: v1, Audience: is.AppIDURI() + "/"}), reason: "audience", key: caseNearMiss},
		{name: "aud another API (v2)", token: is.Mint(entratest.Token{Audience: "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b"}), reason: "audience", key: caseOtherAPI},
		{name: "aud Power Platform's", token: is.Mint(entratest.Token{Version: v1, Audience: "https://apihub.azure.com"}), reason: "audience", key: caseAPIHub, note: "first-hop token"},
		{name: "aud Graph", token: is.Mint(entratest.Token{Audience: "00000003-0000-0000-c000-000000000000"}), reason: "audience", key: caseGraph, note: "Microsoft Graph"},
		{name: "an ID token for the client", token: is.Mint(entratest.Token{Kind: entratest.IDToken}), reason: "audience", key: caseIDToken, kind: KindIDToken},
		{name: "a development token", token: devToken, reason: "audience", key: caseDev, signed: "unknown_key", note: "development token"},
		{name: "no aud", token: is.Mint(entratest.Token{Claims: map[string]any{"aud": nil}}), reason: "missing_claim"},

		{name: "another tenant", token: is.Mint(entratest.Token{Claims: iss(otherTenant)}), reason: "issuer", key: caseOtherTenant},
		{name: "a personal account", token: is.Mint(entratest.Token{Claims: iss("9188040d-6c67-4c5b-b112-36a304b66dad")}), reason: "issuer", key: caseConsumer},
		{name: "another cloud", token: is.Mint(entratest.Token{Claims: map[string]any{"iss": "https://login.microsoftonline.us/" + is.TenantID() + "/v2.0"}}), reason: "issuer", key: caseSovereign},
		{name: "another tid", token: is.Mint(entratest.Token{Claims: map[string]any{"tid": otherTenant}}), reason: "tenant"},

		{name: "expired", token: is.Mint(entratest.Token{IssuedAt: now.Add(-2 * time.Hour), Lifetime: time.Hour}), reason: "expired"},
		{name: "expired, for another API too", token: is.Mint(entratest.Token{Audience: "api://other", IssuedAt: now.Add(-2 * time.Hour), Lifetime: time.Hour}), reason: "expired"},
		{name: "not yet valid", token: is.Mint(entratest.Token{IssuedAt: now.Add(10 * time.Minute)}), reason: "not_yet_valid"},
		{name: "no exp", token: is.Mint(entratest.Token{Claims: map[string]any{"exp": nil}}), reason: "missing_claim"},

		{name: "app-only", token: is.Mint(entratest.Token{Kind: entratest.AppOnly, Roles: []string{"Data.Read"}}), pol: scope, reason: "insufficient_scope", key: caseAppOnly, kind: KindAccessToken, actor: ActorAppOnly},
		{name: "an ID token for the API", token: is.Mint(entratest.Token{Kind: entratest.IDToken, Audience: is.ClientID()}), pol: scope, reason: "insufficient_scope", key: caseIDToken},
		{name: "another scope", token: is.Mint(entratest.Token{Scopes: []string{"Files.Read"}}), pol: scope, reason: "insufficient_scope"},
		{name: "another client app", token: good, pol: auth.Policy{AllowedClientApps: []string{otherTenant}}, reason: "AUTH_ALLOWED_CLIENT_APPS"},
		{name: "a route's role", token: good, pol: auth.Policy{RequiredRoles: []string{"Admin"}}, reason: "route roles"},

		{name: "alg none", token: is.Mint(entratest.Token{Header: map[string]any{"alg": "none"}}), reason: "algorithm"},
		{name: "no kid", token: is.Mint(entratest.Token{Header: map[string]any{"kid": nil}}), reason: "header"},
		{name: "a key nobody publishes", token: is.Mint(entratest.Token{KeyID: "not-published"}), reason: "unknown_key"},
		{name: "garbage", token: "garbage", reason: "malformed"},
		{name: "a JWE", token: "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.ZW5jcnlwdGVka2V5.aXY.Y2lwaGVydGV4dA.dGFn", reason: "malformed"},
		{name: "not token68", token: `"` + good + `"`, reason: "invalid_request"},
		{name: "too large", token: is.Mint(entratest.Token{Claims: map[string]any{"pad": strings.Repeat("x", auth.MaxTokenBytes)}}), reason: "malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, checked := range []bool{true, false} {
				opts := auth.TraceOptions{Policy: c.pol, CheckSignature: checked}
				e := Explain(context.Background(), v, c.token, opts)
				checkExplanation(t, v, c, opts, e)
			}
		})
	}
}

// checkExplanation holds e, c's token explained with opts, to the trace
// and to c.
func checkExplanation(t *testing.T, v *auth.Verifier, c explainCase, opts auth.TraceOptions, e *Explanation) {
	t.Helper()
	tr := v.Trace(context.Background(), c.token, opts)
	if auth.Reason(e.Err) != auth.Reason(tr.Err) || e.Accepted != (tr.Err == nil) || e.Reason != auth.Reason(tr.Err) {
		t.Errorf("Explain's verdict %v (%q), the trace's %v", e.Err, e.Reason, tr.Err)
	}
	// Unchecked, a token refused for its signature alone is accepted if
	// the signature is good.
	want := c.reason
	if opts.CheckSignature && c.signed != "" {
		want = c.signed
	}
	if (opts.CheckSignature || want != "unknown_key" && want != "signature") && e.Reason != want {
		t.Errorf("CheckSignature %v: verdict %q, want %q", opts.CheckSignature, e.Reason, want)
	}
	if e.Conditional != (e.Accepted && !e.SignatureChecked) {
		t.Errorf("Conditional %v with Accepted %v and SignatureChecked %v", e.Conditional, e.Accepted, e.SignatureChecked)
	}
	for _, s := range tr.Steps {
		if _, ok := labels[s.Name]; !ok {
			t.Errorf("the trace's step %q has no label: its check would be shown by its bare name", s.Name)
		}
	}
	shown := map[string]bool{}
	for _, l := range labels {
		shown[l] = true
	}
	var first *Check
	for i, ch := range e.Checks {
		if !shown[ch.Name] {
			t.Errorf("check %q is named by no label", ch.Name)
		}
		if ch.Result != Failed {
			continue
		}
		if first == nil {
			first = &e.Checks[i]
			if ch.AfterRefusal {
				t.Errorf("the first failure %q is marked after the refusal", ch.Name)
			}
		} else if !ch.AfterRefusal {
			t.Errorf("failure %q past the first is not marked after the refusal", ch.Name)
		}
		if ch.Problem == "" || ch.Fix == "" || ch.Cause == "" {
			t.Errorf("check %q failed (%q) without a problem, a cause and a fix", ch.Name, ch.Reason)
		}
		if strings.HasPrefix(ch.Problem, "auth:") {
			t.Errorf("check %q: the problem %q keeps the error's prefix", ch.Name, ch.Problem)
		}
	}
	switch {
	case first == nil && !e.Accepted:
		t.Errorf("refused (%q) without a failed check", e.Reason)
	case first != nil && first.Reason != e.Reason:
		t.Errorf("the first failed check says %q, the verdict %q", first.Reason, e.Reason)
	case first != nil && e.Reason == c.reason:
		if d, ok := docCase(first.Reason, sectionOf(e.Err), c.key); !ok || d.key != c.key || first.Fix != d.fix {
			t.Errorf("the first failure's fix is not the %q row of %q:\n%s", c.key, first.Reason, first.Fix)
		}
	}
	if c.kind != "" && e.Shape.Kind != c.kind || c.actor != "" && e.Shape.Actor != c.actor {
		t.Errorf("shape %q %q, want %q %q", e.Shape.Kind, e.Shape.Actor, c.kind, c.actor)
	}
	if c.note != "" && !strings.Contains(strings.Join(e.Notes, "\n"), c.note) {
		t.Errorf("notes %q lack %q", e.Notes, c.note)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if parts := strings.Split(c.token, "."); len(parts) == 3 && len(parts[2]) >= 16 && strings.Contains(string(b), parts[2]) {
		t.Error("the explanation repeats the token's signature")
	}
	var verdict map[string]any
	json.Unmarshal(b, &verdict)
	for _, k := range []string{"accepted", "reason", "conditional"} {
		if _, ok := verdict[k]; ok {
			t.Errorf("the explanation's JSON has %q: the verdict is the report's, given once", k)
		}
	}
}

// TestExplainDevServer: at a dev-mode server the fixes are about minting
// another development token, whatever the token.
func TestExplainDevServer(t *testing.T) {
	t.Parallel()
	is := entratest.New(t, entratest.Config{})
	v := issuerVerifier(t, is, auth.SourceDev)
	c := explainCase{token: is.Mint(entratest.Token{Audience: "api://elsewhere"}), reason: "audience", key: caseDev}
	e := Explain(context.Background(), v, c.token, auth.TraceOptions{CheckSignature: true})
	checkExplanation(t, v, c, auth.TraceOptions{CheckSignature: true}, e)
	if !strings.Contains(strings.Join(e.Notes, "\n"), "dev mode") {
		t.Errorf("notes %q do not say the server is in dev mode", e.Notes)
	}
}

// TestExplainHostileValues: what the token says reaches the explanation
// cut and escaped, never as it was written.
func TestExplainHostileValues(t *testing.T) {
	t.Parallel()
	is := entratest.New(t, entratest.Config{})
	v := issuerVerifier(t, is, auth.SourceJWT)
	tok := is.Mint(entratest.Token{Header: map[string]any{"kid": "k\x1b[31m"},
		Claims: map[string]any{"aud": strings.Repeat("api://x\x1b[2J", 100), "name": "Ada\u202e", "scp": "a\x07"}})
	e := Explain(context.Background(), v, tok, auth.TraceOptions{})
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back any
	json.Unmarshal(b, &back)
	s := jsonStrings(back)
	for _, bad := range []string{"\x1b", "\u202e", "\x07"} {
		if strings.Contains(s, bad) {
			t.Errorf("the explanation holds %q as written", bad)
		}
	}
	for _, c := range e.Checks {
		if len(c.Got) > 4*256 {
			t.Errorf("check %q: got is %d bytes, not cut", c.Name, len(c.Got))
		}
	}
}

// jsonStrings joins every string of a decoded JSON value.
func jsonStrings(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var b strings.Builder
		for _, e := range v {
			b.WriteString(jsonStrings(e))
		}
		return b.String()
	case map[string]any:
		var b strings.Builder
		for _, e := range v {
			b.WriteString(jsonStrings(e))
		}
		return b.String()
	}
	return ""
}

// FuzzExplain explains arbitrary header and payload segments (unsigned:
// the signature step fails or does not run): Explain must never panic,
// must give the trace's verdict, and must show it as its first failure.
func FuzzExplain(f *testing.F) {
	f.Add(`{"alg":"RS256","kid":"k","typ":"JWT"}`, `{"aud":"https://apihub.azure.com","exp":1e300,"ver":"2.0"}`)
	f.Add(`{"alg":"none"}`, `{"idtyp":"app","roles":["a"],"exp":-1e13}`)
	f.Add(`{"alg":"RS256","kid":"k","nonce":"x"}`, `{"aud":["00000003-0000-0000-c000-000000000000"],"scp":"x"}`)
	keys, err := auth.NewStaticKeySet([]byte(`{"keys":[]}`))
	if err != nil {
		f.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{TenantID: auth.DevTenantID, Audiences: []string{auth.DevAudience}}, keys)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header, payload string) {
		b64 := base64.RawURLEncoding.EncodeToString
		raw := b64([]byte(header)) + "." + b64([]byte(payload)) + "." + b64([]byte("not a signature, but long enough"))
		for _, checked := range []bool{true, false} {
			opts := auth.TraceOptions{CheckSignature: checked, Policy: auth.Policy{RequiredScopes: []string{auth.DefaultRequiredScope}}}
			e := Explain(context.Background(), v, raw, opts)
			if tr := v.Trace(context.Background(), raw, opts); auth.Reason(tr.Err) != e.Reason {
				t.Fatalf("Explain's verdict %q, the trace's %v", e.Reason, tr.Err)
			}
			for _, c := range e.Checks {
				if c.Result == Failed {
					if c.Reason != e.Reason {
						t.Fatalf("first failure %q, verdict %q", c.Reason, e.Reason)
					}
					break
				}
			}
		}
	})
}

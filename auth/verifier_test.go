package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// comparePrincipal fails t unless got equals want, ExpiresAt compared as
// an instant.
func comparePrincipal(t *testing.T, got, want *Principal) {
	t.Helper()
	if got == nil {
		t.Fatal("principal is nil")
	}
	if !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
	}
	g, w := *got, *want
	g.ExpiresAt, w.ExpiresAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("principal mismatch\n got: %+v\nwant: %+v", g, w)
	}
}

// rawPayload returns the JSON of c with extra members appended verbatim,
// so that a payload can hold what a map cannot (duplicate names).
func rawPayload(t *testing.T, c jwt.MapClaims, extra ...string) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "}")
	for _, e := range extra {
		if s != "{" {
			s += ","
		}
		s += e
	}
	return s + "}"
}

const rawHeader = `{"alg":"RS256","typ":"JWT","kid":"` + testKID + `"}`

// verifyCase is one token and what Verify must make of it. Every table of
// Verify cases is a []verifyCase, run by runVerifyCases: by concern,
// verifier_sig_test.go (algorithms, signatures, keys),
// verifier_claims_test.go (the principal, times, audience, issuer, tenant,
// version, required and duplicate claims), verifier_shape_test.go
// (malformed payloads and segments, size) and hardening_test.go (what
// Entra never sends, and client values in errors).
type verifyCase struct {
	name   string
	token  string
	cfg    func(*Config)
	noAlg  bool   // verify with a key set whose key has no "alg", like Entra's
	reason string // "" means the token is accepted
	// check judges an accepted token's principal.
	check func(t *testing.T, p *Principal)
	// checkErr judges a refusal's error beyond its reason.
	checkErr func(t *testing.T, err error)
}

// lookupFree are the refusals decided from the token alone, before any
// key is looked up: a forged token of that kind costs no RSA verification
// (golang-jwt verifies only with a key its keyfunc returned).
var lookupFree = map[string]bool{reasonHeader: true, reasonAlgorithm: true, reasonMalformed: true, reasonDuplicateClaim: true}

// runVerifyCases runs each case in parallel, with a verifier of its own
// (testConfig changed by cfg, the trusted key), and holds it to the
// outcome: an accepted token gives a principal and no error; a refused
// one gives exactly its reason, through TokenError and Reason alike, and
// no principal. Every case also holds the verifier to its cost: one key
// lookup for a token judged on its signature and claims, none for one
// refused from its bytes alone.
func runVerifyCases(t *testing.T, cases []verifyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			source := testKeySource
			if c.noAlg {
				source = entraLikeKeys
			}
			keys := &countingKeys{}
			v := newTestVerifierKeys(t, c.cfg, func(tb testing.TB) KeySet {
				keys.inner = source(tb)
				return keys
			})
			p, err := v.Verify(context.Background(), c.token)
			explainAgrees(t, c, source, err)
			wantLookups := int64(1)
			if lookupFree[c.reason] {
				wantLookups = 0
			}
			if n := keys.lookups.Load(); n != wantLookups {
				t.Errorf("%d key lookups, want %d (reason %q)", n, wantLookups, c.reason)
			}
			if c.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v, want success", err)
				}
				if p == nil {
					t.Fatal("Verify returned neither principal nor error")
				}
				if c.check != nil {
					c.check(t, p)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token (principal %+v), want reason %q", p, c.reason)
			}
			if p != nil {
				t.Errorf("Verify returned a principal with the error %v", err)
			}
			if got := tokenReason(t, err); got != c.reason {
				t.Errorf("reason = %q, want %q (error: %.300v)", got, c.reason, err)
			}
			if got := Reason(err); got != c.reason {
				t.Errorf("Reason(err) = %q, want %q", got, c.reason)
			}
			if _, ok := docFor(c.reason, sectionToken); !ok {
				t.Errorf("the reason %q has no row in the reason table's token section", c.reason)
			}
			if c.checkErr != nil {
				c.checkErr(t, err)
			}
		})
	}
}

// explainAgrees holds Explain to Verify's verdict on c's token (err),
// with the signature checked against the same keys and without it, and
// to the form of its checks: the first failure is the verdict's reason,
// every failure has a fix from the reason table, and the signature never
// appears.
func explainAgrees(t *testing.T, c verifyCase, source func(testing.TB) KeySet, verifyErr error) {
	t.Helper()
	v := newTestVerifierKeys(t, c.cfg, source)
	var sig string
	if parts := strings.Split(c.token, "."); len(parts) == 3 && len(parts[2]) >= 16 {
		sig = parts[2]
	}
	// The server refuses a token that is not token68 in BearerToken,
	// before Verify: explain answers as the server does.
	if !isToken68(c.token) {
		verifyErr = errNotToken68
	}
	for _, checked := range []bool{true, false} {
		e := v.Explain(context.Background(), c.token, ExplainOptions{CheckSignature: checked})
		// The signature is checked when asked for and the token gets that
		// far: not when it is refused from its bytes alone.
		if want := checked && !lookupFree[c.reason]; e.SignatureChecked != want {
			t.Errorf("Explain(CheckSignature %v): SignatureChecked = %v, want %v", checked, e.SignatureChecked, want)
		}
		if e.Conditional != (e.Accepted && !e.SignatureChecked) {
			t.Errorf("Explain(CheckSignature %v): Conditional = %v with Accepted %v and SignatureChecked %v", checked, e.Conditional, e.Accepted, e.SignatureChecked)
		}
		if checked || (c.reason != reasonSignature && c.reason != reasonUnknownKey) {
			if e.Accepted != (verifyErr == nil) || e.Reason != Reason(verifyErr) {
				t.Errorf("Explain(CheckSignature %v) says accepted %v, reason %q; Verify says %q (%v)", checked, e.Accepted, e.Reason, Reason(verifyErr), verifyErr)
			}
		}
		first := ""
		for _, ch := range e.Checks {
			if ch.Result != CheckFailed {
				continue
			}
			if first == "" {
				first = ch.Reason
			}
			if ch.Fix == "" || ch.Problem == "" {
				t.Errorf("Explain: check %q failed (%q) without a problem and a fix", ch.Name, ch.Reason)
			}
			_, tok := docFor(ch.Reason, sectionToken)
			_, scope := docFor(ch.Reason, sectionScope)
			_, req := docFor(ch.Reason, sectionRequest)
			if !tok && !scope && !req {
				t.Errorf("Explain: check %q failed with reason %q, which the reason table does not explain", ch.Name, ch.Reason)
			}
		}
		if first != e.Reason {
			t.Errorf("Explain(CheckSignature %v): the first failed check says %q, the verdict %q", checked, first, e.Reason)
		}
		if checked {
			for _, ch := range e.Checks {
				if ch.Result == CheckNotChecked && ch.Name == "signature (kid)" && e.Reason == "" {
					t.Errorf("Explain accepted the token without checking the signature")
				}
			}
		}
		if sig != "" {
			b, _ := json.Marshal(e)
			if strings.Contains(string(b), sig) {
				t.Errorf("Explain's output contains the token's signature")
			}
		}
	}
}

// unavailableKeys is a key set whose keys are not loaded yet.
type unavailableKeys struct{}

func (unavailableKeys) Wait(context.Context) error {
	return fmt.Errorf("warming up: %w", ErrUnavailable)
}
func (unavailableKeys) KeyfuncCtx(context.Context) jwt.Keyfunc {
	return func(*jwt.Token) (any, error) { return nil, fmt.Errorf("warming up: %w", ErrUnavailable) }
}
func (unavailableKeys) Issuers() []string  { return nil }
func (unavailableKeys) Generation() uint64 { return 0 }

func TestVerifyKeysUnavailable(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(testConfig(), unavailableKeys{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), signRS256(t, v2Claims()))
	if p != nil || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Verify = %v, %v; want ErrUnavailable", p, err)
	}
	if errors.Is(err, ErrInvalidToken) {
		t.Errorf("unavailable keys reported as an invalid token: %v", err)
	}
	if got := Reason(err); got != "keys_unavailable" {
		t.Errorf("Reason = %q", got)
	}
	// Not even garbage is judged while the keys are unavailable: every
	// caller hears "try again", never a verdict that could change.
	_, err = v.Verify(context.Background(), "garbage")
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Errorf("garbage before the keys: %v, want ErrUnavailable only", err)
	}
}

// nilKeyfuncKeys is a key set with a bug: it hands out no key function.
type nilKeyfuncKeys struct{ unavailableKeys }

func (nilKeyfuncKeys) Wait(context.Context) error             { return nil }
func (nilKeyfuncKeys) KeyfuncCtx(context.Context) jwt.Keyfunc { return nil }

// TestVerifyFailsClosedWithoutAKeyfunc: a key set that gives no key
// function gets every token refused, never accepted unchecked.
func TestVerifyFailsClosedWithoutAKeyfunc(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(testConfig(), nilKeyfuncKeys{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), signRS256(t, v2Claims()))
	if p != nil || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Verify = %v, %v; want a refusal", p, err)
	}
	e := v.Explain(context.Background(), signRS256(t, v2Claims()), ExplainOptions{CheckSignature: true})
	if e.Accepted || e.SignatureChecked && e.Reason == "" {
		t.Fatalf("Explain accepted a token it could not check: %+v", e)
	}
}

func TestVerifierCopiesAudiences(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	auds := []string{testAudience}
	cfg.Audiences = auds
	v, err := NewVerifier(cfg, testKeySource(t))
	if err != nil {
		t.Fatal(err)
	}
	auds[0] = "api://changed-later"
	if _, err := v.Verify(context.Background(), signRS256(t, v2Claims())); err != nil {
		t.Errorf("changing the caller's slice changed the verifier: %v", err)
	}
}

func TestNewVerifierDefaults(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(Config{TenantID: testTenant, Audiences: []string{testAudience}}, testKeySource(t))
	if err != nil {
		t.Fatal(err)
	}
	got := v.config()
	if want := entraIssuers(testTenant); !reflect.DeepEqual(got.Issuers, want) {
		t.Errorf("Issuers = %q, want %q", got.Issuers, want)
	}
	if got.Leeway != maxLeeway {
		t.Errorf("Leeway = %v, want %v", got.Leeway, maxLeeway)
	}
	if got.Source != SourceJWT {
		t.Errorf("Source = %q, want %q", got.Source, SourceJWT)
	}
	if got.Now == nil {
		t.Fatal("Now is nil")
	}
	if d := time.Since(got.Now()); d < 0 || d > time.Hour {
		t.Errorf("default Now() is %v away from the real clock", d)
	}
	// The real clock makes the synthetic tokens expired (testNow is in 2025).
	_, err = v.Verify(context.Background(), signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(time.Hour).Unix())))
	if got := tokenReason(t, err); got != "expired" {
		t.Errorf("reason with the real clock = %q, want expired", got)
	}

	v, err = NewVerifier(Config{
		TenantID:  testTenant,
		Audiences: []string{testAudience},
		Issuers:   []string{"https://issuer.example/"},
		Leeway:    time.Minute,
		Source:    SourceDev,
	}, testKeySource(t))
	if err != nil {
		t.Fatal(err)
	}
	got = v.config()
	if !reflect.DeepEqual(got.Issuers, []string{"https://issuer.example/"}) || got.Leeway != time.Minute || got.Source != SourceDev {
		t.Errorf("explicit settings not kept: %+v", got)
	}
}

func TestEntraIssuers(t *testing.T) {
	t.Parallel()
	got := entraIssuers(testTenant)
	want := []string{
		"https://sts.windows.net/" + testTenant + "/",
		"https://login.microsoftonline.com/" + testTenant + "/v2.0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entraIssuers = %q, want %q", got, want)
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	t.Parallel()
	if _, err := NewVerifier(testConfig(), nil); err == nil {
		t.Error("NewVerifier accepted a nil key source")
	}
	if _, err := NewVerifier(Config{Audiences: []string{testAudience}}, testKeySource(t)); err == nil {
		t.Error("NewVerifier accepted a config without tenant")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  Config
		want []string // substrings, one per expected problem
	}{
		{"valid", Config{TenantID: testTenant, Audiences: []string{testAudience}}, nil},
		{"valid with max leeway", Config{TenantID: testTenant, Audiences: []string{testAudience}, Leeway: maxLeeway}, nil},
		{"uppercase GUID", Config{TenantID: strings.ToUpper(testTenant), Audiences: []string{testAudience}}, nil},
		{"zero config", Config{}, []string{"tenant id is required", "audience is required"}},
		{
			"several problems at once",
			Config{TenantID: "contoso.onmicrosoft.com", Leeway: 6 * time.Minute},
			[]string{"not a GUID", "audience is required", "leeway"},
		},
		{"tenant not a GUID", Config{TenantID: "common", Audiences: []string{testAudience}}, []string{"not a GUID"}},
		{"tenant GUID in braces", Config{TenantID: "{" + testTenant + "}", Audiences: []string{testAudience}}, []string{"not a GUID"}},
		{"empty audiences", Config{TenantID: testTenant, Audiences: []string{}}, []string{"audience is required"}},
		{"blank audience", Config{TenantID: testTenant, Audiences: []string{testAudience, ""}}, []string{"blank"}},
		{"audience with spaces", Config{TenantID: testTenant, Audiences: []string{" " + testAudience}}, []string{"surrounding spaces"}},
		{"leeway over 5 minutes", Config{TenantID: testTenant, Audiences: []string{testAudience}, Leeway: maxLeeway + time.Second}, []string{"leeway"}},
		{"negative leeway", Config{TenantID: testTenant, Audiences: []string{testAudience}, Leeway: -time.Second}, []string{"leeway"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.cfg.validate()
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted the config")
			}
			var n int
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				n = len(j.Unwrap())
			}
			if n != len(c.want) {
				t.Errorf("Validate reported %d problems, want %d: %v", n, len(c.want), err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate error %q does not mention %q", err, w)
				}
			}
			if _, nerr := NewVerifier(c.cfg, testKeySource(t)); nerr == nil {
				t.Error("NewVerifier accepted a config that Validate refuses")
			}
		})
	}
}

func TestIsGUID(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		testTenant:                                  true,
		strings.ToUpper(testTenant):                 true,
		"00000000-0000-0000-0000-000000000000":      true,
		"":                                          false,
		"3f0e2a6c6b2d4c1e9a570d4b8e1f2a3b":          false,
		"3f0e2a6c-6b2d-4c1e-9a57-0d4b8e1f2a3":       false,
		"3f0e2a6c-6b2d-4c1e-9a57-0d4b8e1f2a3bb":     false,
		"3f0e2a6c_6b2d-4c1e-9a57-0d4b8e1f2a3b":      false,
		"3f0e2a6c-6b2d-4c1e-9a57-0d4b8e1f2a3g":      false,
		"{3f0e2a6c-6b2d-4c1e-9a57-0d4b8e1f2a3}":     false,
		"3f0e2a6c-6b2d-4c1e-9a57-0d4b8e1f2a3\u00e9": false,
	}
	for s, want := range cases {
		if got := IsGUID(s); got != want {
			t.Errorf("IsGUID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestTokenErrorText(t *testing.T) {
	t.Parallel()
	inner := errors.New("boom")
	e := &TokenError{Reason: "signature", Err: inner}
	if got := e.Error(); got != "auth: invalid token: signature: boom" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(e, inner) || !errors.Is(e, ErrInvalidToken) {
		t.Error("TokenError does not match its cause and ErrInvalidToken")
	}
	if errors.Is(e, ErrInvalidRequest) || errors.Is(e, ErrForbidden) {
		t.Error("TokenError matches another kind")
	}
	if got := (&TokenError{Reason: "expired"}).Error(); got != "auth: invalid token: expired" {
		t.Errorf("Error() without cause = %q", got)
	}
}

func TestVerifierConfigCannotBeChangedAfterwards(t *testing.T) {
	iss := entraIssuers("72f988bf-86f1-41af-91ab-2d7cd011db47")
	v, err := NewVerifier(Config{TenantID: "72F988BF-86F1-41AF-91AB-2D7CD011DB47", Audiences: []string{"api://x"}, Issuers: iss}, staticKeys{})
	if err != nil {
		t.Fatal(err)
	}
	iss[1] = "https://evil.example/"
	v.config().Audiences[0] = "api://evil"
	v.config().Issuers[0] = "https://evil.example/"
	c := v.config()
	if c.Audiences[0] != "api://x" || c.Issuers[1] != "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0" || c.TenantID != "72f988bf-86f1-41af-91ab-2d7cd011db47" {
		t.Fatalf("config changed from outside, or tenant not lower-cased: %+v", c)
	}
}

type staticKeys struct{}

func (staticKeys) Wait(context.Context) error { return nil }
func (staticKeys) KeyfuncCtx(context.Context) jwt.Keyfunc {
	return func(*jwt.Token) (any, error) { return nil, errors.New("no keys") }
}
func (staticKeys) Issuers() []string  { return nil }
func (staticKeys) Generation() uint64 { return 0 }

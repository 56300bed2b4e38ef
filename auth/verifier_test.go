package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
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
// refused from its bytes alone; and Trace to Verify's verdict
// (traceAgrees).
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
			traceAgrees(t, c, source, err)
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
			if !Explained(c.reason) {
				t.Errorf("the reason %q is not a word of reasons.go", c.reason)
			}
			if c.checkErr != nil {
				c.checkErr(t, err)
			}
		})
	}
}

// traceAgrees holds Trace to Verify's verdict on c's token (err), with
// the signature checked against the same keys and without it: the first
// step that fails is the verdict, and with the signature checked it is
// Verify's own error; the steps come in the list's order, each failure
// is one of the package's, and no step repeats the signature.
func traceAgrees(t *testing.T, c verifyCase, source func(testing.TB) KeySet, verifyErr error) {
	t.Helper()
	v := newTestVerifierKeys(t, c.cfg, source)
	var sig string
	if parts := strings.Split(c.token, "."); len(parts) == 3 && len(parts[2]) >= 16 {
		sig = parts[2]
	}
	// The server refuses a token that is not token68 in BearerToken,
	// before Verify: the trace answers as the server does.
	if !isToken68(c.token) {
		verifyErr = errNotToken68
	}
	for _, checked := range []bool{true, false} {
		tr := v.Trace(context.Background(), c.token, TraceOptions{CheckSignature: checked})
		// The signature is checked when asked for and the token gets that
		// far: not when it is refused from its bytes alone.
		signature := stepOf(tr, "signature")
		if want := checked && !lookupFree[c.reason]; signature.Ran != want {
			t.Errorf("Trace(CheckSignature %v): the signature step ran %v, want %v", checked, signature.Ran, want)
		}
		switch {
		case checked:
			if fmt.Sprint(tr.Err) != fmt.Sprint(verifyErr) {
				t.Errorf("Trace(CheckSignature true) answers %v; Verify %v", tr.Err, verifyErr)
			}
		case c.reason != reasonSignature && c.reason != reasonUnknownKey:
			if Reason(tr.Err) != Reason(verifyErr) || (tr.Err == nil) != (verifyErr == nil) {
				t.Errorf("Trace(CheckSignature false) says reason %q (%v); Verify %q (%v)", Reason(tr.Err), tr.Err, Reason(verifyErr), verifyErr)
			}
		}
		first, last := error(nil), -1
		for _, s := range tr.Steps {
			i := slices.Index(stepNames[:], s.Name)
			if i <= last {
				t.Errorf("Trace: step %q out of the list's order", s.Name)
			}
			last = i
			if s.Err == nil {
				continue
			}
			if !s.Ran {
				t.Errorf("Trace: step %q did not run, yet failed: %v", s.Name, s.Err)
			}
			if first == nil {
				first = s.Err
			}
			if Reason(s.Err) == "" {
				t.Errorf("Trace: step %q failed with %v, which has no reason word", s.Name, s.Err)
			}
			if sig != "" && strings.Contains(s.Err.Error(), sig) {
				t.Errorf("Trace: step %q's error repeats the signature", s.Name)
			}
		}
		if first != tr.Err {
			t.Errorf("Trace(CheckSignature %v): the first failed step says %v, the verdict %v", checked, first, tr.Err)
		}
		if sig != "" {
			b, _ := json.Marshal(tr.Steps)
			if strings.Contains(string(b), sig) {
				t.Errorf("Trace's steps repeat the token's signature")
			}
		}
	}
}

// stepOf returns tr's step named name; a zero Step, which did not run,
// when the trace stopped before it.
func stepOf(tr *Trace, name string) Step {
	for _, s := range tr.Steps {
		if s.Name == name {
			return s
		}
	}
	return Step{Name: name}
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
	tr := v.Trace(context.Background(), signRS256(t, v2Claims()), TraceOptions{CheckSignature: true})
	if tr.Err == nil || Reason(tr.Err) != Reason(err) {
		t.Fatalf("Trace answers %v for a token it could not check; Verify %v", tr.Err, err)
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

package auth

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Real Entra ID tokens (see testdata/README.md). They are long expired, so
// the verifier's clock is pinned to iat+60s.
const (
	naviktTenant   = "966ac572-f5b7-4bbe-aa88-c76419c0f851"
	naviktAudience = "bff62dcb-88dc-4a13-9e26-1cbffb96ec64"
	naviktIAT      = 1719232294
	naviktEXP      = 1719237787

	passportTenant   = "268da1a1-9db4-48b9-b1fe-683250ba90cc"
	passportAudience = "spn:6514a8ca-d9e4-4155-b292-65258398f3aa"
	passportIAT      = 1467311248
	passportEXP      = 1467315148
)

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func fixtureToken(tb testing.TB, name string) string {
	tb.Helper()
	return strings.TrimSpace(string(readTestdata(tb, name)))
}

// fixtureKeys loads a JWK Set file, wrapping a bare key array or a single
// key in {"keys":[...]} if the file is not already a set.
func fixtureKeys(tb testing.TB, name string) KeySet {
	tb.Helper()
	raw := readTestdata(tb, name)
	var probe struct {
		Keys []json.RawMessage `json:"keys"`
	}
	switch trimmed := strings.TrimSpace(string(raw)); {
	case strings.HasPrefix(trimmed, "["):
		raw = []byte(`{"keys":` + trimmed + `}`)
	case json.Unmarshal(raw, &probe) == nil && probe.Keys == nil:
		raw = []byte(`{"keys":[` + trimmed + `]}`)
	}
	ks, err := NewStaticKeySet(raw)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return ks
}

func TestFixtureKeySetShapes(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"common-v2-keys-2024-02-02.json", "v1-access-token-passport.keys.json"} {
		var set struct {
			Keys []struct {
				Kty string `json:"kty"`
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		if err := json.Unmarshal(readTestdata(t, name), &set); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(set.Keys) == 0 {
			t.Errorf("%s is not a JWK Set", name)
		}
		for _, k := range set.Keys {
			if k.Kty != "RSA" || k.Kid == "" {
				t.Errorf("%s: unexpected key %+v", name, k)
			}
		}
	}
}

func TestFixtureV2Navikt(t *testing.T) {
	t.Parallel()
	keys := fixtureKeys(t, "common-v2-keys-2024-02-02.json")
	tok := fixtureToken(t, "v2-access-token-navikt.jwt")
	pinned := func() time.Time { return time.Unix(naviktIAT+60, 0) }

	cases := []struct {
		name   string
		cfg    Config
		reason string
	}{
		{"accepted at iat+60s", Config{TenantID: naviktTenant, Audiences: []string{naviktAudience}, Now: pinned}, ""},
		{"rejected with the real clock", Config{TenantID: naviktTenant, Audiences: []string{naviktAudience}}, "expired"},
		{
			"rejected at exp plus leeway",
			Config{TenantID: naviktTenant, Audiences: []string{naviktAudience}, Now: func() time.Time {
				return time.Unix(naviktEXP, 0).Add(maxLeeway)
			}},
			"expired",
		},
		{"other audience", Config{TenantID: naviktTenant, Audiences: []string{"api://" + naviktAudience}, Now: pinned}, "audience"},
		{"other tenant", Config{TenantID: passportTenant, Audiences: []string{naviktAudience}, Now: pinned}, "issuer"},
		{
			"tenant pinned but issuer list v1 only",
			Config{TenantID: naviktTenant, Audiences: []string{naviktAudience}, Issuers: entraIssuers(naviktTenant)[:1], Now: pinned},
			"issuer",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(c.cfg, keys)
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), tok)
			if c.reason != "" {
				if err == nil {
					t.Fatalf("accepted, want reason %q", c.reason)
				}
				if got := tokenReason(t, err); got != c.reason {
					t.Errorf("reason = %q, want %q (%v)", got, c.reason, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			comparePrincipal(t, p, &Principal{
				TenantID:     naviktTenant,
				ObjectID:     "01909c47-e5f8-4bdb-b7ca-80ec8ada9dd8",
				Name:         "F_Z994854 E_Z994854",
				Username:     "F_Z994854.E_Z994854@trygdeetaten.no",
				Scopes:       []string{"defaultaccess"},
				Roles:        []string{},
				Groups:       []string{"11b8475a-fb12-41aa-b1f6-8497c1b5385b", "3e28466f-c53d-46da-8b44-a4abc2ad4593"},
				ClientAppID:  "5f28c10f-ecd5-45ef-96b8-db4311802e89",
				TokenVersion: "2.0",
				Source:       SourceJWT,
				ExpiresAt:    time.Unix(naviktEXP, 0),
			})
		})
	}
}

func TestFixtureV1Passport(t *testing.T) {
	t.Parallel()
	keys := fixtureKeys(t, "v1-access-token-passport.keys.json")
	tok := fixtureToken(t, "v1-access-token-passport.jwt")
	pinned := func() time.Time { return time.Unix(passportIAT+60, 0) }

	v, err := NewVerifier(Config{TenantID: passportTenant, Audiences: []string{passportAudience}, Now: pinned}, keys)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	comparePrincipal(t, p, &Principal{
		TenantID:     passportTenant,
		ObjectID:     "7912fe7b-b5ab-425b-bb1f-0e83b99fca7f",
		Name:         "robot 1",
		Username:     "robot@sijun.onmicrosoft.com",
		Scopes:       []string{"user_impersonation"},
		Roles:        []string{},
		Groups:       []string{},
		ClientAppID:  "bebfad57-efd7-419b-b74b-4b9dab7bd470",
		TokenVersion: "1.0",
		Source:       SourceJWT,
		ExpiresAt:    time.Unix(passportEXP, 0),
	})
	if !reflect.DeepEqual(p.Scopes, []string{DefaultRequiredScope}) {
		t.Errorf("Scopes = %q", p.Scopes)
	}

	// The same token with the real clock, and against the wrong key set.
	v, err = NewVerifier(Config{TenantID: passportTenant, Audiences: []string{passportAudience}}, keys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); tokenReason(t, err) != "expired" {
		t.Errorf("real clock: %v, want expired", err)
	}
	v, err = NewVerifier(Config{TenantID: passportTenant, Audiences: []string{passportAudience}, Now: pinned},
		fixtureKeys(t, "common-v2-keys-2024-02-02.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); tokenReason(t, err) != "unknown_key" {
		t.Errorf("foreign key set: %v, want unknown_key", err)
	}
	// A real token passes Policy with the default scope.
	if err := (Policy{RequiredScopes: []string{DefaultRequiredScope}}).Check(p); err != nil {
		t.Errorf("Policy.Check: %v", err)
	}
}

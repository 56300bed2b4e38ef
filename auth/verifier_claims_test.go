package auth

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The Verify cases of what a signed token says: the principal it
// becomes, its times, audience, issuer, tenant, version, required claims,
// and claims given twice. runVerifyCases (verifier_test.go) runs every
// table.

// TestVerifyPrincipal: accepted tokens, and the principal each becomes.
func TestVerifyPrincipal(t *testing.T) {
	t.Parallel()
	valid := signRS256(t, v2Claims())
	fullExp := testNow.Add(30 * time.Minute)
	full := claimsWith(v2Claims(),
		"scp", "user_impersonation  Files.Read Mail.Send",
		"roles", []string{"Task.Admin", "Task.Read"},
		"groups", []string{"11b8475a-fb12-41aa-b1f6-8497c1b5385b", "3e28466f-c53d-46da-8b44-a4abc2ad4593"},
		"upn", "ada-upn@contoso.example",
		"unique_name", "ada-unique@contoso.example",
		"appid", "ignored-when-azp-is-set",
		"exp", fullExp.Unix(),
	)

	runVerifyCases(t, []verifyCase{
		{
			name:  "valid v2 token",
			token: signRS256(t, full),
			check: func(t *testing.T, p *Principal) {
				comparePrincipal(t, p, &Principal{
					TenantID:     testTenant,
					ObjectID:     testOID,
					Name:         "Ada Lovelace",
					Username:     "ada@contoso.example",
					Scopes:       []string{"user_impersonation", "Files.Read", "Mail.Send"},
					Roles:        []string{"Task.Admin", "Task.Read"},
					Groups:       []string{"11b8475a-fb12-41aa-b1f6-8497c1b5385b", "3e28466f-c53d-46da-8b44-a4abc2ad4593"},
					ClientAppID:  testClient,
					TokenVersion: "2.0",
					Source:       SourceJWT,
					ExpiresAt:    fullExp,
				})
			},
		},
		{
			name:  "valid v1 token",
			token: signRS256(t, v1Claims()),
			check: func(t *testing.T, p *Principal) {
				comparePrincipal(t, p, &Principal{
					TenantID:     testTenant,
					ObjectID:     testOID,
					Name:         "Ada Lovelace",
					Username:     "ada-upn@contoso.example", // upn before unique_name
					Scopes:       []string{"user_impersonation"},
					Roles:        []string{},
					Groups:       []string{},
					ClientAppID:  testClient, // from appid
					TokenVersion: "1.0",
					Source:       SourceJWT,
					ExpiresAt:    testNow.Add(time.Hour),
				})
			},
		},
		{
			name:  "username from unique_name when nothing else",
			token: signRS256(t, claimsWith(v1Claims(), "upn", nil)),
			check: func(t *testing.T, p *Principal) {
				if p.Username != "ada-unique@contoso.example" {
					t.Errorf("Username = %q, want the unique_name", p.Username)
				}
			},
		},
		{
			name:  "no user name claims at all",
			token: signRS256(t, claimsWith(v2Claims(), "preferred_username", nil, "name", nil)),
			check: func(t *testing.T, p *Principal) {
				if p.Username != "" || p.Name != "" {
					t.Errorf("Username, Name = %q, %q; want empty", p.Username, p.Name)
				}
			},
		},
		{
			name:  "audience given as client id",
			token: signRS256(t, claimsWith(v2Claims(), "aud", testAudGUID)),
		},
		{
			name:  "tenant id compared case-insensitively",
			token: signRS256(t, claimsWith(v2Claims(), "tid", strings.ToUpper(testTenant))),
			check: func(t *testing.T, p *Principal) {
				if p.TenantID != strings.ToUpper(testTenant) {
					t.Errorf("TenantID = %q, want the token's value", p.TenantID)
				}
			},
		},
		{
			name:  "source from config",
			token: valid,
			cfg:   func(c *Config) { c.Source = SourceDev },
			check: func(t *testing.T, p *Principal) {
				if p.Source != SourceDev {
					t.Errorf("Source = %q, want %q", p.Source, SourceDev)
				}
			},
		},
		{
			name: "app-only token verifies but is marked",
			token: signRS256(t, jwt.MapClaims{
				"aud": testAudGUID, "iss": v1Issuer(testTenant),
				"iat": testNow.Unix(), "nbf": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(),
				"appid": testClient, "appidacr": "1", "idtyp": "app",
				"oid": testOID, "roles": []string{"Data.Read.All"},
				"tid": testTenant, "ver": "1.0",
			}),
			check: func(t *testing.T, p *Principal) {
				if !p.AppOnly {
					t.Error("AppOnly = false, want true")
				}
				if p.Scopes == nil || len(p.Scopes) != 0 {
					t.Errorf("Scopes = %#v, want an empty non-nil slice", p.Scopes)
				}
				if !reflect.DeepEqual(p.Roles, []string{"Data.Read.All"}) {
					t.Errorf("Roles = %q", p.Roles)
				}
				if p.ClientAppID != testClient {
					t.Errorf("ClientAppID = %q", p.ClientAppID)
				}
			},
		},
		{
			name:  "delegated token is not app-only",
			token: signRS256(t, claimsWith(v2Claims(), "idtyp", "user")),
			check: func(t *testing.T, p *Principal) {
				if p.AppOnly {
					t.Error("AppOnly = true for idtyp=user")
				}
			},
		},
		{
			name: "groups overage",
			token: signRS256(t, claimsWith(v2Claims(),
				"_claim_names", map[string]any{"groups": "src1"},
				"_claim_sources", map[string]any{"src1": map[string]any{"endpoint": "https://graph.windows.net/x/users/y/getMemberObjects"}},
			)),
			check: func(t *testing.T, p *Principal) {
				if !p.GroupsOverage {
					t.Error("GroupsOverage = false, want true")
				}
				if p.Groups == nil || len(p.Groups) != 0 {
					t.Errorf("Groups = %#v, want an empty non-nil slice", p.Groups)
				}
			},
		},
		{
			name:  "claim names without groups is no overage",
			token: signRS256(t, claimsWith(v2Claims(), "_claim_names", map[string]any{"other": "src1"})),
			check: func(t *testing.T, p *Principal) {
				if p.GroupsOverage {
					t.Error("GroupsOverage = true, want false")
				}
			},
		},
	})
}

// TestVerifyTime: exp and nbf, each side of the leeway.
func TestVerifyTime(t *testing.T) {
	t.Parallel()
	runVerifyCases(t, []verifyCase{
		{
			name:   "expired beyond the leeway",
			token:  signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-maxLeeway-time.Second).Unix())),
			reason: "expired",
		},
		{
			name:   "expired exactly at the end of the leeway",
			token:  signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-maxLeeway).Unix())),
			reason: "expired",
		},
		{
			name:  "expired within the leeway",
			token: signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-maxLeeway+time.Second).Unix())),
		},
		{
			name:   "expired beyond a configured shorter leeway",
			token:  signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-2*time.Minute).Unix())),
			cfg:    func(c *Config) { c.Leeway = time.Minute },
			reason: "expired",
		},
		{
			name:   "not valid yet beyond the leeway",
			token:  signRS256(t, claimsWith(v2Claims(), "nbf", testNow.Add(maxLeeway+time.Second).Unix())),
			reason: "not_yet_valid",
		},
		{
			name:  "not valid yet within the leeway",
			token: signRS256(t, claimsWith(v2Claims(), "nbf", testNow.Add(maxLeeway-time.Second).Unix())),
		},
		{
			name:   "missing exp",
			token:  signRS256(t, claimsWith(v2Claims(), "exp", nil)),
			reason: "missing_claim",
		},
		{
			name:   "exp is a string",
			token:  signRS256(t, claimsWith(v2Claims(), "exp", "tomorrow")),
			reason: "malformed",
		},
	})
}

// TestVerifyAudience: aud is compared exactly, as a string or in an array.
func TestVerifyAudience(t *testing.T) {
	t.Parallel()
	runVerifyCases(t, []verifyCase{
		{
			name:   "wrong audience",
			token:  signRS256(t, claimsWith(v2Claims(), "aud", "api://someone-else")),
			reason: "audience",
		},
		{
			name:   "audience differs in case",
			token:  signRS256(t, claimsWith(v2Claims(), "aud", strings.ToUpper(testAudience))),
			reason: "audience",
		},
		{
			name:   "audience with a trailing slash not configured",
			token:  signRS256(t, claimsWith(v2Claims(), "aud", testAudience+"/")),
			reason: "audience",
		},
		{
			name:  "audience array containing an accepted one",
			token: signRS256(t, claimsWith(v2Claims(), "aud", []string{"api://someone-else", testAudGUID})),
		},
		{
			name:   "audience array without an accepted one",
			token:  signRS256(t, claimsWith(v2Claims(), "aud", []string{"api://someone-else", "api://third"})),
			reason: "audience",
		},
		{
			name:   "missing audience",
			token:  signRS256(t, claimsWith(v2Claims(), "aud", nil)),
			reason: "missing_claim",
		},
	})
}

// TestVerifyIssuerAndTenant: iss is exactly one of the accepted issuers,
// and tid the configured tenant.
func TestVerifyIssuerAndTenant(t *testing.T) {
	t.Parallel()
	valid := signRS256(t, v2Claims())

	runVerifyCases(t, []verifyCase{
		{
			name:   "foreign issuer",
			token:  signRS256(t, claimsWith(v2Claims(), "iss", "https://evil.example/"+testTenant+"/v2.0")),
			reason: "issuer",
		},
		{
			name:   "v1 issuer of another tenant",
			token:  signRS256(t, claimsWith(v1Claims(), "iss", v1Issuer(otherTenant))),
			reason: "issuer",
		},
		{
			name:   "v2 issuer of another tenant",
			token:  signRS256(t, claimsWith(v2Claims(), "iss", v2Issuer(otherTenant))),
			reason: "issuer",
		},
		{
			name:   "templated common issuer",
			token:  signRS256(t, claimsWith(v2Claims(), "iss", v2Issuer("{tenantid}"))),
			reason: "issuer",
		},
		{
			name:   "issuer without trailing slash",
			token:  signRS256(t, claimsWith(v1Claims(), "iss", strings.TrimSuffix(v1Issuer(testTenant), "/"))),
			reason: "issuer",
		},
		{
			name:   "missing issuer",
			token:  signRS256(t, claimsWith(v2Claims(), "iss", nil)),
			reason: "issuer",
		},
		{
			name:   "configured issuers replace the defaults",
			token:  valid,
			cfg:    func(c *Config) { c.Issuers = []string{"https://issuer.example/" + testTenant} },
			reason: "issuer",
		},
		{
			name:  "configured issuer accepted",
			token: signRS256(t, claimsWith(v2Claims(), "iss", "https://issuer.example/"+testTenant)),
			cfg:   func(c *Config) { c.Issuers = []string{"https://issuer.example/" + testTenant} },
		},
		{
			name:   "tid of another tenant with our issuer",
			token:  signRS256(t, claimsWith(v2Claims(), "tid", otherTenant)),
			reason: "tenant",
		},
		{
			name:   "missing tid",
			token:  signRS256(t, claimsWith(v2Claims(), "tid", nil)),
			reason: "tenant",
		},
	})
}

// TestVerifyVersionAndRequiredClaims: ver is 1.0 or 2.0, and oid is there.
func TestVerifyVersionAndRequiredClaims(t *testing.T) {
	t.Parallel()
	runVerifyCases(t, []verifyCase{
		{
			name:   "version 3.0",
			token:  signRS256(t, claimsWith(v2Claims(), "ver", "3.0")),
			reason: "version",
		},
		{
			name:   "version 2 without minor",
			token:  signRS256(t, claimsWith(v2Claims(), "ver", "2")),
			reason: "version",
		},
		{
			name:   "missing version",
			token:  signRS256(t, claimsWith(v2Claims(), "ver", nil)),
			reason: "version",
		},
		{
			name:   "missing oid",
			token:  signRS256(t, claimsWith(v2Claims(), "oid", nil)),
			reason: "missing_claim",
		},
		{
			name:   "empty oid",
			token:  signRS256(t, claimsWith(v2Claims(), "oid", "")),
			reason: "missing_claim",
		},
	})
}

// TestVerifyDuplicateClaims: a security claim given twice, in any letter
// case or escape, is refused: encoding/json would keep the last copy, or
// the one whose name matches in some case, where another reader might
// take another. Payloads are hand-written, since a map cannot hold
// duplicates.
func TestVerifyDuplicateClaims(t *testing.T) {
	t.Parallel()
	trusted, _ := testKeys(t)

	runVerifyCases(t, []verifyCase{
		{
			name:  "hand-signed control token",
			token: signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims())),
		},
		{
			name:   "case-variant duplicate tid and TID",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims(), `"TID":"`+otherTenant+`"`)),
			reason: "duplicate_claim",
		},
		{
			name:   "case-variant duplicate, variant first",
			token:  signRaw(t, trusted, rawHeader, `{"Tid":"`+otherTenant+`",`+strings.TrimPrefix(rawPayload(t, v2Claims()), "{")),
			reason: "duplicate_claim",
		},
		{
			name:   "exact duplicate tid",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims(), `"tid":"`+otherTenant+`"`)),
			reason: "duplicate_claim",
		},
		{
			name:   "duplicate tid hidden by a JSON escape",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims(), `"t\u0069d":"`+otherTenant+`"`)),
			reason: "duplicate_claim",
		},
		{
			name:   "case-variant duplicate aud",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims(), `"AUD":"api://someone-else"`)),
			reason: "duplicate_claim",
		},
		{
			name:   "case-variant duplicate scp",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims(), `"Scp":"Directory.ReadWrite.All"`)),
			reason: "duplicate_claim",
		},
		{
			name:   "duplicate roles",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims(), `"roles":["a"]`, `"roles":["b"]`)),
			reason: "duplicate_claim",
		},
		{
			name:  "duplicate of a display claim is tolerated",
			token: signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims(), `"name":"Second Name"`)),
			check: func(t *testing.T, p *Principal) {
				if p.TenantID != testTenant {
					t.Errorf("TenantID = %q", p.TenantID)
				}
			},
		},
		{
			name:   "uppercase-only TID is not read as tid",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, claimsWith(v2Claims(), "tid", nil), `"TID":"`+testTenant+`"`)),
			reason: "tenant",
		},
		{
			name:   "uppercase-only OID is not read as oid",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, claimsWith(v2Claims(), "oid", nil), `"OID":"`+testOID+`"`)),
			reason: "missing_claim",
		},
	})
}

func TestVerifyDuplicateClaimWrapsSentinel(t *testing.T) {
	t.Parallel()
	trusted, _ := testKeys(t)
	v := newTestVerifier(t, nil)
	_, err := v.Verify(context.Background(), signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims(), `"TID":"x"`)))
	if !errors.Is(err, errDuplicateClaim) {
		t.Fatalf("error %v does not wrap errDuplicateClaim", err)
	}
	if !strings.Contains(err.Error(), `"TID"`) {
		t.Errorf("error %q does not name the duplicate claim", err)
	}
}

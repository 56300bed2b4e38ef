package auth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
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

func TestVerify(t *testing.T) {
	t.Parallel()
	trusted, attacker := testKeys(t)
	enc := base64.RawURLEncoding

	// The attacker serves its own key set. Nothing may ever fetch it.
	var attackerHits atomic.Int32
	attackerSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwksFor(&attacker.PublicKey, attackerKID))
	}))
	t.Cleanup(attackerSrv.Close)
	attackerJWK := map[string]any{
		"kty": "RSA", "use": "sig", "kid": attackerKID,
		"n": enc.EncodeToString(attacker.PublicKey.N.Bytes()),
		"e": "AQAB",
	}

	pubDER, err := x509.MarshalPKIXPublicKey(&trusted.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	valid := signRS256(t, v2Claims())
	validParts := strings.Split(valid, ".")

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

	tampered := validParts[0] + "." +
		enc.EncodeToString([]byte(rawPayload(t, claimsWith(v2Claims(), "oid", "00000000-0000-0000-0000-000000000bad")))) + "." +
		validParts[2]

	big := signRS256(t, claimsWith(v2Claims(), "pad", strings.Repeat("x", MaxAuthorizationBytes)))

	type tc struct {
		name   string
		token  string
		cfg    func(*Config)
		noAlg  bool   // verify with a key set whose key has no "alg", like Entra's
		reason string // "" means the token is accepted
		check  func(t *testing.T, p *Principal)
	}
	cases := []tc{
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

		// Algorithms.
		{
			name:   "alg none",
			token:  signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "alg NONE hand-made",
			token:  enc.EncodeToString([]byte(`{"alg":"NONE","kid":"`+testKID+`"}`)) + "." + validParts[1] + ".",
			reason: "algorithm",
		},
		{
			name:   "HS256 with the PEM public key as secret",
			token:  signToken(t, jwt.SigningMethodHS256, pubPEM, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "HS256 with the DER public key as secret",
			token:  signToken(t, jwt.SigningMethodHS256, pubDER, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "RS384",
			token:  signToken(t, jwt.SigningMethodRS384, trusted, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "RS512",
			token:  signToken(t, jwt.SigningMethodRS512, trusted, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "PS256",
			token:  signToken(t, jwt.SigningMethodPS256, trusted, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "RS384 against keys without alg",
			token:  signToken(t, jwt.SigningMethodRS384, trusted, nil, v2Claims()),
			noAlg:  true,
			reason: "algorithm",
		},
		{
			name:   "PS256 against keys without alg",
			token:  signToken(t, jwt.SigningMethodPS256, trusted, nil, v2Claims()),
			noAlg:  true,
			reason: "algorithm",
		},
		{
			name:   "HS256 with the PEM public key against keys without alg",
			token:  signToken(t, jwt.SigningMethodHS256, pubPEM, nil, v2Claims()),
			noAlg:  true,
			reason: "algorithm",
		},
		{
			name:   "alg none against keys without alg",
			token:  signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, v2Claims()),
			noAlg:  true,
			reason: "algorithm",
		},
		{
			name:  "RS256 against keys without alg",
			token: valid,
			noAlg: true,
		},
		{
			name:   "no alg header",
			token:  signRaw(t, trusted, `{"typ":"JWT","kid":"`+testKID+`"}`, rawPayload(t, v2Claims())),
			reason: "algorithm",
		},

		// Signatures and keys.
		{
			name:   "tampered payload",
			token:  tampered,
			reason: "signature",
		},
		{
			name:   "empty signature",
			token:  validParts[0] + "." + validParts[1] + ".",
			reason: "signature",
		},
		{
			name:   "signature of another token",
			token:  validParts[0] + "." + validParts[1] + "." + strings.Split(signRS256(t, v1Claims()), ".")[2],
			reason: "signature",
		},
		{
			name:   "other key under the real kid",
			token:  signToken(t, jwt.SigningMethodRS256, attacker, nil, v2Claims()),
			reason: "signature",
		},
		{
			name:   "other key without kid",
			token:  signToken(t, jwt.SigningMethodRS256, attacker, map[string]any{"kid": nil}, v2Claims()),
			reason: "header", // Entra always sends a kid: refused before any key is tried
		},
		{
			name:   "trusted key without kid",
			token:  signToken(t, jwt.SigningMethodRS256, trusted, map[string]any{"kid": nil}, v2Claims()),
			reason: "header", // even signed by a trusted key: Entra always sends a kid
		},
		{
			name:   "unknown kid",
			token:  signToken(t, jwt.SigningMethodRS256, trusted, map[string]any{"kid": "no-such-key"}, v2Claims()),
			reason: "unknown_key",
		},
		{
			name:   "kid is not a string",
			token:  signToken(t, jwt.SigningMethodRS256, trusted, map[string]any{"kid": 42}, v2Claims()),
			reason: "unknown_key",
		},
		{
			name: "jku x5u jwk headers with attacker kid",
			token: signToken(t, jwt.SigningMethodRS256, attacker, map[string]any{
				"kid": attackerKID, "jku": attackerSrv.URL, "x5u": attackerSrv.URL + "/cert.pem", "jwk": attackerJWK,
			}, v2Claims()),
			reason: "unknown_key",
		},
		{
			name: "jku x5u jwk headers with the real kid",
			token: signToken(t, jwt.SigningMethodRS256, attacker, map[string]any{
				"jku": attackerSrv.URL, "x5u": attackerSrv.URL + "/cert.pem", "jwk": attackerJWK,
			}, v2Claims()),
			reason: "signature",
		},
		{
			name: "jku x5u jwk headers without kid",
			token: signToken(t, jwt.SigningMethodRS256, attacker, map[string]any{
				"kid": nil, "jku": attackerSrv.URL, "x5u": attackerSrv.URL + "/cert.pem", "jwk": attackerJWK,
			}, v2Claims()),
			reason: "header",
		},

		// Time.
		{
			name:   "expired beyond the leeway",
			token:  signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-MaxLeeway-time.Second).Unix())),
			reason: "expired",
		},
		{
			name:   "expired exactly at the end of the leeway",
			token:  signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-MaxLeeway).Unix())),
			reason: "expired",
		},
		{
			name:  "expired within the leeway",
			token: signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-MaxLeeway+time.Second).Unix())),
		},
		{
			name:   "expired beyond a configured shorter leeway",
			token:  signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-2*time.Minute).Unix())),
			cfg:    func(c *Config) { c.Leeway = time.Minute },
			reason: "expired",
		},
		{
			name:   "not valid yet beyond the leeway",
			token:  signRS256(t, claimsWith(v2Claims(), "nbf", testNow.Add(MaxLeeway+time.Second).Unix())),
			reason: "not_yet_valid",
		},
		{
			name:  "not valid yet within the leeway",
			token: signRS256(t, claimsWith(v2Claims(), "nbf", testNow.Add(MaxLeeway-time.Second).Unix())),
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

		// Audience.
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

		// Issuer and tenant.
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

		// Version and required claims.
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

		// Hand-written payloads.
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
		{
			name:   "payload is an array",
			token:  signRaw(t, trusted, rawHeader, `[]`),
			reason: "malformed",
		},
		{
			name:   "payload is a string",
			token:  signRaw(t, trusted, rawHeader, `"claims"`),
			reason: "malformed",
		},
		{
			name:   "payload is not JSON",
			token:  signRaw(t, trusted, rawHeader, `{"tid":`),
			reason: "malformed",
		},
		{
			name:   "payload with trailing data",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims())+`{}`),
			reason: "malformed",
		},
		{
			name:   "scp is an array",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, claimsWith(v2Claims(), "scp", nil), `"scp":["user_impersonation"]`)),
			reason: "malformed",
		},
		{
			name:   "tid is a number",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, claimsWith(v2Claims(), "tid", nil), `"tid":42`)),
			reason: "malformed",
		},

		// Shape.
		{
			name:   "five-part JWE-shaped token",
			token:  "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a2V5.aXY.Y2lwaGVy.dGFn",
			reason: "malformed",
		},
		{
			name:   "valid token with two more parts",
			token:  valid + ".YQ.Yg",
			reason: "malformed",
		},
		{
			name:   "signature not base64url",
			token:  validParts[0] + "." + validParts[1] + ".not*base64",
			reason: "malformed",
		},
		{
			name:   "header not JSON",
			token:  enc.EncodeToString([]byte(`{"alg":`)) + "." + validParts[1] + "." + validParts[2],
			reason: "malformed",
		},
		{
			name:   "token over 16 KiB",
			token:  big,
			reason: "malformed",
		},
	}
	for i, g := range []string{
		"", ".", "..", "...", "garbage", "a.b", "a.b.c", "eyJ.eyJ.sig",
		"Bearer " + valid, " " + valid, valid + " ", "%%%.%%%.%%%", "\x00.\x00.\x00",
		strings.Repeat(".", 100),
	} {
		cases = append(cases, tc{name: fmt.Sprintf("garbage %d", i), token: g, reason: "malformed"})
	}

	if len(big) <= MaxAuthorizationBytes {
		t.Fatalf("oversized token is only %d bytes", len(big))
	}

	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				v := newTestVerifier(t, c.cfg)
				if c.noAlg {
					v = newTestVerifierKeys(t, c.cfg, entraLikeKeys)
				}
				p, err := v.Verify(context.Background(), c.token)
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
					t.Errorf("reason = %q, want %q (error: %v)", got, c.reason, err)
				}
				if got := Reason(err); got != c.reason {
					t.Errorf("Reason(err) = %q, want %q", got, c.reason)
				}
			})
		}
	})
	if n := attackerHits.Load(); n != 0 {
		t.Errorf("the attacker's key server was fetched %d times", n)
	}
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
	got := v.Config()
	if want := EntraIssuers(testTenant); !reflect.DeepEqual(got.Issuers, want) {
		t.Errorf("Issuers = %q, want %q", got.Issuers, want)
	}
	if got.Leeway != MaxLeeway {
		t.Errorf("Leeway = %v, want %v", got.Leeway, MaxLeeway)
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
	got = v.Config()
	if !reflect.DeepEqual(got.Issuers, []string{"https://issuer.example/"}) || got.Leeway != time.Minute || got.Source != SourceDev {
		t.Errorf("explicit settings not kept: %+v", got)
	}
}

func TestEntraIssuers(t *testing.T) {
	t.Parallel()
	got := EntraIssuers(testTenant)
	want := []string{
		"https://sts.windows.net/" + testTenant + "/",
		"https://login.microsoftonline.com/" + testTenant + "/v2.0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EntraIssuers = %q, want %q", got, want)
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
		{"valid with max leeway", Config{TenantID: testTenant, Audiences: []string{testAudience}, Leeway: MaxLeeway}, nil},
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
		{"leeway over 5 minutes", Config{TenantID: testTenant, Audiences: []string{testAudience}, Leeway: MaxLeeway + time.Second}, []string{"leeway"}},
		{"negative leeway", Config{TenantID: testTenant, Audiences: []string{testAudience}, Leeway: -time.Second}, []string{"leeway"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.cfg.Validate()
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

// tokenOfLength returns a token signed by the trusted key that is exactly n
// bytes long, padding a header member and a claim.
func tokenOfLength(t *testing.T, n int) string {
	t.Helper()
	trusted, _ := testKeys(t)
	for h := 0; h < 4; h++ {
		header := `{"alg":"RS256","typ":"JWT","kid":"` + testKID + `","x":"` + strings.Repeat("h", h) + `"}`
		for lo, hi := 0, n; lo <= hi; {
			pad := (lo + hi) / 2
			tok := signRaw(t, trusted, header, rawPayload(t, claimsWith(v2Claims(), "pad", strings.Repeat("p", pad))))
			switch {
			case len(tok) == n:
				return tok
			case len(tok) < n:
				lo = pad + 1
			default:
				hi = pad - 1
			}
		}
	}
	t.Fatalf("no token of length %d", n)
	return ""
}

func TestVerifySizeLimit(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, nil)
	atLimit := tokenOfLength(t, MaxAuthorizationBytes)
	if _, err := v.Verify(context.Background(), atLimit); err != nil {
		t.Errorf("token of exactly %d bytes: %v", len(atLimit), err)
	}
	over := tokenOfLength(t, MaxAuthorizationBytes+1)
	_, err := v.Verify(context.Background(), over)
	if err == nil {
		t.Fatalf("token of %d bytes accepted", len(over))
	}
	if got := tokenReason(t, err); got != "malformed" {
		t.Errorf("reason = %q, want malformed", got)
	}
}

func TestVerifierConfigCannotBeChangedAfterwards(t *testing.T) {
	iss := EntraIssuers("72f988bf-86f1-41af-91ab-2d7cd011db47")
	v, err := NewVerifier(Config{TenantID: "72F988BF-86F1-41AF-91AB-2D7CD011DB47", Audiences: []string{"api://x"}, Issuers: iss}, staticKeys{})
	if err != nil {
		t.Fatal(err)
	}
	iss[1] = "https://evil.example/"
	v.Config().Audiences[0] = "api://evil"
	v.Config().Issuers[0] = "https://evil.example/"
	c := v.Config()
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

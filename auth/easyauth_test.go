package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/auth"
)

// The long claim types Easy Auth writes after its default claims mapping.
const (
	eaLongOID   = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	eaLongTID   = "http://schemas.microsoft.com/identity/claims/tenantid"
	eaLongScope = "http://schemas.microsoft.com/identity/claims/scope"
	eaLongRole  = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
	eaLongUPN   = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
	eaLongName  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
)

// Synthetic identities of these tests; they name no real tenant or app.
const (
	eaTenant  = "b7a1c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	eaOther   = "c8b2d3e4-5f60-4b7c-9d8e-0f1a2b3c4d5e"
	eaOID     = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	eaOID2    = "2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f"
	eaApp     = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"
	eaAzp     = "1b2c3d4e-5f60-4172-8384-a5b6c7d8e9f0"
	eaAud     = "api://entrafunc-easyauth-test"
	eaGroup1  = "f08bbbea-b793-4a36-a5fc-136c18d8aa8f"
	eaGroup2  = "14a87ffa-0801-49bf-a515-3d259a2a9f8f"
	eaFixture = "easyauth-client-principal-copilot-camp.b64"
)

// The principal of the real fixture.
const (
	fixtureTenant = "57872548-46bd-458e-8ae4-c2a541ea6d1b"
	fixtureOID    = "86a1fc29-88eb-40e8-aaf6-c804cb88f05c"
	fixtureApp    = "5305f746-9024-49bc-8783-a1690c591578"
	fixtureAud    = "api://5305f746-9024-49bc-8783-a1690c591578"
	fixtureUPN    = "bob@lowcoderevolution.onmicrosoft.com"
	fixtureExp    = 1712958069
)

// fixtureNow is the fixture's iat: the principal is long expired, and
// EasyAuth refuses expired principals.
func fixtureNow() time.Time { return time.Unix(1712953005, 0) }

// eaClaim and eaDoc are the X-MS-CLIENT-PRINCIPAL JSON, for building
// principals in tests.
type eaClaim struct {
	Typ string `json:"typ"`
	Val string `json:"val"`
}

type eaDoc struct {
	AuthType string    `json:"auth_typ"`
	Claims   []eaClaim `json:"claims"`
	NameType string    `json:"name_typ,omitempty"`
	RoleType string    `json:"role_typ,omitempty"`
}

// eaClaims turns type, value pairs into claims.
func eaClaims(kv ...string) []eaClaim {
	if len(kv)%2 != 0 {
		panic("eaClaims: odd number of arguments")
	}
	cs := make([]eaClaim, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		cs = append(cs, eaClaim{kv[i], kv[i+1]})
	}
	return cs
}

// eaB64 returns the standard base64 of s.
func eaB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// eaEncode returns the header value for d.
func eaEncode(d eaDoc) string {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// eaHeader returns the header value of an aad principal with the claims kv.
func eaHeader(kv ...string) string {
	return eaEncode(eaDoc{AuthType: "aad", Claims: eaClaims(kv...)})
}

// eaUser is a minimal valid principal of tid with oid and the scope.
func eaUser(tid, oid string, extra ...string) string {
	return eaHeader(append([]string{"oid", oid, "tid", tid, "scp", "user_impersonation"}, extra...)...)
}

func eaReadFixture(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", eaFixture))
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// eaSamePrincipal compares every field, ExpiresAt as an instant.
func eaSamePrincipal(t *testing.T, got, want *auth.Principal) {
	t.Helper()
	if got == nil {
		t.Fatalf("principal is nil, want %+v", want)
	}
	if !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
	}
	g, w := *got, *want
	g.ExpiresAt, w.ExpiresAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("principal mismatch\n got %#v\nwant %#v", g, w)
	}
}

// eaWantTokenError checks that err is an ErrInvalidToken with reason (any
// reason when reason is "").
func eaWantTokenError(t *testing.T, err error, reason string) {
	t.Helper()
	if !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrInvalidToken", err)
	}
	for _, other := range []error{auth.ErrNoCredentials, auth.ErrInvalidRequest, auth.ErrInsufficientScope, auth.ErrForbidden, auth.ErrUnavailable} {
		if errors.Is(err, other) {
			t.Errorf("err = %v also matches %v", err, other)
		}
	}
	var te *auth.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("err = %T %v, want *auth.TokenError", err, err)
	}
	if !auth.Explained(te.Reason) {
		t.Errorf("the reason %q has no row in the reason table: the refusal has no explanation", te.Reason)
	}
	if reason != "" && te.Reason != reason {
		t.Errorf("Reason = %q, want %q (err %v)", te.Reason, reason, err)
	}
}

func TestParseClientPrincipalFixture(t *testing.T) {
	h := eaReadFixture(t)
	p, err := auth.ParseClientPrincipal(h)
	if err != nil {
		t.Fatalf("ParseClientPrincipal(fixture): %v", err)
	}
	eaSamePrincipal(t, p, &auth.Principal{
		TenantID:     fixtureTenant,
		ObjectID:     fixtureOID,
		Name:         "Bob German",
		Username:     fixtureUPN,
		Scopes:       []string{"user_impersonation"},
		Roles:        []string{},
		Groups:       []string{},
		ClientAppID:  fixtureApp,
		TokenVersion: "1.0",
		Source:       auth.SourceEasyAuth,
		ExpiresAt:    time.Unix(fixtureExp, 0),
	})
	if !slices.Contains(p.Scopes, auth.DefaultRequiredScope) {
		t.Errorf("Scopes %q lack %q", p.Scopes, auth.DefaultRequiredScope)
	}
	if p.AppOnly || p.GroupsOverage {
		t.Errorf("AppOnly = %v, GroupsOverage = %v, want false", p.AppOnly, p.GroupsOverage)
	}
}

func TestParseClientPrincipalClaims(t *testing.T) {
	// base is what the short and long spellings of one user both give.
	base := func(mod func(*auth.Principal)) *auth.Principal {
		p := &auth.Principal{
			TenantID:     eaTenant,
			ObjectID:     eaOID,
			Name:         "Ada Lovelace",
			Username:     "ada@contoso.example",
			Scopes:       []string{"user_impersonation", "Files.Read"},
			Roles:        []string{"Reader", "Writer"},
			Groups:       []string{eaGroup1, eaGroup2},
			ClientAppID:  eaApp,
			TokenVersion: "2.0",
			Source:       auth.SourceEasyAuth,
			ExpiresAt:    time.Unix(1750003600, 0),
		}
		if mod != nil {
			mod(p)
		}
		return p
	}
	minimal := func(mod func(*auth.Principal)) *auth.Principal {
		p := &auth.Principal{
			TenantID: eaTenant, ObjectID: eaOID, Source: auth.SourceEasyAuth,
			Scopes: []string{}, Roles: []string{}, Groups: []string{},
		}
		if mod != nil {
			mod(p)
		}
		return p
	}
	tests := []struct {
		name   string
		header string
		want   *auth.Principal
	}{
		{
			name: "short claim names",
			header: eaHeader(
				"oid", eaOID, "tid", eaTenant, "scp", "user_impersonation Files.Read",
				"roles", "Reader", "roles", "Writer", "groups", eaGroup1, "groups", eaGroup2,
				"azp", eaApp, "preferred_username", "ada@contoso.example", "name", "Ada Lovelace",
				"ver", "2.0", "exp", "1750003600",
			),
			want: base(nil),
		},
		{
			name: "long claim names",
			header: eaHeader(
				eaLongOID, eaOID, eaLongTID, eaTenant, eaLongScope, "user_impersonation Files.Read",
				eaLongRole, "Reader", eaLongRole, "Writer", "groups", eaGroup1, "groups", eaGroup2,
				"appid", eaApp, eaLongUPN, "ada@contoso.example", "name", "Ada Lovelace",
				"ver", "2.0", "exp", "1750003600",
			),
			want: base(nil),
		},
		{
			name: "long names with the role_typ Easy Auth writes",
			header: eaEncode(eaDoc{AuthType: "aad", NameType: eaLongName, RoleType: eaLongRole, Claims: eaClaims(
				eaLongOID, eaOID, eaLongTID, eaTenant, eaLongScope, "user_impersonation Files.Read",
				eaLongRole, "Reader", eaLongRole, "Writer", "groups", eaGroup1, "groups", eaGroup2,
				"appid", eaApp, eaLongUPN, "ada@contoso.example", "name", "Ada Lovelace",
				"ver", "2.0", "exp", "1750003600",
			)}),
			want: base(nil),
		},
		{
			name:   "short oid with long tid",
			header: eaHeader("oid", eaOID, eaLongTID, eaTenant),
			want:   minimal(nil),
		},
		{
			name:   "long oid with short tid",
			header: eaHeader(eaLongOID, eaOID, "tid", eaTenant),
			want:   minimal(nil),
		},
		{
			name:   "the same tid twice",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "tid", eaTenant),
			want:   minimal(nil),
		},
		{
			name:   "short tid and long tenantid agreeing",
			header: eaHeader("oid", eaOID, "tid", eaTenant, eaLongTID, eaTenant),
			want:   minimal(nil),
		},
		{
			name:   "short oid and long objectidentifier agreeing",
			header: eaHeader(eaLongOID, eaOID, "oid", eaOID, "tid", eaTenant),
			want:   minimal(nil),
		},
		{
			name:   "scp and long scope agreeing",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "scp", "a b", eaLongScope, "a b"),
			want:   minimal(func(p *auth.Principal) { p.Scopes = []string{"a", "b"} }),
		},
		{
			name:   "scopes split on any white space",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "scp", "  a\tb  c "),
			want:   minimal(func(p *auth.Principal) { p.Scopes = []string{"a", "b", "c"} }),
		},
		{
			name:   "roles and the long role claim accumulate in order",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "roles", "A", eaLongRole, "B", "roles", "C"),
			want:   minimal(func(p *auth.Principal) { p.Roles = []string{"A", "B", "C"} }),
		},
		{
			name:   "a role given twice is listed once",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "roles", "A", eaLongRole, "A", "roles", "A"),
			want:   minimal(func(p *auth.Principal) { p.Roles = []string{"A"} }),
		},
		{
			name: "role_typ names no other claim as roles",
			header: eaEncode(eaDoc{AuthType: "aad", RoleType: "urn:example:app-role", Claims: eaClaims(
				"oid", eaOID, "tid", eaTenant, "urn:example:app-role", "Admin", "roles", "Reader", "urn:example:app-role", "Auditor",
			)}),
			want: minimal(func(p *auth.Principal) { p.Roles = []string{"Reader"} }),
		},
		{
			name: "role_typ cannot turn groups into roles",
			header: eaEncode(eaDoc{AuthType: "aad", RoleType: "groups", Claims: eaClaims(
				"oid", eaOID, "tid", eaTenant, "groups", "g1", "groups", "g2",
			)}),
			want: minimal(func(p *auth.Principal) { p.Groups = []string{"g1", "g2"} }),
		},
		{
			name: "a typeless claim is no user name without name_typ",
			header: eaEncode(eaDoc{AuthType: "aad", Claims: eaClaims(
				"oid", eaOID, "tid", eaTenant, "", "typeless",
			)}),
			want: minimal(nil),
		},
		{
			name:   "a role_typ claim is no role without role_typ",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "urn:example:app-role", "Admin"),
			want:   minimal(nil),
		},
		{
			name:   "repeated groups accumulate",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "groups", eaGroup1, "groups", eaGroup2, "groups", "g3"),
			want:   minimal(func(p *auth.Principal) { p.Groups = []string{eaGroup1, eaGroup2, "g3"} }),
		},
		{
			name:   "azp wins over appid (azp first)",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "azp", eaAzp, "appid", eaApp),
			want:   minimal(func(p *auth.Principal) { p.ClientAppID = eaAzp }),
		},
		{
			name:   "azp wins over appid (appid first)",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "appid", eaApp, "azp", eaAzp),
			want:   minimal(func(p *auth.Principal) { p.ClientAppID = eaAzp }),
		},
		{
			name:   "appid alone",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "appid", eaApp),
			want:   minimal(func(p *auth.Principal) { p.ClientAppID = eaApp }),
		},
		{
			name:   "preferred_username wins over upn (upn first)",
			header: eaHeader("oid", eaOID, "tid", eaTenant, eaLongUPN, "upn@x", "preferred_username", "pref@x"),
			want:   minimal(func(p *auth.Principal) { p.Username = "pref@x" }),
		},
		{
			name:   "preferred_username wins over short upn (preferred first)",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "preferred_username", "pref@x", "upn", "upn@x"),
			want:   minimal(func(p *auth.Principal) { p.Username = "pref@x" }),
		},
		{
			name:   "short upn",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "upn", "upn@x", "unique_name", "un@x"),
			want:   minimal(func(p *auth.Principal) { p.Username = "upn@x" }),
		},
		{
			name:   "unique_name when there is no upn",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "unique_name", "un@x", eaLongName, "nt@x"),
			want:   minimal(func(p *auth.Principal) { p.Username = "un@x" }),
		},
		{
			name:   "the long name claim as the last resort",
			header: eaHeader("oid", eaOID, "tid", eaTenant, eaLongName, "nt@x"),
			want:   minimal(func(p *auth.Principal) { p.Username = "nt@x" }),
		},
		{
			name: "the claim named by name_typ as the last resort",
			header: eaEncode(eaDoc{AuthType: "aad", NameType: "urn:example:email", Claims: eaClaims(
				"oid", eaOID, "tid", eaTenant, "urn:example:email", "mail@x",
			)}),
			want: minimal(func(p *auth.Principal) { p.Username = "mail@x" }),
		},
		{
			name:   "ver 1.0",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "ver", "1.0"),
			want:   minimal(func(p *auth.Principal) { p.TokenVersion = "1.0" }),
		},
		{
			name:   "idtyp app is app-only",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "idtyp", "app", "roles", "Data.Read.All"),
			want: minimal(func(p *auth.Principal) {
				p.AppOnly = true
				p.Roles = []string{"Data.Read.All"}
			}),
		},
		{
			name:   "idtyp user is not app-only",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "idtyp", "user"),
			want:   minimal(nil),
		},
		{
			name:   "groups overage",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "_claim_names", `{"groups":"src1"}`),
			want:   minimal(func(p *auth.Principal) { p.GroupsOverage = true }),
		},
		{
			name:   "an unparsable exp leaves ExpiresAt zero",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "exp", "soon"),
			want:   minimal(nil),
		},
		{
			name:   "auth_typ in capitals",
			header: eaEncode(eaDoc{AuthType: "AAD", Claims: eaClaims("oid", eaOID, "tid", eaTenant)}),
			want:   minimal(nil),
		},
		{
			name:   "unknown claims are ignored",
			header: eaHeader("oid", eaOID, "tid", eaTenant, "ipaddr", "192.0.2.1", "aio", "x", "", ""),
			want:   minimal(nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := auth.ParseClientPrincipal(tt.header)
			if err != nil {
				t.Fatalf("ParseClientPrincipal: %v", err)
			}
			eaSamePrincipal(t, p, tt.want)
		})
	}
}

func TestParseClientPrincipalRefusals(t *testing.T) {
	valid := eaUser(eaTenant, eaOID)
	if _, err := auth.ParseClientPrincipal(valid); err != nil {
		t.Fatalf("the valid principal the refusals start from is refused: %v", err)
	}

	// A principal whose standard base64 has both '+' and '/', so that its
	// base64url spelling differs from it.
	std := eaUser(eaTenant, eaOID, "name", "???~~~>>>")
	if !strings.ContainsAny(std, "+") || !strings.ContainsAny(std, "/") {
		t.Fatalf("test principal %q lacks '+' or '/'", std)
	}
	if _, err := auth.ParseClientPrincipal(std); err != nil {
		t.Fatalf("standard base64 principal refused: %v", err)
	}
	validJSON, _ := base64.StdEncoding.DecodeString(valid)

	// A principal just over the size bound: claims that pad it out.
	var big []string
	for i := 0; i < 700; i++ {
		big = append(big, "groups", fmt.Sprintf("%08d-0000-4000-8000-000000000000", i))
	}
	oversized := eaUser(eaTenant, eaOID, big...)
	if len(oversized) <= auth.MaxClientPrincipalBytes {
		t.Fatalf("oversized principal is only %d bytes", len(oversized))
	}

	tests := []struct {
		name   string
		header string
		reason string
	}{
		{"empty", "", "principal"},
		{"white space only", "   ", "principal"},
		{"not base64", "this is not base64!", "principal"},
		{"a JWT instead of a principal", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "principal"},
		{"base64url alphabet with -", strings.ReplaceAll(std, "+", "-"), "principal"},
		{"base64url alphabet with _", strings.ReplaceAll(std, "/", "_"), "principal"},
		{"base64url alphabet, unpadded", base64.RawURLEncoding.EncodeToString([]byte(`{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"},{"typ":"name","val":"???~~~>>>"}]}`)), "principal"},
		{"base64 but not JSON", eaB64("hello, world"), "principal"},
		{"truncated JSON", eaB64(string(validJSON[:len(validJSON)-1])), "principal"},
		{"JSON array", eaB64(`[` + string(validJSON) + `]`), "principal"},
		{"JSON string", eaB64(`"aad"`), "principal"},
		{"JSON number", eaB64(`42`), "principal"},
		{"JSON null", eaB64(`null`), "principal"},
		{"empty object", eaB64(`{}`), "principal"},
		{"val given twice in one claim", eaB64(`{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `","val":"` + eaTenant + `"}]}`), "principal"},
		{"auth_typ given twice", eaB64(`{"auth_typ":"google","auth_typ":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"}]}`), "principal"},
		{"AUTH_TYP in capitals", eaB64(`{"AUTH_TYP":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"}]}`), "principal"},
		{"TYP and VAL in capitals", eaB64(`{"auth_typ":"aad","claims":[{"TYP":"oid","VAL":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"}]}`), "missing_claim"},
		{"Static Web Apps principal", eaB64(`{"identityProvider":"aad","userId":"d75b260a64504067bfc5b2905e3b8182","userDetails":"ada@contoso.example","userRoles":["anonymous","authenticated"]}`), "principal"},
		{"Static Web Apps principal with claims", eaB64(`{"identityProvider":"aad","userId":"x","userDetails":"y","userRoles":["anonymous"],"claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"}]}`), "principal"},
		{"auth_typ google", eaEncode(eaDoc{AuthType: "google", Claims: eaClaims("oid", eaOID, "tid", eaTenant)}), "principal"},
		{"auth_typ empty", eaEncode(eaDoc{AuthType: "", Claims: eaClaims("oid", eaOID, "tid", eaTenant)}), "principal"},
		{"auth_typ missing", eaB64(`{"claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"}]}`), "principal"},
		{"auth_typ aad with spaces", eaEncode(eaDoc{AuthType: " aad", Claims: eaClaims("oid", eaOID, "tid", eaTenant)}), "principal"},
		{"auth_typ microsoftaccount", eaEncode(eaDoc{AuthType: "microsoftaccount", Claims: eaClaims("oid", eaOID, "tid", eaTenant)}), "principal"},
		{"missing oid", eaHeader("tid", eaTenant, "scp", "user_impersonation"), "missing_claim"},
		{"missing tid", eaHeader("oid", eaOID, "scp", "user_impersonation"), "missing_claim"},
		{"empty oid", eaHeader("oid", "", "tid", eaTenant), "missing_claim"},
		{"empty tid", eaHeader("oid", eaOID, eaLongTID, ""), "missing_claim"},
		{"no claims", eaB64(`{"auth_typ":"aad","claims":[]}`), "missing_claim"},
		{"null claims", eaB64(`{"auth_typ":"aad","claims":null}`), "missing_claim"},
		{"oid only under another casing", eaHeader("OID", eaOID, "tid", eaTenant), "missing_claim"},
		{"two tid values", eaHeader("oid", eaOID, "tid", eaTenant, "tid", eaOther), "duplicate_claim"},
		{"short tid and long tenantid disagreeing", eaHeader("oid", eaOID, "tid", eaTenant, eaLongTID, eaOther), "duplicate_claim"},
		{"long tenantid and short tid disagreeing", eaHeader("oid", eaOID, eaLongTID, eaOther, "tid", eaTenant), "duplicate_claim"},
		{"short oid and long objectidentifier disagreeing", eaHeader("oid", eaOID, eaLongOID, eaOID2, "tid", eaTenant), "duplicate_claim"},
		{"a tid then an empty tid", eaHeader("oid", eaOID, "tid", eaTenant, "tid", ""), "duplicate_claim"},
		{"scp and long scope disagreeing", eaHeader("oid", eaOID, "tid", eaTenant, "scp", "a", eaLongScope, "a b"), "duplicate_claim"},
		{"two azp values", eaHeader("oid", eaOID, "tid", eaTenant, "azp", eaApp, "azp", eaAzp), "duplicate_claim"},
		{"two appid values", eaHeader("oid", eaOID, "tid", eaTenant, "appid", eaApp, "appid", eaAzp), "duplicate_claim"},
		{"two aud values", eaHeader("oid", eaOID, "tid", eaTenant, "aud", eaAud, "aud", "api://other"), "duplicate_claim"},
		{"two idtyp values", eaHeader("oid", eaOID, "tid", eaTenant, "idtyp", "user", "idtyp", "app"), "duplicate_claim"},
		{"two ver values", eaHeader("oid", eaOID, "tid", eaTenant, "ver", "1.0", "ver", "2.0"), "duplicate_claim"},
		{"trailing object", eaB64(string(validJSON) + `{"auth_typ":"aad"}`), "principal"},
		{"trailing garbage", eaB64(string(validJSON) + ` x`), "principal"},
		{"trailing bracket", eaB64(string(validJSON) + `]`), "principal"},
		{"trailing brace", eaB64(string(validJSON) + `}`), "principal"},
		{"trailing number", eaB64(string(validJSON) + ` 1`), "principal"},
		{"over MaxClientPrincipalBytes", oversized, "principal"},
		{"number val", eaB64(`{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"},{"typ":"exp","val":1750003600}]}`), "principal"},
		{"number oid", eaB64(`{"auth_typ":"aad","claims":[{"typ":"oid","val":12345},{"typ":"tid","val":"` + eaTenant + `"}]}`), "principal"},
		{"bool val", eaB64(`{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"},{"typ":"x","val":true}]}`), "principal"},
		{"array val", eaB64(`{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"},{"typ":"groups","val":["a","b"]}]}`), "principal"},
		{"object val", eaB64(`{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"},{"typ":"x","val":{}}]}`), "principal"},
		{"number typ", eaB64(`{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"},{"typ":7,"val":"x"}]}`), "principal"},
		{"claims an object", eaB64(`{"auth_typ":"aad","claims":{"oid":"` + eaOID + `","tid":"` + eaTenant + `"}}`), "principal"},
		{"claims of strings", eaB64(`{"auth_typ":"aad","claims":["oid","tid"]}`), "principal"},
		{"number auth_typ", eaB64(`{"auth_typ":1,"claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"}]}`), "principal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *auth.Principal
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("ParseClientPrincipal panicked: %v", r)
					}
				}()
				p, err = auth.ParseClientPrincipal(tt.header)
			}()
			if p != nil {
				t.Errorf("principal = %+v, want nil", p)
			}
			eaWantTokenError(t, err, tt.reason)
		})
	}
}

func TestParseClientPrincipalSizeBound(t *testing.T) {
	// JSON of 3n bytes is 4n base64 characters; white space pads it out.
	pad := func(n int) string {
		j := `{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + eaOID + `"},{"typ":"tid","val":"` + eaTenant + `"}]}`
		return eaB64(j + strings.Repeat(" ", n-len(j)))
	}
	at := pad(auth.MaxClientPrincipalBytes / 4 * 3)
	if len(at) != auth.MaxClientPrincipalBytes {
		t.Fatalf("len = %d, want %d", len(at), auth.MaxClientPrincipalBytes)
	}
	if p, err := auth.ParseClientPrincipal(at); err != nil || p.ObjectID != eaOID {
		t.Errorf("principal of exactly MaxClientPrincipalBytes: %+v, %v", p, err)
	}
	over := pad(auth.MaxClientPrincipalBytes/4*3 + 1)
	if len(over) <= auth.MaxClientPrincipalBytes {
		t.Fatalf("len = %d, want more than %d", len(over), auth.MaxClientPrincipalBytes)
	}
	p, err := auth.ParseClientPrincipal(over)
	if p != nil {
		t.Errorf("principal over the bound = %+v, want nil", p)
	}
	eaWantTokenError(t, err, "principal")
}

func TestEasyAuthConfig(t *testing.T) {
	for _, tid := range []string{"", "common", "organizations", "not-a-guid", eaTenant + "x"} {
		if a, err := auth.EasyAuth(auth.EasyAuthConfig{TenantID: tid}); err == nil || a != nil {
			t.Errorf("EasyAuth(TenantID %q) = %v, %v; want an error", tid, a, err)
		}
	}
	if a, err := auth.EasyAuth(auth.EasyAuthConfig{TenantID: eaTenant}); err != nil || a == nil {
		t.Errorf("EasyAuth(TenantID %q) = %v, %v; want an authenticator", eaTenant, a, err)
	}
}

// eaRequest returns a request carrying the Easy Auth headers in hdr, in
// the order given (so a name twice gives two values).
func eaRequest(hdr ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	for i := 0; i < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

// eaCheck checks an authenticator's answer: wantErr nil is success with the
// principal (oid, tid); an ErrForbidden carries rule and the principal; any
// other error carries no principal (and reason, for an ErrInvalidToken).
func eaCheck(t *testing.T, p *auth.Principal, err error, wantErr error, reason, rule, oid, tid string) {
	t.Helper()
	switch {
	case wantErr == nil:
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		if p == nil || p.ObjectID != oid || p.TenantID != tid || p.Source != auth.SourceEasyAuth {
			t.Fatalf("principal = %+v, want oid %s tid %s from easyauth", p, oid, tid)
		}
	case errors.Is(wantErr, auth.ErrForbidden):
		if !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("err = %v, want ErrForbidden", err)
		}
		var pe *auth.PolicyError
		if !errors.As(err, &pe) || pe.Rule != rule {
			t.Errorf("err = %#v, want PolicyError rule %s", err, rule)
		}
		if got := auth.Reason(err); !auth.Explained(got) {
			t.Errorf("the refusal's reason %q has no row in the reason table", got)
		}
		if got := auth.Reason(err); got != rule {
			t.Errorf("Reason = %q, want %q", got, rule)
		}
		if p == nil || p.ObjectID != oid || p.TenantID != tid {
			t.Errorf("principal = %+v, want oid %s tid %s for the log", p, oid, tid)
		}
	case errors.Is(wantErr, auth.ErrInvalidToken):
		eaWantTokenError(t, err, reason)
		if p != nil {
			t.Errorf("principal = %+v, want nil", p)
		}
	default:
		if !errors.Is(err, wantErr) {
			t.Fatalf("err = %v, want %v", err, wantErr)
		}
		if p != nil {
			t.Errorf("principal = %+v, want nil", p)
		}
	}
}

func TestEasyAuthAuthenticate(t *testing.T) {
	user := eaUser(eaTenant, eaOID, "aud", eaAud)
	upper := eaUser(strings.ToUpper(eaTenant), eaOID)
	stranger := eaUser(eaOther, eaOID2, "aud", eaAud)
	fixture := eaReadFixture(t)

	const (
		P   = auth.HeaderClientPrincipal
		IDP = auth.HeaderClientPrincipalIDP
	)
	tests := []struct {
		name     string
		cfg      auth.EasyAuthConfig
		req      *http.Request
		wantErr  error
		reason   string
		rule     string
		oid, tid string
	}{
		{name: "no principal", req: eaRequest(), wantErr: auth.ErrNoCredentials},
		{name: "only the idp header", req: eaRequest(IDP, "aad"), wantErr: auth.ErrNoCredentials},
		{name: "only a bearer token", req: eaRequest("Authorization", "Bearer abc"), wantErr: auth.ErrNoCredentials},
		{name: "ok", req: eaRequest(P, user, IDP, "aad"), oid: eaOID, tid: eaTenant},
		{name: "idp in capitals", req: eaRequest(P, user, IDP, "AAD"), oid: eaOID, tid: eaTenant},
		{name: "tenant matches in another case", req: eaRequest(P, upper, IDP, "aad"), oid: eaOID, tid: strings.ToUpper(eaTenant)},
		{name: "two principal headers", req: eaRequest(P, user, P, stranger, IDP, "aad"), wantErr: auth.ErrInvalidToken, reason: "principal"},
		{name: "the same principal twice", req: eaRequest(P, user, P, user, IDP, "aad"), wantErr: auth.ErrInvalidToken, reason: "principal"},
		{name: "missing idp", req: eaRequest(P, user), wantErr: auth.ErrInvalidToken, reason: "principal"},
		{name: "empty idp", req: eaRequest(P, user, IDP, ""), wantErr: auth.ErrInvalidToken, reason: "principal"},
		{name: "idp google", req: eaRequest(P, user, IDP, "google"), wantErr: auth.ErrInvalidToken, reason: "principal"},
		{name: "two idp headers", req: eaRequest(P, user, IDP, "aad", IDP, "aad"), wantErr: auth.ErrInvalidToken, reason: "principal"},
		{name: "malformed principal", req: eaRequest(P, "garbage!", IDP, "aad"), wantErr: auth.ErrInvalidToken, reason: "principal"},
		{name: "empty principal header", req: eaRequest(P, "", IDP, "aad"), wantErr: auth.ErrInvalidToken, reason: "principal"},
		{name: "principal without oid", req: eaRequest(P, eaHeader("tid", eaTenant), IDP, "aad"), wantErr: auth.ErrInvalidToken, reason: "missing_claim"},
		{name: "tenant mismatch", req: eaRequest(P, stranger, IDP, "aad"), wantErr: auth.ErrForbidden, rule: "AUTH_TENANT_ID", oid: eaOID2, tid: eaOther},
		{
			name:    "tenant mismatch is checked before audiences",
			cfg:     auth.EasyAuthConfig{Audiences: []string{"api://nobody"}},
			req:     eaRequest(P, stranger, IDP, "aad"),
			wantErr: auth.ErrForbidden, rule: "AUTH_TENANT_ID", oid: eaOID2, tid: eaOther,
		},
		{
			name:    "audience not listed",
			cfg:     auth.EasyAuthConfig{Audiences: []string{"api://other", "api://third"}},
			req:     eaRequest(P, user, IDP, "aad"),
			wantErr: auth.ErrForbidden, rule: "AUTH_AUDIENCES", oid: eaOID, tid: eaTenant,
		},
		{
			name:    "audiences set and the principal has no aud",
			cfg:     auth.EasyAuthConfig{Audiences: []string{eaAud}},
			req:     eaRequest(P, eaUser(eaTenant, eaOID), IDP, "aad"),
			wantErr: auth.ErrForbidden, rule: "AUTH_AUDIENCES", oid: eaOID, tid: eaTenant,
		},
		{
			name: "audience listed",
			cfg:  auth.EasyAuthConfig{Audiences: []string{"api://other", eaAud}},
			req:  eaRequest(P, user, IDP, "aad"),
			oid:  eaOID, tid: eaTenant,
		},
		{
			name: "the real fixture with its tenant and audience",
			cfg:  auth.EasyAuthConfig{TenantID: fixtureTenant, Audiences: []string{fixtureAud}, Now: fixtureNow},
			req:  eaRequest(P, fixture, IDP, "aad"),
			oid:  fixtureOID, tid: fixtureTenant,
		},
		{
			name:    "the real fixture in another tenant",
			cfg:     auth.EasyAuthConfig{Now: fixtureNow},
			req:     eaRequest(P, fixture, IDP, "aad"),
			wantErr: auth.ErrForbidden, rule: "AUTH_TENANT_ID", oid: fixtureOID, tid: fixtureTenant,
		},
		{
			name: "lower-case header names",
			req: func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
				r.Header.Set("x-ms-client-principal", user)
				r.Header.Set("x-ms-client-principal-idp", "aad")
				return r
			}(),
			oid: eaOID, tid: eaTenant,
		},
		{
			name: "mixed-case header names",
			req: func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
				r.Header.Set("X-Ms-Client-Principal", user)
				r.Header.Set("x-MS-client-PRINCIPAL-idp", "aad")
				return r
			}(),
			oid: eaOID, tid: eaTenant,
		},
		{
			name: "two principal headers in different cases",
			req: func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
				r.Header.Add("x-ms-client-principal", user)
				r.Header.Add("X-MS-CLIENT-PRINCIPAL", user)
				r.Header.Set("X-MS-CLIENT-PRINCIPAL-IDP", "aad")
				return r
			}(),
			wantErr: auth.ErrInvalidToken, reason: "principal",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.TenantID == "" {
				cfg.TenantID = eaTenant
			}
			a, err := auth.EasyAuth(cfg)
			if err != nil {
				t.Fatalf("EasyAuth: %v", err)
			}
			p, err := a.Authenticate(tt.req)
			eaCheck(t, p, err, tt.wantErr, tt.reason, tt.rule, tt.oid, tt.tid)
		})
	}
}

// TestEasyAuthHeaderNamesOverTheWire sends the headers in lower case on the
// wire, as some front ends do, to a real server.
func TestEasyAuthHeaderNamesOverTheWire(t *testing.T) {
	a, err := auth.EasyAuth(auth.EasyAuthConfig{TenantID: eaTenant})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		switch {
		case err != nil:
			http.Error(w, auth.Reason(err), http.StatusUnauthorized)
		default:
			fmt.Fprint(w, p.ObjectID)
		}
	}))
	defer srv.Close()

	user := eaUser(eaTenant, eaOID)
	tests := []struct {
		name   string
		header http.Header // raw keys, written as they are
		status int
		body   string
	}{
		{"lower case", http.Header{"x-ms-client-principal": {user}, "x-ms-client-principal-idp": {"aad"}}, http.StatusOK, eaOID},
		{"upper case", http.Header{"X-MS-CLIENT-PRINCIPAL": {user}, "X-MS-CLIENT-PRINCIPAL-IDP": {"aad"}}, http.StatusOK, eaOID},
		{"two spellings make two headers", http.Header{"x-ms-client-principal": {user}, "X-MS-CLIENT-PRINCIPAL": {user}, "x-ms-client-principal-idp": {"aad"}}, http.StatusUnauthorized, "principal"},
		{"no principal", http.Header{"x-ms-client-principal-idp": {"aad"}}, http.StatusUnauthorized, "no_credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/me", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || strings.TrimSpace(string(b)) != tt.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, b, tt.status, tt.body)
			}
		})
	}
}

func TestEasyAuthVerifier(t *testing.T) {
	key, err := auth.LoadOrCreateDevKey(filepath.Join(t.TempDir(), "dev-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := key.KeySet()
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{TenantID: auth.DevTenantID, Audiences: []string{auth.DevAudience}}, ks)
	if err != nil {
		t.Fatal(err)
	}
	other, err := auth.LoadOrCreateDevKey(filepath.Join(t.TempDir(), "other-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	mint := func(k *auth.DevKey, dt auth.DevToken) string {
		t.Helper()
		tok, err := k.Mint(dt)
		if err != nil {
			t.Fatalf("Mint: %v", err)
		}
		return tok
	}
	good := mint(key, auth.DevToken{ObjectID: eaOID})
	otherUser := mint(key, auth.DevToken{ObjectID: eaOID2})
	expired := mint(key, auth.DevToken{ObjectID: eaOID, Now: time.Now().Add(-3 * time.Hour)})
	forged := mint(other, auth.DevToken{ObjectID: eaOID})

	// The verifier accepts the good token: what follows tests EasyAuth.
	if tp, err := v.Verify(t.Context(), good); err != nil || tp.ObjectID != eaOID || tp.TenantID != auth.DevTenantID {
		t.Fatalf("Verify(good) = %+v, %v", tp, err)
	}

	const (
		P   = auth.HeaderClientPrincipal
		IDP = auth.HeaderClientPrincipalIDP
		AT  = auth.HeaderAADAccessToken
	)
	user := eaUser(auth.DevTenantID, eaOID)
	tests := []struct {
		name    string
		req     *http.Request
		wantErr error
		reason  string
	}{
		{"no token at all", eaRequest(P, user, IDP, "aad"), auth.ErrInvalidToken, "missing_token"},
		{"empty token store header", eaRequest(P, user, IDP, "aad", AT, "  "), auth.ErrInvalidToken, "missing_token"},
		{"Basic credentials are no token", eaRequest(P, user, IDP, "aad", "Authorization", "Basic dXNlcjpwYXNz"), auth.ErrInvalidToken, "missing_token"},
		{"bearer token of the same user", eaRequest(P, user, IDP, "aad", "Authorization", "Bearer "+good), nil, ""},
		{"token store header only", eaRequest(P, user, IDP, "aad", AT, good), nil, ""},
		{"token store header next to Basic credentials", eaRequest(P, user, IDP, "aad", "Authorization", "Basic dXNlcjpwYXNz", AT, good), nil, ""},
		{"bearer token of another user", eaRequest(P, user, IDP, "aad", "Authorization", "Bearer "+otherUser), auth.ErrInvalidToken, "principal_mismatch"},
		{"token store token of another user", eaRequest(P, user, IDP, "aad", AT, otherUser), auth.ErrInvalidToken, "principal_mismatch"},
		{"the bearer token counts over the token store", eaRequest(P, user, IDP, "aad", "Authorization", "Bearer "+otherUser, AT, good), auth.ErrInvalidToken, "principal_mismatch"},
		{"principal of another user than the token", eaRequest(P, eaUser(auth.DevTenantID, eaOID2), IDP, "aad", "Authorization", "Bearer "+good), auth.ErrInvalidToken, "principal_mismatch"},
		{"invalid bearer token", eaRequest(P, user, IDP, "aad", "Authorization", "Bearer abc.def.ghi"), auth.ErrInvalidToken, ""},
		{"invalid token store token", eaRequest(P, user, IDP, "aad", AT, "not-a-jwt"), auth.ErrInvalidToken, ""},
		{"expired token", eaRequest(P, user, IDP, "aad", "Authorization", "Bearer "+expired), auth.ErrInvalidToken, ""},
		{"token signed by another key", eaRequest(P, user, IDP, "aad", "Authorization", "Bearer "+forged), auth.ErrInvalidToken, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := auth.EasyAuth(auth.EasyAuthConfig{TenantID: auth.DevTenantID, Verifier: v})
			if err != nil {
				t.Fatal(err)
			}
			p, err := a.Authenticate(tt.req)
			eaCheck(t, p, err, tt.wantErr, tt.reason, "", eaOID, auth.DevTenantID)
		})
	}
}

// TestEasyAuthVerifierPolicyJudgesTheToken: with a verifier, a forged
// header that matches the token's oid and tid can add nothing: the scopes,
// client app and groups the policy judges are the token's.
func TestEasyAuthVerifierPolicyJudgesTheToken(t *testing.T) {
	key, err := auth.LoadOrCreateDevKey(filepath.Join(t.TempDir(), "dev-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := key.KeySet()
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{TenantID: auth.DevTenantID, Audiences: []string{auth.DevAudience}}, ks)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := key.Mint(auth.DevToken{ObjectID: eaOID, Scopes: []string{}, ClientAppID: "99999999-0000-4000-8000-000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	forged := eaUser(auth.DevTenantID, eaOID, "scp", "user_impersonation", "azp", auth.DevClientAppID, "groups", "admins")
	a, err := auth.EasyAuth(auth.EasyAuthConfig{TenantID: auth.DevTenantID, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(eaRequest(auth.HeaderClientPrincipal, forged, auth.HeaderClientPrincipalIDP, "aad", "Authorization", "Bearer "+tok))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Scopes) != 0 || p.ClientAppID != "99999999-0000-4000-8000-000000000000" || len(p.Groups) != 0 || p.Source != auth.SourceEasyAuth {
		t.Fatalf("principal %+v carries the header's claims, not the token's", p)
	}
	policy := auth.Policy{RequiredScopes: []string{"user_impersonation"}, AllowedClientApps: []string{auth.DevClientAppID}}
	if err := policy.Check(p); !errors.Is(err, auth.ErrInsufficientScope) {
		t.Fatalf("policy admitted the forged claims: %v", err)
	}
	// The cached principal of the token is not changed by the copy.
	if tp, _ := v.Verify(t.Context(), tok); tp.Source != auth.SourceJWT {
		t.Fatalf("the verifier's cached principal was modified: source %q", tp.Source)
	}
}

func TestEasyAuthMiddleware(t *testing.T) {
	a, err := auth.EasyAuth(auth.EasyAuthConfig{TenantID: eaTenant})
	if err != nil {
		t.Fatal(err)
	}
	policy := auth.Policy{RequiredScopes: []string{"user_impersonation"}}

	tests := []struct {
		name    string
		hdr     []string
		wantErr error  // nil: the handler runs
		ctxOID  string // the oid FromContext gives; "" for none
	}{
		{"admitted", []string{auth.HeaderClientPrincipal, eaUser(eaTenant, eaOID), auth.HeaderClientPrincipalIDP, "aad"}, nil, eaOID},
		{"without the scope", []string{auth.HeaderClientPrincipal, eaHeader("oid", eaOID, "tid", eaTenant, "scp", "Files.Read"), auth.HeaderClientPrincipalIDP, "aad"}, auth.ErrInsufficientScope, eaOID},
		{"with no scope at all", []string{auth.HeaderClientPrincipal, eaHeader("oid", eaOID, "tid", eaTenant), auth.HeaderClientPrincipalIDP, "aad"}, auth.ErrInsufficientScope, eaOID},
		{"another tenant", []string{auth.HeaderClientPrincipal, eaUser(eaOther, eaOID2), auth.HeaderClientPrincipalIDP, "aad"}, auth.ErrForbidden, eaOID2},
		{"no principal", nil, auth.ErrNoCredentials, ""},
		{"malformed principal", []string{auth.HeaderClientPrincipal, "!!", auth.HeaderClientPrincipalIDP, "aad"}, auth.ErrInvalidToken, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				ran      bool
				gotErr   error
				errCalls int
				ctxP     *auth.Principal
			)
			onError := func(w http.ResponseWriter, r *http.Request, err error) {
				errCalls++
				gotErr = err
				ctxP, _ = auth.FromContext(r.Context())
				w.WriteHeader(http.StatusForbidden)
			}
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				ctxP, _ = auth.FromContext(r.Context())
			})
			h := auth.Middleware(a, policy, onError)(next)
			h.ServeHTTP(httptest.NewRecorder(), eaRequest(tt.hdr...))

			if tt.wantErr == nil {
				if !ran || errCalls != 0 {
					t.Fatalf("handler ran %v, onError called %d times (%v)", ran, errCalls, gotErr)
				}
			} else {
				if ran || errCalls != 1 {
					t.Fatalf("handler ran %v, onError called %d times", ran, errCalls)
				}
				if !errors.Is(gotErr, tt.wantErr) {
					t.Errorf("onError got %v, want %v", gotErr, tt.wantErr)
				}
			}
			switch {
			case tt.ctxOID == "" && ctxP != nil:
				t.Errorf("FromContext = %+v, want none", ctxP)
			case tt.ctxOID != "" && (ctxP == nil || ctxP.ObjectID != tt.ctxOID || ctxP.TenantID == ""):
				t.Errorf("FromContext = %+v, want oid %s with its tid", ctxP, tt.ctxOID)
			}
		})
	}
}

func ExampleParseClientPrincipal() {
	header := base64.StdEncoding.EncodeToString([]byte(`{
		"auth_typ": "aad",
		"claims": [
			{"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170"},
			{"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": "3f0e2a6c-6b2d-4c1e-9a57-0d4b8e1f2a3b"},
			{"typ": "http://schemas.microsoft.com/identity/claims/scope", "val": "user_impersonation Files.Read"}
		],
		"name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
		"role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
	}`))
	p, err := auth.ParseClientPrincipal(header)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.ObjectID)
	fmt.Println(p.TenantID)
	fmt.Println(p.Scopes)

	// A Static Web Apps principal is not an Easy Auth one.
	_, err = auth.ParseClientPrincipal(base64.StdEncoding.EncodeToString([]byte(`{"identityProvider":"aad","userId":"x","userDetails":"y","userRoles":["anonymous"]}`)))
	fmt.Println(errors.Is(err, auth.ErrInvalidToken), auth.Reason(err))
	// Output:
	// 5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170
	// 3f0e2a6c-6b2d-4c1e-9a57-0d4b8e1f2a3b
	// [user_impersonation Files.Read]
	// true principal
}

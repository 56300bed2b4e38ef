package auth_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/auth"
)

// FuzzParseClientPrincipal feeds each input both as a header value and,
// base64-encoded, as the principal JSON, so that the fuzzer explores the
// JSON decoding and claim mapping rather than only base64 failures.
func FuzzParseClientPrincipal(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "easyauth-client-principal-copilot-camp.b64"))
	if err != nil {
		f.Fatal(err)
	}
	fixture := strings.TrimSpace(string(b))
	fixtureJSON, err := base64.StdEncoding.DecodeString(fixture)
	if err != nil {
		f.Fatal(err)
	}
	const short = `{"auth_typ":"aad","claims":[` +
		`{"typ":"oid","val":"7c9e6679-7425-40de-944b-e07fc1f90ae7"},` +
		`{"typ":"tid","val":"b7a1c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},` +
		`{"typ":"scp","val":"user_impersonation Files.Read"},` +
		`{"typ":"roles","val":"Reader"},{"typ":"roles","val":"Writer"},` +
		`{"typ":"groups","val":"f08bbbea-b793-4a36-a5fc-136c18d8aa8f"},{"typ":"groups","val":"14a87ffa-0801-49bf-a515-3d259a2a9f8f"},` +
		`{"typ":"azp","val":"1b2c3d4e-5f60-4172-8384-a5b6c7d8e9f0"},{"typ":"appid","val":"0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"},` +
		`{"typ":"preferred_username","val":"ada@contoso.example"},{"typ":"ver","val":"2.0"},{"typ":"exp","val":"1750003600"},` +
		`{"typ":"idtyp","val":"user"},{"typ":"_claim_names","val":"{\"groups\":\"src1\"}"}],` +
		`"name_typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name","role_typ":"urn:example:role"}`
	const swa = `{"identityProvider":"aad","userId":"d75b260a64504067bfc5b2905e3b8182","userDetails":"ada@contoso.example","userRoles":["anonymous","authenticated"]}`
	for _, s := range []string{
		fixture,
		string(fixtureJSON),
		short,
		base64.StdEncoding.EncodeToString([]byte(short)),
		swa,
		base64.StdEncoding.EncodeToString([]byte(swa)),
		`{"auth_typ":"aad","claims":[{"typ":"oid","val":"a"},{"typ":"tid","val":"b"},{"typ":"tid","val":"c"}]}`,
		`{"auth_typ":"aad","claims":[{"typ":"oid","val":1}]}`,
		`{"auth_typ":"aad","claims":[{"typ":"oid","val":"a"},{"typ":"tid","val":"b"}]} {}`,
		`[]`,
		`null`,
		"",
		"!!!!",
		"eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
		"\x00\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkClientPrincipal(t, string(b))
		checkClientPrincipal(t, base64.StdEncoding.EncodeToString(b))
	})
}

func checkClientPrincipal(t *testing.T, header string) {
	t.Helper()
	p, err := auth.ParseClientPrincipal(header)
	if (p == nil) == (err == nil) {
		t.Fatalf("ParseClientPrincipal(%q) = %v, %v: want exactly one of principal and error", header, p, err)
	}
	if err != nil {
		if !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("ParseClientPrincipal(%q) error %v does not match ErrInvalidToken", header, err)
		}
		for _, other := range []error{auth.ErrNoCredentials, auth.ErrInvalidRequest, auth.ErrInsufficientScope, auth.ErrForbidden, auth.ErrUnavailable} {
			if errors.Is(err, other) {
				t.Fatalf("ParseClientPrincipal(%q) error %v also matches %v", header, err, other)
			}
		}
		var te *auth.TokenError
		if !errors.As(err, &te) || te.Reason == "" {
			t.Fatalf("ParseClientPrincipal(%q) error %#v is not a TokenError with a reason", header, err)
		}
		return
	}
	if p.ObjectID == "" || p.TenantID == "" {
		t.Fatalf("ParseClientPrincipal(%q) accepted a principal without oid or tid: %+v", header, p)
	}
	if p.Source != auth.SourceEasyAuth {
		t.Fatalf("ParseClientPrincipal(%q) Source = %q, want %q", header, p.Source, auth.SourceEasyAuth)
	}
	if len(header) > auth.MaxClientPrincipalBytes {
		t.Fatalf("ParseClientPrincipal accepted a header of %d bytes, over %d", len(header), auth.MaxClientPrincipalBytes)
	}
	if p.Scopes == nil || p.Roles == nil || p.Groups == nil {
		t.Fatalf("ParseClientPrincipal(%q) left a nil list: %+v", header, p)
	}
}

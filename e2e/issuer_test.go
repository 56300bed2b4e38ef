package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/entrafunc/entrafunc/internal/entratest"
)

// newIssuer starts the Entra-shaped test issuer for tenant on loopback,
// publishing one key, k1; it closes when the test ends. It serves the
// real 2024 metadata documents of testdata/, made tenant-specific by
// entratest the way Entra makes them (endpoints on the issuer's address,
// issuer values as Entra writes them), so that what the handler parses
// here is what it parses in production.
func newIssuer(t *testing.T, tenant string) *entratest.Issuer {
	t.Helper()
	v2, err := os.ReadFile("testdata/common-v2-openid-configuration-2024-02-02.json")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile("testdata/common-v1-openid-configuration-2024-02-02.json")
	if err != nil {
		t.Fatal(err)
	}
	return entratest.New(t, entratest.Config{
		TenantID:   tenant,
		ClientID:   apiClientID,
		KeyIDs:     []string{"k1"},
		V2Metadata: v2,
		V1Metadata: v1,
	})
}

// The app registrations of the e2e tenant.
const (
	e2eTenant       = "4d2f6a8e-1c3b-4e5f-9a7d-2b8c6e0f1a3d"
	otherTenant     = "9b1e2c3d-4f5a-4b6c-8d7e-0f1a2b3c4d5e"
	apiClientID     = "6f1c9b2a-3e4d-4c5b-8a9f-7e6d5c4b3a21"
	connectorAppID  = "c0ffee00-1234-4abc-9def-0123456789ab"
	resourceURL     = "https://entrafunc-e2e.azurewebsites.net"
	userOID         = "7912fe7b-b5ab-425b-bb1f-0e83b99fca7f"
	allowedGroupOID = "11b8475a-fb12-41aa-b1f6-8497c1b5385b"
)

// v1Claims is a delegated v1.0 access token as a connector gets it with a
// Resource URL (compare the passport fixture in shared/fixtures/entra).
// The claims are written out here rather than minted by entratest because
// the tests sign them for other tenants too, and change them one claim at
// a time.
func v1Claims(tenant string) jwt.MapClaims {
	now := time.Now().Unix()
	return jwt.MapClaims{
		"aud": resourceURL, "iss": "https://sts.windows.net/" + tenant + "/",
		"iat": now - 60, "nbf": now - 60, "exp": now + 3600,
		"acr": "1", "aio": "AVQAq/8TAAAA", "amr": []string{"pwd"},
		"appid": connectorAppID, "appidacr": "1",
		"family_name": "Lovelace", "given_name": "Ada", "ipaddr": "203.0.113.7", "name": "Ada Lovelace",
		"oid": userOID, "rh": "0.AXEAoaGNJrSduUix_mgyULqQzA.", "scp": "user_impersonation",
		"sub": "Ku2-Ft9lY9i2Bvfhmq4166ZH3kWH4WXtmzG9M-8MFac", "tid": tenant,
		"unique_name": "ada@contoso.onmicrosoft.com", "upn": "ada@contoso.onmicrosoft.com",
		"uti": "FVsGxYXI30-TuikuuUoFAA", "ver": "1.0",
	}
}

// v2Claims is a delegated v2.0 access token (compare the navikt fixture).
func v2Claims(tenant string) jwt.MapClaims {
	now := time.Now().Unix()
	return jwt.MapClaims{
		"aud": apiClientID, "iss": "https://login.microsoftonline.com/" + tenant + "/v2.0",
		"iat": now - 60, "nbf": now - 60, "exp": now + 3600,
		"aio": "ATQAy/8WAAAA", "azp": connectorAppID, "azpacr": "1",
		"groups": []string{allowedGroupOID, "3e28466f-c53d-46da-8b44-a4abc2ad4593"},
		"name":   "Ada Lovelace", "oid": userOID, "preferred_username": "ada@contoso.onmicrosoft.com",
		"rh": "0.AXEAoaGNJrSduUix_mgyULqQzA.", "scp": "user_impersonation",
		"sub": "kXERk3Sn56ZH3zTvEb0IxpflLdWoMzulDO6s1fCDdow", "tid": tenant,
		"uti": "p4tMxz_NwECmuyUrN8IxAA", "ver": "2.0",
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// jwtEnv is the environment of a handler in jwt mode against is.
func jwtEnv(is *entratest.Issuer) map[string]string {
	return map[string]string{
		"AUTH_MODE":      "jwt",
		"AUTH_TENANT_ID": e2eTenant,
		"AUTH_AUDIENCES": "api://" + apiClientID + "," + apiClientID + "," + resourceURL,
		"AUTH_AUTHORITY": is.URL(),
	}
}

// waitStatus polls until the request answers want, for at most limit.
func (p *proc) waitStatus(r request, want int, limit time.Duration) response {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := p.do(r)
		if got.status == want {
			return got
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s %s: still %d after %v, want %d: %s\nlog: %s", r.method, r.path, got.status, limit, want, got.body, p.stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

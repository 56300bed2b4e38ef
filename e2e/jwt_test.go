package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestJWTMode runs the handler in jwt mode against the local issuer, with
// v1 and v2 tokens shaped like Entra's, and every refusal the API owes.
func TestJWTMode(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	p := start(t, jwtEnv(is))

	v2 := is.Sign("k1", v2Claims(e2eTenant))
	p.waitStatus(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(v2)}, 200, 30*time.Second)

	now := time.Now().Unix()
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(v2, ".")[1] + "."
	cases := []struct {
		name   string
		token  string
		status int
		header string // expected WWW-Authenticate
		reason string // expected in the log line
	}{
		{"v2 token", v2, 200, "", ""},
		{"v1 token with the Resource URL audience", is.Sign("k1", v1Claims(e2eTenant)), 200, "", ""},
		{"v1 token with the App ID URI audience", is.Sign("k1", with(v1Claims(e2eTenant), "aud", "api://"+apiClientID)), 200, "", ""},
		{"expired", is.Sign("k1", with(v2Claims(e2eTenant), "exp", now-600, "iat", now-4000, "nbf", now-4000)), 401, invalidToken, "expired"},
		{"not yet valid", is.Sign("k1", with(v2Claims(e2eTenant), "nbf", now+900)), 401, invalidToken, "not_yet_valid"},
		{"audience of another API", is.Sign("k1", with(v2Claims(e2eTenant), "aud", "00000003-0000-0000-c000-000000000000")), 401, invalidToken, "audience"},
		{"v1 issuer on a v2-shaped token is still ours", is.Sign("k1", with(v2Claims(e2eTenant), "iss", "https://sts.windows.net/"+e2eTenant+"/")), 200, "", ""},
		{"foreign issuer", is.Sign("k1", with(v2Claims(e2eTenant), "iss", "https://evil.example/"+e2eTenant+"/v2.0")), 401, invalidToken, "issuer"},
		{"other tenant", is.Sign("k1", v2Claims(otherTenant)), 401, invalidToken, "issuer"},
		{"other tenant's tid under our issuer", is.Sign("k1", with(v2Claims(e2eTenant), "tid", otherTenant)), 401, invalidToken, "tenant"},
		{"alg none", none, 401, invalidToken, "algorithm"},
		{"unknown key", is.Sign("attacker", v2Claims(e2eTenant)), 401, invalidToken, "unknown_key"},
		{"app-only token", is.Sign("k1", with(v2Claims(e2eTenant), "scp", nil, "roles", []string{"Hello.Invoke"}, "idtyp", "app", "name", nil, "preferred_username", nil)), 403, insufficientScope, "insufficient_scope"},
		{"ID token", is.Sign("k1", with(v2Claims(e2eTenant), "scp", nil, "nonce", "abc", "aud", apiClientID)), 403, insufficientScope, "insufficient_scope"},
		{"no user_impersonation", is.Sign("k1", with(v2Claims(e2eTenant), "scp", "Files.Read")), 403, insufficientScope, "insufficient_scope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(c.token)})
			if got.status != c.status {
				t.Fatalf("status %d, want %d: %s", got.status, c.status, got.body)
			}
			if c.status == 200 && got.body != helloMarc {
				t.Errorf("body %q", got.body)
			}
			if got.header.Get("WWW-Authenticate") != c.header {
				t.Errorf("WWW-Authenticate %q, want %q", got.header.Get("WWW-Authenticate"), c.header)
			}
			if c.reason != "" {
				var pb struct{ RequestID string }
				json.Unmarshal([]byte(got.body), &pb)
				line := logLine(t, p, pb.RequestID)
				if line["reason"] != c.reason {
					t.Errorf("logged reason %v, want %s (line %v)", line["reason"], c.reason, line)
				}
			}
		})
	}

	t.Run("Me tells v1 and v2 callers apart", func(t *testing.T) {
		for _, c := range []struct {
			token, version, username string
		}{
			{is.Sign("k1", v1Claims(e2eTenant)), "1.0", "ada@contoso.onmicrosoft.com"},
			{v2, "2.0", "ada@contoso.onmicrosoft.com"},
		} {
			got := p.do(request{method: "GET", path: "/api/Me", headers: bearer(c.token)})
			var me map[string]any
			if err := json.Unmarshal([]byte(got.body), &me); err != nil || got.status != 200 {
				t.Fatalf("%d %s", got.status, got.body)
			}
			if me["oid"] != userOID || me["tid"] != e2eTenant || me["tokenVersion"] != c.version ||
				me["username"] != c.username || me["clientAppId"] != connectorAppID || me["source"] != "jwt" {
				t.Errorf("Me = %v", me)
			}
		}
	})

	t.Run("Easy Auth headers mean nothing in jwt mode", func(t *testing.T) {
		principal := base64.StdEncoding.EncodeToString([]byte(`{"auth_typ":"aad","claims":[{"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"` + userOID + `"},{"typ":"http://schemas.microsoft.com/identity/claims/tenantid","val":"` + e2eTenant + `"},{"typ":"http://schemas.microsoft.com/identity/claims/scope","val":"user_impersonation"}]}`))
		got := p.do(request{method: "GET", path: "/api/Me", headers: map[string][]string{
			"X-MS-CLIENT-PRINCIPAL": {principal}, "X-MS-CLIENT-PRINCIPAL-IDP": {"aad"},
			"X-MS-CLIENT-PRINCIPAL-ID": {userOID}, "X-MS-CLIENT-PRINCIPAL-NAME": {"ada@contoso.onmicrosoft.com"},
		}})
		if got.status != 401 || got.header.Get("WWW-Authenticate") != `Bearer realm="api"` {
			t.Fatalf("forged principal: %d %q %s", got.status, got.header.Get("WWW-Authenticate"), got.body)
		}
	})

	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if log := p.stdout.String(); strings.Contains(log, strings.Split(v2, ".")[2]) {
		t.Error("the log holds a token")
	}
}

const (
	invalidToken      = `Bearer realm="api", error="invalid_token", error_description="The access token is not valid"`
	insufficientScope = `Bearer realm="api", error="insufficient_scope", scope="user_impersonation"`
)

// logLine finds the request's line in the handler's log, waiting for the
// buffered log to be flushed.
func logLine(t *testing.T, p *proc, requestID string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, l := range strings.Split(p.stdout.String(), "\n") {
			if !strings.Contains(l, `"request_id":"`+requestID+`"`) {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line for request %q", requestID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestJWTModeAllowLists: the client app, user and group rules, each
// named in the refusal.
func TestJWTModeAllowLists(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	cases := []struct {
		name   string
		env    map[string]string
		claims jwt.MapClaims
		status int
		rule   string
	}{
		{"listed connector app", map[string]string{"AUTH_ALLOWED_CLIENT_APPS": connectorAppID}, v2Claims(e2eTenant), 200, ""},
		{"another client app", map[string]string{"AUTH_ALLOWED_CLIENT_APPS": connectorAppID}, with(v2Claims(e2eTenant), "azp", "0a0b0c0d-0000-4000-8000-000000000001"), 403, "AUTH_ALLOWED_CLIENT_APPS"},
		{"v1 appid counts too", map[string]string{"AUTH_ALLOWED_CLIENT_APPS": connectorAppID}, v1Claims(e2eTenant), 200, ""},
		{"listed user", map[string]string{"AUTH_ALLOWED_USERS": userOID}, v2Claims(e2eTenant), 200, ""},
		{"unlisted user", map[string]string{"AUTH_ALLOWED_USERS": otherTenant}, v2Claims(e2eTenant), 403, "AUTH_ALLOWED_USERS"},
		{"member of a listed group", map[string]string{"AUTH_ALLOWED_GROUPS": allowedGroupOID}, v2Claims(e2eTenant), 200, ""},
		{"in no listed group", map[string]string{"AUTH_ALLOWED_GROUPS": allowedGroupOID}, with(v2Claims(e2eTenant), "groups", []string{}), 403, "AUTH_ALLOWED_GROUPS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := jwtEnv(is)
			for k, v := range c.env {
				env[k] = v
			}
			p := start(t, env)
			r := request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(is.Sign("k1", c.claims))}
			got := p.waitStatus(r, c.status, 30*time.Second)
			if c.rule != "" {
				var pb struct{ Rule, Code string }
				if err := json.Unmarshal([]byte(got.body), &pb); err != nil || pb.Rule != c.rule || got.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("refusal %s does not name rule %s", got.body, c.rule)
				}
			}
		})
	}
}

// TestJWTModeKeyRotation: a new key is picked up on first sight of its
// kid with exactly one reload; a flood of random kids causes none.
func TestJWTModeKeyRotation(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	p := start(t, jwtEnv(is))
	p.waitStatus(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(is.Sign("k1", v2Claims(e2eTenant)))}, 200, 30*time.Second)

	is.SetKeys("k1", "k2")
	before := is.JWKSFetches()
	got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(is.Sign("k2", v2Claims(e2eTenant)))})
	if got.status != 200 {
		t.Fatalf("token signed with the new key: %d %s", got.status, got.body)
	}
	if n := is.JWKSFetches() - before; n != 2 {
		t.Fatalf("%d key set fetches for one new kid, want 2 (one reload of the v1 and v2 key sets)", n)
	}

	before = is.JWKSFetches()
	for i := range 20 {
		got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(is.Sign(fmt.Sprintf("random-%d", i), v2Claims(e2eTenant)))})
		if got.status != 401 {
			t.Fatalf("random kid %d: %d", i, got.status)
		}
	}
	if n := is.JWKSFetches() - before; n != 0 {
		t.Fatalf("a flood of random kids caused %d key set fetches, want 0", n)
	}
}

// TestJWTModeRemovedKeyStopsValidating: once the issuer drops a key, the
// next reload drops it too, even for a token that was verified (and
// cached) before.
func TestJWTModeRemovedKeyStopsValidating(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	p := start(t, jwtEnv(is))
	old := is.Sign("k1", v2Claims(e2eTenant))
	p.waitStatus(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(old)}, 200, 30*time.Second)
	if got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(old)}); got.status != 200 {
		t.Fatalf("old key, second call: %d", got.status)
	}

	is.SetKeys("k3") // k1 leaves the issuer's endpoints
	if got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(is.Sign("k3", v2Claims(e2eTenant)))}); got.status != 200 {
		t.Fatalf("new key: %d %s", got.status, got.body)
	}
	if got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(old)}); got.status != 401 {
		t.Fatalf("token of the removed key after the reload: %d, want 401", got.status)
	}
}

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The real principal in testdata, and its tenant and app.
const (
	fixtureTenant   = "57872548-46bd-458e-8ae4-c2a541ea6d1b"
	fixtureOID      = "86a1fc29-88eb-40e8-aaf6-c804cb88f05c"
	fixtureAudience = "api://5305f746-9024-49bc-8783-a1690c591578"
)

// gateOpen is the environment of an app behind Easy Auth in Azure.
func gateOpen(env map[string]string) map[string]string {
	out := map[string]string{"WEBSITE_AUTH_ENABLED": "True", "WEBSITE_INSTANCE_ID": "e2e0001", "AZURE_FUNCTIONS_ENVIRONMENT": "Production"}
	maps.Copy(out, env)
	return out
}

func fixturePrincipal(t *testing.T) string {
	b, err := os.ReadFile("testdata/easyauth-client-principal-copilot-camp.b64")
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's exp is in 2024, and the handler refuses an expired
	// principal: move it an hour ahead, keeping everything else real.
	return editPrincipal(t, strings.TrimSpace(string(b)), map[string]string{"exp": fmt.Sprint(time.Now().Add(time.Hour).Unix())})
}

func principalHeaders(principal string) map[string][]string {
	return map[string][]string{
		"X-MS-CLIENT-PRINCIPAL":      {principal},
		"X-MS-CLIENT-PRINCIPAL-IDP":  {"aad"},
		"X-MS-CLIENT-PRINCIPAL-ID":   {fixtureOID},
		"X-MS-CLIENT-PRINCIPAL-NAME": {"bob@lowcoderevolution.onmicrosoft.com"},
	}
}

// editPrincipal rewrites claims of a principal: typ → new value ("" drops).
func editPrincipal(t *testing.T, principal string, edits map[string]string) string {
	raw, err := base64.StdEncoding.DecodeString(principal)
	if err != nil {
		t.Fatal(err)
	}
	var cp map[string]any
	if err := json.Unmarshal(raw, &cp); err != nil {
		t.Fatal(err)
	}
	var claims []any
	for _, c := range cp["claims"].([]any) {
		m := c.(map[string]any)
		if v, ok := edits[m["typ"].(string)]; ok {
			if v == "" {
				continue
			}
			m["val"] = v
		}
		claims = append(claims, m)
	}
	cp["claims"] = claims
	b, _ := json.Marshal(cp)
	return base64.StdEncoding.EncodeToString(b)
}

// TestEasyAuthMode runs the acceptance of Easy Auth mode with the built
// binary: the gate open, a real principal; then the same header where the
// gate is closed.
func TestEasyAuthMode(t *testing.T) {
	t.Parallel()
	p := start(t, gateOpen(map[string]string{"AUTH_TENANT_ID": fixtureTenant, "AUTH_AUDIENCES": fixtureAudience}))
	principal := fixturePrincipal(t)

	got := p.do(request{method: "GET", path: "/api/Me", headers: principalHeaders(principal)})
	var me map[string]any
	if err := json.Unmarshal([]byte(got.body), &me); err != nil || got.status != 200 {
		t.Fatalf("real principal: %d %s", got.status, got.body)
	}
	if me["oid"] != fixtureOID || me["tid"] != fixtureTenant || me["source"] != "easyauth" || me["username"] != "bob@lowcoderevolution.onmicrosoft.com" {
		t.Errorf("Me = %v", me)
	}
	if got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: principalHeaders(principal)}); got.status != 200 || got.body != helloMarc {
		t.Errorf("Hello: %d %q", got.status, got.body)
	}

	refusals := []struct {
		name, principal string
		status          int
		contains        string
	}{
		{"another tenant", editPrincipal(t, principal, map[string]string{"http://schemas.microsoft.com/identity/claims/tenantid": otherTenant}), 403, "AUTH_TENANT_ID"},
		{"no user_impersonation", editPrincipal(t, principal, map[string]string{"http://schemas.microsoft.com/identity/claims/scope": "Files.Read"}), 403, "insufficient_scope"},
		{"another audience", editPrincipal(t, principal, map[string]string{"aud": "api://someone-else"}), 403, "AUTH_AUDIENCES"},
		{"no oid", editPrincipal(t, principal, map[string]string{"http://schemas.microsoft.com/identity/claims/objectidentifier": ""}), 401, "invalid_token"},
		{"not base64", "%%%not-base64%%%", 401, "invalid_token"},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: principalHeaders(c.principal)})
			if got.status != c.status || !strings.Contains(got.body, c.contains) {
				t.Fatalf("%d %s, want %d mentioning %s", got.status, got.body, c.status, c.contains)
			}
		})
	}
	t.Run("no principal", func(t *testing.T) {
		got := p.do(request{method: "GET", path: "/api/Hello"})
		if got.status != 401 || got.header.Get("WWW-Authenticate") != `Bearer realm="api"` {
			t.Fatalf("%d %q", got.status, got.header.Get("WWW-Authenticate"))
		}
	})
	t.Run("the IdP header must say aad", func(t *testing.T) {
		h := principalHeaders(principal)
		h["X-MS-CLIENT-PRINCIPAL-IDP"] = []string{"google"}
		if got := p.do(request{method: "GET", path: "/api/Hello", headers: h}); got.status != 401 {
			t.Fatalf("%d", got.status)
		}
	})

	t.Run("the host's payload", func(t *testing.T) {
		headers := map[string][]string{"Host": {"app.azurewebsites.net"}, "Content-Type": {"application/json"}}
		maps.Copy(headers, principalHeaders(principal))
		res := p.invoke("Hello", "POST", "https://app.azurewebsites.net/api/Hello", headers, `{"name": "Marc"}`)
		if res.StatusCode != "200" || res.Body != helloMarc || res.Headers["Content-Type"] != "text/plain; charset=utf-8" {
			t.Fatalf("Outputs.res = %+v", res)
		}
		res = p.invoke("Hello", "POST", "https://app.azurewebsites.net/api/Hello", map[string][]string{"Content-Type": {"application/json"}}, `{"name": "Marc"}`)
		if res.StatusCode != "401" || !strings.Contains(res.Body, "Unauthorized") {
			t.Fatalf("no principal: Outputs.res = %+v", res)
		}
	})

	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(p.stdout.String(), `"mode":"easyauth"`) || !strings.Contains(p.stdout.String(), "WEBSITE_AUTH_ENABLED=true outside Development") {
		t.Errorf("the start-up log does not say easyauth was chosen and why:\n%s", p.stdout.String())
	}
	if strings.Contains(p.stdout.String(), principal[:40]) {
		t.Error("the log holds the principal header")
	}
}

// TestForgedPrincipalIgnoredWhereTheGateIsClosed: the same real header,
// where the platform does not guarantee it, gets 401.
func TestForgedPrincipalIgnoredWhereTheGateIsClosed(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, fixtureTenant)
	base := map[string]string{"AUTH_TENANT_ID": fixtureTenant, "AUTH_AUDIENCES": fixtureAudience, "AUTH_AUTHORITY": is.URL()}
	cases := []struct {
		name string
		env  map[string]string
	}{
		{"Easy Auth off", map[string]string{}},
		{"Easy Auth off, in Azure", map[string]string{"WEBSITE_INSTANCE_ID": "e2e0001", "WEBSITE_AUTH_ENABLED": "False"}},
		{"under func start", map[string]string{"WEBSITE_AUTH_ENABLED": "true", "AZURE_FUNCTIONS_ENVIRONMENT": "Development"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := maps.Clone(base)
			maps.Copy(env, c.env)
			p := start(t, env)
			got := p.do(request{method: "GET", path: "/api/Me", headers: principalHeaders(fixturePrincipal(t))})
			if got.status != 401 {
				t.Fatalf("forged principal: %d %s", got.status, got.body)
			}
			res := p.invoke("Me", "GET", "http://localhost:7071/api/Me", principalHeaders(fixturePrincipal(t)), "")
			if res.StatusCode != "401" {
				t.Fatalf("forged principal in a payload: %+v", res)
			}
			p.stop()
			if !strings.Contains(p.stdout.String(), `"mode":"jwt"`) {
				t.Errorf("auto mode did not choose jwt:\n%s", p.stdout.String())
			}
		})
	}
	t.Run("AUTH_MODE=easyauth with the gate closed refuses to start", func(t *testing.T) {
		for _, env := range []map[string]string{
			{"AUTH_MODE": "easyauth", "AUTH_TENANT_ID": fixtureTenant},
			{"AUTH_MODE": "easyauth", "AUTH_TENANT_ID": fixtureTenant, "WEBSITE_AUTH_ENABLED": "true", "AZURE_FUNCTIONS_ENVIRONMENT": "Development"},
		} {
			cmd := exec.Command(handlerBin)
			cmd.Env = environ(env)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "cannot be trusted here") {
				t.Fatalf("started, or did not say why: %v\n%s", err, out)
			}
		}
	})
	t.Run("dev mode is never chosen automatically", func(t *testing.T) {
		cmd := exec.Command(handlerBin, "check")
		cmd.Env = environ(map[string]string{"AUTH_DEV_KEY_FILE": "/tmp/x.pem"})
		out, err := cmd.CombinedOutput()
		if err == nil || strings.Contains(string(out), "AUTH_MODE                 dev") {
			t.Fatalf("check chose a mode with nothing configured: %s", out)
		}
	})
}

// invokeOutput is Outputs.res of the host's invocation protocol.
type invokeOutput struct {
	StatusCode string            `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// invoke sends a payload as the host does without HTTP forwarding: POST
// /{function} with the request inside. The handler must answer 200.
func (p *proc) invoke(function, method, url string, headers map[string][]string, body string) invokeOutput {
	p.t.Helper()
	req := map[string]any{"Url": url, "Method": method, "Query": map[string]string{}, "Headers": headers, "Params": map[string]string{},
		"Identities": []any{map[string]any{"AuthenticationType": nil, "IsAuthenticated": false, "Claims": []any{}}}}
	if body != "" {
		req["Body"] = body
	}
	payload, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": req},
		"Metadata": map[string]any{"sys": map[string]string{"MethodName": function, "UtcNow": time.Now().UTC().Format(time.RFC3339Nano)}}})
	got := p.do(request{method: "POST", path: "/" + function, headers: map[string][]string{"Content-Type": {"application/json; charset=utf-8"}}, body: string(payload)})
	if got.status != 200 {
		p.t.Fatalf("invocation of %s: %d %s", function, got.status, got.body)
	}
	var res struct {
		Outputs     map[string]invokeOutput
		Logs        []string
		ReturnValue any
	}
	if err := json.Unmarshal([]byte(got.body), &res); err != nil {
		p.t.Fatalf("invocation result: %v: %s", err, got.body)
	}
	return res.Outputs["res"]
}

// easyAuthPrincipal is what Easy Auth puts in X-MS-CLIENT-PRINCIPAL for a
// token with claims c: its default claims mapping (long types for oid,
// tid, scp, upn, roles), every value a string, arrays as repeated claims.
func easyAuthPrincipal(c jwt.MapClaims) string {
	long := map[string]string{
		"oid":   "http://schemas.microsoft.com/identity/claims/objectidentifier",
		"tid":   "http://schemas.microsoft.com/identity/claims/tenantid",
		"scp":   "http://schemas.microsoft.com/identity/claims/scope",
		"upn":   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
		"roles": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
		"sub":   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
	}
	var claims []map[string]string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		typ := k
		if l, ok := long[k]; ok {
			typ = l
		}
		switch v := c[k].(type) {
		case []string:
			for _, s := range v {
				claims = append(claims, map[string]string{"typ": typ, "val": s})
			}
		default:
			claims = append(claims, map[string]string{"typ": typ, "val": fmt.Sprint(v)})
		}
	}
	b, _ := json.Marshal(map[string]any{"auth_typ": "aad", "claims": claims,
		"name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
		"role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"})
	return base64.StdEncoding.EncodeToString(b)
}

// TestParity presents each identity as a bearer token (jwt mode) and as an
// Easy Auth principal (easyauth mode), each through forwarding and through
// the invocation payload: all four must see the same principal and make
// the same decision.
func TestParity(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	policy := map[string]string{"AUTH_ALLOWED_CLIENT_APPS": connectorAppID}
	jwtEnv := jwtEnv(is)
	maps.Copy(jwtEnv, policy)
	jwtP := start(t, jwtEnv)
	eaEnv := gateOpen(map[string]string{"AUTH_TENANT_ID": e2eTenant, "AUTH_AUDIENCES": jwtEnv["AUTH_AUDIENCES"]})
	maps.Copy(eaEnv, policy)
	eaP := start(t, eaEnv)
	jwtP.waitStatus(request{method: "GET", path: "/api/Me", headers: bearer(is.Sign("k1", v2Claims(e2eTenant)))}, 200, 30*time.Second)

	identities := []struct {
		name   string
		claims jwt.MapClaims
		status int
	}{
		{"v2 user", v2Claims(e2eTenant), 200},
		{"v1 user", v1Claims(e2eTenant), 200},
		{"user with app roles", with(v2Claims(e2eTenant), "roles", []string{"Reader", "Writer"}), 200},
		{"user without user_impersonation", with(v2Claims(e2eTenant), "scp", "Files.Read User.Read"), 403},
		{"app-only caller", with(v2Claims(e2eTenant), "scp", nil, "idtyp", "app", "roles", []string{"Hello.Invoke"}), 403},
		{"client app not allowed", with(v2Claims(e2eTenant), "azp", "0a0b0c0d-0000-4000-8000-000000000001"), 403},
	}
	for _, id := range identities {
		t.Run(id.name, func(t *testing.T) {
			tok := is.Sign("k1", id.claims)
			asToken := bearer(tok)
			asPrincipal := map[string][]string{"X-MS-CLIENT-PRINCIPAL": {easyAuthPrincipal(id.claims)}, "X-MS-CLIENT-PRINCIPAL-IDP": {"aad"}}
			type outcome struct {
				status int
				me     map[string]any
			}
			paths := map[string]outcome{}
			for _, c := range []struct {
				name    string
				p       *proc
				headers map[string][]string
			}{{"jwt/forward", jwtP, asToken}, {"jwt/invoke", jwtP, asToken}, {"easyauth/forward", eaP, asPrincipal}, {"easyauth/invoke", eaP, asPrincipal}} {
				var status int
				var body string
				if strings.HasSuffix(c.name, "forward") {
					got := c.p.do(request{method: "GET", path: "/api/Me", headers: c.headers})
					status, body = got.status, got.body
				} else {
					res := c.p.invoke("Me", "GET", "https://app.azurewebsites.net/api/Me", c.headers, "")
					fmt.Sscan(res.StatusCode, &status)
					body = res.Body
				}
				var me map[string]any
				if status == 200 {
					if err := json.Unmarshal([]byte(body), &me); err != nil {
						t.Fatalf("%s: %v: %s", c.name, err, body)
					}
					delete(me, "source") // the one field that says which path it came by
				}
				paths[c.name] = outcome{status, me}
			}
			want := paths["jwt/forward"]
			if want.status != id.status {
				t.Fatalf("jwt/forward: status %d, want %d", want.status, id.status)
			}
			for name, got := range paths {
				if got.status != want.status {
					t.Errorf("%s: status %d, jwt/forward %d", name, got.status, want.status)
				}
				if fmt.Sprint(got.me) != fmt.Sprint(want.me) {
					t.Errorf("%s principal %v\njwt/forward principal %v", name, got.me, want.me)
				}
			}
		})
	}
}

// TestEasyAuthVerifyToken: with AUTH_EASYAUTH_VERIFY_TOKEN the principal
// must come with a valid token for the same user, and the token's claims
// are the ones judged.
func TestEasyAuthVerifyToken(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	env := jwtEnv(is)
	delete(env, "AUTH_MODE")
	env["AUTH_EASYAUTH_VERIFY_TOKEN"] = "true"
	p := start(t, gateOpen(env))

	claims := v2Claims(e2eTenant)
	tok := is.Sign("k1", claims)
	principal := map[string][]string{"X-MS-CLIENT-PRINCIPAL": {easyAuthPrincipal(claims)}, "X-MS-CLIENT-PRINCIPAL-IDP": {"aad"}}
	withToken := maps.Clone(principal)
	withToken["Authorization"] = []string{"Bearer " + tok}
	p.waitStatus(request{method: "GET", path: "/api/Me", headers: withToken}, 200, 30*time.Second)

	tokenStore := maps.Clone(principal)
	tokenStore["X-MS-TOKEN-AAD-ACCESS-TOKEN"] = []string{tok}
	if got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: tokenStore}); got.status != 200 || got.body != helloMarc {
		t.Errorf("token from the token store: %d %s", got.status, got.body)
	}
	if got := p.do(request{method: "GET", path: "/api/Hello", headers: principal}); got.status != 401 || !strings.Contains(got.body, "invalid_token") {
		t.Errorf("principal without a token: %d %s", got.status, got.body)
	}
	otherUser := maps.Clone(principal)
	otherUser["Authorization"] = []string{"Bearer " + is.Sign("k1", with(claims, "oid", "0a0b0c0d-0000-4000-8000-00000000beef"))}
	if got := p.do(request{method: "GET", path: "/api/Hello", headers: otherUser}); got.status != 401 {
		t.Errorf("token of another user: %d %s", got.status, got.body)
	}
	// A header that adds the scope to a token without it adds nothing.
	noScope := with(claims, "scp", "User.Read")
	forged := map[string][]string{"X-MS-CLIENT-PRINCIPAL": {easyAuthPrincipal(claims)}, "X-MS-CLIENT-PRINCIPAL-IDP": {"aad"}, "Authorization": {"Bearer " + is.Sign("k1", noScope)}}
	if got := p.do(request{method: "GET", path: "/api/Hello", headers: forged}); got.status != 403 || !strings.Contains(got.body, "insufficient_scope") {
		t.Errorf("header claiming a scope the token lacks: %d %s", got.status, got.body)
	}
}

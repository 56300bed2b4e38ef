package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/api"
	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/entratest"
)

// The person the tokens of entratest speak for: explain shows oid and name
// and nothing else about them, so none of these may reach its output.
const (
	testIPAddr   = "203.0.113.7"
	testUsername = "ada@contoso.onmicrosoft.com"
)

// otherTenantID is a tenant that is not the issuer's.
const otherTenantID = "9b1e2c3d-4f5a-4b6c-8d7e-0f1a2b3c4d5e"

// explainEnv is the jwt-mode environment of a server for is's tenant that
// accepts the API's client id (v2 tokens' aud) and its App ID URI (v1
// tokens'), with kv set over it; an empty value removes a setting.
// AUTH_AUTHORITY is the local issuer, so --online never leaves loopback.
func explainEnv(is *entratest.Issuer, kv ...string) env {
	e := env{
		"AUTH_MODE":      "jwt",
		"AUTH_TENANT_ID": is.TenantID(),
		"AUTH_AUDIENCES": is.ClientID() + "," + is.AppIDURI(),
		"AUTH_AUTHORITY": is.URL(),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(e, kv[i])
			continue
		}
		e[kv[i]] = kv[i+1]
	}
	return e
}

// explainJSON is the part of handler explain --json's report the tests
// read. Unknown members are ignored: the report may grow.
type explainJSON struct {
	Mode  string `json:"mode"`
	Shape struct {
		JWS      bool   `json:"jws"`
		Segments int    `json:"segments"`
		Kind     string `json:"kind"`
		Actor    string `json:"actor"`
	} `json:"shape"`
	Checks []struct {
		Name         string `json:"name"`
		Result       string `json:"result"`
		Reason       string `json:"reason"`
		Fix          string `json:"fix"`
		AfterRefusal bool   `json:"afterRefusal"`
	} `json:"checks"`
	SignatureChecked *bool `json:"signatureChecked"`
	// Accepted and Reason are the verdict's, which must be given once,
	// in Verdict: they stay nil.
	Accepted *bool   `json:"accepted"`
	Reason   *string `json:"reason"`
	Verdict  *struct {
		Accepted    bool   `json:"accepted"`
		Status      int    `json:"status"`
		Reason      string `json:"reason"`
		Conditional bool   `json:"conditional"`
	} `json:"verdict"`
	Warnings []string `json:"warnings"`
}

// explainCase is one token explained, in text and in JSON.
type explainCase struct {
	name  string
	token string
	flags []string // before the token; --online is the online field's
	env   env      // nil: explainEnv(is)
	// online passes --online, and so the signature is checked.
	online bool
	// checked says the signature is checked without --online (dev mode).
	checked bool
	code    int    // 0 accepted, 1 refused
	status  int    // the HTTP status of the verdict; 0 means 200
	reason  string // the verdict's reason word, "" when accepted
	// want must appear in both outputs; no quotes, which JSON escapes.
	want []string
	// secrets must appear in neither, besides the token's signature and
	// the person's claims (testIPAddr, testUsername).
	secrets []string
	// warning must appear among the notes (text) and warnings (JSON).
	warning string
	// kind and actor, when set, are the JSON report's shape.
	kind, actor string
}

// refusedUnsigned are the reasons of tokens refused before their
// signature is checked.
var refusedUnsigned = map[string]bool{"malformed": true, "header": true, "algorithm": true, "duplicate_claim": true, "keys_unavailable": true}

// runExplainCase runs c in text mode and in --json mode, and checks in
// both the exit status, the verdict, what the output names, and that it
// holds neither the signature nor the person's claims.
func runExplainCase(t *testing.T, c explainCase) {
	t.Helper()
	flags := append([]string{"explain"}, c.flags...)
	if c.online {
		flags = append(flags, "--online")
	}
	// A token refused before its signature is looked at, or while the
	// keys are unavailable, has it unchecked even online.
	checked := (c.online || c.checked) && !refusedUnsigned[c.reason]
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	secrets := append([]string{testIPAddr, testUsername}, c.secrets...)

	// run runs explain with args and checks what both modes must hold:
	// the exit status, no signature and no secrets anywhere, nothing on
	// stderr (the verdict is the whole output, on stdout), and c.want.
	run := func(t *testing.T, args []string) string {
		t.Helper()
		code, stdout, stderr := runMain(t, c.env, args...)
		if code != c.code {
			t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, stdout, stderr)
		}
		noSignature(t, stdout+stderr, c.token)
		noSecrets(t, stdout+stderr, secrets)
		if stderr != "" {
			t.Errorf("stderr not empty with a verdict: %s", stderr)
		}
		containsAll(t, "stdout", stdout, c.want)
		return stdout
	}

	t.Run("text", func(t *testing.T) {
		stdout := run(t, append(flags, c.token))
		if checked {
			containsAll(t, "stdout", stdout, []string{"signature: checked"})
		} else {
			containsAll(t, "stdout", stdout, []string{"signature: NOT CHECKED"})
		}
		switch {
		case c.code == 0 && !checked:
			// Offline the verdict holds only for a good signature, and
			// says so.
			containsAll(t, "stdout", stdout, []string{"verdict: ACCEPTED if the signature is good", "not checked"})
		case c.code == 0:
			containsAll(t, "stdout", stdout, []string{"verdict: ACCEPTED: the server answers 200"})
			if strings.Contains(stdout, "if the signature is good") {
				t.Errorf("a checked signature is still called conditional:\n%s", stdout)
			}
		default:
			containsAll(t, "stdout", stdout, []string{
				fmt.Sprintf("verdict: REFUSED: the server answers %d %s", status, http.StatusText(status)),
				"reason=" + c.reason,
			})
		}
		if c.warning != "" {
			containsAll(t, "stdout", stdout, []string{"note:", c.warning})
		}
	})

	t.Run("json", func(t *testing.T) {
		stdout := run(t, append(append(flags, "--json"), c.token))
		rep := decodeReport(t, stdout)
		if rep.Verdict == nil || rep.SignatureChecked == nil {
			t.Fatalf("no verdict or signatureChecked:\n%s", stdout)
		}
		v := rep.Verdict
		if v.Accepted != (c.code == 0) || v.Status != status || v.Reason != c.reason {
			t.Errorf("verdict accepted %v, status %d, reason %q; want %v, %d, %q", v.Accepted, v.Status, v.Reason, c.code == 0, status, c.reason)
		}
		if rep.Accepted != nil || rep.Reason != nil {
			t.Errorf("the verdict is given twice: accepted and reason beside verdict:\n%s", stdout)
		}
		if *rep.SignatureChecked != checked {
			t.Errorf("signatureChecked %v, want %v", *rep.SignatureChecked, checked)
		}
		if v.Conditional != (c.code == 0 && !checked) {
			t.Errorf("conditional %v for accepted %v with the signature checked %v", v.Conditional, v.Accepted, checked)
		}
		checkChecks(t, rep, stdout)
		if rep.Mode == "" {
			t.Error("the report names no mode")
		}
		if c.kind != "" && rep.Shape.Kind != c.kind || c.actor != "" && rep.Shape.Actor != c.actor {
			t.Errorf("shape %q %q, want %q %q", rep.Shape.Kind, rep.Shape.Actor, c.kind, c.actor)
		}
		if c.warning != "" && !strings.Contains(strings.Join(rep.Warnings, "\n"), c.warning) {
			t.Errorf("warnings %q lack %q", rep.Warnings, c.warning)
		}
	})
}

// decodeReport decodes stdout as one JSON report and nothing else.
func decodeReport(t *testing.T, stdout string) explainJSON {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var rep explainJSON
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
	return rep
}

// checkChecks holds the checks to their contract: each has a name and a
// result; a failure names its reason and what to change; and, as the
// checks run in the server's order, the first failure is the verdict's.
func checkChecks(t *testing.T, rep explainJSON, stdout string) {
	t.Helper()
	if len(rep.Checks) == 0 {
		t.Fatalf("no checks:\n%s", stdout)
	}
	first := ""
	for i, ch := range rep.Checks {
		if ch.Name == "" {
			t.Errorf("check %d has no name", i)
		}
		switch ch.Result {
		case "pass", "not checked":
		case "fail":
			if ch.Reason == "" {
				t.Errorf("failed check %q names no reason", ch.Name)
			}
			if strings.TrimSpace(ch.Fix) == "" {
				t.Errorf("failed check %q says nothing to change", ch.Name)
			}
			if first == "" {
				first = ch.Reason
				if ch.AfterRefusal {
					t.Errorf("the first failed check %q is marked after the refusal", ch.Name)
				}
			} else if !ch.AfterRefusal {
				t.Errorf("failed check %q past the first is not marked afterRefusal", ch.Name)
			}
		default:
			t.Errorf("check %q: result %q is not pass, fail or not checked", ch.Name, ch.Result)
		}
	}
	if first != rep.Verdict.Reason {
		t.Errorf("the first failed check's reason is %q, the verdict's %q:\n%s", first, rep.Verdict.Reason, stdout)
	}
}

// noSignature fails t if out holds the signature of tok, or any 16
// characters of it: a cut copy leaks it as surely as a whole one.
func noSignature(t *testing.T, out, tok string) {
	t.Helper()
	for _, seg := range signatures(tok) {
		if w, ok := sharedRun(out, seg, 16); ok {
			t.Errorf("the output holds %q of the signature:\n%s", w, out)
		}
	}
}

// signatures are the parts of tok that are its signature: the third
// segment of a three-segment token, and for anything else every segment
// past the second, since explain cannot know which is the signature.
func signatures(tok string) []string {
	tok = strings.TrimSpace(tok)
	parts := strings.Split(tok, ".")
	if len(parts) < 3 {
		return nil
	}
	var out []string
	for _, p := range parts[2:] {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// sharedRun reports the first run of n characters of secret that out
// contains.
func sharedRun(out, secret string, n int) (string, bool) {
	if len(secret) < n {
		n = len(secret)
	}
	for i := 0; i+n <= len(secret); i++ {
		if w := secret[i : i+n]; strings.Contains(out, w) {
			return w, true
		}
	}
	return "", false
}

// noSecrets fails t if out holds any of secrets.
func noSecrets(t *testing.T, out string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the output holds %q:\n%s", s, out)
		}
	}
}

// tamper changes one character in the middle of tok's signature: a middle
// one, because the last character of base64url may carry bits that
// decoding ignores.
func tamper(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 40
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// handBuilt is a token of header and claims as given, with sig as its
// third segment: for headers and claims the issuer would not write.
func handBuilt(header, claims, sig string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return b64([]byte(header)) + "." + b64([]byte(claims)) + "." + sig
}

// TestExplain explains a token of each case the issue lists, against a
// jwt-mode server of the test issuer's tenant, offline and online.
func TestExplain(t *testing.T) {
	t.Parallel()
	is := entratest.New(t, entratest.Config{})
	now := time.Now()
	v1 := entratest.V1
	good := is.Mint(entratest.Token{})
	goodV1 := is.Mint(entratest.Token{Version: v1})
	otherIss := func(v entratest.Version, tid string) map[string]any {
		iss := "https://login.microsoftonline.com/" + tid + "/v2.0"
		if v == v1 {
			iss = "https://sts.windows.net/" + tid + "/"
		}
		return map[string]any{"tid": tid, "iss": iss}
	}
	// A key of another issuer under the kid the tenant publishes: a
	// forgery, which only the signature check catches.
	forger := entratest.New(t, entratest.Config{KeyIDs: is.KeyIDs()})
	// A key the tenant published once and has since retired.
	is.AddKey("retired")
	retired := is.Mint(entratest.Token{KeyID: "retired"})
	is.RemoveKey("retired")
	// A v2 claim set the issuer would sign, for hand-built tokens.
	claims, err := json.Marshal(is.Claims(entratest.Token{}))
	if err != nil {
		t.Fatal(err)
	}
	sig := strings.Split(good, ".")[2]
	const audiences = "AUTH_AUDIENCES"

	cases := []explainCase{
		// Accepted.
		{name: "v2 delegated", token: good, want: []string{"access token", "delegated"}, kind: "access token", actor: "delegated"},
		{name: "v2 delegated online", token: good, online: true},
		{name: "v1 delegated, aud the App ID URI", token: goodV1},
		{name: "v1 delegated online", token: goodV1, online: true},
		{name: "expired within the clock skew", token: is.Mint(entratest.Token{IssuedAt: now.Add(-63 * time.Minute), Lifetime: time.Hour})},
		{name: "a Bearer prefix", token: "Bearer " + good},
		{name: "a whole Authorization header", token: "Authorization: Bearer " + good + "\n"},
		{name: "the allowed client app", token: good, env: explainEnv(is, "AUTH_ALLOWED_CLIENT_APPS", entratest.DefaultClientAppID)},
		{name: "a function of the route table", token: good, flags: []string{"--function", "hello"}},

		// The audience.
		{name: "aud the function app URL (v1)", token: is.Mint(entratest.Token{Version: v1, Audience: "https://myfn.azurewebsites.net"}), code: 1, status: 401, reason: "audience",
			want: []string{"https://myfn.azurewebsites.net", audiences, "Resource URL", "function app", "Either add the token's", "or change the"}},
		{name: "aud a bare client id (v1)", token: is.Mint(entratest.Token{Version: v1, Audience: "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b"}), code: 1, status: 401, reason: "audience",
			want: []string{"3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b", audiences, "Resource URL", "client id", "Either add the token's", "or change the"}},
		{name: "aud an accepted one with a trailing slash", token: is.Mint(entratest.Token{Version: v1, Audience: is.AppIDURI() + "/"}), code: 1, status: 401, reason: "audience",
			want: []string{"near miss", "trailing slash", "Resource URL", audiences}},
		{name: "aud an accepted one in other letter case", token: is.Mint(entratest.Token{Version: v1, Audience: strings.ToUpper(is.AppIDURI())}), code: 1, status: 401, reason: "audience",
			want: []string{"near miss", "letter case", "Resource URL", audiences}},
		{name: "aud another API (v2)", token: is.Mint(entratest.Token{Audience: "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b"}), code: 1, status: 401, reason: "audience",
			want: []string{"another API", audiences}},
		{name: "aud the Power Platform sign-in", token: is.Mint(entratest.Token{Version: v1, Audience: "https://apihub.azure.com"}), code: 1, status: 401, reason: "audience",
			want: []string{"first-hop token", "on-behalf-of", "Resource URL", "the API receives", audiences}},
		{name: "aud Graph's app id", token: is.Mint(entratest.Token{Audience: "00000003-0000-0000-c000-000000000000"}), code: 1, status: 401, reason: "audience",
			want: []string{"Microsoft Graph", "Resource URL", audiences}},
		{name: "aud Graph's URL (v1)", token: is.Mint(entratest.Token{Version: v1, Audience: "https://graph.microsoft.com"}), code: 1, status: 401, reason: "audience",
			want: []string{"Microsoft Graph", "Resource URL", audiences}},
		{name: "aud Graph's URL online", token: is.Mint(entratest.Token{Version: v1, Audience: "https://graph.microsoft.com"}), online: true, code: 1, status: 401, reason: "audience",
			want: []string{"Microsoft Graph", "Resource URL"}},

		// Not a delegated access token.
		{name: "app-only", token: is.Mint(entratest.Token{Kind: entratest.AppOnly, Roles: []string{"Data.Read"}}), code: 1, status: 403, reason: "insufficient_scope",
			want: []string{"app-only", "service principal", "AUTH_REQUIRED_SCOPES", "app role", "Data.Read"}, kind: "access token", actor: "app-only"},
		{name: "app-only (v1)", token: is.Mint(entratest.Token{Kind: entratest.AppOnly, Version: v1, Roles: []string{"Data.Read"}}), code: 1, status: 403, reason: "insufficient_scope",
			want: []string{"app-only", "service principal", "AUTH_REQUIRED_SCOPES", "app role"}, actor: "app-only"},
		{name: "ID token for the API", token: is.Mint(entratest.Token{Kind: entratest.IDToken, Audience: is.ClientID()}), code: 1, status: 403, reason: "insufficient_scope",
			want: []string{"ID token", "access token"}, kind: "ID token"},
		{name: "ID token for the client app", token: is.Mint(entratest.Token{Kind: entratest.IDToken}), code: 1, status: 401, reason: "audience",
			want: []string{"ID token", "access token"}, kind: "ID token"},
		{name: "ID token (v1)", token: is.Mint(entratest.Token{Kind: entratest.IDToken, Version: v1, Audience: is.ClientID()}), code: 1, status: 403, reason: "insufficient_scope",
			want: []string{"ID token", "access token"}},

		// The lifetime.
		{name: "expired", token: is.Mint(entratest.Token{IssuedAt: now.Add(-2 * time.Hour), Lifetime: time.Hour}), code: 1, status: 401, reason: "expired",
			want: []string{"5m0s", "new token"}},
		{name: "expired online", token: is.Mint(entratest.Token{IssuedAt: now.Add(-2 * time.Hour), Lifetime: time.Hour}), online: true, code: 1, status: 401, reason: "expired",
			want: []string{"5m0s"}},
		{name: "not yet valid", token: is.Mint(entratest.Token{IssuedAt: now.Add(10 * time.Minute)}), code: 1, status: 401, reason: "not_yet_valid",
			want: []string{"5m0s", "clock"}},
		{name: "no exp", token: is.Mint(entratest.Token{Claims: map[string]any{"exp": nil}}), code: 1, status: 401, reason: "missing_claim",
			want: []string{"exp"}},
		{name: "exp a string", token: is.Mint(entratest.Token{Claims: map[string]any{"exp": fmt.Sprint(now.Add(time.Hour).Unix())}}), code: 1, status: 401, reason: "malformed"},

		// The tenant.
		{name: "another tenant", token: is.Mint(entratest.Token{Claims: otherIss(entratest.V2, otherTenantID)}), code: 1, status: 401, reason: "issuer",
			want: []string{otherTenantID, "AUTH_TENANT_ID", "Tenant ID", "Security page"}},
		{name: "a guest's home tenant (v1)", token: is.Mint(entratest.Token{Version: v1, Claims: otherIss(v1, otherTenantID)}), code: 1, status: 401, reason: "issuer",
			want: []string{"multi-tenant sign-in", "AUTH_TENANT_ID", "Tenant ID", "common"}},
		{name: "a personal Microsoft account", token: is.Mint(entratest.Token{Claims: otherIss(entratest.V2, "9188040d-6c67-4c5b-b112-36a304b66dad")}), code: 1, status: 401, reason: "issuer",
			want: []string{"personal Microsoft account", "work or school account", "Tenant ID"}},
		{name: "another tenant online", token: is.Mint(entratest.Token{Claims: otherIss(entratest.V2, otherTenantID)}), online: true, code: 1, status: 401, reason: "issuer",
			want: []string{"AUTH_TENANT_ID", "Tenant ID"}},
		{name: "another tenant's tid under the issuer", token: is.Mint(entratest.Token{Claims: map[string]any{"tid": otherTenantID}}), code: 1, status: 401, reason: "tenant",
			want: []string{"AUTH_TENANT_ID", "Tenant ID"}},
		{name: "another cloud's issuer", token: is.Mint(entratest.Token{Claims: map[string]any{"iss": "https://login.microsoftonline.us/" + is.TenantID() + "/v2.0"}}), code: 1, status: 401, reason: "issuer",
			want: []string{"AUTH_AUTHORITY", "sovereign cloud"}},
		{name: "AUTH_TENANT_ID another tenant", token: good, env: explainEnv(is, "AUTH_TENANT_ID", otherTenantID), code: 1, status: 401, reason: "issuer",
			want: []string{"AUTH_TENANT_ID", "Tenant ID", is.TenantID()}},
		// Online, the server of a tenant the authority does not know
		// cannot load keys at all: it answers 503 to every token, and
		// explain still shows the tenant is wrong.
		{name: "AUTH_TENANT_ID another tenant online", token: good, env: explainEnv(is, "AUTH_TENANT_ID", otherTenantID), online: true, code: 1, status: 503, reason: "keys_unavailable",
			want: []string{"AUTH_TENANT_ID", "Tenant ID", "invalid_tenant"}, warning: "loading the signing keys"},

		// The policy.
		{name: "missing scope", token: is.Mint(entratest.Token{Scopes: []string{"Files.Read"}}), code: 1, status: 403, reason: "insufficient_scope",
			want: []string{"Files.Read", "user_impersonation", "API permissions", "AUTH_REQUIRED_SCOPES"}},
		{name: "missing a configured scope", token: good, env: explainEnv(is, "AUTH_REQUIRED_SCOPES", "access_as_user"), code: 1, status: 403, reason: "insufficient_scope",
			want: []string{"access_as_user", "user_impersonation", "AUTH_REQUIRED_SCOPES"}},
		{name: "another client app", token: good, env: explainEnv(is, "AUTH_ALLOWED_CLIENT_APPS", "11111111-2222-4333-8444-555555555555"), code: 1, status: 403, reason: "AUTH_ALLOWED_CLIENT_APPS",
			want: []string{"AUTH_ALLOWED_CLIENT_APPS", entratest.DefaultClientAppID, "Client ID"}},
		{name: "another client app (v1)", token: goodV1, env: explainEnv(is, "AUTH_ALLOWED_CLIENT_APPS", "11111111-2222-4333-8444-555555555555"), online: true, code: 1, status: 403, reason: "AUTH_ALLOWED_CLIENT_APPS",
			want: []string{"AUTH_ALLOWED_CLIENT_APPS", "appid"}},
		{name: "another user", token: good, env: explainEnv(is, "AUTH_ALLOWED_USERS", "11111111-2222-4333-8444-555555555555"), code: 1, status: 403, reason: "AUTH_ALLOWED_USERS",
			want: []string{"AUTH_ALLOWED_USERS"}},

		// The header.
		{name: "alg none", token: is.Mint(entratest.Token{Header: map[string]any{"alg": "none"}}), code: 1, status: 401, reason: "algorithm",
			want: []string{"none", "RS256"}},
		{name: "alg HS256", token: is.Mint(entratest.Token{Header: map[string]any{"alg": "HS256"}}), code: 1, status: 401, reason: "algorithm",
			want: []string{"HS256", "RS256"}},
		{name: "alg HS256 online", token: is.Mint(entratest.Token{Header: map[string]any{"alg": "HS256"}}), online: true, code: 1, status: 401, reason: "algorithm"},
		{name: "alg none, no signature", token: handBuilt(`{"alg":"none","typ":"JWT"}`, string(claims), ""), code: 1, status: 401, reason: "algorithm"},
		{name: "alg none, no signature, online", token: handBuilt(`{"alg":"none","typ":"JWT"}`, string(claims), ""), online: true, code: 1, status: 401, reason: "algorithm"},
		{name: "no kid", token: is.Mint(entratest.Token{Version: v1, Header: map[string]any{"kid": nil}}), code: 1, status: 401, reason: "header",
			want: []string{"kid"}},
		{name: "crit", token: is.Mint(entratest.Token{Header: map[string]any{"crit": []string{"exp"}}}), code: 1, status: 401, reason: "header",
			want: []string{"crit"}},

		// The signature.
		{name: "a changed signature offline", token: tamper(good), secrets: []string{sig}},
		{name: "a changed signature online", token: tamper(good), online: true, code: 1, status: 401, reason: "signature", secrets: []string{sig}},
		{name: "a forged signature under a published kid", token: forger.Mint(entratest.Token{}), online: true, code: 1, status: 401, reason: "signature"},
		{name: "a key nobody publishes offline", token: is.Mint(entratest.Token{KeyID: "not-published"})},
		{name: "a key nobody publishes", token: is.Mint(entratest.Token{KeyID: "not-published"}), online: true, code: 1, status: 401, reason: "unknown_key",
			want: []string{"not-published"}},
		{name: "a retired key", token: retired, online: true, code: 1, status: 401, reason: "unknown_key"},

		// Not a token.
		{name: "garbage", token: "garbage", code: 1, status: 401, reason: "malformed", want: []string{"not a JWS"}},
		{name: "two segments", token: strings.Join(strings.Split(good, ".")[:2], "."), code: 1, status: 401, reason: "malformed", want: []string{"not a JWS"}},
		{name: "a JWE", token: "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.ZW5jcnlwdGVka2V5.aXY.Y2lwaGVydGV4dA.dGFn", code: 1, status: 401, reason: "malformed",
			want: []string{"5 segment", "JWE"}},
		{name: "a JWE online", token: "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.ZW5jcnlwdGVka2V5.aXY.Y2lwaGVydGV4dA.dGFn", online: true, code: 1, status: 401, reason: "malformed",
			want: []string{"JWE"}},
		{name: "a header that is not base64", token: "!!!." + strings.SplitN(good, ".", 2)[1], code: 1, status: 400, reason: "invalid_request"},
		{name: "a header of token68 characters that is not base64url", token: "~~~." + strings.SplitN(good, ".", 2)[1], code: 1, status: 401, reason: "malformed"},
		{name: "a payload that is not JSON", token: handBuilt(`{"alg":"RS256","kid":"k","typ":"JWT"}`, "not json", sig), code: 1, status: 401, reason: "malformed"},
		{name: "a claim twice", token: handBuilt(`{"alg":"RS256","kid":"k","typ":"JWT"}`, strings.Replace(string(claims), "{", `{"TID":"`+otherTenantID+`",`, 1), sig), code: 1, status: 401, reason: "duplicate_claim"},
		{name: "a token too large", token: is.Mint(entratest.Token{Claims: map[string]any{"pad": strings.Repeat("x", auth.MaxTokenBytes)}}), code: 1, status: 401, reason: "malformed",
			want: []string{"too large"}},
		{name: "a token too large online", token: is.Mint(entratest.Token{Claims: map[string]any{"pad": strings.Repeat("x", auth.MaxTokenBytes)}}), online: true, code: 1, status: 401, reason: "malformed"},
		// A space or a line break inside a token is what copying from a
		// wrapped terminal leaves: a JWS has none, so explain removes
		// them, says so, and judges the token the server saw.
		{name: "a token with a space inside", token: good[:200] + " " + good[200:], warning: "spaces or line breaks"},
		{name: "a token broken across lines", token: good[:200] + "\n" + good[200:], warning: "spaces or line breaks"},
		{name: "a signature broken across lines online", token: good[:len(good)-50] + "\r\n  " + good[len(good)-50:], online: true, warning: "spaces or line breaks"},
		{name: "a changed signature broken across lines online", token: tamper(good[:len(good)-50] + "\n" + good[len(good)-50:]), online: true, code: 1, status: 401, reason: "signature",
			warning: "spaces or line breaks", secrets: []string{sig}},

		// Privacy: of the person, explain shows oid and name only.
		{name: "the person's claims (v1)", token: is.Mint(entratest.Token{Version: v1, Name: "A. K.", Claims: map[string]any{"email": "ada.private@example.com"}}),
			want: []string{"A. K.", entratest.DefaultUserObjectID}, secrets: []string{"Lovelace", "ada.private@example.com"}},
		{name: "the person's claims, refused (v1)", token: is.Mint(entratest.Token{Version: v1, Name: "A. K.", Audience: "https://myfn.azurewebsites.net", Claims: map[string]any{"email": "ada.private@example.com"}}),
			code: 1, status: 401, reason: "audience", secrets: []string{"Lovelace", "ada.private@example.com"}},

		// Values are the token's, written by anyone: control characters
		// never reach a terminal.
		{name: "control characters", token: is.Mint(entratest.Token{Header: map[string]any{"kid": "k\x1b[31m"},
			Claims: map[string]any{"aud": "api://x\x1b[2J", "name": "Ada\x1b]0;title\x07", "tid": "t\x1b[31m\r"}}),
			code: 1, status: 401, reason: "audience", secrets: []string{"\x1b", "\x07", "\r"}},
		{name: "control characters in the policy's claims", token: is.Mint(entratest.Token{
			Claims: map[string]any{"scp": "Other \x1b[2J", "azp": "\x1b[5mBLINK", "roles": []string{"\u009b31m", "\u202eevil"}, "oid": "o\x1b[1m", "idtyp": "app\u2066"}}),
			code: 1, status: 403, reason: "insufficient_scope", secrets: []string{"\x1b", "\u009b", "\u202e", "\u2066"}},
		// What draws as nothing or as a space: the log's escapes, not
		// the characters.
		{name: "invisible characters", token: is.Mint(entratest.Token{Claims: map[string]any{"aud": "api://x\u3164\u00a0", "name": "Ada\u115f\ufe0f\u200b"}}),
			code: 1, status: 401, reason: "audience", want: []string{`\u3164`, `\u115f`}, secrets: []string{"\u3164", "\u00a0", "\u115f", "\ufe0f", "\u200b"}},

		// Easy Auth: judged as its token check judges.
		{name: "easyauth mode", token: good, env: env{"WEBSITE_AUTH_ENABLED": "true", "WEBSITE_SITE_NAME": "hello-fn", "AUTH_TENANT_ID": is.TenantID(), "AUTH_AUDIENCES": is.ClientID()},
			warning: "App Service Authentication"},
	}
	for _, c := range cases {
		if c.env == nil {
			c.env = explainEnv(is)
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runExplainCase(t, c)
		})
	}
}

// TestExplainDevMode explains development tokens: in dev mode the
// signature is checked offline, against the local key.
func TestExplainDevMode(t *testing.T) {
	t.Parallel()
	dev := devTestEnv(t)
	tokenFor := func(e env, args ...string) string {
		code, stdout, stderr := runMain(t, e, append([]string{"token"}, args...)...)
		if code != 0 {
			t.Fatalf("handler token: exit %d: %s", code, stderr)
		}
		return strings.TrimSpace(stdout)
	}
	tok := tokenFor(dev)
	// A token of another development key, which the dev key file does
	// not hold.
	otherKey := tokenFor(devTestEnv(t))
	// The key made by hand, as token --dev makes it.
	key, err := auth.LoadOrCreateDevKey(dev["AUTH_DEV_KEY_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	minted, err := key.Mint(auth.DevToken{Name: "Marc"})
	if err != nil {
		t.Fatal(err)
	}
	noKey := env{"AUTH_MODE": "dev", "AUTH_DEV_KEY_FILE": filepath.Join(t.TempDir(), "absent.pem")}

	cases := []explainCase{
		{name: "handler token", token: tok, env: dev, checked: true, want: []string{"dev"}},
		{name: "handler token --dev", token: tokenFor(dev, "--dev"), env: dev, checked: true},
		{name: "DevKey.Mint", token: minted, env: dev, checked: true},
		// An authority that refuses connections: dev mode must not
		// fetch anything, and would say it failed if it tried.
		{name: "--online fetches nothing", token: tok, env: withEnv(dev, "AUTH_AUTHORITY", "http://127.0.0.1:1"), flags: []string{"--online"}, checked: true},
		{name: "without the scope", token: tokenFor(dev, "--scope", "none"), env: dev, checked: true, code: 1, status: 403, reason: "insufficient_scope",
			want: []string{"AUTH_REQUIRED_SCOPES", "user_impersonation"}},
		{name: "another dev key", token: otherKey, env: dev, checked: true, code: 1, status: 401, reason: "unknown_key"},
		{name: "a changed signature", token: tamper(tok), env: dev, checked: true, code: 1, status: 401, reason: "signature", secrets: signatures(tok)},
		// Without the key file nothing can check the signature: explain
		// says so rather than making a key.
		{name: "no key file", token: tok, env: noKey, warning: "no development key"},
		// --dev judges as handler dev would, whatever the shell's AUTH_*
		// settings: a jwt-mode environment does not get in its way.
		{name: "--dev over a jwt environment", token: tokenFor(dev, "--dev"), flags: []string{"--dev"}, checked: true,
			env: withEnv(dev, "AUTH_MODE", "jwt", "AUTH_TENANT_ID", otherTenantID, "AUTH_AUDIENCES", "api://elsewhere")},
		{name: "--dev without the scope", token: tokenFor(dev, "--dev", "--scope", "none"), flags: []string{"--dev"}, checked: true, env: withEnv(dev, "AUTH_MODE", "jwt"),
			code: 1, status: 403, reason: "insufficient_scope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runExplainCase(t, c)
		})
	}
	if _, err := os.Stat(noKey["AUTH_DEV_KEY_FILE"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("explain made a development key: %v", err)
	}
}

// TestExplainUsage runs explain wrongly: each is exit 2 with the usage on
// stderr and nothing judged, and no argument is ever repeated, since any
// of them may be a token.
func TestExplainUsage(t *testing.T) {
	t.Parallel()
	is := entratest.New(t, entratest.Config{})
	good := is.Mint(entratest.Token{})
	other := is.Mint(entratest.Token{Version: entratest.V1})
	jwt := explainEnv(is)
	cases := []struct {
		name   string
		args   []string
		env    env
		code   int
		stdout []string
		stderr []string
	}{
		{name: "-h", args: []string{"explain", "-h"}, stdout: []string{"usage: handler explain", "--online", "--json", "-function", "Exit status"}},
		{name: "--help with a token", args: []string{"explain", good, "--help"}, env: jwt, stdout: []string{"usage: handler explain"}},
		{name: "help explain", args: []string{"help", "explain"}, env: jwt, stdout: []string{"usage: handler explain"}},
		{name: "no token", args: []string{"explain"}, env: jwt, code: 2, stderr: []string{"no token", "Run 'handler explain -h' for usage."}},
		{name: "only flags", args: []string{"explain", "--online", "--json"}, env: jwt, code: 2, stderr: []string{"no token"}},
		{name: "two tokens", args: []string{"explain", good, other}, env: jwt, code: 2, stderr: []string{"one token, not 2 arguments", "Run 'handler explain -h' for usage."}},
		{name: "two tokens around a flag", args: []string{"explain", good, "--json", other}, env: jwt, code: 2, stderr: []string{"one token, not 2 arguments"}},
		{name: "two tokens after --", args: []string{"explain", "--online", "--", good, other}, env: jwt, code: 2, stderr: []string{"one token, not 2 arguments"}},
		{name: "an unknown flag", args: []string{"explain", "--bogus", good}, env: jwt, code: 2, stderr: []string{"flag provided but not defined: -bogus", "Run 'handler explain -h' for usage."}},
		{name: "an unknown flag after the token", args: []string{"explain", good, "--bogus"}, env: jwt, code: 2, stderr: []string{"flag provided but not defined: -bogus"}},
		{name: "an empty token", args: []string{"explain", ""}, env: jwt, code: 2, stderr: []string{"the token is empty"}},
		{name: "an unknown function", args: []string{"explain", "--function", "Nope", good}, env: jwt, code: 2, stderr: []string{`no function "Nope"`}},
		{name: "no configuration", args: []string{"explain", good}, env: env{}, code: 2, stderr: []string{"configuration must be valid", "handler check"}},
		{name: "jwt without audiences", args: []string{"explain", "--online", good}, env: explainEnv(is, "AUTH_AUDIENCES", ""), code: 2, stderr: []string{"AUTH_AUDIENCES"}},
		{name: "a tenant that is not a GUID", args: []string{"explain", good}, env: explainEnv(is, "AUTH_TENANT_ID", "contoso"), code: 2, stderr: []string{"AUTH_TENANT_ID"}},
		{name: "an invalid mode", args: []string{"explain", good}, env: explainEnv(is, "AUTH_MODE", "bogus"), code: 2, stderr: []string{"AUTH_MODE"}},
		{name: "easyauth without audiences", args: []string{"explain", good}, env: env{"WEBSITE_AUTH_ENABLED": "true", "WEBSITE_SITE_NAME": "hello-fn", "AUTH_TENANT_ID": is.TenantID()}, code: 2, stderr: []string{"AUTH_AUDIENCES"}},

		// A token given as a flag's value by mistake is still a token:
		// the flag's error must not repeat it.
		{name: "a token as --online's value", args: []string{"explain", "--online=" + good}, env: jwt, code: 2, stderr: []string{"-online"}},
		{name: "a token as --json's value", args: []string{"explain", "--json=" + good}, env: jwt, code: 2, stderr: []string{"-json"}},
		// A Bearer prefix is ignored, and then there is no token: the
		// server too answers a bare "Bearer" with "empty bearer token".
		{name: "Bearer and nothing", args: []string{"explain", "Bearer "}, env: jwt, code: 2, stderr: []string{"the token is empty"}},
		{name: "an Authorization header and nothing", args: []string{"explain", "Authorization: Bearer"}, env: jwt, code: 2, stderr: []string{"the token is empty"}},

		// Flags may follow the token.
		{name: "--online after the token", args: []string{"explain", good, "--online"}, env: jwt, stdout: []string{"signature: checked", "verdict: ACCEPTED: the server answers 200"}},
		{name: "--json after the token", args: []string{"explain", good, "--json", "--online"}, env: jwt, stdout: []string{`"signatureChecked": true`}},
		{name: "a token after --", args: []string{"explain", "--online", "--", good}, env: jwt, stdout: []string{"signature: checked"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runMain(t, c.env, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, stdout, stderr)
			}
			containsAll(t, "stdout", stdout, c.stdout)
			containsAll(t, "stderr", stderr, c.stderr)
			switch c.code {
			case 0:
				if stderr != "" {
					t.Errorf("stderr not empty: %s", stderr)
				}
			case 2:
				// Nothing was judged: no verdict, nothing on stdout.
				if stdout != "" {
					t.Errorf("stdout not empty on a usage error: %s", stdout)
				}
			}
			for _, tok := range []string{good, other} {
				noSignature(t, stdout+stderr, tok)
				payload := strings.Split(tok, ".")[1]
				if w, ok := sharedRun(stdout+stderr, payload, 16); ok && c.code == 2 {
					t.Errorf("a usage error repeats %q of an argument:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestExplainStdin gives the token on standard input, as explain - reads
// it.
func TestExplainStdin(t *testing.T) {
	is := entratest.New(t, entratest.Config{})
	good := is.Mint(entratest.Token{})
	huge := is.Mint(entratest.Token{Claims: map[string]any{"pad": strings.Repeat("x", 4*auth.MaxTokenBytes)}})
	cases := []struct {
		name   string
		in     string
		err    error // read error after in, if any
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "a token", in: good, args: []string{"-"}, stdout: []string{"verdict: ACCEPTED if the signature is good"}},
		{name: "a pasted line", in: good + "\n", args: []string{"-"}, stdout: []string{"verdict: ACCEPTED"}},
		{name: "a Bearer prefix", in: "Bearer " + good + "\r\n", args: []string{"-"}, stdout: []string{"verdict: ACCEPTED"}},
		{name: "online", in: good, args: []string{"--online", "-"}, stdout: []string{"signature: checked", "verdict: ACCEPTED: the server answers 200"}},
		{name: "flags after -", in: good, args: []string{"-", "--online", "--json"}, stdout: []string{`"signatureChecked": true`}},
		{name: "a token too large", in: huge, args: []string{"-"}, code: 1, stdout: []string{"reason=malformed", "too large"}},
		{name: "empty", in: "", args: []string{"-"}, code: 2, stderr: []string{"the token is empty"}},
		{name: "blank", in: " \n\t\n", args: []string{"-"}, code: 2, stderr: []string{"the token is empty"}},
		{name: "a read error", in: good[:10], err: errors.New("device gone"), args: []string{"-"}, code: 2, stderr: []string{"reading the token from standard input", "device gone"}},
		{name: "- and a token", in: good, args: []string{"-", good}, code: 2, stderr: []string{"one token, not 2 arguments"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdin io.Reader = strings.NewReader(c.in)
			if c.err != nil {
				stdin = &errReader{data: c.in, err: c.err}
			}
			code, stdout, stderr := runMainIn(t, stdin, explainEnv(is), append([]string{"explain"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, stdout, stderr)
			}
			containsAll(t, "stdout", stdout, c.stdout)
			containsAll(t, "stderr", stderr, c.stderr)
			noSignature(t, stdout+stderr, good)
			noSignature(t, stdout+stderr, huge)
		})
	}
}

// withEnv is e with kv set over it.
func withEnv(e env, kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// errReader returns data, then err.
type errReader struct {
	data string
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestExplainDevAdvice: a development token, or a dev-mode server, gets
// advice about development tokens: mint another with ./handler token
// --dev. Before, such a refusal got Entra's and the connector's advice
// ("add the token's aud to AUTH_AUDIENCES", "the connector's Resource
// URL"), which make dev ignores.
func TestExplainDevAdvice(t *testing.T) {
	t.Parallel()
	dev := devTestEnv(t)
	is := entratest.New(t, entratest.Config{})
	tokenFor := func(e env, args ...string) string {
		code, stdout, stderr := runMain(t, e, append([]string{"token"}, args...)...)
		if code != 0 {
			t.Fatalf("handler token: exit %d: %s", code, stderr)
		}
		return strings.TrimSpace(stdout)
	}
	key, err := auth.LoadOrCreateDevKey(dev["AUTH_DEV_KEY_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	expired, err := key.Mint(auth.DevToken{Now: time.Now().Add(-3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// Entra's advice, which means nothing for a development token.
	entraAdvice := []string{"Resource URL", "Security page", "Power Platform", "Tenant ID", "app registration", "AUTH_AUDIENCES`, or"}
	cases := []struct {
		name   string
		token  string
		env    env
		flags  []string
		status int
		reason string
		// note must be among the notes: what the token or server is.
		note string
	}{
		{name: "a dev token for another audience, as make dev judges it", token: tokenFor(withEnv(dev, "AUTH_AUDIENCES", "api://someone-else")),
			env: dev, flags: []string{"--dev"}, status: 401, reason: "audience", note: "dev mode"},
		{name: "a dev token for another tenant, as make dev judges it", token: tokenFor(withEnv(dev, "AUTH_TENANT_ID", otherTenantID)),
			env: dev, flags: []string{"--dev"}, status: 401, reason: "issuer", note: "dev mode"},
		{name: "a dev token at a jwt-mode server", token: tokenFor(dev, "--dev"), env: explainEnv(is), status: 401, reason: "audience", note: "development token"},
		{name: "a dev token for the server's audience at a jwt-mode server", token: tokenFor(withEnv(dev, "AUTH_AUDIENCES", is.ClientID())), env: explainEnv(is), status: 401, reason: "issuer", note: "development token"},
		{name: "a dev token at a jwt-mode server, online", token: tokenFor(dev, "--dev"), env: explainEnv(is), flags: []string{"--online"}, status: 401, reason: "unknown_key", note: "development token"},
		{name: "a dev token of another dev key", token: tokenFor(devTestEnv(t), "--dev"), env: dev, flags: []string{"--dev"}, status: 401, reason: "unknown_key", note: "dev mode"},
		{name: "an expired dev token", token: expired, env: dev, flags: []string{"--dev"}, status: 401, reason: "expired", note: "dev mode"},
		{name: "a changed dev token", token: tamper(tokenFor(dev, "--dev")), env: dev, flags: []string{"--dev"}, status: 401, reason: "signature", note: "dev mode"},
		{name: "a dev token without the scope", token: tokenFor(dev, "--dev", "--scope", "none"), env: dev, flags: []string{"--dev"}, status: 403, reason: "insufficient_scope", note: "dev mode"},
		{name: "an Entra token at a dev-mode server", token: is.Mint(entratest.Token{}), env: dev, flags: []string{"--dev"}, status: 401, reason: "unknown_key", note: "dev mode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runMain(t, c.env, append(append([]string{"explain", "--json"}, c.flags...), c.token)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			rep := decodeReport(t, stdout)
			if rep.Verdict == nil || rep.Verdict.Status != c.status || rep.Verdict.Reason != c.reason {
				t.Fatalf("verdict %+v, want %d %s", rep.Verdict, c.status, c.reason)
			}
			var notes struct{ Notes []string }
			json.Unmarshal([]byte(stdout), &notes)
			if !strings.Contains(strings.Join(notes.Notes, "\n"), c.note) {
				t.Errorf("notes %q lack %q", notes.Notes, c.note)
			}
			for _, ch := range rep.Checks {
				if ch.Result != "fail" || ch.Reason != c.reason {
					continue
				}
				if !strings.Contains(ch.Fix, "./handler token --dev") {
					t.Errorf("check %q: the fix does not say to mint a development token: %s", ch.Name, ch.Fix)
				}
				for _, w := range entraAdvice {
					if strings.Contains(ch.Fix, w) {
						t.Errorf("check %q: the fix gives Entra's advice (%q): %s", ch.Name, w, ch.Fix)
					}
				}
			}
			// The text output shows the same fix.
			_, text, _ := runMain(t, c.env, append(append([]string{"explain"}, c.flags...), c.token)...)
			containsAll(t, "stdout", text, []string{"change:", "./handler token --dev", "reason=" + c.reason})
		})
	}
}

// TestExplainFunctionFoldsASCIIOnly: --function names a function as the
// router and the host match it, in any ASCII letter case and no other
// folding: a name that Unicode folds onto a route's is not that route.
func TestExplainFunctionFoldsASCIIOnly(t *testing.T) {
	t.Parallel()
	routes := []api.Route{{Function: "Kiosk"}, {Function: "Signin"}}
	cases := []struct {
		name, arg, want string // want "" means no route
	}{
		{"the name", "Kiosk", "Kiosk"},
		{"in other ASCII case", "kIOSK", "Kiosk"},
		{"KELVIN SIGN for K", "\u212Aiosk", ""},
		{"LONG S for s", "Kio\u017Fk", ""},
		{"LONG S in another name", "\u017Fignin", ""},
		{"capital dotted I for i", "Kİosk", ""},
		{"dotless i", "Kıosk", ""},
		{"fullwidth letters", "\uff2biosk", ""},
		{"a zero-width space inside", "Ki\u200bosk", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, ok := findRoute(routes, c.arg)
			if ok != (c.want != "") || ok && rt.Function != c.want {
				t.Errorf("findRoute(%q) = %q, %v; want %q", c.arg, rt.Function, ok, c.want)
			}
		})
	}
}

// TestExplainTasksAppPermission: --function Tasks judges with the route's
// alternative to the scope, an app role on an app-only token, and says so.
func TestExplainTasksAppPermission(t *testing.T) {
	e := env{"AUTH_DEV_KEY_FILE": filepath.Join(t.TempDir(), "k.pem")}
	mint := func(args ...string) string {
		t.Helper()
		code, tok, stderr := runMain(t, e, append([]string{"token", "--dev"}, args...)...)
		if code != 0 {
			t.Fatalf("token %v: exit %d: %s", args, code, stderr)
		}
		return strings.TrimSpace(tok)
	}
	app := mint("--app-only", "--role", "Tasks.ReadWrite.All")
	tests := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"an app with the role, on Tasks", []string{"--function", "Tasks", app}, 0, []string{"ACCEPTED", "or, on an app-only token, the app role Tasks.ReadWrite.All"}},
		{"an app without it, on Tasks", []string{"--function", "Tasks", mint("--app-only", "--role", "Other")}, 1, []string{"reason=route roles"}},
		{"an app with the role, on Hello", []string{"--function", "Hello", app}, 1, []string{"reason=insufficient_scope"}},
		{"a user, on Tasks", []string{"--function", "Tasks", mint("--name", "Ana")}, 0, []string{"ACCEPTED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runMain(t, e, append([]string{"explain", "--dev"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tt.code, out, stderr)
			}
			containsAll(t, "explain", out, tt.wants)
		})
	}
}

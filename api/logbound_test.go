package api

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/auth"
)

// hostileText is what a client puts in a token's or a principal's values
// to reach whoever reads the log: 10 KB with line breaks, ANSI escapes
// (colour, window title, screen clear) and a C1 control. Controls are
// sparse enough that a token carrying it fits the 16 KiB bound.
var hostileText = func() string {
	unit := "\x1b[31mé\n" + strings.Repeat("0123456789", 10) + "\r\x1b]0;t\x07\u0085\x1b[2J" + strings.Repeat("abcdefghij", 20)
	return strings.Repeat(unit, 10<<10/len(unit)+1)[:10<<10]
}()

const logKID = "log-test-key"

// signedBy builds a JWS from hand-written header and payload JSON, signed
// RS256 by key: a verifier that trusts key gets as far as the claims.
func signedBy(t *testing.T, key *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLogErrorFieldIsBounded: through the real verifier and Easy Auth, a
// refused request whose token or principal carries 10 KB of escape
// sequences in a value the error names (kid, alg, typ, iss, aud, tid,
// auth_typ, the IdP, a member name) gets a log line whose error field is
// short and holds no raw control character: a terminal showing the log
// does not act on what the client wrote.
func TestLogErrorFieldIsBounded(t *testing.T) {
	key, keys := logKeySet(t)
	const aud = "api://log-test"
	now := time.Now()
	v, err := auth.NewVerifier(auth.Config{TenantID: goodTID, Audiences: []string{aud}}, keys)
	if err != nil {
		t.Fatal(err)
	}
	easy, err := auth.EasyAuth(auth.EasyAuthConfig{TenantID: goodTID, Audiences: []string{aud}})
	if err != nil {
		t.Fatal(err)
	}

	h := mustJSON(t, hostileText)
	claims := func(kv ...any) string {
		c := map[string]any{
			"aud": aud, "iss": "https://login.microsoftonline.com/" + goodTID + "/v2.0", "tid": goodTID, "oid": goodOID,
			"ver": "2.0", "scp": requiredScope, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return mustJSON(t, c)
	}
	header := `{"alg":"RS256","typ":"JWT","kid":"` + logKID + `"}`
	principal := func(doc string) string { return base64.StdEncoding.EncodeToString([]byte(doc)) }
	user := func(extra string) string {
		return principal(`{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + goodOID + `"},{"typ":"tid","val":"` + goodTID + `"}` + extra + `]}`)
	}

	tests := []struct {
		name    string
		easy    bool // Easy Auth rather than the bearer token
		headers http.Header
		status  int
		reason  string
	}{
		{name: "kid", headers: bearer(signedBy(t, key, `{"alg":"RS256","typ":"JWT","kid":`+h+`}`, claims())), status: 401, reason: "unknown_key"},
		{name: "alg", headers: bearer(signedBy(t, key, `{"alg":`+h+`,"typ":"JWT","kid":"`+logKID+`"}`, claims())), status: 401, reason: "algorithm"},
		{name: "typ", headers: bearer(signedBy(t, key, `{"alg":"RS256","typ":`+h+`,"kid":"`+logKID+`"}`, claims())), status: 401, reason: "header"},
		{name: "iss", headers: bearer(signedBy(t, key, header, claims("iss", hostileText))), status: 401, reason: "issuer"},
		{name: "aud", headers: bearer(signedBy(t, key, header, claims("aud", hostileText))), status: 401, reason: "audience"},
		{name: "tid", headers: bearer(signedBy(t, key, header, claims("tid", hostileText))), status: 401, reason: "tenant"},
		{name: "Easy Auth auth_typ", easy: true, headers: http.Header{
			auth.HeaderClientPrincipal:    {principal(`{"auth_typ":` + h + `,"claims":[]}`)},
			auth.HeaderClientPrincipalIDP: {"aad"},
		}, status: 401, reason: "principal"},
		{name: "Easy Auth IdP", easy: true, headers: http.Header{
			auth.HeaderClientPrincipal:    {user("")},
			auth.HeaderClientPrincipalIDP: {hostileText},
		}, status: 401, reason: "principal"},
		{name: "Easy Auth member name", easy: true, headers: http.Header{
			auth.HeaderClientPrincipal:    {principal(`{"auth_typ":"aad",` + h + `:1,` + h + `:2}`)},
			auth.HeaderClientPrincipalIDP: {"aad"},
		}, status: 401, reason: "principal"},
		{name: "Easy Auth claim member name", easy: true, headers: http.Header{
			auth.HeaderClientPrincipal:    {principal(`{"auth_typ":"aad","claims":[{` + h + `:1,` + h + `:2}]}`)},
			auth.HeaderClientPrincipalIDP: {"aad"},
		}, status: 401, reason: "principal"},
		{name: "Easy Auth tenant", easy: true, headers: http.Header{
			auth.HeaderClientPrincipal:    {principal(`{"auth_typ":"aad","claims":[{"typ":"oid","val":"` + goodOID + `"},{"typ":"tid","val":` + h + `}]}`)},
			auth.HeaderClientPrincipalIDP: {"aad"},
		}, status: 403, reason: "AUTH_TENANT_ID"},
		{name: "Easy Auth audience", easy: true, headers: http.Header{
			auth.HeaderClientPrincipal:    {user(`,{"typ":"aud","val":` + h + `}`)},
			auth.HeaderClientPrincipalIDP: {"aad"},
		}, status: 403, reason: "AUTH_AUDIENCES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) {
				o.Authenticator = auth.Bearer(v)
				if tt.easy {
					o.Authenticator = easy
				}
			})
			w := f.do(t, req{method: http.MethodGet, target: "/api/Me", headers: tt.headers})
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", w.Code, tt.status, w.Body.String())
			}
			line := f.requestLine(t)
			if line["reason"] != tt.reason {
				t.Errorf("reason = %v, want %q", line["reason"], tt.reason)
			}
			msg, _ := line["error"].(string)
			// Each value is cut to 128 bytes and quoted where the error is
			// made; 768 leaves room for the words around one, and stays
			// under the 1 KiB the log line cuts any error to, so that
			// backstop alone does not pass this test.
			if msg == "" || len(msg) > 768 {
				t.Errorf("error field is %d bytes, want 1..768: %.200q", len(msg), msg)
			}
			for _, r := range msg {
				if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
					t.Errorf("error field holds the raw control character %U: %.200q", r, msg)
					break
				}
			}
			if n := f.logs.Len(); n > 2048 {
				t.Errorf("the log line is %d bytes", n)
			}
		})
	}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// TestLogRequestFieldsAreBounded: the request's own fields in its log line
// (method, path, invocation id) are cut to 128 bytes and lose their
// control characters, whatever the client sent: net/http accepts a method
// of any length, decodes %1b in a path into a raw escape, and passes
// header values through.
func TestLogRequestFieldsAreBounded(t *testing.T) {
	long := strings.Repeat("M", 10<<10)
	tests := []struct {
		name  string
		req   req
		field string
	}{
		{"method", req{method: long, target: "/api/Hello", token: goodToken}, "method"},
		{"path", req{method: http.MethodGet, target: "/api/%1b%5b2J%0a" + strings.Repeat("p", 10<<10), token: goodToken}, "path"},
		{"invocation id", req{method: http.MethodGet, target: "/api/Hello", token: goodToken,
			headers: http.Header{InvocationIDHeader: {hostileText}}}, "invocation_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.do(t, tt.req)
			got, _ := f.requestLine(t)[tt.field].(string)
			if got == "" || len(got) > maxLoggedPath+len("…") {
				t.Errorf("%s is %d bytes: %.200q", tt.field, len(got), got)
			}
			for _, r := range got {
				if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
					t.Errorf("%s holds the raw control character %U: %.200q", tt.field, r, got)
					break
				}
			}
		})
	}
}

// logKeySet makes an RSA key and a key set holding its public half as
// kid logKID.
func logKeySet(t *testing.T) (*rsa.PrivateKey, *auth.StaticKeySet) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := mustJSON(t, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": logKID,
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
	keys, err := auth.NewStaticKeySet([]byte(jwks))
	if err != nil {
		t.Fatal(err)
	}
	return key, keys
}

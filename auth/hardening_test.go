package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hostile is a value a client chose: 10 KB of text with line breaks,
// ANSI escapes (colour, window title, screen clear) and a C1 control, the
// kind of thing that would rewrite a terminal showing the log. Controls
// are sparse enough that a token carrying it stays under
// MaxAuthorizationBytes, JSON escapes and base64 included.
var hostile = func() string {
	unit := "\x1b[31mé\n" + strings.Repeat("0123456789", 10) + "\r\x1b]0;t\x07\u0085\x1b[2J" + strings.Repeat("abcdefghij", 20)
	return strings.Repeat(unit, 10<<10/len(unit)+1)[:10<<10]
}()

// jsonString encodes s as a JSON string, for hand-written headers and
// payloads.
func jsonString(tb testing.TB, s string) string {
	tb.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// checkBoundedText fails unless msg is short and free of raw control
// characters: each client value inside it is cut to 128 bytes and quoted
// with its control characters escaped.
func checkBoundedText(tb testing.TB, msg string) {
	tb.Helper()
	// A message quotes at most a few values; 128 bytes escape to at most
	// 512, so 768 leaves room for the words around one and fails for
	// any value repeated whole.
	const maxMessage = 768
	if len(msg) > maxMessage {
		tb.Errorf("message is %d bytes, want at most %d: %.200q…", len(msg), maxMessage, msg)
	}
	for _, r := range msg {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			tb.Errorf("message holds the raw control character %U: %.200q…", r, msg)
			break
		}
	}
}

// TestClientValuesInErrorsAreBounded: every error message that quotes a
// value the token, the principal or a header chose quotes it bounded and
// escaped, because the message becomes the log line's error field.
func TestClientValuesInErrorsAreBounded(t *testing.T) {
	trusted, _ := testKeys(t)
	h := jsonString(t, hostile)
	payload := func(kv ...any) string { return rawPayload(t, claimsWith(v2Claims(), kv...)) }
	tests := []struct {
		name   string
		token  string
		reason string
	}{
		{"kid", signRaw(t, trusted, `{"alg":"RS256","typ":"JWT","kid":`+h+`}`, payload()), reasonUnknownKey},
		{"alg", signRaw(t, trusted, `{"alg":`+h+`,"typ":"JWT","kid":"`+testKID+`"}`, payload()), reasonAlgorithm},
		{"alg not a string", signRaw(t, trusted, `{"alg":[`+h+`],"typ":"JWT","kid":"`+testKID+`"}`, payload()), reasonAlgorithm},
		{"typ", signRaw(t, trusted, `{"alg":"RS256","typ":`+h+`,"kid":"`+testKID+`"}`, payload()), reasonHeader},
		// Twice 5 KB: a token has room for no more.
		{"header member name", signRaw(t, trusted, `{"alg":"RS256","kid":"`+testKID+`",`+jsonString(t, hostile[:5<<10])+`:1,`+jsonString(t, hostile[:5<<10])+`:2}`, payload()), reasonHeader},
		{"iss", signRS256(t, claimsWith(v2Claims(), "iss", hostile)), reasonIssuer},
		{"aud", signRS256(t, claimsWith(v2Claims(), "aud", hostile)), reasonAudience},
		{"tid", signRS256(t, claimsWith(v2Claims(), "tid", hostile)), reasonTenant},
		{"ver", signRS256(t, claimsWith(v2Claims(), "ver", hostile)), reasonVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.token) > MaxAuthorizationBytes {
				t.Fatalf("the token is %d bytes, over the size limit: it would be refused unread", len(tt.token))
			}
			v := newTestVerifier(t, nil)
			_, err := v.Verify(context.Background(), tt.token)
			if err == nil {
				t.Fatal("Verify accepted the token")
			}
			if got := tokenReason(t, err); got != tt.reason {
				t.Errorf("reason = %q, want %q (%.200v)", got, tt.reason, err)
			}
			checkBoundedText(t, err.Error())
		})
	}
}

// eaPrincipal encodes an Easy Auth principal document as the header does.
func eaPrincipal(tb testing.TB, authType string, claims ...string) string {
	tb.Helper()
	type pair struct {
		Typ string `json:"typ"`
		Val string `json:"val"`
	}
	doc := struct {
		AuthType string `json:"auth_typ"`
		Claims   []pair `json:"claims"`
	}{AuthType: authType, Claims: []pair{}}
	for i := 0; i+1 < len(claims); i += 2 {
		doc.Claims = append(doc.Claims, pair{claims[i], claims[i+1]})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// TestEasyAuthValuesInErrorsAreBounded is the same for Easy Auth: its
// headers are the platform's behind a working Easy Auth, and anyone's
// where a regression or a misconfiguration lets them through.
func TestEasyAuthValuesInErrorsAreBounded(t *testing.T) {
	h := jsonString(t, hostile)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	user := func(kv ...string) string {
		return eaPrincipal(t, "aad", append([]string{"oid", testOID, "tid", testTenant}, kv...)...)
	}
	tests := []struct {
		name      string
		principal string
		idp       string
		cfg       EasyAuthConfig
		policy    Policy
		want      error
	}{
		{name: "auth_typ", principal: eaPrincipal(t, hostile, "oid", testOID, "tid", testTenant), idp: "aad", want: ErrInvalidToken},
		{name: "IdP", principal: user(), idp: hostile, want: ErrInvalidToken},
		{name: "principal member name", principal: b64(`{"auth_typ":"aad",` + h + `:1,` + h + `:2}`), idp: "aad", want: ErrInvalidToken},
		{name: "claim member name", principal: b64(`{"auth_typ":"aad","claims":[{` + h + `:1,` + h + `:2}]}`), idp: "aad", want: ErrInvalidToken},
		{name: "tenant", principal: eaPrincipal(t, "aad", "oid", testOID, "tid", hostile), idp: "aad", want: ErrForbidden},
		{name: "audience", principal: user("aud", hostile), idp: "aad", cfg: EasyAuthConfig{Audiences: []string{testAudience}}, want: ErrForbidden},
		{name: "client app", principal: user("azp", hostile), idp: "aad", policy: Policy{AllowedClientApps: []string{testClient}}, want: ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.TenantID = testTenant
			a, err := EasyAuth(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/api/Me", nil)
			r.Header.Set(HeaderClientPrincipal, tt.principal)
			r.Header.Set(HeaderClientPrincipalIDP, tt.idp)
			p, err := a.Authenticate(r)
			if err == nil {
				err = tt.policy.Check(p)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %.200v, want %v", err, tt.want)
			}
			checkBoundedText(t, err.Error())
		})
	}
}

// TestVerifyRefusesWhatEntraNeverSends: header members and claim types
// Entra never writes are refused even on a token the tenant's own key
// signed (RFC 7515 §4 and §4.1.11, RFC 7519 §2), and before any key is
// looked up, so forging them costs the verifier no RSA work: golang-jwt
// verifies a signature only with a key its keyfunc returned, so a token
// refused with no key lookup (countingKeys, of cache_test.go) cost no RSA
// verification, where a kid-less one cost one per key of the set.
func TestVerifyRefusesWhatEntraNeverSends(t *testing.T) {
	trusted, _ := testKeys(t)
	kid := `"kid":"` + testKID + `"`
	valid := rawPayload(t, v2Claims())
	exp := testNow.Add(time.Hour).Unix()
	withTime := func(name, raw string) string {
		return rawPayload(t, claimsWith(v2Claims(), name, nil), `"`+name+`":`+raw)
	}
	tests := []struct {
		name    string
		header  string
		payload string
		reason  string // "" means accepted
	}{
		{"crit", `{"alg":"RS256","typ":"JWT",` + kid + `,"crit":["exp"],"exp":1}`, valid, reasonHeader},
		{"empty crit", `{"alg":"RS256","typ":"JWT",` + kid + `,"crit":[]}`, valid, reasonHeader},
		{"b64 false", `{"alg":"RS256","typ":"JWT",` + kid + `,"b64":false,"crit":["b64"]}`, valid, reasonHeader},
		{"b64 true", `{"alg":"RS256","typ":"JWT",` + kid + `,"b64":true}`, valid, reasonHeader},
		{"zip", `{"alg":"RS256","typ":"JWT",` + kid + `,"zip":"DEF"}`, valid, reasonHeader},
		// golang-jwt keeps the last copy of a member; another reader may
		// take the first.
		{"kid twice", `{"alg":"RS256","typ":"JWT","kid":"` + attackerKID + `",` + kid + `}`, valid, reasonHeader},
		{"alg twice", `{"alg":"none","alg":"RS256","typ":"JWT",` + kid + `}`, valid, reasonHeader},
		{"typ twice", `{"alg":"RS256","typ":"JWT","typ":"JWT",` + kid + `}`, valid, reasonHeader},
		{"kid twice, one escaped", `{"alg":"RS256","typ":"JWT",` + kid + `,"k\u0069d":"` + testKID + `"}`, valid, reasonHeader},
		{"no kid", `{"alg":"RS256","typ":"JWT"}`, valid, reasonHeader},
		{"no kid, x5t instead", `{"alg":"RS256","typ":"JWT","x5t":"` + testKID + `"}`, valid, reasonHeader},
		{"typ JWE", `{"alg":"RS256","typ":"JWE",` + kid + `}`, valid, reasonHeader},
		{"typ not a string", `{"alg":"RS256","typ":1,` + kid + `}`, valid, reasonHeader},
		{"alg escaped", `{"alg":"RS\u0032\u0035\u0036","typ":"JWT",` + kid + `}`, valid, reasonAlgorithm},
		{"exp a string", rawHeader, withTime("exp", `"`+jsonNumber(exp)+`"`), reasonMalformed},
		{"exp null", rawHeader, withTime("exp", `null`), reasonMalformed},
		{"exp true", rawHeader, withTime("exp", `true`), reasonMalformed},
		{"exp an object", rawHeader, withTime("exp", `{"n":1}`), reasonMalformed},
		{"nbf a string", rawHeader, withTime("nbf", `"`+jsonNumber(testNow.Add(-time.Minute).Unix())+`"`), reasonMalformed},
		{"iat a string", rawHeader, withTime("iat", `"`+jsonNumber(testNow.Add(-time.Minute).Unix())+`"`), reasonMalformed},
		{"iat an array", rawHeader, withTime("iat", `[1]`), reasonMalformed},

		// What Entra does send, and what is harmless, still passes.
		{"Entra's header", rawHeader, valid, ""},
		{"v1 header with x5t", `{"typ":"JWT","alg":"RS256","x5t":"` + testKID + `",` + kid + `}`, valid, ""},
		{"no typ", `{"alg":"RS256",` + kid + `}`, valid, ""},
		{"typ in lower case", `{"alg":"RS256","typ":"jwt",` + kid + `}`, valid, ""},
		{"spaces in the header", `{ "alg" : "RS256" , ` + kid + ` }`, valid, ""},
		{"exp a fraction", rawHeader, withTime("exp", jsonNumber(exp)+".5"), ""},
		{"exp with an exponent", rawHeader, withTime("exp", `1.750003600e9`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := &countingKeys{inner: testKeySource(t)}
			v, err := NewVerifier(testConfig(), keys)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), signRaw(t, trusted, tt.header, tt.payload))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v, want success", err)
				}
				if n := keys.lookups.Load(); n != 1 {
					t.Errorf("%d key lookups for an accepted token, want 1", n)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted a token signed by the trusted key, want reason %q", tt.reason)
			}
			if got := tokenReason(t, err); got != tt.reason {
				t.Errorf("reason = %q, want %q (error: %v)", got, tt.reason, err)
			}
			if n := keys.lookups.Load(); n != 0 {
				t.Errorf("%d key lookups before the refusal, want none (no RSA work)", n)
			}
		})
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestEasyAuthRefusesExpiredPrincipals: a principal whose exp has passed
// by more than the leeway tokens get is refused, at the same boundary as
// golang-jwt's (refused when now is at or past exp + leeway).
func TestEasyAuthRefusesExpiredPrincipals(t *testing.T) {
	exp := func(d time.Duration) []string {
		return []string{"exp", jsonNumber(testNow.Add(d).Unix())}
	}
	tests := []struct {
		name   string
		claims []string
		reason string // "" means accepted
	}{
		{"expired beyond the leeway", exp(-MaxLeeway - time.Second), reasonExpired},
		{"expired exactly at the end of the leeway", exp(-MaxLeeway), reasonExpired},
		{"expired long ago", exp(-30 * 24 * time.Hour), reasonExpired},
		{"expired within the leeway", exp(-MaxLeeway + time.Second), ""},
		{"expired a moment ago", exp(-time.Second), ""},
		{"not expired", exp(time.Hour), ""},
		{"no exp", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := EasyAuth(EasyAuthConfig{TenantID: testTenant, Now: testNowFunc})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/api/Me", nil)
			r.Header.Set(HeaderClientPrincipal, eaPrincipal(t, "aad", append([]string{"oid", testOID, "tid", testTenant}, tt.claims...)...))
			r.Header.Set(HeaderClientPrincipalIDP, "aad")
			p, err := a.Authenticate(r)
			if tt.reason == "" {
				if err != nil || p == nil {
					t.Fatalf("Authenticate: %v, want the principal", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Authenticate accepted the principal %+v, want reason %q", p, tt.reason)
			}
			if got := tokenReason(t, err); got != tt.reason {
				t.Errorf("reason = %q, want %q (error: %v)", got, tt.reason, err)
			}
			if p != nil {
				t.Errorf("a principal came with the refusal: %+v", p)
			}
		})
	}
}

package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
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
// MaxTokenBytes, JSON escapes and base64 included.
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
	// Each message becomes a log line's error field whole.
	bounded := func(t *testing.T, err error) { checkBoundedText(t, err.Error()) }
	cases := []verifyCase{
		{name: "kid", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT","kid":`+h+`}`, payload()), reason: reasonUnknownKey, checkErr: bounded},
		{name: "alg", token: signRaw(t, trusted, `{"alg":`+h+`,"typ":"JWT","kid":"`+testKID+`"}`, payload()), reason: reasonAlgorithm, checkErr: bounded},
		{name: "alg not a string", token: signRaw(t, trusted, `{"alg":[`+h+`],"typ":"JWT","kid":"`+testKID+`"}`, payload()), reason: reasonAlgorithm, checkErr: bounded},
		{name: "typ", token: signRaw(t, trusted, `{"alg":"RS256","typ":`+h+`,"kid":"`+testKID+`"}`, payload()), reason: reasonHeader, checkErr: bounded},
		// Twice 5 KB: a token has room for no more.
		{name: "header member name", token: signRaw(t, trusted, `{"alg":"RS256","kid":"`+testKID+`",`+jsonString(t, hostile[:5<<10])+`:1,`+jsonString(t, hostile[:5<<10])+`:2}`, payload()), reason: reasonHeader, checkErr: bounded},
		{name: "iss", token: signRS256(t, claimsWith(v2Claims(), "iss", hostile)), reason: reasonIssuer, checkErr: bounded},
		{name: "aud", token: signRS256(t, claimsWith(v2Claims(), "aud", hostile)), reason: reasonAudience, checkErr: bounded},
		{name: "tid", token: signRS256(t, claimsWith(v2Claims(), "tid", hostile)), reason: reasonTenant, checkErr: bounded},
		{name: "ver", token: signRS256(t, claimsWith(v2Claims(), "ver", hostile)), reason: reasonVersion, checkErr: bounded},
	}
	for _, c := range cases {
		if len(c.token) > MaxTokenBytes {
			t.Fatalf("%s: the token is %d bytes, over the size limit: it would be refused unread", c.name, len(c.token))
		}
	}
	runVerifyCases(t, cases)
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
// refused with no key lookup (runVerifyCases counts them) cost no RSA
// verification, where a kid-less one cost one per key of the set.
func TestVerifyRefusesWhatEntraNeverSends(t *testing.T) {
	trusted, _ := testKeys(t)
	kid := `"kid":"` + testKID + `"`
	valid := rawPayload(t, v2Claims())
	exp := testNow.Add(time.Hour).Unix()
	withTime := func(name, raw string) string {
		return rawPayload(t, claimsWith(v2Claims(), name, nil), `"`+name+`":`+raw)
	}
	runVerifyCases(t, []verifyCase{
		{name: "crit", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT",`+kid+`,"crit":["exp"],"exp":1}`, valid), reason: reasonHeader},
		{name: "empty crit", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT",`+kid+`,"crit":[]}`, valid), reason: reasonHeader},
		{name: "b64 false", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT",`+kid+`,"b64":false,"crit":["b64"]}`, valid), reason: reasonHeader},
		{name: "b64 true", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT",`+kid+`,"b64":true}`, valid), reason: reasonHeader},
		{name: "zip", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT",`+kid+`,"zip":"DEF"}`, valid), reason: reasonHeader},
		// golang-jwt keeps the last copy of a member; another reader may
		// take the first.
		{name: "kid twice", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT","kid":"`+attackerKID+`",`+kid+`}`, valid), reason: reasonHeader},
		{name: "alg twice", token: signRaw(t, trusted, `{"alg":"none","alg":"RS256","typ":"JWT",`+kid+`}`, valid), reason: reasonHeader},
		{name: "typ twice", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT","typ":"JWT",`+kid+`}`, valid), reason: reasonHeader},
		{name: "kid twice, one escaped", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT",`+kid+`,"k\u0069d":"`+testKID+`"}`, valid), reason: reasonHeader},
		{name: "no kid", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT"}`, valid), reason: reasonHeader},
		{name: "no kid, x5t instead", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWT","x5t":"`+testKID+`"}`, valid), reason: reasonHeader},
		{name: "typ JWE", token: signRaw(t, trusted, `{"alg":"RS256","typ":"JWE",`+kid+`}`, valid), reason: reasonHeader},
		{name: "typ not a string", token: signRaw(t, trusted, `{"alg":"RS256","typ":1,`+kid+`}`, valid), reason: reasonHeader},
		{name: "alg escaped", token: signRaw(t, trusted, `{"alg":"RS\u0032\u0035\u0036","typ":"JWT",`+kid+`}`, valid), reason: reasonAlgorithm},
		{name: "exp a string", token: signRaw(t, trusted, rawHeader, withTime("exp", `"`+jsonNumber(exp)+`"`)), reason: reasonMalformed},
		{name: "exp null", token: signRaw(t, trusted, rawHeader, withTime("exp", `null`)), reason: reasonMalformed},
		{name: "exp true", token: signRaw(t, trusted, rawHeader, withTime("exp", `true`)), reason: reasonMalformed},
		{name: "exp an object", token: signRaw(t, trusted, rawHeader, withTime("exp", `{"n":1}`)), reason: reasonMalformed},
		{name: "nbf a string", token: signRaw(t, trusted, rawHeader, withTime("nbf", `"`+jsonNumber(testNow.Add(-time.Minute).Unix())+`"`)), reason: reasonMalformed},
		{name: "iat a string", token: signRaw(t, trusted, rawHeader, withTime("iat", `"`+jsonNumber(testNow.Add(-time.Minute).Unix())+`"`)), reason: reasonMalformed},
		{name: "iat an array", token: signRaw(t, trusted, rawHeader, withTime("iat", `[1]`)), reason: reasonMalformed},

		// What Entra does send, and what is harmless, still passes.
		{name: "Entra's header", token: signRaw(t, trusted, rawHeader, valid)},
		{name: "v1 header with x5t", token: signRaw(t, trusted, `{"typ":"JWT","alg":"RS256","x5t":"`+testKID+`",`+kid+`}`, valid)},
		{name: "no typ", token: signRaw(t, trusted, `{"alg":"RS256",`+kid+`}`, valid)},
		{name: "typ in lower case", token: signRaw(t, trusted, `{"alg":"RS256","typ":"jwt",`+kid+`}`, valid)},
		{name: "spaces in the header", token: signRaw(t, trusted, `{ "alg" : "RS256" , `+kid+` }`, valid)},
		{name: "exp a fraction", token: signRaw(t, trusted, rawHeader, withTime("exp", jsonNumber(exp)+".5"))},
		{name: "exp with an exponent", token: signRaw(t, trusted, rawHeader, withTime("exp", `1.750003600e9`))},
	})
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
		{"expired beyond the leeway", exp(-maxLeeway - time.Second), reasonExpired},
		{"expired exactly at the end of the leeway", exp(-maxLeeway), reasonExpired},
		{"expired long ago", exp(-30 * 24 * time.Hour), reasonExpired},
		{"expired within the leeway", exp(-maxLeeway + time.Second), ""},
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

// TestPrincipalLogValueIsEscaped: a principal logged whole shows its oid
// and tid escaped and cut, as the request log does: an Easy Auth
// principal's are whatever its header said, and a right-to-left override
// or a zero-width character in them would reach a log viewer raw.
func TestPrincipalLogValueIsEscaped(t *testing.T) {
	for _, c := range []struct{ name, raw, escaped string }{
		{"right-to-left override", "\u202e", `\u202e`},
		{"left-to-right isolate", "\u2066", `\u2066`},
		{"zero-width space", "\u200b", `\u200b`},
		{"byte order mark", "\ufeff", `\ufeff`},
		{"line separator", "\u2028", `\u2028`},
		{"escape", "\x1b", `\x1b`},
		{"invalid byte", "\xff", `\xff`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf strings.Builder
			p := &Principal{ObjectID: "oid" + c.raw + strings.Repeat("o", 4<<10), TenantID: "tid" + c.raw}
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("caller", "p", p)
			var line struct{ P struct{ OID, TID string } }
			if err := json.Unmarshal([]byte(buf.String()), &line); err != nil {
				t.Fatal(err)
			}
			if line.P.TID != "tid"+c.escaped || !strings.HasPrefix(line.P.OID, "oid"+c.escaped) || len(line.P.OID) > 128+len("…") {
				t.Errorf("logged oid %.40q (%d bytes), tid %q", line.P.OID, len(line.P.OID), line.P.TID)
			}
			if strings.Contains(buf.String(), c.raw) {
				t.Errorf("the log holds %q raw: %.200s", c.raw, buf.String())
			}
		})
	}
}

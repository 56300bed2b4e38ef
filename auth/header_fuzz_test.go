package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzTokenHeader feeds checkHeader, the first decoder a token meets,
// arbitrary JOSE headers in an otherwise well-formed three-segment token.
// A header it lets through must be one golang-jwt reads the same way: a
// JSON object with no member twice (so that the first and the last copy
// cannot differ), alg exactly "RS256", a kid, typ JWT or none, and none of
// the members that change how a token is read. A header it refuses gets a
// TokenError with the reason header, algorithm or malformed, whose text is
// bounded and free of control characters, since it becomes a log line.
func FuzzTokenHeader(f *testing.F) {
	for _, h := range []string{
		rawHeader,
		`{"typ":"JWT","alg":"RS256","x5t":"` + testKID + `","kid":"` + testKID + `"}`,
		`{"alg":"RS256","kid":"` + testKID + `"}`,
		`{ "alg" : "RS256" , "kid" : "k" }`,
		`{"alg":"RS256","typ":"jwt","kid":"k"}`,
		`{"alg":"RS256","kid":"k","crit":["exp"]}`,
		`{"alg":"RS256","kid":"k","b64":false}`,
		`{"alg":"RS256","kid":"k","zip":"DEF"}`,
		`{"alg":"none","alg":"RS256","kid":"k"}`,
		`{"alg":"RS256","kid":"a","k\u0069d":"b"}`,
		`{"alg":"RS\u0032\u0035\u0036","kid":"k"}`,
		`{"alg":"HS256","kid":"k"}`,
		`{"alg":["RS256"],"kid":"k"}`,
		`{"alg":"RS256","typ":1,"kid":"k"}`,
		`{"alg":"RS256","typ":"JWE","kid":"k"}`,
		`{"alg":"RS256","kid":"k"} {}`,
		`{"alg":"RS256","kid":"k"`,
		`{"alg":"RS256"}`,
		`{"alg":"RS256","kid":null}`,
		`{"alg":"RS256","kid":"k","jku":"http://127.0.0.1/"}`,
		`[]`, `null`, `""`, ``, "\xff", `{"\u0000":1}`,
	} {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, header []byte) {
		raw := base64.RawURLEncoding.EncodeToString(header) + ".e30.c2ln"
		err := checkHeader(raw)
		if err != nil {
			var te *TokenError
			if !errors.As(err, &te) || !slices.Contains([]string{reasonHeader, reasonAlgorithm, reasonMalformed}, te.Reason) {
				t.Fatalf("header %q: error %v (%T), want a TokenError for header, algorithm or malformed", header, err, err)
			}
			checkBoundedText(t, err.Error())
			return
		}
		// The same bytes as golang-jwt's encoding/json reads them.
		var m map[string]json.RawMessage
		if uerr := json.Unmarshal(header, &m); uerr != nil || m == nil {
			t.Fatalf("accepted a header that is not a JSON object: %q (%v)", header, uerr)
		}
		if string(m["alg"]) != `"RS256"` {
			t.Fatalf("accepted alg %s in %q", m["alg"], header)
		}
		if _, ok := m["kid"]; !ok {
			t.Fatalf("accepted a header without kid: %q", header)
		}
		for _, name := range refusedHeaderMembers {
			if _, ok := m[name]; ok {
				t.Fatalf("accepted a header with %s: %q", name, header)
			}
		}
		if typ, ok := m["typ"]; ok {
			var s string
			if json.Unmarshal(typ, &s) != nil || !strings.EqualFold(s, "JWT") {
				t.Fatalf("accepted typ %s in %q", typ, header)
			}
		}
		// No member twice, by its unescaped name: encoding/json keeps
		// the last copy, another reader the first.
		seen := map[string]bool{}
		if eerr := eachMember(string(header), func(name, _ string) error {
			if seen[name] {
				t.Fatalf("accepted %q, twice in %q", name, header)
			}
			seen[name] = true
			return nil
		}); eerr != nil {
			t.Fatalf("accepted a header eachMember refuses: %q (%v)", header, eerr)
		}
	})
}

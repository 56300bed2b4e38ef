package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

// refusedHeaderMembers are JOSE header members that change how a token
// must be read, and that Entra never sends. A recipient that does not
// implement them must refuse the token rather than ignore them:
//
//   - crit lists extensions the recipient must understand (RFC 7515
//     §4.1.11); this package understands none.
//   - b64 false (RFC 7797) signs the payload unencoded, so the bytes
//     golang-jwt verifies would not be the bytes the issuer signed.
//   - zip (RFC 7516 §4.1.3) compresses a JWE's plaintext; in a JWS it has
//     no meaning, and RFC 8725 §3.6 advises against compression at all.
var refusedHeaderMembers = []string{"crit", "b64", "zip"}

// checkHeader judges a token's JOSE header the way Entra writes it (typ
// JWT, alg RS256, a kid) before any key is looked up, so that a token this
// package would refuse anyway costs no RSA verification, and a token
// without a kid is not tried against every key of the set. It also parses
// the header itself to refuse a member given twice: golang-jwt's
// encoding/json keeps the last copy, where another reader might take the
// first (RFC 7515 §4 lets a parser refuse, and this one does).
//
// Its errors are TokenErrors; a token that is not three segments is left
// to golang-jwt, which calls it malformed.
func checkHeader(raw string) error {
	if strings.Count(raw, ".") != 2 {
		// A JWE's five segments, a truncated copy: not a JWS at all.
		return nil
	}
	seg, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return invalidToken(reasonMalformed, errors.New("the header is not base64url"))
	}
	members := make(map[string]json.RawMessage, 4)
	err = eachMember(b, func(name string, v json.RawMessage) error {
		if _, dup := members[name]; dup {
			return invalidToken(reasonHeader, fmt.Errorf("header member %s given twice", bounded.Quote(name)))
		}
		members[name] = v
		return nil
	})
	var te *TokenError
	if errors.As(err, &te) {
		return err
	}
	if err != nil {
		// The decoder's messages name at most one character, escaped.
		return invalidToken(reasonMalformed, fmt.Errorf("the header is not a JSON object: %w", err))
	}
	if alg, ok := members["alg"]; !ok || string(alg) != `"RS256"` {
		// Compared as written: Entra writes "RS256" plainly, and an
		// escaped or otherwise spelled alg is an attempt at something.
		return invalidToken(reasonAlgorithm, fmt.Errorf("algorithm %s is not RS256", jsonText(alg)))
	}
	for _, name := range refusedHeaderMembers {
		if _, ok := members[name]; ok {
			return invalidToken(reasonHeader, fmt.Errorf("header member %s: Entra never sends it, and it changes how the token must be read", name))
		}
	}
	if typ, ok := members["typ"]; ok {
		var s string
		if json.Unmarshal(typ, &s) != nil || !bounded.EqualFold(s, "JWT") {
			return invalidToken(reasonHeader, fmt.Errorf("typ %s is not JWT", jsonText(typ)))
		}
	}
	if _, ok := members["kid"]; !ok {
		// Entra always names the signing key. Without a kid, keyfunc
		// would hand golang-jwt every key of the set to try, one RSA
		// verification each, for a token that is forged or not Entra's.
		return invalidToken(reasonHeader, errors.New("no kid: the token does not name its signing key"))
	}
	return nil
}

// jsonText renders a header member's value for a message: a string as the
// string, anything else as its JSON, bounded and quoted either way.
func jsonText(v json.RawMessage) string {
	if v == nil {
		return "(absent)"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return bounded.Quote(s)
	}
	return bounded.Quote(string(v))
}

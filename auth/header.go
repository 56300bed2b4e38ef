package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

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

// member is one member of a JSON object: its name, unescaped, and its
// value as written.
type member struct{ name, raw string }

// checkHeader judges raw's JOSE header as [Verifier.Verify] does, for
// tests: nil when a three-segment raw's header is one Entra writes.
func checkHeader(raw string) error {
	h, _, _, ok := splitToken(raw)
	if !ok {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return invalidToken(reasonMalformed, errors.New("the header is not base64url"))
	}
	var buf [8]member
	_, err = judgeHeader(string(b), buf[:0])
	return err
}

// judgeHeader judges a token's JOSE header, h decoded, the way Entra
// writes it (typ JWT, alg RS256, a kid) before any key is looked up, so
// that a token this package would refuse anyway costs no RSA
// verification, and a token without a kid is not tried against every key
// of the set. It also refuses a member given twice: encoding/json keeps
// the last copy, where another reader might take the first (RFC 7515 §4
// lets a parser refuse, and this one does). It appends h's members to ms
// and returns them.
//
// Its errors are TokenErrors.
func judgeHeader(h string, ms []member) ([]member, error) {
	if err := checkJSON([]byte(h)); err != nil {
		// The decoder's messages name at most one character, escaped.
		return nil, invalidToken(reasonMalformed, fmt.Errorf("the header is not a JSON object: %w", err))
	}
	obj, ok := jsonObject(h)
	if !ok {
		return nil, invalidToken(reasonMalformed, fmt.Errorf("the header is not a JSON object: %w", errNotObject))
	}
	for m := (members{s: obj}); m.next(); {
		ms = append(ms, member{m.name, m.raw})
	}
	if err := checkDuplicates(ms); err != nil {
		return nil, err
	}
	var alg, typ, kid *member
	for i := range ms {
		switch ms[i].name {
		case "alg":
			alg = &ms[i]
		case "typ":
			typ = &ms[i]
		case "kid":
			kid = &ms[i]
		}
	}
	if alg == nil || alg.raw != `"RS256"` {
		// Compared as written: Entra writes "RS256" plainly, and an
		// escaped or otherwise spelled alg is an attempt at something.
		return nil, invalidToken(reasonAlgorithm, fmt.Errorf("algorithm %s is not RS256", jsonText(alg)))
	}
	for _, name := range refusedHeaderMembers {
		for i := range ms {
			if ms[i].name == name {
				return nil, invalidToken(reasonHeader, fmt.Errorf("header member %s: Entra never sends it, and it changes how the token must be read", name))
			}
		}
	}
	if typ != nil {
		if s, ok := plainString(typ.raw); !ok && json.Unmarshal([]byte(typ.raw), &s) != nil || !bounded.EqualFold(s, "JWT") {
			return nil, invalidToken(reasonHeader, fmt.Errorf("typ %s is not JWT", jsonText(typ)))
		}
	}
	if kid == nil {
		// Entra always names the signing key. Without a kid, keyfunc
		// would hand golang-jwt every key of the set to try, one RSA
		// verification each, for a token that is forged or not Entra's.
		return nil, invalidToken(reasonHeader, errors.New("no kid: the token does not name its signing key"))
	}
	return ms, nil
}

// checkDuplicates refuses the first of ms whose name an earlier one has:
// pair by pair for the few members Entra sends, by a map for more.
func checkDuplicates(ms []member) error {
	if len(ms) <= 16 {
		for i := range ms {
			for j := range i {
				if ms[j].name == ms[i].name {
					return duplicateMember(ms[i].name)
				}
			}
		}
		return nil
	}
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		if seen[m.name] {
			return duplicateMember(m.name)
		}
		seen[m.name] = true
	}
	return nil
}

func duplicateMember(name string) error {
	return invalidToken(reasonHeader, fmt.Errorf("header member %s given twice", bounded.Quote(name)))
}

// jsonText renders a header member's value for a message: a string as the
// string, anything else as its JSON, bounded and quoted either way.
func jsonText(m *member) string {
	if m == nil {
		return "(absent)"
	}
	var s string
	if json.Unmarshal([]byte(m.raw), &s) == nil {
		return bounded.Quote(s)
	}
	return bounded.Quote(m.raw)
}

package entratest

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Kind is what a minted token is for.
type Kind int

// The kinds of token.
const (
	// Delegated is an access token for the API on a user's behalf: scp,
	// and the user's oid and profile claims.
	Delegated Kind = iota
	// AppOnly is an access token from the client credentials flow: roles
	// instead of scp, idtyp=app, and the app's service principal as oid
	// and sub.
	AppOnly
	// IDToken is an OpenID Connect ID token: the client app as audience,
	// and no scp.
	IDToken
)

// Token describes a token to mint. Empty fields take the defaults shown.
type Token struct {
	Kind Kind
	// Version is ver, and picks the iss and the claims Entra puts in that
	// version. Default: V2.
	Version Version
	// KeyID is the signing key; see [Issuer.Sign]. Default: the first
	// published key.
	KeyID string
	// Audience is aud. Default: the API's client id for v2 access tokens,
	// its App ID URI for v1, the client app for ID tokens.
	Audience string
	// ClientAppID is the calling app: azp in v2, appid in v1 (and aud of
	// an ID token). Default: DefaultClientAppID.
	ClientAppID string
	// Scopes are scp, space-separated, for delegated tokens. Default:
	// DefaultScope. To leave scp out, set it to nil in Claims.
	Scopes []string
	// Roles are roles: app roles of the user, or an app-only token's
	// application permissions. Default: none.
	Roles []string
	// ObjectID is oid. Default: DefaultUserObjectID, or
	// DefaultAppObjectID for app-only tokens.
	ObjectID string
	// Name and Username are the profile: name, and preferred_username in
	// v2 or upn and unique_name in v1. Defaults: "Ada Lovelace" and
	// "ada@contoso.onmicrosoft.com".
	Name, Username string
	// Groups is groups. Default: none.
	Groups []string
	// IssuedAt is iat and nbf. Default: a minute before the issuer's Now.
	IssuedAt time.Time
	// Lifetime runs from IssuedAt to exp. Default: one hour (Entra's are 60
	// to 90 minutes).
	Lifetime time.Duration
	// Claims are set last, over the rest; a nil value removes the claim.
	Claims map[string]any
	// Header entries are set over the default header (typ, alg, kid, and
	// x5t for v1); a nil value removes the entry.
	Header map[string]any
}

// Mint signs the token t describes.
func (is *Issuer) Mint(t Token) string {
	return is.sign(t.KeyID, is.Claims(t), t.Header)
}

// Claims returns the claims of the token t describes, unsigned, for a test
// that changes them before [Issuer.Sign].
func (is *Issuer) Claims(t Token) map[string]any {
	v := t.Version
	if v == "" {
		v = V2
	}
	iat := t.IssuedAt
	if iat.IsZero() {
		iat = is.cfg.Now().Add(-time.Minute)
	}
	life := t.Lifetime
	if life == 0 {
		life = time.Hour
	}
	client := or(t.ClientAppID, DefaultClientAppID)
	name := or(t.Name, "Ada Lovelace")
	username := or(t.Username, "ada@contoso.onmicrosoft.com")
	c := map[string]any{
		"iss": is.IssuerURL(v),
		"iat": iat.Unix(),
		"nbf": iat.Unix(),
		"exp": iat.Add(life).Unix(),
		"tid": is.cfg.TenantID,
		"ver": string(v),
		"aio": "AVQAq/8TAAAA" + randomID(12),
		"rh":  "0.AXEAoaGNJrSduUix_mgyULqQzA.",
		"uti": randomID(16),
	}
	switch t.Kind {
	case AppOnly:
		oid := or(t.ObjectID, DefaultAppObjectID)
		c["aud"] = or(t.Audience, is.audience(v))
		c["oid"], c["sub"], c["idtyp"] = oid, oid, "app"
		if v == V1 {
			c["appid"], c["appidacr"], c["idp"] = client, "1", is.IssuerURL(V1)
		} else {
			c["azp"], c["azpacr"] = client, "1"
		}
	case IDToken:
		c["aud"] = or(t.Audience, client)
		c["oid"], c["sub"], c["name"] = or(t.ObjectID, DefaultUserObjectID), "kXERk3Sn56ZH3zTvEb0IxpflLdWoMzulDO6s1fCDdow", name
		if v == V1 {
			c["amr"], c["unique_name"], c["upn"] = []string{"pwd"}, username, username
		} else {
			c["preferred_username"] = username
		}
	default:
		scopes := t.Scopes
		if len(scopes) == 0 {
			scopes = []string{DefaultScope}
		}
		c["aud"] = or(t.Audience, is.audience(v))
		c["scp"] = strings.Join(scopes, " ")
		c["oid"], c["name"] = or(t.ObjectID, DefaultUserObjectID), name
		if v == V1 {
			c["sub"] = "Ku2-Ft9lY9i2Bvfhmq4166ZH3kWH4WXtmzG9M-8MFac"
			c["acr"], c["amr"], c["appid"], c["appidacr"] = "1", []string{"pwd"}, client, "0"
			c["family_name"], c["given_name"], c["ipaddr"] = "Lovelace", "Ada", "203.0.113.7"
			c["unique_name"], c["upn"] = username, username
		} else {
			c["sub"] = "kXERk3Sn56ZH3zTvEb0IxpflLdWoMzulDO6s1fCDdow"
			c["azp"], c["azpacr"], c["preferred_username"] = client, "0", username
		}
	}
	if len(t.Roles) > 0 {
		c["roles"] = t.Roles
	}
	if len(t.Groups) > 0 {
		c["groups"] = t.Groups
	}
	for k, val := range t.Claims {
		if val == nil {
			delete(c, k)
			continue
		}
		c[k] = val
	}
	return c
}

// Sign signs claims, as they are, with the key kid: an empty kid is the
// first published key, and a kid the issuer has never seen gets a new key
// that nobody publishes. The header is Entra's: typ, alg RS256, kid, and
// for claims with ver 1.0 also x5t.
func (is *Issuer) Sign(kid string, claims map[string]any) string {
	return is.sign(kid, claims, nil)
}

func (is *Issuer) sign(kid string, claims map[string]any, header map[string]any) string {
	k := is.signer(kid)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	tok.Header["kid"] = k.kid
	if claims["ver"] == string(V1) {
		tok.Header["x5t"] = k.x5t
	}
	for name, val := range header {
		if val == nil {
			delete(tok.Header, name)
			continue
		}
		tok.Header[name] = val
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		panic("entratest: signing: " + err.Error())
	}
	return s
}

// audience is an access token's default aud: v2 tokens always carry the
// client id, v1 tokens the resource the client asked for.
func (is *Issuer) audience(v Version) string {
	if v == V1 {
		return is.cfg.AppIDURI
	}
	return is.cfg.ClientID
}

// randomID is n random bytes, base64url: distinct uti values, so that two
// minted tokens are never the same string (a cache would take them for
// one).
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// OfLength returns a token exactly n bytes long, or "" if mint cannot make
// one. mint makes a token with a header member of headerPad and a claim of
// claimPad: OfLength searches for the claim's length, and tries a few
// header lengths for the token lengths that base64 skips. For tests of
// size limits at the byte.
func OfLength(n int, mint func(headerPad, claimPad string) string) string {
	for h := 0; h < 4; h++ {
		for lo, hi := 0, n; lo <= hi; {
			pad := (lo + hi) / 2
			tok := mint(strings.Repeat("h", h), strings.Repeat("p", pad))
			switch {
			case len(tok) == n:
				return tok
			case len(tok) < n:
				lo = pad + 1
			default:
				hi = pad - 1
			}
		}
	}
	return ""
}

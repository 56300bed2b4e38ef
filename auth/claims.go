package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/golang-jwt/jwt/v5"
)

// errDuplicateClaim is reported when a token holds the same security claim
// twice, exactly or in another case ("tid" and "TID"). encoding/json would
// silently keep one of them, and which one an attacker can choose.
var errDuplicateClaim = errors.New("duplicate claim")

// claims is an Entra access token's payload, as [decodeClaims] reads it.
type claims struct {
	jwt.RegisteredClaims

	TenantID          string
	ObjectID          string
	Name              string
	PreferredUsername string
	UPN               string
	UniqueName        string
	Scope             string
	Roles             []string
	Groups            []string
	AppID             string
	AuthorizedParty   string
	Version           string
	IDType            string
	GroupsOverage     bool
}

// securityClaim numbers the claims whose duplicates make a token invalid,
// by their lower-case names; -1 for any other claim.
func securityClaim(lower string) int {
	switch lower {
	case "iss":
		return 0
	case "sub":
		return 1
	case "aud":
		return 2
	case "exp":
		return 3
	case "nbf":
		return 4
	case "iat":
		return 5
	case "tid":
		return 6
	case "oid":
		return 7
	case "scp":
		return 8
	case "roles":
		return 9
	case "groups":
		return 10
	case "appid":
		return 11
	case "azp":
		return 12
	case "ver":
		return 13
	case "idtyp":
		return 14
	case "_claim_names":
		return 15
	}
	return -1
}

// decodeClaims decodes a token's payload, b, as golang-jwt's parser
// decoded it into a claims struct: JSON first checked whole, null left as
// no claims at all, and then each member in turn, in one pass. Its errors
// are the parser's, worded as it words them: malformed, or a duplicate
// claim.
func decodeClaims(b []byte) (*claims, error) {
	c := new(claims)
	if err := checkJSON(b); err != nil {
		return nil, jwtError("could not JSON decode claim", jwt.ErrTokenMalformed, err)
	}
	s := string(b)
	if strings.Trim(s, " \t\r\n") == "null" {
		// encoding/json's null into a Claims: no claims at all, and
		// the validator refuses the token for its missing exp.
		return c, nil
	}
	if err := c.decode(s); err != nil {
		return nil, jwtError("could not JSON decode claim", jwt.ErrTokenMalformed, err)
	}
	return c, nil
}

// decode reads s, valid JSON, with exact, case-sensitive claim names:
// encoding/json's case-insensitive matching would otherwise let "TID"
// stand in for "tid". A security claim given twice, in any letter case,
// is an errDuplicateClaim.
func (c *claims) decode(s string) error {
	obj, ok := jsonObject(s)
	if !ok {
		return errNotObject
	}
	var seen uint32
	for m := (members{s: obj}); m.next(); {
		if i := securityClaim(strings.ToLower(m.name)); i >= 0 {
			if seen&(1<<i) != 0 {
				return fmt.Errorf("%w: %s", errDuplicateClaim, bounded.Quote(m.name))
			}
			seen |= 1 << i
		}
		if err := c.set(m.name, m.raw); err != nil {
			return fmt.Errorf("claim %s: %w", bounded.Quote(m.name), err)
		}
	}
	return nil
}

// set decodes the claim name from raw, valid JSON, as encoding/json
// decodes it into the field's type; a plain string (or array of them) is
// taken as it is written, which is what encoding/json would make of it.
func (c *claims) set(name, raw string) error {
	switch name {
	case "iss":
		return setString(&c.Issuer, raw)
	case "sub":
		return setString(&c.Subject, raw)
	case "aud":
		if s, ok := plainString(raw); ok {
			c.Audience = jwt.ClaimStrings{s}
			return nil
		}
		if list, ok := plainStrings(raw); ok {
			// As jwt.ClaimStrings decodes them: an empty array is none.
			c.Audience = nil
			if len(list) > 0 {
				c.Audience = list
			}
			return nil
		}
		return json.Unmarshal([]byte(raw), &c.Audience)
	case "exp":
		return setDate(&c.ExpiresAt, raw)
	case "nbf":
		return setDate(&c.NotBefore, raw)
	case "iat":
		return setDate(&c.IssuedAt, raw)
	case "jti":
		return setString(&c.ID, raw)
	case "tid":
		return setString(&c.TenantID, raw)
	case "oid":
		return setString(&c.ObjectID, raw)
	case "name":
		return setString(&c.Name, raw)
	case "preferred_username":
		return setString(&c.PreferredUsername, raw)
	case "upn":
		return setString(&c.UPN, raw)
	case "unique_name":
		return setString(&c.UniqueName, raw)
	case "scp":
		return setString(&c.Scope, raw)
	case "roles":
		return setStrings(&c.Roles, raw)
	case "groups":
		return setStrings(&c.Groups, raw)
	case "appid":
		return setString(&c.AppID, raw)
	case "azp":
		return setString(&c.AuthorizedParty, raw)
	case "ver":
		return setString(&c.Version, raw)
	case "idtyp":
		return setString(&c.IDType, raw)
	case "_claim_names":
		var names map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &names); err != nil {
			return err
		}
		_, c.GroupsOverage = names["groups"]
	}
	return nil
}

func setString(dst *string, raw string) error {
	if s, ok := plainString(raw); ok {
		*dst = s
		return nil
	}
	return json.Unmarshal([]byte(raw), dst)
}

func setStrings(dst *[]string, raw string) error {
	if list, ok := plainStrings(raw); ok {
		*dst = list
		return nil
	}
	return json.Unmarshal([]byte(raw), dst)
}

// setDate decodes a NumericDate. RFC 7519 §2 makes it a JSON number.
// jwt.NumericDate decodes through json.Number, which also takes a string
// such as "1750003600": no issuer sends that, and a reader that does not
// take it would see no exp at all. The conversion is NumericDate's own
// (newNumericDateFromSeconds, jwt/types.go), without its second decode;
// an out-of-range number is refused, quoted bounded.
func setDate(dst **jwt.NumericDate, raw string) error {
	if !isJSONNumber(raw) {
		return errors.New("not a JSON number")
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			err = ne.Err
		}
		return fmt.Errorf("could not convert json number value to float: %s: %w", bounded.Quote(raw), err)
	}
	round, frac := math.Modf(f)
	*dst = jwt.NewNumericDate(time.Unix(int64(round), int64(frac*1e9)))
	return nil
}

// isJSONNumber reports whether raw, one JSON value, is a number: numbers
// alone start with a digit or a minus sign.
func isJSONNumber(raw string) bool {
	raw = strings.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9')
}

// principal turns verified claims into the caller's Principal. The
// strings it keeps are copied into one allocation of their own: the
// claims' strings point into the whole decoded payload, which a cached
// principal would otherwise hold on to.
func (c *claims) principal(src Source) *Principal {
	username := firstNonEmpty(c.PreferredUsername, c.UPN, c.UniqueName)
	client := firstNonEmpty(c.AuthorizedParty, c.AppID)
	n := len(c.TenantID) + len(c.ObjectID) + len(c.Name) + len(username) + len(client) + len(c.Version) + len(c.Scope)
	for _, s := range c.Roles {
		n += len(s)
	}
	for _, s := range c.Groups {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	keep := func(s string) string {
		at := b.Len()
		b.WriteString(s)
		return b.String()[at:]
	}
	p := &Principal{
		TenantID:      keep(c.TenantID),
		ObjectID:      keep(c.ObjectID),
		Name:          keep(c.Name),
		Username:      keep(username),
		Scopes:        strings.Fields(keep(c.Scope)),
		Roles:         keepAll(c.Roles, keep),
		Groups:        keepAll(c.Groups, keep),
		ClientAppID:   keep(client),
		TokenVersion:  keep(c.Version),
		Source:        src,
		AppOnly:       c.IDType == "app",
		GroupsOverage: c.GroupsOverage,
	}
	if p.Scopes == nil {
		p.Scopes = []string{}
	}
	if c.ExpiresAt != nil {
		p.ExpiresAt = c.ExpiresAt.Time
	}
	return p
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// keepAll returns keep of each of s, never nil.
func keepAll(s []string, keep func(string) string) []string {
	if len(s) == 0 {
		return []string{}
	}
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = keep(v)
	}
	return out
}

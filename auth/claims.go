package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/golang-jwt/jwt/v5"
)

// errDuplicateClaim is reported when a token holds the same security claim
// twice, exactly or in another case ("tid" and "TID"). encoding/json would
// silently keep one of them, and which one an attacker can choose.
var errDuplicateClaim = errors.New("duplicate claim")

// claims is an Entra access token's payload. It decodes itself with exact,
// case-sensitive claim names: encoding/json's case-insensitive matching
// would otherwise let "TID" stand in for "tid".
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

// securityClaims are the claims whose duplicates make a token invalid.
var securityClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true,
	"tid": true, "oid": true, "scp": true, "roles": true, "groups": true,
	"appid": true, "azp": true, "ver": true, "idtyp": true, "_claim_names": true,
}

func (c *claims) UnmarshalJSON(b []byte) error {
	seen := make(map[string]bool, 24)
	return eachMember(b, func(name string, raw json.RawMessage) error {
		if lower := strings.ToLower(name); securityClaims[lower] {
			if seen[lower] {
				return fmt.Errorf("%w: %s", errDuplicateClaim, bounded.Quote(name))
			}
			seen[lower] = true
		}
		if err := c.set(name, raw); err != nil {
			return fmt.Errorf("claim %s: %w", bounded.Quote(name), err)
		}
		return nil
	})
}

// eachMember calls fn with each member of the JSON object b, in order and
// with the names exactly as written, duplicates included: the decisions
// encoding/json makes silently (last one wins, any letter case matches)
// are the caller's to make. Data after the object is an error.
func eachMember(b []byte, fn func(name string, raw json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := fn(t.(string), raw); err != nil { // object keys are always strings
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

func (c *claims) set(name string, raw json.RawMessage) error {
	var dst any
	switch name {
	case "iss":
		dst = &c.Issuer
	case "sub":
		dst = &c.Subject
	case "aud":
		dst = &c.Audience
	case "exp", "nbf", "iat":
		// RFC 7519 §2 makes a NumericDate a JSON number. jwt.NumericDate
		// decodes through json.Number, which also takes a string such as
		// "1750003600": no issuer sends that, and a reader that does not
		// take it would see no exp at all.
		if !isJSONNumber(raw) {
			return errors.New("not a JSON number")
		}
		switch name {
		case "exp":
			dst = &c.ExpiresAt
		case "nbf":
			dst = &c.NotBefore
		default:
			dst = &c.IssuedAt
		}
	case "jti":
		dst = &c.ID
	case "tid":
		dst = &c.TenantID
	case "oid":
		dst = &c.ObjectID
	case "name":
		dst = &c.Name
	case "preferred_username":
		dst = &c.PreferredUsername
	case "upn":
		dst = &c.UPN
	case "unique_name":
		dst = &c.UniqueName
	case "scp":
		dst = &c.Scope
	case "roles":
		dst = &c.Roles
	case "groups":
		dst = &c.Groups
	case "appid":
		dst = &c.AppID
	case "azp":
		dst = &c.AuthorizedParty
	case "ver":
		dst = &c.Version
	case "idtyp":
		dst = &c.IDType
	case "_claim_names":
		var names map[string]json.RawMessage
		if err := json.Unmarshal(raw, &names); err != nil {
			return err
		}
		_, c.GroupsOverage = names["groups"]
		return nil
	default:
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// isJSONNumber reports whether raw, one JSON value, is a number: numbers
// alone start with a digit or a minus sign.
func isJSONNumber(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9')
}

// principal turns verified claims into the caller's Principal.
func (c *claims) principal(src Source) *Principal {
	p := &Principal{
		TenantID:      c.TenantID,
		ObjectID:      c.ObjectID,
		Name:          c.Name,
		Username:      firstNonEmpty(c.PreferredUsername, c.UPN, c.UniqueName),
		Scopes:        strings.Fields(c.Scope),
		Roles:         nonNil(c.Roles),
		Groups:        nonNil(c.Groups),
		ClientAppID:   firstNonEmpty(c.AuthorizedParty, c.AppID),
		TokenVersion:  c.Version,
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

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

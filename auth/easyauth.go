package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

// The headers App Service Authentication ("Easy Auth") sets on requests it
// has authenticated. External requests cannot set them, but only where
// Easy Auth really stands in front: see [EasyAuth].
const (
	HeaderClientPrincipal    = "X-MS-CLIENT-PRINCIPAL"
	HeaderClientPrincipalIDP = "X-MS-CLIENT-PRINCIPAL-IDP"
	headerAADAccessToken     = "X-MS-TOKEN-AAD-ACCESS-TOKEN"
)

// maxClientPrincipalBytes bounds the X-MS-CLIENT-PRINCIPAL header. A
// principal lists every claim of the token, base64-encoded, so it is a
// little larger than the token; anything past this bound is refused.
const maxClientPrincipalBytes = 32 << 10

// Claim types as Easy Auth writes them after its default claims mapping,
// and the short names it leaves alone.
const (
	claimOID        = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	claimTID        = "http://schemas.microsoft.com/identity/claims/tenantid"
	claimScope      = "http://schemas.microsoft.com/identity/claims/scope"
	claimRole       = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
	claimUPN        = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
	claimNameIDName = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
)

// clientPrincipal is the JSON inside X-MS-CLIENT-PRINCIPAL.
type clientPrincipal struct {
	AuthType string
	Claims   []claimPair
	NameType string
	RoleType string
}

type claimPair struct{ Type, Value string }

// decodeClientPrincipal decodes the principal JSON with exact member
// names, refusing a member given twice (in any letter case): which copy
// counts would otherwise be encoding/json's choice.
func decodeClientPrincipal(raw []byte) (clientPrincipal, error) {
	var cp clientPrincipal
	seen := map[string]bool{}
	once := func(name string) error {
		l := strings.ToLower(name)
		if seen[l] {
			return fmt.Errorf("member %s given twice", bounded.Quote(name))
		}
		seen[l] = true
		return nil
	}
	err := eachMember(string(raw), func(name string, v string) error {
		if err := once(name); err != nil {
			return err
		}
		switch name {
		case "auth_typ":
			return json.Unmarshal([]byte(v), &cp.AuthType)
		case "name_typ":
			return json.Unmarshal([]byte(v), &cp.NameType)
		case "role_typ":
			return json.Unmarshal([]byte(v), &cp.RoleType)
		case "claims":
			var list []json.RawMessage
			if err := json.Unmarshal([]byte(v), &list); err != nil {
				return err
			}
			cp.Claims = make([]claimPair, 0, len(list))
			for _, item := range list {
				var c claimPair
				got := map[string]bool{}
				err := eachMember(string(item), func(name string, v string) error {
					l := strings.ToLower(name)
					if got[l] {
						return fmt.Errorf("claim member %s given twice", bounded.Quote(name))
					}
					got[l] = true
					switch name {
					case "typ":
						return json.Unmarshal([]byte(v), &c.Type)
					case "val":
						return json.Unmarshal([]byte(v), &c.Value)
					}
					return nil
				})
				if err != nil {
					return err
				}
				cp.Claims = append(cp.Claims, c)
			}
		}
		return nil
	})
	return cp, err
}

// singleValued are the claims that may appear once only; a second value
// (under the short or the long name) makes the principal invalid.
var singleValued = map[string]string{
	"oid": "oid", claimOID: "oid",
	"tid": "tid", claimTID: "tid",
	"scp": "scp", claimScope: "scp",
	"appid": "appid", "azp": "azp", "ver": "ver", "aud": "aud", "iss": "iss", "exp": "exp", "idtyp": "idtyp",
}

// ParseClientPrincipal decodes an X-MS-CLIENT-PRINCIPAL value: standard
// base64 of {"auth_typ", "claims": [{"typ", "val"}], "name_typ", "role_typ"}.
// It accepts Entra ID principals only (auth_typ "aad"), maps the long claim
// types and the short ones alike, and refuses, as an [ErrInvalidToken],
// anything malformed, oversized, ambiguous or lacking oid or tid. It does
// not decide whether the caller may call: that is [EasyAuth] and [Policy].
func ParseClientPrincipal(header string) (*Principal, error) {
	p, _, err := parseClientPrincipal(header)
	return p, err
}

// parseClientPrincipal also returns the aud claim, for the audience rule.
func parseClientPrincipal(header string) (*Principal, string, error) {
	if len(header) > maxClientPrincipalBytes {
		return nil, "", invalidToken(reasonPrincipal, errors.New("X-MS-CLIENT-PRINCIPAL too large"))
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if err != nil {
		return nil, "", invalidToken(reasonPrincipal, errors.New("X-MS-CLIENT-PRINCIPAL is not base64"))
	}
	cp, err := decodeClientPrincipal(raw)
	if err != nil {
		return nil, "", invalidToken(reasonPrincipal, fmt.Errorf("X-MS-CLIENT-PRINCIPAL is not the App Service principal JSON: %w", err))
	}
	if !bounded.EqualFold(cp.AuthType, "aad") {
		return nil, "", invalidToken(reasonPrincipal, fmt.Errorf("auth_typ %s is not aad", bounded.Quote(cp.AuthType)))
	}
	p := &Principal{Source: SourceEasyAuth, Scopes: []string{}, Roles: []string{}, Groups: []string{}}
	seen := map[string]string{}
	var appID, azp, upn, uniqueName, preferred, nameTyp, idtyp, aud string
	for _, c := range cp.Claims {
		if short, ok := singleValued[c.Type]; ok {
			// The same value twice is harmless; two values are a question
			// of which one counts, and no answer is safe.
			if prev, dup := seen[short]; dup && prev != c.Value {
				return nil, "", invalidToken(reasonDuplicateClaim, fmt.Errorf("claim %s has two values", short))
			}
			seen[short] = c.Value
		}
		switch c.Type {
		case "oid", claimOID:
			p.ObjectID = c.Value
		case "tid", claimTID:
			p.TenantID = c.Value
		case "scp", claimScope:
			p.Scopes = strings.Fields(c.Value)
		case "roles", claimRole:
			// role_typ names the role claim for .NET; it is always one of
			// these two, and honouring another name would let it claim
			// groups or azp as roles.
			if !slices.Contains(p.Roles, c.Value) {
				p.Roles = append(p.Roles, c.Value)
			}
		case "groups":
			p.Groups = append(p.Groups, c.Value)
		case "name":
			p.Name = c.Value
		case "preferred_username":
			preferred = c.Value
		case "upn", claimUPN:
			upn = c.Value
		case "unique_name":
			uniqueName = c.Value
		case "appid":
			appID = c.Value
		case "azp":
			azp = c.Value
		case "ver":
			p.TokenVersion = c.Value
		case "idtyp":
			idtyp = c.Value
		case "aud":
			aud = c.Value
		case "exp":
			if n, err := strconv.ParseInt(c.Value, 10, 64); err == nil {
				p.ExpiresAt = time.Unix(n, 0)
			}
		case "_claim_names":
			p.GroupsOverage = strings.Contains(c.Value, `"groups"`)
		}
		if c.Type == claimNameIDName || cp.NameType != "" && c.Type == cp.NameType {
			nameTyp = c.Value
		}
	}
	if p.ObjectID == "" || p.TenantID == "" {
		return nil, "", invalidToken(reasonMissingClaim, errors.New("the principal has no oid or no tid"))
	}
	p.Username = firstNonEmpty(preferred, upn, uniqueName, nameTyp)
	p.ClientAppID = firstNonEmpty(azp, appID)
	p.AppOnly = idtyp == "app"
	return p, aud, nil
}

// EasyAuthConfig configures [EasyAuth].
type EasyAuthConfig struct {
	// TenantID is the only tenant whose callers are admitted. Easy Auth
	// checks no tenant unless its issuer is tenant-specific. Required.
	TenantID string
	// Audiences, when set, must include the principal's aud claim.
	Audiences []string
	// Verifier, when set, also validates the caller's access token (from
	// Authorization: Bearer, or the token store's X-MS-TOKEN-AAD-ACCESS-TOKEN)
	// and requires it to name the same tid and oid; the caller is then the
	// token's principal. Defence in depth against a platform regression
	// that lets forged headers through.
	Verifier *Verifier
	// Now returns the current time, against which a principal's exp is
	// judged. Default: time.Now. Tests pin it.
	Now func() time.Time
}

// EasyAuth authenticates requests by the principal App Service
// Authentication passes on. Use it only where the platform guarantees the
// headers (WEBSITE_AUTH_ENABLED is true and the app does not run under
// Core Tools): anywhere else anyone can send them.
//
// No principal is [ErrNoCredentials]. A malformed one, or one not from
// Entra ID (X-MS-CLIENT-PRINCIPAL-IDP must be aad), is [ErrInvalidToken].
// With a Verifier, the token is read as [BearerToken] reads it, so a
// malformed Authorization header is an [ErrInvalidRequest].
// A principal of another tenant, or for an audience not listed, is
// refused as [ErrForbidden], as Easy Auth's own checks answer 403.
//
// A principal whose exp claim has passed, by more than 5 minutes (the
// leeway a [Verifier] allows by default), is refused as expired. Easy Auth
// checks the token's lifetime itself; this is defence in depth against a
// replayed or forged header. A principal without exp is judged without.
func EasyAuth(cfg EasyAuthConfig) (Authenticator, error) {
	if !IsGUID(cfg.TenantID) {
		return nil, fmt.Errorf("auth: easy auth: tenant id %q is not a GUID", cfg.TenantID)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return AuthenticatorFunc(func(r *http.Request) (*Principal, error) {
		values := r.Header.Values(HeaderClientPrincipal)
		switch {
		case len(values) == 0:
			return nil, ErrNoCredentials
		case len(values) > 1:
			return nil, invalidToken(reasonPrincipal, errors.New("more than one X-MS-CLIENT-PRINCIPAL header"))
		}
		switch idp := r.Header.Values(HeaderClientPrincipalIDP); {
		case len(idp) != 1:
			return nil, invalidToken(reasonPrincipal, fmt.Errorf("%d X-MS-CLIENT-PRINCIPAL-IDP headers, want one saying aad", len(idp)))
		case !bounded.EqualFold(idp[0], "aad"):
			return nil, invalidToken(reasonPrincipal, fmt.Errorf("X-MS-CLIENT-PRINCIPAL-IDP %s is not aad", bounded.Quote(idp[0])))
		}
		p, aud, err := parseClientPrincipal(values[0])
		if err != nil {
			return nil, err
		}
		// The same comparison as jwt's exp check with leeway: refused
		// when now is at or past exp + leeway.
		if !p.ExpiresAt.IsZero() && !cfg.Now().Before(p.ExpiresAt.Add(maxLeeway)) {
			return nil, invalidToken(reasonExpired, fmt.Errorf("the principal expired at %s", p.ExpiresAt.UTC().Format(time.RFC3339)))
		}
		if !bounded.EqualFold(p.TenantID, cfg.TenantID) {
			return p, &PolicyError{Rule: ruleTenant, Detail: fmt.Sprintf("tenant %s is not %q", bounded.Quote(p.TenantID), cfg.TenantID)}
		}
		if len(cfg.Audiences) > 0 {
			if !slices.Contains(cfg.Audiences, aud) {
				return p, &PolicyError{Rule: ruleAudiences, Detail: fmt.Sprintf("audience %s is not listed", bounded.Quote(aud))}
			}
		}
		if cfg.Verifier != nil {
			return crossCheck(r, cfg.Verifier, p)
		}
		return p, nil
	}), nil
}

// crossCheck validates the request's access token and requires it to
// speak for the same user as the principal. The caller is then the
// token's principal: its scopes, roles, groups and client app are the
// ones the policy judges, so a forged header can add nothing to them.
func crossCheck(r *http.Request, v *Verifier, p *Principal) (*Principal, error) {
	tok, err := BearerToken(r)
	if errors.Is(err, ErrNoCredentials) {
		tok = strings.TrimSpace(r.Header.Get(headerAADAccessToken))
		if tok == "" {
			return nil, invalidToken(reasonMissingToken, errors.New("AUTH_EASYAUTH_VERIFY_TOKEN is set but the request carries no access token"))
		}
	} else if err != nil {
		return nil, err
	}
	tp, err := v.Verify(r.Context(), tok)
	if err != nil {
		return nil, err
	}
	if !bounded.EqualFold(tp.TenantID, p.TenantID) || !bounded.EqualFold(tp.ObjectID, p.ObjectID) {
		return nil, invalidToken(reasonPrincipalMismatch, errors.New("the access token and X-MS-CLIENT-PRINCIPAL name different users"))
	}
	caller := *tp // verified principals are shared through the cache: copy
	caller.Source = SourceEasyAuth
	return &caller, nil
}

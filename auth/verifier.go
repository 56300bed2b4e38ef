package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/MicahParks/jwkset"
	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/golang-jwt/jwt/v5"
)

// DefaultAuthority is the Entra ID login host of the public cloud.
const DefaultAuthority = "https://login.microsoftonline.com"

// maxLeeway is the most clock skew a Config may tolerate: the default of
// Microsoft.Identity.Web, which this package is meant to be at least as
// strict as.
const maxLeeway = 5 * time.Minute

// Config says which tokens a [Verifier] accepts. The zero values of the
// optional fields are documented defaults; [NewVerifier] reports every
// problem at once.
type Config struct {
	// TenantID is the Entra tenant (a GUID) whose tokens are accepted. A
	// token's tid must equal it. Required.
	TenantID string

	// Audiences are the accepted aud values, compared exactly: the API's
	// App ID URI (api://…), its client id, and for v1 tokens the Resource
	// URL a Power Platform connector asks for. Required.
	Audiences []string

	// Issuers are the accepted iss values, compared exactly. Default: the
	// issuers the key set discovered (see [EntraKeys.Issuers]), or else
	// the public cloud's v1 and v2 issuers of TenantID.
	Issuers []string

	// Leeway tolerates clock skew on exp and nbf. Default and maximum:
	// 5 minutes, Microsoft.Identity.Web's default.
	Leeway time.Duration

	// Now returns the current time. Default: time.Now. Tests pin it.
	Now func() time.Time

	// Source is recorded on every principal. Default: [SourceJWT].
	Source Source

	// CacheSize bounds how many verified tokens are remembered, so that a
	// token seen again costs a hash instead of an RSA verification. An
	// entry lasts until the token expires or the key set changes.
	// Default: [DefaultCacheSize]; negative disables the cache.
	CacheSize int
}

// entraIssuers returns the v1 and v2 issuer values Entra ID uses for a
// tenant in the public cloud.
func entraIssuers(tenantID string) []string {
	return []string{
		"https://sts.windows.net/" + tenantID + "/",
		DefaultAuthority + "/" + tenantID + "/v2.0",
	}
}

// validate reports every problem with c at once.
func (c Config) validate() error {
	var errs []error
	if c.TenantID == "" {
		errs = append(errs, errors.New("tenant id is required"))
	} else if !IsGUID(c.TenantID) {
		errs = append(errs, fmt.Errorf("tenant id %q is not a GUID", c.TenantID))
	}
	if len(c.Audiences) == 0 {
		errs = append(errs, errors.New("at least one audience is required"))
	}
	for _, a := range c.Audiences {
		if strings.TrimSpace(a) == "" || strings.TrimSpace(a) != a {
			errs = append(errs, fmt.Errorf("audience %q is blank or has surrounding spaces", a))
		}
	}
	if c.Leeway < 0 || c.Leeway > maxLeeway {
		errs = append(errs, fmt.Errorf("leeway %v is outside 0..%v", c.Leeway, maxLeeway))
	}
	return errors.Join(errs...)
}

// KeySet is where a [Verifier] finds the keys that sign tokens: the
// tenant's keys loaded from Entra ID ([EntraKeys]), or a fixed set
// ([StaticKeySet]) for the development issuer and tests.
type KeySet interface {
	// Wait returns nil when keys can be looked up, or an error matching
	// [ErrUnavailable] when none can be yet. A set still loading may wait
	// for its load, bounded and never past ctx; a fixed set returns at
	// once.
	Wait(ctx context.Context) error
	// KeyfuncCtx returns the jwt.Keyfunc for the tokens of a request with
	// context ctx. It is given the token as golang-jwt's parser would
	// give it: Header holds the JOSE header's members as encoding/json
	// decodes them, judged already (alg RS256, a kid), and the signature
	// is checked with the key it returns.
	KeyfuncCtx(ctx context.Context) jwt.Keyfunc
	// Issuers returns the issuer values discovered with the keys, or nil
	// when the set knows none. The Verifier accepts [Config.Issuers] when
	// set, else these, else the public cloud's issuers of the tenant.
	Issuers() []string
	// Generation returns a number that changes whenever the keys do, so
	// that verified tokens cached under the old keys are forgotten.
	Generation() uint64
}

// Verifier validates Entra ID access tokens (and the local development
// issuer's tokens, which have the same shape). It is safe for concurrent
// use. The principals it returns are shared between requests that present
// the same token and must not be modified.
type Verifier struct {
	cfg  Config
	keys KeySet
	// fallbackIssuers are accepted when neither the configuration nor
	// the key set names any.
	fallbackIssuers []string
	// validator judges exp, nbf and aud for the lifetime and audience
	// steps. The steps are apart, rather than one jwt.Parser doing all,
	// so that a trace can run each on its own, the signature's included.
	validator *jwt.Validator
	cache     *tokenCache
}

// NewVerifier returns a Verifier for cfg that finds keys in keys.
func NewVerifier(cfg Config, keys KeySet) (*Verifier, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, errors.New("auth: no key set")
	}
	// GUIDs are compared as Entra writes them, in lower case.
	cfg.TenantID = strings.ToLower(cfg.TenantID)
	cfg.Issuers = slices.Clone(cfg.Issuers)
	if cfg.Leeway == 0 {
		cfg.Leeway = maxLeeway
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Source == "" {
		cfg.Source = SourceJWT
	}
	cfg.Audiences = append([]string(nil), cfg.Audiences...)
	var cache *tokenCache
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.CacheSize > 0 {
		cache = newTokenCache(cfg.CacheSize)
	}
	return &Verifier{
		cfg:             cfg,
		keys:            keys,
		fallbackIssuers: entraIssuers(cfg.TenantID),
		cache:           cache,
		validator: jwt.NewValidator(
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithTimeFunc(cfg.Now),
			jwt.WithAudience(cfg.Audiences...),
		),
	}, nil
}

// Verify checks raw and returns the principal it speaks for. Every failure
// is an [ErrInvalidToken] (a [*TokenError] saying why) unless the keys are
// not available yet ([ErrUnavailable]).
//
// Verify checks: the header is one Entra writes (alg RS256, a kid, typ JWT
// if any, no member twice, no crit, b64 or zip), before any key is looked
// up; the signature verifies with the key the kid names; exp is present
// and, like nbf, holds within the leeway; exp, nbf and iat are JSON
// numbers; aud is one of the audiences; iss is one of the issuers; tid is
// the tenant; ver is 1.0 or 2.0; oid is present; no security claim appears
// twice. It does not check scopes, roles or client apps: that is [Policy].
//
// Every value of the token that an error message repeats is cut to 128
// bytes and quoted, control characters escaped, because the message
// reaches the log.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Principal, error) {
	// Until the keys load, not even a malformed token is judged: every
	// caller hears "try again", never a verdict. Keys still loading are
	// waited for, within the key set's bound, so that the first call
	// after a cold start does not fail. Then the size, before any work.
	r := run{raw: raw}
	if err := v.runSteps(ctx, &r, stepKeys, stepSize); err != nil {
		return nil, err
	}
	var key [32]byte
	var gen uint64
	if v.cache != nil {
		key = tokenKey(raw)
		// Read the generation before verifying, so that a key change
		// during verification leaves the entry already stale.
		gen = v.generation()
		if p, ok := v.cache.get(key, gen, v.cfg.Now()); ok {
			return p, nil
		}
	}
	if err := v.runSteps(ctx, &r, stepSegments, stepObjectID); err != nil {
		return nil, err
	}
	p := r.t.claims.principal(v.cfg.Source)
	if v.cache != nil && !p.ExpiresAt.IsZero() {
		v.cache.put(key, p, gen)
	}
	return p, nil
}

// runSteps runs the steps first to last on r, in order, and returns the
// first failure.
func (v *Verifier) runSteps(ctx context.Context, r *run, first, last int) error {
	for i := first; i <= last; i++ {
		if err := v.step(ctx, i, r); err != nil {
			return err
		}
	}
	return nil
}

// The steps of the server's judgement of a bearer token, in its order:
// the one list. [BearerToken] checks the token's syntax (stepRequest);
// Verify runs stepKeys to stepObjectID, consulting its cache between
// stepSize and stepSegments, and stops at the first failure; a request
// then goes through [Policy.Check], whose rules are the last four steps.
// [Verifier.Trace] runs every step that can run and records each.
const (
	stepRequest   = iota // the token is token68, as BearerToken requires
	stepKeys             // the key set can be used (KeySet.Wait)
	stepSize             // at most MaxTokenBytes
	stepSegments         // three segments
	stepHeader           // the JOSE header as Entra writes it, before any key is looked up
	stepPayload          // the claims decoded, and the signature's encoding
	stepSignature        // made by the key the kid names
	stepLifetime         // exp present; exp and nbf within the leeway
	stepAudience         // aud one of the audiences
	stepIssuer           // iss one of the issuers
	stepTenant           // tid the tenant
	stepVersion          // ver 1.0 or 2.0
	stepObjectID         // oid present
	stepScopes           // Policy: the required delegated scopes
	stepRoles            // Policy: the route's app roles
	stepClientApp        // Policy: the allowed client apps
	stepUsers            // Policy: the allowed users and groups
	numSteps
)

// stepNames name the steps in a [Trace].
var stepNames = [numSteps]string{
	"request", "keys", "size", "segments", "header", "payload", "signature",
	"lifetime", "audience", "issuer", "tenant", "version", "oid",
	"scopes", "roles", "client_app", "users",
}

// run is one token on its way through the steps: what each step leaves
// for the later ones. Verify keeps it on its stack: the steps are one
// switch, not functions called through values, so that nothing of it
// escapes.
type run struct {
	raw string
	t   jws
	// verr is jwt's validator's verdict on exp, nbf and aud, which the
	// lifetime and audience steps share; validated says it was made.
	verr      error
	validated bool
	// pol is the policy of the last steps (a trace's), and p the
	// principal they judge.
	pol *Policy
	p   *Principal
}

// step runs step i on r: nil is a pass.
func (v *Verifier) step(ctx context.Context, i int, r *run) error {
	c := r.t.claims
	switch i {
	case stepRequest:
		if !isToken68(r.raw) {
			return errNotToken68
		}
	case stepKeys:
		return v.keys.Wait(ctx)
	case stepSize:
		return checkSize(r.raw)
	case stepSegments:
		return r.t.split(r.raw)
	case stepHeader:
		return r.t.readHeader()
	case stepPayload:
		return r.t.readPayload()
	case stepSignature:
		if err := r.t.verify(r.raw, v.keys.KeyfuncCtx(ctx)); err != nil {
			return classify(r.t.kid(), err)
		}
	case stepLifetime:
		if lifetime, _ := v.validity(r); len(lifetime) > 0 {
			// The validator's whole verdict, worded as jwt's parser
			// words it, so that the log reads as it did when the parser
			// validated the claims: classify finds the lifetime's
			// reason first.
			return claimsError(r.verr)
		}
	case stepAudience:
		switch lifetime, audience := v.validity(r); {
		case len(audience) == 0:
		case len(lifetime) == 0:
			return claimsError(r.verr)
		default:
			// Only a trace goes on past a lifetime's failure.
			return claimsError(audience[0])
		}
	case stepIssuer:
		return v.checkIssuer(c)
	case stepTenant:
		return v.checkTenant(c)
	case stepVersion:
		return checkVersion(c)
	case stepObjectID:
		return checkObjectID(c)
	case stepScopes:
		// The policy without the rules of the steps after this one: the
		// scopes, and whatever Check lets stand in for them.
		pol := *r.pol
		pol.RequiredRoles, pol.AllowedClientApps, pol.AllowedUsers, pol.AllowedGroups = nil, nil, nil, nil
		return pol.Check(r.principal(v))
	case stepRoles:
		return Policy{RequiredRoles: r.pol.RequiredRoles}.Check(r.principal(v))
	case stepClientApp:
		return Policy{AllowedClientApps: r.pol.AllowedClientApps}.Check(r.principal(v))
	case stepUsers:
		return Policy{AllowedUsers: r.pol.AllowedUsers, AllowedGroups: r.pol.AllowedGroups}.Check(r.principal(v))
	}
	return nil
}

// validity runs jwt's validator on r's claims, once for both steps that
// read it, and splits its verdict into the failures of the lifetime (exp
// missing, expired, not yet valid) and those of the audience (aud missing
// or not accepted), in the validator's order.
func (v *Verifier) validity(r *run) (lifetime, audience []error) {
	if !r.validated {
		r.verr, r.validated = v.validator.Validate(r.t.claims), true
	}
	if r.verr == nil {
		return nil, nil
	}
	parts := []error{r.verr}
	if j, ok := r.verr.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	for i, e := range parts {
		switch {
		case errors.Is(e, jwt.ErrTokenExpired), errors.Is(e, jwt.ErrTokenNotValidYet),
			// exp is checked first: a missing claim there is exp.
			i == 0 && r.t.claims.ExpiresAt == nil && errors.Is(e, jwt.ErrTokenRequiredClaimMissing):
			lifetime = append(lifetime, e)
		default:
			audience = append(audience, e)
		}
	}
	return lifetime, audience
}

// claimsError is a failure of jwt's validator, worded as its parser words
// it and classified.
func claimsError(err error) error {
	return classify("", fmt.Errorf("%w: %w", jwt.ErrTokenInvalidClaims, err))
}

// principal is the principal r's claims make, for the policy's steps.
func (r *run) principal(v *Verifier) *Principal {
	if r.p == nil {
		r.p = r.t.claims.principal(v.cfg.Source)
	}
	return r.p
}

// checkSize refuses a token longer than any Entra issues, before any
// work is done on it: the one place [MaxTokenBytes] is applied, by Verify
// for every request and by Trace for handler explain.
func checkSize(raw string) error {
	if len(raw) > MaxTokenBytes {
		return invalidToken(reasonMalformed, fmt.Errorf("token too large: %d bytes, more than the %d a token may have", len(raw), MaxTokenBytes))
	}
	return nil
}

// tokenKey is the cache key of a token: its SHA-256. It hashes the
// string's bytes in place: Sum256 neither keeps nor changes them, and a
// copy per request would cost more than the hash.
func tokenKey(raw string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(raw), len(raw)))
}

func (v *Verifier) generation() uint64 { return v.keys.Generation() }

// issuers are the accepted iss values: the configured ones, else those the
// key set discovered, else Entra's public-cloud issuers of the tenant.
func (v *Verifier) issuers() []string {
	if len(v.cfg.Issuers) > 0 {
		return v.cfg.Issuers
	}
	if is := v.keys.Issuers(); len(is) > 0 {
		return is
	}
	return v.fallbackIssuers
}

func (v *Verifier) checkIssuer(c *claims) error {
	if !slices.Contains(v.issuers(), c.Issuer) {
		return invalidToken(reasonIssuer, fmt.Errorf("issuer %s is not accepted", bounded.Quote(c.Issuer)))
	}
	return nil
}

func (v *Verifier) checkTenant(c *claims) error {
	if !bounded.EqualFold(c.TenantID, v.cfg.TenantID) {
		return invalidToken(reasonTenant, fmt.Errorf("tenant %s is not %q", bounded.Quote(c.TenantID), v.cfg.TenantID))
	}
	return nil
}

func checkVersion(c *claims) error {
	if c.Version != "1.0" && c.Version != "2.0" {
		return invalidToken(reasonVersion, fmt.Errorf("token version %s is neither 1.0 nor 2.0", bounded.Quote(c.Version)))
	}
	return nil
}

func checkObjectID(c *claims) error {
	if c.ObjectID == "" {
		return invalidToken(reasonMissingClaim, errors.New("no oid claim"))
	}
	return nil
}

// classify names why a token was refused, in golang-jwt's words, and
// bounds the text of an unknown kid, the header's. The order matters when
// several claims fail at once: the first reason listed wins. The
// algorithm was judged before parsing ([judgeHeader]).
func classify(kid string, err error) error {
	reasons := []struct {
		target error
		reason string
	}{
		{ErrUnavailable, ""},
		{errDuplicateClaim, reasonDuplicateClaim},
		{jwt.ErrTokenMalformed, reasonMalformed},
		{jwt.ErrTokenUnverifiable, reasonUnknownKey},
		{jwt.ErrTokenSignatureInvalid, reasonSignature},
		{jwt.ErrTokenExpired, reasonExpired},
		{jwt.ErrTokenNotValidYet, reasonNotYetValid},
		// A missing exp (or aud) before a wrong aud: the order of the
		// lifetime and audience steps.
		{jwt.ErrTokenRequiredClaimMissing, reasonMissingClaim},
		{jwt.ErrTokenInvalidAudience, reasonAudience},
	}
	for _, r := range reasons {
		if errors.Is(err, r.target) {
			if r.target == ErrUnavailable {
				return ErrUnavailable
			}
			if r.reason == reasonUnknownKey && errors.Is(err, jwkset.ErrKeyNotFound) {
				// jwkset quotes the kid whole, and the kid is the
				// client's: say the same, bounded.
				return &TokenError{Reason: r.reason, Err: err, text: "key not found: kid " + bounded.Quote(kid)}
			}
			return invalidToken(r.reason, err)
		}
	}
	return invalidToken(reasonInvalid, err)
}

// IsGUID reports whether s is a GUID in its 8-4-4-4-12 hexadecimal form.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

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
	// parseJWS reads a token and jws.verify checks its signature (see
	// token.go); validator then judges exp, nbf and aud, and claimChecks
	// the rest. They are apart, rather than one jwt.Parser doing all, so
	// that explain can run the same checks on a token whose signature it
	// cannot check.
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
	if err := v.keys.Wait(ctx); err != nil {
		// Not even a malformed token is judged: until the keys load, every
		// caller hears "try again", never a verdict. Keys still loading
		// are waited for, within the key set's bound, so that the first
		// call after a cold start does not fail.
		return nil, err
	}
	if err := checkSize(raw); err != nil {
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
	p, err := v.verify(ctx, raw)
	if err == nil && v.cache != nil && !p.ExpiresAt.IsZero() {
		v.cache.put(key, p, gen)
	}
	return p, err
}

// checkSize refuses a token longer than any Entra issues, before any
// work is done on it: the one place [MaxTokenBytes] is applied, by Verify
// for every request and by Explain for handler explain.
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

func (v *Verifier) verify(ctx context.Context, raw string) (*Principal, error) {
	c, err := v.decode(raw, v.keys.KeyfuncCtx(ctx))
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(c); err != nil {
		return nil, err
	}
	return c.principal(v.cfg.Source), nil
}

// decode judges raw's header, decodes its claims and checks its signature
// with the key kf returns. A nil kf is no key, and the token is refused.
func (v *Verifier) decode(raw string, kf jwt.Keyfunc) (*claims, error) {
	t, err := parseJWS(raw, true)
	if err != nil {
		return nil, err
	}
	if err := t.verify(raw, kf); err != nil {
		return nil, classify(t.kid(), err)
	}
	return t.claims, nil
}

// decodeUnsigned is decode without the signature and its key lookup. It
// is for explain offline only; no request reaches it.
func (v *Verifier) decodeUnsigned(raw string) (*claims, error) {
	t, err := parseJWS(raw, true)
	if err != nil {
		return nil, err
	}
	return t.claims, nil
}

// checkClaims judges verified claims: exp, nbf and aud by jwt's
// validator, then each of claimChecks in turn. The first failure is the
// answer.
func (v *Verifier) checkClaims(c *claims) error {
	if err := v.validator.Validate(c); err != nil {
		// Worded as jwt's parser words it, so that the log's error
		// reads as it did when the parser validated the claims.
		return classify("", fmt.Errorf("%w: %w", jwt.ErrTokenInvalidClaims, err))
	}
	for _, k := range claimChecks {
		if err := k.check(v, c); err != nil {
			return err
		}
	}
	return nil
}

// claimChecks are the checks of Entra's own claims, in the order Verify
// runs them after the signature, exp, nbf and aud. Explain shows each
// with the token's value and the one the configuration expects.
var claimChecks = []struct {
	name  string // as explain shows it
	check func(*Verifier, *claims) error
	got   func(*claims) string
	want  func(*Verifier) string
}{
	{"issuer (iss)", (*Verifier).checkIssuer,
		func(c *claims) string { return c.Issuer },
		func(v *Verifier) string { return "one of " + strings.Join(v.issuers(), ", ") }},
	{"tenant (tid)", (*Verifier).checkTenant,
		func(c *claims) string { return c.TenantID },
		func(v *Verifier) string { return "AUTH_TENANT_ID: " + v.cfg.TenantID }},
	{"version (ver)", (*Verifier).checkVersion,
		func(c *claims) string { return c.Version },
		func(*Verifier) string { return "1.0 or 2.0" }},
	{"object id (oid)", (*Verifier).checkObjectID,
		func(c *claims) string { return c.ObjectID },
		func(*Verifier) string { return "present" }},
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

func (*Verifier) checkVersion(c *claims) error {
	if c.Version != "1.0" && c.Version != "2.0" {
		return invalidToken(reasonVersion, fmt.Errorf("token version %s is neither 1.0 nor 2.0", bounded.Quote(c.Version)))
	}
	return nil
}

func (*Verifier) checkObjectID(c *claims) error {
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
		// A missing exp (or aud) before a wrong aud: the order in which
		// explain lists the lifetime and the audience.
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

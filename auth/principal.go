package auth

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

// Source names the authenticator that accepted a call.
type Source string

// The authenticators a Principal can come from.
const (
	SourceDev      Source = "dev"      // a token from the local development issuer
	SourceJWT      Source = "jwt"      // an Entra ID access token validated by this process
	SourceEasyAuth Source = "easyauth" // App Service Authentication principal headers
)

// Principal is the caller of one request, whichever authenticator accepted it.
//
// Users are keyed by TenantID and ObjectID together. Name and Username are
// mutable display values and must never be used to make an access decision.
type Principal struct {
	TenantID     string   `json:"tid"`
	ObjectID     string   `json:"oid"`
	Name         string   `json:"name,omitempty"`
	Username     string   `json:"username,omitempty"`
	Scopes       []string `json:"scopes"`
	Roles        []string `json:"roles"`
	Groups       []string `json:"groups"`
	ClientAppID  string   `json:"clientAppId,omitempty"`
	TokenVersion string   `json:"tokenVersion,omitempty"`
	Source       Source   `json:"source"`

	// AppOnly is set for app-only (client credentials) tokens, which act for
	// no user and so never satisfy a delegated-scope requirement.
	AppOnly bool `json:"-"`
	// GroupsOverage is set when the token says the caller has more groups
	// than fit in it; Groups is then incomplete and a group rule cannot pass.
	GroupsOverage bool `json:"-"`
	// ExpiresAt is when the credential behind this principal stops being
	// valid; zero when the source does not say.
	ExpiresAt time.Time `json:"-"`
}

// hasScope reports whether the principal was granted the delegated scope
// s. Access is [Policy]'s to decide, so it is not exported.
func (p *Principal) hasScope(s string) bool { return slices.Contains(p.Scopes, s) }

// hasRole reports whether the principal holds the app role r.
func (p *Principal) hasRole(r string) bool { return slices.Contains(p.Roles, r) }

// LogValue keeps log lines to the two identifiers the operators need: a
// whole principal holds personal data and must not reach the logs. Both
// are bounded: an Easy Auth principal's are whatever its header said.
func (p *Principal) LogValue() slog.Value {
	if p == nil {
		return slog.Value{}
	}
	return slog.GroupValue(slog.String("oid", bounded.String(p.ObjectID)), slog.String("tid", bounded.String(p.TenantID)))
}

type contextKey struct{}

// newContext returns a copy of ctx that carries p.
func newContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, contextKey{}, p)
}

// FromContext returns the principal that [Middleware] stored in ctx.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(contextKey{}).(*Principal)
	return p, ok && p != nil
}

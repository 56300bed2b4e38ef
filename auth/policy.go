package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

// DefaultRequiredScope is the delegated scope a Power Platform connector is
// granted on the API's app registration.
const DefaultRequiredScope = "user_impersonation"

// Policy decides whether an authenticated principal may call. It is the one
// place access is decided: every authenticator's principal passes it, so a
// caller gets the same answer whichever way it authenticated.
//
// An empty allow-list allows anyone; a non-empty one admits only its
// members. AllowedUsers and AllowedGroups together form one rule, like Easy
// Auth's allowedPrincipals: a caller listed in either passes.
type Policy struct {
	// RequiredScopes must all be among the caller's delegated scopes. A
	// caller with no delegated scope at all (an app-only token) never passes
	// a policy that requires one.
	RequiredScopes []string
	// RequiredRoles must all be among the caller's app roles.
	RequiredRoles []string
	// AppRoles, when set, admit an app-only caller that holds one of them
	// in place of RequiredScopes: "the delegated scopes, or an app
	// permission", as Microsoft.Identity.Web's RequiredScopeOrAppPermission
	// puts it. A delegated caller still needs the scopes, whatever roles
	// it holds. Set per route; empty refuses every app-only caller where
	// scopes are required.
	AppRoles []string
	// AllowedClientApps lists the client application ids (appid or azp)
	// that may call: the connector's app registration.
	AllowedClientApps []string
	// AllowedUsers lists object ids of users who may call.
	AllowedUsers []string
	// AllowedGroups lists group object ids whose members may call.
	AllowedGroups []string
}

// Require returns a copy of p that also requires scopes and roles: the
// per-route additions of a route table.
func (p Policy) Require(scopes, roles []string) Policy {
	p.RequiredScopes = union(p.RequiredScopes, scopes)
	p.RequiredRoles = union(p.RequiredRoles, roles)
	return p
}

// Check returns nil when pr may call, else a [*PolicyError].
func (p Policy) Check(pr *Principal) error {
	if len(p.RequiredScopes) > 0 && pr.AppOnly && len(p.AppRoles) > 0 {
		if !slices.ContainsFunc(p.AppRoles, pr.hasRole) {
			return &PolicyError{Rule: ruleRouteRoles, Detail: "an app-only caller needs one of the app roles " + quoteList(p.AppRoles)}
		}
	} else if len(p.RequiredScopes) > 0 {
		var missing []string
		for _, s := range p.RequiredScopes {
			if pr.AppOnly || !pr.hasScope(s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			detail := "missing " + strings.Join(missing, " ")
			if pr.AppOnly || len(pr.Scopes) == 0 {
				detail = "the token carries no delegated scope (an app-only or ID token?)"
			}
			return &PolicyError{Rule: ruleRequiredScopes, Scopes: p.RequiredScopes, Detail: detail}
		}
	}
	for _, r := range p.RequiredRoles {
		if !pr.hasRole(r) {
			return &PolicyError{Rule: ruleRouteRoles, Detail: fmt.Sprintf("missing app role %q", r)}
		}
	}
	if len(p.AllowedClientApps) > 0 && !slices.ContainsFunc(p.AllowedClientApps, func(id string) bool {
		return bounded.EqualFold(id, pr.ClientAppID)
	}) {
		return &PolicyError{Rule: ruleAllowedClientApps, Detail: "client app " + bounded.Quote(pr.ClientAppID) + " is not listed"}
	}
	if len(p.AllowedUsers) == 0 && len(p.AllowedGroups) == 0 {
		return nil
	}
	if slices.ContainsFunc(p.AllowedUsers, func(id string) bool { return bounded.EqualFold(id, pr.ObjectID) }) {
		return nil
	}
	for _, g := range pr.Groups {
		if slices.ContainsFunc(p.AllowedGroups, func(id string) bool { return bounded.EqualFold(id, g) }) {
			return nil
		}
	}
	rule := ruleAllowedUsers
	switch {
	case len(p.AllowedUsers) > 0 && len(p.AllowedGroups) > 0:
		rule = ruleAllowedPrincipals
	case len(p.AllowedGroups) > 0:
		rule = ruleAllowedGroups
	}
	detail := "the caller is not listed"
	if pr.GroupsOverage && len(p.AllowedGroups) > 0 {
		detail = "the token has a groups overage claim instead of the groups; emit group claims for assigned groups only"
	}
	return &PolicyError{Rule: rule, Detail: detail}
}

// quoteList quotes each of ss, bounded, and joins them with ", ".
func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = bounded.Quote(s)
	}
	return strings.Join(q, ", ")
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

package explain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
)

// Audiences and tenants of tokens for the wrong resource or account,
// which Explain names.
const (
	// audienceAPIHub is the audience of the token Power Platform's
	// connector service holds for a signed-in connection.
	audienceAPIHub = "https://apihub.azure.com"
	// graphAppID and graphURL are Microsoft Graph's audiences, and
	// aadGraphURL the Azure AD Graph's before it.
	graphAppID  = "00000003-0000-0000-c000-000000000000"
	graphURL    = "https://graph.microsoft.com"
	aadGraphURL = "https://graph.windows.net"
	// consumerTenantID is the tenant of personal Microsoft accounts.
	consumerTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"
)

// audienceCase names the case of a wrong aud, most specific first, and
// says what the aud is.
func (x *explainer) audienceCase(auds []string) (key, what string) {
	aud := auds[0]
	norm := func(s string) string { return bounded.Lower(strings.TrimRight(s, "/")) }
	switch {
	case x.devToken():
		return caseDev, "a development token issued for another audience (./handler token issues for the first of AUTH_AUDIENCES when set; make dev expects " + auth.DevAudience + ")"
	case x.devServer():
		return caseDev, "a dev-mode server accepts development tokens only"
	}
	if kind, _ := x.kind(); kind == KindIDToken {
		return caseIDToken, "an ID token's aud is the client app it was issued to"
	}
	switch {
	case slices.ContainsFunc(auds, func(a string) bool { return norm(a) == audienceAPIHub }):
		x.note("This is Power Platform's first-hop token (aud https://apihub.azure.com), which the connector service holds for the connection. The token the API should receive is the one the service gets for the connector's Resource URL, by the on-behalf-of exchange when \"Enable on-behalf-of login\" is on.")
		return caseAPIHub, "the Power Platform connection's own token"
	case x.isGraph():
		x.note("This is a Microsoft Graph token: the connector asked Entra for a token for Graph, not for this API.")
		return caseGraph, "Microsoft Graph"
	}
	for _, a := range x.cfg.Audiences {
		if a != aud && norm(a) == norm(aud) {
			return caseNearMiss, fmt.Sprintf("a near miss of the accepted %q, differing only in letter case or a trailing slash", a)
		}
	}
	if v, _ := x.claimString("ver"); v == "2.0" {
		return caseOtherAPI, "a v2 token carries the client id of the API it is for, so this one is for another API"
	}
	lower := bounded.Lower(aud)
	switch {
	case auth.IsGUID(aud):
		return caseResourceURL, "a client id, given as the connector's Resource URL (a v1 token carries it exactly as typed)"
	case strings.HasPrefix(lower, "https://") && strings.Contains(lower, ".azurewebsites.net"):
		return caseResourceURL, "the function app's URL, given as the connector's Resource URL as the tutorial does (a v1 token carries it exactly as typed)"
	}
	return caseResourceURL, "the connector's Resource URL, which a v1 token carries exactly as typed"
}

// issuerCase names the case of a refused issuer.
func (x *explainer) issuerCase() string {
	tid, _ := x.claimString("tid")
	switch tid = bounded.Lower(tid); {
	case tid == x.cfg.TenantID:
		return caseSovereign
	case tid == consumerTenantID:
		return caseConsumer
	}
	return caseOtherTenant
}

// kind says what the claims make of the token: an access token or an ID
// token, delegated or app-only. idtyp app is what Entra writes in every
// app-only token; an ID token has no scp and an aud that is the client
// app's id, and usually a nonce.
func (x *explainer) kind() (Kind, Actor) {
	if x.payload == nil {
		return "", ""
	}
	has := func(name string) bool { _, ok := x.payload[name]; return ok }
	idtyp, _ := x.claimString("idtyp")
	aud, _ := x.claimString("aud")
	switch {
	case idtyp == "app":
		return KindAccessToken, ActorAppOnly
	case has("scp"):
		return KindAccessToken, ActorDelegated
	case has("nonce") || auth.IsGUID(aud) && !has("roles"):
		return KindIDToken, ActorDelegated
	case has("roles") && !has("name") && !has("preferred_username") && !has("upn"):
		// An app token without the optional idtyp: roles, and no user.
		return KindAccessToken, ActorAppOnly
	}
	return "", ""
}

// devToken reports whether the token names the local development issuer
// (auth's DevKey): its tenant, in tid or in iss, is auth.DevTenantID, its
// aud auth.DevAudience or its client app auth.DevClientAppID. They name no
// real tenant or app, so no Entra token carries them.
func (x *explainer) devToken() bool {
	tid, _ := x.claimString("tid")
	iss, _ := x.claimString("iss")
	azp, _ := x.claimString("azp")
	aud := x.claimStrings("aud")
	return bounded.EqualFold(tid, auth.DevTenantID) || strings.Contains(bounded.Lower(iss), "/"+auth.DevTenantID+"/") ||
		slices.Contains(aud, auth.DevAudience) || bounded.EqualFold(azp, auth.DevClientAppID)
}

// devServer reports whether the server judging is a dev-mode one, which
// accepts development tokens only.
func (x *explainer) devServer() bool { return x.cfg.Source == auth.SourceDev }

// dev reports whether a development token or a dev-mode server is
// involved: the advice is then about minting another token.
func (x *explainer) dev() bool { return x.devToken() || x.devServer() }

// isGraph reports whether the token is for Microsoft Graph (or the Azure
// AD Graph before it).
func (x *explainer) isGraph() bool {
	return slices.ContainsFunc(x.claimStrings("aud"), func(a string) bool {
		a = bounded.Lower(strings.TrimRight(a, "/"))
		return a == graphAppID || a == graphURL || a == aadGraphURL
	})
}

// describe fills the shape, the notes, the header and the claims that
// matter.
func (x *explainer) describe() {
	e := x.e
	switch {
	case x.devToken() && !x.devServer():
		x.note("This is a development token, minted by ./handler token for a dev-mode server (make dev, or AUTH_MODE=dev): no other server accepts it. ./handler explain --dev <token> judges it as make dev does.")
	case x.devServer() && !e.Accepted:
		x.note("This server is in dev mode: it accepts development tokens signed by its own key only, and make dev (handler dev) ignores every AUTH_* setting. ./handler token --dev mints a token make dev accepts; ./handler explain --dev judges one as make dev does.")
	}
	e.Shape.Kind, e.Shape.Actor = x.kind()
	if ver, ok := x.claimString("ver"); ok {
		e.Shape.Version = bounded.Cut(ver, bounded.Max)
	}
	switch {
	case e.Shape.Kind == KindIDToken:
		x.note("This is an ID token: it tells the client app who signed in, and an API must not accept it. Send the access token instead.")
	case e.Shape.Actor == ActorAppOnly:
		x.note("This is an app-only token (client credentials): a service-principal connection, acting for no signed-in user.")
	}
	if x.header != nil {
		for _, name := range []string{"alg", "typ", "kid", "x5t"} {
			it := x.item(x.header, name)
			if name == "alg" {
				it.Expected = "RS256"
			}
			if it.Present || name == "alg" || name == "kid" {
				e.Header = append(e.Header, it)
			}
		}
		if x.headerHas("nonce") {
			e.Header = append(e.Header, Item{Name: "nonce", Present: true, Value: "(present: a Microsoft Graph token)"})
		}
	}
	if x.payload == nil {
		return
	}
	cfg, pol := x.cfg, x.pol
	apps := "AUTH_ALLOWED_CLIENT_APPS: " + cmp.Or(strings.Join(pol.AllowedClientApps, ", "), "(any)")
	expect := map[string]string{
		"aud":   "one of AUTH_AUDIENCES: " + strings.Join(cfg.Audiences, ", "),
		"iss":   "one of " + strings.Join(cfg.Issuers, ", "),
		"tid":   "AUTH_TENANT_ID: " + cfg.TenantID,
		"ver":   "1.0 or 2.0",
		"scp":   scopesWanted(pol),
		"roles": strings.Join(pol.RequiredRoles, " "),
		"azp":   apps,
		"appid": apps,
		"idtyp": "absent for a user's token (app: app-only)",
		"oid":   "present",
		"exp":   "after now, " + cfg.Leeway.String() + " of skew allowed",
		"nbf":   "before now, " + cfg.Leeway.String() + " of skew allowed",
	}
	// Only these: never the signature, and of the claims naming a person
	// only oid and name (no upn, email, ipaddr, family_name, …).
	for _, name := range []string{"aud", "iss", "tid", "ver", "scp", "roles", "azp", "appid", "idtyp", "oid", "name", "exp", "nbf", "iat"} {
		it := x.item(x.payload, name)
		it.Expected = expect[name]
		switch name {
		case "azp", "appid", "roles", "name", "iat", "nbf":
			// The version's own claim of the pair, and optional ones,
			// only when present.
			if !it.Present {
				continue
			}
		}
		e.Claims = append(e.Claims, it)
	}
}

// scopesWanted is what the scp claim must hold, and what an app-only
// token may hold instead where the route takes an app permission.
func scopesWanted(pol auth.Policy) string {
	w := "AUTH_REQUIRED_SCOPES: " + cmp.Or(strings.Join(pol.RequiredScopes, " "), "(none)")
	if len(pol.AppRoles) > 0 && len(pol.RequiredScopes) > 0 {
		w += "; or, on an app-only token, the app role " + strings.Join(pol.AppRoles, " or ")
	}
	return w
}

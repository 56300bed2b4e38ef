package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/golang-jwt/jwt/v5"
)

// Audiences and tenants of tokens for the wrong resource or account,
// which explain names.
const (
	// audienceAPIHub is the audience of the token Power Platform's
	// connector service holds for a signed-in connection.
	audienceAPIHub = "https://apihub.azure.com"
	// graphAppID and graphURL are Microsoft Graph's audiences.
	graphAppID = "00000003-0000-0000-c000-000000000000"
	graphURL   = "https://graph.microsoft.com"
	// consumerTenantID is the tenant of personal Microsoft accounts.
	consumerTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"
)

// The token kinds and actors of a tokenShape.
const (
	kindAccessToken = "access token"
	kindIDToken     = "ID token"
	actorDelegated  = "delegated"
	actorAppOnly    = "app-only"
)

// ExplainOptions says how [Verifier.Explain] judges a token.
type ExplainOptions struct {
	// Policy is what the server requires of a verified caller.
	Policy Policy
	// CheckSignature waits for the verifier's [KeySet] and checks the
	// signature with the key the token names, as a request does. Without
	// it no key is looked up: the signature is reported as not checked,
	// and everything else is judged. (The issuers the key set discovered,
	// if any, are still the ones accepted.)
	CheckSignature bool
}

// CheckResult is one check's outcome.
type CheckResult string

// The outcomes of a check.
const (
	CheckPassed     CheckResult = "pass"
	CheckFailed     CheckResult = "fail"
	CheckNotChecked CheckResult = "not checked"
)

// Explanation is what [Verifier.Explain] found: the token's shape, the
// claims that matter beside the values the configuration expects, each
// check in the order the server runs them, and the server's verdict.
// It holds no signature, and of the claims that identify a person only
// oid and name. Its strings from the token are cut and escaped as the
// log escapes them (internal/bounded).
//
// Shape's and Checks' types are display types that the package does not
// name; their fields are exported, for handler explain and its --json.
type Explanation struct {
	Shape  tokenShape      `json:"shape"`
	Header []ExplainedItem `json:"header,omitempty"`
	Claims []ExplainedItem `json:"claims,omitempty"`
	Checks []explainCheck  `json:"checks"`
	// Notes say what the token is, when that explains more than a check.
	Notes []string `json:"notes,omitempty"`
	// SignatureChecked says whether the signature was verified.
	SignatureChecked bool `json:"signatureChecked"`
	// Accepted is the server's verdict. With the signature not checked
	// it is the verdict for a good signature, and Conditional is set:
	// never grant access on such a verdict.
	Accepted    bool `json:"accepted"`
	Conditional bool `json:"conditional,omitempty"`
	// Reason is the word the server's log line would carry for the
	// refusal ([Reason]); empty when accepted.
	Reason string `json:"reason,omitempty"`
	// Err is the server's own answer: Verify's error, else the policy's;
	// nil when the token is accepted.
	Err error `json:"-"`
}

// tokenShape is what kind of token it is.
type tokenShape struct {
	// JWS is set for a token of three segments whose header decodes.
	JWS bool `json:"jws"`
	// Segments is the number of dot-separated segments: a JWS has 3, an
	// encrypted token (JWE) 5.
	Segments int `json:"segments"`
	// Kind is "access token", "ID token", or "" when the claims do not
	// say.
	Kind string `json:"kind,omitempty"`
	// Actor is "delegated" (a user signed in), "app-only" or "".
	Actor string `json:"actor,omitempty"`
	// Version is the ver claim as written: Entra's are "1.0" and "2.0".
	Version string `json:"version,omitempty"`
}

// ExplainedItem is one header member or claim, as the token has it and as
// the configuration expects it.
type ExplainedItem struct {
	Name string `json:"name"`
	// Value is the value, cut; empty when the claim is absent (Present
	// false).
	Value   string `json:"value,omitempty"`
	Present bool   `json:"present"`
	// Expected is what the configuration accepts, where it says.
	Expected string `json:"expected,omitempty"`
	// When is a time claim relative to now, such as "in 54m0s".
	When string `json:"when,omitempty"`
}

// explainCheck is one step of the server's verification or policy.
type explainCheck struct {
	Name   string      `json:"name"`
	Result CheckResult `json:"result"`
	// Reason is the log's word for a failure.
	Reason string `json:"reason,omitempty"`
	// Got and Want are the token's value and the configuration's.
	Got  string `json:"got,omitempty"`
	Want string `json:"want,omitempty"`
	// Problem says what is wrong (or, when not checked, why not).
	Problem string `json:"problem,omitempty"`
	// Cause is the usual cause of such a failure, and Fix what to change:
	// the setting, the connector field or the app registration field.
	// Both are the reason table's, as the troubleshooting guide shows
	// them (Markdown).
	Cause string `json:"cause,omitempty"`
	Fix   string `json:"fix,omitempty"`
	// AfterRefusal is set on a check past the first failure: the server
	// stops at that one; this one is shown for what else would fail.
	AfterRefusal bool `json:"afterRefusal,omitempty"`
}

// Explain judges raw as the server would, step by step, and says what to
// change when it is refused. The verdict is the server's own code: with
// CheckSignature, [Verifier.Verify] and then the policy, exactly as a
// request; without it, the same decoding and claim checks with the
// signature left out. The checks are the same functions run one by one,
// so that every failure is shown rather than the first only, and their
// fixes are the reason table's, which docs/troubleshooting.md shows too.
//
// Explain never fails: a token it cannot read is explained as such.
func (v *Verifier) Explain(ctx context.Context, raw string, opts ExplainOptions) *Explanation {
	e := &Explanation{}
	x := &explainer{v: v, e: e, opts: opts, now: v.cfg.Now()}
	x.read(raw)
	x.verdict(ctx, raw)
	x.checks(ctx, raw)
	x.describe()
	e.Conditional = e.Accepted && !e.SignatureChecked
	return e
}

// explainer is one run of Explain.
type explainer struct {
	v    *Verifier
	e    *Explanation
	opts ExplainOptions
	now  time.Time

	// What the token says, read leniently for display: header and
	// payload as JSON members, when they decode.
	header, payload map[string]json.RawMessage
	// c are the claims as the verifier decodes them, nil when it cannot;
	// claimsErr is jwt's validator's verdict on them (exp, nbf, aud),
	// every failure joined.
	c         *claims
	claimsErr error
	// keysErr is why the key set could not be used, with CheckSignature.
	keysErr error
}

// read decodes what it can of raw for display, never failing.
func (x *explainer) read(raw string) {
	x.e.Shape.Segments = strings.Count(raw, ".") + 1
	if checkSize(raw) != nil {
		return
	}
	parts := strings.Split(raw, ".")
	if len(parts) < 2 {
		return
	}
	x.header = lenientObject(parts[0])
	x.payload = lenientObject(parts[1])
	x.e.Shape.JWS = len(parts) == 3 && x.header != nil
}

// lenientObject decodes a base64url JSON object, or returns nil.
func lenientObject(seg string) map[string]json.RawMessage {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// verdict runs the server's code on raw.
func (x *explainer) verdict(ctx context.Context, raw string) {
	var p *Principal
	var err error
	switch {
	case !isToken68(raw):
		// BearerToken refuses it before any verifier sees it.
		err = errNotToken68
	case x.opts.CheckSignature:
		p, err = x.v.Verify(ctx, raw)
	default:
		p, err = x.v.verifyUnsigned(raw)
	}
	if err == nil {
		err = x.opts.Policy.Check(p)
	}
	x.e.Err, x.e.Accepted, x.e.Reason = err, err == nil, Reason(err)
}

// verifyUnsigned is Verify without the key set: the same checks but the
// signature's. It is for explain only.
func (v *Verifier) verifyUnsigned(raw string) (*Principal, error) {
	if err := checkSize(raw); err != nil {
		return nil, err
	}
	c, err := v.decodeUnsigned(raw)
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(c); err != nil {
		return nil, err
	}
	return c.principal(v.cfg.Source), nil
}

// add appends a check, marking it as past the refusal when an earlier one
// failed.
func (x *explainer) add(c explainCheck) {
	for _, prev := range x.e.Checks {
		if prev.Result == CheckFailed {
			c.AfterRefusal = true
			break
		}
	}
	x.e.Checks = append(x.e.Checks, c)
}

// pass adds c as passed.
func (x *explainer) pass(c explainCheck) {
	c.Result = CheckPassed
	x.add(c)
}

// fail adds c as failed with err, a TokenError or PolicyError, and the
// fix of the reason table's row for key (the general row when key is ""
// or has none of its own).
func (x *explainer) fail(c explainCheck, err error, sec section, key string) {
	c.Result = CheckFailed
	c.Reason = Reason(err)
	if c.Problem == "" {
		c.Problem = problemText(err)
	}
	if x.dev() && hasCase(c.Reason, sec, caseDev) {
		// Entra's and the connector's fixes mean nothing to a
		// development token, and make dev ignores the AUTH_* settings
		// they name: the fix is another token.
		key = caseDev
	}
	if d, ok := docCase(c.Reason, sec, key); ok {
		c.Cause, c.Fix = d.cause, d.fix
	}
	x.add(c)
}

// problemText is err's detail without the package's prefix.
func problemText(err error) string {
	var te *TokenError
	var pe *PolicyError
	switch {
	case errors.As(err, &te) && te.detail() != "":
		return te.detail()
	case errors.As(err, &pe):
		return pe.Detail
	}
	return err.Error()
}

// checks runs each step of the server's path on its own.
func (x *explainer) checks(ctx context.Context, raw string) {
	v := x.v
	if x.opts.CheckSignature {
		c := explainCheck{Name: "signing keys", Want: "loaded from AUTH_AUTHORITY"}
		if x.keysErr = v.keys.Wait(ctx); x.keysErr != nil {
			x.fail(c, x.keysErr, sectionUnavailable, "")
		} else {
			x.pass(c)
		}
	}

	// The token as a whole.
	format := explainCheck{Name: "format", Want: "a JWS: header.payload.signature, three base64url segments"}
	if err := checkSize(raw); err != nil {
		format.Got = fmt.Sprintf("%d bytes, more than %d", len(raw), MaxTokenBytes)
		x.fail(format, err, sectionToken, "")
		return
	}
	format.Got = fmt.Sprintf("%d segment(s), %d bytes", x.e.Shape.Segments, len(raw))
	if !isToken68(raw) {
		format.Problem = "a character no bearer token has (RFC 6750 allows letters, digits and - . _ ~ + / then =): the server refuses the request before reading it"
		x.fail(format, errNotToken68, sectionRequest, "")
		return
	}
	if x.e.Shape.Segments != 3 {
		format.Problem = fmt.Sprintf("%d segment(s): not a JWS", x.e.Shape.Segments)
		if x.e.Shape.Segments == 5 {
			format.Problem += " but an encrypted token (JWE), which this API cannot read"
		}
		x.fail(format, invalidToken(reasonMalformed, errors.New(format.Problem)), sectionToken, "")
		return
	}
	x.pass(format)

	// The header, judged before any key is looked up.
	hdr := explainCheck{Name: "header (alg, kid, typ)", Want: "alg RS256, a kid, typ JWT if any; no crit, b64 or zip", Got: x.headerSummary()}
	if err := checkHeader(raw); err != nil {
		x.fail(hdr, err, sectionToken, "")
	} else {
		x.pass(hdr)
	}

	// The payload (and the signature's encoding), decoded as the
	// verifier decodes them.
	pay := explainCheck{Name: "claims (payload)", Want: "a JSON object, no security claim twice, times as numbers"}
	// The header is the check above's: here it is only decoded, so that
	// the claims of a token whose header is refused are judged too.
	t, err := parseJWS(raw, false)
	if err != nil {
		x.fail(pay, err, sectionToken, "")
		return
	}
	x.pass(pay)
	x.c, x.claimsErr = t.claims, v.validator.Validate(t.claims)

	x.signature(ctx, raw)
	x.lifetime()
	x.audience()
	x.entraClaims()
	x.policy()
}

func (x *explainer) signature(ctx context.Context, raw string) {
	sig := explainCheck{Name: "signature (kid)", Want: "made by the tenant's key that kid names"}
	if kid, ok := x.headerString("kid"); ok {
		sig.Got = "kid " + kid
	}
	if !x.opts.CheckSignature {
		sig.Result = CheckNotChecked
		sig.Problem = "not checked offline: the tenant's signing keys were not loaded (--online loads them)"
		x.add(sig)
		return
	}
	if x.keysErr != nil {
		sig.Result = CheckNotChecked
		sig.Problem = "not checked: the signing keys are not available"
		x.add(sig)
		return
	}
	_, err := x.v.decode(raw, x.v.keys.KeyfuncCtx(ctx))
	switch r := Reason(err); r {
	case "":
		x.e.SignatureChecked = true
		x.pass(sig)
	case reasonUnknownKey, reasonSignature, reasonInvalid:
		x.e.SignatureChecked = true
		key := ""
		if r == reasonSignature && (x.isGraph() || x.headerHas("nonce")) {
			key = caseGraph
		}
		x.fail(sig, err, sectionToken, key)
	default:
		// A failure the earlier checks already show.
		sig.Result = CheckNotChecked
		sig.Problem = "not checked: the token failed an earlier check"
		x.add(sig)
	}
}

func (x *explainer) lifetime() {
	c := x.c
	leeway := x.v.cfg.Leeway
	lt := explainCheck{Name: "lifetime (exp, nbf)", Want: fmt.Sprintf("exp after now and nbf before it, with %v of clock skew allowed", leeway)}
	var got []string
	if c.ExpiresAt != nil {
		got = append(got, "exp "+x.at(c.ExpiresAt.Time))
	}
	if c.NotBefore != nil {
		got = append(got, "nbf "+x.at(c.NotBefore.Time))
	}
	lt.Got = strings.Join(got, ", ")
	err := x.claimsErr
	// In classify's order: expired, not yet valid, then a missing exp.
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		lt.Problem = fmt.Sprintf("expired %s, and the %v of skew allowed has passed too", ago(x.now.Sub(c.ExpiresAt.Time)), leeway)
		x.fail(lt, invalidToken(reasonExpired, jwt.ErrTokenExpired), sectionToken, "")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		lt.Problem = fmt.Sprintf("not valid until %s: more than the %v of skew allowed", in(c.NotBefore.Sub(x.now)), leeway)
		x.fail(lt, invalidToken(reasonNotYetValid, jwt.ErrTokenNotValidYet), sectionToken, "")
	case c.ExpiresAt == nil:
		lt.Problem = "no exp claim: every Entra access token has one"
		x.fail(lt, invalidToken(reasonMissingClaim, errors.New(lt.Problem)), sectionToken, "")
	default:
		x.pass(lt)
	}
}

func (x *explainer) audience() {
	c := x.c
	ac := explainCheck{Name: "audience (aud)", Want: "one of AUTH_AUDIENCES: " + strings.Join(x.v.cfg.Audiences, ", "), Got: cutJoin(c.Audience, ", ")}
	err := x.claimsErr
	switch {
	case len(c.Audience) == 0 || len(c.Audience) == 1 && c.Audience[0] == "":
		ac.Problem = "no aud claim"
		x.fail(ac, invalidToken(reasonMissingClaim, errors.New(ac.Problem)), sectionToken, "")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		key, what := x.audienceCase()
		ac.Problem = fmt.Sprintf("aud %s is not in AUTH_AUDIENCES", strings.Join(quoteAll(c.Audience), ", "))
		if what != "" {
			ac.Problem += ": " + what
		}
		x.fail(ac, invalidToken(reasonAudience, jwt.ErrTokenInvalidAudience), sectionToken, key)
	default:
		x.pass(ac)
	}
}

// audienceCase names the case of a wrong aud, most specific first, and
// says what the aud is.
func (x *explainer) audienceCase() (key, what string) {
	aud := x.c.Audience[0]
	norm := func(s string) string { return bounded.Lower(strings.TrimRight(s, "/")) }
	switch {
	case x.devToken():
		return caseDev, "a development token issued for another audience (./handler token issues for the first of AUTH_AUDIENCES when set; make dev expects " + DevAudience + ")"
	case x.devServer():
		return caseDev, "a dev-mode server accepts development tokens only"
	}
	if kind, _ := x.kind(); kind == kindIDToken {
		return caseIDToken, "an ID token's aud is the client app it was issued to"
	}
	switch {
	case slices.ContainsFunc(x.c.Audience, func(a string) bool { return norm(a) == audienceAPIHub }):
		x.note("This is Power Platform's first-hop token (aud https://apihub.azure.com), which the connector service holds for the connection. The token the API should receive is the one the service gets for the connector's Resource URL, by the on-behalf-of exchange when \"Enable on-behalf-of login\" is on.")
		return caseAPIHub, "the Power Platform connection's own token"
	case x.isGraph():
		x.note("This is a Microsoft Graph token: the connector asked Entra for a token for Graph, not for this API.")
		return caseGraph, "Microsoft Graph"
	}
	for _, a := range x.v.cfg.Audiences {
		if a != aud && norm(a) == norm(aud) {
			return caseNearMiss, fmt.Sprintf("a near miss of the accepted %q, differing only in letter case or a trailing slash", a)
		}
	}
	if x.c.Version == "2.0" {
		return caseOtherAPI, "a v2 token carries the client id of the API it is for, so this one is for another API"
	}
	lower := bounded.Lower(aud)
	switch {
	case IsGUID(aud):
		return caseResourceURL, "a client id, given as the connector's Resource URL (a v1 token carries it exactly as typed)"
	case strings.HasPrefix(lower, "https://") && strings.Contains(lower, ".azurewebsites.net"):
		return caseResourceURL, "the function app's URL, given as the connector's Resource URL as the tutorial does (a v1 token carries it exactly as typed)"
	}
	return caseResourceURL, "the connector's Resource URL, which a v1 token carries exactly as typed"
}

// entraClaims runs claimChecks one by one.
func (x *explainer) entraClaims() {
	for _, k := range claimChecks {
		ch := explainCheck{Name: k.name, Got: bounded.Cut(k.got(x.c), bounded.Max), Want: k.want(x.v)}
		err := k.check(x.v, x.c)
		if err == nil {
			x.pass(ch)
			continue
		}
		key := ""
		if Reason(err) == reasonIssuer {
			key = x.issuerCase()
		}
		x.fail(ch, err, sectionToken, key)
	}
}

// issuerCase names the case of a refused issuer.
func (x *explainer) issuerCase() string {
	switch tid := bounded.Lower(x.c.TenantID); {
	case tid == x.v.cfg.TenantID:
		return caseSovereign
	case tid == consumerTenantID:
		return caseConsumer
	}
	return caseOtherTenant
}

// policy runs each rule of the policy on its own, in Check's order.
func (x *explainer) policy() {
	p := x.c.principal(x.v.cfg.Source)
	pol := x.opts.Policy
	kind, actor := x.kind()

	sc := explainCheck{Name: "scopes (scp)", Got: "scp " + or(cutJoin(p.Scopes, " "), "(none)"), Want: "AUTH_REQUIRED_SCOPES: " + or(strings.Join(pol.RequiredScopes, " "), "(none required)")}
	if err := (Policy{RequiredScopes: pol.RequiredScopes}).Check(p); err != nil {
		key := ""
		switch {
		case kind == kindIDToken:
			key, sc.Problem = caseIDToken, "an ID token, which carries no scope"
		case actor == actorAppOnly:
			key = caseAppOnly
			sc.Problem = fmt.Sprintf("an app-only token (roles %s, no scp, idtyp %s): it acts for no user, and AUTH_REQUIRED_SCOPES requires the delegated scope %s",
				or(cutJoin(p.Roles, " "), "none"), or(bounded.Cut(x.c.IDType, bounded.Max), "absent"), strings.Join(pol.RequiredScopes, " "))
		case len(p.Scopes) == 0:
			sc.Problem = "the token carries no delegated scope (no scp)"
		default:
			var missing []string
			for _, s := range pol.RequiredScopes {
				if !p.hasScope(s) {
					missing = append(missing, s)
				}
			}
			sc.Problem = fmt.Sprintf("scp has %s; AUTH_REQUIRED_SCOPES requires %s; missing %s (or change AUTH_REQUIRED_SCOPES, if the API should accept the scopes the token has)",
				cutJoin(p.Scopes, " "), strings.Join(pol.RequiredScopes, " "), strings.Join(missing, " "))
		}
		x.fail(sc, err, sectionScope, key)
	} else {
		x.pass(sc)
	}

	if len(pol.RequiredRoles) > 0 {
		rc := explainCheck{Name: "roles (roles)", Got: "roles " + or(cutJoin(p.Roles, " "), "(none)"), Want: "the route's roles: " + strings.Join(pol.RequiredRoles, " ")}
		x.rule(rc, Policy{RequiredRoles: pol.RequiredRoles}, p)
	}
	claim := "azp"
	if x.c.Version == "1.0" {
		claim = "appid"
	}
	cc := explainCheck{Name: "client app (azp, appid)", Got: claim + " " + or(bounded.Cut(p.ClientAppID, bounded.Max), "(none)"), Want: "AUTH_ALLOWED_CLIENT_APPS: " + or(strings.Join(pol.AllowedClientApps, ", "), "(any)")}
	x.rule(cc, Policy{AllowedClientApps: pol.AllowedClientApps}, p)
	uc := explainCheck{Name: "users and groups (oid, groups)", Got: fmt.Sprintf("oid %s, %d group(s)", or(bounded.Cut(p.ObjectID, bounded.Max), "(none)"), len(p.Groups)),
		Want: "AUTH_ALLOWED_USERS: " + or(strings.Join(pol.AllowedUsers, ", "), "(any)") + "; AUTH_ALLOWED_GROUPS: " + or(strings.Join(pol.AllowedGroups, ", "), "(any)")}
	x.rule(uc, Policy{AllowedUsers: pol.AllowedUsers, AllowedGroups: pol.AllowedGroups}, p)
}

// rule adds the check of one allow-list.
func (x *explainer) rule(c explainCheck, pol Policy, p *Principal) {
	if err := pol.Check(p); err != nil {
		x.fail(c, err, sectionRule, "")
		return
	}
	x.pass(c)
}

// kind says what the claims make of the token: an access token or an ID
// token, delegated or app-only. idtyp app is what Entra writes in every
// app-only token; an ID token has no scp and an aud that is the client
// app's id, and usually a nonce.
func (x *explainer) kind() (kind, actor string) {
	if x.payload == nil {
		return "", ""
	}
	has := func(name string) bool { _, ok := x.payload[name]; return ok }
	idtyp, _ := x.claimString("idtyp")
	aud, _ := x.claimString("aud")
	switch {
	case idtyp == "app":
		return kindAccessToken, actorAppOnly
	case has("scp"):
		return kindAccessToken, actorDelegated
	case has("nonce") || IsGUID(aud) && !has("roles"):
		return kindIDToken, actorDelegated
	case has("roles") && !has("name") && !has("preferred_username") && !has("upn"):
		// An app token without the optional idtyp: roles, and no user.
		return kindAccessToken, actorAppOnly
	}
	return "", ""
}

// devToken reports whether the token names the local development issuer
// (dev.go): its tenant, in tid or in iss, is DevTenantID, its aud
// DevAudience or its client app DevClientAppID. They name no real tenant
// or app, so no Entra token carries them.
func (x *explainer) devToken() bool {
	tid, _ := x.claimString("tid")
	iss, _ := x.claimString("iss")
	azp, _ := x.claimString("azp")
	aud := x.claimStrings("aud")
	return bounded.EqualFold(tid, DevTenantID) || strings.Contains(bounded.Lower(iss), "/"+DevTenantID+"/") ||
		slices.Contains(aud, DevAudience) || bounded.EqualFold(azp, DevClientAppID)
}

// devServer reports whether the server judging is a dev-mode one, which
// accepts development tokens only.
func (x *explainer) devServer() bool { return x.v.cfg.Source == SourceDev }

// dev reports whether a development token or a dev-mode server is
// involved: the advice is then about minting another token.
func (x *explainer) dev() bool { return x.devToken() || x.devServer() }

// describe fills the shape, the header and the claims that matter.
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
	case e.Shape.Kind == kindIDToken:
		x.note("This is an ID token: it tells the client app who signed in, and an API must not accept it. Send the access token instead.")
	case e.Shape.Actor == actorAppOnly:
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
			e.Header = append(e.Header, ExplainedItem{Name: "nonce", Present: true, Value: "(present: a Microsoft Graph token)"})
		}
	}
	if x.payload == nil {
		return
	}
	v := x.v
	pol := x.opts.Policy
	apps := "AUTH_ALLOWED_CLIENT_APPS: " + or(strings.Join(pol.AllowedClientApps, ", "), "(any)")
	expect := map[string]string{
		"aud":   "one of AUTH_AUDIENCES: " + strings.Join(v.cfg.Audiences, ", "),
		"iss":   "one of " + strings.Join(v.issuers(), ", "),
		"tid":   "AUTH_TENANT_ID: " + v.cfg.TenantID,
		"ver":   "1.0 or 2.0",
		"scp":   "AUTH_REQUIRED_SCOPES: " + or(strings.Join(pol.RequiredScopes, " "), "(none)"),
		"roles": strings.Join(pol.RequiredRoles, " "),
		"azp":   apps,
		"appid": apps,
		"idtyp": "absent for a user's token (app: app-only)",
		"oid":   "present",
		"exp":   "after now, " + v.cfg.Leeway.String() + " of skew allowed",
		"nbf":   "before now, " + v.cfg.Leeway.String() + " of skew allowed",
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

// item renders member name of obj for display.
func (x *explainer) item(obj map[string]json.RawMessage, name string) ExplainedItem {
	it := ExplainedItem{Name: name}
	raw, ok := obj[name]
	if !ok {
		return it
	}
	it.Present = true
	switch name {
	case "exp", "nbf", "iat":
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			if f, err := n.Float64(); err == nil && f > -1e12 && f < 1e12 {
				t := time.Unix(int64(f), 0)
				it.Value = t.UTC().Format(time.RFC3339)
				it.When = relative(t.Sub(x.now))
				return it
			}
		}
	}
	it.Value = display(raw)
	return it
}

// display renders a JSON value: a string as itself, an array of strings
// space-separated, anything else as its JSON; cut.
func display(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return bounded.Cut(s, bounded.Max)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return cutJoin(list, " ")
	}
	return bounded.Cut(string(bytes.TrimSpace(raw)), bounded.Max)
}

func (x *explainer) note(s string) {
	if !slices.Contains(x.e.Notes, s) {
		x.e.Notes = append(x.e.Notes, s)
	}
}

func (x *explainer) headerHas(name string) bool {
	_, ok := x.header[name]
	return ok
}

func (x *explainer) headerString(name string) (string, bool) {
	raw, ok := x.header[name]
	if !ok {
		return "", false
	}
	return display(raw), true
}

// claimStrings reads a claim that is a string or an array of strings,
// as aud may be.
func (x *explainer) claimStrings(name string) []string {
	if s, ok := x.claimString(name); ok {
		return []string{s}
	}
	var list []string
	if raw, ok := x.payload[name]; ok && json.Unmarshal(raw, &list) == nil {
		return list
	}
	return nil
}

func (x *explainer) claimString(name string) (string, bool) {
	var s string
	raw, ok := x.payload[name]
	if !ok || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// isGraph reports whether the decoded token is for Microsoft Graph (or
// the Azure AD Graph before it).
func (x *explainer) isGraph() bool {
	return slices.ContainsFunc(x.c.Audience, func(a string) bool {
		a = bounded.Lower(strings.TrimRight(a, "/"))
		return a == graphAppID || a == graphURL || a == "https://graph.windows.net"
	})
}

func (x *explainer) headerSummary() string {
	var parts []string
	for _, name := range []string{"alg", "kid", "typ"} {
		if s, ok := x.headerString(name); ok {
			parts = append(parts, name+" "+s)
		}
	}
	return strings.Join(parts, ", ")
}

// at renders t and how far it is from now.
func (x *explainer) at(t time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + relative(t.Sub(x.now)) + ")"
}

// relative renders d, a time's distance from now, as "in 5m0s" or
// "5m0s ago".
func relative(d time.Duration) string {
	if d >= 0 {
		return in(d)
	}
	return ago(-d)
}

func in(d time.Duration) string  { return "in " + d.Round(time.Second).String() }
func ago(d time.Duration) string { return d.Round(time.Second).String() + " ago" }

// cutJoin joins values from the token and cuts the result: a claim may
// hold thousands of them.
func cutJoin(vs []string, sep string) string {
	return bounded.Cut(strings.Join(vs, sep), 2*bounded.Max)
}

// quoteAll quotes the first few of vs, and counts the rest.
func quoteAll(vs []string) []string {
	const shown = 4
	var out []string
	for i, s := range vs {
		if i == shown {
			return append(out, fmt.Sprintf("and %d more", len(vs)-shown))
		}
		out = append(out, bounded.Quote(s))
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

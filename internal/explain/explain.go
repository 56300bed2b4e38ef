package explain

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
)

// Result is one check's outcome.
type Result string

// The outcomes of a check.
const (
	Passed     Result = "pass"
	Failed     Result = "fail"
	NotChecked Result = "not checked"
)

// Kind is what kind of token the claims make it.
type Kind string

// The kinds of token Explain tells apart.
const (
	KindAccessToken Kind = "access token"
	KindIDToken     Kind = "ID token"
)

// Actor is whom a token acts for.
type Actor string

// The actors Explain tells apart.
const (
	ActorDelegated Actor = "delegated" // a signed-in user
	ActorAppOnly   Actor = "app-only"  // an application, for no user
)

// Explanation is what [Explain] found: the token's shape, the claims that
// matter beside the values the configuration expects, each check in the
// order the server runs them, and the server's verdict.
type Explanation struct {
	Shape  Shape   `json:"shape"`
	Header []Item  `json:"header,omitempty"`
	Claims []Item  `json:"claims,omitempty"`
	Checks []Check `json:"checks"`
	// Notes say what the token is, when that explains more than a check.
	Notes []string `json:"notes,omitempty"`
	// SignatureChecked says whether the signature was verified.
	SignatureChecked bool `json:"signatureChecked"`

	// The verdict is not in the JSON: handler explain reports it once,
	// beside the HTTP answer it makes.

	// Accepted is the server's verdict. With the signature not checked
	// it is the verdict for a good signature, and Conditional is set:
	// never grant access on such a verdict.
	Accepted    bool `json:"-"`
	Conditional bool `json:"-"`
	// Reason is the word the server's log line would carry for the
	// refusal ([auth.Reason]); empty when accepted.
	Reason string `json:"-"`
	// Err is the server's own answer, the trace's: nil when the token is
	// accepted.
	Err error `json:"-"`
}

// Shape is what kind of token it is.
type Shape struct {
	// JWS is set for a token of three segments whose header decodes.
	JWS bool `json:"jws"`
	// Segments is the number of dot-separated segments: a JWS has 3, an
	// encrypted token (JWE) 5.
	Segments int `json:"segments"`
	// Kind and Actor are "" when the claims do not say.
	Kind  Kind  `json:"kind,omitempty"`
	Actor Actor `json:"actor,omitempty"`
	// Version is the ver claim as written: Entra's are "1.0" and "2.0".
	Version string `json:"version,omitempty"`
}

// Item is one header member or claim, as the token has it and as the
// configuration expects it.
type Item struct {
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

// Check is one step of the server's verification or policy, as an
// operator reads it.
type Check struct {
	Name   string `json:"name"`
	Result Result `json:"result"`
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

// Explain judges raw as the server would, with [auth.Verifier.Trace], and
// says for each step what it found and, for a failure, what to change.
// The verdict is the trace's; the fixes are the reason table's, which
// docs/troubleshooting.md shows too.
//
// Explain never fails: a token it cannot read is explained as such.
func Explain(ctx context.Context, v *auth.Verifier, raw string, opts auth.TraceOptions) *Explanation {
	tr := v.Trace(ctx, raw, opts)
	e := &Explanation{Err: tr.Err, Accepted: tr.Err == nil, Reason: auth.Reason(tr.Err)}
	x := &explainer{tr: tr, cfg: tr.Config, pol: opts.Policy, opts: opts, e: e, raw: raw, now: tr.Config.Now()}
	x.read()
	x.checks()
	x.describe()
	e.Conditional = e.Accepted && !e.SignatureChecked
	return e
}

// explainer is one run of Explain.
type explainer struct {
	tr   *auth.Trace
	cfg  auth.Config
	pol  auth.Policy
	opts auth.TraceOptions
	e    *Explanation
	raw  string
	now  time.Time
	lenientToken
}

// step returns the trace's step named name; a zero Step, which did not
// run, when the trace stopped before it.
func (x *explainer) step(name string) auth.Step {
	for _, s := range x.tr.Steps {
		if s.Name == name {
			return s
		}
	}
	return auth.Step{Name: name}
}

// The checks' expectations that the configuration does not make.
const (
	wantFormat    = "a JWS: header.payload.signature, three base64url segments"
	wantHeader    = "alg RS256, a kid, typ JWT if any; no crit, b64 or zip"
	wantPayload   = "a JSON object, no security claim twice, times as numbers"
	wantSignature = "made by the tenant's key that kid names"
)

// labels name the check each step of the trace becomes, by the step's
// name: the format check is three steps (the request's syntax, the size,
// the segments).
var labels = map[string]string{
	"request":    "format",
	"keys":       "signing keys",
	"size":       "format",
	"segments":   "format",
	"header":     "header (alg, kid, typ)",
	"payload":    "claims (payload)",
	"signature":  "signature (kid)",
	"lifetime":   "lifetime (exp, nbf)",
	"audience":   "audience (aud)",
	"issuer":     "issuer (iss)",
	"tenant":     "tenant (tid)",
	"version":    "version (ver)",
	"oid":        "object id (oid)",
	"scopes":     "scopes (scp)",
	"roles":      "roles (roles)",
	"client_app": "client app (azp, appid)",
	"users":      "users and groups (oid, groups)",
}

// checks turns the trace's steps into checks, in its order.
func (x *explainer) checks() {
	for _, s := range x.tr.Steps {
		switch s.Name {
		case "request", "size", "segments":
			x.format(s)
		case "keys":
			if s.Ran {
				x.judge(Check{Name: labels[s.Name], Want: "loaded from AUTH_AUTHORITY"}, s, "")
			}
		case "header":
			x.judge(Check{Name: labels[s.Name], Want: wantHeader, Got: x.headerSummary()}, s, "")
		case "payload":
			x.judge(Check{Name: labels[s.Name], Want: wantPayload}, s, "")
		case "signature":
			x.signature(s)
		case "lifetime":
			x.lifetime(s)
		case "audience":
			x.audience(s)
		case "issuer":
			key := ""
			if auth.Reason(s.Err) == wordIssuer {
				key = x.issuerCase()
			}
			x.judge(Check{Name: labels[s.Name], Got: s.Got, Want: "one of " + s.Want}, s, key)
		case "tenant":
			x.judge(Check{Name: labels[s.Name], Got: s.Got, Want: "AUTH_TENANT_ID: " + s.Want}, s, "")
		case "version":
			x.judge(Check{Name: labels[s.Name], Got: s.Got, Want: s.Want}, s, "")
		case "oid":
			x.judge(Check{Name: labels[s.Name], Got: s.Got, Want: s.Want}, s, "")
		case "scopes":
			x.scopes(s)
		case "roles":
			if len(x.pol.RequiredRoles) > 0 {
				x.judge(Check{Name: labels[s.Name], Got: "roles " + cmp.Or(s.Got, "(none)"), Want: "the route's roles: " + s.Want}, s, "")
			}
		case "client_app":
			x.clientApp(s)
		case "users":
			x.users(s)
		default:
			// A step this package does not know yet is shown as the
			// trace has it, rather than dropped.
			if s.Ran {
				x.judge(Check{Name: s.Name, Got: s.Got, Want: s.Want}, s, "")
			}
		}
	}
}

// format adds the check of the token as a whole, which three steps make:
// its syntax, its size and its segments. A failure of any of them ends
// the trace; the segments' step, reached when the others passed, adds it
// passed.
func (x *explainer) format(s auth.Step) {
	c := Check{Name: labels[s.Name], Want: wantFormat, Got: fmt.Sprintf("%d segment(s), %d bytes", x.e.Shape.Segments, len(x.raw))}
	switch {
	case s.Name != "segments" && s.Err == nil:
		return
	case s.Name == "request":
		c.Problem = "a character no bearer token has (RFC 6750 allows letters, digits and - . _ ~ + / then =): the server refuses the request before reading it"
	case s.Name == "size":
		c.Got = fmt.Sprintf("%d bytes, more than %d", len(x.raw), auth.MaxTokenBytes)
	case s.Err != nil:
		n := x.e.Shape.Segments
		c.Problem = fmt.Sprintf("%d segment(s): not a JWS", n)
		if n == 5 {
			c.Problem += " but an encrypted token (JWE), which this API cannot read"
		}
	}
	x.judge(c, s, "")
}

// add appends a check, marking it as past the refusal when an earlier one
// failed.
func (x *explainer) add(c Check) {
	for _, prev := range x.e.Checks {
		if prev.Result == Failed {
			c.AfterRefusal = true
			break
		}
	}
	x.e.Checks = append(x.e.Checks, c)
}

// judge adds c with step s's result: passed, or failed with the fix of
// the reason table's row for key.
func (x *explainer) judge(c Check, s auth.Step, key string) {
	if s.Err != nil {
		x.fail(c, s.Err, key)
		return
	}
	c.Result = Passed
	x.add(c)
}

// fail adds c as failed with err, and the cause and fix of the reason
// table's row for key (the general row when key is "" or has none of its
// own) in the section of the answer err gets.
func (x *explainer) fail(c Check, err error, key string) {
	c.Result = Failed
	c.Reason = auth.Reason(err)
	if c.Problem == "" {
		c.Problem = problemText(err)
	}
	sec := sectionOf(err)
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

// problemText is err's detail: what the log line's error says after the
// package's prefix and the reason.
func problemText(err error) string {
	var te *auth.TokenError
	var pe *auth.PolicyError
	switch {
	case errors.As(err, &te):
		// TokenError's text is "auth: invalid token: <reason>: <detail>",
		// or without a detail the whole of it.
		return strings.TrimPrefix(te.Error(), "auth: invalid token: "+te.Reason+": ")
	case errors.As(err, &pe):
		return pe.Detail
	}
	return err.Error()
}

func (x *explainer) signature(s auth.Step) {
	c := Check{Name: labels[s.Name], Want: wantSignature}
	if kid, ok := x.headerString("kid"); ok {
		c.Got = "kid " + kid
	}
	switch {
	case !s.Ran:
		c.Result = NotChecked
		switch {
		case !x.opts.CheckSignature:
			c.Problem = "not checked offline: the tenant's signing keys were not loaded (--online loads them)"
		case x.step("keys").Err != nil:
			c.Problem = "not checked: the signing keys are not available"
		default:
			c.Problem = "not checked: the token failed an earlier check"
		}
		x.add(c)
	case errors.Is(s.Err, auth.ErrUnavailable):
		// The keys went away between the wait and the lookup.
		x.fail(c, s.Err, "")
	default:
		x.e.SignatureChecked = true
		key := ""
		if auth.Reason(s.Err) == wordSignature && (x.isGraph() || x.headerHas("nonce")) {
			key = caseGraph
		}
		x.judge(c, s, key)
	}
}

func (x *explainer) lifetime(s auth.Step) {
	leeway := x.cfg.Leeway
	c := Check{Name: labels[s.Name], Want: fmt.Sprintf("exp after now and nbf before it, with %v of clock skew allowed", leeway)}
	exp, hasExp := x.claimTime("exp")
	nbf, hasNbf := x.claimTime("nbf")
	var got []string
	if hasExp {
		got = append(got, "exp "+x.at(exp))
	}
	if hasNbf {
		got = append(got, "nbf "+x.at(nbf))
	}
	c.Got = strings.Join(got, ", ")
	switch auth.Reason(s.Err) {
	case wordExpired:
		c.Problem = fmt.Sprintf("expired %s, and the %v of skew allowed has passed too", ago(x.now.Sub(exp)), leeway)
	case wordNotYetValid:
		c.Problem = fmt.Sprintf("not valid until %s: more than the %v of skew allowed", in(nbf.Sub(x.now)), leeway)
	case wordMissingClaim:
		c.Problem = "no exp claim: every Entra access token has one"
	}
	x.judge(c, s, "")
}

func (x *explainer) audience(s auth.Step) {
	c := Check{Name: labels[s.Name], Want: "one of AUTH_AUDIENCES: " + s.Want, Got: s.Got}
	key := ""
	switch auth.Reason(s.Err) {
	case wordMissingClaim:
		c.Problem = "no aud claim"
	case wordAudience:
		aud := x.claimStrings("aud")
		var what string
		key, what = x.audienceCase(aud)
		c.Problem = fmt.Sprintf("aud %s is not in AUTH_AUDIENCES", strings.Join(quoteAll(aud), ", "))
		if what != "" {
			c.Problem += ": " + what
		}
	}
	x.judge(c, s, key)
}

// scopes adds the check of the required scopes, saying what kind of
// token lacks them.
func (x *explainer) scopes(s auth.Step) {
	req := strings.Join(x.pol.RequiredScopes, " ")
	c := Check{Name: labels[s.Name], Got: "scp " + cmp.Or(s.Got, "(none)"), Want: "AUTH_REQUIRED_SCOPES: " + cmp.Or(req, "(none required)")}
	if len(x.pol.AppRoles) > 0 && req != "" {
		// The route takes an app permission in place of the scopes
		// (auth.Policy.AppRoles), on an app-only token only.
		c.Want += "; or, on an app-only token, the function's app role " + strings.Join(x.pol.AppRoles, " or ")
		if _, actor := x.kind(); actor == ActorAppOnly {
			c.Got = "roles " + cmp.Or(x.step("roles").Got, "(none)")
		}
	}
	if auth.Reason(s.Err) != wordInsufficientScope {
		// Passed, or refused by a rule that stands in for the scopes,
		// whose own words say why.
		x.judge(c, s, "")
		return
	}
	scp, _ := x.claimString("scp")
	have := strings.Fields(scp)
	key := ""
	switch kind, actor := x.kind(); {
	case kind == KindIDToken:
		key, c.Problem = caseIDToken, "an ID token, which carries no scope"
	case actor == ActorAppOnly:
		idtyp, _ := x.claimString("idtyp")
		key = caseAppOnly
		c.Problem = fmt.Sprintf("an app-only token (roles %s, no scp, idtyp %s): it acts for no user, and AUTH_REQUIRED_SCOPES requires the delegated scope %s",
			cmp.Or(x.step("roles").Got, "none"), cmp.Or(bounded.Cut(idtyp, bounded.Max), "absent"), req)
	case len(have) == 0:
		c.Problem = "the token carries no delegated scope (no scp)"
	default:
		var missing []string
		for _, r := range x.pol.RequiredScopes {
			if !slices.Contains(have, r) {
				missing = append(missing, r)
			}
		}
		c.Problem = fmt.Sprintf("scp has %s; AUTH_REQUIRED_SCOPES requires %s; missing %s (or change AUTH_REQUIRED_SCOPES, if the API should accept the scopes the token has)",
			s.Got, req, strings.Join(missing, " "))
	}
	x.judge(c, s, key)
}

func (x *explainer) clientApp(s auth.Step) {
	claim := "azp"
	if v, _ := x.claimString("ver"); v == "1.0" {
		claim = "appid"
	}
	x.judge(Check{Name: labels[s.Name], Got: claim + " " + cmp.Or(s.Got, "(none)"),
		Want: "AUTH_ALLOWED_CLIENT_APPS: " + cmp.Or(s.Want, "(any)")}, s, "")
}

func (x *explainer) users(s auth.Step) {
	x.judge(Check{Name: labels[s.Name],
		Got: fmt.Sprintf("oid %s, %d group(s)", cmp.Or(x.step("oid").Got, "(none)"), len(x.claimStrings("groups"))),
		Want: "AUTH_ALLOWED_USERS: " + cmp.Or(strings.Join(x.pol.AllowedUsers, ", "), "(any)") +
			"; AUTH_ALLOWED_GROUPS: " + cmp.Or(strings.Join(x.pol.AllowedGroups, ", "), "(any)")}, s, "")
}

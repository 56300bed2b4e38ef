package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

// TraceOptions say how [Verifier.Trace] judges a token.
type TraceOptions struct {
	// Policy is what the server requires of a verified caller: its
	// rules are the trace's last steps.
	Policy Policy
	// CheckSignature waits for the verifier's [KeySet] and checks the
	// signature with the key the token names, as a request does. Without
	// it no key is looked up: the keys and signature steps do not run,
	// and the verdict is the server's for a good signature. (The issuers
	// the key set discovered, if any, are still the ones accepted.)
	CheckSignature bool
}

// Trace is the server's judgement of one token, step by step: what
// [Verifier.Trace] recorded.
type Trace struct {
	// Steps are the steps that were reached, in the server's order.
	Steps []Step
	// Err is the server's answer: the first step's failure, nil when the
	// token is accepted. With the signature not checked it is the answer
	// for a good signature: never grant access on such a verdict.
	Err error
	// Config is the verifier's configuration, its defaults filled in and
	// Issuers the issuers it accepts.
	Config Config
}

// Step is one step of a [Trace].
type Step struct {
	// Name names the step: request (the token's syntax, which
	// [BearerToken] judges), keys, size, segments, header, payload,
	// signature, lifetime, audience, issuer, tenant, version, oid, then
	// the policy's scopes, roles, client_app and users.
	Name string
	// Ran is false for a step that could not run: keys and signature
	// when the signature is not checked, signature also when the keys or
	// the header failed.
	Ran bool
	// Err is why the step failed, as the server would answer; nil when it
	// passed or did not run.
	Err error
	// Got is the token's value that the step judged, cut and escaped as
	// the log escapes it, and Want the configuration's; both empty for a
	// step that compares no value.
	Got, Want string
}

// Trace judges raw as the server judges a bearer token in a request:
// [BearerToken]'s check of its syntax, [Verifier.Verify]'s steps, then
// the policy's rules, the same code in the same order. Where a request
// stops at the first failure, Trace goes on through every step that can
// still run, so that every failure is recorded rather than the first
// only; it stops when nothing is left to judge (a token that is not
// token68, too large, not of three segments, or whose claims do not
// decode). The verdict is the first failure. No cache is used.
//
// Trace never fails: a token it cannot read is recorded as such.
func (v *Verifier) Trace(ctx context.Context, raw string, opts TraceOptions) *Trace {
	tr := &Trace{Config: v.config()}
	r := &run{raw: raw, pol: &opts.Policy}
	passed := func(i int) bool { return tr.Steps[i].Ran && tr.Steps[i].Err == nil }
	for i := range numSteps {
		s := Step{Name: stepNames[i]}
		switch i {
		case stepKeys:
			s.Ran = opts.CheckSignature
		case stepSignature:
			s.Ran = passed(stepKeys) && passed(stepHeader)
		default:
			s.Ran = true
		}
		if s.Ran {
			s.Err = v.step(ctx, i, r)
		}
		s.Got, s.Want = v.values(i, r)
		tr.Steps = append(tr.Steps, s)
		if s.Err != nil && tr.Err == nil {
			tr.Err = s.Err
		}
		if s.Err != nil && ends(i) {
			break
		}
	}
	return tr
}

// ends reports whether a failure of step i leaves nothing for the later
// steps to judge.
func ends(i int) bool {
	switch i {
	case stepRequest, stepSize, stepSegments, stepPayload:
		return true
	}
	return false
}

// values are the token's value and the configuration's that step i
// compares, for a trace.
func (v *Verifier) values(i int, r *run) (got, want string) {
	c := r.t.claims
	switch {
	case i == stepSignature && r.t.header != nil:
		return bounded.Cut(r.t.kid(), bounded.Max), ""
	case c == nil:
		return "", ""
	}
	switch i {
	case stepLifetime:
		var ts []string
		if c.ExpiresAt != nil {
			ts = append(ts, "exp "+c.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if c.NotBefore != nil {
			ts = append(ts, "nbf "+c.NotBefore.UTC().Format(time.RFC3339))
		}
		return strings.Join(ts, ", "), fmt.Sprintf("leeway %v", v.cfg.Leeway)
	case stepAudience:
		return cutJoin(c.Audience, ", "), strings.Join(v.cfg.Audiences, ", ")
	case stepIssuer:
		return bounded.Cut(c.Issuer, bounded.Max), strings.Join(v.issuers(), ", ")
	case stepTenant:
		return bounded.Cut(c.TenantID, bounded.Max), v.cfg.TenantID
	case stepVersion:
		return bounded.Cut(c.Version, bounded.Max), "1.0 or 2.0"
	case stepObjectID:
		return bounded.Cut(c.ObjectID, bounded.Max), "present"
	}
	if r.p == nil {
		return "", ""
	}
	p, pol := r.p, r.pol
	switch i {
	case stepScopes:
		return cutJoin(p.Scopes, " "), strings.Join(pol.RequiredScopes, " ")
	case stepRoles:
		return cutJoin(p.Roles, " "), strings.Join(pol.RequiredRoles, " ")
	case stepClientApp:
		return bounded.Cut(p.ClientAppID, bounded.Max), strings.Join(pol.AllowedClientApps, ", ")
	case stepUsers:
		return fmt.Sprintf("oid %s, %d group(s)", bounded.Cut(p.ObjectID, bounded.Max), len(p.Groups)),
			"users " + strings.Join(pol.AllowedUsers, ", ") + "; groups " + strings.Join(pol.AllowedGroups, ", ")
	}
	return "", ""
}

// cutJoin joins values from the token and cuts the result: a claim may
// hold thousands of them.
func cutJoin(vs []string, sep string) string {
	return bounded.Cut(strings.Join(vs, sep), 2*bounded.Max)
}

// config returns the verifier's effective configuration, defaults filled
// in and Issuers those it accepts. Changing it changes nothing.
func (v *Verifier) config() Config {
	c := v.cfg
	c.Audiences, c.Issuers = slices.Clone(c.Audiences), slices.Clone(v.issuers())
	return c
}

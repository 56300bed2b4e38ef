package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTracePolicyAgreesWithCheck: the trace's last steps are the policy's
// rules, run one by one, and its verdict is the one Policy.Check gives the
// principal Verify makes: for every pair of principal and policy, the
// first failed policy step is Check's answer, and each rule that fails
// alone fails its own step.
func TestTracePolicyAgreesWithCheck(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, nil)
	const group = "11111111-2222-4333-8444-555555555555"
	tokens := map[string]string{
		"delegated":          signRS256(t, v2Claims()),
		"another scope":      signRS256(t, claimsWith(v2Claims(), "scp", "Files.Read")),
		"no scope":           signRS256(t, claimsWith(v2Claims(), "scp", nil)),
		"app-only":           signRS256(t, claimsWith(v2Claims(), "scp", nil, "idtyp", "app", "roles", []string{"Data.Read"})),
		"a role and a group": signRS256(t, claimsWith(v2Claims(), "roles", []string{"Admin"}, "groups", []string{group})),
	}
	policies := map[string]Policy{
		"none":              {},
		"the scope":         {RequiredScopes: []string{DefaultRequiredScope}},
		"a role":            {RequiredRoles: []string{"Admin"}},
		"the client app":    {AllowedClientApps: []string{testClient}},
		"another app":       {AllowedClientApps: []string{group}},
		"the user":          {AllowedUsers: []string{testOID}},
		"another user":      {AllowedUsers: []string{group}},
		"the group":         {AllowedGroups: []string{group}},
		"a user or a group": {AllowedUsers: []string{testClient}, AllowedGroups: []string{group}},
		"all, another app": {RequiredScopes: []string{DefaultRequiredScope}, RequiredRoles: []string{"Admin"},
			AllowedClientApps: []string{group}, AllowedUsers: []string{group}},
	}
	for tn, tok := range tokens {
		p, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("%s: %v", tn, err)
		}
		for pn, pol := range policies {
			want := pol.Check(p)
			tr := v.Trace(context.Background(), tok, TraceOptions{Policy: pol, CheckSignature: true})
			if Reason(tr.Err) != Reason(want) || (tr.Err == nil) != (want == nil) {
				t.Errorf("%s, %s: the trace answers %v; Check %v", tn, pn, tr.Err, want)
			}
			for _, s := range tr.Steps {
				if !s.Ran {
					t.Errorf("%s, %s: step %q did not run", tn, pn, s.Name)
				}
			}
		}
	}
}

// TestTraceStops: a trace goes on past a failure while something is left
// to judge, and stops where nothing is: a token that is not token68, too
// large, not of three segments, or whose claims do not decode.
func TestTraceStops(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, nil)
	good := signRS256(t, v2Claims())
	trusted, _ := testKeys(t)
	cases := []struct {
		name, token string
		last        string // the last step recorded
	}{
		{"accepted", good, "users"},
		{"not token68", `"` + good + `"`, "request"},
		{"too large", good + strings.Repeat("A", MaxTokenBytes), "size"},
		{"two segments", "a.b", "segments"},
		{"a payload that is not JSON", signRaw(t, trusted, rawHeader, "not json"), "payload"},
		{"a header refused, claims still judged", signRaw(t, trusted, `{"alg":"none","kid":"k"}`, rawPayload(t, v2Claims())), "users"},
		{"expired, everything else judged", signRS256(t, claimsWith(v2Claims(), "exp", testNow.Add(-time.Hour).Unix(), "aud", "api://other")), "users"},
	}
	for _, c := range cases {
		tr := v.Trace(context.Background(), c.token, TraceOptions{CheckSignature: true})
		if got := tr.Steps[len(tr.Steps)-1].Name; got != c.last {
			t.Errorf("%s: the trace ends at %q, want %q (verdict %v)", c.name, got, c.last, tr.Err)
		}
	}
	// Both of the validator's failures are recorded, each at its step.
	tr := v.Trace(context.Background(), cases[len(cases)-1].token, TraceOptions{CheckSignature: true})
	if Reason(tr.Err) != reasonExpired || Reason(stepOf(tr, "audience").Err) != reasonAudience {
		t.Errorf("expired and for another API: verdict %v, audience step %v", tr.Err, stepOf(tr, "audience").Err)
	}
}

package auth

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const (
	groupA = "11b8475a-fb12-41aa-b1f6-8497c1b5385b"
	groupB = "3e28466f-c53d-46da-8b44-a4abc2ad4593"
	otherU = "0d7f3e2a-9c1b-4a8d-b6e5-f4c3b2a19087"
)

// user returns a delegated principal; mutate adjusts it.
func policyUser(mutate func(*Principal)) *Principal {
	p := &Principal{
		TenantID:     testTenant,
		ObjectID:     testOID,
		Name:         "Ada Lovelace",
		Username:     "ada@contoso.example",
		Scopes:       []string{DefaultRequiredScope},
		Roles:        []string{},
		Groups:       []string{groupA},
		ClientAppID:  testClient,
		TokenVersion: "2.0",
		Source:       SourceJWT,
	}
	if mutate != nil {
		mutate(p)
	}
	return p
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	type kind int
	const (
		allow kind = iota
		scope
		forbidden
	)
	appOnly := func(p *Principal) {
		p.AppOnly = true
		p.Name, p.Username = "", ""
		p.Roles = []string{"Data.Read.All"}
	}
	cases := []struct {
		name       string
		policy     Policy
		principal  *Principal
		want       kind
		rule       string
		scopes     []string
		detailHas  string
		detailLack string
	}{
		{name: "empty policy admits anyone", policy: Policy{}, principal: policyUser(func(p *Principal) { p.Scopes = nil; p.AppOnly = true })},
		{name: "required scope present", policy: Policy{RequiredScopes: []string{DefaultRequiredScope}}, principal: policyUser(nil)},
		{
			name:      "required scopes all present",
			policy:    Policy{RequiredScopes: []string{"Files.Read", DefaultRequiredScope}},
			principal: policyUser(func(p *Principal) { p.Scopes = []string{DefaultRequiredScope, "Mail.Send", "Files.Read"} }),
		},
		{
			name:      "one required scope missing",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope, "Files.Read"}},
			principal: policyUser(nil),
			want:      scope, rule: "AUTH_REQUIRED_SCOPES",
			scopes:    []string{DefaultRequiredScope, "Files.Read"},
			detailHas: "missing Files.Read", detailLack: "missing " + DefaultRequiredScope,
		},
		{
			name:      "scopes compared exactly",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}},
			principal: policyUser(func(p *Principal) { p.Scopes = []string{strings.ToUpper(DefaultRequiredScope)} }),
			want:      scope, rule: "AUTH_REQUIRED_SCOPES",
			scopes:    []string{DefaultRequiredScope},
			detailHas: "missing " + DefaultRequiredScope,
		},
		{
			name:      "app-only principal refused even with scopes",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}},
			principal: policyUser(func(p *Principal) { appOnly(p); p.Scopes = []string{DefaultRequiredScope} }),
			want:      scope, rule: "AUTH_REQUIRED_SCOPES",
			scopes:    []string{DefaultRequiredScope},
			detailHas: "no delegated scope",
		},
		{
			name:      "app-only principal without scopes",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}},
			principal: policyUser(func(p *Principal) { appOnly(p); p.Scopes = []string{} }),
			want:      scope, rule: "AUTH_REQUIRED_SCOPES",
			scopes:    []string{DefaultRequiredScope},
			detailHas: "no delegated scope",
		},
		{
			name:      "principal with no scopes",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}},
			principal: policyUser(func(p *Principal) { p.Scopes = nil }),
			want:      scope, rule: "AUTH_REQUIRED_SCOPES",
			scopes:    []string{DefaultRequiredScope},
			detailHas: "no delegated scope",
		},
		{
			name:      "app-only principal with an app permission passes in place of the scope",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}, AppRoles: []string{"Tasks.ReadWrite.All"}},
			principal: policyUser(func(p *Principal) { appOnly(p); p.Roles = []string{"Other", "Tasks.ReadWrite.All"} }),
		},
		{
			name:      "app-only principal without the app permission",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}, AppRoles: []string{"Tasks.ReadWrite.All"}},
			principal: policyUser(appOnly),
			want:      forbidden, rule: "route roles", detailHas: `"Tasks.ReadWrite.All"`,
		},
		{
			name:      "app-only principal with the scope but not the app permission",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}, AppRoles: []string{"Tasks.ReadWrite.All"}},
			principal: policyUser(func(p *Principal) { appOnly(p); p.Scopes = []string{DefaultRequiredScope} }),
			want:      forbidden, rule: "route roles", detailHas: `"Tasks.ReadWrite.All"`,
		},
		{
			name:      "app permission compared exactly",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}, AppRoles: []string{"Tasks.ReadWrite.All"}},
			principal: policyUser(func(p *Principal) { appOnly(p); p.Roles = []string{"tasks.readwrite.all"} }),
			want:      forbidden, rule: "route roles",
		},
		{
			name:      "a delegated caller with the role but not the scope",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}, AppRoles: []string{"Tasks.ReadWrite.All"}},
			principal: policyUser(func(p *Principal) { p.Scopes = []string{"openid"}; p.Roles = []string{"Tasks.ReadWrite.All"} }),
			want:      scope, rule: "AUTH_REQUIRED_SCOPES", scopes: []string{DefaultRequiredScope},
			detailHas: "missing " + DefaultRequiredScope,
		},
		{
			name:      "app permission still meets the allow-lists",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}, AppRoles: []string{"Tasks.ReadWrite.All"}, AllowedClientApps: []string{"not-this-one"}},
			principal: policyUser(func(p *Principal) { appOnly(p); p.Roles = []string{"Tasks.ReadWrite.All"} }),
			want:      forbidden, rule: "AUTH_ALLOWED_CLIENT_APPS",
		},
		{
			name:      "app-only principal passes a roles-only policy",
			policy:    Policy{RequiredRoles: []string{"Data.Read.All"}},
			principal: policyUser(appOnly),
		},
		{
			name:      "required roles present",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}, RequiredRoles: []string{"Task.Admin", "Task.Read"}},
			principal: policyUser(func(p *Principal) { p.Roles = []string{"Task.Read", "Task.Admin"} }),
		},
		{
			name:      "required role missing",
			policy:    Policy{RequiredScopes: []string{DefaultRequiredScope}, RequiredRoles: []string{"Task.Read", "Task.Admin"}},
			principal: policyUser(func(p *Principal) { p.Roles = []string{"Task.Read"} }),
			want:      forbidden, rule: "route roles", detailHas: `"Task.Admin"`,
		},
		{
			name:      "roles compared exactly",
			policy:    Policy{RequiredRoles: []string{"Task.Admin"}},
			principal: policyUser(func(p *Principal) { p.Roles = []string{"task.admin"} }),
			want:      forbidden, rule: "route roles",
		},
		{
			name:      "client app listed",
			policy:    Policy{AllowedClientApps: []string{"ffffffff-0000-4000-8000-000000000000", testClient}},
			principal: policyUser(nil),
		},
		{
			name:      "client app matched case-insensitively",
			policy:    Policy{AllowedClientApps: []string{strings.ToUpper(testClient)}},
			principal: policyUser(nil),
		},
		{
			name:      "client app not listed",
			policy:    Policy{AllowedClientApps: []string{"ffffffff-0000-4000-8000-000000000000"}},
			principal: policyUser(nil),
			want:      forbidden, rule: "AUTH_ALLOWED_CLIENT_APPS", detailHas: testClient,
		},
		{
			name:      "no client app with an allow-list",
			policy:    Policy{AllowedClientApps: []string{testClient}},
			principal: policyUser(func(p *Principal) { p.ClientAppID = "" }),
			want:      forbidden, rule: "AUTH_ALLOWED_CLIENT_APPS",
		},
		{
			name:      "listed user",
			policy:    Policy{AllowedUsers: []string{otherU, strings.ToUpper(testOID)}},
			principal: policyUser(nil),
		},
		{
			name:      "user not listed",
			policy:    Policy{AllowedUsers: []string{otherU}},
			principal: policyUser(nil),
			want:      forbidden, rule: "AUTH_ALLOWED_USERS", detailHas: "not listed",
		},
		{
			name:      "member of a listed group",
			policy:    Policy{AllowedGroups: []string{groupB, strings.ToUpper(groupA)}},
			principal: policyUser(nil),
		},
		{
			name:      "not a member of a listed group",
			policy:    Policy{AllowedGroups: []string{groupB}},
			principal: policyUser(nil),
			want:      forbidden, rule: "AUTH_ALLOWED_GROUPS", detailHas: "not listed",
		},
		{
			name:      "users or groups: listed user outside the groups",
			policy:    Policy{AllowedUsers: []string{testOID}, AllowedGroups: []string{groupB}},
			principal: policyUser(nil),
		},
		{
			name:      "users or groups: unlisted member of a listed group",
			policy:    Policy{AllowedUsers: []string{otherU}, AllowedGroups: []string{groupA}},
			principal: policyUser(nil),
		},
		{
			name:      "users or groups: neither",
			policy:    Policy{AllowedUsers: []string{otherU}, AllowedGroups: []string{groupB}},
			principal: policyUser(nil),
			want:      forbidden, rule: "AUTH_ALLOWED_USERS/AUTH_ALLOWED_GROUPS",
		},
		{
			name:      "groups overage with a group rule",
			policy:    Policy{AllowedGroups: []string{groupA}},
			principal: policyUser(func(p *Principal) { p.Groups = []string{}; p.GroupsOverage = true }),
			want:      forbidden, rule: "AUTH_ALLOWED_GROUPS", detailHas: "overage",
		},
		{
			name:      "groups overage with a user rule only",
			policy:    Policy{AllowedUsers: []string{otherU}},
			principal: policyUser(func(p *Principal) { p.Groups = []string{}; p.GroupsOverage = true }),
			want:      forbidden, rule: "AUTH_ALLOWED_USERS", detailHas: "not listed", detailLack: "overage",
		},
		{
			name:      "groups overage but listed user",
			policy:    Policy{AllowedUsers: []string{testOID}, AllowedGroups: []string{groupA}},
			principal: policyUser(func(p *Principal) { p.Groups = []string{}; p.GroupsOverage = true }),
		},
		{
			name: "scope refusal comes before allow-lists",
			policy: Policy{
				RequiredScopes:    []string{"Files.Read"},
				AllowedClientApps: []string{"ffffffff-0000-4000-8000-000000000000"},
				AllowedUsers:      []string{otherU},
			},
			principal: policyUser(nil),
			want:      scope, rule: "AUTH_REQUIRED_SCOPES", scopes: []string{"Files.Read"},
		},
		{
			name: "client app refusal comes before the user rule",
			policy: Policy{
				AllowedClientApps: []string{"ffffffff-0000-4000-8000-000000000000"},
				AllowedUsers:      []string{otherU},
			},
			principal: policyUser(nil),
			want:      forbidden, rule: "AUTH_ALLOWED_CLIENT_APPS",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.policy.Check(c.principal)
			if c.want == allow {
				if err != nil {
					t.Fatalf("Check: %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check = %v (%T), want a *PolicyError", err, err)
			}
			isScope, isForbidden := errors.Is(err, ErrInsufficientScope), errors.Is(err, ErrForbidden)
			if c.want == scope && (!isScope || isForbidden) || c.want == forbidden && (!isForbidden || isScope) {
				t.Errorf("errors.Is: insufficient scope %v, forbidden %v; wrong kind for %v", isScope, isForbidden, err)
			}
			if errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrNoCredentials) {
				t.Errorf("policy error %v matches an authentication kind", err)
			}
			if pe.Rule != c.rule {
				t.Errorf("Rule = %q, want %q", pe.Rule, c.rule)
			}
			if !reflect.DeepEqual(pe.Scopes, c.scopes) {
				t.Errorf("Scopes = %q, want %q", pe.Scopes, c.scopes)
			}
			if !strings.Contains(pe.Detail, c.detailHas) {
				t.Errorf("Detail = %q, want it to contain %q", pe.Detail, c.detailHas)
			}
			if c.detailLack != "" && strings.Contains(pe.Detail, c.detailLack) {
				t.Errorf("Detail = %q, should not contain %q", pe.Detail, c.detailLack)
			}
			wantReason := c.rule
			if c.want == scope {
				wantReason = "insufficient_scope"
			}
			if got := Reason(err); got != wantReason {
				t.Errorf("Reason = %q, want %q", got, wantReason)
			}
			if !Explained(Reason(err)) {
				t.Errorf("the refusal's reason %q has no row in the reason table", Reason(err))
			}
		})
	}
}

func TestPolicyCheckDoesNotMutate(t *testing.T) {
	t.Parallel()
	p := policyUser(func(p *Principal) { p.Scopes = []string{"a"}; p.Groups = []string{groupB} })
	before := *p
	before.Scopes = append([]string(nil), p.Scopes...)
	before.Groups = append([]string(nil), p.Groups...)
	pol := Policy{RequiredScopes: []string{"a", "b"}, AllowedGroups: []string{groupA}}
	_ = pol.Check(p)
	if !reflect.DeepEqual(*p, before) {
		t.Errorf("Check changed the principal: %+v", p)
	}
	if !reflect.DeepEqual(pol.RequiredScopes, []string{"a", "b"}) {
		t.Errorf("Check changed the policy: %q", pol.RequiredScopes)
	}
}

func TestPolicyRequire(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                   string
		base                   Policy
		scopes, roles          []string
		wantScopes, wantRoles  []string
		wantBaseS, wantBaseRls []string
	}{
		{
			name: "adds to empty", base: Policy{},
			scopes: []string{"a"}, roles: []string{"r"},
			wantScopes: []string{"a"}, wantRoles: []string{"r"},
		},
		{
			name:   "union without duplicates",
			base:   Policy{RequiredScopes: []string{"a", "b"}, RequiredRoles: []string{"r1"}},
			scopes: []string{"b", "c", "c", "a"}, roles: []string{"r1", "r2", "r2"},
			wantScopes: []string{"a", "b", "c"}, wantRoles: []string{"r1", "r2"},
			wantBaseS: []string{"a", "b"}, wantBaseRls: []string{"r1"},
		},
		{
			name:       "nothing added",
			base:       Policy{RequiredScopes: []string{"a"}},
			wantScopes: []string{"a"},
			wantBaseS:  []string{"a"},
		},
		{
			name:   "union is case-sensitive like the checks",
			base:   Policy{RequiredScopes: []string{"a"}},
			scopes: []string{"A"}, wantScopes: []string{"a", "A"},
			wantBaseS: []string{"a"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := c.base.Require(c.scopes, c.roles)
			if len(got.RequiredScopes) != 0 || len(c.wantScopes) != 0 {
				if !reflect.DeepEqual(got.RequiredScopes, c.wantScopes) {
					t.Errorf("RequiredScopes = %q, want %q", got.RequiredScopes, c.wantScopes)
				}
			}
			if len(got.RequiredRoles) != 0 || len(c.wantRoles) != 0 {
				if !reflect.DeepEqual(got.RequiredRoles, c.wantRoles) {
					t.Errorf("RequiredRoles = %q, want %q", got.RequiredRoles, c.wantRoles)
				}
			}
			if len(c.base.RequiredScopes) != len(c.wantBaseS) || len(c.wantBaseS) > 0 && !reflect.DeepEqual(c.base.RequiredScopes, c.wantBaseS) {
				t.Errorf("receiver's scopes changed to %q", c.base.RequiredScopes)
			}
			if len(c.base.RequiredRoles) != len(c.wantBaseRls) || len(c.wantBaseRls) > 0 && !reflect.DeepEqual(c.base.RequiredRoles, c.wantBaseRls) {
				t.Errorf("receiver's roles changed to %q", c.base.RequiredRoles)
			}
		})
	}
}

// Require must never write into the receiver's backing arrays, even when
// they have spare capacity, and two routes derived from one base policy
// must not share requirements.
func TestPolicyRequireAliasing(t *testing.T) {
	t.Parallel()
	scopes := make([]string, 1, 8)
	scopes[0] = "base"
	roles := make([]string, 1, 8)
	roles[0] = "base-role"
	base := Policy{
		RequiredScopes:    scopes,
		RequiredRoles:     roles,
		AllowedClientApps: []string{testClient},
		AllowedUsers:      []string{testOID},
		AllowedGroups:     []string{groupA},
	}

	r1 := base.Require([]string{"one"}, []string{"role-one"})
	r2 := base.Require([]string{"two"}, []string{"role-two"})

	if want := []string{"base", "one"}; !reflect.DeepEqual(r1.RequiredScopes, want) {
		t.Errorf("route 1 scopes = %q, want %q", r1.RequiredScopes, want)
	}
	if want := []string{"base", "two"}; !reflect.DeepEqual(r2.RequiredScopes, want) {
		t.Errorf("route 2 scopes = %q, want %q", r2.RequiredScopes, want)
	}
	if want := []string{"base-role", "role-one"}; !reflect.DeepEqual(r1.RequiredRoles, want) {
		t.Errorf("route 1 roles = %q, want %q", r1.RequiredRoles, want)
	}
	if got := scopes[:2]; got[1] != "" {
		t.Errorf("Require wrote %q into the receiver's spare capacity", got[1])
	}
	if got := roles[:2]; got[1] != "" {
		t.Errorf("Require wrote %q into the receiver's spare role capacity", got[1])
	}
	if len(base.RequiredScopes) != 1 || len(base.RequiredRoles) != 1 {
		t.Errorf("receiver changed: %+v", base)
	}

	// Changing a derived policy leaves the base and its siblings alone.
	r1.RequiredScopes[0] = "changed"
	r1.RequiredRoles[0] = "changed"
	if base.RequiredScopes[0] != "base" || r2.RequiredScopes[0] != "base" || base.RequiredRoles[0] != "base-role" {
		t.Errorf("derived policies share the base's array: base %q, r2 %q", base.RequiredScopes, r2.RequiredScopes)
	}
	// A derived policy of a derived policy is independent too.
	r3 := r2.Require([]string{"three"}, nil)
	r4 := r2.Require([]string{"four"}, nil)
	if r3.RequiredScopes[2] != "three" || r4.RequiredScopes[2] != "four" {
		t.Errorf("grandchildren share an array: %q, %q", r3.RequiredScopes, r4.RequiredScopes)
	}
	// The allow-lists are carried over.
	if !reflect.DeepEqual(r1.AllowedClientApps, base.AllowedClientApps) ||
		!reflect.DeepEqual(r1.AllowedUsers, base.AllowedUsers) ||
		!reflect.DeepEqual(r1.AllowedGroups, base.AllowedGroups) {
		t.Errorf("Require dropped allow-lists: %+v", r1)
	}
}

func TestPolicyErrorText(t *testing.T) {
	t.Parallel()
	se := &PolicyError{Rule: "AUTH_REQUIRED_SCOPES", Scopes: []string{"a", "b"}, Detail: "missing b"}
	if got, want := se.Error(), "auth: insufficient scope: need a b: missing b"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	fe := &PolicyError{Rule: "AUTH_ALLOWED_USERS", Detail: "the caller is not listed"}
	if got, want := fe.Error(), "auth: caller not allowed by AUTH_ALLOWED_USERS: the caller is not listed"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"token error", &TokenError{Reason: "expired"}, "expired"},
		{"wrapped token error", fmt.Errorf("verify: %w", &TokenError{Reason: "audience", Err: errors.New("x")}), "audience"},
		{"scope refusal", &PolicyError{Rule: "AUTH_REQUIRED_SCOPES", Scopes: []string{"s"}}, "insufficient_scope"},
		{"forbidden", &PolicyError{Rule: "AUTH_ALLOWED_CLIENT_APPS"}, "AUTH_ALLOWED_CLIENT_APPS"},
		{"wrapped forbidden", fmt.Errorf("route: %w", &PolicyError{Rule: "route roles"}), "route roles"},
		{"no credentials", ErrNoCredentials, "no_credentials"},
		{"wrapped no credentials", fmt.Errorf("x: %w", ErrNoCredentials), "no_credentials"},
		{"request error", &RequestError{Description: "d"}, "invalid_request"},
		{"invalid request sentinel", ErrInvalidRequest, "invalid_request"},
		{"unavailable", ErrUnavailable, "keys_unavailable"},
		{"wrapped unavailable", fmt.Errorf("keys: %w", ErrUnavailable), "keys_unavailable"},
		{"foreign error", errors.New("disk full"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := Reason(c.err); got != "" && !Explained(got) {
				t.Errorf("Reason(%v) = %q, which the reason table does not explain", c.err, got)
			}
			if got := Reason(c.err); got != c.want {
				t.Errorf("Reason(%v) = %q, want %q", c.err, got, c.want)
			}
		})
	}
}

// Every error this package makes matches exactly one kind.
func TestErrorKindsAreExclusive(t *testing.T) {
	t.Parallel()
	kinds := []error{ErrNoCredentials, ErrInvalidRequest, ErrInvalidToken, ErrInsufficientScope, ErrForbidden, ErrUnavailable}
	for _, err := range []error{
		&RequestError{Description: "d"},
		&TokenError{Reason: "expired"},
		&PolicyError{Rule: "AUTH_REQUIRED_SCOPES", Scopes: []string{"s"}},
		&PolicyError{Rule: "AUTH_ALLOWED_USERS"},
	} {
		n := 0
		for _, k := range kinds {
			if errors.Is(err, k) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%T %v matches %d kinds, want 1", err, err, n)
		}
	}
	if got := (&RequestError{Description: "two headers"}).Error(); got != "auth: invalid request: two headers" {
		t.Errorf("RequestError.Error() = %q", got)
	}
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/entrafunc/entrafunc/auth"
)

// listFlag collects a repeatable flag; each use may also hold several
// space- or comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })...)
	return nil
}

const tokenUsage = `usage: handler token [--dev] [flags]

Print a development access token, signed with the local development key,
that a dev-mode server accepts (AUTH_MODE=dev, or handler dev). It carries
the claims of an Entra ID v2.0 delegated token.

It is issued for AUTH_TENANT_ID and the first of AUTH_AUDIENCES when they
are set, as a dev-mode server with those settings expects, otherwise for
the fixed dev tenant and audience. With --dev it is always issued for the
fixed dev tenant and audience, whatever the environment says: what a
handler dev server expects.

--scope none issues a token whose only scope is one named "none": without
the required scope (user_impersonation unless AUTH_REQUIRED_SCOPES says
otherwise), so the server answers 403.

examples:
  handler token --dev --name Marc
  handler token --dev --scope none        # expect 403
  handler token --dev --expired           # expect 401 (token_expired)
  handler token --role Admin --group 6b9e… --lifetime 10m
  handler token --dev --name Ana --role Tasks.ReadWrite.All   # every task of the tenant
  handler token --dev --app-only --role Tasks.ReadWrite.All   # the same, as an app
`

// token prints a development access token that a dev-mode server accepts.
// It is issued for AUTH_TENANT_ID and the first of AUTH_AUDIENCES when they
// are set, as the server expects, otherwise (and always with --dev) for
// the fixed dev tenant and audience.
func token(args []string, lookup lookupFunc, stdout, stderr io.Writer) error {
	f := newFlags("token", tokenUsage, stdout, stderr)
	var t auth.DevToken
	var scopes, roles, groups listFlag
	devServer := f.Bool("dev", false, "issue for the fixed dev tenant and audience, as handler dev expects, ignoring AUTH_TENANT_ID and AUTH_AUDIENCES")
	f.StringVar(&t.Name, "name", "Dev User", "the user's display name (name claim)")
	f.StringVar(&t.Username, "username", "", "the sign-in name (preferred_username); default from --name")
	f.StringVar(&t.ObjectID, "oid", "", "the user's object id; default derived from tenant and username")
	f.Var(&scopes, "scope", "delegated scope (scp), repeatable; default "+auth.DefaultRequiredScope+`; "none" for a token without it`)
	f.Var(&roles, "role", "app role (roles), repeatable")
	f.Var(&groups, "group", "group object id (groups), repeatable")
	f.StringVar(&t.ClientAppID, "client-app", auth.DevClientAppID, "the calling app's client id (azp)")
	f.DurationVar(&t.Lifetime, "lifetime", time.Hour, "how long the token is valid")
	f.BoolVar(&t.AppOnly, "app-only", false, "issue an app-only token (idtyp app, no scp), as a service-principal connection gets; give it --role Tasks.ReadWrite.All to be the tenant's administrator of Tasks")
	expired := f.Bool("expired", false, "issue a token that expired an hour ago, beyond the 5 minutes of clock skew servers allow: for trying the 401 and handler explain")
	if help, err := f.parse(args); help || err != nil {
		return err
	}
	if t.Lifetime <= 0 {
		return f.fail(errors.New("--lifetime must be positive"))
	}
	if t.AppOnly && len(scopes) > 0 {
		return f.fail(errors.New("--app-only and --scope do not go together: an app-only token carries app roles (--role), never delegated scopes"))
	}
	if *expired {
		lifetimeSet := false
		f.Visit(func(fl *flag.Flag) { lifetimeSet = lifetimeSet || fl.Name == "lifetime" })
		if lifetimeSet {
			return f.fail(errors.New("--expired and --lifetime do not go together"))
		}
		// Issued two hours ago for one hour: expired an hour ago, far
		// beyond any verifier's clock skew.
		t.Now, t.Lifetime = time.Now().Add(-2*time.Hour), time.Hour
	}
	// Like the server, token reads the whole configuration but judges only
	// what it needs: the tenant, the audience and where the key lives.
	// With --dev it reads what handler dev reads, so that the two agree.
	env := lookupFunc(func(k string) (string, bool) {
		if k == "AUTH_MODE" {
			return modeDev, true
		}
		return lookup(k)
	})
	if *devServer {
		env = newDevEnv(lookup, "").get
	}
	// Only the key's place is judged from the problems: the rest of the
	// configuration is the server's concern, not the token's.
	c, errs := readConfig(env)
	if c.Platform.InAzure() {
		return errors.New("token: development tokens are not issued in Azure (" + c.Platform.Why() + ")")
	}
	cfg := c.Auth
	if cfg.TenantID != "" && !auth.IsGUID(cfg.TenantID) {
		return fmt.Errorf("token: AUTH_TENANT_ID=%s is not a tenant GUID", shown(cfg.TenantID))
	}
	for _, err := range errs {
		if place := (devKeyPlaceError{}); errors.As(err, &place) {
			return fmt.Errorf("token: %w", err)
		}
	}
	if cfg.DevKeyFile == "" {
		return errors.New("token: cannot find a place for the development key: set AUTH_DEV_KEY_FILE")
	}
	t.TenantID, t.Audience = cfg.TenantID, cfg.Audiences[0]
	t.Scopes, t.Roles, t.Groups = scopes, roles, groups
	key, err := auth.LoadOrCreateDevKey(cfg.DevKeyFile)
	if err != nil {
		return err
	}
	tok, err := key.Mint(t)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

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

// token prints a development access token that a dev-mode server accepts.
// It is issued for AUTH_TENANT_ID and the first of AUTH_AUDIENCES when they
// are set, as the server expects, otherwise for the fixed dev tenant and
// audience.
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("handler token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var t auth.DevToken
	var scopes, roles, groups listFlag
	fs.StringVar(&t.Name, "name", "Dev User", "the user's display name (name claim)")
	fs.StringVar(&t.Username, "username", "", "the sign-in name (preferred_username); default from --name")
	fs.StringVar(&t.ObjectID, "oid", "", "the user's object id; default derived from tenant and username")
	fs.Var(&scopes, "scope", "delegated scope (scp), repeatable; default "+auth.DefaultRequiredScope)
	fs.Var(&roles, "role", "app role (roles), repeatable")
	fs.Var(&groups, "group", "group object id (groups), repeatable")
	fs.StringVar(&t.ClientAppID, "client-app", auth.DevClientAppID, "the calling app's client id (azp)")
	fs.DurationVar(&t.Lifetime, "lifetime", time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected argument %q", fs.Arg(0))
	}
	if t.Lifetime <= 0 {
		return errors.New("token: --lifetime must be positive")
	}
	// Like the server, token reads the whole configuration but judges only
	// what it needs: the tenant, the audience and where the key lives.
	cfg, _ := readConfig(func(k string) string {
		if k == "AUTH_MODE" {
			return modeDev
		}
		return getenv(k)
	})
	if cfg.InAzure {
		return errors.New("token: development tokens are not issued in Azure (WEBSITE_INSTANCE_ID is set)")
	}
	if cfg.TenantID != "" && !auth.IsGUID(cfg.TenantID) {
		return fmt.Errorf("token: AUTH_TENANT_ID=%q is not a tenant GUID", cfg.TenantID)
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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/connector"
	"github.com/entrafunc/entrafunc/internal/bounded"
)

const checkUsage = `usage: handler check [--online] [--connector-resource URL]

Validate the configuration in the environment, print the effective
settings, and list every problem at once; exit 1 if there is any.
Warn, without failing, when AUTH_AUDIENCES cannot match the aud of v2
tokens (always the API's client id) or of v1 tokens (the App ID URI or
URL asked for): the app registration's manifest decides the version.

With --online, once the configuration is valid, also load the tenant's
OpenID metadata and signing keys from AUTH_AUTHORITY, as the server would,
and print the issuers, key ids and metadata URLs, or the failure (a
mistyped AUTH_TENANT_ID shows as Entra's AADSTS90002). That is for jwt mode
and for easyauth with AUTH_EASYAUTH_VERIFY_TOKEN=true; other modes fetch
nothing. check never serves.

With --connector-resource, also check a connector's Resource URL against
AUTH_AUDIENCES: a connector's token carries its Resource URL as aud, so a
URL the API does not accept makes every call a 401. check names both and
exits 1.
`

// maxSettingShown bounds a value in check's settings table.
const maxSettingShown = 512

// check validates the configuration and prints the effective settings.
// It lists every problem at once and fails if there is any.
func check(ctx context.Context, args []string, lookup lookupFunc, stdout, stderr io.Writer) error {
	f := newFlags("check", checkUsage, stdout, stderr)
	online := f.Bool("online", false, "also fetch the tenant's metadata and signing keys")
	resource := f.String("connector-resource", "", "a custom connector's Resource URL, to check against AUTH_AUDIENCES")
	if help, err := f.parse(args); help || err != nil {
		return err
	}
	cfg, errs := readConfig(lookup)
	errs = append(errs, cfg.Tasks.problems...)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, s := range cfg.settings() {
		// The values are the environment's, whatever it holds: a token
		// pasted into a setting is not shown, and no character in them
		// acts on the terminal.
		fmt.Fprintf(tw, "%s\t%s\n", s[0], bounded.Cut(bounded.Redact(s[1]), maxSettingShown))
	}
	tw.Flush()
	if err := problems(errs); err != nil {
		return err
	}
	// Warnings do not fail the check: the token version they depend on is
	// set in the app registration, out of this process's sight.
	for _, w := range audienceWarnings(cfg.Auth) {
		fmt.Fprintln(stdout, "WARNING: "+w)
	}
	fmt.Fprintln(stdout, "configuration OK")
	// Both checks run, whatever the other found.
	var failed []error
	if *resource != "" {
		failed = append(failed, checkConnectorResource(cfg, *resource, stdout))
	}
	if *online {
		failed = append(failed, checkOnline(ctx, cfg.Auth, stdout))
	}
	return errors.Join(failed...)
}

// checkConnectorResource says whether tokens a connector gets for
// resource would pass the API's audience check.
func checkConnectorResource(cfg config, resource string, stdout io.Writer) error {
	if len(cfg.Auth.Audiences) == 0 {
		// Easy Auth without AUTH_EASYAUTH_VERIFY_TOKEN: the platform checks
		// the audience, against a list this process cannot see. A check
		// that could not check does not pass.
		fmt.Fprintf(stdout, "connector resource %s: cannot check: AUTH_AUDIENCES is not set, so Easy Auth's allowed token audiences decide; set AUTH_AUDIENCES to the same list to check against it\n", shown(resource))
		return fmt.Errorf("connector resource %s: not checked: AUTH_AUDIENCES is not set", shown(resource))
	}
	if err := connector.CheckResource(resource, cfg.Auth.Audiences); err != nil {
		fmt.Fprintf(stdout, "WARNING: %v\n", err)
		return fmt.Errorf("connector resource %s is not among AUTH_AUDIENCES", shown(resource))
	}
	fmt.Fprintf(stdout, "connector resource %s: OK, among AUTH_AUDIENCES\n", shown(resource))
	return nil
}

// checkOnline loads the signing keys once, as the server would, and says
// what came back.
func checkOnline(ctx context.Context, a authConfig, stdout io.Writer) error {
	switch {
	case a.Mode == modeDev:
		fmt.Fprintln(stdout, "online: nothing to fetch: dev mode checks tokens against the local development key")
		return nil
	case a.Mode == modeEasyAuth && !a.EasyAuthVerifyToken:
		fmt.Fprintln(stdout, "online: nothing to fetch: easyauth mode without AUTH_EASYAUTH_VERIFY_TOKEN loads no signing keys")
		return nil
	}
	mv, err := newVerifier(ctx, a, verifierOptions{keys: keysOnce})
	if err != nil {
		return err
	}
	keys, took, err := mv.Entra, mv.Took, mv.LoadErr

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	row := func(name string, values []string) {
		for i, v := range values {
			if i > 0 {
				name = ""
			}
			fmt.Fprintf(tw, "%s\t%s\n", name, v)
		}
	}
	row("METADATA", keys.MetadataURLs())
	if err != nil {
		row("TOOK", []string{took.String()})
		tw.Flush()
		return fmt.Errorf("online check: loading the signing keys failed: %w", err)
	}
	row("ISSUERS", keys.Issuers())
	row("SIGNING_KEYS", []string{fmt.Sprintf("%d: %s", len(keys.KeyIDs()), strings.Join(keys.KeyIDs(), ", "))})
	row("TOOK", []string{took.String()})
	tw.Flush()
	fmt.Fprintln(stdout, "online check OK")
	return nil
}

// audienceWarnings says which tokens AUTH_AUDIENCES would refuse for the
// token version they come in, although the configuration is valid. The
// API registration's manifest (requestedAccessTokenVersion) decides that
// version, and no setting here carries it, so each version is judged:
//
//   - a v2 access token's aud is always the API's client id, a GUID;
//   - a v1 token's aud is the resource the client asked for: the App ID
//     URI (api://…), a URL, or the client id when asked for by it
//     (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
//
// Audiences are compared exactly, and Entra writes GUIDs in lower case.
// Dev mode issues its own tokens for the first audience, and without
// AUTH_AUDIENCES Easy Auth's own list decides: neither is judged here.
func audienceWarnings(cfg authConfig) []string {
	if cfg.Mode == modeDev || len(cfg.Audiences) == 0 {
		return nil
	}
	refused := "get 401 (reason audience)"
	if cfg.Mode == modeEasyAuth {
		refused = "get 403 (rule AUTH_AUDIENCES)"
	}
	var warnings []string
	var guids, others, appIDURIs []string
	for _, a := range cfg.Audiences {
		switch {
		case auth.IsGUID(a) && a != strings.ToLower(a):
			warnings = append(warnings, fmt.Sprintf("AUTH_AUDIENCES: %s has capital letters, but Entra writes the client id in lower case and audiences are compared exactly: tokens with it as aud would %s; write it in lower case", shown(a), refused))
		case auth.IsGUID(a):
			guids = append(guids, a)
		default:
			others = append(others, a)
			if id, ok := strings.CutPrefix(a, "api://"); ok && auth.IsGUID(id) {
				appIDURIs = append(appIDURIs, strings.ToLower(id))
			}
		}
	}
	switch {
	case len(guids) == 0:
		hint := "the API registration's Application (client) ID"
		if len(appIDURIs) > 0 {
			hint = appIDURIs[0] + " (the client id in the App ID URI api://" + appIDURIs[0] + ")"
		}
		warnings = append(warnings, fmt.Sprintf("AUTH_AUDIENCES has no client id (a GUID): a v2 access token's aud is always the API's client id, so if the API registration asks for v2 tokens (requestedAccessTokenVersion 2, as deploy/provision.sh sets) every call would %s; add %s", refused, hint))
	case len(others) == 0:
		warnings = append(warnings, fmt.Sprintf("AUTH_AUDIENCES holds client ids only: a v1 access token's aud is the resource the connector asked for, usually the App ID URI (api://…) or a URL, so unless the API registration asks for v2 tokens (requestedAccessTokenVersion 2) or the connector's Resource URL is the client id itself, calls would %s; add the App ID URI (api://%s)", refused, guids[0]))
	}
	return warnings
}

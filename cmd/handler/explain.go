package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/entrafunc/entrafunc/api"
	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
	// Named apart from this file's explain command.
	expl "github.com/entrafunc/entrafunc/internal/explain"
)

const explainUsage = `usage: handler explain [--online] [--json] [--dev] [--function NAME] TOKEN|-

Say whether the server, configured by this environment as serve is, would
accept an access token, and if not, why and what to change. The token goes
through the server's own verifier and policy, check by check: each ✗ names
the reason word the log would carry, both values, and the setting
(AUTH_AUDIENCES, AUTH_TENANT_ID, AUTH_REQUIRED_SCOPES, …) or the connector
or app registration field to change.

Give the token as the argument, or - to read it from standard input so it
stays out of the shell's history. A leading "Bearer " is ignored. The
output never contains the token's signature, nor claims about the person
beyond oid and name.

Offline (the default) nothing is fetched and the signature is not checked:
everything else is judged, and an accepted token is accepted "if the
signature is good". With --online the tenant's signing keys are loaded
from AUTH_AUTHORITY as the server loads them, and the signature is checked
too. In dev mode the signature is checked against the local development
key, offline; --dev judges as handler dev (make dev) would, whatever the
environment's AUTH_* settings say.

Exit status: 0 when the server would accept the token, 1 when it would
refuse it, 2 for a usage or configuration error (nothing was judged).

examples:
  handler explain --dev "$(handler token --dev --scope none)"
  pbpaste | handler explain -
  AUTH_TENANT_ID=… AUTH_AUDIENCES=api://… handler explain --online - < token.txt
  handler explain --json - < token.txt | jq '.checks[] | select(.result == "fail")'
`

// explainReport is handler explain --json's output: the explanation,
// with the verdict once, in the server's terms.
type explainReport struct {
	Mode string `json:"mode"`
	*expl.Explanation
	Verdict explainVerdict `json:"verdict"`
	// Warnings are about how the token was given or judged.
	Warnings []string `json:"warnings,omitempty"`
}

type explainVerdict struct {
	Accepted bool `json:"accepted"`
	// Status is the HTTP status the server answers: 200 when accepted.
	Status    int    `json:"status"`
	Reason    string `json:"reason,omitempty"`
	Challenge string `json:"wwwAuthenticate,omitempty"`
	// Conditional is set when the signature was not checked: the verdict
	// holds if it is good.
	Conditional bool `json:"conditional,omitempty"`
}

func explain(ctx context.Context, args []string, lookup lookupFunc, stdin io.Reader, stdout, stderr io.Writer) error {
	f := newFlags("explain", explainUsage, stdout, stderr)
	online := f.Bool("online", false, "load the tenant's signing keys and check the signature")
	asJSON := f.Bool("json", false, "print the analysis as JSON")
	function := f.String("function", "", "judge with the route table's additions for this function (such as Hello)")
	devServer := f.Bool("dev", false, "judge as a handler dev server would (make dev), whatever the environment's AUTH_* settings say")
	help, pos, err := f.parseArgs(args)
	if help || err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return f.fail(errors.New("no token: give it as the argument, or - to read it from standard input"))
	case len(pos) > 1:
		// Never quoted: any of them may be a token.
		return f.fail(fmt.Errorf("takes one token, not %d arguments", len(pos)))
	}
	raw := pos[0]
	if raw == "-" {
		// As much as a request's headers can hold (serve's bound is
		// smaller): past auth.MaxTokenBytes the verdict no longer
		// depends on the length, so what is cut changes nothing.
		b, err := io.ReadAll(io.LimitReader(stdin, http.DefaultMaxHeaderBytes))
		if err != nil {
			return f.fail(fmt.Errorf("reading the token from standard input: %w", err))
		}
		raw = string(b)
	}
	raw, warnings := normalizeToken(raw)
	if raw == "" {
		return f.fail(errors.New("the token is empty"))
	}

	if *devServer {
		lookup = newDevEnv(lookup, strconv.Itoa(defaultDevPort)).get
	}
	cfg, errs := readConfig(lookup)
	if err := problems(errs); err != nil {
		fmt.Fprintf(stderr, "handler explain: the configuration must be valid to judge a token against it (handler check shows it):\n%s\n", safeText(err.Error()))
		return usageError{err}
	}
	a := cfg.Auth
	pol := a.policy()
	if *function != "" {
		rt, ok := findRoute(api.Routes(), *function)
		if !ok {
			return f.fail(fmt.Errorf("no function %s in the route table", shown(*function)))
		}
		pol = pol.Require(rt.Scopes, rt.Roles)
		pol.AppRoles = rt.AppRoles
	}

	mv, err := explainVerifier(ctx, a, *online)
	if err != nil {
		fmt.Fprintf(stderr, "handler explain: %s\n", safeText(err.Error()))
		return usageError{err}
	}
	warnings = append(warnings, explainNotes(a, mv, *online)...)
	e := expl.Explain(ctx, mv.Verifier, raw, auth.TraceOptions{Policy: pol, CheckSignature: mv.Signed})

	rep := explainReport{Mode: a.Mode, Explanation: e, Warnings: warnings}
	rep.Verdict = explainVerdict{Accepted: e.Accepted, Status: http.StatusOK, Reason: e.Reason, Conditional: e.Conditional}
	if !e.Accepted {
		rep.Verdict.Status, rep.Verdict.Challenge = api.Refusal(e.Err)
	}
	if *asJSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		stdout.Write(jsonSafe(buf.Bytes()))
	} else {
		writeExplanation(stdout, rep)
	}
	if !e.Accepted {
		// Exit 1, with the verdict already printed.
		return reported{fmt.Errorf("explain: the server would refuse the token: %d, reason %s", rep.Verdict.Status, e.Reason)}
	}
	return nil
}

// normalizeToken trims what a copy and paste leaves around a token.
func normalizeToken(raw string) (string, []string) {
	var warnings []string
	raw = strings.TrimSpace(raw)
	// Both matched as the server matches them: ASCII letter case only.
	if len(raw) >= len("authorization:") && bounded.EqualFold(raw[:len("authorization:")], "authorization:") {
		raw = strings.TrimSpace(raw[len("authorization:"):])
	}
	if scheme, rest, _ := strings.Cut(raw, " "); bounded.EqualFold(scheme, "bearer") {
		// "Bearer" alone, too, is no token.
		raw = strings.TrimSpace(rest)
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		// A terminal's line wrapping, usually. A JWS has no white space,
		// and a header cannot carry a line break, so the token the
		// server saw is the one without it.
		raw = strings.Join(strings.Fields(raw), "")
		warnings = append(warnings, "the token had spaces or line breaks inside it, left by copying: they were removed")
	}
	return raw, warnings
}

// explainVerifier is newVerifier's verifier for explain: no cache, so
// that every token is judged afresh, and offline unless asked.
func explainVerifier(ctx context.Context, a authConfig, online bool) (modeVerifier, error) {
	if a.Mode == modeEasyAuth && len(a.Audiences) == 0 {
		return modeVerifier{}, errors.New("easyauth mode: App Service Authentication checks tokens against its own allowed audiences, which this process cannot see; set AUTH_AUDIENCES to the same list to explain a token against it")
	}
	o := verifierOptions{keys: keysOffline}
	if online {
		o.keys = keysOnce
	}
	return newVerifier(ctx, a, o)
}

// explainNotes says how the verifier judges: with which key, if any, and
// against what.
func explainNotes(a authConfig, mv modeVerifier, online bool) []string {
	switch {
	case a.Mode == modeDev && mv.DevKey == nil:
		return []string{"dev mode, but no development key at " + a.DevKeyFile + ": the signature is not checked"}
	case a.Mode == modeDev:
		return []string{"dev mode: the signature is checked against the local development key " + a.DevKeyFile}
	}
	var notes []string
	if a.Mode == modeEasyAuth {
		notes = append(notes, "easyauth mode: judged as the token check of AUTH_EASYAUTH_VERIFY_TOKEN judges it; App Service Authentication checks it first, against its own allowed token audiences")
	}
	switch {
	case !online && a.Authority != auth.DefaultAuthority:
		notes = append(notes, "offline, iss is judged against the public cloud's issuer values; the server reads them from AUTH_AUTHORITY="+a.Authority+"'s metadata, as --online does")
	case !online:
	case mv.LoadErr != nil:
		// The server would answer 503 until they load: Explain says so.
		notes = append(notes, fmt.Sprintf("--online: loading the signing keys from %s failed after %v", strings.Join(mv.Entra.MetadataURLs(), " and "), mv.Took))
	default:
		notes = append(notes, fmt.Sprintf("--online: loaded %d signing key(s) of tenant %s from %s in %v", len(mv.Entra.KeyIDs()), a.TenantID, a.Authority, mv.Took))
	}
	return notes
}

// findRoute returns the route of routes whose function is named name, in
// any ASCII letter case, as the router and the Functions host match it.
func findRoute(routes []api.Route, name string) (api.Route, bool) {
	for _, rt := range routes {
		if bounded.EqualFold(rt.Function, name) {
			return rt, true
		}
	}
	return api.Route{}, false
}

// marks are how a check's result is shown.
var marks = map[expl.Result]string{expl.Passed: "✓", expl.Failed: "✗", expl.NotChecked: "?"}

// writeExplanation prints rep for a person. Everything from the token
// goes through term first: a claim may hold escape sequences meant for
// the terminal of whoever explains it, or a bidirectional override that
// reorders what the terminal shows.
func writeExplanation(w io.Writer, rep explainReport) {
	e := rep.Explanation
	sh := e.Shape
	what := "not a JWS"
	if sh.JWS {
		what = "a JWS"
	}
	desc := []string{fmt.Sprintf("%s (%d segments)", what, sh.Segments)}
	if sh.Kind != "" {
		desc = append(desc, string(sh.Kind))
	}
	if sh.Actor != "" {
		desc = append(desc, string(sh.Actor))
	}
	if sh.Version != "" {
		desc = append(desc, "v"+term(sh.Version))
	}
	fmt.Fprintf(w, "token:     %s\n", strings.Join(desc, ", "))
	fmt.Fprintf(w, "mode:      %s\n", rep.Mode)
	if e.SignatureChecked {
		fmt.Fprintln(w, "signature: checked")
	} else {
		fmt.Fprintln(w, "signature: NOT CHECKED; --online loads the tenant's keys and checks it")
	}
	for _, s := range rep.Warnings {
		fmt.Fprintf(w, "note:      %s\n", term(s))
	}

	table := func(title string, rows []expl.Item) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range rows {
			val := term(r.Value)
			if !r.Present {
				val = "(absent)"
			}
			if r.When != "" {
				val += " (" + r.When + ")"
			}
			exp := ""
			if r.Expected != "" {
				exp = "expected: " + term(r.Expected)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Name, val, exp)
		}
		tw.Flush()
	}
	table("header", e.Header)
	table("claims", e.Claims)

	fmt.Fprintln(w, "\nchecks, in the server's order")
	for _, c := range e.Checks {
		line := fmt.Sprintf("  %s %s", marks[c.Result], c.Name)
		if c.Result == expl.Failed {
			line += "  [reason " + c.Reason + "]"
			if c.AfterRefusal {
				line += "  (past the first ✗: shown for what else to fix)"
			}
		}
		fmt.Fprintln(w, line)
		if c.Result == expl.Passed {
			continue
		}
		field := func(name, v string) {
			if v != "" {
				fmt.Fprintf(w, "      %-9s %s\n", name+":", v)
			}
		}
		field("problem", term(c.Problem))
		if c.Result == expl.Failed {
			field("token", term(c.Got))
			field("expected", term(c.Want))
			field("cause", plain(c.Cause))
			field("change", plain(c.Fix))
		}
	}
	if len(e.Notes) > 0 {
		fmt.Fprintln(w, "\nwhat this token is")
		for _, n := range e.Notes {
			fmt.Fprintf(w, "  - %s\n", term(n))
		}
	}

	v := rep.Verdict
	fmt.Fprintln(w)
	switch {
	case v.Accepted && v.Conditional:
		fmt.Fprintln(w, "verdict: ACCEPTED if the signature is good (not checked; --online checks it): the server answers 200")
	case v.Accepted:
		fmt.Fprintln(w, "verdict: ACCEPTED: the server answers 200")
	default:
		fmt.Fprintf(w, "verdict: REFUSED: the server answers %d %s and logs reason=%s\n", v.Status, http.StatusText(v.Status), v.Reason)
		if v.Challenge != "" {
			fmt.Fprintf(w, "         WWW-Authenticate: %s\n", v.Challenge)
		}
	}
}

// term makes text from a token safe to print to a terminal, as the
// server's log makes it: control characters (C0, C1 such as the 8-bit
// CSI), format characters such as bidirectional overrides, and invalid
// UTF-8 are shown as escapes. It is the log's own function, so that the
// log line and explain show a hostile value alike.
func term(s string) string { return bounded.Escape(s) }

// jsonSafe escapes, in JSON text, what encoding/json leaves raw and a
// terminal may act on: DEL, C1 controls, format characters such as
// bidirectional overrides, and the rest of what the log escapes
// (bounded.Safe). Below DEL, encoding/json escapes everything but the
// indentation's line breaks and spaces itself. Such characters occur only
// inside strings, where a JSON escape means the same.
func jsonSafe(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x7f && !bounded.Safe(r) {
			for _, u := range utf16.AppendRune(nil, r) {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// plain is a fix of the reason table for a terminal: the guide's Markdown
// emphasis and code marks removed.
func plain(fix string) string {
	return strings.NewReplacer("**", "", "`", "").Replace(fix)
}

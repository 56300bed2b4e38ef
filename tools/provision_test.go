package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/api"
	"github.com/entrafunc/entrafunc/connector"
)

// deploy/provision.sh writes one value into several places: the audiences
// into Easy Auth and AUTH_AUDIENCES, the connector's client id into Easy
// Auth's allowed applications, AUTH_ALLOWED_CLIENT_APPS and the connector
// files, the redirect URL into the connector's registration, the storage
// account and table into the app's role assignment, the table's creation
// and the Tasks settings. A mismatch between any two is a deployment where
// every call gets 401, 403 or 503, or no one can sign in, and nothing here
// can run it against Azure. So these
// tests read its dry run, the plan of az commands, and hold the plan to
// that agreement; the mutation test shows the checker notices when it does
// not hold.

// provisionTimeout bounds one run of the script, only so that a hang
// ends. A run takes a second or two; on a loaded CI machine its subshells
// have taken over 30 s.
const provisionTimeout = 5 * time.Minute

// provisionApp is the function app the tests provision.
const provisionApp = "hello-fn"

// provisionRun is one run of the script.
type provisionRun struct {
	stdout, stderr string
	code           int
	// azCalls is what the stub az (and, in a dry run, go) was asked to
	// do, one call a line: nothing, for a dry run.
	azCalls string
}

// runProvision runs deploy/provision.sh with nothing in its environment
// but PATH, and an az and a go first on PATH that record any call and
// fail it, so that a dry run that calls either at all is caught (and a
// real az, where one is installed, is never reached).
func runProvision(t *testing.T, args ...string) provisionRun {
	t.Helper()
	stub := t.TempDir()
	for _, tool := range []string{"az", "go"} {
		script := "#!/bin/sh\nprintf '" + tool + " %s\\n' \"$*\" >> '" + filepath.Join(stub, "calls") + "'\necho '" + tool + " must not run in a dry run' >&2\nexit 97\n"
		if err := os.WriteFile(filepath.Join(stub, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return execProvision(t, stub, nil, nil, args...)
}

// execProvision runs deploy/provision.sh under bash with bashFlags, with
// stub first on PATH and nothing else in its environment but env, and
// returns what it printed and the calls recorded in stub/calls.
func execProvision(t *testing.T, stub string, env, bashFlags []string, args ...string) provisionRun {
	t.Helper()
	bash := lookBash(t)
	ctx, cancel := context.WithTimeout(context.Background(), provisionTimeout)
	defer cancel()
	argv := append(slices.Clone(bashFlags), filepath.Join("..", "deploy", "provision.sh"))
	cmd := exec.CommandContext(ctx, bash, append(argv, args...)...)
	cmd.Env = append([]string{"PATH=" + stub + string(os.PathListSeparator) + os.Getenv("PATH")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	run := provisionRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		run.code = exit.ExitCode()
	default:
		t.Fatalf("provision.sh %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(stub, "calls")); err == nil {
		run.azCalls = string(b)
	}
	return run
}

// dryRun returns the plan of a dry run that succeeded without calling az.
func dryRun(t *testing.T, args ...string) string {
	t.Helper()
	run := runProvision(t, append([]string{"--name", provisionApp, "--dry-run"}, args...)...)
	if run.code != 0 {
		t.Fatalf("dry run exited %d\n%s", run.code, run.stderr)
	}
	if run.azCalls != "" {
		t.Fatalf("the dry run called az or go:\n%s", run.azCalls)
	}
	if strings.TrimSpace(run.stdout) == "" {
		t.Fatalf("the dry run printed no plan\n%s", run.stderr)
	}
	return run.stdout
}

// defaultDryRun is the plan of a dry run with no flag but --name, made
// once: four tests read it, and a dry run costs seconds of CPU (its
// subshells). TestProvisionDryRunRepeatable compares it with a run of its
// own.
var defaultDryRun struct {
	once   sync.Once
	plan   string
	failed bool
}

// defaultPlan returns defaultDryRun's plan, making it on the first call.
func defaultPlan(t *testing.T) string {
	t.Helper()
	d := &defaultDryRun
	d.once.Do(func() {
		d.failed = true // until dryRun returns: it may end this test instead
		d.plan = dryRun(t)
		d.failed = false
	})
	if d.failed {
		t.Fatal("the dry run without flags failed: see the test that made it")
	}
	return d.plan
}

// shellWords splits a line as bash would split a simple command: blanks
// separate words; single quotes keep everything up to the next one;
// double quotes keep everything but \" \\ \$ \` (and a backslash before a
// newline); a backslash outside quotes keeps the next character. It
// refuses what the plan should never hold: anything that bash would expand
// or treat as an operator outside quotes.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote at byte %d", i)
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += 1 + end
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				switch line[i] {
				case '\\':
					if i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0 {
						i++
					}
				case '$', '`':
					return nil, fmt.Errorf("%q inside double quotes at byte %d would expand", line[i], i)
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(line) {
				return nil, errors.New("backslash at the end of the line")
			}
			i++
			cur.WriteByte(line[i])
			inWord = true
		case strings.IndexByte("$`|&;<>(){}*?[]!", c) >= 0 || !inWord && (c == '#' || c == '~'):
			return nil, fmt.Errorf("unquoted %q at byte %d", c, i)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestShellWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		want []string
	}{
		{`az group create --name rg-x`, []string{"az", "group", "create", "--name", "rg-x"}},
		{`a '<b c>' "d'e" 'f'\''g' h\ i`, []string{"a", "<b c>", "d'e", "f'g", "h i"}},
		{`a '' "" x`, []string{"a", "", "", "x"}},
		{`a "\"\\\$" 'x"y'`, []string{"a", `"\$`, `x"y`}},
		{`a   b`, []string{"a", "b"}},
	} {
		got, err := shellWords(tc.line)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
	for _, line := range []string{`a 'b`, `a "b`, `a <b>`, `a $HOME`, `a "$HOME"`, `a; b`, `a | b`, `a\`, "a `b`", `a [x]`} {
		if got, err := shellWords(line); err == nil {
			t.Errorf("shellWords(%q) = %q, want an error", line, got)
		}
	}
}

// planCommand is one line of the plan, split into words. The connector
// generator is a comment line, "# NAME=value ... go run ./cmd/handler
// connector ...": its words start at go, and env holds the assignments
// before it.
type planCommand struct {
	line  int
	text  string
	words []string
	env   map[string]string
}

// generatorPrefix is how the plan's connector generator starts.
const generatorPrefix = "go run ./cmd/handler connector"

var assignmentWord = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// parsePlan splits the plan into commands: every line an az command, or a
// comment holding the connector generator. It returns each line that is
// neither, or does not paste into bash, as a problem.
func parsePlan(plan string) ([]planCommand, []string) {
	var cmds []planCommand
	var problems []string
	for i, l := range strings.Split(strings.TrimRight(plan, "\n"), "\n") {
		text, comment := strings.CutPrefix(l, "# ")
		if !comment && !strings.HasPrefix(l, "az ") {
			problems = append(problems, fmt.Sprintf("line %d starts with neither `az ` nor `# `: %s", i+1, l))
			continue
		}
		w, err := shellWords(text)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d does not paste into bash as one plain command (%v): %s", i+1, err, l))
			continue
		}
		c := planCommand{line: i + 1, text: l, words: w}
		if comment {
			c.env = map[string]string{}
			for len(c.words) > 0 && assignmentWord.MatchString(c.words[0]) {
				k, v, _ := strings.Cut(c.words[0], "=")
				c.env[k] = v
				c.words = c.words[1:]
			}
			if !c.is(generatorPrefix) {
				problems = append(problems, fmt.Sprintf("line %d is a comment but not the connector generator (# ... %s ...): %s", i+1, generatorPrefix, l))
				continue
			}
		}
		cmds = append(cmds, c)
	}
	return cmds, problems
}

// is says whether the command is prefix, such as "az functionapp create".
func (c planCommand) is(prefix string) bool {
	p := strings.Fields(prefix)
	return len(c.words) >= len(p) && slices.Equal(c.words[:len(p)], p)
}

// values returns the words after flag up to the next flag, for each time
// flag is given.
func (c planCommand) values(flag string) []string {
	var out []string
	for i, w := range c.words {
		if w != flag {
			continue
		}
		for _, v := range c.words[i+1:] {
			if strings.HasPrefix(v, "-") {
				break
			}
			out = append(out, v)
		}
	}
	return out
}

// value returns the single value of flag, or "" when it is absent or given
// more than once.
func (c planCommand) value(flag string) string {
	if v := c.values(flag); len(v) == 1 {
		return v[0]
	}
	return ""
}

// has says whether the command carries flag.
func (c planCommand) has(flag string) bool { return slices.Contains(c.words, flag) }

// easyAuthV2 is the part of authsettingsV2 the plan is held to.
type easyAuthV2 struct {
	Properties struct {
		Platform struct {
			Enabled bool `json:"enabled"`
		} `json:"platform"`
		GlobalValidation struct {
			RequireAuthentication       bool   `json:"requireAuthentication"`
			UnauthenticatedClientAction string `json:"unauthenticatedClientAction"`
		} `json:"globalValidation"`
		IdentityProviders struct {
			AzureActiveDirectory struct {
				Enabled      bool `json:"enabled"`
				Registration struct {
					OpenIDIssuer string `json:"openIdIssuer"`
					ClientID     string `json:"clientId"`
				} `json:"registration"`
				Validation struct {
					AllowedAudiences           []string `json:"allowedAudiences"`
					DefaultAuthorizationPolicy struct {
						AllowedApplications []string `json:"allowedApplications"`
					} `json:"defaultAuthorizationPolicy"`
				} `json:"validation"`
			} `json:"azureActiveDirectory"`
		} `json:"identityProviders"`
	} `json:"properties"`
}

// graphApplication is the part of a Graph application the plan patches.
type graphApplication struct {
	IdentifierURIs []string `json:"identifierUris"`
	API            *struct {
		RequestedAccessTokenVersion *int `json:"requestedAccessTokenVersion"`
		OAuth2PermissionScopes      []struct {
			ID        string `json:"id"`
			Value     string `json:"value"`
			IsEnabled bool   `json:"isEnabled"`
		} `json:"oauth2PermissionScopes"`
		PreAuthorizedApplications []struct {
			AppID                  string   `json:"appId"`
			DelegatedPermissionIDs []string `json:"delegatedPermissionIds"`
		} `json:"preAuthorizedApplications"`
	} `json:"api"`
}

var (
	// v2Issuer is Easy Auth's openIdIssuer for a v2 token of one tenant.
	v2Issuer = regexp.MustCompile(`^https://login\.microsoftonline\.com/([^/]+)/v2\.0$`)
	// entraSecret is the shape of an Entra ID client secret value.
	entraSecret = regexp.MustCompile(`[A-Za-z0-9_.~-]{3}[0-9]Q~[A-Za-z0-9_.~-]{30,}`)
	// secretName is a flag, setting or JSON key that would carry a secret.
	secretName = regexp.MustCompile(`(?i)secret|password|passwd|connection_?string|access_?key|key-value`)
	// storageSecret is a storage account key or SAS in a connection
	// string or URL.
	storageSecret = regexp.MustCompile(`(?i)\b(AccountKey|SharedAccessSignature)\s*=|[?&]sig=`)
)

// The Tasks function's needs: the app role on the API, and the built-in
// role that lets the app's identity read and write table rows
// (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage#storage-table-data-contributor).
const (
	tasksRole         = api.TasksAdminRole
	tableDataRole     = "Storage Table Data Contributor"
	tableDataRoleID   = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
	defaultTasksTable = "tasks"
	// hostStorage is the connection the Functions host itself uses, which
	// az functionapp create sets to a connection string with the key.
	hostStorage = "AzureWebJobsStorage"
)

// graphAppRoles is the appRoles PATCH of the API's registration.
type graphAppRoles struct {
	AppRoles []struct {
		ID                 string   `json:"id"`
		Value              string   `json:"value"`
		DisplayName        string   `json:"displayName"`
		Description        string   `json:"description"`
		IsEnabled          bool     `json:"isEnabled"`
		AllowedMemberTypes []string `json:"allowedMemberTypes"`
	} `json:"appRoles"`
}

// checkPlan returns every way the plan's commands disagree with each other
// or with what the API needs; none for a consistent plan.
func checkPlan(plan string) []string {
	cmds, problems := parsePlan(plan)
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	// only returns the one command that is prefix and passes match.
	only := func(what, prefix string, match func(planCommand) bool) (planCommand, bool) {
		var found []planCommand
		for _, c := range cmds {
			if c.is(prefix) && (match == nil || match(c)) {
				found = append(found, c)
			}
		}
		if len(found) != 1 {
			bad("want one %s (%s), the plan has %d", what, prefix, len(found))
			return planCommand{}, false
		}
		return found[0], true
	}
	last := func(prefix string, match func(planCommand) bool) (planCommand, bool) {
		for i := len(cmds) - 1; i >= 0; i-- {
			if cmds[i].is(prefix) && match(cmds[i]) {
				return cmds[i], true
			}
		}
		return planCommand{}, false
	}

	// Nothing in the plan is a secret, or names a place for one.
	for _, c := range cmds {
		for _, w := range c.words {
			if strings.HasPrefix(w, "-") && secretName.MatchString(w) {
				bad("line %d passes a secret on the command line (%s)", c.line, w)
			}
			if entraSecret.MatchString(w) {
				bad("line %d holds what looks like a client secret value", c.line)
			}
			if storageSecret.MatchString(w) {
				bad("line %d holds a storage account key or SAS", c.line)
			}
		}
		for _, body := range c.values("--body") {
			var v any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				bad("line %d: --body is not JSON: %v", c.line, err)
				continue
			}
			for _, k := range jsonSecretKeys(v) {
				bad("line %d: the body sets %s", c.line, k)
			}
		}
	}

	// The function app: Linux, runtime custom, Functions 4.
	create, ok := only("function app", "az functionapp create", nil)
	app, group := create.value("--name"), create.value("--resource-group")
	storage := create.value("--storage-account")
	if ok {
		if !strings.EqualFold(create.value("--runtime"), "custom") {
			bad("the function app's runtime is %q, not custom: the host would not start the handler", create.value("--runtime"))
		}
		if !strings.EqualFold(create.value("--os-type"), "Linux") {
			bad("the function app's OS is %q, not Linux: the handler is a Linux binary", create.value("--os-type"))
		}
		if create.value("--functions-version") != "4" {
			bad("the function app's Functions version is %q, not 4", create.value("--functions-version"))
		}
		if create.has("--consumption-plan-location") {
			bad("the function app is on Linux Consumption, which is retired in 2028; use Flex Consumption")
		}
		if app == "" || group == "" {
			bad("the function app has no --name or --resource-group")
		}
	}

	// Easy Auth.
	var ea easyAuthV2
	put, ok := only("authsettingsV2 PUT", "az rest", func(c planCommand) bool {
		return strings.EqualFold(c.value("--method"), "put") && strings.Contains(c.value("--url"), "/config/authsettingsV2")
	})
	if ok {
		site := "/resourceGroups/" + group + "/providers/Microsoft.Web/sites/" + app + "/config/authsettingsV2?"
		if !strings.Contains(put.value("--url"), site) {
			bad("Easy Auth is set on %s, not on the function app %s in %s", put.value("--url"), app, group)
		}
		if err := json.Unmarshal([]byte(put.value("--body")), &ea); err != nil {
			bad("the authsettingsV2 body: %v", err)
		}
	}
	p := ea.Properties
	aad := p.IdentityProviders.AzureActiveDirectory
	if ok {
		if !p.Platform.Enabled || !aad.Enabled {
			bad("Easy Auth or its Entra ID provider is not enabled")
		}
		if !p.GlobalValidation.RequireAuthentication {
			bad("Easy Auth does not require authentication: unauthenticated calls would reach the handler")
		}
		if p.GlobalValidation.UnauthenticatedClientAction != "Return401" {
			bad("Easy Auth answers unauthenticated calls with %q, not Return401: a connector cannot follow a login redirect", p.GlobalValidation.UnauthenticatedClientAction)
		}
	}
	tenant := ""
	if m := v2Issuer.FindStringSubmatch(aad.Registration.OpenIDIssuer); m == nil {
		bad("Easy Auth's issuer %q is not https://login.microsoftonline.com/<tenant>/v2.0", aad.Registration.OpenIDIssuer)
	} else if t := strings.ToLower(m[1]); t == "common" || t == "organizations" || t == "consumers" {
		bad("Easy Auth's issuer is multi-tenant (%s): Easy Auth would check no tenant", m[1])
	} else {
		tenant = m[1]
	}
	apiClientID := aad.Registration.ClientID
	audiences := aad.Validation.AllowedAudiences
	allowedApps := aad.Validation.DefaultAuthorizationPolicy.AllowedApplications
	if len(allowedApps) != 1 {
		bad("Easy Auth allows %d client applications %q, want exactly the connector", len(allowedApps), allowedApps)
	}
	connectorID := ""
	if len(allowedApps) > 0 {
		connectorID = allowedApps[0]
	}

	// The handler's settings agree with Easy Auth.
	settings := map[string]string{}
	set, ok := only("app settings", "az functionapp config appsettings set", nil)
	if ok {
		if set.value("--name") != app || set.value("--resource-group") != group {
			bad("the app settings go to %s in %s, not the function app %s in %s", set.value("--name"), set.value("--resource-group"), app, group)
		}
		if set.value("-o") != "none" && set.value("--output") != "none" {
			bad("appsettings set prints every setting, the storage connection string among them: it needs -o none")
		}
		for _, kv := range set.values("--settings") {
			k, v, _ := strings.Cut(kv, "=")
			settings[k] = v
			if secretName.MatchString(k) {
				bad("the app setting %s holds a secret", k)
			}
			if storageSecret.MatchString(v) {
				bad("the app setting %s holds a storage account key or SAS", k)
			}
		}
		if m := settings["AUTH_MODE"]; m != "easyauth" && m != "auto" {
			bad("AUTH_MODE=%q: behind Easy Auth it is easyauth or auto", m)
		}
		if settings["AUTH_TENANT_ID"] != tenant {
			bad("AUTH_TENANT_ID=%q, but Easy Auth's issuer names the tenant %q", settings["AUTH_TENANT_ID"], tenant)
		}
		if got := splitSet(settings["AUTH_AUDIENCES"]); !slices.Equal(got, sortedSet(audiences)) {
			bad("AUTH_AUDIENCES %q differs from Easy Auth's allowedAudiences %q", got, sortedSet(audiences))
		}
		if got := splitSet(settings["AUTH_ALLOWED_CLIENT_APPS"]); !slices.Equal(got, sortedSet(allowedApps)) {
			bad("AUTH_ALLOWED_CLIENT_APPS %q differs from Easy Auth's allowedApplications %q", got, sortedSet(allowedApps))
		}
	}
	scopes := strings.Fields(settings["AUTH_REQUIRED_SCOPES"])
	if len(scopes) == 0 {
		scopes = []string{"user_impersonation"}
	}

	// The connector's files are written for the same app, client and
	// resource, by a generator built for this machine and given the app's
	// settings, so that it refuses what the app would.
	gen, ok := only("connector generator", generatorPrefix, nil)
	resource := gen.value("--resource")
	if ok {
		for _, k := range []string{"GOOS", "GOARCH"} {
			if v, set := gen.env[k]; !set || v != "" {
				bad("the generator runs without an empty %s (set %v, %q): go run would build it for the target, not this machine", k, set, v)
			}
		}
		for _, k := range []string{"AUTH_AUDIENCES", "AUTH_ALLOWED_CLIENT_APPS", "AUTH_REQUIRED_SCOPES"} {
			if gen.env[k] != settings[k] {
				bad("the generator runs with %s=%q, the app with %q: it would not refuse what the app refuses", k, gen.env[k], settings[k])
			}
		}
		if gen.value("--host") != app+".azurewebsites.net" {
			bad("the connector calls %q, not the function app %s.azurewebsites.net", gen.value("--host"), app)
		}
		if gen.value("--client-id") != connectorID {
			bad("the connector signs in as %q, but Easy Auth allows %q", gen.value("--client-id"), connectorID)
		}
		if !slices.Contains(audiences, resource) {
			bad("the connector's Resource URL %q is not among the audiences %q: every call would get 401", resource, audiences)
		}
		if tn := gen.value("--tenant"); tn != tenant && tn != "organizations" {
			bad("the connector signs users in at %q, not the tenant %q (single-tenant registrations cannot use common)", tn, tenant)
		}
	}

	// The API's registration: known by the Resource URL, its token
	// version's aud accepted, its scope the one the handler requires, the
	// connector pre-authorized for it.
	patch, ok := last("az rest", func(c planCommand) bool {
		return strings.EqualFold(c.value("--method"), "patch") && strings.Contains(c.value("--url"), "/applications/") &&
			strings.Contains(c.value("--body"), `"api":`)
	})
	var api graphApplication
	if !ok {
		bad("no Graph PATCH sets up the API's registration")
	} else if err := json.Unmarshal([]byte(patch.value("--body")), &api); err != nil {
		bad("the API registration's body: %v", err)
	}
	scopeID := ""
	if api.API == nil {
		bad("the API's registration gets no api section (scope, token version, pre-authorization)")
	} else {
		if !slices.Contains(api.IdentifierURIs, resource) && resource != apiClientID {
			bad("the Resource URL %q is none of the API's identifier URIs %q: sign-in would fail (AADSTS500011)", resource, api.IdentifierURIs)
		}
		if v := api.API.RequestedAccessTokenVersion; v != nil && *v == 2 {
			if !slices.Contains(audiences, apiClientID) {
				bad("v2 tokens carry aud %q (the API's client id), which is not among the audiences %q", apiClientID, audiences)
			}
		} else if !slices.Contains(audiences, resource) {
			bad("v1 tokens carry aud %q (the Resource URL), which is not among the audiences %q", resource, audiences)
		}
		for _, s := range api.API.OAuth2PermissionScopes {
			if s.Value == scopes[0] && s.IsEnabled {
				scopeID = s.ID
			}
		}
		if scopeID == "" {
			bad("the API exposes no enabled scope %q, which the handler requires", scopes[0])
		}
		preAuthorized := false
		for _, pa := range api.API.PreAuthorizedApplications {
			if pa.AppID == connectorID && slices.Contains(pa.DelegatedPermissionIDs, scopeID) {
				preAuthorized = true
			}
		}
		if !preAuthorized {
			bad("the connector %q is not pre-authorized for the scope %q: users would be asked to consent", connectorID, scopes[0])
		}
	}
	// The connector's registration: permission on that scope, and the
	// redirect URL the generator predicts.
	if perm, ok := only("connector permission", "az ad app permission add", nil); ok {
		if perm.value("--id") != connectorID || perm.value("--api") != apiClientID || !slices.Contains(perm.values("--api-permissions"), scopeID+"=Scope") {
			bad("the permission added (%s) is not the connector %q's delegated %q on the API %q", perm.text, connectorID, scopeID, apiClientID)
		}
	}
	// Tenant-wide consent is a grant of that scope to the connector, not
	// admin-consent (an internal portal API).
	if g, ok := only("tenant-wide consent", "az ad app permission grant", nil); ok {
		if g.value("--id") != connectorID || g.value("--api") != apiClientID || !slices.Contains(g.values("--scope"), scopes[0]) || g.value("--consent-type") != "AllPrincipals" {
			bad("the consent granted (%s) is not AllPrincipals for the connector %q on the API %q's scope %q", g.text, connectorID, apiClientID, scopes[0])
		}
	}
	for _, c := range cmds {
		if c.is("az ad app permission admin-consent") {
			bad("line %d uses az ad app permission admin-consent, an internal API that refuses service principals", c.line)
		}
	}
	problems = append(problems, checkTasksPlan(cmds, patch, set, settings, app, group, storage)...)
	name := gen.value("--name")
	if name == "" {
		name = connector.DefaultName(connector.DefaultTitle)
	}
	redirect := connector.RedirectURL(name)
	if upd, ok := last("az ad app update", func(c planCommand) bool { return c.has("--web-redirect-uris") }); !ok {
		bad("no redirect URI is registered on the connector's registration")
	} else {
		if upd.value("--id") != connectorID {
			bad("the redirect URIs go to %q, not the connector's registration %q", upd.value("--id"), connectorID)
		}
		if !slices.Contains(upd.values("--web-redirect-uris"), redirect) {
			bad("the redirect URIs %q lack %s, which the connector %q signs in through", upd.values("--web-redirect-uris"), redirect, name)
		}
	}
	return problems
}

// checkTasksPlan returns every way the plan fails the Tasks function: the
// API's registration must declare its app role for users and apps alike;
// the function app must get a managed identity with Storage Table Data
// Contributor on exactly its own storage account, and the table, both
// before the settings that restart the handler; and the settings must
// reach that table with the identity, through a connection that holds no
// key. apiPatch is the Graph PATCH of the API's registration, set the
// app settings command, settings its settings.
func checkTasksPlan(cmds []planCommand, apiPatch, set planCommand, settings map[string]string, app, group, storage string) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	all := func(prefix string, match func(planCommand) bool) []planCommand {
		var found []planCommand
		for _, c := range cmds {
			if c.is(prefix) && (match == nil || match(c)) {
				found = append(found, c)
			}
		}
		return found
	}
	// before says that c comes before the app settings.
	before := func(what string, c planCommand) {
		if set.line > 0 && c.line > set.line {
			bad("%s (line %d) comes after the app settings (line %d): the handler they restart would start without it", what, c.line, set.line)
		}
	}

	// The app role: enabled, for users and applications, with an id.
	if found := all("az rest", func(c planCommand) bool {
		return strings.EqualFold(c.value("--method"), "patch") && strings.Contains(c.value("--body"), `"appRoles"`)
	}); len(found) != 1 {
		bad("want one Graph PATCH of the API's app roles, the plan has %d", len(found))
	} else {
		c := found[0]
		var roles graphAppRoles
		if c.value("--url") != apiPatch.value("--url") {
			bad("the app roles go to %q, not to the API's registration %q", c.value("--url"), apiPatch.value("--url"))
		}
		if err := json.Unmarshal([]byte(c.value("--body")), &roles); err != nil {
			bad("the app roles' body: %v", err)
		}
		ids, values, declared := map[string]bool{}, map[string]bool{}, false
		for _, r := range roles.AppRoles {
			if r.ID == "" || ids[r.ID] || values[r.Value] {
				bad("the app role %q has no id, or one or a value another role has", r.Value)
			}
			ids[r.ID], values[r.Value] = true, true
			if r.Value != tasksRole {
				continue
			}
			declared = true
			if !r.IsEnabled {
				bad("the app role %s is not enabled", tasksRole)
			}
			for _, m := range []string{"User", "Application"} {
				if !slices.Contains(r.AllowedMemberTypes, m) {
					bad("the app role %s allows %q, not %s: %s", tasksRole, r.AllowedMemberTypes, m,
						map[string]string{"User": "no user or group could be assigned it", "Application": "no service-principal connection could be granted it"}[m])
				}
			}
			if r.DisplayName == "" || r.Description == "" {
				bad("the app role %s has no display name or description, which consent and assignment screens show", tasksRole)
			}
		}
		if !declared {
			bad("the API's registration declares no app role %s", tasksRole)
		}
	}

	// The app's system-assigned identity.
	if found := all("az functionapp identity assign", nil); len(found) != 1 {
		bad("want one az functionapp identity assign, the plan has %d", len(found))
	} else if c := found[0]; c.value("--name") != app || c.value("--resource-group") != group ||
		(c.has("--identities") && !slices.Equal(c.values("--identities"), []string{"[system]"})) {
		bad("the managed identity assigned (%s) is not the system-assigned one of the function app %s in %s", c.text, app, group)
	}

	// Storage Table Data Contributor on the app's own account, no wider.
	accountID := regexp.MustCompile(`^/subscriptions/[^/]+/resourceGroups/` + regexp.QuoteMeta(group) +
		`/providers/Microsoft\.Storage/storageAccounts/` + regexp.QuoteMeta(storage) + `$`)
	accountScope := ""
	if found := all("az role assignment create", nil); len(found) != 1 {
		bad("want one role assignment (az role assignment create), the plan has %d", len(found))
	} else {
		c := found[0]
		before("the role assignment", c)
		if r := c.value("--role"); r != tableDataRole && !strings.EqualFold(r, tableDataRoleID) {
			bad("the app's identity is assigned %q, not %s: the handler could not read or write the tasks", r, tableDataRole)
		}
		if c.value("--assignee-principal-type") != "ServicePrincipal" || c.value("--assignee-object-id") == "" || c.has("--assignee") {
			bad("the role is not assigned by --assignee-object-id with --assignee-principal-type ServicePrincipal, the managed identity's type (%s)", c.text)
		}
		accountScope = c.value("--scope")
		if !accountID.MatchString(accountScope) {
			bad("the role assignment's scope %q is not the storage account %s of the function app (in %s)", accountScope, storage, group)
		}
	}

	// The table TASKS_TABLE, on that account.
	table := settings["TASKS_TABLE"]
	if table == "" {
		table = defaultTasksTable
	}
	tables := all("az rest", func(c planCommand) bool {
		return strings.EqualFold(c.value("--method"), "put") && strings.Contains(c.value("--url"), "/tableServices/")
	})
	tables = append(tables, all("az storage table create", nil)...)
	if len(tables) != 1 {
		bad("want one command that creates the table %s, the plan has %d", table, len(tables))
	}
	for _, c := range tables {
		before("the table's creation", c)
		if c.is("az rest") {
			u, _, _ := strings.Cut(c.value("--url"), "?")
			if accountScope == "" || u != accountScope+"/tableServices/default/tables/"+table {
				bad("line %d creates the table at %q, not %s/tableServices/default/tables/%s (TASKS_TABLE, on the account the app's identity may use)", c.line, u, accountScope, table)
			}
		} else if c.value("--name") != table || c.value("--account-name") != storage || c.value("--auth-mode") != "login" {
			bad("line %d does not create the table %s on the account %s with --auth-mode login", c.line, table, storage)
		}
	}

	// The settings: Table storage, through an identity-based connection
	// of the tasks' own, to that account.
	if v, ok := settings["TASKS_STORE"]; ok && v != "tables" {
		bad("TASKS_STORE=%q: in Azure the only store is tables", v)
	}
	conn := settings["TASKS_CONNECTION"]
	if conn == "" {
		conn = hostStorage
	}
	if strings.EqualFold(conn, hostStorage) {
		bad("the tasks would reach Table storage through %s, which az functionapp create sets to a connection string holding the account key: TASKS_CONNECTION must name a connection of their own", hostStorage)
	}
	if _, ok := settings[conn]; ok {
		bad("the app setting %s is a connection string, which wins over the identity-based settings: leave it unset", conn)
	}
	uri := settings[conn+"__tableServiceUri"]
	if u, err := url.Parse(uri); err != nil || u.Scheme != "https" || storage == "" || !strings.HasPrefix(u.Host, storage+".table.") ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
		bad("%s__tableServiceUri=%q is not the https table endpoint of the storage account %s, on which the app's identity has the role", conn, uri, storage)
	}
	if c := settings[conn+"__credential"]; c != "" && !strings.EqualFold(c, "managedidentity") {
		bad("%s__credential=%q: the app reaches the table as its managed identity", conn, c)
	}
	for _, k := range []string{"__clientId", "__managedIdentityResourceId", "__clientSecret", "__tenantId"} {
		if _, ok := settings[conn+k]; ok {
			bad("%s%s names another identity than the app's system-assigned one, which has the role", conn, k)
		}
	}
	return problems
}

// jsonSecretKeys lists the keys of v that would carry a secret value.
// Names of settings (clientSecretSettingName) hold none.
func jsonSecretKeys(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && s != "" && secretName.MatchString(k) && !strings.HasSuffix(k, "SettingName") {
				out = append(out, k)
			}
			out = append(out, jsonSecretKeys(e)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, jsonSecretKeys(e)...)
		}
	}
	return out
}

func splitSet(csv string) []string {
	var out []string
	for _, f := range strings.Split(csv, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return sortedSet(out)
}

func sortedSet(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// TestProvisionDryRunPlan: the dry run runs without az, prints only
// commands, and they agree with each other, for every hosting plan, with
// --federated, and with names given.
func TestProvisionDryRunPlan(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		nil,
		{"--plan", "premium"},
		{"--plan", "dedicated"},
		{"--federated"},
		{"--location", "westeurope", "--connector-name", "HelloConnector", "--resource-group", "rg-other", "--storage", "stother1"},
	} {
		t.Run(strings.Join(append([]string{"flags"}, args...), " "), func(t *testing.T) {
			t.Parallel()
			plan := defaultPlan(t)
			if len(args) > 0 {
				plan = dryRun(t, args...)
			}
			for _, p := range checkPlan(plan) {
				t.Error(p)
			}
			resets := strings.Contains(plan, "\naz ad app credential reset ")
			if federated := slices.Contains(args, "--federated"); resets == federated {
				t.Errorf("with --federated %v, the plan creating a client secret is %v", federated, resets)
			}
			if resets && !regexp.MustCompile(`(?m)^az ad app credential reset .*--query password -o tsv`).MatchString(plan) {
				t.Error("the client secret is not taken from the command's output")
			}
			if slices.Contains(args, "premium") || slices.Contains(args, "dedicated") {
				if !regexp.MustCompile(`(?m)^az (functionapp|appservice) plan create .*--is-linux`).MatchString(plan) {
					t.Error("the plan's App Service plan is not a Linux one")
				}
				if !regexp.MustCompile(`(?m)^az functionapp create .*--plan plan-hello-fn`).MatchString(plan) {
					t.Error("the function app is not created on that plan")
				}
			} else if !regexp.MustCompile(`(?m)^az functionapp create .*--flexconsumption-location `).MatchString(plan) {
				t.Error("the default plan is not Flex Consumption")
			} else if !regexp.MustCompile(`(?m)^az functionapp create .*--assign-identity '\[system\]' --deployment-storage-auth-type SystemAssignedIdentity`).MatchString(plan) {
				t.Error("on Flex, deployments do not use the app's identity: az would store the account key in DEPLOYMENT_STORAGE_CONNECTION_STRING")
			}
			if t.Failed() {
				t.Logf("plan:\n%s", plan)
			}
		})
	}
}

// TestProvisionDryRunRepeatable: a dry run is a plan, the same each time.
func TestProvisionDryRunRepeatable(t *testing.T) {
	t.Parallel()
	if a, b := defaultPlan(t), dryRun(t); a != b {
		t.Errorf("two dry runs differ:\n%s\n---\n%s", a, b)
	}
}

// TestProvisionUsage: --help succeeds; a usage mistake exits 2 and says
// what is wrong; none of them calls az.
func TestProvisionUsage(t *testing.T) {
	t.Parallel()
	help := runProvision(t, "--help")
	if help.code != 0 || !strings.Contains(help.stdout, "usage: deploy/provision.sh --name NAME") || !strings.Contains(help.stdout, "--dry-run") {
		t.Errorf("--help exited %d, printed:\n%s%s", help.code, help.stdout, help.stderr)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--dry-run"}, "--name is required"},
		{[]string{"--name", "hello-fn", "--dry-run", "--colour", "red"}, "unknown flag: --colour"},
		{[]string{"--name", "hello-fn", "--dry-run", "--plan", "consumption"}, "--plan consumption"},
		{[]string{"--name", "hello_fn", "--dry-run"}, "--name hello_fn"},
		{[]string{"--name", "hello-fn", "--dry-run", "--storage", "St-1"}, "--storage St-1"},
		{[]string{"--name"}, "--name needs a value"},
	} {
		run := runProvision(t, tc.args...)
		if run.code != 2 || !strings.Contains(run.stderr, tc.says) || run.stdout != "" {
			t.Errorf("provision.sh %s: exit %d, want 2 saying %q; stdout %q, stderr:\n%s", strings.Join(tc.args, " "), run.code, tc.says, run.stdout, run.stderr)
		}
		if run.azCalls != "" {
			t.Errorf("provision.sh %s called az: %s", strings.Join(tc.args, " "), run.azCalls)
		}
	}
}

// placeholder is a dry run's stand-in for an id an earlier command returns.
var placeholder = regexp.MustCompile(`<[a-z]+(-[a-z]+)*>`)

// fillPlaceholders gives each placeholder a GUID of its own.
func fillPlaceholders(plan string) string {
	ids := map[string]string{}
	return placeholder.ReplaceAllStringFunc(plan, func(p string) string {
		if _, ok := ids[p]; !ok {
			ids[p] = fmt.Sprintf("%08x-0000-4000-8000-%012x", len(ids)+1, len(ids)+1)
		}
		return ids[p]
	})
}

// TestProvisionPlanAcceptedByHandler: with the ids filled in, the handler
// runs the plan's connector command with the app's settings in its
// environment (so it cross-checks the Resource URL and client id), and
// `handler check` accepts those settings behind Easy Auth.
func TestProvisionPlanAcceptedByHandler(t *testing.T) {
	t.Parallel()
	plan := fillPlaceholders(defaultPlan(t))
	if problems := checkPlan(plan); len(problems) > 0 {
		t.Fatalf("the filled-in plan is inconsistent: %q", problems)
	}
	cmds, problems := parsePlan(plan)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var gen, set planCommand
	for _, c := range cmds {
		switch {
		case c.is(generatorPrefix):
			gen = c
		case c.is("az functionapp config appsettings set"):
			set = c
		}
	}
	settings := map[string]string{}
	for _, kv := range set.values("--settings") {
		k, v, _ := strings.Cut(kv, "=")
		settings[k] = v
	}

	// The words after go run ./cmd/handler, with the environment the plan
	// gives them (checkPlan holds it to the app's settings).
	args := slices.Clone(gen.words[len(strings.Fields(generatorPrefix))-1:])
	out := filepath.Join(t.TempDir(), "connector")
	if i := slices.Index(args, "--out"); i >= 0 && i+1 < len(args) {
		args[i+1] = out
	} else {
		t.Fatalf("the connector command has no --out: %s", gen.text)
	}
	cmd := exec.Command(bins(t)["handler"], args...)
	cmd.Env = environ(gen.env)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("handler %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	// The redirect URL the generator tells the maker to register is the
	// one the plan registers.
	if redirect := connector.RedirectURL(gen.value("--name")); !strings.Contains(string(b), "Redirect URL    "+redirect) || !strings.Contains(plan, " "+redirect+" ") {
		t.Errorf("the generator's redirect URL is not %s, the one the plan registers:\n%s", redirect, b)
	}
	var props struct {
		Properties struct {
			ConnectionParameters struct {
				Token struct {
					OAuthSettings struct {
						ClientID         string `json:"clientId"`
						CustomParameters map[string]struct {
							Value string `json:"value"`
						} `json:"customParameters"`
					} `json:"oAuthSettings"`
				} `json:"token"`
			} `json:"connectionParameters"`
		} `json:"properties"`
	}
	data, err := os.ReadFile(filepath.Join(out, connector.APIPropertiesFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &props); err != nil {
		t.Fatal(err)
	}
	oauth := props.Properties.ConnectionParameters.Token.OAuthSettings
	if oauth.ClientID != settings["AUTH_ALLOWED_CLIENT_APPS"] || oauth.CustomParameters["resourceUri"].Value != gen.value("--resource") || oauth.CustomParameters["tenantId"].Value != settings["AUTH_TENANT_ID"] {
		t.Errorf("apiProperties.json has client %q, resource %q, tenant %q; the plan gives %q, %q, %q",
			oauth.ClientID, oauth.CustomParameters["resourceUri"].Value, oauth.CustomParameters["tenantId"].Value,
			settings["AUTH_ALLOWED_CLIENT_APPS"], gen.value("--resource"), settings["AUTH_TENANT_ID"])
	}

	// WEBSITE_AUTH_ENABLED is what the platform sets once Easy Auth is on,
	// and WEBSITE_SITE_NAME what every App Service-based plan sets.
	env := map[string]string{"WEBSITE_AUTH_ENABLED": "True", "WEBSITE_SITE_NAME": "hello-fn"}
	for k, v := range settings {
		env[k] = v
	}
	check := exec.Command(bins(t)["handler"], "check", "--connector-resource", gen.value("--resource"))
	check.Env = environ(env)
	if b, err := check.CombinedOutput(); err != nil {
		t.Errorf("handler check refuses the plan's settings: %v\n%s", err, b)
	} else if !strings.Contains(string(b), "AUTH_MODE                   easyauth") {
		t.Errorf("handler check does not run Easy Auth mode with the plan's settings:\n%s", b)
	} else if want := "TASKS_STORE                 tables: table tasks at https://sthellofn.table.core.windows.net (managed identity from TasksStorage) (TASKS_STORE=tables)"; !strings.Contains(string(b), want) {
		t.Errorf("handler check does not reach the tasks' table with the app's managed identity; want the line\n%s\nin:\n%s", want, b)
	}
}

// TestProvisionCheckerCatchesInconsistentPlans: the checker is only worth
// something if it fails plans that are wrong in the ways that break a
// deployment. Each case edits the real plan once.
func TestProvisionCheckerCatchesInconsistentPlans(t *testing.T) {
	t.Parallel()
	plan := defaultPlan(t)
	if problems := checkPlan(plan); len(problems) > 0 {
		t.Fatalf("the plan itself is inconsistent: %q", problems)
	}
	for _, tc := range []struct {
		name, old, new, says string
	}{
		{"Easy Auth allows another client", `"allowedApplications":["<connector-client-id>"]`, `"allowedApplications":["<other-client-id>"]`, "allowedApplications"},
		{"AUTH_ALLOWED_CLIENT_APPS names another client", `'AUTH_ALLOWED_CLIENT_APPS=<connector-client-id>'`, `'AUTH_ALLOWED_CLIENT_APPS=<other-client-id>'`, "AUTH_ALLOWED_CLIENT_APPS"},
		{"the connector signs in as another client", `--client-id '<connector-client-id>'`, `--client-id '<other-client-id>'`, "signs in as"},
		{"AUTH_AUDIENCES lacks the client id", `'AUTH_AUDIENCES=api://<api-client-id>,<api-client-id>'`, `'AUTH_AUDIENCES=api://<api-client-id>'`, "AUTH_AUDIENCES"},
		{"the audiences lack the Resource URL", `--resource 'api://<api-client-id>'`, `--resource https://hello-fn.azurewebsites.net`, "Resource URL"},
		{"v1 tokens with an audience only v2 carries", `"allowedAudiences":["api://<api-client-id>","<api-client-id>"]`, `"allowedAudiences":["<api-client-id>"]`, "not among the audiences"},
		{"a multi-tenant issuer", `https://login.microsoftonline.com/<tenant-id>/v2.0`, `https://login.microsoftonline.com/common/v2.0`, "multi-tenant"},
		{"a v1 issuer", `https://login.microsoftonline.com/<tenant-id>/v2.0`, `https://sts.windows.net/<tenant-id>/`, "issuer"},
		{"AUTH_TENANT_ID of another tenant", `'AUTH_TENANT_ID=<tenant-id>'`, `'AUTH_TENANT_ID=<other-tenant-id>'`, "AUTH_TENANT_ID"},
		{"a login redirect", `"unauthenticatedClientAction":"Return401"`, `"unauthenticatedClientAction":"RedirectToLoginPage"`, "Return401"},
		{"anonymous calls allowed", `"requireAuthentication":true`, `"requireAuthentication":false`, "require authentication"},
		{"the wrong redirect URI", `redirect/hellofn `, `redirect/hellofunction `, "redirect URIs"},
		{"runtime node", `--runtime custom`, `--runtime node`, "runtime"},
		{"Windows", `--os-type Linux`, `--os-type Windows`, "Linux"},
		{"Easy Auth on another app", `/sites/hello-fn/config/authsettingsV2`, `/sites/other-fn/config/authsettingsV2`, "Easy Auth is set on"},
		{"not pre-authorized", `"preAuthorizedApplications":[{"appId":"<connector-client-id>"`, `"preAuthorizedApplications":[{"appId":"<other-client-id>"`, "pre-authorized"},
		{"a permission on another scope", `--api-permissions '<scope-id>=Scope'`, `--api-permissions '<other-scope-id>=Scope'`, "permission added"},
		{"a secret in the settings", `AUTH_EASYAUTH_VERIFY_TOKEN=true`, `AUTH_EASYAUTH_VERIFY_TOKEN=true MICROSOFT_PROVIDER_AUTHENTICATION_SECRET=x`, "holds a secret"},
		{"a secret on a command line", `--years 1`, `--years 1 --password x`, "secret on the command line"},
		{"a secret value", `--display-name power-platform`, `--display-name abc8Q~0123456789abcdefghijABCDEFGHIJ_.~-`, "client secret value"},
		{"a secret in a body", `"clientId":"<api-client-id>"}`, `"clientId":"<api-client-id>","clientSecret":"x"}`, "clientSecret"},
		{"settings printed", `TASKS_TABLE=tasks -o none`, `TASKS_TABLE=tasks -o json`, "-o none"},
		{"a line that is no command", "az account show", "echo hi\naz account show", "neither"},
		{"a comment that is no generator", " go run ./cmd/handler connector ", " go run ./cmd/other connector ", "not the connector generator"},
		{"the generator built for Linux", " GOOS= GOARCH= go run ", " GOOS=linux GOARCH= go run ", "empty GOOS"},
		{"the generator without the app's scopes", "AUTH_REQUIRED_SCOPES=user_impersonation GOOS=", "AUTH_REQUIRED_SCOPES=other GOOS=", "the generator runs with AUTH_REQUIRED_SCOPES"},
		{"consent for another client", "grant --id '<connector-client-id>'", "grant --id '<other-client-id>'", "consent granted"},
		{"admin-consent", "az ad app permission grant --id '<connector-client-id>' --api '<api-client-id>' --scope user_impersonation --consent-type AllPrincipals -o none", "az ad app permission admin-consent --id '<connector-client-id>'", "admin-consent"},
		{"an unquoted placeholder", `--id '<connector-client-id>' --append`, `--id <connector-client-id> --append`, "paste"},
		{"the tasks on a connection string with the key", `TasksStorage__tableServiceUri=https://sthellofn.table.core.windows.net `,
			`'TasksStorage=DefaultEndpointsProtocol=https;AccountName=sthellofn;AccountKey=a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5==' `, "holds a storage account key"},
		{"the tasks on a SAS URL", `TasksStorage__tableServiceUri=https://sthellofn.table.core.windows.net `,
			`'TasksStorage__tableServiceUri=https://sthellofn.table.core.windows.net/?sv=2022-11-02&sig=abc' `, "storage account key or SAS"},
		{"the tasks on AzureWebJobsStorage", `TASKS_CONNECTION=TasksStorage `, `TASKS_CONNECTION=AzureWebJobsStorage `, "AzureWebJobsStorage"},
		{"the tasks on another account", `TasksStorage__tableServiceUri=https://sthellofn.`, `TasksStorage__tableServiceUri=https://stother.`, "__tableServiceUri"},
		{"the tasks as a user-assigned identity", `TasksStorage__credential=managedidentity `, `TasksStorage__credential=managedidentity TasksStorage__clientId=12345678-1234-4234-8234-123456789012 `, "__clientId"},
		{"the embedded store in Azure", `TASKS_STORE=tables `, `TASKS_STORE=embedded `, "TASKS_STORE"},
		{"the role on the resource group", `--scope '/subscriptions/<subscription-id>/resourceGroups/rg-hello-fn/providers/Microsoft.Storage/storageAccounts/sthellofn'`,
			`--scope '/subscriptions/<subscription-id>/resourceGroups/rg-hello-fn'`, "scope"},
		{"the role on another account", `--scope '/subscriptions/<subscription-id>/resourceGroups/rg-hello-fn/providers/Microsoft.Storage/storageAccounts/sthellofn'`,
			`--scope '/subscriptions/<subscription-id>/resourceGroups/rg-hello-fn/providers/Microsoft.Storage/storageAccounts/stother'`, "scope"},
		{"a read-only role", `--role 'Storage Table Data Contributor'`, `--role 'Storage Table Data Reader'`, tableDataRole},
		{"the role given to a user", `--assignee-principal-type ServicePrincipal`, `--assignee-principal-type User`, "ServicePrincipal"},
		{"no identity", "az functionapp identity assign ", "az functionapp identity show ", "identity assign"},
		{"another table", `/tableServices/default/tables/tasks?`, `/tableServices/default/tables/other?`, "creates the table"},
		{"no table", "az rest --method PUT --url '/subscriptions/<subscription-id>/", "az rest --method GET --url '/subscriptions/<subscription-id>/", "creates the table"},
		{"an app role for users only", `"allowedMemberTypes":["User","Application"]`, `"allowedMemberTypes":["User"]`, "service-principal connection"},
		{"an app role for apps only", `"allowedMemberTypes":["User","Application"]`, `"allowedMemberTypes":["Application"]`, "no user or group"},
		{"a disabled app role", `"isEnabled":true,"value":"Tasks.ReadWrite.All"`, `"isEnabled":false,"value":"Tasks.ReadWrite.All"`, "not enabled"},
		{"another app role", `"value":"Tasks.ReadWrite.All"`, `"value":"Tasks.Read.All"`, "declares no app role"},
		{"app roles on another registration", `--url 'https://graph.microsoft.com/v1.0/applications/<api-object-id>' --body '{"appRoles"`,
			`--url 'https://graph.microsoft.com/v1.0/applications/<other-object-id>' --body '{"appRoles"`, "app roles go to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edited := strings.Replace(plan, tc.old, tc.new, 1)
			if edited == plan {
				t.Fatalf("the plan has no %q to edit", tc.old)
			}
			problems := checkPlan(edited)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.says) }) {
				t.Errorf("the checker does not notice (%q); it says %q", tc.says, problems)
			}
		})
	}
}

// The runs below are real ones, not dry runs: az is a fake that answers
// as az does, for a tenant where nothing exists yet or everything does,
// and fails the calls a test names the way az fails them. go is a fake
// too, which runs the handler the tests built for go run ./cmd/handler.
// They hold the script to what a plan cannot show: what it does with
// az's answers, and with its failures.

// fakeAzScript is that az. It records each call ("$*") in
// $FAKEAZ_DIR/calls. FAKEAZ_EXISTING=1: everything exists (a rerun);
// else nothing does, and a registration this run created is not found by
// a show (Entra ID has not caught up). Calls matching the glob FAKEAZ_FAIL
// print FAKEAZ_FAIL_MSG and exit FAKEAZ_FAIL_CODE. FAKEAZ_REDIRECTS is the
// connector's redirect URIs, one a line; $FAKEAZ_DIR/sp-create-failures
// counts the service principal creates still to fail; FAKEAZ_ADMIN=1 lets
// the consent grant succeed. Where everything exists, FAKEAZ_IDENTITY=0
// takes away the app's managed identity, FAKEAZ_TABLE_ROLE=0 its role on
// the account, and FAKEAZ_APP_ROLE makes the API's app roles: present
// (Tasks.ReadWrite.All as the script makes it), user-only (that role for
// users only), other (another role, not that one). FAKEAZ_STORAGE_SHOW
// replaces what the storage account's show prints. A call it does not
// know fails.
const fakeAzScript = `#!/usr/bin/env bash
set -u
printf '%s\n' "$*" >>"$FAKEAZ_DIR/calls"
args="$*"
api=aaaaaaaa-0000-4000-8000-000000000001
api_object=bbbbbbbb-0000-4000-8000-000000000003
conn=cccccccc-0000-4000-8000-000000000002
scope=dddddddd-0000-4000-8000-000000000004
tenant=11111111-2222-4333-8444-555555555555
principal=eeeeeeee-0000-4000-8000-000000000006
role=ffffffff-0000-4000-8000-000000000007
storage_id=/subscriptions/22222222-0000-4000-8000-000000000008/resourceGroups/rg-hello-fn/providers/Microsoft.Storage/storageAccounts/sthellofn
if [ -n "${FAKEAZ_FAIL:-}" ]; then
	case $args in
	$FAKEAZ_FAIL)
		printf '%s\n' "$FAKEAZ_FAIL_MSG" >&2
		exit "$FAKEAZ_FAIL_CODE"
		;;
	esac
fi
exists() { [ "${FAKEAZ_EXISTING:-0}" = 1 ]; }
# What az says, and its exit status, for a show whose resource is absent.
missing() {
	printf 'ERROR: (ResourceNotFound) The resource of "az %s" could not be found.\n' "$args" >&2
	exit 3
}
case $args in
"account get-access-token "*) echo "2099-01-01 00:00:00.000000" ;;
"account show --query tenantId -o tsv") echo "$tenant" ;;
"storage account show "*"--query [id,primaryEndpoints.table] -o tsv")
	if [ -n "${FAKEAZ_STORAGE_SHOW:-}" ]; then
		printf '%s\n' "$FAKEAZ_STORAGE_SHOW"
	else
		printf '%s\t%s\n' "$storage_id" https://sthellofn.table.core.windows.net/
	fi
	;;
"group show "* | "storage account show "* | "functionapp plan show "* | "appservice plan show "* | "ad sp show "*) exists || missing ;;
"functionapp identity show "*) if exists && [ "${FAKEAZ_IDENTITY:-1}" = 1 ]; then echo "$principal"; fi ;;
"functionapp identity assign "*) echo "$principal" ;;
"role assignment list "*) if exists && [ "${FAKEAZ_TABLE_ROLE:-1}" = 1 ]; then echo 1; else echo 0; fi ;;
"functionapp show "*"--query defaultHostName -o tsv") echo hello-fn.azurewebsites.net ;;
"functionapp show "*) exists || missing ;;
"ad app list --display-name hello-fn-api "*) if exists; then echo "$api"; fi ;;
"ad app list --display-name hello-fn-connector "*) if exists; then echo "$conn"; fi ;;
"ad app create --display-name hello-fn-api "*"--query [appId,id] -o tsv") printf '%s\n%s\n' "$api" "$api_object" ;;
"ad app create --display-name hello-fn-connector "*"--query appId -o tsv") echo "$conn" ;;
"ad app show "*)
	exists || missing
	case $args in
	*" --query id -o tsv") echo "$api_object" ;;
	*oauth2PermissionScopes*) echo "$scope" ;;
	*requiredResourceAccess*) echo 1 ;;
	*web.redirectUris*) if [ -n "$FAKEAZ_REDIRECTS" ]; then printf '%s\n' "$FAKEAZ_REDIRECTS"; fi ;;
	*"appRoles[?value=='Tasks.ReadWrite.All']"*)
		case ${FAKEAZ_APP_ROLE:-present} in
		present) printf '%s\ttrue\tApplication User\n' "$role" ;;
		user-only) printf '%s\ttrue\tUser\n' "$role" ;;
		esac
		;;
	*"appRoles[].{"*" -o json")
		if [ "${FAKEAZ_APP_ROLE:-present}" = other ]; then
			printf '[\n  {\n    "allowedMemberTypes": [\n      "User"\n    ],\n    "description": "Reads the reports.",\n    "displayName": "Reports reader",\n    "id": "99999999-0000-4000-8000-000000000009",\n    "isEnabled": true,\n    "value": "Reports.Read"\n  }\n]\n'
		else
			echo '[]'
		fi
		;;
	*) echo "fake az: unexpected az $args" >&2; exit 2 ;;
	esac
	;;
"ad sp create "*)
	left=$(cat "$FAKEAZ_DIR/sp-create-failures")
	if [ "$left" -gt 0 ]; then
		echo $((left - 1)) >"$FAKEAZ_DIR/sp-create-failures"
		echo "ERROR: The appId of the service principal does not reference a valid application object." >&2
		exit 1
	fi
	;;
"ad app credential list "*) if exists; then echo 0e0e0e0e-0000-4000-8000-000000000005; fi ;;
"ad app credential reset "*)
	echo "WARNING: The output includes credentials that you must protect." >&2
	echo "$FAKEAZ_SECRET"
	;;
"ad app permission grant "*)
	if [ "${FAKEAZ_ADMIN:-0}" != 1 ]; then
		echo "ERROR: Insufficient privileges to complete the operation." >&2
		exit 1
	fi
	;;
"group create "* | "storage account create "* | "functionapp plan create "* | "appservice plan create "* | \
	"functionapp create "* | "ad app permission add "* | "ad app update "* | "rest "* | \
	"functionapp config appsettings set "* | "role assignment create "*) ;;
*) echo "fake az: unexpected az $args" >&2; exit 2 ;;
esac
`

// fakeGoScript is that go. It records each call, after its GOOS and
// GOARCH, in $FAKEAZ_DIR/go-calls; go env answers for linux/amd64; go run
// ./cmd/handler, from the repository's root only, runs $FAKEGO_HANDLER
// with --out changed to $FAKEGO_OUT, so that nothing is written into the
// work tree.
const fakeGoScript = `#!/usr/bin/env bash
set -u
printf 'GOOS=%s GOARCH=%s go %s\n' "${GOOS-(unset)}" "${GOARCH-(unset)}" "$*" >>"$FAKEAZ_DIR/go-calls"
case ${1-} in
env)
	shift
	for v in "$@"; do
		case $v in
		GOOS | GOHOSTOS) echo linux ;;
		GOARCH | GOHOSTARCH) echo amd64 ;;
		*) echo "fake go: go env $v" >&2; exit 2 ;;
		esac
	done
	;;
run)
	if [ "${2-}" != ./cmd/handler ] || [ ! -f go.mod ] || [ ! -d cmd/handler ]; then
		echo "fake go: want go run ./cmd/handler in the repository's root, got go $* in $PWD" >&2
		exit 2
	fi
	shift 2
	args=()
	while [ "$#" -gt 0 ]; do
		if [ "$1" = --out ]; then
			args+=(--out "$FAKEGO_OUT")
			shift 2
		else
			args+=("$1")
			shift
		fi
	done
	exec "$FAKEGO_HANDLER" "${args[@]}"
	;;
*) echo "fake go: unexpected go $*" >&2; exit 2 ;;
esac
`

// The fake tenant's ids, as fakeAzScript gives them.
const (
	fakeAPIID       = "aaaaaaaa-0000-4000-8000-000000000001"
	fakeConnectorID = "cccccccc-0000-4000-8000-000000000002"
	fakeScopeID     = "dddddddd-0000-4000-8000-000000000004"
	fakePrincipalID = "eeeeeeee-0000-4000-8000-000000000006"
	fakeStorageID   = "/subscriptions/22222222-0000-4000-8000-000000000008/resourceGroups/rg-hello-fn/providers/Microsoft.Storage/storageAccounts/sthellofn"
	// fakeSecret has the shape of an Entra ID client secret.
	fakeSecret = "Fk38Q~fakeClientSecretValue0123456789abcdefg"
)

// fakeRedirectURI is the redirect URL of the connector hello-fn.
var fakeRedirectURI = connector.RedirectURL(provisionApp)

// fakeAzure is what the fake az is to answer.
type fakeAzure struct {
	existing         bool
	fail             string // a glob of calls ("$*") to fail
	failCode         int
	failMsg          string
	redirects        []string // the connector's redirect URIs, when existing
	spCreateFailures int
	admin            bool
	bashFlags        []string
	// Where everything exists: no managed identity, or no role for it.
	noIdentity, noTableRole bool
	appRole                 string // FAKEAZ_APP_ROLE: "" (present), user-only, other
	storageShow             string // what az storage account show --query prints
}

// fakeRun is one real run against the fake az.
type fakeRun struct {
	provisionRun
	calls, goCalls []string
	out            string // where the connector's files went
}

// callsTo returns the calls that start with prefix.
func (r fakeRun) callsTo(prefix string) []string {
	var out []string
	for _, c := range r.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func (r fakeRun) String() string {
	return fmt.Sprintf("exit %d\naz calls:\n  %s\ngo calls:\n  %s\nstdout:\n%s\nstderr:\n%s",
		r.code, strings.Join(r.calls, "\n  "), strings.Join(r.goCalls, "\n  "), r.stdout, r.stderr)
}

// provisionFake runs deploy/provision.sh for real against a fake az.
func provisionFake(t *testing.T, f fakeAzure, args ...string) fakeRun {
	t.Helper()
	stub := t.TempDir()
	// The fakes start with the bash found on PATH, named in full: a test
	// makes hundreds of az calls, and /usr/bin/env searching PATH for bash
	// on each was a third of their cost.
	shebang := "#!" + lookBash(t) + "\n"
	for name, script := range map[string]string{"az": fakeAzScript, "go": fakeGoScript} {
		script = shebang + strings.TrimPrefix(script, "#!/usr/bin/env bash\n")
		if err := os.WriteFile(filepath.Join(stub, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(stub, "sp-create-failures"), []byte(fmt.Sprintln(f.spCreateFailures)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "connector")
	redirects := f.redirects
	if redirects == nil {
		redirects = []string{"https://example.com/keep", fakeRedirectURI}
	}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	env := []string{
		"FAKEAZ_DIR=" + stub,
		"FAKEAZ_EXISTING=" + flag(f.existing),
		"FAKEAZ_ADMIN=" + flag(f.admin),
		"FAKEAZ_REDIRECTS=" + strings.Join(redirects, "\n"),
		"FAKEAZ_SECRET=" + fakeSecret,
		"FAKEGO_HANDLER=" + bins(t)["handler"],
		"FAKEGO_OUT=" + out,
		"PROVISION_RETRY_SLEEP=0",
		"FAKEAZ_IDENTITY=" + flag(!f.noIdentity),
		"FAKEAZ_TABLE_ROLE=" + flag(!f.noTableRole),
		"FAKEAZ_APP_ROLE=" + f.appRole,
		"FAKEAZ_STORAGE_SHOW=" + f.storageShow,
	}
	if f.fail != "" {
		env = append(env, "FAKEAZ_FAIL="+f.fail, fmt.Sprintf("FAKEAZ_FAIL_CODE=%d", f.failCode), "FAKEAZ_FAIL_MSG="+f.failMsg)
	}
	run := fakeRun{provisionRun: execProvision(t, stub, env, f.bashFlags, append([]string{"--name", provisionApp}, args...)...), out: out}
	run.calls = strings.Split(strings.TrimSpace(run.azCalls), "\n")
	if b, err := os.ReadFile(filepath.Join(stub, "go-calls")); err == nil {
		run.goCalls = strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	if strings.Contains(run.stderr, "fake az: unexpected") || strings.Contains(run.stderr, "fake go: ") {
		t.Fatalf("provision.sh made a call the fakes do not know:\n%s", run)
	}
	return run
}

// TestProvisionFirstRun: in an empty tenant the script creates
// everything, takes a new registration's ids from its create (the fake
// az, like Entra ID a moment after a create, finds no new registration),
// retries a service principal that the directory does not see yet, runs
// the generator for this machine from the repository's root, and prints
// the secret on stdout only.
func TestProvisionFirstRun(t *testing.T) {
	t.Parallel()
	run := provisionFake(t, fakeAzure{spCreateFailures: 2})
	if run.code != 0 {
		t.Fatalf("the first run failed:\n%s", run)
	}
	for _, want := range []string{"group create ", "storage account create ", "functionapp create ",
		"ad app create --display-name hello-fn-api ", "ad app create --display-name hello-fn-connector ",
		"ad app permission add ", "ad app update ", "ad app credential reset "} {
		if len(run.callsTo(want)) != 1 {
			t.Errorf("want one az %s...:\n%s", want, run)
		}
	}
	if got := run.callsTo("ad app show "); len(got) > 0 {
		t.Errorf("the run looked up a registration it had just created: %q", got)
	}
	// Two failures, then the API's service principal; then the connector's.
	if got := run.callsTo("ad sp create "); len(got) != 4 || got[0] != got[2] || strings.Count(run.stderr, "trying again") != 2 {
		t.Errorf("the service principal create is not retried after the directory's lag: %q\n%s", got, run.stderr)
	}
	if got := run.callsTo("ad app permission admin-consent"); len(got) > 0 {
		t.Errorf("the run used admin-consent: %q", got)
	}
	if got := run.callsTo("ad app permission grant "); len(got) != 1 || !strings.Contains(got[0], "--api "+fakeAPIID+" --scope user_impersonation --consent-type AllPrincipals") {
		t.Errorf("no AllPrincipals grant of the scope: %q", got)
	} else if !strings.Contains(run.stderr, "tenant-wide consent was not granted") {
		t.Errorf("a refused grant is not reported:\n%s", run.stderr)
	}
	if got := run.callsTo("account get-access-token "); len(got) != 2 || !strings.Contains(got[1], "--resource-type ms-graph") {
		t.Errorf("the login is not checked with a token for ARM and for Graph: %q", got)
	}
	if run.stdout != fakeSecret+"\n" || strings.Contains(run.stderr, fakeSecret) {
		t.Errorf("stdout is not the secret alone, or stderr shows it:\n%s", run)
	}
	var gen string
	for _, c := range run.goCalls {
		if strings.Contains(c, " go run ") {
			gen = c
		}
	}
	if !strings.HasPrefix(gen, "GOOS= GOARCH= go run ./cmd/handler connector ") {
		t.Errorf("the generator is not go run ./cmd/handler with empty GOOS and GOARCH: %q", run.goCalls)
	}
	props, err := os.ReadFile(filepath.Join(run.out, connector.APIPropertiesFile))
	if err != nil || !strings.Contains(string(props), fakeConnectorID) {
		t.Errorf("the generator wrote no connector for the client %s: %v", fakeConnectorID, err)
	}
	if !strings.Contains(run.stderr, "make publish APP="+provisionApp) {
		t.Errorf("the closing hint is not make publish APP=%s:\n%s", provisionApp, run.stderr)
	}
	checkTasksCalls(t, run, tasksCalls{identity: true, tableRole: true, appRoles: `{"appRoles":[{"allowedMemberTypes":["User","Application"],`})
}

// tasksCalls is what a run is to do for the Tasks function: assign the
// app an identity, give it the role on the account, and declare the app
// role with a body that starts with appRoles.
type tasksCalls struct {
	identity, tableRole bool
	appRoles            string
}

// checkTasksCalls holds a run that succeeded to want, and to what every
// run does: create the table on the account az named, through ARM, and
// point the handler at it with the app's identity, no key in any setting.
func checkTasksCalls(t *testing.T, run fakeRun, want tasksCalls) {
	t.Helper()
	if got := run.callsTo("functionapp identity assign "); len(got) != map[bool]int{true: 1}[want.identity] ||
		(want.identity && got[0] != "functionapp identity assign --name hello-fn --resource-group rg-hello-fn --query principalId -o tsv") {
		t.Errorf("identity assign calls %q, want %v", got, want.identity)
	}
	wantRole := "role assignment create --assignee-object-id " + fakePrincipalID + " --assignee-principal-type ServicePrincipal --role Storage Table Data Contributor --scope " + fakeStorageID + " -o none"
	if got := run.callsTo("role assignment create "); (want.tableRole && !slices.Equal(got, []string{wantRole})) || (!want.tableRole && len(got) > 0) {
		t.Errorf("role assignment calls %q, want %v: %q", got, want.tableRole, wantRole)
	}
	if got := run.callsTo("role assignment list "); want.identity && len(got) > 0 {
		t.Errorf("the role assignments of an identity made this run are looked up: %q", got)
	}
	wantTable := "rest --method PUT --url " + fakeStorageID + "/tableServices/default/tables/tasks?api-version=2023-05-01 --body {} -o none"
	if got := run.callsTo("rest --method PUT --url /subscriptions/22222222"); !slices.Equal(got, []string{wantTable}) {
		t.Errorf("table calls %q, want %q", got, wantTable)
	}
	var roles []string
	for _, c := range run.callsTo("rest --method PATCH --url https://graph.microsoft.com/v1.0/applications/bbbbbbbb-0000-4000-8000-000000000003 --body ") {
		if body := strings.TrimSuffix(strings.TrimPrefix(c, "rest --method PATCH --url https://graph.microsoft.com/v1.0/applications/bbbbbbbb-0000-4000-8000-000000000003 --body "), " -o none"); strings.HasPrefix(body, `{"appRoles"`) {
			roles = append(roles, body)
		}
	}
	switch {
	case want.appRoles == "" && len(roles) > 0:
		t.Errorf("the app roles were patched: %q", roles)
	case want.appRoles != "" && (len(roles) != 1 || !strings.HasPrefix(roles[0], want.appRoles) || !json.Valid([]byte(roles[0]))):
		t.Errorf("the app roles patched %q, want one JSON body starting %s", roles, want.appRoles)
	case want.appRoles != "" && (strings.Contains(roles[0], `"origin"`) || strings.Contains(roles[0], "ffffffff-0000-4000-8000-000000000007")):
		t.Errorf("the app roles patched carry origin, or reuse another role's id: %s", roles[0])
	}
	settings := run.callsTo("functionapp config appsettings set ")
	if len(settings) != 1 || !strings.Contains(settings[0], " TASKS_STORE=tables TASKS_CONNECTION=TasksStorage TasksStorage__tableServiceUri=https://sthellofn.table.core.windows.net TasksStorage__credential=managedidentity TASKS_TABLE=tasks -o none") ||
		storageSecret.MatchString(settings[0]) {
		t.Errorf("the settings do not reach the table with the app's identity: %q", settings)
	}
}

// TestProvisionRerunChangesNothingFound: with everything in place, a
// rerun creates nothing, adds no second copy of the permission (az
// appends one, Azure/azure-cli#24512), leaves the redirect URIs and makes
// no secret; with the redirect URI missing, it adds it and keeps the
// others.
func TestProvisionRerunChangesNothingFound(t *testing.T) {
	t.Parallel()
	run := provisionFake(t, fakeAzure{existing: true, admin: true})
	if run.code != 0 {
		t.Fatalf("the rerun failed:\n%s", run)
	}
	for _, c := range run.calls {
		if strings.Contains(c, " create ") || strings.HasPrefix(c, "ad app permission add ") ||
			strings.HasPrefix(c, "ad app update ") || strings.HasPrefix(c, "ad app credential reset ") {
			t.Errorf("the rerun ran az %s", c)
		}
	}
	if run.stdout != "" {
		t.Errorf("the rerun printed %q on stdout", run.stdout)
	}
	if strings.Contains(run.stderr, "not granted") {
		t.Errorf("an admin's grant is reported as refused:\n%s", run.stderr)
	}
	// The duplicate check asks for exactly this scope on exactly this API.
	count := "ad app show --id " + fakeConnectorID + " --query requiredResourceAccess[?resourceAppId=='" + fakeAPIID +
		"'].resourceAccess[] | [?id=='" + fakeScopeID + "'] | length(@) -o tsv"
	if !slices.Contains(run.calls, count) {
		t.Errorf("no az %s among the calls:\n%s", count, run)
	}

	checkTasksCalls(t, run, tasksCalls{})
	if got := run.callsTo("role assignment list "); !slices.Equal(got, []string{"role assignment list --scope " + fakeStorageID +
		" --role Storage Table Data Contributor --query [?principalId=='" + fakePrincipalID + "'] | length(@) -o tsv"}) {
		t.Errorf("the identity's role on the account is not looked for: %q", got)
	}

	run = provisionFake(t, fakeAzure{existing: true, redirects: []string{"https://example.com/keep"}})
	if got := run.callsTo("ad app update "); run.code != 0 || len(got) != 1 ||
		!strings.Contains(got[0], "--web-redirect-uris https://example.com/keep "+fakeRedirectURI+" ") {
		t.Errorf("the missing redirect URI is not added beside the registered one: %q\n%s", got, run)
	}
}

// TestProvisionFailedLookupsStop: a lookup that fails is no "nothing
// found". The script stops, saying what az said, before creating or
// changing what the lookup was for: a second registration, a redirect
// list without the registered URIs, a resource over one it could not see.
func TestProvisionFailedLookupsStop(t *testing.T) {
	t.Parallel()
	const (
		expired   = "ERROR: AADSTS700082: The refresh token has expired due to inactivity."
		forbidden = "ERROR: (AuthorizationFailed) The client does not have authorization to perform action over scope."
		graph403  = "ERROR: Insufficient privileges to complete the operation."
	)
	for _, tc := range []struct {
		name     string
		f        fakeAzure
		says     string
		mustNot  []string // calls that must not happen
		mustHave string   // a call that shows the run got that far
	}{
		{"app list fails", fakeAzure{fail: "ad app list *", failCode: 1, failMsg: graph403},
			graph403, []string{"ad app create "}, "ad app list "},
		{"connector's app list fails", fakeAzure{existing: true, fail: "ad app list --display-name hello-fn-connector *", failCode: 1, failMsg: expired},
			expired, []string{"ad app create ", "ad app permission add ", "ad app update "}, "ad app list --display-name hello-fn-connector "},
		{"redirect lookup fails", fakeAzure{existing: true, fail: "ad app show *web.redirectUris*", failCode: 1, failMsg: expired},
			"redirect URIs", []string{"ad app update "}, "ad app show --id " + fakeConnectorID + " --query web.redirectUris[]"},
		{"permission lookup fails", fakeAzure{existing: true, fail: "ad app show *requiredResourceAccess*", failCode: 1, failMsg: expired},
			"permissions", []string{"ad app permission add "}, "ad app show --id " + fakeConnectorID + " --query requiredResourceAccess"},
		{"scope lookup fails", fakeAzure{existing: true, fail: "ad app show *oauth2PermissionScopes*", failCode: 1, failMsg: expired},
			"scopes", []string{"rest --method PATCH "}, "ad app show --id " + fakeAPIID},
		{"app role lookup fails", fakeAzure{existing: true, fail: "ad app show *appRoles*", failCode: 1, failMsg: graph403},
			"app roles", []string{"rest --method PATCH "}, "ad app show --id " + fakeAPIID + " --query appRoles"},
		{"app roles list fails", fakeAzure{existing: true, appRole: "absent", fail: "ad app show *-o json", failCode: 1, failMsg: expired},
			"app roles", []string{"rest --method PATCH "}, "ad app show --id " + fakeAPIID + " --query appRoles[]"},
		{"storage account id lookup fails", fakeAzure{existing: true, fail: "storage account show *--query*", failCode: 1, failMsg: forbidden},
			"storage account sthellofn", []string{"functionapp identity ", "role assignment ", "rest "}, "storage account show --name sthellofn --resource-group rg-hello-fn --query"},
		{"identity lookup fails", fakeAzure{existing: true, fail: "functionapp identity show *", failCode: 1, failMsg: forbidden},
			forbidden, []string{"functionapp identity assign ", "role assignment ", "rest "}, "functionapp identity show "},
		{"role assignment lookup fails", fakeAzure{existing: true, fail: "role assignment list *", failCode: 1, failMsg: forbidden},
			forbidden, []string{"role assignment create ", "rest "}, "role assignment list "},
		{"group show: login expired", fakeAzure{fail: "group show *", failCode: 1, failMsg: expired},
			expired, []string{"group create "}, "group show "},
		{"functionapp show: 403", fakeAzure{existing: true, fail: "functionapp show * -o none", failCode: 1, failMsg: forbidden},
			forbidden, []string{"functionapp create "}, "functionapp show "},
		{"storage account show: throttled", fakeAzure{fail: "storage account show *", failCode: 1, failMsg: "ERROR: (TooManyRequests) Too many requests."},
			"TooManyRequests", []string{"storage account create "}, "storage account show "},
		{"sp show: Graph 403", fakeAzure{existing: true, fail: "ad sp show *", failCode: 1, failMsg: graph403},
			graph403, []string{"ad sp create "}, "ad sp show "},
		{"credential list fails", fakeAzure{existing: true, fail: "ad app credential list *", failCode: 1, failMsg: expired},
			"client secrets", []string{"ad app credential reset "}, "ad app credential list "},
		{"login expired", fakeAzure{fail: "account get-access-token *", failCode: 1, failMsg: expired},
			"az login", []string{"group ", "account show "}, "account get-access-token "},
		{"no Graph token", fakeAzure{fail: "account get-access-token --resource-type ms-graph *", failCode: 1, failMsg: expired},
			"Microsoft Graph", []string{"group ", "account show "}, "account get-access-token --resource-type ms-graph "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := provisionFake(t, tc.f)
			if run.code == 0 {
				t.Errorf("the script went on after the failure:\n%s", run)
			}
			if !strings.Contains(run.stderr, tc.says) {
				t.Errorf("stderr does not say %q:\n%s", tc.says, run.stderr)
			}
			if len(run.callsTo(tc.mustHave)) == 0 {
				t.Errorf("the run stopped before az %s...:\n%s", tc.mustHave, run)
			}
			for _, c := range tc.mustNot {
				if got := run.callsTo(c); len(got) > 0 {
					t.Errorf("after the failure it ran az %q", got)
				}
			}
			if run.stdout != "" {
				t.Errorf("stdout: %q", run.stdout)
			}
		})
	}
}

// TestProvisionTasksConverges: on an app made before the Tasks function,
// or changed by hand, a rerun adds what is missing and keeps the rest: an
// identity for an app without one, the role for an identity without it,
// the app role beside the API's other roles (which go back as az printed
// them). An app role of that value which differs is left alone with a
// note, since Graph changes an enabled role only once disabled; and a
// storage account show that names another account, or no https
// endpoint, stops the run before any role is given.
func TestProvisionTasksConverges(t *testing.T) {
	t.Parallel()
	otherRole := `{"appRoles":[  {    "allowedMemberTypes": [      "User"    ],    "description": "Reads the reports.",    "displayName": "Reports reader",    "id": "99999999-0000-4000-8000-000000000009",    "isEnabled": true,    "value": "Reports.Read"  },{"allowedMemberTypes":["User","Application"],`
	for _, tc := range []struct {
		name string
		f    fakeAzure
		want tasksCalls
		note string
	}{
		{"no identity", fakeAzure{existing: true, admin: true, noIdentity: true}, tasksCalls{identity: true, tableRole: true}, ""},
		{"no role on the account", fakeAzure{existing: true, admin: true, noTableRole: true}, tasksCalls{tableRole: true}, ""},
		{"another app role", fakeAzure{existing: true, admin: true, appRole: "other"}, tasksCalls{appRoles: otherRole}, ""},
		{"no app role at all", fakeAzure{existing: true, admin: true, appRole: "absent"}, tasksCalls{appRoles: `{"appRoles":[{"allowedMemberTypes":["User","Application"],`}, ""},
		{"the app role for users only", fakeAzure{existing: true, admin: true, appRole: "user-only"}, tasksCalls{},
			"the app role Tasks.ReadWrite.All of hello-fn-api is left as it is (enabled: true; member types: User)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := provisionFake(t, tc.f)
			if run.code != 0 {
				t.Fatalf("the run failed:\n%s", run)
			}
			checkTasksCalls(t, run, tc.want)
			if (tc.note == "") == strings.Contains(run.stderr, "is left as it is") || !strings.Contains(run.stderr, tc.note) {
				t.Errorf("want the note %q, stderr:\n%s", tc.note, run.stderr)
			}
		})
	}
	for _, tc := range []struct{ name, show, says string }{
		{"another account", "/subscriptions/22222222-0000-4000-8000-000000000008/resourceGroups/rg-hello-fn/providers/Microsoft.Storage/storageAccounts/stother\thttps://stother.table.core.windows.net/", "no id of the account sthellofn"},
		{"a table endpoint without TLS", fakeStorageID + "\thttp://sthellofn.table.core.windows.net/", "no https table endpoint"},
		{"nothing", " ", "no id of the account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := provisionFake(t, fakeAzure{storageShow: tc.show})
			if run.code == 0 || !strings.Contains(run.stderr, tc.says) || len(run.callsTo("role assignment ")) > 0 || len(run.callsTo("rest ")) > 0 {
				t.Errorf("want a stop saying %q before any role or table:\n%s", tc.says, run)
			}
		})
	}
}

// TestProvisionServicePrincipalGivesUp: a service principal that cannot
// be created stops the run after a few tries.
func TestProvisionServicePrincipalGivesUp(t *testing.T) {
	t.Parallel()
	run := provisionFake(t, fakeAzure{spCreateFailures: 100})
	if got := run.callsTo("ad sp create "); run.code == 0 || len(got) != 5 || len(run.callsTo("ad app create --display-name hello-fn-connector")) > 0 {
		t.Errorf("want 5 tries, then a stop: %d tries\n%s", len(got), run)
	}
}

// TestProvisionTraceHidesSecret: under bash -x the trace goes on until
// the secret, which it never shows.
func TestProvisionTraceHidesSecret(t *testing.T) {
	t.Parallel()
	run := provisionFake(t, fakeAzure{bashFlags: []string{"-x"}})
	if run.code != 0 || !strings.Contains(run.stderr, "+ find_app hello-fn-api") {
		t.Fatalf("bash -x did not run, or traced nothing:\n%s", run)
	}
	if run.stdout != fakeSecret+"\n" || strings.Contains(run.stderr, fakeSecret) {
		t.Errorf("the trace shows the secret, or stdout is not the secret alone:\n%s", run)
	}
}

// TestProvisionFederatedMakesNoSecret: with --federated no secret is
// listed or made.
func TestProvisionFederatedMakesNoSecret(t *testing.T) {
	t.Parallel()
	run := provisionFake(t, fakeAzure{}, "--federated")
	if run.code != 0 || run.stdout != "" || len(run.callsTo("ad app credential")) > 0 || !strings.Contains(run.stderr, "federated-credential create --id "+fakeConnectorID) {
		t.Errorf("--federated:\n%s", run)
	}
}

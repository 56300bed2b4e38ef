package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/entrafunc/entrafunc/api"
	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/connector"
	"github.com/entrafunc/entrafunc/internal/bounded"
)

const connectorUsage = `usage: handler connector [--out DIR] [flags]

Write the Power Platform custom connector for this API, generated from the
route table the server serves: apiDefinition.swagger.json (OpenAPI 2.0),
apiProperties.json (the Entra ID OAuth connection, never a secret),
NAME.postman_collection.json (Postman v2.1, one checked request per
action) and settings.json (for paconn). Then it prints the values for the
connector's Security page and the commands that create it.

--out must be a new or empty directory, or this command's own earlier
output, which it rewrites: it lists its files in ` + connectorMarker + `
there, and refuses a directory holding anything else.

Defaults come from the environment the API runs with, so that the
connector matches it:
  --host       WEBSITE_HOSTNAME (set by App Service)
  --tenant     AUTH_TENANT_ID; without it common, which Entra ID refuses
               for most single-tenant registrations (AADSTS50194)
  --resource   the first of AUTH_AUDIENCES; with AUTH_AUDIENCES set, a
               Resource URL that is not among them is refused, because
               every call would get 401
  --client-id  AUTH_ALLOWED_CLIENT_APPS when it lists exactly one; with
               it set, a client id not among them is refused (403)
  scopes       AUTH_REQUIRED_SCOPES (default user_impersonation)

examples:
  handler connector --out dist/connector --host hello-fn.azurewebsites.net \
      --client-id 3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b --resource api://hello-fn \
      --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47
`

// connectorMarker is the file that marks a directory as this command's
// output: connectorMarkerHeader, then the name of each file it wrote
// there, one a line. A settings.json or a collection of someone else's
// carries no such list, so it is never overwritten.
const (
	connectorMarker       = ".handler-connector"
	connectorMarkerHeader = "# handler connector wrote this directory, and rewrites it on each run.\n" +
		"# It writes only into a new or empty directory, or into one holding\n" +
		"# nothing but this file and the files listed below.\n"
)

// connectorCommand writes the connector's files.
func connectorCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("connector", connectorUsage, stdout, stderr)
	var c connector.Config
	var categories categoryFlag
	out := f.String("out", filepath.Join("dist", "connector"), "the directory to write the files to: new, empty, or this command's earlier output")
	// The environment's defaults are applied after parsing, not given as
	// the flags' defaults, so that -h does not print what they hold.
	f.StringVar(&c.Host, "host", "", "the function app's host name, such as hello-fn.azurewebsites.net, with an optional :port (default: WEBSITE_HOSTNAME)")
	f.StringVar(&c.ClientID, "client-id", "", "the application (client) id of the connector's app registration")
	f.StringVar(&c.Resource, "resource", "", "the Resource URL: the audience the connector asks tokens for (default: the first of AUTH_AUDIENCES)")
	f.StringVar(&c.TenantID, "tenant", "", "the tenant users sign in to: a tenant id, a verified domain, common or organizations (default: AUTH_TENANT_ID, else "+connector.DefaultTenant+")")
	f.StringVar(&c.Title, "title", connector.DefaultTitle, "the connector's display name (at most 30 characters, without API or Connector)")
	f.StringVar(&c.Name, "name", "", "names the collection file and the per-connector redirect URL (default: the title without spaces)")
	f.StringVar(&c.Publisher, "publisher", "", "the person or company publishing the connector (default: the title)")
	f.StringVar(&c.Website, "website", "", "the connector's website, https (default: https://HOST)")
	f.StringVar(&c.PrivacyPolicy, "privacy-policy", "", "the privacy policy's URL, https (default: the website)")
	f.Var(&categories, "category", `a gallery category, such as "IT Operations"; at most two, repeated or separated by ";" (default `+connector.DefaultCategory+")")
	f.StringVar(&c.BrandColor, "brand-color", connector.DefaultBrandColor, "the icon's background colour, #rrggbb")
	f.StringVar(&c.Environment, "environment", "", "the Power Platform environment id for settings.json (default: none, give it to paconn)")
	if help, err := f.parse(args); help || err != nil {
		return err
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !set["host"] {
		c.Host = getenv("WEBSITE_HOSTNAME")
	}
	// The tenant the API accepts tokens of is the one to sign in to:
	// /common refuses most single-tenant registrations created after
	// 2018-10-15 (AADSTS50194, learn.microsoft.com/entra/identity-platform/reference-error-codes).
	// AUTH_TENANT_ID is read as serve reads it; serve refuses anything
	// but a GUID, and so does this.
	tenantDefaulted := false
	if !set["tenant"] {
		raw := getenv("AUTH_TENANT_ID")
		switch t := strings.ToLower(strings.TrimSpace(raw)); {
		case t == "":
			c.TenantID, tenantDefaulted = connector.DefaultTenant, true
		case !auth.IsGUID(t):
			return f.fail(fmt.Errorf("AUTH_TENANT_ID=%s is not a tenant GUID (Entra ID > Overview > Tenant ID); correct it, or give --tenant", shown(raw)))
		default:
			c.TenantID = t
		}
	}
	c.Categories = categories
	c.Audiences = splitList(getenv("AUTH_AUDIENCES"), ",")
	c.AllowedClientApps = splitList(getenv("AUTH_ALLOWED_CLIENT_APPS"), ",")
	c.Scopes = splitList(getenv("AUTH_REQUIRED_SCOPES"), " ")
	if c.Resource == "" && len(c.Audiences) > 0 {
		c.Resource = c.Audiences[0]
	}
	if c.ClientID == "" && len(c.AllowedClientApps) == 1 {
		c.ClientID = c.AllowedClientApps[0]
	}

	switch {
	case *out == "":
		return f.fail(errors.New("--out must name a directory"))
	case strings.IndexFunc(*out, invisibleRune) >= 0:
		// The path is printed, and pasted into commands.
		return f.fail(fmt.Errorf("--out %s holds a control or formatting character", shown(*out)))
	}
	if fi, err := os.Stat(*out); err == nil && !fi.IsDir() {
		return f.fail(fmt.Errorf("--out %s is a file, not a directory", shown(*out)))
	}

	routes := api.Routes()
	files, err := connector.Generate(c, routes)
	switch {
	case errors.Is(err, connector.ErrResourceNotAccepted) || errors.Is(err, connector.ErrClientNotAllowed):
		return asProblems(err)
	case err != nil:
		return f.fail(asProblems(err))
	}
	kept, err := ownOutput(*out)
	if err != nil {
		return f.fail(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	// The marker first: a run cut short leaves a directory that the next
	// run recognises, rather than one it refuses.
	var names []string
	for _, file := range files {
		names = append(names, file.Name)
	}
	for _, name := range kept {
		if !slices.Contains(names, name) {
			names = append(names, name) // an earlier run's collection, under another --name
		}
	}
	if err := writeFile(filepath.Join(*out, connectorMarker), []byte(connectorMarkerHeader+strings.Join(names, "\n")+"\n")); err != nil {
		return err
	}
	for _, file := range files {
		path := filepath.Join(*out, file.Name)
		if err := writeFile(path, file.Data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	printSecurity(stdout, c, *out, len(api.Actions(routes)), tenantDefaulted)
	return nil
}

// ownOutput returns the files in dir that an earlier run wrote, or an
// error when dir holds anything else. A new or empty directory holds
// none. Otherwise the marker must list every file there, each a regular
// file: the list, not the names, tells this command's settings.json from
// someone else's.
func ownOutput(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	listed := readMarker(filepath.Join(dir, connectorMarker))
	var kept, foreign []string
	for _, e := range entries {
		switch name := e.Name(); {
		case name == connectorMarker && listed != nil:
		case listed[name] && e.Type().IsRegular():
			kept = append(kept, name)
		default:
			foreign = append(foreign, name)
		}
	}
	if len(foreign) > 0 {
		var names []string
		for i, name := range foreign {
			if i == 5 {
				names = append(names, fmt.Sprintf("and %d more", len(foreign)-i))
				break
			}
			names = append(names, shown(name))
		}
		return nil, fmt.Errorf("--out %s holds %s, which handler connector did not write (or wrote before it listed its files in %s): "+
			"it writes only into a new or empty directory, or its own earlier output. Give another --out, or move those files away",
			shown(dir), strings.Join(names, ", "), connectorMarker)
	}
	return kept, nil
}

// readMarker returns the names a marker file lists, or nil when path is
// not a marker this command wrote.
func readMarker(path string) map[string]bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 64<<10 {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	list, ok := strings.CutPrefix(string(b), connectorMarkerHeader)
	if !ok {
		return nil
	}
	names := map[string]bool{}
	for _, name := range strings.Split(strings.TrimSuffix(list, "\n"), "\n") {
		// Only names the generator could have written: a JSON file in
		// the directory itself. A marker listing anything else is not
		// this command's.
		if name != filepath.Base(name) || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") ||
			strings.ContainsAny(name, `/\`) || strings.IndexFunc(name, invisibleRune) >= 0 {
			return nil
		}
		names[name] = true
	}
	return names
}

// categoryFlag collects gallery categories. They hold spaces ("IT
// Operations"), so unlike listFlag it splits on semicolons only, as the
// definition joins them.
type categoryFlag []string

func (c *categoryFlag) String() string { return strings.Join(*c, ";") }
func (c *categoryFlag) Set(v string) error {
	*c = append(*c, splitList(v, ";")...)
	return nil
}

// printSecurity tells the maker what the files cannot hold: the secret,
// the redirect URL to register, and the commands that create the
// connector. Every value in it has been validated; the commands quote
// each word all the same, so that a path with a space, or anything a
// later change lets through, stays one word and runs nothing.
func printSecurity(w io.Writer, c connector.Config, out string, actions int, tenantDefaulted bool) {
	name := c.Name
	if name == "" {
		name = connector.DefaultName(c.Title)
	}
	path := func(file string) string {
		p := filepath.Join(out, file)
		if strings.HasPrefix(p, "-") {
			p = "." + string(filepath.Separator) + p // not an option to the tool
		}
		return shellWord(p)
	}
	def, props := path(connector.APIDefinitionFile), path(connector.APIPropertiesFile)
	tenant := c.TenantID
	if tenant == "" {
		tenant = connector.DefaultTenant // --tenant "" given: Generate's default
	}
	if tenantDefaulted {
		tenant += ` (AUTH_TENANT_ID is not set); /common refuses most
                  single-tenant registrations (AADSTS50194): then give
                  --tenant with the tenant id`
	}
	fmt.Fprintf(w, `
%d actions. The connector's Security page (identity provider Microsoft Entra ID):
  Client ID       %s
  Client secret   a secret VALUE of that app registration (not its secret ID);
                  given at creation, never written to these files
  Tenant ID       %s
  Resource URL    %s
  Redirect URL    %s
                  register it on the connector's app registration
                  (Authentication > Web), and compare it with the one the
                  Security page shows once the connector exists

Create the connector (docs/connector.md has the details):
  paconn create --api-def %s --api-prop %s --secret "$CONNECTOR_CLIENT_SECRET"
  pac connector create --api-definition-file %s --api-properties-file %s
      (then enter the secret on the Security page, or see docs/connector.md)

Try every action against the API, with an access token in ACCESS_TOKEN:
  newman run %s --env-var %s --env-var "token=$ACCESS_TOKEN"
`, actions, c.ClientID, tenant, c.Resource, connector.RedirectURL(name),
		def, props, def, props, path(connector.CollectionFile(name)), shellWord("baseUrl=https://"+c.Host))
}

// shellWord quotes s as one word for a POSIX shell (sh, bash, zsh): bare
// when it holds only characters no shell treats specially, in single
// quotes otherwise, where nothing is special but a single quote, which
// closes the quotes, is escaped, and reopens them. A leading = is quoted
// too: zsh expands =cmd to a path.
func shellWord(s string) string {
	bare := s != "" && s[0] != '=' && strings.IndexFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("_-./:@%+,=", r))
	}) < 0
	if bare {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// invisibleRune reports a character that would not show, or would move
// the cursor or reorder the text, where the output is read.
func invisibleRune(r rune) bool { return !bounded.Safe(r) }

// asProblems lists the problems of a joined error one per line.
func asProblems(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return problemsError{errs: j.Unwrap()}
	}
	return err
}

// writeFile replaces path with data whole, through a temporary file
// renamed over it, so that a failed run leaves each file old or new,
// never cut short.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up otherwise
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

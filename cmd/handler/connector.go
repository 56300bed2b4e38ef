package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/entrafunc/entrafunc/api"
	"github.com/entrafunc/entrafunc/connector"
)

const connectorUsage = `usage: handler connector [--out DIR] [flags]

Write the Power Platform custom connector for this API, generated from the
route table the server serves: apiDefinition.swagger.json (OpenAPI 2.0),
apiProperties.json (the Entra ID OAuth connection, never a secret),
NAME.postman_collection.json (Postman v2.1, one checked request per
action) and settings.json (for paconn). Then it prints the values for the
connector's Security page and the commands that create it.

Defaults come from the environment the API runs with, so that the
connector matches it:
  --host       WEBSITE_HOSTNAME (set by App Service)
  --resource   the first of AUTH_AUDIENCES; with AUTH_AUDIENCES set, a
               Resource URL that is not among them is refused, because
               every call would get 401
  --client-id  AUTH_ALLOWED_CLIENT_APPS when it lists exactly one; with
               it set, a client id not among them is refused (403)
  scopes       AUTH_REQUIRED_SCOPES (default user_impersonation)

examples:
  handler connector --out dist/connector --host hello-fn.azurewebsites.net \
      --client-id 3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b --resource api://hello-fn
`

// connectorCommand writes the connector's files.
func connectorCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("connector", connectorUsage, stdout, stderr)
	var c connector.Config
	var categories categoryFlag
	out := f.String("out", filepath.Join("dist", "connector"), "the directory to write the files to")
	f.StringVar(&c.Host, "host", getenv("WEBSITE_HOSTNAME"), "the function app's host name, such as hello-fn.azurewebsites.net")
	f.StringVar(&c.ClientID, "client-id", "", "the application (client) id of the connector's app registration")
	f.StringVar(&c.Resource, "resource", "", "the Resource URL: the audience the connector asks tokens for (default: the first of AUTH_AUDIENCES)")
	f.StringVar(&c.TenantID, "tenant", connector.DefaultTenant, "the tenant users sign in to: common, organizations, a tenant id or domain")
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

	if *out == "" {
		return f.fail(errors.New("--out must name a directory"))
	}
	if fi, err := os.Stat(*out); err == nil && !fi.IsDir() {
		return f.fail(fmt.Errorf("--out %s is a file, not a directory", bounded(*out)))
	}

	routes := api.Routes()
	files, err := connector.Generate(c, routes)
	switch {
	case errors.Is(err, connector.ErrResourceNotAccepted) || errors.Is(err, connector.ErrClientNotAllowed):
		return asProblems(err)
	case err != nil:
		return f.fail(asProblems(err))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, file := range files {
		path := filepath.Join(*out, file.Name)
		if err := writeFile(path, file.Data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	printSecurity(stdout, c, *out, len(routes))
	return nil
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
// connector.
func printSecurity(w io.Writer, c connector.Config, out string, actions int) {
	name := c.Name
	if name == "" {
		name = connector.DefaultName(c.Title)
	}
	def, props := filepath.Join(out, connector.APIDefinitionFile), filepath.Join(out, connector.APIPropertiesFile)
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

Try every action against the API:
  newman run %s --env-var baseUrl=https://%s --env-var token=<access token>
`, actions, c.ClientID, c.TenantID, c.Resource, connector.RedirectURL(name),
		def, props, def, props, filepath.Join(out, connector.CollectionFile(name)), c.Host)
}

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

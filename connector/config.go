package connector

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/entrafunc/entrafunc/auth"
)

// Defaults for the Config fields left empty.
const (
	// DefaultTenant lets users of any tenant sign in; the API itself
	// accepts only tokens of its own tenant.
	DefaultTenant = "common"
	// DefaultTitle is the connector's display name.
	DefaultTitle = "Hello Function"
	// DefaultDescription describes the connector in the gallery.
	DefaultDescription = "Calls the Hello Azure Function as the signed-in user: a greeting for the name you give, and the caller as the API sees them."
	// DefaultLoginURI is where the connection signs users in.
	DefaultLoginURI = "https://login.microsoftonline.com"
	// DefaultBrandColor is the colour independent publishers use.
	DefaultBrandColor = "#da3b01"
	// DefaultCategory is the connector's gallery category.
	DefaultCategory = "Productivity"
	// RedirectBase is the start of every per-connector redirect URL
	// (redirectMode GlobalPerConnector); the connector's name ends it.
	RedirectBase = "https://global.consent.azure-apim.net/redirect/"
)

// Config is what the connector files need beyond the route table. Only
// Host, ClientID and Resource have no default.
type Config struct {
	// Host is the function app's host name, such as
	// hello-fn.azurewebsites.net: no scheme, no path.
	Host string
	// ClientID is the connector's own app registration, the client that
	// signs users in (a GUID).
	ClientID string
	// Resource is the Resource URL: what the connector asks Entra ID a
	// token for, and so the token's aud. It must be one of Audiences.
	Resource string
	// TenantID is the tenant users sign in to. Default [DefaultTenant].
	TenantID string
	// Title is the display name: at most 30 characters, without "API" or
	// "Connector". Default [DefaultTitle].
	Title string
	// Description is shown in the gallery: 30 to 500 characters. Default
	// [DefaultDescription].
	Description string
	// Name names the collection file and ends the per-connector redirect
	// URL: letters, digits and hyphens. Default: Title without spaces.
	Name string
	// Scopes are the delegated scopes the API requires of every call
	// (AUTH_REQUIRED_SCOPES). Default [auth.DefaultRequiredScope].
	Scopes []string
	// Website and PrivacyPolicy are https URLs shown with the connector.
	// Default: https://Host for both.
	Website       string
	PrivacyPolicy string
	// Categories are at most two of [Categories]. Default [DefaultCategory].
	Categories []string
	// Publisher is the person or company behind the connector. Default:
	// Title.
	Publisher string
	// BrandColor is the icon's background, #rrggbb. Default
	// [DefaultBrandColor].
	BrandColor string
	// Environment is the Power Platform environment id paconn's
	// settings.json names; empty leaves it to the command line.
	Environment string

	// Audiences are the audiences the API accepts (AUTH_AUDIENCES). When
	// set, Resource must be one of them.
	Audiences []string
	// AllowedClientApps are the client apps the API admits
	// (AUTH_ALLOWED_CLIENT_APPS). When set, ClientID must be one of them.
	AllowedClientApps []string
}

// Categories are the gallery categories Power Platform offers.
var Categories = []string{
	"AI", "Business Management", "Business Intelligence", "Collaboration", "Commerce",
	"Communication", "Content and Files", "Finance", "Data", "Human Resources",
	"Internet of Things", "IT Operations", "Lifestyle and Entertainment", "Marketing",
	"Productivity", "Sales and CRM", "Security", "Social Media", "Website",
}

var (
	// hostPattern is the definition schema's rule for host.
	hostPattern = regexp.MustCompile(`^[^{}/ :\\]+(?::\d+)?$`)
	namePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,62}$`)
	colorRule   = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	// reservedWords may not appear in a title: Power Platform rejects
	// them, as it rejects its products' names.
	reservedWords = regexp.MustCompile(`(?i)\b(api|connector)\b|power ?(apps|automate|bi|platform)|copilot|logic apps`)
)

// Errors the configuration can hold. Each problem wraps one, so that
// callers can tell a usage mistake from a refused setting.
var (
	// ErrInvalidConfig wraps a missing or malformed value.
	ErrInvalidConfig = errors.New("invalid connector configuration")
	// ErrResourceNotAccepted: the Resource URL is not an audience the API
	// accepts.
	ErrResourceNotAccepted = errors.New("the Resource URL is not an accepted audience")
	// ErrClientNotAllowed: the connector's client id is not among the
	// client apps the API admits.
	ErrClientNotAllowed = errors.New("the connector's client id is not an allowed client app")
)

// invalid is a missing or malformed value: it matches ErrInvalidConfig,
// and says only what is wrong.
type invalid string

func (e invalid) Error() string      { return string(e) }
func (invalid) Is(target error) bool { return target == ErrInvalidConfig }

// ResourceError says that a Resource URL is not among the API's
// audiences, and why that matters.
type ResourceError struct {
	Resource  string
	Audiences []string
}

func (e *ResourceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the connector's Resource URL %q is not among AUTH_AUDIENCES (%s), so every call through the connector would get 401 invalid_token (reason audience)", e.Resource, strings.Join(quoteAll(e.Audiences), ", "))
	if near := nearMiss(e.Resource, e.Audiences); near != "" {
		fmt.Fprintf(&b, "; it differs from %q only in letter case or a trailing slash, and audiences must match exactly", near)
	}
	b.WriteString(". The connector asks Entra ID for a token for its Resource URL. Unless the API's app registration asks for v2 tokens " +
		"(requestedAccessTokenVersion 2, whose aud is always the API's client id), the token is v1 and its aud is the Resource URL exactly as the connector sends it: " +
		"a Resource URL of https://<app>.azurewebsites.net, or the bare client id, gives tokens whose aud is that very string. " +
		"Add it to AUTH_AUDIENCES, or set the connector's Resource URL to one of them")
	return b.String()
}

func (e *ResourceError) Unwrap() error { return ErrResourceNotAccepted }

// CheckResource returns a [*ResourceError] when audiences is set and
// resource is not one of them. Audiences match exactly, as the verifier
// matches aud.
func CheckResource(resource string, audiences []string) error {
	if len(audiences) == 0 || slices.Contains(audiences, resource) {
		return nil
	}
	return &ResourceError{Resource: resource, Audiences: audiences}
}

// nearMiss returns the audience that resource equals but for letter case
// or a trailing slash.
func nearMiss(resource string, audiences []string) string {
	norm := func(s string) string { return strings.ToLower(strings.TrimRight(s, "/")) }
	for _, a := range audiences {
		if norm(a) == norm(resource) {
			return a
		}
	}
	return ""
}

func quoteAll(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// DefaultName is the name a connector titled title gets by default: its
// ASCII letters, digits and hyphens, or "Connector" when that leaves no
// name.
func DefaultName(title string) string {
	n := strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
			return r
		}
		return -1
	}, title)
	if !namePattern.MatchString(n) {
		return "Connector"
	}
	return n
}

// RedirectURL is the redirect URL to register on the connector's app
// registration for a connector named name.
func RedirectURL(name string) string {
	return RedirectBase + strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return unicode.ToLower(r)
		}
		return -1
	}, name)
}

// withDefaults fills the defaults and validates every field, reporting
// every problem at once.
func (c Config) withDefaults() (Config, []error) {
	c.TenantID = or(c.TenantID, DefaultTenant)
	c.Title = or(c.Title, DefaultTitle)
	c.Description = or(c.Description, DefaultDescription)
	c.Name = or(c.Name, DefaultName(c.Title))
	if c.Host != "" {
		c.Website = or(c.Website, "https://"+c.Host)
	}
	c.PrivacyPolicy = or(c.PrivacyPolicy, c.Website)
	c.Publisher = or(c.Publisher, c.Title)
	c.BrandColor = or(c.BrandColor, DefaultBrandColor)
	if len(c.Scopes) == 0 {
		c.Scopes = []string{auth.DefaultRequiredScope}
	}
	if len(c.Categories) == 0 {
		c.Categories = []string{DefaultCategory}
	}

	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, invalid(fmt.Sprintf(format, a...))) }
	switch {
	case c.Host == "":
		bad("the host is required: the function app's host name, such as hello-fn.azurewebsites.net")
	case strings.Contains(c.Host, "://"):
		bad("host %q: give the host name alone, without the scheme or a path", c.Host)
	case !hostPattern.MatchString(c.Host):
		bad("host %q is not a host name (with an optional :port)", c.Host)
	}
	switch {
	case c.ClientID == "":
		bad("the client id is required: the application (client) id of the connector's app registration")
	case !auth.IsGUID(c.ClientID):
		bad("client id %q is not an application (client) id (a GUID)", c.ClientID)
	}
	switch {
	case c.Resource == "":
		bad("the Resource URL is required: the API's App ID URI (api://…) or client id, one of AUTH_AUDIENCES")
	case strings.TrimSpace(c.Resource) != c.Resource || strings.ContainsAny(c.Resource, " \t\r\n"):
		bad("Resource URL %q holds spaces", c.Resource)
	case !auth.IsGUID(c.Resource) && !isAppIDURI(c.Resource):
		bad("Resource URL %q is neither an App ID URI (api://…, https://… or urn:…) nor a client id", c.Resource)
	}
	switch t := c.TenantID; {
	case t == "common" || t == "organizations" || auth.IsGUID(t):
	case strings.Contains(t, ".") && hostPattern.MatchString(t) && !strings.Contains(t, ":"):
	default:
		bad("tenant %q: want common, organizations, a tenant id or a verified domain", t)
	}
	for _, v := range []struct{ what, v string }{{"title", c.Title}, {"description", c.Description}, {"publisher", c.Publisher}} {
		if i := strings.IndexFunc(v.v, invisible); i >= 0 {
			bad("%s holds a control or formatting character at byte %d", v.what, i)
		}
	}
	if n := utf8.RuneCountInString(c.Title); n > 30 || !endsAlnum(c.Title) || reservedWords.MatchString(c.Title) {
		bad("title %q: at most 30 characters, ending with a letter or digit, without API, Connector or a Power Platform product name", c.Title)
	}
	if n := utf8.RuneCountInString(c.Description); n < 30 || n > 500 {
		bad("description: 30 to 500 characters, not %d", n)
	}
	if !namePattern.MatchString(c.Name) {
		bad("name %q: letters, digits and hyphens, starting with a letter, at most 63", c.Name)
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t,") {
			bad("scope %q is not one scope name", s)
		}
	}
	for _, u := range []struct{ what, v string }{{"website", c.Website}, {"privacy policy", c.PrivacyPolicy}} {
		if u.v == "" && c.Host == "" {
			continue // the default follows the host, already reported missing
		}
		if p, err := url.Parse(u.v); err != nil || p.Scheme != "https" || p.Host == "" {
			bad("%s %q is not an https URL", u.what, u.v)
		}
	}
	if len(c.Categories) > 2 {
		bad("at most two categories, not %d", len(c.Categories))
	}
	for _, cat := range c.Categories {
		if !slices.Contains(Categories, cat) {
			bad("category %q is not one of %s", cat, strings.Join(Categories, ", "))
		}
	}
	if n := utf8.RuneCountInString(c.Publisher); n == 0 || n > 100 {
		bad("publisher: 1 to 100 characters")
	}
	if !colorRule.MatchString(c.BrandColor) {
		bad("brand colour %q is not #rrggbb", c.BrandColor)
	}
	if c.Environment != "" && !auth.IsGUID(c.Environment) {
		bad("environment %q is not an environment id (a GUID)", c.Environment)
	}
	if c.Resource != "" {
		if err := CheckResource(c.Resource, c.Audiences); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ClientID != "" && len(c.AllowedClientApps) > 0 && !slices.ContainsFunc(c.AllowedClientApps, func(id string) bool {
		return strings.EqualFold(id, c.ClientID)
	}) {
		errs = append(errs, fmt.Errorf("%w: client id %q is not among AUTH_ALLOWED_CLIENT_APPS (%s), so the API would answer every call with 403 (rule AUTH_ALLOWED_CLIENT_APPS)",
			ErrClientNotAllowed, c.ClientID, strings.Join(c.AllowedClientApps, ", ")))
	}
	return c, errs
}

// isAppIDURI accepts the forms Entra ID takes for an App ID URI:
// api://…, https://… (a verified domain) and urn:….
func isAppIDURI(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "api", "https":
		return u.Host != ""
	case "urn":
		return u.Opaque != ""
	}
	return false
}

// invisible reports characters that would not show, or would reorder
// the text, where Power Platform displays it.
func invisible(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

func endsAlnum(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

package connector

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
)

// Defaults for the Config fields left empty.
const (
	// DefaultTenant lets users of any tenant sign in; the API itself
	// accepts only tokens of its own tenant. Entra ID refuses it for most
	// single-tenant app registrations (AADSTS50194), so give the tenant
	// when it is known.
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
	// hello-fn.azurewebsites.net: a DNS name with an optional :port, no
	// scheme, no path.
	Host string
	// ClientID is the connector's own app registration, the client that
	// signs users in (a GUID).
	ClientID string
	// Resource is the Resource URL: what the connector asks Entra ID a
	// token for, and so the token's aud. It must be one of Audiences.
	Resource string
	// TenantID is the tenant users sign in to: a tenant id, a verified
	// domain, common or organizations. Default [DefaultTenant].
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
	// Website and PrivacyPolicy are https URLs shown with the connector,
	// without user information. Default: https://Host for both.
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

// The patterns are compiled when the connector command first needs them,
// not at every process's start-up: the server never does, and the
// bounded repetition compiles into a large program.
var (
	namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,62}$`) })
	colorRule   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^#[0-9a-fA-F]{6}$`) })
	// reservedWords may not appear in a title: Power Platform rejects
	// them, as it rejects its products' names.
	reservedWords = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(api|connector)\b|power ?(apps|automate|bi|platform)|copilot|logic apps`)
	})
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

// consumersTenantID is the tenant of personal Microsoft accounts: the
// tid of their tokens (learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
const consumersTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// maxShown bounds a value an error repeats, and maxListed the values of
// a list it repeats: a value can come from anywhere, a long one would
// bury the message.
const (
	maxShown  = 64
	maxListed = 5
)

// shown quotes s for a message: escaped, so that no control or
// formatting character reaches the terminal, cut to maxShown bytes, and
// not shown at all when it may be a credential.
func shown(s string) string { return bounded.Value(s, maxShown) }

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
	fmt.Fprintf(&b, "the connector's Resource URL %s is not among AUTH_AUDIENCES (%s), so every call through the connector would get 401 invalid_token (reason audience)", shown(e.Resource), quoteAll(e.Audiences))
	if near := nearMiss(e.Resource, e.Audiences); near != "" {
		fmt.Fprintf(&b, "; it differs from %s only in letter case or a trailing slash, and audiences must match exactly", shown(near))
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

// quoteAll lists v for a message, each value shown, at most maxListed
// of them.
func quoteAll(v []string) string {
	var out []string
	for i, s := range v {
		if i == maxListed {
			out = append(out, fmt.Sprintf("and %d more", len(v)-i))
			break
		}
		out = append(out, shown(s))
	}
	return strings.Join(out, ", ")
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
	if !namePattern().MatchString(n) {
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
	// A default is checked where it comes from: a website from a bad
	// host, or a privacy policy from the website, is not a second problem.
	ownWebsite, ownPrivacyPolicy := c.Website != "", c.PrivacyPolicy != ""
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
	hostOK := false
	switch {
	case c.Host == "":
		bad("the host is required: the function app's host name, such as hello-fn.azurewebsites.net")
	case strings.Contains(c.Host, "://"):
		bad("host %s: give the host name alone, without the scheme or a path", shown(c.Host))
	default:
		if why := checkHost(c.Host); why != "" {
			bad("host %s is not a DNS host name with an optional :port: %s", shown(c.Host), why)
		} else {
			hostOK = true
		}
	}
	switch {
	case c.ClientID == "":
		bad("the client id is required: the application (client) id of the connector's app registration")
	case !auth.IsGUID(c.ClientID):
		bad("client id %s is not an application (client) id (a GUID)", shown(c.ClientID))
	}
	switch {
	case c.Resource == "":
		bad("the Resource URL is required: the API's App ID URI (api://…) or client id, one of AUTH_AUDIENCES")
	case strings.TrimSpace(c.Resource) != c.Resource || strings.ContainsAny(c.Resource, " \t\r\n"):
		bad("Resource URL %s holds spaces", shown(c.Resource))
	case strings.IndexFunc(c.Resource, invisible) >= 0:
		// url.Parse lets C1 controls and bidi overrides through, and
		// the Resource URL is printed for the Security page.
		bad("Resource URL %s holds a control or formatting character", shown(c.Resource))
	case !auth.IsGUID(c.Resource) && !isAppIDURI(c.Resource):
		bad("Resource URL %s is neither an App ID URI (api://…, https://… or urn:…) nor a client id", shown(c.Resource))
	}
	if why := checkTenant(c.TenantID); why != "" {
		bad("tenant %s: %s", shown(c.TenantID), why)
	}
	for _, v := range []struct{ what, v string }{{"title", c.Title}, {"description", c.Description}, {"publisher", c.Publisher}} {
		if i := strings.IndexFunc(v.v, invisible); i >= 0 {
			bad("%s holds a control or formatting character at byte %d", v.what, i)
		}
	}
	if n := utf8.RuneCountInString(c.Title); n > 30 || !endsAlnum(c.Title) || reservedWords().MatchString(c.Title) {
		bad("title %s: at most 30 characters, ending with a letter or digit, without API, Connector or a Power Platform product name", shown(c.Title))
	}
	if n := utf8.RuneCountInString(c.Description); n < 30 || n > 500 {
		bad("description: 30 to 500 characters, not %d", n)
	}
	if !namePattern().MatchString(c.Name) {
		bad("name %s: letters, digits and hyphens, starting with a letter, at most 63", shown(c.Name))
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t,") || strings.IndexFunc(s, invisible) >= 0 {
			bad("scope %s is not one scope name", shown(s))
		}
	}
	for _, u := range []struct {
		what, v string
		own     bool
	}{{"website", c.Website, ownWebsite || hostOK}, {"privacy policy", c.PrivacyPolicy, ownPrivacyPolicy}} {
		if !u.own {
			continue // the default follows the host or the website, already checked
		}
		if why := checkLink(u.v); why != "" {
			bad("%s %s is not an https URL to show: %s", u.what, shown(u.v), why)
		}
	}
	if len(c.Categories) > 2 {
		bad("at most two categories, not %d", len(c.Categories))
	}
	for _, cat := range c.Categories {
		if !slices.Contains(Categories, cat) {
			bad("category %s is not one of %s", shown(cat), strings.Join(Categories, ", "))
		}
	}
	if n := utf8.RuneCountInString(c.Publisher); n == 0 || n > 100 {
		bad("publisher: 1 to 100 characters")
	}
	if !colorRule().MatchString(c.BrandColor) {
		bad("brand colour %s is not #rrggbb", shown(c.BrandColor))
	}
	if c.Environment != "" && !auth.IsGUID(c.Environment) {
		bad("environment %s is not an environment id (a GUID)", shown(c.Environment))
	}
	if c.Resource != "" {
		if err := CheckResource(c.Resource, c.Audiences); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ClientID != "" && len(c.AllowedClientApps) > 0 && !slices.ContainsFunc(c.AllowedClientApps, func(id string) bool {
		return strings.EqualFold(id, c.ClientID)
	}) {
		errs = append(errs, fmt.Errorf("%w: client id %s is not among AUTH_ALLOWED_CLIENT_APPS (%s), so the API would answer every call with 403 (rule AUTH_ALLOWED_CLIENT_APPS)",
			ErrClientNotAllowed, shown(c.ClientID), quoteAll(c.AllowedClientApps)))
	}
	return c, errs
}

// checkHost says why host is not a DNS host name with an optional port
// from 1 to 65535, or returns "". The host goes into the definition, the
// default website and the commands the generator prints, so nothing but
// a host name and a port may pass.
func checkHost(host string) string {
	name, port, hasPort := strings.Cut(host, ":")
	if why := checkHostName(name); why != "" {
		return why
	}
	if hasPort && !isPort(port) {
		return "the port must be a number from 1 to 65535"
	}
	return ""
}

// checkHostName says why name is not a DNS host name, or returns "": dot
// separated labels of 1 to 63 letters, digits and hyphens, not starting
// or ending with a hyphen, at most 253 characters in all (RFC 1123
// section 2.1, RFC 1035 section 2.3.4). A final label of digits only
// makes an IP address, not a name (RFC 3696 section 2): an IP literal
// has no certificate for the https the connector uses, and App Service's
// host names are DNS names. A trailing dot is refused too: the
// certificate and the Host header name the host without it. A single
// label (localhost) passes: it can be a gateway's or a local test's host.
func checkHostName(name string) string {
	switch {
	case name == "":
		return "no host name"
	case len(name) > 253:
		return "longer than 253 characters"
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return "an empty label (two dots, or a dot at an end)"
		case len(l) > 63:
			return "a label longer than 63 characters"
		case l[0] == '-' || l[len(l)-1] == '-':
			return "a label starting or ending with a hyphen"
		}
		if i := strings.IndexFunc(l, notLDH); i >= 0 {
			r, _ := utf8.DecodeRuneInString(l[i:])
			return "it holds " + strconv.QuoteRune(r) + "; a host name holds only letters, digits, hyphens and dots (an international name in its xn-- form)"
		}
	}
	if strings.IndexFunc(labels[len(labels)-1], func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return "an IP address; give the DNS name"
	}
	return ""
}

// notLDH reports a rune that no DNS label holds.
func notLDH(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-')
}

// isPort reports a decimal TCP port from 1 to 65535, without sign or
// leading zeros.
func isPort(s string) bool {
	if s == "" || len(s) > 5 || s[0] == '0' || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return false
	}
	n, _ := strconv.Atoi(s)
	return n <= 65535
}

// checkTenant says why t cannot be the tenant users sign in to, or
// returns "". The tenant is a path segment of the sign-in and token URLs
// (login.microsoftonline.com/TENANT/oauth2/...) and is printed for the
// Security page: a tenant id, a verified domain, or common or
// organizations
// (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).
func checkTenant(t string) string {
	switch {
	case t == "common" || t == "organizations":
		return ""
	case strings.EqualFold(t, "consumers") || strings.EqualFold(t, consumersTenantID):
		// Only personal Microsoft accounts sign in there, and their
		// tokens carry the consumer tenant's tid, never the work tenant
		// AUTH_TENANT_ID names, so the API would refuse every call.
		return "that signs in personal Microsoft accounts only, and the API accepts work or school accounts of its own tenant; give the tenant id, a verified domain, common or organizations"
	case auth.IsGUID(t):
		return ""
	case strings.Contains(t, ".") && checkHostName(t) == "":
		return ""
	}
	return "want common, organizations, a tenant id or a verified domain"
}

// checkLink says why u is not a link to show with the connector, or
// returns "": an absolute https URL to a DNS host, without user
// information (https://contoso.com@evil.example/ goes to evil.example),
// spaces or invisible characters.
func checkLink(u string) string {
	if i := strings.IndexFunc(u, func(r rune) bool { return invisible(r) || unicode.IsSpace(r) }); i >= 0 {
		return "it holds a space, control or formatting character"
	}
	p, err := url.Parse(u)
	switch {
	case err != nil || p.Scheme != "https" || p.Opaque != "" || p.Host == "":
		return "want https://HOST/…"
	case p.User != nil:
		return "user information (before @) hides the real host"
	}
	if why := checkHost(p.Host); why != "" {
		return "host: " + why
	}
	return ""
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
func invisible(r rune) bool { return !bounded.Safe(r) }

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

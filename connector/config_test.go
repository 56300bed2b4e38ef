package connector

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/entrafunc/entrafunc/api"
)

func TestConfigRefused(t *testing.T) {
	// Each bad value is named, and every problem is reported at once.
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error, in any order
		is   error
	}{
		{"empty", func(c *Config) { *c = Config{} }, []string{"the host is required", "the client id is required", "the Resource URL is required"}, ErrInvalidConfig},
		{"scheme in host", func(c *Config) { c.Host = "https://hello-fn.azurewebsites.net" }, []string{"without the scheme"}, ErrInvalidConfig},
		{"path in host", func(c *Config) { c.Host = "hello-fn.azurewebsites.net/api" }, []string{"is not a DNS host name"}, ErrInvalidConfig},
		{"client id not a GUID", func(c *Config) { c.ClientID = "hello" }, []string{`client id "hello"`}, ErrInvalidConfig},
		{"resource with space", func(c *Config) { c.Resource = "api://hello fn" }, []string{"holds spaces"}, ErrInvalidConfig},
		{"relative resource", func(c *Config) { c.Resource = "hello-fn" }, []string{"neither an App ID URI"}, ErrInvalidConfig},
		{"javascript resource", func(c *Config) { c.Resource = "javascript:alert(1)" }, []string{"neither an App ID URI"}, ErrInvalidConfig},
		{"title with a newline", func(c *Config) { c.Title = "Hello\nWorld" }, []string{"title holds a control"}, ErrInvalidConfig},
		{"publisher with a bidi override", func(c *Config) { c.Publisher = "Contoso\u202e" }, []string{"publisher holds a control or formatting"}, ErrInvalidConfig},
		{"description with a tab", func(c *Config) { c.Description = DefaultDescription + "\t" }, []string{"description holds"}, ErrInvalidConfig},
		{"tenant", func(c *Config) { c.TenantID = "not a tenant" }, []string{"tenant"}, ErrInvalidConfig},
		{"title with API", func(c *Config) { c.Title = "Hello API" }, []string{`title "Hello API"`}, ErrInvalidConfig},
		{"title with Connector", func(c *Config) { c.Title = "Hello connector" }, []string{"title"}, ErrInvalidConfig},
		{"title with a product", func(c *Config) { c.Title = "Hello for Power Automate" }, []string{"title"}, ErrInvalidConfig},
		{"title too long", func(c *Config) { c.Title = strings.Repeat("a", 31) }, []string{"title"}, ErrInvalidConfig},
		{"title ends with punctuation", func(c *Config) { c.Title = "Hello!" }, []string{"title"}, ErrInvalidConfig},
		{"short description", func(c *Config) { c.Description = "Hello." }, []string{"30 to 500"}, ErrInvalidConfig},
		{"name", func(c *Config) { c.Name = "hello world" }, []string{`name "hello world"`}, ErrInvalidConfig},
		{"scope", func(c *Config) { c.Scopes = []string{"a b"} }, []string{`scope "a b"`}, ErrInvalidConfig},
		{"website", func(c *Config) { c.Website = "http://example.com" }, []string{"website"}, ErrInvalidConfig},
		{"categories", func(c *Config) { c.Categories = []string{"AI", "Data", "Finance"} }, []string{"at most two"}, ErrInvalidConfig},
		{"unknown category", func(c *Config) { c.Categories = []string{"Games"} }, []string{`category "Games"`}, ErrInvalidConfig},
		{"colour", func(c *Config) { c.BrandColor = "red" }, []string{"brand colour"}, ErrInvalidConfig},
		{"environment", func(c *Config) { c.Environment = "Default-123" }, []string{"environment"}, ErrInvalidConfig},
		{"resource not an audience", func(c *Config) { c.Audiences = []string{"api://other", "3f2a1b7c-0000-4000-8000-000000000000"} },
			[]string{`Resource URL "api://hello-fn" is not among AUTH_AUDIENCES ("api://other", "3f2a1b7c-0000-4000-8000-000000000000")`}, ErrResourceNotAccepted},
		{"client not allowed", func(c *Config) { c.AllowedClientApps = []string{"00000000-0000-4000-8000-000000000001"} },
			[]string{"not among AUTH_ALLOWED_CLIENT_APPS", "403"}, ErrClientNotAllowed},
		{"several at once", func(c *Config) { c.Host, c.Title = "", "My API" }, []string{"the host is required", "title"}, ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goldenConfig
			tc.edit(&c)
			_, err := Generate(c, api.Routes())
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigAccepted(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"defaults", func(*Config) {}},
		{"client id resource", func(c *Config) { c.Resource = "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b" }},
		{"https resource", func(c *Config) { c.Resource = "https://hello-fn.azurewebsites.net" }},
		{"resource among audiences", func(c *Config) { c.Audiences = []string{"api://other", "api://hello-fn"} }},
		{"client among allowed, any case", func(c *Config) { c.AllowedClientApps = []string{strings.ToUpper(c.ClientID)} }},
		{"tenant id", func(c *Config) { c.TenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47" }},
		{"tenant domain", func(c *Config) { c.TenantID = "contoso.onmicrosoft.com" }},
		{"organizations", func(c *Config) { c.TenantID = "organizations" }},
		{"host with port", func(c *Config) { c.Host = "localhost:7071" }},
		{"two categories", func(c *Config) { c.Categories = []string{"IT Operations", "Productivity"} }},
		{"title with a word containing api", func(c *Config) { c.Title = "Rapid Greetings" }},
		{"title ending in an accented letter", func(c *Config) { c.Title = "Café" }},
		{"30 characters, more bytes", func(c *Config) { c.Title = strings.Repeat("é", 30) }},
		{"urn resource", func(c *Config) { c.Resource = "urn:contoso:hello" }},
		{"host: longest label", func(c *Config) { c.Host = strings.Repeat("a", 63) + ".example" }},
		{"host: 253 characters", func(c *Config) { c.Host = strings.Repeat("a.", 122) + "example.n" }},
		{"host: lowest port", func(c *Config) { c.Host = "h.example:1" }},
		{"host: highest port", func(c *Config) { c.Host = "h.example:65535" }},
		{"host: punycode", func(c *Config) { c.Host = "xn--hllo-bpa.example" }},
		{"host: letter case", func(c *Config) { c.Host = "Hello-FN.azurewebsites.net" }},
		{"host: digits in labels", func(c *Config) { c.Host = "4u.example" }},
		{"tenant: upper-case id", func(c *Config) { c.TenantID = "72F988BF-86F1-41AF-91AB-2D7CD011DB47" }},
		{"website with port, path, query and fragment", func(c *Config) { c.Website = "https://contoso.example:8443/a/b?c=d#e" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goldenConfig
			tc.edit(&c)
			if _, err := Generate(c, api.Routes()); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCheckResource(t *testing.T) {
	auds := []string{"api://hello-fn", "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b"}
	for _, tc := range []struct {
		resource string
		ok       bool
		near     string
	}{
		{"api://hello-fn", true, ""},
		{"3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b", true, ""},
		{"api://hello-fn/", false, "api://hello-fn"},
		{"API://HELLO-FN", false, "api://hello-fn"},
		{"https://hello-fn.azurewebsites.net", false, ""},
		{"spn:3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b", false, ""},
	} {
		err := CheckResource(tc.resource, auds)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.resource, err, tc.ok)
			continue
		}
		if err == nil {
			continue
		}
		var re *ResourceError
		if !errors.As(err, &re) || !errors.Is(err, ErrResourceNotAccepted) || re.Resource != tc.resource {
			t.Errorf("%s: err = %#v", tc.resource, err)
		}
		for _, w := range []string{tc.resource, "AUTH_AUDIENCES", "v1", "aud"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the message lacks %q: %v", tc.resource, w, err)
			}
		}
		if got := strings.Contains(err.Error(), "only in letter case or a trailing slash"); got != (tc.near != "") {
			t.Errorf("%s: near miss mentioned %v, want %v", tc.resource, got, tc.near != "")
		}
	}
	if err := CheckResource("anything", nil); err != nil {
		t.Errorf("no audiences to check against: err = %v", err)
	}
}

func TestRedirectURL(t *testing.T) {
	for name, want := range map[string]string{
		"HelloFunction":     RedirectBase + "hellofunction",
		"contoso-greetings": RedirectBase + "contosogreetings",
		"Ünïcode9":          RedirectBase + "ncode9",
	} {
		if got := RedirectURL(name); got != want {
			t.Errorf("RedirectURL(%q) = %q, want %q", name, got, want)
		}
	}
}

// A hostile value is refused, and the refusal shows it escaped and cut
// short, so that the error itself cannot drive the terminal. Each table
// below is one class of value the generated files or the printed
// commands carry.

func TestHostileHostRefused(t *testing.T) {
	// The host ends up in the definition, in the printed newman command,
	// and in the default website. Only a DNS host name (letters, digits
	// and hyphens in dot-separated labels: RFC 1123 section 2.1) with an
	// optional port from 1 to 65535 is a host the connector can call.
	for _, host := range []string{
		"h.example;id",
		"$(id).example",
		"`id`.example",
		"h.example'",
		"h.example<x",
		"h.example>x",
		"h.example|sh",
		"h.example&",
		"h.example#x",
		"h.example:0",
		"h.example:99999",
		"h.example:65536",
		"h.example:080",
		"h.example.",
		"-h.example",
		"h-.example",
		"h..example",
		"h_x.example",
		"héllo.example",
		"h.example\u202e",
		"\x1b[2J.example",
		strings.Repeat("a", 64) + ".example",
		strings.Repeat("a.", 127) + "example", // 261 characters
		"10.0.0.1",
		"10.0.0.1:443",
	} {
		t.Run(host, func(t *testing.T) {
			c := goldenConfig
			c.Host = host
			refusedSafely(t, c, "host ")
		})
	}
}

func TestHostileTenantRefused(t *testing.T) {
	// The tenant is part of the sign-in and token URLs
	// (login.microsoftonline.com/TENANT/oauth2/...) and is printed for
	// the Security page: ? & # would rewrite those URLs, and a control
	// character would reach the terminal.
	for _, tc := range []struct{ tenant, want string }{
		{"\x1b[2J.example", "tenant "},
		{"\x1b]0;pwned\a.contoso.com", "tenant "},
		{"contoso.com?prompt=none", "tenant "},
		{"contoso.com&domain_hint=fabrikam.com", "tenant "},
		{"contoso.com#x", "tenant "},
		{"contoso.com;id", "tenant "},
		{"contoso.com\u202e", "tenant "},
		{"contoso..com", "tenant "},
		{"-contoso.com", "tenant "},
		{"10.0.0.1", "tenant "},
		// consumers signs in personal Microsoft accounts only, whose
		// tokens carry the consumer tenant's id, never AUTH_TENANT_ID.
		{"consumers", "personal Microsoft accounts"},
		{"Consumers", "personal Microsoft accounts"},
		{"9188040d-6c67-4c5b-b112-36a304b66dad", "personal Microsoft accounts"},
	} {
		t.Run(tc.tenant, func(t *testing.T) {
			c := goldenConfig
			c.TenantID = tc.tenant
			refusedSafely(t, c, tc.want)
		})
	}
}

func TestHostileURLRefused(t *testing.T) {
	// The website and privacy policy are links Power Platform shows:
	// absolute https URLs to a DNS host, with no user name to disguise
	// the real host and nothing invisible.
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"userinfo", func(c *Config) { c.Website = "https://user:pass@h.example/" }},
		{"host disguised as userinfo", func(c *Config) { c.Website = "https://contoso.com@evil.example/" }},
		{"port out of range", func(c *Config) { c.Website = "https://h.example:99999/" }},
		{"port zero", func(c *Config) { c.Website = "https://h.example:0/" }},
		{"semicolon in host", func(c *Config) { c.Website = "https://h.example;id/" }},
		{"bidi override in path", func(c *Config) { c.Website = "https://h.example/\u202eftp.exe" }},
		{"C1 control in path", func(c *Config) { c.Website = "https://h.example/\u0085" }},
		{"space in path", func(c *Config) { c.Website = "https://h.example/a b" }},
		{"IP address", func(c *Config) { c.Website = "https://10.0.0.1/" }},
		{"privacy policy userinfo", func(c *Config) { c.PrivacyPolicy = "https://u@h.example/privacy" }},
		{"privacy policy bidi host", func(c *Config) { c.PrivacyPolicy = "https://h\u202e.example/privacy" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goldenConfig
			tc.edit(&c)
			refusedSafely(t, c, "https URL")
		})
	}
}

func TestErrorsShowValuesSafely(t *testing.T) {
	// Whatever a value holds, the error repeats it quoted, escaped and cut
	// to maxShown bytes: an OSC 52 sequence (which some terminals turn into
	// a clipboard write) and 300 more bytes in each field.
	const evil = "\x1b]52;c;cm0gLXJmIH4K\a\u202e"
	long := evil + strings.Repeat("x", 300)
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"host", func(c *Config) { c.Host = long }},
		{"tenant", func(c *Config) { c.TenantID = long }},
		{"client id", func(c *Config) { c.ClientID = long }},
		{"resource", func(c *Config) { c.Resource = "api://" + long }},
		{"title", func(c *Config) { c.Title = long }},
		{"name", func(c *Config) { c.Name = long }},
		{"scope", func(c *Config) { c.Scopes = []string{long} }},
		{"website", func(c *Config) { c.Website = long }},
		{"category", func(c *Config) { c.Categories = []string{long} }},
		{"brand colour", func(c *Config) { c.BrandColor = long }},
		{"environment", func(c *Config) { c.Environment = long }},
		{"audiences", func(c *Config) { c.Audiences = []string{long, long} }},
		{"allowed client apps", func(c *Config) { c.AllowedClientApps = []string{long} }},
		{"many audiences", func(c *Config) { c.Audiences = slices.Repeat([]string{"api://other"}, 500) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goldenConfig
			tc.edit(&c)
			refusedSafely(t, c, "")
		})
	}
}

func TestResourceRefusesInvisibleCharacters(t *testing.T) {
	// The Resource URL is printed for the Security page; url.Parse lets
	// C1 controls and bidi overrides through in the host.
	for _, res := range []string{
		"api://hello\u009b2J",
		"api://hello\u202efn",
		"api://hello-fn\u200b",
		"https://hello\u0085fn.example",
		"urn:hello\u2066fn",
	} {
		t.Run(res, func(t *testing.T) {
			c := goldenConfig
			c.Resource = res
			refusedSafely(t, c, "Resource URL ")
		})
	}
}

// refusedSafely checks that Generate refuses c as invalid, with an error
// that holds want and shows no value raw or at length.
func refusedSafely(t *testing.T, c Config, want string) {
	t.Helper()
	_, err := Generate(c, api.Routes())
	if err == nil {
		t.Fatal("accepted")
	}
	if !errors.Is(err, ErrInvalidConfig) && !errors.Is(err, ErrResourceNotAccepted) && !errors.Is(err, ErrClientNotAllowed) {
		t.Errorf("err = %v, want a configuration error", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, want) {
		t.Errorf("err = %q, want it to contain %q", msg, want)
	}
	// Joined errors are one per line; nothing else may move the cursor
	// or reorder the text.
	if i := strings.IndexFunc(msg, func(r rune) bool { return r != '\n' && invisible(r) || r == utf8.RuneError }); i >= 0 {
		t.Errorf("err holds %q at byte %d: %q", msg[i:i+1], i, msg)
	}
	if strings.Contains(msg, strings.Repeat("x", maxShown+1)) || len(msg) > 4000 {
		t.Errorf("err repeats a value at length (%d bytes): %.300q", len(msg), msg)
	}
}

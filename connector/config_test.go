package connector

import (
	"errors"
	"strings"
	"testing"

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
		{"path in host", func(c *Config) { c.Host = "hello-fn.azurewebsites.net/api" }, []string{"is not a host name"}, ErrInvalidConfig},
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

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// connectorEnv is an API's settings that the connector command's
// defaults come from: with them, --host is the only flag it needs.
var connectorEnv = env{
	"AUTH_AUDIENCES":           "api://hello-fn",
	"AUTH_ALLOWED_CLIENT_APPS": "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b",
}

func TestConnectorCommandsAreQuoted(t *testing.T) {
	// The printed commands are for pasting into a shell. Whatever --out
	// holds, sh must see each path as one word and run nothing of it.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the printed commands with")
	}
	for _, dir := range []string{
		"my connector",
		"$(touch pwned)",
		"`touch pwned`",
		"x'; touch pwned; '",
		"a;touch pwned",
		"a&touch pwned",
		"a|touch pwned",
		`a"b`,
		"a>pwned",
		"a\\b",
	} {
		t.Run(dir, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), dir)
			code, stdout, stderr := runMain(t, connectorEnv, "connector", "--out", out, "--host", "h.example")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			def, props := filepath.Join(out, "apiDefinition.swagger.json"), filepath.Join(out, "apiProperties.json")
			want := map[string][]string{
				"paconn": {"create", "--api-def", def, "--api-prop", props, "--secret", "the secret"},
				"pac":    {"connector", "create", "--api-definition-file", def, "--api-properties-file", props},
				"newman": {"run", filepath.Join(out, "HelloFunction.postman_collection.json"), "--env-var", "baseUrl=https://h.example", "--env-var", "token=the token"},
			}
			work := t.TempDir()
			for _, line := range strings.Split(stdout, "\n") {
				line = strings.TrimSpace(line)
				prog, _, _ := strings.Cut(line, " ")
				if want[prog] == nil {
					continue
				}
				// Each program is a shell function that prints its
				// arguments, one a line.
				script := "paconn() { printf '%s\\n' \"$@\"; }; pac() { paconn \"$@\"; }; newman() { paconn \"$@\"; }\n" +
					"CONNECTOR_CLIENT_SECRET='the secret' ACCESS_TOKEN='the token'\n" + line
				cmd := exec.Command(sh, "-c", script)
				cmd.Dir = work
				got, err := cmd.Output()
				if err != nil {
					t.Errorf("sh ran %s: %v", line, err)
				}
				if g := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n"); !slices.Equal(g, want[prog]) {
					t.Errorf("sh ran\n  %s\nwith the arguments %q, want %q", line, g, want[prog])
				}
				delete(want, prog)
			}
			for prog := range want {
				t.Errorf("no %s command in:\n%s", prog, stdout)
			}
			if entries, _ := os.ReadDir(work); len(entries) > 0 {
				t.Errorf("the commands created %s", entries[0].Name())
			}
		})
	}
}

func TestShellWord(t *testing.T) {
	// shellWord's word is s itself to sh, whatever s holds.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, s := range []string{
		"", "plain/path.json", "two words", "it's", "'", "''", `\'`, "$HOME", "${HOME}", "$(id)", "`id`",
		"a;b", "a&&b", "a|b", "a>b", "<a", "#x", "~", "~root", "=ls", "*", "[a]", "{a,b}", "!1", "tab\there",
		"new\nline", "ünï", "\x1b[2J",
	} {
		t.Run(s, func(t *testing.T) {
			got, err := exec.Command(sh, "-c", "printf '%s' "+shellWord(s)).Output()
			if err != nil || string(got) != s {
				t.Errorf("sh read %s as %q (%v), want %q", shellWord(s), got, err, s)
			}
		})
	}
}

func TestConnectorOutDirectory(t *testing.T) {
	// --out is written only when it is new, empty, or the command's own
	// earlier output: the marker file lists what the command wrote, and
	// the directory holds nothing else.
	args := func(out string, extra ...string) []string {
		return append([]string{"connector", "--out", out, "--host", "h.example"}, extra...)
	}
	generate := func(t *testing.T, out string, extra ...string) {
		t.Helper()
		if code, _, stderr := runMain(t, connectorEnv, args(out, extra...)...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	write := func(t *testing.T, path, data string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, out string)
		extra []string
		want  string // a refusal names this; "" for success
	}{
		{"new directory", func(*testing.T, string) {}, nil, ""},
		{"empty directory", func(t *testing.T, out string) { os.Mkdir(out, 0o755) }, nil, ""},
		{"its own output", func(t *testing.T, out string) { generate(t, out) }, nil, ""},
		{"its own output, renamed", func(t *testing.T, out string) { generate(t, out) }, []string{"--name", "Renamed"}, ""},
		{"its own output twice renamed", func(t *testing.T, out string) {
			generate(t, out, "--name", "First")
			generate(t, out, "--name", "Second")
		}, nil, ""},

		{"an unrelated settings.json", func(t *testing.T, out string) {
			os.Mkdir(out, 0o755)
			write(t, filepath.Join(out, "settings.json"), `{"editor.tabSize": 8}`)
		}, nil, `"settings.json"`},
		{"an unrelated file", func(t *testing.T, out string) {
			os.Mkdir(out, 0o755)
			write(t, filepath.Join(out, "notes.txt"), "mine")
		}, nil, `"notes.txt"`},
		{"the generator's file names without the marker", func(t *testing.T, out string) {
			generate(t, out)
			os.Remove(filepath.Join(out, connectorMarker))
		}, nil, "did not write"},
		{"its own output and another file", func(t *testing.T, out string) {
			generate(t, out)
			write(t, filepath.Join(out, "notes.txt"), "mine")
		}, nil, `"notes.txt"`},
		{"its own output and a directory", func(t *testing.T, out string) {
			generate(t, out)
			os.Mkdir(filepath.Join(out, "keep"), 0o755)
		}, nil, `"keep"`},
		{"a listed name that is a symbolic link", func(t *testing.T, out string) {
			generate(t, out)
			target := filepath.Join(t.TempDir(), "elsewhere")
			write(t, target, "mine")
			os.Remove(filepath.Join(out, "settings.json"))
			if err := os.Symlink(target, filepath.Join(out, "settings.json")); err != nil {
				t.Skip(err)
			}
		}, nil, `"settings.json"`},
		{"a marker listing a path outside", func(t *testing.T, out string) {
			os.Mkdir(out, 0o755)
			write(t, filepath.Join(out, connectorMarker), connectorMarkerHeader+"../../.bashrc\nsettings.json\n")
			write(t, filepath.Join(out, "settings.json"), `{"editor.tabSize": 8}`)
		}, nil, "did not write"},
		{"a marker that is not the command's", func(t *testing.T, out string) {
			os.Mkdir(out, 0o755)
			write(t, filepath.Join(out, connectorMarker), "settings.json\n")
			write(t, filepath.Join(out, "settings.json"), `{"editor.tabSize": 8}`)
		}, nil, "did not write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			tc.setup(t, out)
			before := snapshot(t, out)
			code, stdout, stderr := runMain(t, connectorEnv, args(out, tc.extra...)...)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				// The marker lists every file there, so that the next run
				// may write again.
				b, err := os.ReadFile(filepath.Join(out, connectorMarker))
				if err != nil {
					t.Fatal(err)
				}
				listed := strings.Split(strings.TrimPrefix(string(b), connectorMarkerHeader), "\n")
				for name := range snapshot(t, out) {
					if name != connectorMarker && !slices.Contains(listed, name) {
						t.Errorf("the marker does not list %s:\n%s", name, b)
					}
				}
				return
			}
			if code == 0 {
				t.Fatalf("wrote into %s:\n%s", tc.name, stdout)
			}
			if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "--out") {
				t.Errorf("stderr does not name --out and %s:\n%s", tc.want, stderr)
			}
			if after := snapshot(t, out); !mapsEqual(before, after) {
				t.Errorf("the directory changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// snapshot maps the names in dir to their contents (a link to its
// target).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.Type()&os.ModeSymlink != 0:
			m[e.Name()], _ = os.Readlink(p)
		case e.IsDir():
			m[e.Name()] = "(directory)"
		default:
			b, _ := os.ReadFile(p)
			m[e.Name()] = string(b)
		}
	}
	return m
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestConnectorTenant(t *testing.T) {
	// The tenant defaults to AUTH_TENANT_ID: /common refuses most
	// single-tenant registrations created after 2018-10-15 (AADSTS50194).
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	withTenant := func(v string) env {
		e := env{"AUTH_TENANT_ID": v}
		for k, v := range connectorEnv {
			e[k] = v
		}
		return e
	}
	for _, tc := range []struct {
		name   string
		env    env
		args   []string
		code   int
		tenant string   // in apiProperties.json
		stdout []string // each must appear
		stderr []string
	}{
		{"from AUTH_TENANT_ID", withTenant(tenant), nil, 0, tenant, []string{"Tenant ID       " + tenant + "\n"}, nil},
		{"AUTH_TENANT_ID as check reads it", withTenant(" " + strings.ToUpper(tenant) + " "), nil, 0, tenant, []string{"Tenant ID       " + tenant + "\n"}, nil},
		{"--tenant over AUTH_TENANT_ID", withTenant(tenant), []string{"--tenant", "organizations"}, 0, "organizations", []string{"Tenant ID       organizations\n"}, nil},
		{"common, said so", connectorEnv, nil, 0, "common", []string{"Tenant ID       common (AUTH_TENANT_ID is not set)", "AADSTS50194"}, nil},
		{"AUTH_TENANT_ID not a GUID", withTenant("contoso.com?prompt=none"), nil, 2, "", nil, []string{`AUTH_TENANT_ID="contoso.com?prompt=none" is not a tenant GUID`, "--tenant"}},
		{"AUTH_TENANT_ID consumers", withTenant("consumers"), nil, 2, "", nil, []string{`AUTH_TENANT_ID="consumers"`}},
		{"AUTH_TENANT_ID with escapes", withTenant("\x1b]0;pwned\a" + strings.Repeat("x", 200)), nil, 2, "", nil, []string{`AUTH_TENANT_ID="\x1b]0;pwned\a`}},
		{"a bad AUTH_TENANT_ID, --tenant given", withTenant("nonsense"), []string{"--tenant", tenant}, 0, tenant, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runMain(t, tc.env, append([]string{"connector", "--out", out, "--host", "h.example"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			containsAll(t, "stdout", stdout, tc.stdout)
			containsAll(t, "stderr", stderr, tc.stderr)
			noRawValues(t, stdout+stderr)
			if tc.code != 0 {
				if _, err := os.Stat(out); err == nil {
					t.Errorf("refused, yet %s exists", out)
				}
				return
			}
			if got := readOAuthSettings(t, out).CustomParameters["tenantId"].Value; got != tc.tenant {
				t.Errorf("tenantId %q, want %q", got, tc.tenant)
			}
			if tc.tenant != "common" && strings.Contains(stdout, "AADSTS50194") {
				t.Errorf("warns about /common for tenant %s:\n%s", tc.tenant, stdout)
			}
		})
	}
}

func TestConnectorShowsValuesSafely(t *testing.T) {
	// Whatever the command line or the environment holds, the output
	// shows it escaped and cut short: an OSC 52 sequence (a clipboard
	// write in some terminals), a bidi override and 200 more bytes.
	const evil = "\x1b]52;c;cm0gLXJmIH4K\a\u202e"
	long := evil + strings.Repeat("x", 200)
	for _, tc := range []struct {
		name string
		env  env
		args []string
	}{
		{"--host", connectorEnv, []string{"--host", long}},
		{"--tenant", connectorEnv, []string{"--host", "h.example", "--tenant", long + ".example"}},
		{"--title", connectorEnv, []string{"--host", "h.example", "--title", long}},
		{"--website", connectorEnv, []string{"--host", "h.example", "--website", "https://h.example/" + long}},
		{"--category", connectorEnv, []string{"--host", "h.example", "--category", long}},
		{"--out", connectorEnv, []string{"--host", "h.example", "--out", filepath.Join(t.TempDir(), evil)}},
		{"AUTH_ALLOWED_CLIENT_APPS", env{"AUTH_AUDIENCES": "api://hello-fn", "AUTH_ALLOWED_CLIENT_APPS": long}, []string{"--host", "h.example", "--client-id", "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b"}},
		{"AUTH_AUDIENCES", env{"AUTH_AUDIENCES": long, "AUTH_ALLOWED_CLIENT_APPS": "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b"}, []string{"--host", "h.example", "--resource", "api://hello-fn"}},
		{"WEBSITE_HOSTNAME", env{"WEBSITE_HOSTNAME": long, "AUTH_AUDIENCES": "api://hello-fn", "AUTH_ALLOWED_CLIENT_APPS": "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"connector", "--out", filepath.Join(t.TempDir(), "out")}
			code, stdout, stderr := runMain(t, tc.env, append(args, tc.args...)...)
			if code == 0 {
				t.Errorf("accepted:\n%s", stdout)
			}
			noRawValues(t, stdout+stderr)
		})
	}
}

// noRawValues reports a control or formatting character other than a
// newline or a tab (the flag package indents with tabs), or a value
// repeated at length.
func noRawValues(t *testing.T, out string) {
	t.Helper()
	if i := strings.IndexFunc(out, func(r rune) bool {
		return r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) || r == unicode.ReplacementChar
	}); i >= 0 {
		t.Errorf("the output holds %q at byte %d:\n%q", out[i:i+1], i, out)
	}
	if strings.Contains(out, strings.Repeat("x", maxShown+1)) {
		t.Errorf("the output repeats a value at length:\n%.500q", out)
	}
}

// oauthSettings is what the tests read of a generated apiProperties.json.
type oauthSettings struct {
	Scopes           []string                          `json:"scopes"`
	CustomParameters map[string]struct{ Value string } `json:"customParameters"`
}

// readOAuthSettings reads the OAuth settings of the connector in dir.
func readOAuthSettings(t *testing.T, dir string) oauthSettings {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "apiProperties.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Properties struct {
			ConnectionParameters struct {
				Token struct {
					OAuthSettings oauthSettings `json:"oAuthSettings"`
				} `json:"token"`
			} `json:"connectionParameters"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p.Properties.ConnectionParameters.Token.OAuthSettings
}

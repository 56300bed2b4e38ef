package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runMain runs the program as main does, with nothing on standard input:
// it returns the exit status and what went to stdout and stderr.
func runMain(t *testing.T, e env, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runMainIn(t, strings.NewReader(""), e, args...)
}

// runMainIn is runMain with stdin as standard input.
func runMainIn(t *testing.T, stdin io.Reader, e env, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"handler"}, args...), e.get, stdin, &out, &errb)
	code = exitCode(err, &errb)
	return code, out.String(), errb.String()
}

func TestCommandLine(t *testing.T) {
	dev := devTestEnv(t)
	jwt := env{"AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47", "AUTH_AUDIENCES": "api://hello-fn,3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b", "TASKS_STORE_FILE": filepath.Join(t.TempDir(), "tasks.db")}
	out := filepath.Join(t.TempDir(), "out")
	const clientID = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"
	cases := []struct {
		name       string
		args       []string
		env        env
		code       int
		stdout     []string // each must appear
		stderr     []string
		stderrOnce string // must appear exactly once on stderr
		quietOut   bool   // nothing on stdout
	}{
		{name: "help", args: []string{"help"}, stdout: []string{"usage: handler [command]", "serve", "dev", "token", "check", "explain", "version", "help", "2 for a usage error"}},
		{name: "-h", args: []string{"-h"}, stdout: []string{"usage: handler [command]"}},
		{name: "--help", args: []string{"--help"}, stdout: []string{"usage: handler [command]"}},
		{name: "help help", args: []string{"help", "help"}, stdout: []string{"usage: handler [command]"}},
		{name: "help token", args: []string{"help", "token"}, stdout: []string{"usage: handler token"}},
		{name: "--help token", args: []string{"--help", "token"}, stdout: []string{"usage: handler token"}},
		{name: "help for no command", args: []string{"help", "frob"}, code: 2, stderrOnce: `unknown command "frob"`, quietOut: true},
		{name: "help with two commands", args: []string{"help", "a", "b"}, code: 2, stderrOnce: "at most one command", quietOut: true},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderrOnce: `handler: unknown command "frobnicate"`, stderr: []string{"Run 'handler -h' for usage."}, quietOut: true},
		{name: "unknown top-level flag", args: []string{"--bogus"}, code: 2, stderrOnce: `unknown command "--bogus"`, quietOut: true},
		{name: "a long unknown command is cut", args: []string{strings.Repeat("x", 500)}, code: 2, stderrOnce: `"` + strings.Repeat("x", maxShown) + `"…`, quietOut: true},

		{name: "serve -h", args: []string{"serve", "-h"}, stdout: []string{"usage: handler [serve]"}},
		{name: "serve --help", args: []string{"serve", "--help"}, stdout: []string{"usage: handler [serve]"}},
		{name: "serve argument", args: []string{"serve", "x"}, code: 2, stderrOnce: `unexpected argument "x"`, stderr: []string{"Run 'handler serve -h' for usage."}, quietOut: true},
		{name: "serve flag", args: []string{"serve", "--port", "1"}, code: 2, stderrOnce: "flag provided but not defined: -port", quietOut: true},
		{name: "serve misconfigured", args: nil, env: env{}, code: 1, stderrOnce: "handler: 2 configuration problem(s)", stderr: []string{"the embedded tasks store needs TASKS_STORE_FILE: $HOME is not set"}},
		{name: "serve without configuration names make dev", args: nil, env: env{}, code: 1,
			stderr: []string{"run make dev (or ./handler dev)", "local.settings.json is read only by func start", "both listen on port 7071"}},

		{name: "token -h", args: []string{"token", "-h"}, stdout: []string{"usage: handler token", "--scope none", "403", "--dev", "-lifetime"}},
		{name: "token --bogus", args: []string{"token", "--bogus"}, env: dev, code: 2, stderrOnce: "flag provided but not defined: -bogus", stderr: []string{"Run 'handler token -h' for usage."}, quietOut: true},
		{name: "token bad flag value", args: []string{"token", "--lifetime", "soon"}, env: dev, code: 2, stderrOnce: `invalid value "soon" for flag -lifetime`, quietOut: true},
		{name: "token negative lifetime", args: []string{"token", "--lifetime", "-1m"}, env: dev, code: 2, stderrOnce: "--lifetime must be positive", quietOut: true},
		{name: "token argument", args: []string{"token", "extra"}, env: dev, code: 2, stderrOnce: `unexpected argument "extra"`, quietOut: true},
		{name: "token in Azure", args: []string{"token"}, env: env{"WEBSITE_INSTANCE_ID": "x", "AUTH_DEV_KEY_FILE": "/tmp/x.pem"}, code: 1, stderrOnce: "not issued in Azure"},

		{name: "check --help does not check", args: []string{"check", "--help"}, env: env{}, stdout: []string{"usage: handler check", "--online"}},
		{name: "check argument", args: []string{"check", "now"}, env: dev, code: 2, stderrOnce: `unexpected argument "now"`, quietOut: true},
		{name: "check misconfigured", args: []string{"check"}, env: env{}, code: 1, stdout: []string{"AUTH_MODE"}, stderrOnce: "no authentication is configured"},
		{name: "check", args: []string{"check"}, env: dev, stdout: []string{"configuration OK"}},

		{name: "check connector resource", args: []string{"check", "--connector-resource", "api://hello-fn"}, env: jwt, stdout: []string{"configuration OK", `connector resource "api://hello-fn": OK`}},
		{name: "check connector resource refused", args: []string{"check", "--connector-resource", "https://hello-fn.azurewebsites.net"}, env: jwt, code: 1,
			stdout:     []string{"WARNING:", `Resource URL "https://hello-fn.azurewebsites.net" is not among AUTH_AUDIENCES ("api://hello-fn", "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b")`, "v1", "aud is the Resource URL exactly"},
			stderrOnce: "is not among AUTH_AUDIENCES"},
		{name: "check connector resource, trailing slash", args: []string{"check", "--connector-resource", "api://hello-fn/"}, env: jwt, code: 1, stdout: []string{"only in letter case or a trailing slash"}},
		{name: "check connector resource behind Easy Auth", args: []string{"check", "--connector-resource", "api://hello-fn"},
			env: env{"WEBSITE_AUTH_ENABLED": "true", "WEBSITE_SITE_NAME": "hello-fn", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47", "AzureWebJobsStorage__accountName": "hellofn"}, code: 1,
			stdout: []string{"cannot check", "Easy Auth's allowed token audiences"}, stderrOnce: "not checked: AUTH_AUDIENCES is not set"},

		{name: "connector -h", args: []string{"connector", "-h"}, stdout: []string{"usage: handler connector", "--out", "WEBSITE_HOSTNAME", "AUTH_AUDIENCES", "-client-id", "-resource", "-tenant", "-title", "-name"}},
		{name: "connector", args: []string{"connector", "--out", out, "--host", "hello-fn.azurewebsites.net", "--client-id", clientID}, env: jwt,
			stdout: []string{"wrote " + filepath.Join(out, "apiDefinition.swagger.json"), "wrote " + filepath.Join(out, "apiProperties.json"),
				"wrote " + filepath.Join(out, "HelloFunction.postman_collection.json"), "wrote " + filepath.Join(out, "settings.json"),
				"Resource URL    api://hello-fn", "https://global.consent.azure-apim.net/redirect/hellofunction", "paconn create", "pac connector create", "newman run"}},
		{name: "connector from WEBSITE_HOSTNAME and a sole allowed client", args: []string{"connector", "--out", out},
			env:    env{"WEBSITE_HOSTNAME": "hello-fn.azurewebsites.net", "AUTH_AUDIENCES": "api://hello-fn", "AUTH_ALLOWED_CLIENT_APPS": clientID},
			stdout: []string{"Client ID       " + clientID, "Resource URL    api://hello-fn"}},
		{name: "connector resource refused", args: []string{"connector", "--out", out, "--host", "h.example", "--client-id", clientID, "--resource", "https://hello-fn.azurewebsites.net"}, env: jwt, code: 1,
			stderrOnce: `Resource URL "https://hello-fn.azurewebsites.net" is not among AUTH_AUDIENCES ("api://hello-fn", "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b")`, quietOut: true},
		{name: "connector client refused", args: []string{"connector", "--out", out, "--host", "h.example", "--client-id", clientID}, env: env{"AUTH_AUDIENCES": "api://hello-fn", "AUTH_ALLOWED_CLIENT_APPS": "11111111-2222-4333-8444-555555555555"}, code: 1,
			stderrOnce: "not among AUTH_ALLOWED_CLIENT_APPS", quietOut: true},
		{name: "connector missing values", args: []string{"connector", "--out", out}, code: 2,
			stderr: []string{"3 configuration problem(s)", "the host is required", "the client id is required", "the Resource URL is required", "Run 'handler connector -h' for usage."}, quietOut: true},
		{name: "connector categories with spaces", args: []string{"connector", "--out", out, "--host", "h.example", "--client-id", clientID, "--category", "IT Operations", "--category", "Productivity"}, env: jwt, stdout: []string{"wrote "}},
		{name: "connector categories in one flag", args: []string{"connector", "--out", out, "--host", "h.example", "--client-id", clientID, "--category", "IT Operations; Data"}, env: jwt, stdout: []string{"wrote "}},
		{name: "connector three categories", args: []string{"connector", "--out", out, "--host", "h.example", "--client-id", clientID, "--category", "AI;Data", "--category", "Finance"}, env: jwt, code: 2, stderrOnce: "at most two categories, not 3", quietOut: true},
		{name: "connector empty --out", args: []string{"connector", "--out", "", "--host", "h.example", "--client-id", clientID}, env: jwt, code: 2, stderrOnce: "--out must name a directory", quietOut: true},
		{name: "connector --out a file", args: []string{"connector", "--out", "cli_test.go", "--host", "h.example", "--client-id", clientID}, env: jwt, code: 2, stderrOnce: `--out "cli_test.go" is a file`, quietOut: true},
		{name: "connector argument", args: []string{"connector", "x"}, code: 2, stderrOnce: `unexpected argument "x"`, quietOut: true},

		{name: "version", args: []string{"version"}, stdout: []string{"handler ", runtime.Version()}},
		{name: "version -h", args: []string{"version", "-h"}, stdout: []string{"usage: handler version"}},
		{name: "version argument", args: []string{"version", "x"}, code: 2, stderrOnce: `unexpected argument "x"`, quietOut: true},

		{name: "dev -h", args: []string{"dev", "-h"}, stdout: []string{"usage: handler dev", "-port", "-name", "LOG_LEVEL", "ignored"}},
		{name: "dev port out of range", args: []string{"dev", "-port", "0"}, env: dev, code: 2, stderrOnce: "-port 0 is not a TCP port", quietOut: true},
		{name: "dev port not a number", args: []string{"dev", "-port", "http"}, env: dev, code: 2, stderrOnce: `invalid value "http" for flag -port`, quietOut: true},
		{name: "dev empty name", args: []string{"dev", "-name", " "}, env: dev, code: 2, stderrOnce: "-name must not be empty", quietOut: true},
		{name: "dev argument", args: []string{"dev", "now"}, env: dev, code: 2, stderrOnce: `unexpected argument "now"`, quietOut: true},
		{name: "dev in Azure", args: []string{"dev", "-port", freePort(t)}, env: env{"WEBSITE_INSTANCE_ID": "x", "AUTH_DEV_KEY_FILE": "/tmp/x.pem"}, code: 1, stderrOnce: "refuses to run in Azure", quietOut: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.env == nil {
				c.env = env{}
			}
			code, stdout, stderr := runMain(t, c.env, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, stdout, stderr)
			}
			containsAll(t, "stdout", stdout, c.stdout)
			containsAll(t, "stderr", stderr, c.stderr)
			if c.stderrOnce != "" {
				if n := strings.Count(stderr, c.stderrOnce); n != 1 {
					t.Errorf("stderr has %q %d times, want once:\n%s", c.stderrOnce, n, stderr)
				}
			}
			if c.quietOut && stdout != "" {
				t.Errorf("stdout not empty: %s", stdout)
			}
			if c.code == 0 && stderr != "" {
				t.Errorf("stderr not empty on success: %s", stderr)
			}
		})
	}
}

func TestBuildVersion(t *testing.T) {
	cases := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "(devel), revision unknown, " + runtime.Version()},
		{"no module version, no VCS", &debug.BuildInfo{GoVersion: "go1.99.1"}, "(devel), revision unknown, go1.99.1"},
		{"clean", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "4f2a9c0e"}, {Key: "vcs.time", Value: "2025-06-01T10:00:00Z"}, {Key: "vcs.modified", Value: "false"},
		}}, "v1.2.0, revision 4f2a9c0e, committed 2025-06-01T10:00:00Z, go1.99.1"},
		{"modified tree", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: "4f2a9c0e"},
		}}, "(devel), revision 4f2a9c0e-dirty, go1.99.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := buildVersion(c.bi); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestCheckNamesAnInvalidMode(t *testing.T) {
	long := strings.Repeat("x", 200)
	cases := []struct {
		mode, shown string
	}{
		{"bogus", `"bogus" (invalid: not one of auto, jwt, easyauth, dev)`},
		{" JWT-ish ", `" JWT-ish " (invalid: not one of auto, jwt, easyauth, dev)`},
		{"a\nb\x1b[31m", `"a\nb\x1b[31m" (invalid`},
		{long, `"` + strings.Repeat("x", maxShown) + `"… (invalid`},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			code, stdout, stderr := runMain(t, env{"AUTH_MODE": c.mode}, "check")
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(stdout, "AUTH_MODE                 "+c.shown) {
				t.Errorf("settings do not show %s:\n%s", c.shown, stdout)
			}
			if !strings.Contains(stderr, "AUTH_MODE="+strings.SplitN(c.shown, " (", 2)[0]+" is not one of auto, jwt, easyauth, dev") {
				t.Errorf("problems do not name the value:\n%s", stderr)
			}
			if strings.Contains(stdout+stderr, strings.Repeat("x", maxShown+1)) {
				t.Error("the value is not cut")
			}
		})
	}
}

// entraInvalidTenant is Entra ID's answer to a metadata request for a
// tenant that does not exist, as it is sent.
const entraInvalidTenant = `{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant '<tenant>' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.\r\nTrace ID: e9a899ac-eed7-4828-a580-2c0b8ffb2100\r\nCorrelation ID: 22a58ae7-fe96-44eb-8610-5eeb970d5089\r\nTimestamp: 2023-06-07 08:06:56Z","error_codes":[90002],"timestamp":"2023-06-07 08:06:56Z","trace_id":"e9a899ac-eed7-4828-a580-2c0b8ffb2100","correlation_id":"22a58ae7-fe96-44eb-8610-5eeb970d5089","error_uri":"https://login.microsoftonline.com/error?code=90002"}`

// fakeIssuer serves one tenant's v2 and v1 OpenID metadata and a JWKS of
// one RSA key, and answers any other tenant as Entra ID does. hits counts
// the requests.
func fakeIssuer(t *testing.T, tenant string) (srv *httptest.Server, hits *atomic.Int32) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "test-kid",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	hits = new(atomic.Int32)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		base := "http://" + r.Host
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/" + tenant + "/v2.0/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": base + "/" + tenant + "/v2.0", "jwks_uri": base + "/" + tenant + "/discovery/v2.0/keys"})
		case "/" + tenant + "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": "https://sts.windows.net/" + tenant + "/", "jwks_uri": base + "/" + tenant + "/discovery/keys"})
		case "/" + tenant + "/discovery/v2.0/keys", "/" + tenant + "/discovery/keys":
			w.Write(jwks)
		default:
			other, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, strings.Replace(entraInvalidTenant, "<tenant>", other, 1))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

func TestCheckOnline(t *testing.T) {
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	const mistyped = "72f988bf-86f1-41af-91ab-2d7cd011db48"
	srv, hits := fakeIssuer(t, tenant)
	tasksFile := filepath.Join(t.TempDir(), "tasks.db")
	jwt := func(tid string) env {
		return env{"AUTH_MODE": "jwt", "AUTH_TENANT_ID": tid, "AUTH_AUDIENCES": "api://x", "AUTH_AUTHORITY": srv.URL, "TASKS_STORE_FILE": tasksFile}
	}
	easyauth := func(verify string) env {
		return env{"WEBSITE_AUTH_ENABLED": "true", "WEBSITE_SITE_NAME": "hello-fn", "AUTH_TENANT_ID": tenant, "AUTH_AUDIENCES": "api://x", "AUTH_EASYAUTH_VERIFY_TOKEN": verify, "AUTH_AUTHORITY": srv.URL, "AzureWebJobsStorage__accountName": "hellofn"}
	}
	cases := []struct {
		name      string
		args      []string
		env       env
		code      int
		fetches   bool
		stdout    []string
		stderr    []string
		notStderr []string
	}{
		{name: "jwt", args: []string{"check", "--online"}, env: jwt(tenant), fetches: true, stdout: []string{
			"configuration OK",
			srv.URL + "/" + tenant + "/v2.0/.well-known/openid-configuration",
			srv.URL + "/" + tenant + "/.well-known/openid-configuration",
			srv.URL + "/" + tenant + "/v2.0\n",
			"https://sts.windows.net/" + tenant + "/\n",
			"SIGNING_KEYS  1: test-kid",
			"TOOK",
			"online check OK",
		}},
		{name: "mistyped tenant", args: []string{"check", "-online"}, env: jwt(mistyped), code: 1, fetches: true,
			stdout: []string{"configuration OK", srv.URL + "/" + mistyped + "/v2.0/.well-known/openid-configuration", "TOOK"},
			stderr: []string{"handler: online check: loading the signing keys failed: GET " + srv.URL + "/" + mistyped +
				"/v2.0/.well-known/openid-configuration: status 400: invalid_tenant: AADSTS90002: Tenant '" + mistyped + "' not found."},
			notStderr: []string{"Trace ID", "online check OK"}},
		{name: "easyauth verifying tokens", args: []string{"check", "--online"}, env: easyauth("true"), fetches: true, stdout: []string{"SIGNING_KEYS  1: test-kid", "online check OK"}},
		{name: "easyauth alone", args: []string{"check", "--online"}, env: easyauth("false"), stdout: []string{"configuration OK", "nothing to fetch"}},
		{name: "dev", args: []string{"check", "--online"}, env: devTestEnv(t), stdout: []string{"configuration OK", "nothing to fetch"}},
		{name: "invalid configuration fetches nothing", args: []string{"check", "--online"}, env: env{"AUTH_MODE": "jwt", "AUTH_TENANT_ID": tenant, "AUTH_AUTHORITY": srv.URL}, code: 1, stderr: []string{"AUTH_AUDIENCES"}},
		{name: "offline check fetches nothing", args: []string{"check"}, env: jwt(mistyped), stdout: []string{"configuration OK"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hits.Load()
			code, stdout, stderr := runMain(t, c.env, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, stdout, stderr)
			}
			if fetched := hits.Load() != before; fetched != c.fetches {
				t.Errorf("fetched %v, want %v", fetched, c.fetches)
			}
			containsAll(t, "stdout", stdout, c.stdout)
			containsAll(t, "stderr", stderr, c.stderr)
			for _, w := range c.notStderr {
				if strings.Contains(stdout+stderr, w) {
					t.Errorf("output has %q:\n%s%s", w, stdout, stderr)
				}
			}
		})
	}
}

// hostileEnv is a shell that exported the README's jwt settings and then
// some garbage: none of it may reach handler dev or token --dev.
func hostileEnv(t *testing.T) env {
	return env{
		"AUTH_MODE":                    "jwt",
		"AUTH_TENANT_ID":               "72f988bf-86f1-41af-91ab-2d7cd011db47",
		"AUTH_AUDIENCES":               "api://contoso-api,https://contoso.azurewebsites.net",
		"AUTH_ALLOWED_CLIENT_APPS":     "11111111-2222-4333-8444-555555555555",
		"AUTH_ALLOWED_USERS":           "not-a-guid",
		"AUTH_REQUIRED_SCOPES":         "Files.ReadWrite.All",
		"AUTH_AUTHORITY":               "http://login.example.com",
		"AUTH_TOKEN_CACHE_SIZE":        "garbage",
		"AUTH_KEYS_WAIT":               "forever",
		"AUTH_EASYAUTH_VERIFY_TOKEN":   "maybe",
		"WEBSITE_AUTH_ENABLED":         "true",
		"LISTEN_HOST":                  "0.0.0.0",
		"FUNCTIONS_CUSTOMHANDLER_PORT": "80x",
		"LOG_LEVEL":                    "chatty",
		routePrefixSetting:             "prod",
		"AUTH_DEV_KEY_FILE":            filepath.Join(t.TempDir(), "k.pem"),
	}
}

// devCurl matches the request handler dev prints.
var devCurl = regexp.MustCompile(`(?m)^curl -s -X POST (http://127\.0\.0\.1:(\d+))/api/Hello -H 'Authorization: Bearer ([A-Za-z0-9_.-]+)' -H 'Content-Type: application/json' -d '([^']*)'$`)

func TestDevIgnoresTheEnvironment(t *testing.T) {
	e := hostileEnv(t)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs, human syncBuf
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"handler", "dev", "-port", port}, e.get, strings.NewReader(""), &logs, &human)
	}()

	var m []string
	for deadline := time.Now().Add(30 * time.Second); m == nil; {
		if m = devCurl.FindStringSubmatch(human.String()); m != nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("dev returned before printing a curl: %v\n%s", err, human.String())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no curl within 30 s:\n%s", human.String())
		}
	}
	base, gotPort, tok, body := m[1], m[2], m[3], m[4]
	if gotPort != port {
		t.Errorf("curl port %s, want %s", gotPort, port)
	}
	for _, w := range []string{"Dev mode on " + base + ". In another terminal:", "More tokens: ./handler token --dev --name Someone [--scope none for a 403] [--expired for a 401]", "./handler explain --dev TOKEN", "AUTH_ALLOWED_CLIENT_APPS", "LOG_LEVEL"} {
		if !strings.Contains(human.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, human.String())
		}
	}
	if strings.Contains(human.String(), "11111111-2222") || strings.Contains(human.String(), `"level"`) {
		t.Errorf("stderr holds a setting's value or log lines:\n%s", human.String())
	}

	hello := func(tok, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/Hello", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const want = "Hello, Marc. This HTTP triggered function executed successfully."
	if code, got := hello(tok, body); code != 200 || got != want {
		t.Errorf("printed curl: %d %q", code, got)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"token", "--dev", "--name", "Marc"}, 200},
		{[]string{"token", "--dev", "--scope", "none"}, 403},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"handler"}, c.args...), e.get, strings.NewReader(""), &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if code, got := hello(strings.TrimSpace(out.String()), `{"name": "Marc"}`); code != c.code {
			t.Errorf("%v: %d %q, want %d", c.args, code, got, c.code)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev returned %v after cancel, want nil", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("dev did not return after cancel")
	}
	version, _ := json.Marshal(buildVersion(readBuildInfo()))
	if !strings.Contains(logs.String(), `"msg":"listening"`) || !strings.Contains(logs.String(), `"version":`+string(version)) {
		t.Errorf("no listening line with the version in the log:\n%s", logs.String())
	}
}

func TestDevReportsATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	code, stdout, stderr := runMain(t, hostileEnv(t), "dev", "-port", port)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{"port " + port, "DEV_PORT", "make dev DEV_PORT="} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if strings.Contains(stderr, "curl") || stdout != "" {
		t.Errorf("printed more than the error:\nstdout: %s\nstderr: %s", stdout, stderr)
	}
}

func TestDevBanner(t *testing.T) {
	b := devBanner("http://127.0.0.1:7071", "a.b.c", `O'Brien "Bob"`, nil)
	want := `curl -s -X POST http://127.0.0.1:7071/api/Hello -H 'Authorization: Bearer a.b.c' -H 'Content-Type: application/json' -d '{"name": "O'\''Brien \"Bob\""}'` + "\n"
	if !strings.Contains(b, want) {
		t.Errorf("banner:\n%s\nwant the line:\n%s", b, want)
	}
	if strings.Contains(b, "Ignored") {
		t.Error("banner names ignored settings when there are none")
	}
}

// containsAll reports each of wants that out lacks.
func containsAll(t *testing.T, name, out string, wants []string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", name, w, out)
		}
	}
}

func TestConnectorCategories(t *testing.T) {
	// Categories hold spaces: each --category is whole, or split on ";".
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--category", "IT Operations", "--category", "Productivity"}, "IT Operations;Productivity"},
		{[]string{"--category", "IT Operations; Data"}, "IT Operations;Data"},
		{nil, "Productivity"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		args := append([]string{"connector", "--out", out, "--host", "h.example", "--client-id", "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5", "--resource", "api://h"}, tc.args...)
		if code, _, stderr := runMain(t, env{}, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "apiDefinition.swagger.json"))
		if err != nil {
			t.Fatal(err)
		}
		var def struct {
			Metadata []struct{ PropertyName, PropertyValue string } `json:"x-ms-connector-metadata"`
		}
		if err := json.Unmarshal(b, &def); err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, m := range def.Metadata {
			if m.PropertyName == "Categories" {
				got = m.PropertyValue
			}
		}
		if got != tc.want {
			t.Errorf("%v: Categories %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestConnectorScopesFromTheEnvironment(t *testing.T) {
	// The connection asks for the scopes the server requires.
	out := filepath.Join(t.TempDir(), "out")
	e := env{"AUTH_REQUIRED_SCOPES": "access_as_user  Greetings.Read", "AUTH_AUDIENCES": "api://h"}
	if code, _, stderr := runMain(t, e, "connector", "--out", out, "--host", "h.example", "--client-id", "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := strings.Join(readOAuthSettings(t, out).Scopes, " "); got != "access_as_user Greetings.Read" {
		t.Errorf("scopes %q, want AUTH_REQUIRED_SCOPES", got)
	}
}

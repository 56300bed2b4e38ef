package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/auth"
)

// env is a fake environment for run.
type env map[string]string

func (e env) get(k string) (string, bool) { v, ok := e[k]; return v, ok }

func devTestEnv(t *testing.T) env {
	return env{"AUTH_MODE": "dev", "AUTH_DEV_KEY_FILE": filepath.Join(t.TempDir(), "k.pem")}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestRunServesUntilCancelled drives the whole program in-process: serve,
// answer an authenticated call, stop cleanly when the context ends.
func TestRunServesUntilCancelled(t *testing.T) {
	e := devTestEnv(t)
	e["FUNCTIONS_CUSTOMHANDLER_PORT"] = freePort(t)
	var tokOut bytes.Buffer
	if err := run(context.Background(), []string{"handler", "token", "--name", "Marc"}, e.get, strings.NewReader(""), &tokOut, io.Discard); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuf
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"handler"}, e.get, strings.NewReader(""), &logs, io.Discard) }()

	base := "http://127.0.0.1:" + e["FUNCTIONS_CUSTOMHANDLER_PORT"]
	waitReady(t, base, done)
	req, _ := http.NewRequest("POST", base+"/api/Hello", strings.NewReader(`{"name": "Marc"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tokOut.String()))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "Hello, Marc. This HTTP triggered function executed successfully." {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel, want nil", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("log does not end with stopped (flushed at shutdown?):\n%s", logs.String())
	}
}

func TestRunReportsATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	e := devTestEnv(t)
	e["FUNCTIONS_CUSTOMHANDLER_PORT"] = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	err = run(context.Background(), []string{"handler"}, e.get, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("err = %v, want address already in use", err)
	}
}

func waitReady(t *testing.T, base string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before ready: %v", err)
		case <-time.After(25 * time.Millisecond):
		}
	}
	t.Fatal("not ready within 30 s")
}

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name    string
		env     env
		wantErr []string // each must appear; nil means valid
		check   func(t *testing.T, c config)
	}{
		{name: "dev defaults", env: env{"AUTH_MODE": "dev", "HOME": "/home/u"}, check: func(t *testing.T, c config) {
			if c.Listen.Port != "7071" || c.Listen.Host != "127.0.0.1" || c.Auth.TenantID != auth.DevTenantID ||
				len(c.Auth.Audiences) != 1 || c.Auth.Audiences[0] != auth.DevAudience ||
				c.Auth.DevKeyFile != filepath.Join("/home/u", ".config", "entrafunc", "dev-signing-key.pem") ||
				strings.Join(c.Auth.RequiredScopes, " ") != "user_impersonation" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "XDG_CONFIG_HOME wins", env: env{"AUTH_MODE": "DEV", "HOME": "/home/u", "XDG_CONFIG_HOME": "/xdg"}, check: func(t *testing.T, c config) {
			if c.Auth.DevKeyFile != "/xdg/entrafunc/dev-signing-key.pem" {
				t.Errorf("DevKeyFile %s", c.Auth.DevKeyFile)
			}
		}},
		{name: "dev mode with a tenant and audiences", env: env{"AUTH_MODE": "dev", "HOME": "/h", "AUTH_TENANT_ID": " 72F988BF-86F1-41AF-91AB-2D7CD011DB47 ", "AUTH_AUDIENCES": "api://x, https://app.azurewebsites.net ,", "AUTH_REQUIRED_SCOPES": "a  b"},
			check: func(t *testing.T, c config) {
				if c.Auth.TenantID != "72f988bf-86f1-41af-91ab-2d7cd011db47" || strings.Join(c.Auth.Audiences, "|") != "api://x|https://app.azurewebsites.net" || strings.Join(c.Auth.RequiredScopes, "|") != "a|b" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "nothing configured", env: env{}, wantErr: []string{"no authentication is configured", "AUTH_MODE=dev"}},
		{name: "unknown mode", env: env{"AUTH_MODE": "anonymous"}, wantErr: []string{`AUTH_MODE="anonymous"`}},
		{name: "dev in Azure", env: env{"AUTH_MODE": "dev", "HOME": "/h", "WEBSITE_INSTANCE_ID": "1"}, wantErr: []string{"refuses to run in Azure"}},
		{name: "dev off loopback", env: env{"AUTH_MODE": "dev", "HOME": "/h", "LISTEN_HOST": "0.0.0.0"}, wantErr: []string{"loopback only"}},
		{name: "every problem at once", env: env{"AUTH_MODE": "dev", "HOME": "/h", "FUNCTIONS_CUSTOMHANDLER_PORT": "99999", "LOG_LEVEL": "chatty", "AUTH_TENANT_ID": "contoso", "AUTH_ALLOWED_USERS": "bob", "AUTH_AUTHORITY": "http://login.example.com"},
			wantErr: []string{"5 configuration problem(s)", "FUNCTIONS_CUSTOMHANDLER_PORT", "LOG_LEVEL", "AUTH_TENANT_ID", "AUTH_ALLOWED_USERS", "AUTH_AUTHORITY"}},
		{name: "easyauth off loopback", env: env{"AUTH_MODE": "easyauth", "WEBSITE_AUTH_ENABLED": "true", "WEBSITE_SITE_NAME": "hello-fn", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47", "LISTEN_HOST": "0.0.0.0"}, wantErr: []string{"loopback only"}},
		{name: "easyauth with the gate closed", env: env{"AUTH_MODE": "easyauth", "WEBSITE_AUTH_ENABLED": "true", "AZURE_FUNCTIONS_ENVIRONMENT": "Development", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, wantErr: []string{"cannot be trusted here", "Development"}},
		{name: "auto picks easyauth behind Easy Auth", env: env{"WEBSITE_AUTH_ENABLED": "True", "WEBSITE_SITE_NAME": "hello-fn", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, check: func(t *testing.T, c config) {
			if c.Auth.Mode != modeEasyAuth || !strings.Contains(c.Auth.ModeReason, "WEBSITE_AUTH_ENABLED=true") {
				t.Errorf("mode %q (%s)", c.Auth.Mode, c.Auth.ModeReason)
			}
		}},
		{name: "auto picks jwt under func start", env: env{"WEBSITE_AUTH_ENABLED": "true", "AZURE_FUNCTIONS_ENVIRONMENT": "Development", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47", "AUTH_AUDIENCES": "api://x"}, check: func(t *testing.T, c config) {
			if c.Auth.Mode != modeJWT || !strings.Contains(c.Auth.ModeReason, "Development") {
				t.Errorf("mode %q (%s)", c.Auth.Mode, c.Auth.ModeReason)
			}
		}},
		{name: "auto never picks dev", env: env{"AUTH_MODE": "auto", "HOME": "/h"}, wantErr: []string{"no authentication is configured"}},
		{name: "verify token needs audiences", env: env{"WEBSITE_AUTH_ENABLED": "true", "WEBSITE_SITE_NAME": "hello-fn", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47", "AUTH_EASYAUTH_VERIFY_TOKEN": "true"}, wantErr: []string{"AUTH_AUDIENCES"}},
		{name: "a route prefix other than api", env: env{"AUTH_MODE": "dev", "HOME": "/h", "FUNCTIONS_APP_ROOT_PATH": writeHostJSON(t, `{"version":"2.0","extensions":{"http":{"routePrefix":""}}}`)}, wantErr: []string{"routePrefix"}},
		{name: "a route prefix app setting", env: env{"AUTH_MODE": "dev", "HOME": "/h", "AzureFunctionsJobHost__extensions__http__routePrefix": "prod"}, wantErr: []string{"AzureFunctionsJobHost__extensions__http__routePrefix"}},
		{name: "the api prefix in any case", env: env{"AUTH_MODE": "dev", "HOME": "/h", "AzureFunctionsJobHost__extensions__http__routePrefix": "/API", "FUNCTIONS_APP_ROOT_PATH": writeHostJSON(t, `{"extensions":{"http":{"routePrefix":"Api"}}}`)}, check: func(t *testing.T, c config) {}},
		{name: "the repository's host.json", env: env{"AUTH_MODE": "dev", "HOME": "/h", "FUNCTIONS_APP_ROOT_PATH": "../.."}, check: func(t *testing.T, c config) {}},
		{name: "AUTH_KEYS_WAIT default", env: env{"AUTH_MODE": "jwt", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47", "AUTH_AUDIENCES": "api://x"}, check: func(t *testing.T, c config) {
			if c.Auth.KeysWait != auth.DefaultFirstLoadWait {
				t.Errorf("KeysWait %v", c.Auth.KeysWait)
			}
		}},
		{name: "AUTH_KEYS_WAIT set", env: env{"AUTH_MODE": "jwt", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47", "AUTH_AUDIENCES": "api://x", "AUTH_KEYS_WAIT": " 1500ms "}, check: func(t *testing.T, c config) {
			if c.Auth.KeysWait != 1500*time.Millisecond {
				t.Errorf("KeysWait %v", c.Auth.KeysWait)
			}
		}},
		{name: "AUTH_KEYS_WAIT=0s waits not at all", env: env{"AUTH_MODE": "jwt", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47", "AUTH_AUDIENCES": "api://x", "AUTH_KEYS_WAIT": "0s"}, check: func(t *testing.T, c config) {
			if c.Auth.KeysWait >= 0 {
				t.Errorf("KeysWait %v, want negative (no wait)", c.Auth.KeysWait)
			}
		}},
		{name: "AUTH_KEYS_WAIT out of range", env: env{"AUTH_MODE": "dev", "HOME": "/h", "AUTH_KEYS_WAIT": "31s"}, wantErr: []string{`AUTH_KEYS_WAIT="31s"`}},
		{name: "AUTH_KEYS_WAIT negative", env: env{"AUTH_MODE": "dev", "HOME": "/h", "AUTH_KEYS_WAIT": "-1s"}, wantErr: []string{`AUTH_KEYS_WAIT="-1s"`}},
		{name: "AUTH_KEYS_WAIT not a duration", env: env{"AUTH_MODE": "dev", "HOME": "/h", "AUTH_KEYS_WAIT": "5"}, wantErr: []string{`AUTH_KEYS_WAIT="5"`, "such as 5s"}},
		{name: "http authority on loopback is fine", env: env{"AUTH_MODE": "dev", "HOME": "/h", "AUTH_AUTHORITY": "http://127.0.0.1:9999/"}, check: func(t *testing.T, c config) {
			if c.Auth.Authority != "http://127.0.0.1:9999" {
				t.Errorf("Authority %q", c.Auth.Authority)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Every section but the tasks store's (TestReadTasks).
			cfg, errs := readConfig(c.env.get)
			err := problems(errs)
			if c.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				c.check(t, cfg)
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"handler", "check"}, devTestEnv(t).get, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AUTH_MODE                 dev (AUTH_MODE=dev)", "AUTH_TENANT_ID            " + auth.DevTenantID, "configuration OK"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	err := run(context.Background(), []string{"handler", "check"}, env{}.get, strings.NewReader(""), &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "AUTH_MODE                 (unset)") {
		t.Fatalf("check with nothing set: err %v\n%s", err, out.String())
	}
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTokenCommand(t *testing.T) {
	e := devTestEnv(t)
	e["AUTH_TENANT_ID"] = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	e["AUTH_AUDIENCES"] = "api://first,api://second"
	var out bytes.Buffer
	err := run(context.Background(), []string{"handler", "token", "--name", "Ada Lovelace", "--scope", "user_impersonation", "--scope", "Files.Read,Mail.Read", "--role", "Admin", "--group", "g1"}, e.get, strings.NewReader(""), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, out.String())
	want := map[string]any{
		"tid": "72f988bf-86f1-41af-91ab-2d7cd011db47", "aud": "api://first", "ver": "2.0",
		"iss":  "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
		"name": "Ada Lovelace", "preferred_username": "ada.lovelace@dev.localhost",
		"scp": "user_impersonation Files.Read Mail.Read", "azp": auth.DevClientAppID,
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %v, want %v", k, c[k], v)
		}
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 3600 {
		t.Errorf("lifetime %v s, want 3600", exp-iat)
	}
	if c["oid"] == nil || c["roles"] == nil || c["groups"] == nil {
		t.Errorf("claims lack oid, roles or groups: %v", c)
	}

	bad := []struct {
		name string
		args []string
		env  env
		want string
	}{
		{"negative lifetime", []string{"--lifetime", "-1m"}, devTestEnv(t), "--lifetime"},
		{"stray argument", []string{"extra"}, devTestEnv(t), "unexpected argument"},
		{"unknown flag", []string{"--nope"}, devTestEnv(t), "nope"},
		{"in Azure", nil, env{"WEBSITE_INSTANCE_ID": "x", "AUTH_DEV_KEY_FILE": "/tmp/x.pem"}, "not issued in Azure"},
		{"bad tenant", nil, env{"AUTH_TENANT_ID": "contoso", "AUTH_DEV_KEY_FILE": "/tmp/x.pem"}, "not a tenant GUID"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"handler", "token"}, b.args...), b.env.get, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), b.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, b.want)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"handler", "frobnicate"}, env{}.get, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("err = %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"handler", "help"}, env{}.get, strings.NewReader(""), &out, io.Discard); err != nil || !strings.Contains(out.String(), "usage:") {
		t.Fatalf("help: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"handler", "serve", "x"}, env{}.get, strings.NewReader(""), io.Discard, io.Discard); err == nil {
		t.Fatal("serve accepted an argument")
	}
	var pe problemsError
	if _, err := loadConfig(env{}.get); !errors.As(err, &pe) || len(pe.errs) != 2 {
		t.Fatalf("loadConfig error %v is not two problems (the mode, the tasks store's place)", err)
	}
}

// syncBuf is a concurrency-safe buffer for the server's log.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// writeHostJSON writes a host.json into a new app root and returns it.
func writeHostJSON(t *testing.T, content string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

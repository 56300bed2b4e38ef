package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	helloMarc = "Hello, Marc. This HTTP triggered function executed successfully."
	helloNone = "This HTTP triggered function executed successfully. Pass a name in the query string or in the request body for a personalized response."
)

// TestDevModeContract drives the whole Hello/Me contract against one
// dev-mode handler, then stops it with SIGTERM and reads its log.
func TestDevModeContract(t *testing.T) {
	t.Parallel()
	p := start(t, devEnv(t))
	tok := p.token("--name", "Marc")
	auth := bearer(tok)
	jsonAuth := map[string][]string{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}}

	cases := []struct {
		name        string
		req         request
		status      int
		contentType string
		body        string   // exact, when set
		contains    []string // in the body
		header      map[string]string
	}{
		{name: "the tutorial's request", req: request{method: "POST", path: "/api/Hello", headers: jsonAuth, body: `{"name": "Marc"}`},
			status: 200, contentType: "text/plain; charset=utf-8", body: helloMarc},
		{name: "name in the query", req: request{method: "GET", path: "/api/Hello?name=Marc", headers: auth},
			status: 200, contentType: "text/plain; charset=utf-8", body: helloMarc},
		{name: "query wins over body", req: request{method: "POST", path: "/api/Hello?name=Marc", headers: jsonAuth, body: `{"name": "Other"}`},
			status: 200, body: helloMarc},
		{name: "no name", req: request{method: "GET", path: "/api/Hello", headers: auth},
			status: 200, body: helloNone},
		{name: "empty JSON object", req: request{method: "POST", path: "/api/Hello", headers: jsonAuth, body: `{}`},
			status: 200, body: helloNone},
		{name: "path case does not matter", req: request{method: "POST", path: "/api/hello", headers: jsonAuth, body: `{"name": "Marc"}`},
			status: 200, body: helloMarc},
		{name: "malformed JSON", req: request{method: "POST", path: "/api/Hello", headers: jsonAuth, body: `{"name": `},
			status: 400, contentType: "application/problem+json", contains: []string{"not valid JSON"}},
		{name: "name is not a string", req: request{method: "POST", path: "/api/Hello", headers: jsonAuth, body: `{"name": 42}`},
			status: 400, contentType: "application/problem+json", contains: []string{`\"name\" must be a string`}},
		{name: "body over 64 KiB", req: request{method: "POST", path: "/api/Hello", headers: jsonAuth, body: `{"name": "` + strings.Repeat("a", 70<<10) + `"}`},
			status: 413, contentType: "application/problem+json"},
		{name: "method not allowed", req: request{method: "DELETE", path: "/api/Hello", headers: auth},
			status: 405, contentType: "application/problem+json", header: map[string]string{"Allow": "GET, POST"}},
		{name: "Me is GET only", req: request{method: "POST", path: "/api/Me", headers: auth},
			status: 405, header: map[string]string{"Allow": "GET"}},
		{name: "unknown function", req: request{method: "GET", path: "/api/Nope", headers: auth},
			status: 404, contentType: "application/problem+json"},
		{name: "no credentials", req: request{method: "POST", path: "/api/Hello", body: `{"name": "Marc"}`},
			status: 401, contentType: "application/problem+json", header: map[string]string{"WWW-Authenticate": `Bearer realm="api"`}},
		{name: "another scheme", req: request{method: "GET", path: "/api/Hello", headers: map[string][]string{"Authorization": {"Basic bWFyYzpzZWNyZXQ="}}},
			status: 401, header: map[string]string{"WWW-Authenticate": `Bearer realm="api"`}},
		{name: "garbage token", req: request{method: "GET", path: "/api/Hello", headers: bearer("not.a.token")},
			status: 401, contentType: "application/problem+json", contains: []string{"invalid_token"},
			header: map[string]string{"WWW-Authenticate": `Bearer realm="api", error="invalid_token", error_description="The access token is not valid"`}},
		{name: "tampered token", req: request{method: "GET", path: "/api/Hello", headers: bearer(tamper(t, tok))},
			status: 401, contains: []string{"invalid_token"}},
		{name: "token in the query string", req: request{method: "GET", path: "/api/Hello?access_token=" + tok},
			status: 400, contains: []string{"invalid_request"}},
		{name: "two Authorization headers", req: request{method: "GET", path: "/api/Hello", headers: map[string][]string{"Authorization": {"Bearer " + tok, "Bearer " + tok}}},
			status: 400, contains: []string{"invalid_request"}},
		// One limit, on the token itself (auth.MaxTokenBytes), whichever
		// way it came: too large is a token that is not valid.
		{name: "oversized Authorization header", req: request{method: "GET", path: "/api/Hello", headers: bearer(strings.Repeat("a", 17<<10))},
			status: 401, contains: []string{"invalid_token"}},
		{name: "missing scope", req: request{method: "GET", path: "/api/Hello", headers: bearer(p.token("--scope", "Files.Read"))},
			status: 403, contains: []string{"insufficient_scope"},
			header: map[string]string{"WWW-Authenticate": `Bearer realm="api", error="insufficient_scope", scope="user_impersonation"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := p.do(c.req)
			if got.status != c.status {
				t.Fatalf("status %d, want %d; body %s", got.status, c.status, got.body)
			}
			if c.contentType != "" && got.header.Get("Content-Type") != c.contentType {
				t.Errorf("Content-Type %q, want %q", got.header.Get("Content-Type"), c.contentType)
			}
			if c.body != "" && got.body != c.body {
				t.Errorf("body %q, want %q", got.body, c.body)
			}
			for _, s := range c.contains {
				if !strings.Contains(got.body, s) {
					t.Errorf("body %s does not contain %q", got.body, s)
				}
			}
			for k, v := range c.header {
				if got.header.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, got.header.Get(k), v)
				}
			}
			if got.status >= 400 {
				var pb struct {
					Status int    `json:"status"`
					Title  string `json:"title"`
					Detail string `json:"detail"`
				}
				if err := json.Unmarshal([]byte(got.body), &pb); err != nil || pb.Status != got.status || pb.Title == "" || pb.Detail == "" {
					t.Errorf("error body is not a problem document for status %d: %s", got.status, got.body)
				}
			}
		})
	}

	t.Run("Me describes the caller", func(t *testing.T) {
		got := p.do(request{method: "GET", path: "/api/Me", headers: auth})
		if got.status != 200 || got.header.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d %q: %s", got.status, got.header.Get("Content-Type"), got.body)
		}
		var me struct {
			OID, TID, Name, Username, ClientAppID, Source string
			Scopes                                        []string
		}
		if err := json.Unmarshal([]byte(got.body), &me); err != nil {
			t.Fatal(err)
		}
		if me.Name != "Marc" || me.Source != "dev" || me.TID != "00000000-0000-4000-8000-00000000d001" ||
			len(me.OID) != 36 || len(me.Scopes) != 1 || me.Scopes[0] != "user_impersonation" {
			t.Errorf("Me = %+v", me)
		}
		// The same user keeps the same object id across tokens.
		again := p.do(request{method: "GET", path: "/api/Me", headers: bearer(p.token("--name", "Marc"))})
		if !strings.Contains(again.body, `"oid":"`+me.OID+`"`) {
			t.Errorf("a second token for Marc has another oid: %s", again.body)
		}
	})

	t.Run("a token from another dev key is refused", func(t *testing.T) {
		other := append([]string(nil), p.env...)
		other = append(other, "AUTH_DEV_KEY_FILE="+filepath.Join(t.TempDir(), "other.pem"))
		got := p.do(request{method: "GET", path: "/api/Hello", headers: bearer(runToken(t, other))})
		if got.status != 401 {
			t.Fatalf("status %d, want 401", got.status)
		}
	})

	if code := p.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0; stderr: %s", code, p.stderr)
	}
	log := p.stdout.String()
	if strings.Contains(log, tok) || strings.Contains(log, strings.Split(tok, ".")[2]) {
		t.Error("the log holds a token")
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if l["msg"] != "request" || l["path"] == "/" {
			continue
		}
		lines++
		if l["invocation_id"] == nil || l["request_id"] == nil || l["status"] == nil || l["duration_ms"] == nil {
			t.Errorf("request line lacks a field: %s", sc.Text())
		}
		if l["status"] == float64(200) && (l["oid"] == nil || l["tid"] == nil) {
			t.Errorf("authenticated request line lacks oid/tid: %s", sc.Text())
		}
	}
	if lines < len(cases) {
		t.Errorf("%d request log lines, want at least %d", lines, len(cases))
	}
}

// tamper changes the token's payload without re-signing it.
func tamper(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	b := []byte(parts[1])
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return parts[0] + "." + string(b) + "." + parts[2]
}

// TestSIGTERMFinishesInFlightRequests sends half a request, signals the
// handler, then sends the rest: the request must be answered and the
// process must exit 0.
func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	p := start(t, devEnv(t))
	tok := p.token("--name", "Marc")
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name": "Marc"}`
	head := "POST /api/Hello HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + tok +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head+body[:5]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the server start reading the request
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let it begin shutting down
	if _, err := io.WriteString(conn, body[5:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request got no answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != helloMarc {
		t.Fatalf("in-flight request: %d %q", resp.StatusCode, b)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d, want 0; stderr %s", code, p.stderr)
	}
}

// TestRefusesToStart checks the configurations the handler must refuse,
// each with a message that says what to set.
func TestRefusesToStart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"no authentication configured", map[string]string{}, []string{"no authentication is configured", "AUTH_MODE=dev", "AUTH_TENANT_ID"}},
		{"dev mode in Azure", map[string]string{"AUTH_MODE": "dev", "WEBSITE_INSTANCE_ID": "abc", "AUTH_DEV_KEY_FILE": "/nonexistent/k.pem"}, []string{"refuses to run in Azure"}},
		// The hosting options that do not set WEBSITE_INSTANCE_ID, as the
		// Functions host starts the handler there.
		{"dev mode on Flex Consumption", map[string]string{"AUTH_MODE": "dev", "WEBSITE_SITE_NAME": "hello-fn", "WEBSITE_SKU": "FlexConsumption", "LEGION_SERVICE_HOST": "10.0.0.4", "AUTH_DEV_KEY_FILE": "/nonexistent/k.pem"}, []string{"refuses to run in Azure", "WEBSITE_SITE_NAME is set"}},
		{"dev mode on Linux Consumption", map[string]string{"AUTH_MODE": "dev", "CONTAINER_NAME": "E9A1B2C3D4-6387", "FUNCTIONS_CUSTOMHANDLER_WORKER_ID": "w1", "AUTH_DEV_KEY_FILE": "/nonexistent/k.pem"}, []string{"refuses to run in Azure", "CONTAINER_NAME is set"}},
		{"dev mode on Container Apps", map[string]string{"AUTH_MODE": "dev", "CONTAINER_APP_NAME": "hello-fn", "AUTH_DEV_KEY_FILE": "/nonexistent/k.pem"}, []string{"refuses to run in Azure", "CONTAINER_APP_NAME is set"}},
		{"dev mode on Kubernetes", map[string]string{"AUTH_MODE": "dev", "KUBERNETES_SERVICE_HOST": "10.96.0.1", "AUTH_DEV_KEY_FILE": "/nonexistent/k.pem"}, []string{"refuses to run in Azure", "KUBERNETES_SERVICE_HOST is set"}},
		{"dev mode with WEBSITE_INSTANCE_ID set but empty", map[string]string{"AUTH_MODE": "dev", "WEBSITE_INSTANCE_ID": "", "AUTH_DEV_KEY_FILE": "/nonexistent/k.pem"}, []string{"refuses to run in Azure"}},
		{"easyauth from copied settings, outside Azure", map[string]string{"AUTH_MODE": "easyauth", "WEBSITE_AUTH_ENABLED": "True", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, []string{"cannot be trusted here", "outside Azure nothing strips forged headers"}},
		{"easyauth with a container name and copied settings", map[string]string{"AUTH_MODE": "easyauth", "WEBSITE_AUTH_ENABLED": "True", "CONTAINER_NAME": "uid-abc", "FUNCTIONS_WORKER_RUNTIME": "custom", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, []string{"cannot be trusted here", "CONTAINER_NAME is set", "cannot show that App Service Authentication stands in front"}},
		{"easyauth on Kubernetes", map[string]string{"AUTH_MODE": "easyauth", "WEBSITE_AUTH_ENABLED": "True", "KUBERNETES_SERVICE_HOST": "10.96.0.1", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, []string{"cannot be trusted here", "cannot show that App Service Authentication stands in front"}},
		{"a relative dev key file", map[string]string{"AUTH_MODE": "dev", "AUTH_DEV_KEY_FILE": "k.pem"}, []string{"AUTH_DEV_KEY_FILE", "not an absolute path"}},
		{"a relative HOME", map[string]string{"AUTH_MODE": "dev", "HOME": "repo"}, []string{"$HOME", "not an absolute path"}},
		{"dev mode off loopback", map[string]string{"AUTH_MODE": "dev", "LISTEN_HOST": "0.0.0.0", "AUTH_DEV_KEY_FILE": "/nonexistent/k.pem"}, []string{"loopback only"}},
		{"every problem at once", map[string]string{"AUTH_MODE": "bogus", "AUTH_TENANT_ID": "nope", "LOG_LEVEL": "loud", "FUNCTIONS_CUSTOMHANDLER_PORT": "x"},
			[]string{"5 configuration problem(s)", "AUTH_MODE", "AUTH_TENANT_ID", "LOG_LEVEL", "FUNCTIONS_CUSTOMHANDLER_PORT", "TASKS_STORE_FILE"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(handlerBin)
			cmd.Env = environ(c.env)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("handler started; output %s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not mention %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestCheck runs `handler check` as an operator would.
func TestCheck(t *testing.T) {
	t.Parallel()
	ok := exec.Command(handlerBin, "check")
	ok.Env = environ(devEnv(t))
	out, err := ok.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "AUTH_MODE                 dev") || !strings.Contains(string(out), "configuration OK") {
		t.Fatalf("check in dev mode: %v\n%s", err, out)
	}
	bad := exec.Command(handlerBin, "check")
	bad.Env = environ(map[string]string{"AUTH_MODE": "dev", "WEBSITE_INSTANCE_ID": "x", "LOG_LEVEL": "loud"})
	out, err = bad.CombinedOutput()
	// No HOME either, so no place for the dev key; and in Azure the tasks
	// need Table storage, which nothing names: four problems, one report.
	if err == nil || !strings.Contains(string(out), "4 configuration problem(s)") || !strings.Contains(string(out), "AUTH_DEV_KEY_FILE") || !strings.Contains(string(out), "no storage connection for the tasks") {
		t.Fatalf("check with four problems: %v\n%s", err, out)
	}
}

// TestDevKeyCreatedOnceUnderRace starts a server and several token
// commands at once on a fresh key path: they must all agree on one key.
func TestDevKeyCreatedOnceUnderRace(t *testing.T) {
	t.Parallel()
	env := devEnv(t)
	var wg sync.WaitGroup
	toks := make([]string, 4)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i] = runToken(t, environ(env), "--name", "Marc")
		}()
	}
	p := start(t, env)
	wg.Wait()
	for i, tok := range toks {
		if got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(tok)}); got.status != 200 {
			t.Errorf("token %d: status %d, want 200: %s", i, got.status, got.body)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(env["AUTH_DEV_KEY_FILE"]), "*"))
	if len(matches) != 1 {
		t.Errorf("key directory holds %v, want the one key file", matches)
	}
}

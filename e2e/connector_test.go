package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The connector as `handler connector` writes it, for an API that accepts
// api://hello-fn and admits one client app.
const (
	connectorHost     = "hello-fn.azurewebsites.net"
	connectorClientID = "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b"
	connectorResource = "api://hello-fn"
)

// writeConnector runs the built binary's connector command and returns
// the directory it wrote.
func writeConnector(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "connector")
	cmd := exec.Command(handlerBin, "connector", "--out", dir, "--host", connectorHost)
	cmd.Env = environ(map[string]string{
		"AUTH_AUDIENCES":           connectorResource + ",3f2a1b7c-0000-4000-8000-00000000000a",
		"AUTH_ALLOWED_CLIENT_APPS": connectorClientID,
	})
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("handler connector: %v\n%s", err, out)
	}
	for _, want := range []string{"Resource URL    " + connectorResource, "Client ID       " + connectorClientID, "redirect/hellofunction"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("handler connector output lacks %q:\n%s", want, out)
		}
	}
	return dir
}

// TestConnectorWritesTheGoldenFiles: the command writes, byte for byte,
// the files of connector/testdata/default, which the connector package's
// golden test holds to its generator for the same settings, and which the
// tools module runs swagger-cli, Spectral and Microsoft's schemas on
// (tools/connector_test.go). So what those validators pass is what the
// built binary writes.
func TestConnectorWritesTheGoldenFiles(t *testing.T) {
	t.Parallel()
	dir := writeConnector(t)
	golden := filepath.Join("..", "connector", "testdata", "default")
	want, err := os.ReadDir(golden)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 4 {
		t.Fatalf("%s holds %d files, want the connector's four", golden, len(want))
	}
	for _, de := range want {
		g, err := os.ReadFile(filepath.Join(golden, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Errorf("handler connector did not write %s: %v", de.Name(), err)
			continue
		}
		if !bytes.Equal(b, g) {
			t.Errorf("handler connector wrote a %s that is not %s:\n%s", de.Name(), filepath.Join(golden, de.Name()), b)
		}
	}
	got, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range got {
		// The marker that lists what the command wrote, so that a later
		// run may rewrite the folder.
		if _, err := os.Stat(filepath.Join(golden, de.Name())); err != nil && de.Name() != ".handler-connector" {
			t.Errorf("handler connector wrote %s, which %s does not have", de.Name(), golden)
		}
	}
}

func TestConnectorCollectionPassesNewman(t *testing.T) {
	t.Parallel()
	p := start(t, devEnv(t))
	dir := writeConnector(t)
	col := filepath.Join(dir, "HelloFunction.postman_collection.json")
	tok := p.token()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"env vars", []string{"--env-var", "baseUrl=" + p.base, "--env-var", "token=" + tok}},
		{"global vars", []string{"--global-var", "baseUrl=" + p.base, "--global-var", "token=" + tok}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			report := filepath.Join(t.TempDir(), "report.json")
			out, err := newmanRun(t, col, append(tc.args, "--reporters", "cli,json", "--reporter-json-export", report)...)
			if err != nil {
				t.Fatalf("newman: %v\n%s", err, out)
			}
			r := readNewmanReport(t, report)
			// Hello and Me, then the life of one task: create, list, get,
			// update with its ETag, update with the ETag that update
			// replaced, delete, get. Each request with its status, content
			// type and body checks: the run must have asserted, not just
			// called.
			want := []int{200, 200, 201, 200, 200, 200, 412, 204, 404}
			var got []int
			for _, e := range r.Run.Executions {
				got = append(got, e.Response.Code)
			}
			if !slices.Equal(got, want) || r.Run.Stats.Assertions.Failed != 0 || r.Run.Stats.Assertions.Total < 3*len(want) {
				t.Errorf("statuses %v, assertions %d (failed %d); want %v, at least %d assertions, none failed\n%s",
					got, r.Run.Stats.Assertions.Total, r.Run.Stats.Assertions.Failed, want, 3*len(want), out)
			}
		})
	}

	// The assertions can fail: a token without the required scope gets
	// 403, and a caller without variables is told what to set.
	t.Run("refused token fails the run", func(t *testing.T) {
		t.Parallel()
		report := filepath.Join(t.TempDir(), "report.json")
		out, err := newmanRun(t, col, "--env-var", "baseUrl="+p.base, "--env-var", "token="+p.token("--scope", "none"),
			"--reporters", "cli,json", "--reporter-json-export", report)
		if err == nil {
			t.Fatalf("newman passed with a token lacking the scope:\n%s", out)
		}
		r := readNewmanReport(t, report)
		refused := len(r.Run.Executions) > 0
		for _, e := range r.Run.Executions {
			refused = refused && e.Response.Code == 403
		}
		if r.Run.Stats.Assertions.Failed < len(r.Run.Executions) || !refused {
			t.Errorf("want every request refused with 403 and its checks failed; failed %d of %d\n%s",
				r.Run.Stats.Assertions.Failed, r.Run.Stats.Assertions.Total, out)
		}
	})
	t.Run("missing variables fail the run", func(t *testing.T) {
		t.Parallel()
		out, err := newmanRun(t, col, "--env-var", "token="+tok)
		if err == nil || !strings.Contains(out, "set the baseUrl variable") {
			t.Errorf("newman without baseUrl: err %v\n%s", err, out)
		}
	})
}

func TestTutorialCollectionPassesNewman(t *testing.T) {
	t.Parallel()
	// The tutorial's own Postman collection (v1, as the tutorial gives it),
	// with only its host and a bearer token changed, gets the tutorial's
	// example response to the letter.
	p := start(t, devEnv(t))
	raw, err := os.ReadFile(filepath.Join("testdata", "tutorial-custom-connector.json"))
	if err != nil {
		t.Fatal(err)
	}
	var col map[string]any
	if err := json.Unmarshal(raw, &col); err != nil {
		t.Fatal(err)
	}
	requests := col["requests"].([]any)
	if len(requests) != 1 {
		t.Fatalf("the tutorial's collection has %d requests, want 1", len(requests))
	}
	req := requests[0].(map[string]any)
	const tutorialBase = "http://localhost:7071"
	url := req["url"].(string)
	if !strings.HasPrefix(url, tutorialBase+"/") {
		t.Fatalf("the tutorial's request goes to %q", url)
	}
	req["url"] = p.base + strings.TrimPrefix(url, tutorialBase)
	// The token's user is not Marc: the greeting must come from the body.
	auth := "Bearer " + p.token("--name", "Someone Else")
	req["headers"] = req["headers"].(string) + "Authorization: " + auth + "\n"
	req["headerData"] = append(req["headerData"].([]any), map[string]any{"key": "Authorization", "value": auth, "description": "", "type": "text"})
	want := req["responses"].([]any)[0].(map[string]any)["text"].(string)

	edited := filepath.Join(t.TempDir(), "tutorial.json")
	b, _ := json.Marshal(col)
	if err := os.WriteFile(edited, b, 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "report.json")
	out, err := newmanRun(t, edited, "--reporters", "cli,json", "--reporter-json-export", report)
	if err != nil {
		t.Fatalf("newman: %v\n%s", err, out)
	}
	r := readNewmanReport(t, report)
	if len(r.Run.Executions) != 1 {
		t.Fatalf("%d executions, want 1\n%s", len(r.Run.Executions), out)
	}
	got := r.Run.Executions[0].Response
	if got.Code != 200 || string(got.Stream.Data) != want {
		t.Errorf("the tutorial's request got %d %q, want 200 %q", got.Code, got.Stream.Data, want)
	}
	if want != "Hello, Marc. This HTTP triggered function executed successfully." {
		t.Errorf("the tutorial's example response is %q", want)
	}
}

func TestConnectorDocsMatchTheCommand(t *testing.T) {
	t.Parallel()
	// docs/connector.md shows the command's real output, and names every
	// flag the command has.
	doc, err := os.ReadFile(filepath.Join("..", "docs", "connector.md"))
	if err != nil {
		t.Fatal(err)
	}
	const prompt = "$ ./handler connector "
	i := bytes.Index(doc, []byte(prompt))
	if i < 0 {
		t.Fatalf("docs/connector.md has no %q transcript", prompt)
	}
	line, rest, _ := strings.Cut(string(doc[i+len(prompt):]), "\n")
	shown, _, _ := strings.Cut(rest, "```")

	dir := t.TempDir()
	cmd := exec.Command(handlerBin, append([]string{"connector"}, strings.Fields(line)...)...)
	cmd.Dir, cmd.Env = dir, environ(nil)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s%s: %v\n%s", prompt, line, err, out)
	}
	if string(out) != shown {
		t.Errorf("docs/connector.md shows:\n%s\nthe command prints:\n%s", shown, out)
	}

	help, _ := exec.Command(handlerBin, "connector", "-h").Output()
	flags := 0
	for _, l := range strings.Split(string(help), "\n") {
		// The flag package lists each flag as "  -name type".
		f, ok := strings.CutPrefix(l, "  -")
		if !ok || strings.HasPrefix(f, "-") {
			continue
		}
		flags++
		name, _, _ := strings.Cut(f, " ")
		if !bytes.Contains(doc, []byte("`--"+name)) {
			t.Errorf("docs/connector.md does not name the flag --%s", name)
		}
	}
	if flags < 10 {
		t.Errorf("found %d flags in handler connector -h:\n%s", flags, help)
	}
}

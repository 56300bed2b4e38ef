package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The connector's files are checked offline by Node tools pinned in
// tools/package.json (installed by `make tools`): Microsoft's connector
// JSON schemas through ajv (tools/validate-schema.mjs), generic Swagger 2.0
// checks through swagger-cli, Power Platform's string rules through
// Spectral (tools/powerplatform.spectral.yaml), and Postman collections
// through newman. This file has the helpers that run them, the tests
// that hold the tools themselves to what they are for, on real connectors
// from microsoft/PowerPlatformConnectors (testdata/connectors) and on
// samples made here, and the tests that run them on the generated
// connector. (e2e runs the generated Postman collection against the
// built handler with newman.) See https://learn.microsoft.com/connectors/custom-connectors/coding-standards and microsoft/PowerPlatformConnectors (schemas/).

// requireToolsEnv, set to 1 (make test does), turns a missing tool into a
// failure instead of a skip, so that CI cannot pass by skipping.
const requireToolsEnv = "ENTRAFUNC_REQUIRE_TOOLS"

// toolTimeout bounds one run of a Node tool. Each takes about a second
// here; the margin is for a loaded CI machine.
const toolTimeout = 2 * time.Minute

// toolsDir is where make tools installs the tools: this folder.
const toolsDir = "."

// connectorSchemaDir holds Microsoft's connector schemas, copied unchanged.
var connectorSchemaDir = filepath.Join("testdata", "connector-schemas")

// missingTool skips the test, or fails it under ENTRAFUNC_REQUIRE_TOOLS=1.
func missingTool(t *testing.T, what string) {
	t.Helper()
	if os.Getenv(requireToolsEnv) == "1" {
		t.Fatalf("%s; %s=1, so this fails instead of skipping (make tools installs the tools)", what, requireToolsEnv)
	}
	t.Skipf("%s: run `make tools` to install the connector validators", what)
}

// nodePath returns the node executable on PATH.
func nodePath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		missingTool(t, "node is not on PATH (the tools need Node.js 18.18 or later)")
	}
	return p
}

// npmTool returns the absolute path of tools/node_modules/.bin/<name>.
// The .bin entries are node scripts, so node must be on PATH as well.
func npmTool(t *testing.T, name string) string {
	t.Helper()
	nodePath(t)
	p, err := filepath.Abs(filepath.Join(toolsDir, "node_modules", ".bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		missingTool(t, fmt.Sprintf("%s is not installed (%s)", name, p))
	}
	return p
}

// npmPackage checks that tools/node_modules has the package name (for
// those that come without a command, such as ajv).
func npmPackage(t *testing.T, name string) {
	t.Helper()
	nodePath(t)
	p := filepath.Join(toolsDir, "node_modules", filepath.FromSlash(name), "package.json")
	if _, err := os.Stat(p); err != nil {
		missingTool(t, fmt.Sprintf("the npm package %s is not installed (%s)", name, p))
	}
}

// toolResult is what one run of a tool printed.
type toolResult struct {
	stdout, stderr string
}

func (r toolResult) combined() string {
	switch {
	case r.stderr == "":
		return r.stdout
	case r.stdout == "":
		return r.stderr
	}
	return r.stdout + "\n" + r.stderr
}

// runTool runs bin with args under toolTimeout, with nothing inherited from
// the environment but PATH (and TMPDIR), a home of the test's own, and
// colour off so that output can be matched. err is an *exec.ExitError when
// the tool ran and failed; anything else means it could not be run, or
// ran out of time.
func runTool(t *testing.T, bin string, args ...string) (toolResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	env := map[string]string{
		"HOME":        t.TempDir(),
		"NO_COLOR":    "1",
		"FORCE_COLOR": "0",
		// Belt and braces: no install-analytics ping from a tool's
		// dependencies at run time either.
		"SCARF_ANALYTICS": "false",
	}
	if v := os.Getenv("TMPDIR"); v != "" {
		env["TMPDIR"] = v
	}
	cmd.Env = environ(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A grandchild that keeps the pipes open must not hang the test.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	res := toolResult{stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%s %s: no result within %v: %w", filepath.Base(bin), strings.Join(args, " "), toolTimeout, ctx.Err())
	}
	return res, err
}

// exitCode returns the tool's exit status, failing the test when it did
// not run to an exit at all.
func exitCode(t *testing.T, what string, res toolResult, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() < 0 {
		t.Fatalf("%s: %v\n%s", what, err, res.combined())
	}
	return exit.ExitCode()
}

// --- JSONC ---------------------------------------------------------------

// stripJSONC turns JSONC into JSON by blanking its // and /* */ comments.
// Each comment byte becomes a space and line breaks stay, so that offsets
// and line numbers in a later JSON error still point into the original.
// Slashes inside strings are text ("http://..."), and a backslash escapes
// the byte after it there, so an escaped quote does not end the string.
func stripJSONC(b []byte) ([]byte, error) {
	out := make([]byte, len(b))
	copy(out, b)
	blank := func(from, to int) {
		for i := from; i < to; i++ {
			if out[i] != '\n' && out[i] != '\r' {
				out[i] = ' '
			}
		}
	}
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '"':
			start := i
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return nil, fmt.Errorf("unterminated string at offset %d", start)
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '/':
			end := bytes.IndexByte(b[i:], '\n')
			if end < 0 {
				end = len(b) - i
			}
			blank(i, i+end)
			i += end - 1
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				return nil, fmt.Errorf("unterminated /* comment at offset %d", i)
			}
			blank(i, i+2+end+2)
			i += 2 + end + 1
		}
	}
	return out, nil
}

// --- schema widenings ----------------------------------------------------

// widening is one named departure from a published schema: where the 2020
// schemas reject what the Power Platform service accepts today
// (testdata/connector-schemas/README.md). apply patches a decoded schema
// and fails when the node it patches is missing, or already allows what
// it adds, so that a schema update cannot turn it into a silent no-op.
type widening struct {
	name, why string
	apply     func(schema map[string]any) error
}

// apiPropertiesWidenings widen paconn-apiProperties.schema.json. Only what
// a generated connector may use is widened: connectionParameterSets and
// scriptOperations, also accepted by the service, still fail.
var apiPropertiesWidenings = []widening{
	{
		name: `oAuthSettings.redirectMode "GlobalPerConnector"`,
		why: "The service gives each connector its own redirect URL with GlobalPerConnector " +
			"(…/redirect/<connector>); Microsoft's reviewers ask for it, but the schema's enum stops at Global and Direct.",
		apply: func(s map[string]any) error {
			return addEnumValue(s, "GlobalPerConnector", "definitions", "oAuthSettings", "properties", "redirectMode")
		},
	},
	{
		name: "aad customParameters.enableOnbehalfOfLogin",
		why: `The "Enable on-behalf-of login" switch is stored as customParameters.enableOnbehalfOfLogin; ` +
			"the schema's aad branch closes customParameters over resourceUri, loginUri and tenantId.",
		apply: func(s map[string]any) error {
			return allowOneOfProperty(s, "identityProvider: aad", "enableOnbehalfOfLogin",
				"definitions", "oAuthSettings")
		},
	},
}

// swaggerWidenings widen apiDefinition.swagger.schema.json. None is needed
// yet: the generated definition uses nothing the schema lacks (it writes
// no x-ms-openai-data, which the schema rejects).
var swaggerWidenings = []widening{}

// schemaObject walks keys from root and returns the object found there.
func schemaObject(root map[string]any, keys ...string) (map[string]any, error) {
	node := root
	for i, k := range keys {
		next, ok := node[k].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("schema has no object at /%s", strings.Join(keys[:i+1], "/"))
		}
		node = next
	}
	return node, nil
}

// addEnumValue adds value to the enum of the object at keys.
func addEnumValue(root map[string]any, value string, keys ...string) error {
	node, err := schemaObject(root, keys...)
	if err != nil {
		return err
	}
	enum, ok := node["enum"].([]any)
	if !ok {
		return fmt.Errorf("schema has no enum at /%s", strings.Join(keys, "/"))
	}
	if slices.Contains(enum, any(value)) {
		return fmt.Errorf("the enum at /%s already allows %q: the schema caught up, drop this widening", strings.Join(keys, "/"), value)
	}
	node["enum"] = append(enum, value)
	return nil
}

// allowOneOfProperty lets customParameters of the oneOf branch described as
// branch (of the object at keys) have prop, with any value, as the
// branch's own members do.
func allowOneOfProperty(root map[string]any, branch, prop string, keys ...string) error {
	node, err := schemaObject(root, keys...)
	if err != nil {
		return err
	}
	where := "/" + strings.Join(keys, "/") + "/oneOf"
	alts, ok := node["oneOf"].([]any)
	if !ok {
		return fmt.Errorf("schema has no oneOf at %s", where)
	}
	for _, a := range alts {
		alt, ok := a.(map[string]any)
		if !ok || alt["description"] != branch {
			continue
		}
		props, err := schemaObject(alt, "properties", "customParameters", "properties")
		if err != nil {
			return fmt.Errorf("%s branch %q: %v", where, branch, err)
		}
		if _, ok := props[prop]; ok {
			return fmt.Errorf("%s branch %q already allows customParameters.%s: the schema caught up, drop this widening", where, branch, prop)
		}
		props[prop] = map[string]any{}
		return nil
	}
	return fmt.Errorf("schema has no oneOf branch %q at %s", branch, where)
}

// loadSchema reads a schema of testdata/connector-schemas, strips its
// comments and applies widen, in order.
func loadSchema(t *testing.T, schemaFile string, widen []widening) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(connectorSchemaDir, schemaFile))
	if err != nil {
		t.Fatal(err)
	}
	strict, err := stripJSONC(raw)
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	var schema map[string]any
	dec := json.NewDecoder(bytes.NewReader(strict))
	dec.UseNumber() // keep numbers as written
	if err := dec.Decode(&schema); err != nil {
		t.Fatalf("%s, comments stripped: %v", schemaFile, err)
	}
	for _, w := range widen {
		if err := w.apply(schema); err != nil {
			t.Fatalf("%s: widening %q: %v", schemaFile, w.name, err)
		}
	}
	return schema
}

// writeSchema writes the stripped, widened schema as strict JSON into the
// test's own directory and returns its path.
func writeSchema(t *testing.T, schemaFile string, widen []widening) string {
	t.Helper()
	b, err := json.MarshalIndent(loadSchema(t, schemaFile, widen), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), schemaFile)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runSchemaValidator runs tools/validate-schema.mjs on a strict schema
// file and returns what it printed and its exit code (0 valid, 1 invalid,
// 2 unusable input).
func runSchemaValidator(t *testing.T, schemaPath string, docs ...string) (string, int) {
	t.Helper()
	node := nodePath(t)
	for _, pkg := range []string{"ajv", "ajv-draft-04", "ajv-formats"} {
		npmPackage(t, pkg)
	}
	script, err := filepath.Abs(filepath.Join(toolsDir, "validate-schema.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{script, schemaPath}
	for _, d := range docs {
		abs, err := filepath.Abs(d)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, abs)
	}
	res, err := runTool(t, node, args...)
	return res.combined(), exitCode(t, "validate-schema.mjs", res, err)
}

// validateAgainstSchema checks docs against schemaFile (a file of
// testdata/connector-schemas) with widen applied, and fails the test with
// the validator's report when any doc does not pass.
func validateAgainstSchema(t *testing.T, schemaFile string, widen []widening, docs ...string) {
	t.Helper()
	if out := schemaErrors(t, schemaFile, widen, docs...); out != "" {
		t.Errorf("%s (%d widenings) refuses %v:\n%s", schemaFile, len(widen), docs, out)
	}
}

// schemaErrors is validateAgainstSchema for negative tests: it returns the
// validator's report when a doc is invalid and "" when all are valid. A
// doc or schema that cannot be read or parsed fails the test, since that
// is no verdict on the doc.
func schemaErrors(t *testing.T, schemaFile string, widen []widening, docs ...string) string {
	t.Helper()
	out, code := runSchemaValidator(t, writeSchema(t, schemaFile, widen), docs...)
	switch code {
	case 0:
		return ""
	case 1:
		return out
	}
	t.Fatalf("validate-schema.mjs %s %v: exit %d\n%s", schemaFile, docs, code, out)
	return ""
}

// --- swagger-cli, Spectral, newman ----------------------------------------

// swaggerCLIRun runs `swagger-cli validate file` and returns its output;
// err is non-nil when swagger-cli rejects the file.
func swaggerCLIRun(t *testing.T, file string) (string, error) {
	t.Helper()
	res, err := runTool(t, npmTool(t, "swagger-cli"), "validate", file)
	exitCode(t, "swagger-cli", res, err)
	return res.combined(), err
}

// swaggerCLIValidate fails the test when swagger-cli rejects file: the
// generic Swagger 2.0 checks (structure, $refs, unique operationIds).
func swaggerCLIValidate(t *testing.T, file string) {
	t.Helper()
	if out, err := swaggerCLIRun(t, file); err != nil {
		t.Errorf("swagger-cli validate %s: %v\n%s", file, err, out)
	}
}

// spectralFinding is one result of Spectral's JSON output.
type spectralFinding struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Severity int    `json:"severity"` // 0 error, 1 warn, 2 info, 3 hint
	Path     []any  `json:"path"`
}

func (f spectralFinding) String() string {
	sev := fmt.Sprintf("severity %d", f.Severity)
	if f.Severity >= 0 && f.Severity < 4 {
		sev = []string{"error", "warn", "info", "hint"}[f.Severity]
	}
	path := make([]string, len(f.Path))
	for i, p := range f.Path {
		path[i] = fmt.Sprint(p)
	}
	return fmt.Sprintf("%s %s at %s: %s", sev, f.Code, strings.Join(path, "."), f.Message)
}

// spectralRun lints file with the repository's Power Platform ruleset and
// returns every finding, of any severity.
func spectralRun(t *testing.T, file string) []spectralFinding {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	return spectralRunFiles(t, file)[abs]
}

// spectralRunFiles lints files in one run of Spectral (each file is
// linted on its own; a run costs seconds of CPU, most of it Node loading
// Spectral) and returns every finding, of any severity, by the file's
// absolute path.
func spectralRunFiles(t *testing.T, files ...string) map[string][]spectralFinding {
	t.Helper()
	spectral := npmTool(t, "spectral")
	ruleset, err := filepath.Abs(filepath.Join(toolsDir, "powerplatform.spectral.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string][]spectralFinding{}
	args := []string{"lint"}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := byFile[abs]; dup {
			t.Fatalf("spectralRunFiles: %s given twice", abs)
		}
		byFile[abs] = nil
		args = append(args, abs)
	}
	// --fail-severity warn sets the exit code; the findings come from the
	// JSON report, so that a finding cannot hide behind an exit code.
	res, err := runTool(t, spectral, append(args, "--ruleset", ruleset, "--format", "json", "--fail-severity", "warn", "--quiet")...)
	code := exitCode(t, "spectral", res, err)
	var findings []struct {
		spectralFinding
		Source string `json:"source"`
	}
	if jerr := json.Unmarshal([]byte(res.stdout), &findings); jerr != nil {
		// Spectral prints no JSON when the ruleset or the document cannot
		// be loaded (exit 2).
		t.Fatalf("spectral lint %s: exit %d, output is not its JSON report (%v)\n%s", strings.Join(files, " "), code, jerr, res.combined())
	}
	failing := 0
	for _, f := range findings {
		if _, ok := byFile[f.Source]; !ok {
			t.Fatalf("spectral lint %s: a finding in %q, none of the files linted: %s", strings.Join(files, " "), f.Source, f.spectralFinding)
		}
		byFile[f.Source] = append(byFile[f.Source], f.spectralFinding)
		if f.Severity <= 1 {
			failing++
		}
	}
	if (code == 0) != (failing == 0) || code > 1 {
		t.Fatalf("spectral lint %s: exit %d with %d findings of warn or above\n%s", strings.Join(files, " "), code, failing, res.combined())
	}
	return byFile
}

// spectralLint fails the test on every error- or warn-level finding of the
// Power Platform ruleset. Warnings fail too: the ruleset turns off the
// spectral:oas rules that do not fit Power Platform, so what it still
// warns about (a missing operationId, an operation with no success
// response, an unused definition...) is to be fixed, not lived with. Info
// and hint findings are only logged.
func spectralLint(t *testing.T, file string) {
	t.Helper()
	reportSpectral(t, file, spectralRun(t, file))
}

// reportSpectral is spectralLint on findings already made.
func reportSpectral(t *testing.T, file string, findings []spectralFinding) {
	t.Helper()
	for _, f := range findings {
		if f.Severity <= 1 {
			t.Errorf("spectral: %s: %s", file, f)
		} else {
			t.Logf("spectral: %s: %s", file, f)
		}
	}
}

// newmanRun runs `newman run collection args...` (colour and Unicode
// symbols off) and returns newman's standard output, which carries the
// CLI reporter's run and failure summary. err is non-nil when the run
// failed (an *exec.ExitError, exit 1 on a failed assertion) and then also
// carries newman's standard error.
func newmanRun(t *testing.T, collection string, args ...string) (string, error) {
	t.Helper()
	newman := npmTool(t, "newman")
	res, err := runTool(t, newman, append([]string{"run", collection, "--color", "off", "--disable-unicode"}, args...)...)
	exitCode(t, "newman", res, err)
	if err != nil && res.stderr != "" {
		err = fmt.Errorf("%w\nnewman's stderr:\n%s", err, res.stderr)
	}
	return res.stdout, err
}

// --- tests of the tools --------------------------------------------------

func TestStripJSONC(t *testing.T) {
	t.Parallel()
	blank := func(s string) string { return strings.Repeat(" ", len(s)) }
	tests := []struct {
		name, in, want string
		err            bool
	}{
		{name: "no comments", in: `{"a": [1, 2], "b": "c"}`, want: `{"a": [1, 2], "b": "c"}`},
		{name: "line comment", in: "{\"a\": 1 // one\n}", want: "{\"a\": 1 " + blank("// one") + "\n}"},
		{name: "line comment at the end", in: "{}\n// done", want: "{}\n" + blank("// done")},
		{name: "block comment", in: `{/* x */"a": 1}`, want: `{` + blank("/* x */") + `"a": 1}`},
		{name: "block comment over lines keeps them", in: "{/* x\ny */}", want: "{    \n    }"},
		{name: "comment keeps CRLF", in: "1 // c\r\n", want: "1     \r\n"},
		{name: "url in a string", in: `{"$schema": "http://json-schema.org/draft-07/schema#"}`, want: `{"$schema": "http://json-schema.org/draft-07/schema#"}`},
		{name: "block opener in a string", in: `["/* not a comment */"]`, want: `["/* not a comment */"]`},
		{name: "escaped quote in a string", in: `["say \"//hi\" // there"] // c`, want: `["say \"//hi\" // there"] ` + blank("// c")},
		{name: "escaped backslash ends before the quote", in: `["a\\"] // c`, want: `["a\\"] ` + blank("// c")},
		{name: "slashes inside a comment", in: "1 /* // */ 2", want: "1 " + blank("/* // */") + " 2"},
		{name: "block opener inside a line comment", in: "1 // /* \n2", want: "1 " + blank("// /* ") + "\n2"},
		{name: "comment glued to a token does not join tokens", in: "1/**/2", want: "1    2"},
		{name: "lone slash is left for the JSON parser", in: `[1 / 2]`, want: `[1 / 2]`},
		{name: "unterminated block comment", in: "{} /* open", err: true},
		{name: "unterminated string", in: `{"a": "open}`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stripJSONC([]byte(tt.in))
			if tt.err {
				if err == nil {
					t.Fatalf("stripJSONC(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("stripJSONC(%q): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("stripJSONC(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestStripJSONCSchemas: each published schema is JSONC that becomes valid
// JSON once stripped, and stripping leaves strict JSON as it is.
func TestStripJSONCSchemas(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"apiDefinition.swagger.schema.json", "paconn-apiProperties.schema.json", "paconn-settings.schema.json"} {
		raw, err := os.ReadFile(filepath.Join(connectorSchemaDir, f))
		if err != nil {
			t.Fatal(err)
		}
		strict, err := stripJSONC(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !json.Valid(strict) {
			t.Errorf("%s is not valid JSON after stripping its comments", f)
		}
		if len(strict) != len(raw) {
			t.Errorf("%s: stripping changed the length from %d to %d", f, len(raw), len(strict))
		}
	}
	for _, f := range []string{"../e2e/testdata/tutorial-custom-connector.json", "testdata/spectral/good.swagger.json"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		strict, err := stripJSONC(raw)
		if err != nil || !bytes.Equal(strict, raw) {
			t.Errorf("%s: stripping strict JSON changed it (err %v)", f, err)
		}
	}
	// The apiProperties schema does carry a comment: the test above is not
	// vacuous.
	raw, _ := os.ReadFile(filepath.Join(connectorSchemaDir, "paconn-apiProperties.schema.json"))
	if json.Valid(raw) {
		t.Error("paconn-apiProperties.schema.json is strict JSON: has the copy been changed?")
	}
}

// TestSchemaWidenings: every widening applies to the published schema, and
// refuses to apply where the schema no longer has the node it patches, or
// already allows what it adds.
func TestSchemaWidenings(t *testing.T) {
	t.Parallel()
	all := map[string][]widening{
		"paconn-apiProperties.schema.json":  apiPropertiesWidenings,
		"apiDefinition.swagger.schema.json": swaggerWidenings,
	}
	for file, widen := range all {
		for _, w := range widen {
			if w.name == "" || w.why == "" || w.apply == nil {
				t.Errorf("%s: widening %+v needs a name, a reason and an apply", file, w)
				continue
			}
			schema := loadSchema(t, file, nil)
			if err := w.apply(schema); err != nil {
				t.Errorf("%s: widening %q: %v", file, w.name, err)
				continue
			}
			if err := w.apply(schema); err == nil || !strings.Contains(err.Error(), "drop this widening") {
				t.Errorf("%s: widening %q applied twice: err %v, want one saying the schema already allows it", file, w.name, err)
			}
			if err := w.apply(map[string]any{"definitions": map[string]any{}}); err == nil {
				t.Errorf("%s: widening %q applied to a schema without its node", file, w.name)
			}
		}
	}
	if len(apiPropertiesWidenings) != 2 {
		t.Errorf("%d apiProperties widenings; the README names two that a generated connector uses", len(apiPropertiesWidenings))
	}

	// Failures name the place.
	s := loadSchema(t, "paconn-apiProperties.schema.json", nil)
	delete(s["definitions"].(map[string]any)["oAuthSettings"].(map[string]any)["properties"].(map[string]any), "redirectMode")
	err := apiPropertiesWidenings[0].apply(s)
	if err == nil || !strings.Contains(err.Error(), "/definitions/oAuthSettings/properties/redirectMode") {
		t.Errorf("redirectMode widening on a schema without redirectMode: %v", err)
	}
	s = loadSchema(t, "paconn-apiProperties.schema.json", nil)
	for _, a := range s["definitions"].(map[string]any)["oAuthSettings"].(map[string]any)["oneOf"].([]any) {
		a.(map[string]any)["description"] = "renamed"
	}
	err = apiPropertiesWidenings[1].apply(s)
	if err == nil || !strings.Contains(err.Error(), `"identityProvider: aad"`) {
		t.Errorf("aad widening on a schema without the aad branch: %v", err)
	}
}

const (
	apiPropertiesSchemaFile = "paconn-apiProperties.schema.json"
	swaggerSchemaFile       = "apiDefinition.swagger.schema.json"
)

// realConnectorFile is a file of testdata/connectors.
func realConnectorFile(name, file string) string {
	return filepath.Join("testdata", "connectors", name, file)
}

// TestSchemaRealAPIProperties: real AAD connectors from
// microsoft/PowerPlatformConnectors. The classic Global shapes pass the
// published schema; CM Informatik's current shape (GlobalPerConnector,
// on-behalf-of) passes only widened, and needs each widening.
func TestSchemaRealAPIProperties(t *testing.T) {
	t.Parallel()
	validateAgainstSchema(t, apiPropertiesSchemaFile, nil,
		realConnectorFile("AzureADPhoneMethods", "apiProperties.json"),
		realConnectorFile("CompanyConnect", "apiProperties.json"))

	cmi := realConnectorFile("CM Informatik AG", "apiProperties.json")
	validateAgainstSchema(t, apiPropertiesSchemaFile, apiPropertiesWidenings, cmi)

	out := schemaErrors(t, apiPropertiesSchemaFile, nil, cmi)
	for _, want := range []string{
		`/properties/connectionParameters/token/oAuthSettings/redirectMode must be equal to one of the allowed values`,
		`additionalProperty: "enableOnbehalfOfLogin"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the published schema's report on CM Informatik lacks %q:\n%s", want, out)
		}
	}
	for i, w := range apiPropertiesWidenings {
		others := slices.Delete(slices.Clone(apiPropertiesWidenings), i, i+1)
		if schemaErrors(t, apiPropertiesSchemaFile, others, cmi) == "" {
			t.Errorf("CM Informatik passes without the widening %q", w.name)
		}
	}
}

// TestSchemaRealSwaggers: the swagger schema (draft-04, through
// ajv-draft-04) accepts real connector definitions and the sample here.
func TestSchemaRealSwaggers(t *testing.T) {
	t.Parallel()
	validateAgainstSchema(t, swaggerSchemaFile, swaggerWidenings,
		realConnectorFile("AzureADPhoneMethods", "apiDefinition.swagger.json"),
		realConnectorFile("CompanyConnect", "apiDefinition.swagger.json"),
		goodSwagger)
}

// TestSchemaRejectsSwaggerMistakes: the swagger schema knows the x-ms
// extensions (the part swagger-cli cannot check).
func TestSchemaRejectsSwaggerMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(t *testing.T, doc map[string]any)
		want   string
	}{
		{"x-ms-visibility hidden", func(t *testing.T, doc map[string]any) { sampleHelloOp(t, doc)["x-ms-visibility"] = "hidden" },
			`/paths/~1Hello/post/x-ms-visibility must be equal to one of the allowed values`},
		{"unknown operation extension", func(t *testing.T, doc map[string]any) { sampleHelloOp(t, doc)["x-ms-openai-data"] = map[string]any{} },
			`additionalProperty: "x-ms-openai-data"`},
		{"host with a scheme", func(t *testing.T, doc map[string]any) { doc["host"] = "https://greeting-sample.azurewebsites.net" },
			`/host must match pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bad := mutatedSample(t, tt.mutate)
			if out := schemaErrors(t, swaggerSchemaFile, swaggerWidenings, bad); !strings.Contains(out, tt.want) {
				t.Errorf("report lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

// TestSchemaValidatorExitCodes: 0 valid, 1 invalid, 2 for input that is
// no verdict on the document.
func TestSchemaValidatorExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	schema := write("schema.json", `{"$schema": "http://json-schema.org/draft-07/schema#", "id": "legacy", "type": "object",
		"required": ["name"], "additionalProperties": false,
		"properties": {"name": {"type": "string"}, "site": {"type": "string", "format": "uri"}, "mode": {"enum": ["Global", "Direct"]}}}`)
	good := write("good.json", `{"name": "x", "site": "https://example.com", "mode": "Global"}`)
	bad := write("bad.json", `{"site": "not a uri", "mode": "GlobalPerConnector", "extra": 1}`)
	broken := write("broken.json", `{"name": `)
	draft04 := write("draft04.json", `{"$schema": "http://json-schema.org/draft-04/schema#", "id": "http://example.com/s#",
		"type": "object", "properties": {"n": {"type": "number", "minimum": 0, "exclusiveMinimum": true}}}`)
	zero := write("zero.json", `{"n": 0}`)

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"valid", []string{schema, good}, 0, []string{good + ": valid"}},
		{"invalid", []string{schema, good, bad}, 1, []string{
			good + ": valid",
			bad + ": / must have required property 'name' (#/required)",
			bad + `: / must NOT have additional properties (#/additionalProperties) [additionalProperty: "extra"]`,
			bad + `: /site must match format "uri" (#/properties/site/format)`,
			bad + `: /mode must be equal to one of the allowed values (#/properties/mode/enum) [allowed: "Global", "Direct"]`,
		}},
		{"draft-04 boolean exclusiveMinimum", []string{draft04, zero}, 1, []string{zero + ": /n must be > 0"}},
		{"unparseable document", []string{schema, broken, bad}, 2, []string{broken + ": cannot parse", bad + ": / must have required property 'name'"}},
		{"missing document", []string{schema, filepath.Join(dir, "nope.json")}, 2, []string{"nope.json: cannot read"}},
		{"unparseable schema", []string{broken, good}, 2, []string{broken + ": cannot parse"}},
		{"no document", []string{schema}, 2, []string{"usage:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, code := runSchemaValidator(t, tt.args[0], tt.args[1:]...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// goodSwagger is the sample definition that the Spectral, swagger-cli and
// schema tests start from.
var goodSwagger = filepath.Join("testdata", "spectral", "good.swagger.json")

// swaggerObj returns the object at keys in a decoded document.
func swaggerObj(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("sample has no object at %q", k)
		}
		v = m[k]
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("sample has no object at %v", keys)
	}
	return m
}

// sampleHelloOp is the sample's POST /Hello operation.
func sampleHelloOp(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	return swaggerObj(t, doc, "paths", "/Hello", "post")
}

// mutatedSample writes the sample, changed by mutate, into the test's own
// directory and returns its path.
func mutatedSample(t *testing.T, mutate func(t *testing.T, doc map[string]any)) string {
	t.Helper()
	raw, err := os.ReadFile(goodSwagger)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	mutate(t, doc)
	b, err := json.MarshalIndent(doc, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "apiDefinition.swagger.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSpectralGoodSwagger: the sample passes the ruleset, and swagger-cli.
// It has no info.contact and no tags, so this also holds the spectral:oas
// rules turned off for Power Platform (info-contact, operation-tags) off.
func TestSpectralGoodSwagger(t *testing.T) {
	t.Parallel()
	findings := spectralRun(t, goodSwagger)
	reportSpectral(t, goodSwagger, findings)
	swaggerCLIValidate(t, goodSwagger)
	if len(findings) != 0 {
		t.Errorf("the sample has findings below warn as well: %v", findings)
	}
}

// TestSpectralBadSwaggers: each change breaks one Power Platform rule, and
// Spectral reports it under that rule's code.
func TestSpectralBadSwaggers(t *testing.T) {
	t.Parallel()
	set := func(field string, v any) func(t *testing.T, doc map[string]any) {
		return func(t *testing.T, doc map[string]any) { sampleHelloOp(t, doc)[field] = v }
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, doc map[string]any)
		code   string
	}{
		{"title with API", func(t *testing.T, doc map[string]any) { swaggerObj(t, doc, "info")["title"] = "Greeting API" }, "pp-info-title-words"},
		{"title with connector", func(t *testing.T, doc map[string]any) { swaggerObj(t, doc, "info")["title"] = "greeting CONNECTOR" }, "pp-info-title-words"},
		{"title with a product name", func(t *testing.T, doc map[string]any) {
			swaggerObj(t, doc, "info")["title"] = "Greetings for Power Automate"
		}, "pp-info-title-product"},
		{"title too long", func(t *testing.T, doc map[string]any) {
			swaggerObj(t, doc, "info")["title"] = "Greeting Service for Every Team"
		}, "pp-info-title-length"},
		{"title ends in punctuation", func(t *testing.T, doc map[string]any) { swaggerObj(t, doc, "info")["title"] = "Greetings!" }, "pp-info-title-end"},
		{"description too short", func(t *testing.T, doc map[string]any) { swaggerObj(t, doc, "info")["description"] = "Greets people." }, "pp-info-description-length"},
		{"no description", func(t *testing.T, doc map[string]any) { delete(swaggerObj(t, doc, "info"), "description") }, "pp-info-description-length"},
		{"no summary", func(t *testing.T, doc map[string]any) { delete(sampleHelloOp(t, doc), "summary") }, "pp-operation-summary-required"},
		{"long summary", set("summary", "Greet a person "+strings.Repeat("very ", 14)+"warmly"), "pp-operation-summary-length"},
		{"summary with a slash", set("summary", "Greet a person or group"+"/team"), "pp-operation-summary-slash"},
		{"summary in lower case", set("summary", "greet a person"), "pp-operation-summary-case"},
		{"summary with a trailing period", set("summary", "Greet a person."), "pp-operation-summary-end"},
		{"summary with a trailing space", set("summary", "Greet a person "), "pp-operation-summary-end"},
		{"no operation description", func(t *testing.T, doc map[string]any) { delete(sampleHelloOp(t, doc), "description") }, "pp-operation-description-required"},
		{"description without a period", set("description", "Posts the name and returns a greeting"), "pp-operation-description-period"},
		{"description repeats the summary", set("description", "Greet a person."), "pp-operation-summary-description-differ"},
		{"camelCase operationId", set("operationId", "greetPerson"), "pp-operation-id-pascal-case"},
		{"snake_case operationId", set("operationId", "Greet_Person"), "pp-operation-id-pascal-case"},
		{"x-ms-visibility hidden", set("x-ms-visibility", "hidden"), "pp-x-ms-visibility"},
		{"x-ms-visibility hidden on a definition property", func(t *testing.T, doc map[string]any) {
			swaggerObj(t, doc, "definitions", "GreetingRequest", "properties", "name")["x-ms-visibility"] = "hidden"
		}, "pp-x-ms-visibility"},
		{"parameter without x-ms-summary", func(t *testing.T, doc map[string]any) {
			delete(swaggerObj(t, doc, "paths", "/Me", "get")["parameters"].([]any)[0].(map[string]any), "x-ms-summary")
		}, "pp-parameter-summary-required"},
		{"parameter x-ms-summary too long", func(t *testing.T, doc map[string]any) {
			sampleHelloOp(t, doc)["parameters"].([]any)[0].(map[string]any)["x-ms-summary"] = strings.Repeat("Request ", 11)
		}, "pp-parameter-summary-length"},
		{"definition property without description", func(t *testing.T, doc map[string]any) {
			delete(swaggerObj(t, doc, "definitions", "Greeting", "properties", "message"), "description")
		}, "pp-response-property-description"},
		{"inline response property description without a period", func(t *testing.T, doc map[string]any) {
			swaggerObj(t, doc, "paths", "/Me", "get", "responses", "200", "schema", "properties", "roles")["description"] = "The roles"
		}, "pp-response-property-description"},
		{"response property without x-ms-summary", func(t *testing.T, doc map[string]any) {
			delete(swaggerObj(t, doc, "paths", "/Me", "get", "responses", "200", "schema", "properties", "name"), "x-ms-summary")
		}, "pp-response-property-summary"},
		// A spectral:oas rule that stays on, at warn: it fails too.
		{"no success response", func(t *testing.T, doc map[string]any) {
			delete(swaggerObj(t, doc, "paths", "/Hello", "post", "responses"), "200")
		}, "operation-success-response"},
	}
	// One Spectral run lints every sample: Node loading Spectral is most
	// of a run's cost.
	bad := make([]string, len(tests))
	for i, tt := range tests {
		bad[i] = mutatedSample(t, tt.mutate)
	}
	found := spectralRunFiles(t, bad...)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			abs, err := filepath.Abs(bad[i])
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, f := range found[abs] {
				if f.Severity <= 1 {
					codes = append(codes, f.Code)
				}
			}
			if !slices.Contains(codes, tt.code) {
				t.Errorf("spectral reported %v, want %s", codes, tt.code)
			}
		})
	}
}

// TestSwaggerCLIRejects: the generic Swagger 2.0 mistakes that the string
// rules do not cover.
func TestSwaggerCLIRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(t *testing.T, doc map[string]any)
		want   string
	}{
		{"duplicate operationId", func(t *testing.T, doc map[string]any) {
			swaggerObj(t, doc, "paths", "/Me", "get")["operationId"] = sampleHelloOp(t, doc)["operationId"]
		}, "Validation failed. Duplicate operation id 'GreetPerson'"},
		{"missing responses", func(t *testing.T, doc map[string]any) { delete(sampleHelloOp(t, doc), "responses") }, "must have required property 'responses'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := swaggerCLIRun(t, mutatedSample(t, tt.mutate))
			if err == nil {
				t.Fatalf("swagger-cli accepted it:\n%s", out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("swagger-cli's output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

// TestSwaggerCLIRealConnectors: real definitions pass swagger-cli.
func TestSwaggerCLIRealConnectors(t *testing.T) {
	t.Parallel()
	swaggerCLIValidate(t, realConnectorFile("AzureADPhoneMethods", "apiDefinition.swagger.json"))
	swaggerCLIValidate(t, realConnectorFile("CompanyConnect", "apiDefinition.swagger.json"))
}

// TestNewmanRunsCollections: newmanRun passes a v2.1 collection whose
// assertions hold against a local server, and fails (exit 1) one whose
// assertion does not.
func TestNewmanRunsCollections(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "Hello, %s.", r.URL.Query().Get("name"))
	}))
	defer srv.Close()
	collection := func(wantBody string) string {
		col := map[string]any{
			"info": map[string]any{
				"name":   "tools test",
				"schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
			},
			"item": []any{map[string]any{
				"name":    "Hello",
				"request": map[string]any{"method": "GET", "url": "{{baseUrl}}/api/Hello?name=Ada"},
				"event": []any{map[string]any{
					"listen": "test",
					"script": map[string]any{"type": "text/javascript", "exec": []any{
						`pm.test("greets Ada", function () {`,
						`    pm.response.to.have.status(200);`,
						`    pm.expect(pm.response.text()).to.eql(` + fmt.Sprintf("%q", wantBody) + `);`,
						`});`,
					}},
				}},
			}},
		}
		b, err := json.Marshal(col)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "hello.postman_collection.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	out, err := newmanRun(t, collection("Hello, Ada."), "--env-var", "baseUrl="+srv.URL)
	if err != nil {
		t.Fatalf("newman: %v\n%s", err, out)
	}
	if !strings.Contains(out, "greets Ada") {
		t.Errorf("newman's output does not name the test:\n%s", out)
	}

	out, err = newmanRun(t, collection("Hello, Bob."), "--env-var", "baseUrl="+srv.URL)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("newman with a failing assertion: err %v, want exit 1\n%s", err, out)
	}
	if !strings.Contains(out, "AssertionError") {
		t.Errorf("newman's output does not show the failed assertion:\n%s", out)
	}
}

// TestToolsPackagePinned: tools/package.json pins exact versions, and the
// lockfile records the same ones, so that `npm ci` installs what was tested.
func TestToolsPackagePinned(t *testing.T) {
	t.Parallel()
	var pkg struct {
		Name         string
		Private      bool
		Engines      map[string]string
		Dependencies map[string]string
	}
	readJSON(t, "tools/package.json", &pkg)
	if pkg.Name != "entrafunc-tools" || !pkg.Private || pkg.Engines["node"] == "" {
		t.Errorf("tools/package.json: name %q, private %v, engines %v", pkg.Name, pkg.Private, pkg.Engines)
	}
	want := []string{"newman", "@apidevtools/swagger-cli", "@stoplight/spectral-cli", "ajv", "ajv-draft-04", "ajv-formats"}
	for _, name := range want {
		if _, ok := pkg.Dependencies[name]; !ok {
			t.Errorf("tools/package.json does not depend on %s", name)
		}
	}
	var lock struct {
		LockfileVersion int
		Packages        map[string]struct{ Version string }
	}
	readJSON(t, "tools/package-lock.json", &lock)
	if lock.LockfileVersion < 2 {
		t.Errorf("tools/package-lock.json lockfileVersion %d; npm 7 or later writes 2 or 3", lock.LockfileVersion)
	}
	for name, v := range pkg.Dependencies {
		if strings.ContainsAny(v, "^~<>*xX| ") || strings.Count(v, ".") != 2 {
			t.Errorf("tools/package.json: %s %q is not an exact version", name, v)
		}
		if got := lock.Packages["node_modules/"+name].Version; got != v {
			t.Errorf("tools/package-lock.json has %s %q, package.json %q: run npm install in tools/", name, got, v)
		}
	}
}

// --- the generated connector ---------------------------------------------

// generatedConnectorFile is a file of connector/testdata/default: what the
// generator writes for the API that accepts api://hello-fn and admits one
// client app. The connector package's golden test holds those files to
// the generator byte for byte, and e2e's TestConnectorWritesTheGoldenFiles
// holds what the built binary's connector command writes to them.
func generatedConnectorFile(file string) string {
	return filepath.Join("..", "connector", "testdata", "default", file)
}

func TestConnectorDefinitionPassesTheTools(t *testing.T) {
	t.Parallel()
	def := generatedConnectorFile("apiDefinition.swagger.json")
	swaggerCLIValidate(t, def)
	spectralLint(t, def)
	validateAgainstSchema(t, swaggerSchemaFile, swaggerWidenings, def)
}

func TestConnectorPropertiesPassTheSchema(t *testing.T) {
	t.Parallel()
	props := generatedConnectorFile("apiProperties.json")
	validateAgainstSchema(t, apiPropertiesSchemaFile, apiPropertiesWidenings, props)
	validateAgainstSchema(t, "paconn-settings.schema.json", nil, generatedConnectorFile("settings.json"))

	// Each widening is needed: without it the schema refuses the file,
	// at the very member the widening names.
	for i, w := range apiPropertiesWidenings {
		others := slices.Delete(slices.Clone(apiPropertiesWidenings), i, i+1)
		if schemaErrors(t, apiPropertiesSchemaFile, others, props) == "" {
			t.Errorf("widening %q: the generated file passes without it; drop the widening", w.name)
		}
	}
}

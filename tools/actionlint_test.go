package tools

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// The workflows cannot run here (they need GitHub and Azure), so they are
// checked as files: actionlint for the syntax, expressions, action inputs
// (it knows the inputs of the popular actions, azure/login and
// functions-action among them) and, through shellcheck, the run: scripts;
// then the deployment rules below.

// newLinter returns an actionlint linter that runs shellcheck on every
// run: script. Without shellcheck on PATH the scripts go unchecked:
// that fails when ENTRAFUNC_REQUIRE_TOOLS=1 (make test, CI), and is only
// logged for a bare go test.
func newLinter(t *testing.T) *actionlint.Linter {
	t.Helper()
	opts := &actionlint.LinterOptions{}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	} else if os.Getenv("ENTRAFUNC_REQUIRE_TOOLS") == "1" {
		t.Fatal("shellcheck is not on PATH, and ENTRAFUNC_REQUIRE_TOOLS=1 needs it to check the workflows' run: scripts (on Debian: apt-get install shellcheck)")
	} else {
		t.Log("shellcheck is not on PATH: run: scripts are not checked")
	}
	l, err := actionlint.NewLinter(io.Discard, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func workflowFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join("..", ".github", "workflows", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no workflows in ../.github/workflows")
	}
	return files
}

func TestActionlint(t *testing.T) {
	l := newLinter(t)
	errs, err := l.LintFiles(workflowFiles(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Error(e)
	}
}

// TestActionlintCatches: the linter as configured above reports what it
// should, shellcheck findings included, so a green TestActionlint means
// something.
func TestActionlintCatches(t *testing.T) {
	l := newLinter(t)
	const good = `name: x
on: push
permissions:
  contents: read
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-go@v6
        with:
          go-version-file: go.mod
      - run: echo "$HOME"
`
	cases := []struct {
		name, old, new, kind string
		shellcheck           bool
	}{
		{"unknown action input", "go-version-file:", "go-version-fil:", "action", false},
		{"unknown context", `echo "$HOME"`, `echo "${{ secret.X }}"`, "expression", false},
		{"unquoted variable", `echo "$HOME"`, `echo $HOME`, "shellcheck", true},
	}
	if errs, err := l.Lint("good.yml", []byte(good), nil); err != nil || len(errs) > 0 {
		t.Fatalf("the base workflow is not clean: %v %v", err, errs)
	}
	_, haveShellcheck := exec.LookPath("shellcheck")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.shellcheck && haveShellcheck != nil {
				t.Skip("shellcheck is not on PATH")
			}
			errs, err := l.Lint("bad.yml", []byte(strings.Replace(good, tc.old, tc.new, 1)), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range errs {
				if e.Kind == tc.kind {
					return
				}
			}
			t.Errorf("no %s error; got %v", tc.kind, errs)
		})
	}
}

// checkDeployWorkflow holds the deployment to the rules that keep it
// secret-free and the handler executable; it returns what it finds wrong.
func checkDeployWorkflow(src []byte) (problems []string) {
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	w, errs := actionlint.Parse(src)
	if len(errs) > 0 || w == nil {
		for _, e := range errs {
			fail("parse: %v", e)
		}
		return append(problems, "deploy.yml does not parse")
	}
	if w.Permissions == nil || w.Permissions.All != nil || len(w.Permissions.Scopes) != 1 || value(w.Permissions.Scopes["contents"]) != "read" {
		fail("the workflow's permissions must be contents: read only; the deploy job asks for id-token itself")
	}
	deployed := false
	for id, job := range w.Jobs {
		var login, deploy *actionlint.ExecAction
		for _, st := range job.Steps {
			a, ok := st.Exec.(*actionlint.ExecAction)
			if !ok {
				continue
			}
			uses := strings.ToLower(a.Uses.Value)
			switch {
			case strings.HasPrefix(uses, "azure/login@"):
				login = a
			case strings.HasPrefix(uses, "azure/functions-action@"):
				deploy = a
			}
			for name := range a.Inputs {
				if name == "publish-profile" || name == "creds" {
					fail("job %s: %s is given %s: deploy with OIDC (azure/login client-id, tenant-id, subscription-id), not a stored credential", id, a.Uses.Value, name)
				}
			}
			for name, in := range a.Inputs {
				if strings.Contains(in.Value.Value, "secrets.") {
					fail("job %s: %s input %s reads a secret: the deployment needs none", id, a.Uses.Value, name)
				}
			}
		}
		if deploy == nil {
			if job.Permissions != nil && job.Permissions.Scopes["id-token"] != nil {
				fail("job %s asks for id-token but does not deploy", id)
			}
			continue
		}
		deployed = true
		if job.Environment == nil || job.Environment.Name == nil || job.Environment.Name.Value != "production" {
			fail("job %s deploys without environment: production", id)
		}
		if job.Permissions == nil || value(job.Permissions.Scopes["id-token"]) != "write" || value(job.Permissions.Scopes["contents"]) != "read" || len(job.Permissions.Scopes) != 2 {
			fail("job %s must have exactly permissions id-token: write and contents: read", id)
		}
		if login == nil {
			fail("job %s deploys without azure/login", id)
		} else {
			for _, in := range []string{"client-id", "tenant-id", "subscription-id"} {
				v := input(login, in)
				if !strings.HasPrefix(v, "${{ vars.") {
					fail("job %s: azure/login %s is %q: take it from a vars. variable", id, in, v)
				}
			}
		}
		if pkg := input(deploy, "package"); pkg != "dist/functionapp.zip" {
			fail("job %s: functions-action package is %q: deploy dist/functionapp.zip, the zip that carries the handler's mode 0755", id, pkg)
		}
		if !strings.HasPrefix(input(deploy, "app-name"), "${{ vars.") {
			fail("job %s: functions-action app-name must come from a vars. variable", id)
		}
		for _, in := range []string{"scm-do-build-during-deployment", "enable-oryx-build", "remote-build"} {
			if v := input(deploy, in); v == "true" {
				fail("job %s: functions-action %s: true would rebuild a package that is already built", id, in)
			}
		}
	}
	if !deployed {
		fail("no job deploys with Azure/functions-action")
	}
	events := []string{}
	for _, e := range w.On {
		events = append(events, e.EventName())
	}
	if !slices.Contains(events, "push") || !slices.Contains(events, "workflow_dispatch") {
		fail("deploy.yml must run on push (to main) and workflow_dispatch; it runs on %s", strings.Join(events, ", "))
	}
	return problems
}

func value(s *actionlint.PermissionScope) string {
	if s == nil || s.Value == nil {
		return ""
	}
	return s.Value.Value
}

func input(a *actionlint.ExecAction, name string) string {
	in := a.Inputs[name]
	if in == nil || in.Value == nil {
		return ""
	}
	return in.Value.Value
}

func readDeployWorkflow(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../.github/workflows/deploy.yml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeployWorkflow(t *testing.T) {
	for _, p := range checkDeployWorkflow([]byte(readDeployWorkflow(t))) {
		t.Error(p)
	}
}

func TestDeployWorkflowMutations(t *testing.T) {
	orig := readDeployWorkflow(t)
	cases := []struct{ name, old, new, want string }{
		{"a folder instead of the zip", "package: dist/functionapp.zip", "package: dist", "deploy dist/functionapp.zip"},
		{"publish profile", "package: dist/functionapp.zip", "package: dist/functionapp.zip\n          publish-profile: ${{ secrets.PROFILE }}", "publish-profile"},
		{"no environment", "    environment: production\n", "", "without environment: production"},
		{"id-token for the whole workflow", "permissions:\n  contents: read\n", "permissions:\n  contents: read\n  id-token: write\n", "contents: read only"},
		{"no id-token", "      id-token: write\n", "", "id-token: write"},
		{"client id as a secret", "client-id: ${{ vars.AZURE_CLIENT_ID }}", "client-id: ${{ secrets.AZURE_CLIENT_ID }}", "azure/login client-id"},
		{"remote build", "remote-build: false", "remote-build: true", "remote-build"},
		{"no manual run", "  workflow_dispatch:\n", "", "workflow_dispatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(orig, tc.old) {
				t.Fatalf("deploy.yml no longer contains %q: update this mutation", tc.old)
			}
			problems := checkDeployWorkflow([]byte(strings.Replace(orig, tc.old, tc.new, 1)))
			for _, p := range problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got %q", tc.want, problems)
		})
	}
}

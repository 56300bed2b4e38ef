package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// newman, pinned in tools/package.json and installed by `make tools`, runs
// the connector's Postman collection against the handler. The tools module
// (tools/connector_test.go) holds newman itself, and the other validators,
// to what they are for; this file only runs it. See
// https://learn.microsoft.com/connectors/custom-connectors/coding-standards.

// requireToolsEnv, set to 1 (make test does), turns a missing tool into a
// failure instead of a skip, so that CI cannot pass by skipping.
const requireToolsEnv = "ENTRAFUNC_REQUIRE_TOOLS"

// toolTimeout bounds one run of newman. It takes about a second here; the
// margin is for a loaded CI machine.
const toolTimeout = 2 * time.Minute

// newmanBin returns the absolute path of tools/node_modules/.bin/newman,
// a node script, so node must be on PATH as well. It skips the test when
// either is missing, or fails it under ENTRAFUNC_REQUIRE_TOOLS=1.
func newmanBin(t *testing.T) string {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv(requireToolsEnv) == "1" {
			t.Fatalf("%s; %s=1, so this fails instead of skipping (make tools installs the tools)", what, requireToolsEnv)
		}
		t.Skipf("%s: run `make tools` to install the connector validators", what)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not on PATH (the tools need Node.js 18.18 or later)")
	}
	p, err := filepath.Abs(filepath.Join("..", "tools", "node_modules", ".bin", "newman"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		missing(fmt.Sprintf("newman is not installed (%s)", p))
	}
	return p
}

// newmanRun runs `newman run collection args...` (colour and Unicode
// symbols off) under toolTimeout, with nothing inherited from the
// environment but PATH (and TMPDIR) and a home of the test's own, and
// returns newman's standard output, which carries the CLI reporter's run
// and failure summary. err is non-nil when the run failed (an
// *exec.ExitError, exit 1 on a failed assertion) and then also carries
// newman's standard error; a run that did not get to an exit fails the
// test.
func newmanRun(t *testing.T, collection string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, newmanBin(t), append([]string{"run", collection, "--color", "off", "--disable-unicode"}, args...)...)
	env := map[string]string{
		"HOME":        t.TempDir(),
		"NO_COLOR":    "1",
		"FORCE_COLOR": "0",
		// No install-analytics ping from a dependency at run time.
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
	if ctx.Err() != nil {
		t.Fatalf("newman run %s: no result within %v: %v\n%s\n%s", collection, toolTimeout, ctx.Err(), stdout.String(), stderr.String())
	}
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() < 0 {
			t.Fatalf("newman: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		if stderr.Len() > 0 {
			err = fmt.Errorf("%w\nnewman's stderr:\n%s", err, stderr.String())
		}
	}
	return stdout.String(), err
}

// newmanReport is what the tests read of newman's JSON report.
type newmanReport struct {
	Run struct {
		Stats struct {
			Requests   struct{ Total, Failed int } `json:"requests"`
			Assertions struct{ Total, Failed int } `json:"assertions"`
		} `json:"stats"`
		Executions []struct {
			Response struct {
				Code   int `json:"code"`
				Stream struct {
					Data bytesArray `json:"data"`
				} `json:"stream"`
			} `json:"response"`
		} `json:"executions"`
	} `json:"run"`
}

// bytesArray decodes a Node Buffer serialised as an array of numbers.
type bytesArray []byte

func (b *bytesArray) UnmarshalJSON(data []byte) error {
	var nums []int
	if err := json.Unmarshal(data, &nums); err != nil {
		return err
	}
	out := make([]byte, len(nums))
	for i, n := range nums {
		out[i] = byte(n)
	}
	*b = out
	return nil
}

func readNewmanReport(t *testing.T, path string) newmanReport {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r newmanReport
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&r); err != nil {
		t.Fatalf("newman's report: %v", err)
	}
	return r
}

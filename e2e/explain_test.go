package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/entratest"
)

// TestExplainBinary runs the built binary as an operator does, handler
// explain --online - with the token on standard input, against the local
// issuer: the exit status is the verdict (0 accepted, 1 refused, 2 not
// judged), and neither output holds the token's signature. The
// environment is the test's alone (environ), so the developer's own
// AUTH_* settings cannot change a verdict.
func TestExplainBinary(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	good := is.Mint(entratest.Token{})
	// Signed by a key the tenant does not publish: only --online, which
	// loads the tenant's keys, can tell.
	unknown := is.Mint(entratest.Token{KeyID: "not-published"})
	env := jwtEnv(is)
	cases := []struct {
		name   string
		args   []string
		token  string
		env    map[string]string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "a good token", args: []string{"--online", "-"}, token: good, code: 0,
			stdout: []string{"signature: checked", "verdict: ACCEPTED: the server answers 200"}},
		{name: "a good v1 token", args: []string{"--online", "-"}, token: is.Mint(entratest.Token{Version: entratest.V1}), code: 0,
			stdout: []string{"signature: checked", "verdict: ACCEPTED: the server answers 200"}},
		{name: "a good token, JSON", args: []string{"--online", "--json", "-"}, token: "Bearer " + good + "\n", code: 0,
			stdout: []string{`"signatureChecked": true`, `"status": 200`}},
		{name: "an unknown key", args: []string{"--online", "-"}, token: unknown, code: 1,
			stdout: []string{"verdict: REFUSED: the server answers 401", "reason=unknown_key", "not-published"}},
		{name: "an unknown key, JSON", args: []string{"--online", "--json", "-"}, token: unknown, code: 1,
			stdout: []string{`"reason": "unknown_key"`, `"status": 401`}},
		// Offline, the same token is accepted only if its signature is
		// good: the verdict says it was not checked.
		{name: "an unknown key offline", args: []string{"-"}, token: unknown, code: 0,
			stdout: []string{"signature: NOT CHECKED", "ACCEPTED if the signature is good"}},
		{name: "no token on stdin", args: []string{"--online", "-"}, token: "", code: 2,
			stderr: []string{"the token is empty", "handler explain -h"}},
		{name: "no configuration", args: []string{"--online", "-"}, token: good, env: map[string]string{}, code: 2,
			stderr: []string{"configuration must be valid"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := env
			if c.env != nil {
				e = c.env
			}
			cmd := exec.Command(handlerBin, append([]string{"explain"}, c.args...)...)
			cmd.Env = environ(e)
			cmd.Stdin = strings.NewReader(c.token)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			if code := cmd.ProcessState.ExitCode(); code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, &stdout, &stderr)
			}
			for _, w := range c.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, &stdout)
				}
			}
			if c.code != 2 && stderr.Len() > 0 {
				// A verdict is the whole output, on stdout.
				t.Errorf("stderr not empty with a verdict: %s", &stderr)
			}
			for _, w := range c.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, &stderr)
				}
			}
			if strings.Contains(strings.Join(c.args, " "), "--json") && c.code != 2 {
				var rep map[string]any
				if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
					t.Errorf("stdout is not JSON: %v\n%s", err, &stdout)
				}
			}
			out := stdout.String() + stderr.String()
			for _, tok := range []string{good, unknown} {
				sig := tok[strings.LastIndexByte(tok, '.')+1:]
				// Any 16 characters of it: a cut copy leaks it too.
				for i := 0; i+16 <= len(sig); i++ {
					if strings.Contains(out, sig[i:i+16]) {
						t.Fatalf("the output holds %q of a signature:\n%s", sig[i:i+16], out)
					}
				}
			}
		})
	}
}

// TestExplainAgreesWithTheServer explains tokens with the built binary
// and sends the same tokens to a server of the same configuration: the
// verdict's status, challenge and reason must be the server's answer and
// log line, since explain promises the server's own verdict.
func TestExplainAgreesWithTheServer(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	env := jwtEnv(is)
	p := start(t, env)
	good := is.Mint(entratest.Token{})
	p.waitStatus(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(good)}, 200, 30*time.Second)

	now := time.Now()
	// One character changed in the middle of the signature: the last
	// may carry bits that base64url decoding ignores.
	tampered := []byte(good)
	i := strings.LastIndexByte(good, '.') + 40
	if tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	tokens := []struct{ name, token string }{
		{"v2", good},
		{"v1 with the Resource URL", is.Mint(entratest.Token{Version: entratest.V1, Audience: resourceURL})},
		{"unknown key", is.Mint(entratest.Token{KeyID: "not-published"})},
		{"changed signature", string(tampered)},
		{"expired", is.Mint(entratest.Token{IssuedAt: now.Add(-2 * time.Hour), Lifetime: time.Hour})},
		{"another resource", is.Mint(entratest.Token{Version: entratest.V1, Audience: "https://other.azurewebsites.net"})},
		{"another tenant", is.Mint(entratest.Token{Claims: map[string]any{"tid": otherTenant, "iss": "https://login.microsoftonline.com/" + otherTenant + "/v2.0"}})},
		{"alg none", is.Mint(entratest.Token{Header: map[string]any{"alg": "none"}})},
		{"app-only", is.Mint(entratest.Token{Kind: entratest.AppOnly, Roles: []string{"Data.Read"}})},
		{"ID token", is.Mint(entratest.Token{Kind: entratest.IDToken, Audience: apiClientID})},
		{"missing scope", is.Mint(entratest.Token{Scopes: []string{"Files.Read"}})},
		{"garbage", "garbage"},
		// Not token68: the server refuses the request (400) before any
		// verifier sees it, and explain says the same.
		{"not token68", "!!!." + strings.SplitN(good, ".", 2)[1]},
		{"a quoted token", `"` + good + `"`},
		{"a comma inside", strings.Replace(good, ".", ",", 1)},
	}
	// At the size limit and one byte either side, sent with the scheme
	// in any case and spaces around the token: the limit is the token's,
	// so explain (given the header's value) and the server agree. Before,
	// the server counted "Bearer " and answered 400 to tokens of 16378 to
	// 16384 bytes that explain accepted.
	type form struct{ name, prefix, suffix string }
	forms := []form{{"Bearer", "Bearer ", ""}, {"bearer and spaces", "bearer   ", "  "}, {"BEARER", "BEARER ", ""}}
	type sized struct {
		name, token string
		form        form
	}
	var sizes []sized
	for _, n := range []int{auth.MaxTokenBytes - len("Bearer ") + 1, auth.MaxTokenBytes - 1, auth.MaxTokenBytes, auth.MaxTokenBytes + 1} {
		tok := mintOfLength(t, is, n)
		for _, f := range forms {
			sizes = append(sizes, sized{fmt.Sprintf("%d bytes, %s", n, f.name), tok, f})
		}
	}
	for _, tc := range tokens {
		sizes = append(sizes, sized{tc.name, tc.token, forms[0]})
	}
	for _, tc := range sizes {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.form.prefix + tc.token + tc.form.suffix
			cmd := exec.Command(handlerBin, "explain", "--online", "--json", "-")
			cmd.Env = environ(env)
			cmd.Stdin = strings.NewReader(header)
			out, err := cmd.Output()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			var rep struct {
				Verdict struct {
					Accepted  bool
					Status    int
					Reason    string
					Challenge string `json:"wwwAuthenticate"`
				}
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("explain: %v: %v\n%s", err, cmd.ProcessState, out)
			}
			v := rep.Verdict
			if code, want := cmd.ProcessState.ExitCode(), map[bool]int{true: 0, false: 1}[v.Accepted]; code != want {
				t.Errorf("explain exit %d with a verdict of accepted %v", code, v.Accepted)
			}

			got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: map[string][]string{"Authorization": {header}}})
			if got.status != v.Status {
				t.Fatalf("server %d, explain %d (reason %s): %s", got.status, v.Status, v.Reason, got.body)
			}
			if h := got.header.Get("WWW-Authenticate"); h != v.Challenge {
				t.Errorf("server challenge %q, explain %q", h, v.Challenge)
			}
			if got.status == 200 {
				return
			}
			var pb struct{ RequestID string }
			json.Unmarshal([]byte(got.body), &pb)
			if line := logLine(t, p, pb.RequestID); line["reason"] != v.Reason {
				t.Errorf("server logged reason %v, explain %q", line["reason"], v.Reason)
			}
		})
	}
}

// mintOfLength mints a token of is exactly n bytes long, padding a claim
// and, for the lengths base64 skips, a header member.
func mintOfLength(t *testing.T, is *entratest.Issuer, n int) string {
	t.Helper()
	tok := entratest.OfLength(n, func(h, p string) string {
		return is.Mint(entratest.Token{Header: map[string]any{"x": h}, Claims: map[string]any{"pad": p}})
	})
	if tok == "" {
		t.Fatalf("no token of %d bytes", n)
	}
	return tok
}

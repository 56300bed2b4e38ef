package e2e

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/internal/entratest"
)

// The cold start: the host starts the handler, polls GET / until it
// answers, and forwards the waiting request at once, while the signing
// keys are still on their way from Entra ID. These tests do exactly that
// (start returns as soon as GET / answers) against an issuer that adds
// latency, and hold the handler to answering that first request, not a
// 503. Time bounds are generous: they tell a wait from a hang.

// coldStartModes are the modes that need the tenant's keys to answer.
var coldStartModes = []struct {
	name    string
	env     func(is *entratest.Issuer) map[string]string
	headers func(tok string, claims map[string]any) map[string][]string
}{
	{"jwt", jwtEnv, func(tok string, _ map[string]any) map[string][]string { return bearer(tok) }},
	{"easyauth with AUTH_EASYAUTH_VERIFY_TOKEN", func(is *entratest.Issuer) map[string]string {
		env := jwtEnv(is)
		delete(env, "AUTH_MODE")
		env["AUTH_EASYAUTH_VERIFY_TOKEN"] = "true"
		return gateOpen(env)
	}, func(tok string, claims map[string]any) map[string][]string {
		h := map[string][]string{"X-MS-CLIENT-PRINCIPAL": {easyAuthPrincipal(claims)}, "X-MS-CLIENT-PRINCIPAL-IDP": {"aad"}}
		maps.Copy(h, bearer(tok))
		return h
	}},
}

func TestColdStartFirstRequestWaitsForTheKeys(t *testing.T) {
	t.Parallel()
	const coldStarts = 3
	for _, mode := range coldStartModes {
		for _, latency := range []time.Duration{20 * time.Millisecond, 150 * time.Millisecond} {
			t.Run(mode.name+"/issuer "+latency.String()+" away", func(t *testing.T) {
				t.Parallel()
				is := newIssuer(t, e2eTenant)
				is.SetLatency(latency)
				claims := v2Claims(e2eTenant)
				tok := is.Sign("k1", claims)
				for i := range coldStarts {
					md, jwks := is.MetadataFetches(), is.JWKSFetches()
					p := start(t, mode.env(is))
					got := p.do(request{method: "POST", path: "/api/Hello", headers: mode.headers(tok, claims), body: `{"name": "Marc"}`})
					if got.status != 200 || got.body != helloMarc {
						t.Fatalf("cold start %d: first request %d %q, want 200\nlog: %s", i+1, got.status, got.body, p.stdout)
					}
					if code := p.stop(); code != 0 {
						t.Fatalf("cold start %d: exit %d", i+1, code)
					}
					if dm, dj := is.MetadataFetches()-md, is.JWKSFetches()-jwks; dm != 2 || dj != 2 {
						t.Errorf("cold start %d: %d metadata and %d key set GETs, want 2 and 2 (one load)", i+1, dm, dj)
					}
				}
			})
		}
	}
}

func TestColdStartConcurrentFirstCallersShareOneLoad(t *testing.T) {
	t.Parallel()
	const callers = 20
	is := newIssuer(t, e2eTenant)
	is.SetLatency(150 * time.Millisecond)
	p := start(t, jwtEnv(is))
	// Distinct tokens, so that no caller is answered from the token cache.
	toks := make([]string, callers)
	for i := range toks {
		toks[i] = is.Sign("k1", with(v2Claims(e2eTenant), "uti", "cold"+string(rune('a'+i))))
	}
	var wg sync.WaitGroup
	got := make([]response, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Not p.do: its t.Fatal from this goroutine would hide why a
			// call failed.
			req, _ := http.NewRequest("GET", p.base+"/api/Hello?name=Marc", nil)
			req.Header.Set("Authorization", "Bearer "+toks[i])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			got[i], errs[i] = response{status: resp.StatusCode, body: string(b)}, err
		}()
	}
	wg.Wait()
	for i, r := range got {
		if errs[i] != nil || r.status != 200 || r.body != helloMarc {
			t.Errorf("caller %d: %d %q, %v; want 200", i, r.status, r.body, errs[i])
		}
	}
	if t.Failed() {
		t.Logf("handler stderr:\n%s\nstdout (tail):\n%s", p.stderr, tail(p.stdout.String(), 2000))
	}
	if md, jwks := is.MetadataFetches(), is.JWKSFetches(); md != 2 || jwks != 2 {
		t.Errorf("%d metadata and %d key set GETs for %d callers, want 2 and 2 (one load between them)", md, jwks, callers)
	}
}

// TestColdStartIssuerDown: with the issuer unreachable the handler still
// starts at once; a call with a token waits no longer than AUTH_KEYS_WAIT
// (plus a margin) and gets 503 with Retry-After, never 401 or 200; a call
// without a token gets 401 at once; once the issuer is back, calls
// succeed by themselves.
func TestColdStartIssuerDown(t *testing.T) {
	t.Parallel()
	const wait = 2 * time.Second
	const margin = 3 * time.Second
	is := newIssuer(t, e2eTenant)
	// Connections are refused, as for an unreachable host, until the
	// outage ends; the address stays the issuer's.
	if err := is.SetOutage(entratest.Refuse); err != nil {
		t.Fatal(err)
	}
	env := jwtEnv(is)
	env["AUTH_KEYS_WAIT"] = wait.String()

	p := start(t, env)
	tok := is.Sign("k1", v2Claims(e2eTenant))
	for _, tok := range []string{tok, "garbage", "eyJhbGciOiJub25lIn0.e30."} {
		began := time.Now()
		got := p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(tok)})
		took := time.Since(began)
		if got.status != 503 || got.header.Get("Retry-After") == "" || !strings.Contains(got.body, "keys_unavailable") {
			t.Fatalf("with the issuer down: %d Retry-After=%q %s", got.status, got.header.Get("Retry-After"), got.body)
		}
		if took > wait+margin {
			t.Errorf("503 after %v, want within AUTH_KEYS_WAIT=%v plus %v", took, wait, margin)
		}
		var pb struct {
			RequestID string `json:"requestId"`
		}
		if err := json.Unmarshal([]byte(got.body), &pb); err != nil {
			t.Fatal(err)
		}
		line := logLine(t, p, pb.RequestID)
		if line["reason"] != "keys_unavailable" || !strings.Contains(line["error"].(string), "no key set has loaded yet") {
			t.Errorf("log line %v: want reason keys_unavailable and why", line)
		}
	}
	began := time.Now()
	if got := p.do(request{method: "GET", path: "/api/Hello"}); got.status != 401 {
		t.Fatalf("no token while keys load: %d, want 401", got.status)
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("a call without a token took %v while the keys load; it needs no keys", took)
	}

	if err := is.SetOutage(entratest.Up); err != nil {
		t.Fatal(err)
	}
	p.waitStatus(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(tok)}, 200, 30*time.Second)
	if !strings.Contains(p.stdout.String(), "signing keys: load failed") {
		t.Error("the failed loads were not logged")
	}
}

// TestColdStartShutdownReleasesWaiters: SIGTERM while a request waits for
// keys that never came answers it 503 at once and exits 0, however long
// AUTH_KEYS_WAIT is: no load is coming once the handler stops.
func TestColdStartShutdownReleasesWaiters(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	if err := is.SetOutage(entratest.Refuse); err != nil { // the issuer never answers
		t.Fatal(err)
	}
	env := jwtEnv(is)
	env["AUTH_KEYS_WAIT"] = "30s"
	p := start(t, env)
	tok := is.Sign("k1", v2Claims(e2eTenant))
	got := make(chan response, 1)
	go func() { got <- p.do(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(tok)}) }()
	time.Sleep(500 * time.Millisecond) // the request is waiting for the keys
	began := time.Now()
	code := p.stop()
	if code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0\nstderr: %s", code, p.stderr)
	}
	select {
	case r := <-got:
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Errorf("the waiting request got %d %s, want 503 with Retry-After", r.status, r.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting request was not answered")
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("shutdown took %v with a request waiting for keys", took)
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

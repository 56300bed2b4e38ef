package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const keysTenant = "4d2f6a8e-1c3b-4e5f-9a7d-2b8c6e0f1a3d"

// fakeEntra serves a tenant's v1 and v2 metadata and key sets.
type fakeEntra struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	keys     map[string]*rsa.PrivateKey
	live     []string
	fail     bool          // answer 500 everywhere
	delay    chan struct{} // when set, key set requests wait for it
	issuer   string        // overrides the v2 issuer when set
	jwksGets atomic.Int64
	extra    []map[string]any // extra raw keys in the v2 set
}

func newFakeEntra(t *testing.T) *fakeEntra {
	f := &fakeEntra{t: t, keys: map[string]*rsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/"+keysTenant+"/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.fail {
			http.Error(w, "down", 500)
			return
		}
		iss := "https://login.microsoftonline.com/" + keysTenant + "/v2.0"
		if f.issuer != "" {
			iss = f.issuer
		}
		json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": f.srv.URL + "/" + keysTenant + "/discovery/v2.0/keys"})
	})
	mux.HandleFunc("/"+keysTenant+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.fail {
			http.Error(w, "down", 500)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"issuer": "https://sts.windows.net/" + keysTenant + "/", "jwks_uri": f.srv.URL + "/" + keysTenant + "/discovery/keys"})
	})
	serveKeys := func(v2 bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f.jwksGets.Add(1)
			f.mu.Lock()
			delay := f.delay
			f.mu.Unlock()
			if delay != nil {
				<-delay
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.fail {
				http.Error(w, "down", 500)
				return
			}
			var keys []map[string]any
			for _, kid := range f.live {
				k := f.keys[kid]
				keys = append(keys, map[string]any{"kty": "RSA", "use": "sig", "kid": kid,
					"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
					"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
			}
			if v2 {
				keys = append(keys, f.extra...)
			}
			json.NewEncoder(w).Encode(map[string]any{"keys": keys})
		}
	}
	mux.HandleFunc("/"+keysTenant+"/discovery/v2.0/keys", serveKeys(true))
	mux.HandleFunc("/"+keysTenant+"/discovery/keys", serveKeys(false))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

var rsaKeys sync.Map // kid → *rsa.PrivateKey, shared across tests to save key generation

func testRSAKey(t *testing.T, kid string) *rsa.PrivateKey {
	if k, ok := rsaKeys.Load(kid); ok {
		return k.(*rsa.PrivateKey)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	actual, _ := rsaKeys.LoadOrStore(kid, k)
	return actual.(*rsa.PrivateKey)
}

func (f *fakeEntra) publish(kids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, kid := range kids {
		f.keys[kid] = testRSAKey(f.t, kid)
	}
	f.live = kids
}

func (f *fakeEntra) setFail(b bool) {
	f.mu.Lock()
	f.fail = b
	f.mu.Unlock()
}

func (f *fakeEntra) token(kid string) string {
	now := time.Now()
	c := jwt.MapClaims{
		"aud": "api://x", "iss": "https://login.microsoftonline.com/" + keysTenant + "/v2.0",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"tid": keysTenant, "oid": "7912fe7b-b5ab-425b-bb1f-0e83b99fca7f", "scp": "user_impersonation", "ver": "2.0",
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(testRSAKey(f.t, kid))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestKeys(t *testing.T, f *fakeEntra, mod func(*EntraKeysConfig)) (*EntraKeys, *Verifier, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	cfg := EntraKeysConfig{
		Authority: f.srv.URL, TenantID: keysTenant, Client: f.srv.Client(),
		RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&syncWriter{w: &log}, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	k, err := NewEntraKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(Config{TenantID: keysTenant, Audiences: []string{"api://x"}}, k)
	if err != nil {
		t.Fatal(err)
	}
	return k, v, &log
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func runKeys(t *testing.T, k *EntraKeys) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go k.Run(ctx)
	waitFor(t, "keys to load", k.Ready)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEntraKeysUnavailableUntilLoaded(t *testing.T) {
	f := newFakeEntra(t)
	f.publish("k1")
	k, v, _ := newTestKeys(t, f, func(c *EntraKeysConfig) { c.FirstLoadWait = 50 * time.Millisecond })
	if k.Ready() || k.Generation() != 0 {
		t.Fatal("ready before Run")
	}
	for _, tok := range []string{f.token("k1"), "not-a-jwt", "eyJhbGciOiJub25lIn0.e30."} {
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
			t.Fatalf("before loading, %q: %v, want ErrUnavailable only", tok, err)
		}
	}
	if f.jwksGets.Load() != 0 {
		t.Fatal("NewEntraKeys or Verify fetched keys; only Run may")
	}
	runKeys(t, k)
	p, err := v.Verify(context.Background(), f.token("k1"))
	if err != nil || p.TenantID != keysTenant {
		t.Fatalf("after loading: %v %v", p, err)
	}
	want := []string{"https://login.microsoftonline.com/" + keysTenant + "/v2.0", "https://sts.windows.net/" + keysTenant + "/"}
	if got := k.Issuers(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("issuers %v, want %v", got, want)
	}
}

func TestEntraKeysRecoverWhenTheIssuerComesBack(t *testing.T) {
	f := newFakeEntra(t)
	f.publish("k1")
	f.setFail(true)
	k, _, log := newTestKeys(t, f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go k.Run(ctx)
	waitFor(t, "several failed loads", func() bool { return k.Loads() >= 3 })
	if k.Ready() {
		t.Fatal("ready while the issuer fails")
	}
	f.setFail(false)
	waitFor(t, "recovery", k.Ready)
	if !strings.Contains(log.String(), "load failed") {
		t.Errorf("failures were not logged: %s", log.String())
	}
}

func TestEntraKeysUnknownKIDReloadsOncePerWindow(t *testing.T) {
	f := newFakeEntra(t)
	f.publish("k1")
	clk := &clock{now: time.Now()}
	k, v, _ := newTestKeys(t, f, func(c *EntraKeysConfig) { c.Now = clk.Now; c.UnknownKIDInterval = time.Minute })
	runKeys(t, k)
	gets := f.jwksGets.Load()

	f.publish("k1", "k2")
	if _, err := v.Verify(context.Background(), f.token("k2")); err != nil {
		t.Fatalf("new kid after reload: %v", err)
	}
	if n := f.jwksGets.Load() - gets; n != 2 {
		t.Fatalf("%d key set fetches for a new kid, want 2", n)
	}
	if k.Generation() != 2 {
		t.Errorf("generation %d after a key was added, want 2", k.Generation())
	}

	// Within the window, unknown kids fail without fetching, concurrently too.
	gets = f.jwksGets.Load()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.Verify(context.Background(), f.token("random-"+string(rune('a'+i))))
			var te *TokenError
			if !errors.As(err, &te) || te.Reason != "unknown_key" {
				t.Errorf("random kid: %v, want unknown_key", err)
			}
		}()
	}
	wg.Wait()
	if n := f.jwksGets.Load() - gets; n != 0 {
		t.Fatalf("%d fetches for random kids within the window, want 0", n)
	}

	// After the window, one more reload is allowed.
	clk.add(time.Minute)
	f.publish("k1", "k2", "k3")
	if _, err := v.Verify(context.Background(), f.token("k3")); err != nil {
		t.Fatalf("new kid after the window: %v", err)
	}
}

func TestEntraKeysConcurrentUnknownKIDsShareOneReload(t *testing.T) {
	f := newFakeEntra(t)
	f.publish("k1")
	k, v, _ := newTestKeys(t, f, func(c *EntraKeysConfig) { c.UnknownKIDWait = 5 * time.Second })
	runKeys(t, k)
	f.publish("k1", "k2")
	gate := make(chan struct{})
	f.mu.Lock()
	f.delay = gate
	f.mu.Unlock()
	gets := f.jwksGets.Load()
	tok := f.token("k2")
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(context.Background(), tok); err == nil {
				ok.Add(1)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them all join the reload
	close(gate)
	wg.Wait()
	if ok.Load() != 8 {
		t.Errorf("%d of 8 concurrent requests verified", ok.Load())
	}
	if n := f.jwksGets.Load() - gets; n != 2 {
		t.Errorf("%d key set fetches for 8 concurrent requests, want 2 (one reload)", n)
	}
}

func TestEntraKeysUnknownKIDWaitIsBounded(t *testing.T) {
	f := newFakeEntra(t)
	f.publish("k1")
	k, v, _ := newTestKeys(t, f, func(c *EntraKeysConfig) { c.UnknownKIDWait = 20 * time.Millisecond })
	runKeys(t, k)
	gate := make(chan struct{})
	defer close(gate)
	f.mu.Lock()
	f.delay = gate // the reload hangs until the test ends
	f.mu.Unlock()
	_, err := v.Verify(context.Background(), f.token("k9"))
	var te *TokenError
	if !errors.As(err, &te) || te.Reason != "unknown_key" {
		t.Fatalf("%v, want unknown_key once the wait is over", err)
	}
	// The request's own context bounds the wait too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Verify(ctx, f.token("k8")); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("cancelled request: %v", err)
	}
}

func TestEntraKeysRemovedKeyStopsVerifying(t *testing.T) {
	f := newFakeEntra(t)
	f.publish("k1", "k2")
	clk := &clock{now: time.Now()}
	k, v, _ := newTestKeys(t, f, func(c *EntraKeysConfig) { c.Now = clk.Now })
	runKeys(t, k)
	old := f.token("k1")
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	gen := k.Generation()
	// The same keys again: same generation, cached tokens stay.
	if err := k.load(context.Background(), "test"); err != nil || k.Generation() != gen {
		t.Fatalf("reload of the same set: err %v, generation %d → %d", err, gen, k.Generation())
	}
	f.publish("k2")
	if err := k.load(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	if k.Generation() == gen {
		t.Fatal("generation unchanged after a key left")
	}
	if _, err := v.Verify(context.Background(), old); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token of the removed key: %v, want invalid", err)
	}
}

func TestEntraKeysFailedReloadKeepsLastGoodSet(t *testing.T) {
	f := newFakeEntra(t)
	f.publish("k1")
	k, _, log := newTestKeys(t, f, nil)
	runKeys(t, k)
	f.setFail(true)
	if err := k.load(context.Background(), "test"); err == nil {
		t.Fatal("load against a failing issuer succeeded")
	}
	vv, _ := NewVerifier(Config{TenantID: keysTenant, Audiences: []string{"api://x"}, CacheSize: -1}, k)
	if _, err := vv.Verify(context.Background(), f.token("k1")); err != nil {
		t.Fatalf("with the issuer down: %v, want the last good set to verify", err)
	}
	if !strings.Contains(log.String(), "keeping the last good key set") {
		t.Errorf("failure not logged: %s", log.String())
	}
}

func TestEntraKeysRefusesBadDocuments(t *testing.T) {
	cases := []struct {
		name string
		mod  func(f *fakeEntra)
		want string
	}{
		{"issuer of another tenant", func(f *fakeEntra) {
			f.issuer = "https://login.microsoftonline.com/9b1e2c3d-4f5a-4b6c-8d7e-0f1a2b3c4d5e/v2.0"
		}, "not the tenant's"},
		{"no keys", func(f *fakeEntra) { f.publish() }, "no usable RSA signing key"},
		{"only unusable keys", func(f *fakeEntra) {
			f.publish()
			f.extra = []map[string]any{{"kty": "RSA", "kid": "bad", "n": "!!", "e": "AQAB"}, {"kty": "EC", "kid": "ec"}}
		}, "no usable RSA signing key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeEntra(t)
			f.publish("k1")
			c.mod(f)
			k, _, _ := newTestKeys(t, f, nil)
			err := k.load(context.Background(), "test")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if k.Ready() {
				t.Fatal("ready after a refused load")
			}
		})
	}

	t.Run("one bad key among good ones is skipped", func(t *testing.T) {
		f := newFakeEntra(t)
		f.publish("k1")
		f.extra = []map[string]any{{"kty": "RSA", "use": "sig", "kid": "bad", "n": "!!", "e": "AQAB"}}
		k, _, log := newTestKeys(t, f, nil)
		if err := k.load(context.Background(), "test"); err != nil {
			t.Fatal(err)
		}
		if got := k.KeyIDs(); len(got) != 1 || got[0] != "k1" {
			t.Errorf("kids %v, want [k1]", got)
		}
		if !strings.Contains(log.String(), "skipping a key") {
			t.Error("the skipped key was not logged")
		}
	})

	t.Run("http jwks_uri only for a loopback http authority", func(t *testing.T) {
		k, err := NewEntraKeys(EntraKeysConfig{TenantID: keysTenant, Authority: "https://login.microsoftonline.com"})
		if err != nil {
			t.Fatal(err)
		}
		if err := k.checkURL("http://login.microsoftonline.com/x/discovery/keys"); err == nil {
			t.Error("accepted an http jwks_uri from an https authority")
		}
		if err := k.checkURL("https://login.microsoftonline.com/x/discovery/keys"); err != nil {
			t.Error(err)
		}
	})

	if _, err := NewEntraKeys(EntraKeysConfig{TenantID: "contoso.onmicrosoft.com"}); err == nil {
		t.Error("NewEntraKeys accepted a domain for the tenant id")
	}
}

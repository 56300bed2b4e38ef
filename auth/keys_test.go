package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/internal/entratest"
)

const keysTenant = "4d2f6a8e-1c3b-4e5f-9a7d-2b8c6e0f1a3d"

// newEntra starts an Entra-shaped issuer for keysTenant on loopback,
// publishing kids (none when empty), and closes it when the test ends.
// The loader tests need real HTTP: fetching is what they test.
func newEntra(t *testing.T, kids ...string) *entratest.Issuer {
	t.Helper()
	return newEntraConfig(t, entratest.Config{KeyIDs: kids})
}

// newEntraConfig is newEntra with more of the issuer configured.
func newEntraConfig(t *testing.T, cfg entratest.Config) *entratest.Issuer {
	t.Helper()
	cfg.TenantID = keysTenant
	if cfg.KeyIDs == nil {
		cfg.KeyIDs = []string{} // entratest's nil is one key; here it is none
	}
	return entratest.New(t, cfg)
}

// tokenFor mints a delegated v2 access token signed by kid's key, made
// (unpublished) if the issuer has none yet.
func tokenFor(is *entratest.Issuer, kid string) string {
	return is.Mint(entratest.Token{KeyID: kid})
}

// unknownKIDToken mints a token that names kid, a key nobody publishes.
// It is signed by the first published key, not by a key of its own: the
// signature of a token whose key cannot be found is never checked, and a
// key per kid would cost an RSA key generation each.
func unknownKIDToken(is *entratest.Issuer, kid string) string {
	return is.Mint(entratest.Token{Header: map[string]any{"kid": kid}})
}

// setOutage switches the issuer's outage, failing the test if it cannot.
func setOutage(t *testing.T, is *entratest.Issuer, o entratest.Outage, only ...entratest.Endpoint) {
	t.Helper()
	if err := is.SetOutage(o, only...); err != nil {
		t.Fatal(err)
	}
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

func newTestKeys(t *testing.T, is *entratest.Issuer, mod func(*EntraKeysConfig)) (*EntraKeys, *Verifier, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	// A transport of its own: no test reuses another's connections, and
	// none is left open when the test ends.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	cfg := EntraKeysConfig{
		Authority: is.URL(), TenantID: keysTenant, Client: &http.Client{Transport: tr, Timeout: 10 * time.Second},
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
	v, err := NewVerifier(Config{TenantID: keysTenant, Audiences: []string{is.ClientID()}}, k)
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
	waitFor(t, "keys to load", k.ready)
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
	is := newEntra(t, "k1")
	k, v, _ := newTestKeys(t, is, func(c *EntraKeysConfig) { c.FirstLoadWait = 50 * time.Millisecond })
	if k.ready() || k.Generation() != 0 {
		t.Fatal("ready before Run")
	}
	for _, tok := range []string{tokenFor(is, "k1"), "not-a-jwt", "eyJhbGciOiJub25lIn0.e30."} {
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
			t.Fatalf("before loading, %q: %v, want ErrUnavailable only", tok, err)
		}
	}
	if is.MetadataFetches() != 0 || is.JWKSFetches() != 0 {
		t.Fatal("NewEntraKeys or Verify fetched metadata or keys; only Run may")
	}
	runKeys(t, k)
	p, err := v.Verify(context.Background(), tokenFor(is, "k1"))
	if err != nil || p.TenantID != keysTenant {
		t.Fatalf("after loading: %v %v", p, err)
	}
	want := []string{is.IssuerURL(entratest.V2), is.IssuerURL(entratest.V1)}
	if got := k.Issuers(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("issuers %v, want %v", got, want)
	}
}

func TestEntraKeysRecoverWhenTheIssuerComesBack(t *testing.T) {
	is := newEntra(t, "k1")
	setOutage(t, is, entratest.Fail)
	k, _, log := newTestKeys(t, is, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go k.Run(ctx)
	waitFor(t, "several failed loads", func() bool { return k.loads.Load() >= 3 })
	if k.ready() {
		t.Fatal("ready while the issuer fails")
	}
	setOutage(t, is, entratest.Up)
	waitFor(t, "recovery", k.ready)
	if !strings.Contains(log.String(), "load failed") {
		t.Errorf("failures were not logged: %s", log.String())
	}
}

func TestEntraKeysUnknownKIDReloadsOncePerWindow(t *testing.T) {
	is := newEntra(t, "k1")
	clk := &clock{now: time.Now()}
	k, v, _ := newTestKeys(t, is, func(c *EntraKeysConfig) { c.Now = clk.Now; c.UnknownKIDInterval = time.Minute })
	runKeys(t, k)
	gets := is.JWKSFetches()

	is.SetKeys("k1", "k2")
	if _, err := v.Verify(context.Background(), tokenFor(is, "k2")); err != nil {
		t.Fatalf("new kid after reload: %v", err)
	}
	if n := is.JWKSFetches() - gets; n != 2 {
		t.Fatalf("%d key set fetches for a new kid, want 2", n)
	}
	if k.Generation() != 2 {
		t.Errorf("generation %d after a key was added, want 2", k.Generation())
	}

	// Within the window, unknown kids fail without fetching, concurrently too.
	gets = is.JWKSFetches()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.Verify(context.Background(), unknownKIDToken(is, "random-"+string(rune('a'+i))))
			var te *TokenError
			if !errors.As(err, &te) || te.Reason != "unknown_key" {
				t.Errorf("random kid: %v, want unknown_key", err)
			}
		}()
	}
	wg.Wait()
	if n := is.JWKSFetches() - gets; n != 0 {
		t.Fatalf("%d fetches for random kids within the window, want 0", n)
	}

	// After the window, one more reload is allowed.
	clk.add(time.Minute)
	is.SetKeys("k1", "k2", "k3")
	if _, err := v.Verify(context.Background(), tokenFor(is, "k3")); err != nil {
		t.Fatalf("new kid after the window: %v", err)
	}
}

func TestEntraKeysConcurrentUnknownKIDsShareOneReload(t *testing.T) {
	is := newEntra(t, "k1")
	k, v, _ := newTestKeys(t, is, func(c *EntraKeysConfig) { c.UnknownKIDWait = 5 * time.Second })
	runKeys(t, k)
	is.SetKeys("k1", "k2")
	release := holdKeys(t, is)
	defer release()
	gets := is.JWKSFetches()
	tok := tokenFor(is, "k2")
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
	release()
	wg.Wait()
	if ok.Load() != 8 {
		t.Errorf("%d of 8 concurrent requests verified", ok.Load())
	}
	if n := is.JWKSFetches() - gets; n != 2 {
		t.Errorf("%d key set fetches for 8 concurrent requests, want 2 (one reload)", n)
	}
}

func TestEntraKeysUnknownKIDWaitIsBounded(t *testing.T) {
	is := newEntra(t, "k1")
	k, v, _ := newTestKeys(t, is, func(c *EntraKeysConfig) { c.UnknownKIDWait = 20 * time.Millisecond })
	runKeys(t, k)
	release := holdKeys(t, is) // the reload hangs until the test ends
	defer release()
	_, err := v.Verify(context.Background(), unknownKIDToken(is, "k9"))
	var te *TokenError
	if !errors.As(err, &te) || te.Reason != "unknown_key" {
		t.Fatalf("%v, want unknown_key once the wait is over", err)
	}
	// The request's own context bounds the wait too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Verify(ctx, unknownKIDToken(is, "k8")); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("cancelled request: %v", err)
	}
}

func TestEntraKeysRemovedKeyStopsVerifying(t *testing.T) {
	is := newEntra(t, "k1", "k2")
	clk := &clock{now: time.Now()}
	k, v, _ := newTestKeys(t, is, func(c *EntraKeysConfig) { c.Now = clk.Now })
	runKeys(t, k)
	old := tokenFor(is, "k1")
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	gen := k.Generation()
	// The same keys again: same generation, cached tokens stay.
	if err := k.load(context.Background(), "test"); err != nil || k.Generation() != gen {
		t.Fatalf("reload of the same set: err %v, generation %d → %d", err, gen, k.Generation())
	}
	is.RemoveKey("k1")
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
	is := newEntra(t, "k1")
	k, _, log := newTestKeys(t, is, nil)
	runKeys(t, k)
	setOutage(t, is, entratest.Fail)
	if err := k.load(context.Background(), "test"); err == nil {
		t.Fatal("load against a failing issuer succeeded")
	}
	vv, _ := NewVerifier(Config{TenantID: keysTenant, Audiences: []string{is.ClientID()}, CacheSize: -1}, k)
	if _, err := vv.Verify(context.Background(), tokenFor(is, "k1")); err != nil {
		t.Fatalf("with the issuer down: %v, want the last good set to verify", err)
	}
	if !strings.Contains(log.String(), "keeping the last good key set") {
		t.Errorf("failure not logged: %s", log.String())
	}
}

// TestEntraKeysFirstFailureSaysNoneLoaded: at cold start there is no
// last good key set to keep, and the log must not say there is.
func TestEntraKeysFirstFailureSaysNoneLoaded(t *testing.T) {
	is := newEntra(t, "k1")
	setOutage(t, is, entratest.Fail)
	k, _, log := newTestKeys(t, is, nil)
	if err := k.load(context.Background(), "test"); err == nil {
		t.Fatal("load against a failing issuer succeeded")
	}
	if got := log.String(); strings.Contains(got, "keeping the last good") || !strings.Contains(got, "no key set has loaded yet") {
		t.Errorf("cold-start failure logged as: %s", got)
	}
}

func TestEntraKeysRefusesBadDocuments(t *testing.T) {
	cases := []struct {
		name string
		cfg  entratest.Config // TenantID and k1 are set for every case
		mod  func(is *entratest.Issuer)
		want string
	}{
		{
			"issuer of another tenant",
			entratest.Config{V2Metadata: []byte(`{"issuer":"https://login.microsoftonline.com/9b1e2c3d-4f5a-4b6c-8d7e-0f1a2b3c4d5e/v2.0",` +
				`"jwks_uri":"https://login.microsoftonline.com/common/discovery/v2.0/keys"}`)},
			nil, "not the tenant's",
		},
		{"no keys", entratest.Config{}, func(is *entratest.Issuer) { is.SetKeys() }, "no usable RSA signing key"},
		{"only unusable keys", entratest.Config{}, func(is *entratest.Issuer) {
			is.SetKeys()
			is.AddRawKey(json.RawMessage(`{"kty":"RSA","kid":"bad","n":"!!","e":"AQAB"}`))
			is.AddRawKey(json.RawMessage(`{"kty":"EC","kid":"ec"}`))
		}, "no usable RSA signing key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.KeyIDs = []string{"k1"}
			is := newEntraConfig(t, c.cfg)
			if c.mod != nil {
				c.mod(is)
			}
			k, _, _ := newTestKeys(t, is, nil)
			err := k.load(context.Background(), "test")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if k.ready() {
				t.Fatal("ready after a refused load")
			}
		})
	}

	t.Run("one bad key among good ones is skipped", func(t *testing.T) {
		is := newEntra(t, "k1")
		is.AddRawKey(json.RawMessage(`{"kty":"RSA","use":"sig","kid":"bad","n":"!!","e":"AQAB"}`))
		k, _, log := newTestKeys(t, is, nil)
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

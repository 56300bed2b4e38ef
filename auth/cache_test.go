package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/entrafunc/entrafunc/internal/entratest"
)

// countingKeys counts key lookups and lets a test change the generation.
type countingKeys struct {
	inner   KeySet
	lookups atomic.Int64
	gen     atomic.Uint64
}

func (c *countingKeys) KeyfuncCtx(ctx context.Context) jwt.Keyfunc {
	kf := c.inner.KeyfuncCtx(ctx)
	return func(t *jwt.Token) (any, error) {
		c.lookups.Add(1)
		return kf(t)
	}
}

func (c *countingKeys) Generation() uint64             { return c.gen.Load() }
func (c *countingKeys) Wait(ctx context.Context) error { return c.inner.Wait(ctx) }
func (c *countingKeys) Issuers() []string              { return c.inner.Issuers() }

func newCachedVerifier(t *testing.T, is *entratest.Issuer, clk *clock, size int) (*Verifier, *countingKeys) {
	t.Helper()
	k, _, _ := newTestKeys(t, is, nil)
	runKeys(t, k)
	ck := &countingKeys{inner: k}
	v, err := NewVerifier(Config{TenantID: keysTenant, Audiences: []string{is.ClientID()}, Now: clk.Now, CacheSize: size,
		Issuers: []string{is.IssuerURL(entratest.V2)}}, ck)
	if err != nil {
		t.Fatal(err)
	}
	return v, ck
}

func TestVerifierCache(t *testing.T) {
	is := newEntra(t, "k1")
	clk := &clock{now: time.Now()}
	v, ck := newCachedVerifier(t, is, clk, 0)
	tok := tokenFor(is, "k1")

	p1, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := v.Verify(context.Background(), tok)
	if err != nil || p2 != p1 {
		t.Fatalf("second call: %v, same principal %v", err, p2 == p1)
	}
	if n := ck.lookups.Load(); n != 1 {
		t.Fatalf("%d key lookups for two calls with one token, want 1", n)
	}

	// A change of the key set forgets the entry.
	ck.gen.Add(1)
	if _, err := v.Verify(context.Background(), tok); err != nil || ck.lookups.Load() != 2 {
		t.Fatalf("after a key change: err %v, lookups %d, want a new verification", err, ck.lookups.Load())
	}

	// Expiry ends the entry; past the leeway the token is refused.
	clk.add(time.Hour + maxLeeway + time.Second)
	_, err = v.Verify(context.Background(), tok)
	var te *TokenError
	if !errors.As(err, &te) || te.Reason != "expired" {
		t.Fatalf("after expiry: %v, want expired", err)
	}

	// A refused token is never cached.
	bad := tok[:len(tok)-4] + "AAAA"
	for range 2 {
		if _, err := v.Verify(context.Background(), bad); err == nil {
			t.Fatal("tampered token accepted")
		}
	}
}

func TestVerifierCacheDisabled(t *testing.T) {
	is := newEntra(t, "k1")
	v, ck := newCachedVerifier(t, is, &clock{now: time.Now()}, -1)
	tok := tokenFor(is, "k1")
	for range 3 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := ck.lookups.Load(); n != 3 {
		t.Fatalf("%d lookups with the cache off, want 3", n)
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	c := newTokenCache(100)
	now := time.Now()
	p := &Principal{ExpiresAt: now.Add(time.Hour)}
	key := func(i int) [32]byte { return sha256.Sum256([]byte(fmt.Sprint(i))) }
	for i := range 10000 {
		c.put(key(i), p, 0)
		if n := c.len(); n > 100 {
			t.Fatalf("%d entries after %d puts, want at most 100", n, i+1)
		}
	}
	// The most recent entries are still there; a hit on an old-generation
	// entry promotes it so that it survives the next turnover.
	if _, ok := c.get(key(9999), 0, now); !ok {
		t.Fatal("the newest entry is gone")
	}
	if _, ok := c.get(key(0), 0, now); ok {
		t.Fatal("the oldest entry survived 10000 puts into 100 places")
	}
	// 10000 puts into halves of 50: 9950..9999 are young, 9900..9949 old.
	promoted, dropped := key(9920), key(9921)
	if _, ok := c.get(promoted, 0, now); !ok {
		t.Fatal("an entry of the previous generation is gone")
	}
	for i := 20000; i < 20049; i++ {
		c.put(key(i), p, 0)
	}
	if _, ok := c.get(promoted, 0, now); !ok {
		t.Fatal("a promoted entry did not survive a turnover")
	}
	if _, ok := c.get(dropped, 0, now); ok {
		t.Fatal("an entry that was never hit survived two turnovers")
	}
	if _, ok := c.get(key(9999), 1, now); ok {
		t.Fatal("an entry of another key generation was returned")
	}
}

// TestVerifierCacheBoundUnderConcurrentFlood: distinct valid tokens from
// many goroutines at once keep the real verifier's cache within CacheSize
// at every moment, while tokens seen again are still served from it.
//
// This is tested here, in-process, rather than end to end: the cache has
// no view from outside the handler (no metric, no log line), and adding
// one only for a test would be a feature nobody else uses. The e2e tests
// bound the handler's memory as a whole instead.
func TestVerifierCacheBoundUnderConcurrentFlood(t *testing.T) {
	t.Parallel()
	const (
		size    = 100
		tokens  = 4 * size // each half of the cache turns over several times
		workers = 16
	)
	keys := &countingKeys{inner: testKeySource(t)}
	cfg := testConfig()
	cfg.CacheSize = size
	v, err := NewVerifier(cfg, keys)
	if err != nil {
		t.Fatal(err)
	}
	// Signed on every core: an RS256 signature costs milliseconds under
	// the race detector.
	toks := make([]string, tokens)
	var signing sync.WaitGroup
	for w := range workers {
		signing.Add(1)
		go func() {
			defer signing.Done()
			for i := w; i < tokens; i += workers {
				toks[i] = signRS256(t, claimsWith(v2Claims(), "uti", fmt.Sprintf("flood-%d", i)))
			}
		}()
	}
	signing.Wait()

	var most atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			n := int64(v.cache.len())
			if n > most.Load() {
				most.Store(n)
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	var wg sync.WaitGroup
	var calls atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker starts elsewhere in the list, and sends each
			// token twice in a row, as a connector reuses one: puts and
			// hits, promotions and turnovers interleave across workers.
			for k := range tokens {
				tok := toks[(w*tokens/workers+k)%tokens]
				for range 2 {
					calls.Add(1)
					if _, err := v.Verify(context.Background(), tok); err != nil {
						t.Errorf("Verify: %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled

	n := v.cache.len()
	t.Logf("%d calls with %d distinct tokens: %d RSA verifications, at most %d entries seen, %d at the end", calls.Load(), tokens, keys.lookups.Load(), most.Load(), n)
	if m := most.Load(); m > size {
		t.Errorf("the cache held %d entries at one point, over its bound of %d", m, size)
	}
	if n > size || n == 0 {
		t.Errorf("the cache holds %d entries at the end, want 1 to %d", n, size)
	}
	if l := keys.lookups.Load(); l >= calls.Load() {
		t.Errorf("%d key lookups for %d calls: the cache served none", l, calls.Load())
	}
}

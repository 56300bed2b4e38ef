package auth

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// benchToken is a development token and the key set that verifies it,
// signed with the tests' key (made once per process, not per benchmark).
func benchToken(b *testing.B) (string, *StaticKeySet) {
	b.Helper()
	trusted, _ := testKeys(b)
	key := newDevKey(trusted)
	tok, err := key.Mint(DevToken{Name: "Marc"})
	if err != nil {
		b.Fatal(err)
	}
	keys, err := key.KeySet()
	if err != nil {
		b.Fatal(err)
	}
	return tok, keys
}

// BenchmarkVerify compares verifying one token with and without the
// verified-token cache: "uncached" pays the RSA verification every time.
func BenchmarkVerify(b *testing.B) {
	tok, keys := benchToken(b)
	for _, bc := range []struct {
		name string
		size int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			v, err := NewVerifier(Config{TenantID: DevTenantID, Audiences: []string{DevAudience}, CacheSize: bc.size}, keys)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := v.Verify(ctx, tok); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkVerifyVsParse sets one uncached Verify beside golang-jwt's bare
// ParseWithClaims as a team would write it by hand (bench/peers/gopeer:
// RS256 only, issuer, audience, exp required, 5 minutes of leeway, and the
// tenant compared), on the same development token and key set, one
// goroutine each. The goal: Verify at most 1.10× the parser.
//
// "verify-uncached" and "jwt-ParseWithClaims" are the two alone, for
// ns/op and allocs/op. "interleaved" alternates them call by call and
// reports the median of each (verify-ns, parse-ns) and their ratio
// (verify/parse), so that both meet the same load on a busy machine:
//
//	go test -run '^$' -bench VerifyVsParse -benchmem -benchtime 3000x -count 6 ./auth/
func BenchmarkVerifyVsParse(b *testing.B) {
	tok, keys := benchToken(b)
	ctx := context.Background()
	v, err := NewVerifier(Config{TenantID: DevTenantID, Audiences: []string{DevAudience}, CacheSize: -1}, keys)
	if err != nil {
		b.Fatal(err)
	}
	verify := func() error {
		_, err := v.Verify(ctx, tok)
		return err
	}
	type peerClaims struct {
		jwt.RegisteredClaims
		Scope    string `json:"scp"`
		TenantID string `json:"tid"`
		ObjectID string `json:"oid"`
		Name     string `json:"name"`
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(DefaultAuthority+"/"+DevTenantID+"/v2.0"),
		jwt.WithAudience(DevAudience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(maxLeeway),
	)
	parse := func() error {
		c := &peerClaims{}
		if _, err := parser.ParseWithClaims(tok, c, keys.KeyfuncCtx(ctx)); err != nil {
			return err
		}
		if c.TenantID != DevTenantID {
			b.Fatalf("tid %q", c.TenantID)
		}
		return nil
	}
	for _, bc := range []struct {
		name string
		f    func() error
	}{{"verify-uncached", verify}, {"jwt-ParseWithClaims", parse}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		b.ReportAllocs()
		fs := [2]func() error{verify, parse}
		var ds [2][]time.Duration
		for i := 0; b.Loop(); i++ {
			// Each goes first every other time.
			for _, k := range [2]int{i % 2, 1 - i%2} {
				t := time.Now()
				if err := fs[k](); err != nil {
					b.Fatal(err)
				}
				ds[k] = append(ds[k], time.Since(t))
			}
		}
		vm, pm := median(ds[0]), median(ds[1])
		b.ReportMetric(float64(vm.Nanoseconds()), "verify-ns")
		b.ReportMetric(float64(pm.Nanoseconds()), "parse-ns")
		b.ReportMetric(float64(vm)/float64(pm), "verify/parse")
	})
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

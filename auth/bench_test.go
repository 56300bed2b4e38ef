package auth

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkVerify compares verifying one token with and without the
// verified-token cache: "uncached" pays the RSA verification every time.
func BenchmarkVerify(b *testing.B) {
	key, err := LoadOrCreateDevKey(filepath.Join(b.TempDir(), "k.pem"))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := key.Mint(DevToken{Name: "Marc"})
	if err != nil {
		b.Fatal(err)
	}
	keys, err := key.KeySet()
	if err != nil {
		b.Fatal(err)
	}
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

package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/logbuf"
)

// BenchmarkServer measures the request path in-process: a bare net/http
// handler that answers the same text, against the full server (routing,
// logging, authentication with the real verifier, policy, Hello) with and
// without the verified-token cache. The HTTP-level comparison, which adds
// the network stack both pay alike, is `make bench-http`.
func BenchmarkServer(b *testing.B) {
	key, err := auth.LoadOrCreateDevKey(filepath.Join(b.TempDir(), "k.pem"))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := key.Mint(auth.DevToken{Name: "Marc"})
	if err != nil {
		b.Fatal(err)
	}
	keys, err := key.KeySet()
	if err != nil {
		b.Fatal(err)
	}
	lw := logbuf.New(io.Discard, 100*time.Millisecond)
	defer lw.Close()
	logger := slog.New(slog.NewJSONHandler(lw, nil))
	server := func(cacheSize int) http.Handler {
		v, err := auth.NewVerifier(auth.Config{TenantID: auth.DevTenantID, Audiences: []string{auth.DevAudience}, CacheSize: cacheSize}, keys)
		if err != nil {
			b.Fatal(err)
		}
		return NewServer(Options{Logger: logger, Authenticator: auth.Bearer(v), Policy: auth.Policy{RequiredScopes: []string{auth.DefaultRequiredScope}}})
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, "+r.URL.Query().Get("name")+helloSuffix)
	})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"cached", server(0)}, {"uncached", server(-1)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodGet, "/api/Hello?name=Marc", nil)
					r.Header.Set("Authorization", "Bearer "+tok)
					w := httptest.NewRecorder()
					bc.h.ServeHTTP(w, r)
					if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "Hello, Marc.") {
						b.Errorf("%d %s", w.Code, w.Body.String())
						return
					}
				}
			})
		})
	}
}

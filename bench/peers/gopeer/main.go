// Command gopeer is the Go peer of `make bench`: the authenticated Hello
// as a Go team would write it by hand from the libraries' READMEs, with
// chi for routing, golang-jwt/v5 for the token, keyfunc/v3 for the
// tenant's remote JWKS, and slog.JSONHandler for a request line. It makes
// the checks the handler makes on the benchmark's token (signature,
// issuer, audience, expiry, tenant, the user_impersonation scope), and
// nothing more: no token cache, no policy, no problem documents.
//
// Configuration (environment): PORT, JWKS_URL, ISSUER, AUDIENCES
// (comma-separated), TENANT_ID.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/go-chi/chi/v5"
	"github.com/golang-jwt/jwt/v5"
)

// claims are the token claims the checks read.
type claims struct {
	jwt.RegisteredClaims
	Scope    string `json:"scp"`
	TenantID string `json:"tid"`
	ObjectID string `json:"oid"`
	Name     string `json:"name"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))

	// The README way: NewDefaultCtx fetches the key set once now and
	// keeps it fresh in the background until ctx ends.
	k, err := keyfunc.NewDefaultCtx(ctx, []string{os.Getenv("JWKS_URL")})
	if err != nil {
		logger.Error("keyfunc", "error", err)
		os.Exit(1)
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(os.Getenv("ISSUER")),
		jwt.WithAudience(strings.Split(os.Getenv("AUDIENCES"), ",")...),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(5*time.Minute),
	)
	tenant := os.Getenv("TENANT_ID")

	r := chi.NewRouter()
	r.Use(requestLog(logger))
	r.Group(func(r chi.Router) {
		r.Use(bearer(parser, k, tenant))
		r.Get("/api/Hello", hello)
		r.Post("/api/Hello", hello)
	})
	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv("PORT"), Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", "error", err)
		os.Exit(1)
	}
}

// bearer checks the Authorization header's token.
func bearer(parser *jwt.Parser, k keyfunc.Keyfunc, tenant string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer`)
				http.Error(w, "missing bearer token", http.StatusUnauthorized)
				return
			}
			c := &claims{}
			if _, err := parser.ParseWithClaims(raw, c, k.KeyfuncCtx(r.Context())); err != nil || c.TenantID != tenant {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				http.Error(w, "invalid token", http.StatusUnauthorized)
				return
			}
			if !slices.Contains(strings.Fields(c.Scope), "user_impersonation") {
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="user_impersonation"`)
				http.Error(w, "insufficient scope", http.StatusForbidden)
				return
			}
			if sw, ok := w.(*statusWriter); ok {
				sw.claims = c // for the request line
			}
			next.ServeHTTP(w, r)
		})
	}
}

func hello(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" && r.Method == http.MethodPost {
		var body struct {
			Name string `json:"name"`
		}
		json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body)
		name = body.Name
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if name == "" {
		w.Write([]byte("This HTTP triggered function executed successfully. Pass a name in the query string or in the request body for a personalized response."))
		return
	}
	w.Write([]byte("Hello, " + name + ". This HTTP triggered function executed successfully."))
}

// statusWriter remembers the status and the caller for the request line.
type statusWriter struct {
	http.ResponseWriter
	status int
	claims *claims
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// requestLog writes one JSON line per request, after it.
func requestLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			began := time.Now()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r)
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.status),
				slog.Duration("duration", time.Since(began)),
			}
			if sw.claims != nil {
				attrs = append(attrs, slog.String("oid", sw.claims.ObjectID), slog.String("tid", sw.claims.TenantID))
			}
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		})
	}
}

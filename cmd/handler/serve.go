package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/entrafunc/entrafunc/api"
	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/entrafunc/entrafunc/internal/logbuf"
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// after SIGTERM.
const shutdownTimeout = 20 * time.Second

// defaultGCPercent is the garbage collector's target unless GOGC or
// GOMEMLIMIT is set. The live heap is a few MiB (the token cache at most), so
// letting garbage grow to four times it costs little memory, and spares
// the request path collections: about 7% more requests per second in
// `make bench-http`.
const defaultGCPercent = 400

const serveUsage = `usage: handler [serve]

Serve the functions until SIGTERM or interrupt, then drain: what the
Functions host runs. The configuration comes from the environment (see the
README); handler check validates it and prints the effective settings.
`

func serveCommand(ctx context.Context, args []string, lookup lookupFunc, stdout, stderr io.Writer) error {
	f := newFlags("serve", serveUsage, stdout, stderr)
	if help, err := f.parse(args); help || err != nil {
		return err
	}
	cfg, err := loadConfig(lookup)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stdout)
}

// serve runs the server on the configured address until ctx ends, then
// drains it.
func serve(ctx context.Context, cfg config, stdout io.Writer) error {
	// Listen before anything else, so a taken port is an error here and
	// now rather than a server that silently never starts.
	ln, err := listen(cfg, net.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w: another process holds the port (make dev and func start both listen on %d by default); stop it, or set FUNCTIONS_CUSTOMHANDLER_PORT to a free port (the Functions host sets it to a free one itself)", err, defaultDevPort)
		}
		return err
	}
	return serveOn(ctx, cfg, ln, stdout, nil)
}

// listen opens the configured address with listenTCP (net.Listen). Where
// the mode serves loopback only (dev and easyauth), the address actually
// bound is judged, not the name asked for: LISTEN_HOST=localhost is
// resolved through the hosts file, which may map it to any address.
func listen(cfg config, listenTCP func(network, address string) (net.Listener, error)) (net.Listener, error) {
	ln, err := listenTCP("tcp", net.JoinHostPort(cfg.ListenHost, cfg.Port))
	if err != nil {
		return nil, err
	}
	if !cfg.loopbackOnly() {
		return ln, nil
	}
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("%s mode listens on loopback only, but LISTEN_HOST=%s bound %s: set LISTEN_HOST=127.0.0.1", cfg.Mode, shown(cfg.ListenHost), ln.Addr())
	}
	return ln, nil
}

// serveOn serves on ln until ctx ends, then drains the server; it closes
// ln. ready, unless nil, runs once requests are being served: handler dev
// prints its curl only then.
func serveOn(ctx context.Context, cfg config, ln net.Listener, stdout io.Writer, ready func()) error {
	if !cfg.GOGCSet {
		debug.SetGCPercent(defaultGCPercent)
	}
	lw := logbuf.New(stdout, 100*time.Millisecond)
	defer lw.Close()
	// The standard JSON handler: a hand-written one measured twice as fast
	// in-process, but made no difference over HTTP (docs/benchmarks.md), so
	// it did not earn its place.
	logger := slog.New(slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: cfg.LogLevel}))

	authn, err := newAuthenticator(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	srv := newHTTPServer(api.NewServer(api.Options{
		Logger:        logger,
		Authenticator: authn,
		Policy:        cfg.policy(),
	}), logger)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "mode", cfg.Mode, "mode_reason", cfg.ModeReason, "version", buildVersion(readBuildInfo()))
	if ready != nil {
		ready()
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// maxHeaderBytes bounds a request's headers. net/http reads up to 4 KiB
// more before it answers 431 itself (README, Responses and errors).
const maxHeaderBytes = 64 << 10

// newHTTPServer is the server serveOn runs h with. The tests of what
// net/http answers before h sees a request use it, so that the README's
// list of those answers describes this server.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(httpErrorLog{logger}, "", 0),
	}
}

// httpErrorLog carries net/http's own error log into the JSON log. Its
// lines can hold what a client sent (an address, a header it choked on),
// so they are escaped and cut like any client text.
type httpErrorLog struct{ logger *slog.Logger }

// maxHTTPErrorLog bounds one line of net/http's error log.
const maxHTTPErrorLog = 512

func (h httpErrorLog) Write(p []byte) (int, error) {
	h.logger.Warn(bounded.Cut(strings.TrimSuffix(string(p), "\n"), maxHTTPErrorLog), "source", "net/http")
	return len(p), nil
}

// newAuthenticator builds the authenticator the configured mode calls for.
// Nothing here may wait on the network: the host gives the handler 30
// seconds to answer its first probe.
func newAuthenticator(ctx context.Context, cfg config, logger *slog.Logger) (auth.Authenticator, error) {
	cacheSize := cfg.CacheSize
	if cacheSize == 0 {
		cacheSize = -1 // off
	}
	switch cfg.Mode {
	case modeDev:
		key, err := auth.LoadOrCreateDevKey(cfg.DevKeyFile)
		if err != nil {
			return nil, err
		}
		keys, err := key.KeySet()
		if err != nil {
			return nil, err
		}
		v, err := auth.NewVerifier(cfg.verifierConfig(auth.SourceDev, cacheSize), keys)
		if err != nil {
			return nil, err
		}
		logger.Warn("development mode: accepting tokens from the local development issuer only", "tenant", cfg.TenantID, "audiences", cfg.Audiences, "kid", key.KeyID())
		return auth.Bearer(v), nil
	case modeJWT:
		v, err := newEntraVerifier(ctx, cfg, logger, cacheSize)
		if err != nil {
			return nil, err
		}
		return auth.Bearer(v), nil
	case modeEasyAuth:
		var v *auth.Verifier
		if cfg.EasyAuthVerifyToken {
			var err error
			if v, err = newEntraVerifier(ctx, cfg, logger, cacheSize); err != nil {
				return nil, err
			}
		}
		logger.Info("easyauth mode: trusting App Service Authentication's principal headers", "gate", cfg.EasyAuthGate, "verify_token", cfg.EasyAuthVerifyToken)
		return auth.EasyAuth(auth.EasyAuthConfig{TenantID: cfg.TenantID, Audiences: cfg.Audiences, Verifier: v})
	}
	return nil, fmt.Errorf("no authenticator for mode %q", cfg.Mode)
}

// newEntraVerifier returns a verifier of the tenant's Entra ID tokens
// whose keys load in the background until ctx ends. Until they have
// loaded, a call with a token waits for them, at most AUTH_KEYS_WAIT, and
// then gets 503 and Retry-After, never a guess.
func newEntraVerifier(ctx context.Context, cfg config, logger *slog.Logger, cacheSize int) (*auth.Verifier, error) {
	keys, err := auth.NewEntraKeys(auth.EntraKeysConfig{
		Authority:     cfg.Authority,
		TenantID:      cfg.TenantID,
		FirstLoadWait: cfg.KeysWait,
		Logger:        logger,
	})
	if err != nil {
		return nil, err
	}
	go keys.Run(ctx)
	logger.Info("loading signing keys in the background", "metadata", keys.MetadataURLs(), "audiences", cfg.Audiences)
	return auth.NewVerifier(cfg.verifierConfig(auth.SourceJWT, cacheSize), keys)
}

// verifierConfig is what the configuration asks of a verifier: the one
// place serve and explain take it from.
func (c config) verifierConfig(src auth.Source, cacheSize int) auth.Config {
	return auth.Config{TenantID: c.TenantID, Audiences: c.Audiences, Source: src, CacheSize: cacheSize}
}

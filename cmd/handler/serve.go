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
// letting garbage grow to three and a half times it costs little memory,
// and spares the request path collections: about 7% more requests per
// second than Go's default in `make bench`. It was 400 until the Table
// storage SDK added about 2 MB of resident code; 350 keeps the handler
// under load within its 30 MB (docs/benchmarks.md).
const defaultGCPercent = 350

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
	ln, err := listenTCP("tcp", net.JoinHostPort(cfg.Listen.Host, cfg.Listen.Port))
	if err != nil {
		return nil, err
	}
	if !cfg.Auth.loopbackOnly() {
		return ln, nil
	}
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("%s mode listens on loopback only, but LISTEN_HOST=%s bound %s: set LISTEN_HOST=127.0.0.1", cfg.Auth.Mode, shown(cfg.Listen.Host), ln.Addr())
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
	logger := slog.New(slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: cfg.Log.Level}))

	authn, err := newAuthenticator(ctx, cfg.Auth, logger)
	if err != nil {
		ln.Close()
		return err
	}
	svc, store, err := openTasks(cfg.Tasks)
	if err != nil {
		ln.Close()
		return err
	}
	// After the server has drained: in-flight writes finish first.
	defer store.Close()
	srv := newHTTPServer(api.NewServer(api.Options{
		Logger:        logger,
		Authenticator: authn,
		Policy:        cfg.Auth.policy(),
		Tasks:         svc,
		BaseURL:       cfg.Tasks.BaseURL,
	}), logger)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "mode", cfg.Auth.Mode, "mode_reason", cfg.Auth.ModeReason, "tasks_store", cfg.Tasks.description(), "version", buildVersion(readBuildInfo()))
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

// newAuthenticator builds the authenticator the configured mode calls
// for, around newVerifier's verifier. Nothing here may wait on the
// network: the host gives the handler 30 seconds to answer its first
// probe.
func newAuthenticator(ctx context.Context, a authConfig, logger *slog.Logger) (auth.Authenticator, error) {
	var mv modeVerifier
	if a.Mode != modeEasyAuth || a.EasyAuthVerifyToken {
		var err error
		if mv, err = newVerifier(ctx, a, verifierOptions{keys: keysInBackground, cache: true, logger: logger}); err != nil {
			return nil, err
		}
	}
	switch a.Mode {
	case modeDev:
		logger.Warn("development mode: accepting tokens from the local development issuer only", "tenant", a.TenantID, "audiences", a.Audiences, "kid", mv.DevKey.KeyID())
	case modeEasyAuth:
		logger.Info("easyauth mode: trusting App Service Authentication's principal headers", "gate", a.EasyAuthGate, "verify_token", a.EasyAuthVerifyToken)
		return auth.EasyAuth(auth.EasyAuthConfig{TenantID: a.TenantID, Audiences: a.Audiences, Verifier: mv.Verifier})
	}
	return auth.Bearer(mv.Verifier), nil
}

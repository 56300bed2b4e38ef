package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/entrafunc/entrafunc/internal/entratest"
)

// These tests cover the cold start: a request that needs keys which have
// never loaded waits for the load under way, bounded, before it answers
// ErrUnavailable. Time bounds in assertions are generous on purpose; what
// they check is "waited and succeeded" or "gave up instead of hanging".

// holdKeys makes the issuer hold its key set requests (the metadata
// still answers) until the returned function is called, or the issuer
// closes at the end of the test.
func holdKeys(t *testing.T, is *entratest.Issuer) (release func()) {
	t.Helper()
	setOutage(t, is, entratest.Hang, entratest.Keys)
	var once sync.Once
	return func() { once.Do(func() { setOutage(t, is, entratest.Up) }) }
}

func startRun(t *testing.T, k *EntraKeys) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go k.Run(ctx)
}

func TestEntraKeysWaitForTheFirstLoad(t *testing.T) {
	cases := []struct {
		name string
		// callers arrive together while the first load is held back
		callers int
	}{
		{"one caller", 1},
		{"twenty callers share one load", 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is := newEntra(t, "k1")
			release := holdKeys(t, is)
			defer release()
			k, v, _ := newTestKeys(t, is, func(c *EntraKeysConfig) { c.FirstLoadWait = 10 * time.Second })
			startRun(t, k)
			tok := tokenFor(is, "k1")
			errs := make(chan error, c.callers)
			for range c.callers {
				go func() {
					_, err := v.Verify(context.Background(), tok)
					errs <- err
				}()
			}
			waitFor(t, "every caller to wait", func() bool { return k.waiting.Load() == int64(c.callers) })
			if k.ready() {
				t.Fatal("ready while the key set is held back")
			}
			release()
			for range c.callers {
				if err := <-errs; err != nil {
					t.Errorf("a caller waiting for the first load: %v, want success", err)
				}
			}
			if n := is.JWKSFetches(); n != 2 {
				t.Errorf("%d key set GETs for %d callers, want 2 (one load of the v2 and v1 sets)", n, c.callers)
			}
		})
	}
}

func TestEntraKeysWaitIsBounded(t *testing.T) {
	cases := []struct {
		name     string
		wait     time.Duration
		ctx      func() (context.Context, context.CancelFunc)
		wantWhy  string
		mustTake time.Duration // generous upper bound: no hang
	}{
		{"by FirstLoadWait", 150 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, "waited 150ms", 5 * time.Second},
		{"by the request's context", time.Minute, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 150*time.Millisecond)
		}, "the request ended", 5 * time.Second},
		{"not at all when negative", -1, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, "no key set has loaded yet", time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is := newEntra(t, "k1")
			release := holdKeys(t, is) // the issuer never answers during the test
			defer release()
			k, v, _ := newTestKeys(t, is, func(cfg *EntraKeysConfig) { cfg.FirstLoadWait = c.wait })
			startRun(t, k)
			ctx, cancel := c.ctx()
			defer cancel()
			tok := tokenFor(is, "k1")
			start := time.Now()
			_, err := v.Verify(ctx, tok)
			took := time.Since(start)
			if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
				t.Fatalf("%v, want ErrUnavailable only", err)
			}
			if !strings.Contains(err.Error(), c.wantWhy) {
				t.Errorf("error %q does not say %q", err, c.wantWhy)
			}
			if took > c.mustTake {
				t.Errorf("took %v, want well under %v", took, c.mustTake)
			}
		})
	}
}

func TestEntraKeysWaitAcrossAFailedFirstLoad(t *testing.T) {
	cases := []struct {
		name     string
		retryMin time.Duration
		wantOK   bool
		wantWhy  string
	}{
		// The retry comes within the caller's bound: it sees its result.
		{"retry within the bound", 300 * time.Millisecond, true, ""},
		// The retry is scheduled after the bound: waiting cannot help, so
		// the caller hears at once, with the failure that caused it.
		{"retry after the bound", time.Minute, false, "the next try is in"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is := newEntra(t, "k1")
			setOutage(t, is, entratest.Fail)
			k, v, _ := newTestKeys(t, is, func(cfg *EntraKeysConfig) {
				cfg.FirstLoadWait = 10 * time.Second
				cfg.RetryMin, cfg.RetryMax = c.retryMin, c.retryMin
			})
			startRun(t, k)
			waitFor(t, "the first load to fail", func() bool { return k.loads.Load() >= 1 })
			setOutage(t, is, entratest.Up)
			tok := tokenFor(is, "k1")
			if c.wantOK {
				// The callers arrive between the failed load and its
				// retry, when no load runs: they wait for the retry and
				// share it.
				const callers = 10
				errs := make(chan error, callers)
				for range callers {
					go func() {
						_, err := v.Verify(context.Background(), tok)
						errs <- err
					}()
				}
				for range callers {
					if err := <-errs; err != nil {
						t.Fatalf("%v, want the retry's success", err)
					}
				}
				if n, gets := k.loads.Load(), is.JWKSFetches(); n != 2 || gets != 2 {
					t.Errorf("%d loads and %d key set GETs for %d callers, want the failed load and one retry (2, 2)", n, gets, callers)
				}
				return
			}
			start := time.Now()
			_, err := v.Verify(context.Background(), tok)
			// The last failure is Entra's own words for an outage.
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), c.wantWhy) || !strings.Contains(err.Error(), "status 503: temporarily_unavailable") {
				t.Fatalf("%v, want ErrUnavailable naming the next try and the last failure", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v to give up; the next try was a minute away", took)
			}
		})
	}
}

// TestEntraKeysWaitEndsWhenRunDoes: at shutdown no load is coming, so a
// request waiting for the first one is answered at once instead of at
// the end of its wait, which could outlast the server's drain.
func TestEntraKeysWaitEndsWhenRunDoes(t *testing.T) {
	is := newEntra(t, "k1")
	release := holdKeys(t, is)
	defer release()
	k, v, _ := newTestKeys(t, is, func(c *EntraKeysConfig) { c.FirstLoadWait = time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { k.Run(ctx); close(ran) }()
	errc := make(chan error, 1)
	tok := tokenFor(is, "k1")
	go func() {
		_, err := v.Verify(context.Background(), tok)
		errc <- err
	}()
	waitFor(t, "the caller to wait", func() bool { return k.waiting.Load() == 1 })
	cancel()
	<-ran
	select {
	case err := <-errc:
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "the key loader has stopped") {
			t.Fatalf("%v, want ErrUnavailable saying the loader stopped", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the caller still waits after Run returned")
	}
}

func TestEntraKeysWaitReturnsAtOnceOnceLoaded(t *testing.T) {
	is := newEntra(t, "k1")
	k, _, _ := newTestKeys(t, is, nil)
	runKeys(t, k)
	setOutage(t, is, entratest.Fail) // later failures keep the last good set: nobody waits again
	if err := k.Load(context.Background()); err == nil {
		t.Fatal("load against a failing issuer succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := k.Wait(ctx); err != nil {
		t.Fatalf("Wait with a loaded set: %v", err)
	}
}

// TestEntraKeysLoadReportsEntraErrors: a mistyped tenant gets Entra's own
// words back, bounded, so `handler check --online` can show them.
func TestEntraKeysLoadReportsEntraErrors(t *testing.T) {
	const body = `{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant '` + keysTenant + `' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.\r\nTrace ID: e9a899ac-eed7-4828-a580-2c0b8ffb2100\r\nCorrelation ID: 22a58ae7-fe96-44eb-8610-5eeb970d5089\r\nTimestamp: 2023-06-07 08:06:56Z","error_codes":[90002],"error_uri":"https://login.microsoftonline.com/error?code=90002"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	k, err := NewEntraKeys(EntraKeysConfig{Authority: srv.URL, TenantID: keysTenant, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	err = k.Load(context.Background())
	if err == nil {
		t.Fatal("load succeeded against a tenant Entra does not know")
	}
	msg := err.Error()
	if !strings.Contains(msg, "status 400: invalid_tenant: AADSTS90002: Tenant '"+keysTenant+"' not found.") {
		t.Errorf("error %q does not carry Entra's error", msg)
	}
	if strings.Contains(msg, "Trace ID") {
		t.Errorf("error %q repeats more than the description's first line", msg)
	}
}

func TestEntraError(t *testing.T) {
	long := strings.Repeat("é", 400)
	cases := []struct {
		name, body, want string
	}{
		{"first line only", `{"error":"invalid_tenant","error_description":"AADSTS90002: not found.\r\nTrace ID: x"}`, ": invalid_tenant: AADSTS90002: not found."},
		{"no description", `{"error":"invalid_request"}`, ": invalid_request"},
		{"not JSON", `<html>down</html>`, ""},
		{"JSON without error", `{"issuer":"x"}`, ""},
		{"control characters escaped", `{"error":"x\u001b[31m","error_description":"red\u001b]0;title\u0007"}`, `: x\x1b[31m: red\x1b]0;title\a`},
		{"a bidirectional override escaped", `{"error":"x\u202e","error_description":"gnp.exe"}`, `: x\u202e: gnp.exe`},
		{"empty", ``, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := entraError(strings.NewReader(c.body)); got != c.want {
				t.Errorf("entraError(%q) = %q, want %q", c.body, got, c.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		got := entraError(strings.NewReader(`{"error":"x","error_description":"` + long + `"}`))
		if len(got) > maxErrorDescription+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, ": x: é") {
			t.Errorf("%d bytes: %q", len(got), got)
		}
		if !utf8.ValidString(got) {
			t.Error("cut inside a character")
		}
	})
}

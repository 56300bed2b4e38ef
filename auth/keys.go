package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/golang-jwt/jwt/v5"
)

// DefaultFirstLoadWait is the default of [EntraKeysConfig.FirstLoadWait].
const DefaultFirstLoadWait = 5 * time.Second

// The other defaults of [EntraKeysConfig], and the bound of a load that
// no request waits for.
const (
	defaultRefreshInterval    = time.Hour
	defaultUnknownKIDInterval = 5 * time.Minute
	defaultUnknownKIDWait     = 2 * time.Second
	defaultRetryMin           = 500 * time.Millisecond
	defaultRetryMax           = 10 * time.Second
	defaultFetchTimeout       = 10 * time.Second
	defaultLoadTimeout        = 15 * time.Second
)

// maxDocumentBytes bounds a metadata or key set document.
const maxDocumentBytes = 1 << 20

// maxLoggedError bounds a load failure's error in the log, as the request
// log bounds a refusal's: an error may quote what the documents held.
const maxLoggedError = 1024

// boundedAll bounds each of vs for the log: kids and issuers are what
// the metadata documents said, and the log repeats nothing unbounded.
func boundedAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = bounded.String(v)
	}
	return out
}

// EntraKeysConfig configures [EntraKeys]. Zero values take the documented
// defaults.
type EntraKeysConfig struct {
	// Authority is the login host. Default: [DefaultAuthority].
	Authority string
	// TenantID is the tenant whose metadata and keys are loaded. Required.
	TenantID string
	// Client fetches the documents. Default: a client with a 10-second
	// timeout.
	Client *http.Client
	// RefreshInterval is how often the keys are reloaded. Default: 1 hour.
	RefreshInterval time.Duration
	// UnknownKIDInterval is the least time between two reloads caused by
	// tokens with an unknown kid, for the whole process: a flood of
	// random kids must not become a flood of fetches. Default: 5 minutes.
	UnknownKIDInterval time.Duration
	// UnknownKIDWait is the most a request waits for such a reload.
	// Default: 2 seconds.
	UnknownKIDWait time.Duration
	// FirstLoadWait is the most a request waits for keys that have never
	// loaded: after a cold start the host forwards the first request as
	// soon as GET / answers, usually before the keys arrive, and a short
	// wait spares that caller a 503. Requests share the loads under way;
	// one gives up early when the next try is scheduled past its bound.
	// Default: 5 seconds; negative: no wait.
	FirstLoadWait time.Duration
	// RetryMin and RetryMax bound the backoff between failed loads.
	// While no key has ever loaded, RetryMax is also the longest the
	// handler stays unable to judge tokens after the issuer comes back.
	// Defaults: 0.5 s and 10 s.
	RetryMin, RetryMax time.Duration
	// Logger receives load failures and key set changes. Default: discard.
	Logger *slog.Logger
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
}

// EntraKeys is a tenant's signing keys and issuers, loaded from its OpenID
// metadata: the v2 document {authority}/{tenant}/v2.0/.well-known/openid-configuration
// and the v1 document {authority}/{tenant}/.well-known/openid-configuration.
// The accepted issuers are the two documents' issuer values; the keys are
// those at both documents' jwks_uri, replaced as a whole at each load, so a
// key that leaves the issuer's endpoints stops verifying after the next load.
//
// Nothing is fetched until [EntraKeys.Run] or [EntraKeys.Load]; until the
// first load succeeds, [EntraKeys.Wait] waits for it, bounded by
// FirstLoadWait, and then fails with [ErrUnavailable]. A failed load keeps
// the last good set.
type EntraKeys struct {
	cfg EntraKeysConfig

	snap atomic.Pointer[keySnapshot]

	mu              sync.Mutex
	inflight        chan struct{} // closed when the load under way ends
	changed         chan struct{} // closed and replaced when a load ends or a retry is scheduled
	retryAt         time.Time     // when Run tries again after a failed load; zero while one runs
	stopped         bool          // Run has returned: no more loads
	waiting         atomic.Int64  // requests in Wait, for tests
	lastUnknownLoad time.Time
	loads           atomic.Uint64 // completed load attempts, for tests and metrics
	lastErr         atomic.Pointer[lastLoadErr]
}

// keySnapshot is one successful load.
type keySnapshot struct {
	kf          keyfunc.Keyfunc
	issuers     []string
	kids        []string
	fingerprint [32]byte
	generation  uint64
}

// NewEntraKeys returns the key set for cfg. It does no I/O.
func NewEntraKeys(cfg EntraKeysConfig) (*EntraKeys, error) {
	if !IsGUID(cfg.TenantID) {
		return nil, fmt.Errorf("auth: tenant id %q is not a GUID", cfg.TenantID)
	}
	cfg.TenantID = strings.ToLower(cfg.TenantID)
	if cfg.Authority == "" {
		cfg.Authority = DefaultAuthority
	}
	cfg.Authority = strings.TrimRight(cfg.Authority, "/")
	if _, err := url.Parse(cfg.Authority); err != nil {
		return nil, fmt.Errorf("auth: authority: %w", err)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: defaultFetchTimeout}
	}
	setDefault(&cfg.RefreshInterval, defaultRefreshInterval)
	setDefault(&cfg.UnknownKIDInterval, defaultUnknownKIDInterval)
	setDefault(&cfg.UnknownKIDWait, defaultUnknownKIDWait)
	if cfg.FirstLoadWait == 0 {
		cfg.FirstLoadWait = DefaultFirstLoadWait
	}
	setDefault(&cfg.RetryMin, defaultRetryMin)
	setDefault(&cfg.RetryMax, defaultRetryMax)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &EntraKeys{cfg: cfg, changed: make(chan struct{})}, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// MetadataURLs returns the v2 and v1 OpenID metadata documents' URLs.
func (k *EntraKeys) MetadataURLs() []string {
	base := k.cfg.Authority + "/" + k.cfg.TenantID
	return []string{base + "/v2.0/.well-known/openid-configuration", base + "/.well-known/openid-configuration"}
}

// Run loads the keys and keeps them fresh until ctx ends: at once, then
// every RefreshInterval; after a failure, again with backoff between
// RetryMin and RetryMax. It blocks; start it in its own goroutine.
func (k *EntraKeys) Run(ctx context.Context) {
	// Once Run ends no load is coming: requests waiting for the first one
	// must hear so now, not at the end of their wait, or they would hold
	// up the server's shutdown.
	defer func() {
		k.mu.Lock()
		k.stopped = true
		k.broadcastLocked()
		k.mu.Unlock()
	}()
	delay := time.Duration(0)
	backoff := k.cfg.RetryMin
	for {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := k.load(ctx, "scheduled"); err != nil {
			if ctx.Err() != nil {
				return
			}
			delay, backoff = backoff, min(backoff*2, k.cfg.RetryMax)
			k.mu.Lock()
			k.retryAt = time.Now().Add(delay)
			k.broadcastLocked()
			k.mu.Unlock()
			continue
		}
		delay, backoff = k.cfg.RefreshInterval, k.cfg.RetryMin
	}
}

// Load loads the keys once now, or joins the load under way, and returns
// its error. `handler check --online` uses it; a server calls
// [EntraKeys.Run] instead.
func (k *EntraKeys) Load(ctx context.Context) error { return k.load(ctx, "requested") }

// Wait returns nil once a key set has loaded. Until then it waits for the
// loads under way or about to start, sharing them with every other
// waiter, for at most FirstLoadWait and never past ctx. It gives up at
// once when the next try is scheduled after that bound, since nothing can
// change before it. Giving up returns an error matching [ErrUnavailable]
// that says why.
func (k *EntraKeys) Wait(ctx context.Context) error {
	if k.snap.Load() != nil {
		return nil
	}
	if k.cfg.FirstLoadWait < 0 {
		return k.unavailable("")
	}
	deadline, bound := time.Now().Add(k.cfg.FirstLoadWait), "waited "+k.cfg.FirstLoadWait.String()
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, bound = d, "the request ended"
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	k.waiting.Add(1)
	defer k.waiting.Add(-1)
	for {
		k.mu.Lock()
		ready, retryAt, stopped, changed := k.snap.Load() != nil, k.retryAt, k.stopped, k.changed
		k.mu.Unlock()
		switch {
		case ready:
			return nil
		case stopped:
			return k.unavailable("the key loader has stopped")
		case !retryAt.IsZero() && retryAt.After(deadline):
			return k.unavailable("the next try is in " + max(time.Until(retryAt), 0).Round(time.Second).String())
		}
		select {
		case <-changed:
		case <-t.C:
			return k.unavailable(bound)
		case <-ctx.Done():
			return k.unavailable("the request ended")
		}
	}
}

// unavailable is ErrUnavailable with what a log reader needs: why the
// wait ended and how the last load failed.
func (k *EntraKeys) unavailable(why string) error {
	msg := "no key set has loaded yet"
	if why != "" {
		msg += " (" + why + ")"
	}
	if last := k.lastErr.Load(); last != nil && last.err != nil {
		msg += "; last load: " + last.err.Error()
	}
	return fmt.Errorf("%w: %s", ErrUnavailable, msg)
}

// broadcastLocked wakes every [EntraKeys.Wait]. k.mu must be held.
func (k *EntraKeys) broadcastLocked() {
	close(k.changed)
	k.changed = make(chan struct{})
}

// ready reports whether a key set has been loaded.
func (k *EntraKeys) ready() bool { return k.snap.Load() != nil }

// Generation changes whenever the key set does; 0 means none is loaded.
func (k *EntraKeys) Generation() uint64 {
	if s := k.snap.Load(); s != nil {
		return s.generation
	}
	return 0
}

// Issuers returns the issuer values of the loaded metadata.
func (k *EntraKeys) Issuers() []string {
	if s := k.snap.Load(); s != nil {
		return s.issuers
	}
	return nil
}

// KeyIDs returns the kids of the loaded key set.
func (k *EntraKeys) KeyIDs() []string {
	if s := k.snap.Load(); s != nil {
		return s.kids
	}
	return nil
}

// KeyfuncCtx returns the jwt.Keyfunc for tokens of a request with context
// ctx. A token whose kid is not in the set causes at most one reload per
// UnknownKIDInterval for the whole process, and waits for it no longer
// than UnknownKIDWait or ctx allows.
func (k *EntraKeys) KeyfuncCtx(ctx context.Context) jwt.Keyfunc {
	return func(tok *jwt.Token) (any, error) {
		s := k.snap.Load()
		if s == nil {
			return nil, ErrUnavailable
		}
		key, err := s.kf.KeyfuncCtx(ctx)(tok)
		if err == nil || !errors.Is(err, jwkset.ErrKeyNotFound) {
			return key, err
		}
		if !k.reloadForUnknownKID(ctx) {
			return nil, err
		}
		if s2 := k.snap.Load(); s2 != s {
			return s2.kf.KeyfuncCtx(ctx)(tok)
		}
		return nil, err
	}
}

// reloadForUnknownKID joins the load under way, or starts one if the
// unknown-kid window allows, and waits for it within limits. It reports
// whether a load completed.
func (k *EntraKeys) reloadForUnknownKID(ctx context.Context) bool {
	k.mu.Lock()
	ch := k.inflight
	if ch == nil {
		now := k.cfg.Now()
		if !k.lastUnknownLoad.IsZero() && now.Sub(k.lastUnknownLoad) < k.cfg.UnknownKIDInterval {
			k.mu.Unlock()
			return false
		}
		k.lastUnknownLoad = now
		ch = k.startLoadLocked("unknown kid")
	}
	k.mu.Unlock()
	t := time.NewTimer(k.cfg.UnknownKIDWait)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// load runs one load, or joins the one under way, and returns its error.
func (k *EntraKeys) load(ctx context.Context, why string) error {
	k.mu.Lock()
	ch := k.inflight
	if ch == nil {
		ch = k.startLoadLocked(why)
	}
	k.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return ctx.Err()
	}
	return k.lastErr.Load().err
}

// lastLoadErr holds the outcome of the last completed load.
type lastLoadErr struct{ err error }

// startLoadLocked starts a load in the background. The load is not tied
// to any request's context: a caller that gives up must not abort a load
// other callers wait for. k.mu must be held.
func (k *EntraKeys) startLoadLocked(why string) chan struct{} {
	ch := make(chan struct{})
	k.inflight = ch
	k.retryAt = time.Time{}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), defaultLoadTimeout)
		defer cancel()
		err := k.fetch(ctx)
		k.loads.Add(1)
		k.lastErr.Store(&lastLoadErr{err})
		if err != nil {
			// Say what is true: before the first good load there is no
			// key set to keep, and bearer tokens get 503 until one loads.
			msg := "signing keys: load failed; keeping the last good key set"
			if !k.ready() {
				msg = "signing keys: load failed; no key set has loaded yet, so bearer tokens get 503 until one does (retrying)"
			}
			k.cfg.Logger.Error(msg, "why", why, "authority", k.cfg.Authority, "ready", k.ready(), "error", bounded.Cut(err.Error(), maxLoggedError))
		}
		k.mu.Lock()
		k.inflight = nil
		k.broadcastLocked()
		k.mu.Unlock()
		close(ch)
	}()
	return ch
}

// fetch loads both metadata documents and their key sets, and installs the
// result if it is whole.
func (k *EntraKeys) fetch(ctx context.Context) error {
	var issuers, jwksURIs []string
	for _, u := range k.MetadataURLs() {
		var md struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := k.getJSON(ctx, u, &md); err != nil {
			return err
		}
		if md.Issuer == "" || md.JWKSURI == "" {
			return fmt.Errorf("metadata %s: no issuer or jwks_uri", u)
		}
		if !strings.Contains(md.Issuer, k.cfg.TenantID) {
			return fmt.Errorf("metadata %s: issuer %s is not the tenant's", u, bounded.Quote(md.Issuer))
		}
		if err := k.checkURL(md.JWKSURI); err != nil {
			return fmt.Errorf("metadata %s: jwks_uri: %w", u, err)
		}
		issuers = append(issuers, md.Issuer)
		if !slices.Contains(jwksURIs, md.JWKSURI) {
			jwksURIs = append(jwksURIs, md.JWKSURI)
		}
	}

	store := jwkset.NewMemoryStorage()
	var kids []string
	h := sha256.New()
	for _, u := range jwksURIs {
		var set jwkset.JWKSMarshal
		if err := k.getJSON(ctx, u, &set); err != nil {
			return err
		}
		for _, m := range set.Keys {
			if m.KTY != jwkset.KtyRSA || m.USE != "" && m.USE != jwkset.UseSig || m.KID == "" || slices.Contains(kids, m.KID) {
				continue
			}
			jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
			if err != nil {
				// One unusable key must not stop the others from loading.
				k.cfg.Logger.Warn("signing keys: skipping a key that does not parse", "kid", bounded.String(m.KID), "url", bounded.String(u), "error", bounded.Cut(err.Error(), maxLoggedError))
				continue
			}
			store.KeyWrite(ctx, jwk)
			kids = append(kids, m.KID)
			fmt.Fprintf(h, "%s|%s|%s\n", m.KID, m.N, m.E)
		}
	}
	if len(kids) == 0 {
		return fmt.Errorf("no usable RSA signing key at %s", strings.Join(jwksURIs, ", "))
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: context.Background(), Storage: store})
	if err != nil {
		return err
	}
	next := &keySnapshot{kf: kf, issuers: issuers, kids: kids}
	h.Sum(next.fingerprint[:0])
	prev := k.snap.Load()
	switch {
	case prev == nil:
		next.generation = 1
		k.cfg.Logger.Info("signing keys: loaded", "kids", boundedAll(kids), "issuers", boundedAll(issuers))
	case prev.fingerprint == next.fingerprint && slices.Equal(prev.issuers, issuers):
		next.generation = prev.generation
	default:
		next.generation = prev.generation + 1
		k.cfg.Logger.Info("signing keys: key set changed", "kids", boundedAll(kids), "previous_kids", boundedAll(prev.kids))
	}
	k.snap.Store(next)
	return nil
}

func (k *EntraKeys) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d%s", u, resp.StatusCode, entraError(resp.Body))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocumentBytes)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// checkURL refuses key locations that are not https, unless the authority
// itself is a loopback http test issuer.
func (k *EntraKeys) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme == "https" && u.Host != "" {
		return nil
	}
	if a, _ := url.Parse(k.cfg.Authority); u.Scheme == "http" && a != nil && a.Scheme == "http" && u.Host == a.Host {
		return nil
	}
	// Bounded: every 503's log line repeats the last load's error.
	return fmt.Errorf("%s is not an https URL", bounded.Quote(raw))
}

// maxErrorDescription bounds how much of an error document is repeated in
// a log line or by `handler check --online`.
const maxErrorDescription = 300

// entraError renders the OAuth error document Entra ID answers a failed
// metadata request with, such as a mistyped tenant's
// {"error":"invalid_tenant","error_description":"AADSTS90002: Tenant '…'
// not found. …"}: the error code and the first line of the description,
// bounded. Anything else renders as nothing.
func entraError(body io.Reader) string {
	var doc struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.NewDecoder(io.LimitReader(body, 64<<10)).Decode(&doc) != nil || doc.Error == "" {
		return ""
	}
	desc, _, _ := strings.Cut(doc.Description, "\n")
	desc = strings.TrimSpace(strings.TrimSuffix(desc, "\r"))
	out := ": " + doc.Error
	if desc != "" {
		out += ": " + desc
	}
	// Control and format characters escaped: a fetched text printed by
	// `handler check --online` must not drive the terminal.
	return bounded.Cut(out, maxErrorDescription)
}

// StaticKeySet is a [KeySet] of fixed keys, always ready: the development
// issuer's, or a test's.
type StaticKeySet struct {
	kf keyfunc.Keyfunc
}

// NewStaticKeySet returns the keys of a JWK Set document.
func NewStaticKeySet(jwks []byte) (*StaticKeySet, error) {
	kf, err := keyfunc.NewJWKSetJSON(jwks)
	if err != nil {
		return nil, err
	}
	return &StaticKeySet{kf: kf}, nil
}

// Wait returns nil: the keys are there from the start.
func (*StaticKeySet) Wait(context.Context) error { return nil }

// KeyfuncCtx implements [KeySet].
func (s *StaticKeySet) KeyfuncCtx(ctx context.Context) jwt.Keyfunc { return s.kf.KeyfuncCtx(ctx) }

// Issuers returns nil: a fixed set discovers no issuer.
func (*StaticKeySet) Issuers() []string { return nil }

// Generation returns 0: the keys never change.
func (*StaticKeySet) Generation() uint64 { return 0 }

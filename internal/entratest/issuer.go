package entratest

import (
	"embed"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Identities used when a [Config] or [Token] leaves them empty. They name no
// real tenant or application.
const (
	// DefaultTenantID is the tenant an issuer serves.
	DefaultTenantID = "4d2f6a8e-1c3b-4e5f-9a7d-2b8c6e0f1a3d"
	// DefaultClientID is the protected API's application (client) id: the
	// audience of v2 access tokens.
	DefaultClientID = "6f1c9b2a-3e4d-4c5b-8a9f-7e6d5c4b3a21"
	// DefaultClientAppID is the calling client's application id (a
	// connector's app registration): azp in v2 tokens, appid in v1.
	DefaultClientAppID = "c0ffee00-1234-4abc-9def-0123456789ab"
	// DefaultUserObjectID is the signed-in user's oid.
	DefaultUserObjectID = "7912fe7b-b5ab-425b-bb1f-0e83b99fca7f"
	// DefaultAppObjectID is the calling app's service principal oid, in
	// app-only tokens.
	DefaultAppObjectID = "0d5c1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
	// DefaultScope is the delegated scope of access tokens.
	DefaultScope = "user_impersonation"
)

// Version is a token or metadata version, as Entra writes it in ver.
type Version string

// The two versions of Entra's endpoints and tokens.
const (
	V1 Version = "1.0"
	V2 Version = "2.0"
)

// Config configures an [Issuer]. The zero value is a working issuer for
// [DefaultTenantID] with one key.
type Config struct {
	// TenantID is the tenant GUID served. Default: DefaultTenantID.
	TenantID string
	// ClientID is the protected API's client id, the audience of v2
	// access tokens. Default: DefaultClientID.
	ClientID string
	// AppIDURI is the API's App ID URI, the audience of v1 access tokens
	// (a connector's Resource URL). Default: "api://" + ClientID.
	AppIDURI string
	// KeyIDs are the kids published at start, each a new key; an empty
	// string is a key whose kid is its thumbprint, as Entra's are.
	// Default (nil): one key of that kind; an empty list publishes none.
	KeyIDs []string
	// Addr is the listening address. Default: "127.0.0.1:0", any port. A
	// fixed address lets a test point a client at the issuer and take it
	// down before the client first calls ([Issuer.SetOutage] with Refuse).
	Addr string
	// Latency delays every answer; see [Issuer.SetLatency].
	Latency time.Duration
	// LocalIssuers makes the issuer values {URL}/{tenant}/v2.0 and
	// {URL}/{tenant}/ instead of Entra's, for clients that want the issuer
	// to be the discovery URL's prefix (go-oidc). Tokens follow.
	LocalIssuers bool
	// V2Metadata and V1Metadata replace the served documents' templates.
	// They are rewritten as the built-in ones are: {tenantid} becomes the
	// tenant, https://login.microsoftonline.com/common becomes
	// {URL}/{tenant}. Default: Entra's 2024-02-02 common documents.
	V2Metadata, V1Metadata []byte
	// Now is the clock of minted tokens. Default: time.Now.
	Now func() time.Time
}

// Outage is what the issuer does instead of answering; see
// [Issuer.SetOutage].
type Outage int

// The outages.
const (
	// Up answers normally.
	Up Outage = iota
	// Refuse closes the listener and every open connection: connections
	// are refused, as for an unreachable host. It applies to every
	// endpoint.
	Refuse
	// Fail answers 503 with an Entra-style OAuth error document.
	Fail
	// Hang holds each request until the outage ends, the client gives up
	// or the issuer closes.
	Hang
)

// Endpoint selects the documents an outage applies to.
type Endpoint int

// The endpoints.
const (
	// Metadata is both OpenID metadata documents.
	Metadata Endpoint = iota
	// Keys is both key sets.
	Keys
	numEndpoints
)

//go:embed metadata/*.json
var builtinMetadata embed.FS

// Issuer is a running Entra-shaped issuer. Its methods are safe for
// concurrent use.
type Issuer struct {
	cfg  Config
	srv  *httptest.Server
	ln   *switchListener
	base string

	mu        sync.Mutex
	keys      map[string]*signingKey
	published []string
	raw       []json.RawMessage
	jwks      [2]atomic.Pointer[[]byte] // by versionIndex

	metadata map[string][2][]byte // by path tenant, then versionIndex

	latency  atomic.Int64 // nanoseconds
	outage   [numEndpoints]atomic.Int32
	released chan struct{} // closed when a Hang outage ends; guarded by mu
	closing  chan struct{} // closed by Close

	metadataGets atomic.Int64
	jwksGets     atomic.Int64
}

// New starts an issuer for tb, failing it if the issuer cannot start, and
// closes the issuer when tb ends.
func New(tb testing.TB, cfg Config) *Issuer {
	tb.Helper()
	is, err := Start(cfg)
	if err != nil {
		tb.Fatalf("entratest: %v", err)
	}
	tb.Cleanup(is.Close)
	return is
}

// Start starts an issuer. The caller closes it with [Issuer.Close].
func Start(cfg Config) (*Issuer, error) {
	if cfg.TenantID == "" {
		cfg.TenantID = DefaultTenantID
	}
	cfg.TenantID = strings.ToLower(cfg.TenantID)
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.AppIDURI == "" {
		cfg.AppIDURI = "api://" + cfg.ClientID
	}
	if cfg.KeyIDs == nil {
		cfg.KeyIDs = []string{""}
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var err error
	if cfg.V2Metadata == nil {
		if cfg.V2Metadata, err = builtinMetadata.ReadFile("metadata/common-v2-openid-configuration-2024-02-02.json"); err != nil {
			return nil, err
		}
	}
	if cfg.V1Metadata == nil {
		if cfg.V1Metadata, err = builtinMetadata.ReadFile("metadata/common-v1-openid-configuration-2024-02-02.json"); err != nil {
			return nil, err
		}
	}

	ln, err := newSwitchListener(cfg.Addr)
	if err != nil {
		return nil, err
	}
	is := &Issuer{
		cfg:      cfg,
		ln:       ln,
		base:     "http://" + ln.Addr().String(),
		keys:     map[string]*signingKey{},
		released: make(chan struct{}),
		closing:  make(chan struct{}),
	}
	is.latency.Store(int64(cfg.Latency))
	// The documents depend on the address, known only now; they are
	// rendered once rather than per request.
	is.metadata = map[string][2][]byte{}
	for _, tenant := range []string{cfg.TenantID, "common", "organizations"} {
		var docs [2][]byte
		for _, v := range []Version{V1, V2} {
			if docs[versionIndex(v)], err = is.renderMetadata(tenant, v); err != nil {
				ln.Close()
				return nil, err
			}
		}
		is.metadata[tenant] = docs
	}
	is.SetKeys() // renders the empty sets
	for _, kid := range cfg.KeyIDs {
		is.AddKey(kid)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", is.serveMetadata(V2))
	mux.HandleFunc("GET /{tenant}/.well-known/openid-configuration", is.serveMetadata(V1))
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", is.serveKeys(V2))
	mux.HandleFunc("GET /{tenant}/discovery/keys", is.serveKeys(V1))
	is.srv = httptest.NewUnstartedServer(mux)
	// httptest listens on an address of its choosing; the issuer needs
	// its own listener, which it can close and reopen at the same address.
	is.srv.Listener.Close()
	is.srv.Listener = ln
	is.srv.Start()
	return is, nil
}

// Close shuts the issuer down, releasing held requests first.
func (is *Issuer) Close() {
	is.mu.Lock()
	select {
	case <-is.closing:
		is.mu.Unlock()
		return
	default:
	}
	close(is.closing)
	is.mu.Unlock()
	is.srv.Close()
	is.ln.Close()
}

// URL is the authority: http://127.0.0.1:PORT, with no trailing slash.
func (is *Issuer) URL() string { return is.base }

// TenantID returns the tenant served.
func (is *Issuer) TenantID() string { return is.cfg.TenantID }

// ClientID returns the API's client id (v2 access tokens' aud).
func (is *Issuer) ClientID() string { return is.cfg.ClientID }

// AppIDURI returns the API's App ID URI (v1 access tokens' aud).
func (is *Issuer) AppIDURI() string { return is.cfg.AppIDURI }

// IssuerURL is the issuer value of version v's metadata, and so the iss of
// that version's tokens.
func (is *Issuer) IssuerURL(v Version) string {
	switch {
	case is.cfg.LocalIssuers && v == V1:
		return is.base + "/" + is.cfg.TenantID + "/"
	case is.cfg.LocalIssuers:
		return is.base + "/" + is.cfg.TenantID + "/v2.0"
	case v == V1:
		return "https://sts.windows.net/" + is.cfg.TenantID + "/"
	default:
		return "https://login.microsoftonline.com/" + is.cfg.TenantID + "/v2.0"
	}
}

// MetadataURL is the URL of version v's OpenID metadata document.
func (is *Issuer) MetadataURL(v Version) string {
	if v == V1 {
		return is.base + "/" + is.cfg.TenantID + "/.well-known/openid-configuration"
	}
	return is.base + "/" + is.cfg.TenantID + "/v2.0/.well-known/openid-configuration"
}

// JWKSURL is the jwks_uri of version v's metadata (with the built-in
// documents).
func (is *Issuer) JWKSURL(v Version) string {
	if v == V1 {
		return is.base + "/" + is.cfg.TenantID + "/discovery/keys"
	}
	return is.base + "/" + is.cfg.TenantID + "/discovery/v2.0/keys"
}

// SetLatency delays every answer by d from now on (0: none), the way the
// network to Entra ID does. A held or delayed request still ends early
// when its client gives up.
func (is *Issuer) SetLatency(d time.Duration) { is.latency.Store(int64(d)) }

// SetOutage switches an outage on or off: o applies to the endpoints
// named, or to all when none is. Refuse always applies to all, and Up
// with no endpoint ends every outage. Ending a Hang outage releases the
// requests it holds. The error is a failure to listen again at the
// issuer's address after Refuse (another process took the port).
func (is *Issuer) SetOutage(o Outage, only ...Endpoint) error {
	if len(only) == 0 || o == Refuse {
		only = []Endpoint{Metadata, Keys}
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	hanging := false
	for _, ep := range only {
		is.outage[ep].Store(int32(o))
	}
	for ep := range numEndpoints {
		hanging = hanging || Outage(is.outage[ep].Load()) == Hang
	}
	if !hanging {
		close(is.released)
		is.released = make(chan struct{})
	}
	if o == Refuse {
		is.ln.pause()
		is.srv.CloseClientConnections()
		return nil
	}
	if Outage(is.outage[Metadata].Load()) != Refuse && Outage(is.outage[Keys].Load()) != Refuse {
		return is.ln.resume()
	}
	return nil
}

// MetadataFetches counts the requests for a metadata document that
// reached the issuer, whatever the answer (connections refused during an
// outage are not counted).
func (is *Issuer) MetadataFetches() int64 { return is.metadataGets.Load() }

// JWKSFetches counts the requests for a key set that reached the issuer,
// whatever the answer.
func (is *Issuer) JWKSFetches() int64 { return is.jwksGets.Load() }

func versionIndex(v Version) int {
	if v == V1 {
		return 0
	}
	return 1
}

// renderMetadata makes version v's document for the tenant segment
// tenant, as Entra serves it: the tenant's GUID in place of {tenantid},
// except for common and organizations, whose issuer stays a template.
func (is *Issuer) renderMetadata(tenant string, v Version) ([]byte, error) {
	tmpl := is.cfg.V2Metadata
	if v == V1 {
		tmpl = is.cfg.V1Metadata
	}
	doc := strings.ReplaceAll(string(tmpl), "https://login.microsoftonline.com/common", is.base+"/"+tenant)
	if tenant != is.cfg.TenantID {
		return []byte(doc), nil
	}
	doc = strings.ReplaceAll(doc, "{tenantid}", tenant)
	if !is.cfg.LocalIssuers {
		return []byte(doc), nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return nil, fmt.Errorf("metadata template v%s: %w", v, err)
	}
	iss, _ := json.Marshal(is.IssuerURL(v))
	m["issuer"] = iss
	return json.MarshalIndent(m, "", "  ")
}

func (is *Issuer) serveMetadata(v Version) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		is.metadataGets.Add(1)
		if !is.delay(w, r, Metadata) {
			return
		}
		docs, ok := is.metadata[strings.ToLower(r.PathValue("tenant"))]
		if !ok {
			invalidTenant(w, r.PathValue("tenant"))
			return
		}
		writeJSON(w, docs[versionIndex(v)])
	}
}

func (is *Issuer) serveKeys(v Version) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		is.jwksGets.Add(1)
		if !is.delay(w, r, Keys) {
			return
		}
		if _, ok := is.metadata[strings.ToLower(r.PathValue("tenant"))]; !ok {
			invalidTenant(w, r.PathValue("tenant"))
			return
		}
		writeJSON(w, *is.jwks[versionIndex(v)].Load())
	}
}

// delay applies the latency and any outage of ep, and reports whether the
// request is still to be answered.
func (is *Issuer) delay(w http.ResponseWriter, r *http.Request, ep Endpoint) bool {
	if d := time.Duration(is.latency.Load()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-is.closing:
			return false
		}
	}
	for {
		switch Outage(is.outage[ep].Load()) {
		case Fail:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"AADSTS90033: A transient error has occurred. Please try again. (entratest outage)","error_codes":[90033]}`))
			return false
		case Hang:
			// The outage is read again under the lock that SetOutage holds,
			// or a request could take the channel of the next Hang.
			is.mu.Lock()
			released, still := is.released, Outage(is.outage[ep].Load()) == Hang
			is.mu.Unlock()
			if !still {
				continue
			}
			select {
			case <-released:
				continue // the outage may have become another one
			case <-r.Context().Done():
				return false
			case <-is.closing:
				return false
			}
		}
		return true
	}
}

// invalidTenant answers as Entra does for a tenant it does not know.
func invalidTenant(w http.ResponseWriter, tenant string) {
	desc, _ := json.Marshal(fmt.Sprintf("AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"error":"invalid_tenant","error_description":%s,"error_codes":[90002]}`, desc)
}

func writeJSON(w http.ResponseWriter, doc []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(doc)
}

// switchListener is a listener at a fixed address that can stop
// listening, so that connecting is refused, and listen again.
type switchListener struct {
	addr net.Addr

	mu      sync.Mutex
	inner   net.Listener  // nil while paused
	resumed chan struct{} // closed when listening again
	closed  chan struct{}
}

func newSwitchListener(addr string) (*switchListener, error) {
	inner, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &switchListener{addr: inner.Addr(), inner: inner, resumed: make(chan struct{}), closed: make(chan struct{})}, nil
}

func (l *switchListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		inner, resumed := l.inner, l.resumed
		l.mu.Unlock()
		select {
		case <-l.closed:
			return nil, net.ErrClosed
		default:
		}
		if inner == nil {
			select {
			case <-resumed:
			case <-l.closed:
			}
			continue
		}
		c, err := inner.Accept()
		if err == nil {
			return c, nil
		}
		select {
		case <-l.closed:
			return nil, net.ErrClosed
		default:
		}
		// An error from a listener that pause closed is not the end of
		// serving, which is what http.Server makes of any Accept error.
		l.mu.Lock()
		paused := l.inner != inner
		l.mu.Unlock()
		if !paused {
			return nil, err
		}
	}
}

func (l *switchListener) pause() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inner != nil {
		l.inner.Close()
		l.inner = nil
	}
}

func (l *switchListener) resume() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inner != nil {
		return nil
	}
	inner, err := net.Listen("tcp", l.addr.String())
	if err != nil {
		return fmt.Errorf("entratest: listening again at %s: %w", l.addr, err)
	}
	l.inner = inner
	close(l.resumed)
	l.resumed = make(chan struct{})
	return nil
}

func (l *switchListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	if l.inner != nil {
		err := l.inner.Close()
		l.inner = nil
		return err
	}
	return nil
}

func (l *switchListener) Addr() net.Addr { return l.addr }

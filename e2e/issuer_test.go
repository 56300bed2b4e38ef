package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// issuer is a local stand-in for Entra ID's login host, over real HTTP: it
// serves a tenant's v1 and v2 OpenID metadata (real documents made
// tenant-specific) and their key sets, with keys shaped like Entra's (kid,
// x5t, n, e, a self-signed x5c), and signs tokens shaped like Entra's.
type issuer struct {
	t      *testing.T
	tenant string

	mu        sync.Mutex
	keys      map[string]*rsa.PrivateKey
	certs     map[string][]byte
	published []string

	srv      *http.Server
	base     string
	jwksGets atomic.Int64
	mdGets   atomic.Int64
	// latency delays every answer, as the way to Entra ID does.
	latency atomic.Int64 // nanoseconds
}

func newIssuer(t *testing.T, tenant string) *issuer {
	return &issuer{t: t, tenant: tenant, keys: map[string]*rsa.PrivateKey{}, certs: map[string][]byte{}}
}

// start serves on addr ("127.0.0.1:0" for any port).
func (is *issuer) start(addr string) {
	is.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		is.t.Fatal(err)
	}
	is.base = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", is.metadata("common-v2-openid-configuration-2024-02-02.json"))
	mux.HandleFunc("GET /{tenant}/.well-known/openid-configuration", is.metadata("common-v1-openid-configuration-2024-02-02.json"))
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", is.jwks(true))
	mux.HandleFunc("GET /{tenant}/discovery/keys", is.jwks(false))
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(is.latency.Load()))
		mux.ServeHTTP(w, r)
	})
	is.srv = &http.Server{Handler: slow, ReadHeaderTimeout: 5 * time.Second}
	go is.srv.Serve(ln)
	is.t.Cleanup(is.stop)
}

func (is *issuer) stop() {
	if is.srv != nil {
		is.srv.Close()
	}
}

// metadata serves a real Entra document, tenant-specific: endpoints on
// this issuer's address, issuer values as Entra writes them.
func (is *issuer) metadata(file string) http.HandlerFunc {
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		is.t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		is.mdGets.Add(1)
		if r.PathValue("tenant") != is.tenant {
			http.Error(w, `{"error":"invalid_tenant"}`, http.StatusBadRequest)
			return
		}
		doc := strings.ReplaceAll(string(raw), "https://login.microsoftonline.com/common", is.base+"/"+is.tenant)
		doc = strings.ReplaceAll(doc, "{tenantid}", is.tenant)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte(doc))
	}
}

func (is *issuer) jwks(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		is.jwksGets.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		keys := []map[string]any{}
		for _, kid := range is.published {
			k := is.keys[kid]
			sum := sha1.Sum(is.certs[kid])
			jwk := map[string]any{
				"kty": "RSA", "use": "sig", "kid": kid,
				"x5t": base64.RawURLEncoding.EncodeToString(sum[:]),
				"n":   base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
				"x5c": []string{base64.StdEncoding.EncodeToString(is.certs[kid])},
			}
			if v2 {
				jwk["issuer"] = "https://login.microsoftonline.com/" + is.tenant + "/v2.0"
			}
			keys = append(keys, jwk)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}
}

// publish makes kids the whole published key set, creating keys as needed.
func (is *issuer) publish(kids ...string) {
	is.t.Helper()
	is.mu.Lock()
	defer is.mu.Unlock()
	for _, kid := range kids {
		if is.keys[kid] == nil {
			is.keys[kid], is.certs[kid] = newSigningKey(is.t)
		}
	}
	is.published = kids
}

func newSigningKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return k, der
}

// sign signs claims with the key kid, which need not be published (nor
// exist: an unknown kid gets a fresh key nobody publishes).
func (is *issuer) sign(kid string, claims jwt.MapClaims) string {
	is.t.Helper()
	is.mu.Lock()
	k := is.keys[kid]
	if k == nil {
		k, is.certs[kid] = newSigningKey(is.t)
		is.keys[kid] = k
	}
	thumb := sha1.Sum(is.certs[kid])
	is.mu.Unlock()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	if claims["ver"] == "1.0" { // v1 tokens also name the key by x5t
		tok.Header["x5t"] = base64.RawURLEncoding.EncodeToString(thumb[:])
	}
	s, err := tok.SignedString(k)
	if err != nil {
		is.t.Fatal(err)
	}
	return s
}

// The app registrations of the e2e tenant.
const (
	e2eTenant       = "4d2f6a8e-1c3b-4e5f-9a7d-2b8c6e0f1a3d"
	otherTenant     = "9b1e2c3d-4f5a-4b6c-8d7e-0f1a2b3c4d5e"
	apiClientID     = "6f1c9b2a-3e4d-4c5b-8a9f-7e6d5c4b3a21"
	connectorAppID  = "c0ffee00-1234-4abc-9def-0123456789ab"
	resourceURL     = "https://entrafunc-e2e.azurewebsites.net"
	userOID         = "7912fe7b-b5ab-425b-bb1f-0e83b99fca7f"
	allowedGroupOID = "11b8475a-fb12-41aa-b1f6-8497c1b5385b"
)

// v1Claims is a delegated v1.0 access token as a connector gets it with a
// Resource URL (compare the passport fixture in shared/fixtures/entra).
func v1Claims(tenant string) jwt.MapClaims {
	now := time.Now().Unix()
	return jwt.MapClaims{
		"aud": resourceURL, "iss": "https://sts.windows.net/" + tenant + "/",
		"iat": now - 60, "nbf": now - 60, "exp": now + 3600,
		"acr": "1", "aio": "AVQAq/8TAAAA", "amr": []string{"pwd"},
		"appid": connectorAppID, "appidacr": "1",
		"family_name": "Lovelace", "given_name": "Ada", "ipaddr": "203.0.113.7", "name": "Ada Lovelace",
		"oid": userOID, "rh": "0.AXEAoaGNJrSduUix_mgyULqQzA.", "scp": "user_impersonation",
		"sub": "Ku2-Ft9lY9i2Bvfhmq4166ZH3kWH4WXtmzG9M-8MFac", "tid": tenant,
		"unique_name": "ada@contoso.onmicrosoft.com", "upn": "ada@contoso.onmicrosoft.com",
		"uti": "FVsGxYXI30-TuikuuUoFAA", "ver": "1.0",
	}
}

// v2Claims is a delegated v2.0 access token (compare the navikt fixture).
func v2Claims(tenant string) jwt.MapClaims {
	now := time.Now().Unix()
	return jwt.MapClaims{
		"aud": apiClientID, "iss": "https://login.microsoftonline.com/" + tenant + "/v2.0",
		"iat": now - 60, "nbf": now - 60, "exp": now + 3600,
		"aio": "ATQAy/8WAAAA", "azp": connectorAppID, "azpacr": "1",
		"groups": []string{allowedGroupOID, "3e28466f-c53d-46da-8b44-a4abc2ad4593"},
		"name":   "Ada Lovelace", "oid": userOID, "preferred_username": "ada@contoso.onmicrosoft.com",
		"rh": "0.AXEAoaGNJrSduUix_mgyULqQzA.", "scp": "user_impersonation",
		"sub": "kXERk3Sn56ZH3zTvEb0IxpflLdWoMzulDO6s1fCDdow", "tid": tenant,
		"uti": "p4tMxz_NwECmuyUrN8IxAA", "ver": "2.0",
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// jwtEnv is the environment of a handler in jwt mode against is.
func jwtEnv(is *issuer) map[string]string {
	return map[string]string{
		"AUTH_MODE":      "jwt",
		"AUTH_TENANT_ID": e2eTenant,
		"AUTH_AUDIENCES": "api://" + apiClientID + "," + apiClientID + "," + resourceURL,
		"AUTH_AUTHORITY": is.base,
	}
}

// waitStatus polls until the request answers want, for at most limit.
func (p *proc) waitStatus(r request, want int, limit time.Duration) response {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := p.do(r)
		if got.status == want {
			return got
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s %s: still %d after %v, want %d: %s\nlog: %s", r.method, r.path, got.status, limit, want, got.body, p.stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

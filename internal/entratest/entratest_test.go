package entratest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/entratest"
)

var client = &http.Client{Timeout: 10 * time.Second}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	status, body := get(t, url)
	if status != 200 {
		t.Fatalf("GET %s: %d %s", url, status, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

type metadata struct {
	Issuer        string `json:"issuer"`
	JWKSURI       string `json:"jwks_uri"`
	TokenEndpoint string `json:"token_endpoint"`
}

func TestMetadataIsEntrasMadeTenantSpecific(t *testing.T) {
	is := entratest.New(t, entratest.Config{})
	tid := entratest.DefaultTenantID
	for _, tc := range []struct {
		v        entratest.Version
		issuer   string
		jwks     string
		endpoint string
	}{
		{entratest.V2, "https://login.microsoftonline.com/" + tid + "/v2.0", is.URL() + "/" + tid + "/discovery/v2.0/keys", is.URL() + "/" + tid + "/oauth2/v2.0/token"},
		{entratest.V1, "https://sts.windows.net/" + tid + "/", is.URL() + "/" + tid + "/discovery/keys", is.URL() + "/" + tid + "/oauth2/token"},
	} {
		var md metadata
		getJSON(t, is.MetadataURL(tc.v), &md)
		if md.Issuer != tc.issuer || md.Issuer != is.IssuerURL(tc.v) {
			t.Errorf("v%s issuer %q, want %q (IssuerURL %q)", tc.v, md.Issuer, tc.issuer, is.IssuerURL(tc.v))
		}
		if md.JWKSURI != tc.jwks || md.JWKSURI != is.JWKSURL(tc.v) {
			t.Errorf("v%s jwks_uri %q, want %q", tc.v, md.JWKSURI, tc.jwks)
		}
		if md.TokenEndpoint != tc.endpoint {
			t.Errorf("v%s token_endpoint %q, want %q", tc.v, md.TokenEndpoint, tc.endpoint)
		}
	}

	// common keeps Entra's templated issuer; an unknown tenant gets
	// Entra's error document.
	var md metadata
	getJSON(t, is.URL()+"/common/v2.0/.well-known/openid-configuration", &md)
	if md.Issuer != "https://login.microsoftonline.com/{tenantid}/v2.0" {
		t.Errorf("common issuer %q, want the template", md.Issuer)
	}
	status, body := get(t, is.URL()+"/9b1e2c3d-4f5a-4b6c-8d7e-0f1a2b3c4d5e/v2.0/.well-known/openid-configuration")
	if status != 400 || !strings.Contains(body, `"error":"invalid_tenant"`) || !strings.Contains(body, "AADSTS90002") {
		t.Errorf("unknown tenant: %d %s", status, body)
	}
}

func TestLocalIssuers(t *testing.T) {
	is := entratest.New(t, entratest.Config{LocalIssuers: true})
	for _, v := range []entratest.Version{entratest.V1, entratest.V2} {
		var md metadata
		getJSON(t, is.MetadataURL(v), &md)
		if !strings.HasPrefix(md.Issuer, is.URL()+"/"+is.TenantID()+"/") || md.Issuer != is.IssuerURL(v) {
			t.Errorf("v%s issuer %q, want under %s", v, md.Issuer, is.URL())
		}
		// go-oidc's rule: the issuer is the discovery URL's prefix.
		if strings.TrimSuffix(md.Issuer, "/")+"/.well-known/openid-configuration" != is.MetadataURL(v) {
			t.Errorf("v%s issuer %q is not the prefix of %s", v, md.Issuer, is.MetadataURL(v))
		}
		claims := parse(t, is, is.Mint(entratest.Token{Version: v}))
		if claims["iss"] != md.Issuer {
			t.Errorf("v%s token iss %v, want %s", v, claims["iss"], md.Issuer)
		}
	}
}

// TestKeysAreEntraShaped holds the key sets to Entra's shape and to
// keyfunc's strict parsing (n and e match x5c, x5t is its thumbprint).
func TestKeysAreEntraShaped(t *testing.T) {
	is := entratest.New(t, entratest.Config{})
	kids := is.KeyIDs()
	if len(kids) != 1 {
		t.Fatalf("kids %v, want one", kids)
	}
	for _, v := range []entratest.Version{entratest.V1, entratest.V2} {
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		getJSON(t, is.JWKSURL(v), &set)
		if len(set.Keys) != 1 {
			t.Fatalf("v%s: %d keys", v, len(set.Keys))
		}
		k := set.Keys[0]
		if k["kty"] != "RSA" || k["use"] != "sig" || k["kid"] != kids[0] || k["kid"] != k["x5t"] {
			t.Errorf("v%s key %v: want RSA, sig, kid = x5t", v, k)
		}
		if _, ok := k["alg"]; ok {
			t.Errorf("v%s key has alg; Entra's have none", v)
		}
		if iss, ok := k["issuer"]; (v == entratest.V2) != ok || ok && iss != is.IssuerURL(entratest.V2) {
			t.Errorf("v%s key issuer %v", v, iss)
		}
		raw, _ := json.Marshal(k)
		var m jwkset.JWKMarshal
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			t.Fatalf("v%s: keyfunc's parser refuses the key: %v", v, err)
		}
		if n := jwk.Key().(interface{ Size() int }).Size(); n != 256 {
			t.Errorf("v%s: %d-byte modulus, want RSA 2048", v, n)
		}
		if len(jwk.Marshal().X5C) != 1 {
			t.Errorf("v%s: no x5c", v)
		}
	}
}

// parse verifies tok against the issuer's v2 key set, as a README-style
// keyfunc client does, and returns its claims.
func parse(t *testing.T, is *entratest.Issuer, tok string) jwt.MapClaims {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kf, err := keyfunc.NewDefaultCtx(ctx, []string{is.JWKSURL(entratest.V2)})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, kf.KeyfuncCtx(ctx), jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired()); err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	return claims
}

func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Header
}

func TestMintShapes(t *testing.T) {
	now := time.Now()
	is := entratest.New(t, entratest.Config{Now: func() time.Time { return now }})
	tid := is.TenantID()

	t.Run("v2 delegated", func(t *testing.T) {
		tok := is.Mint(entratest.Token{})
		c := parse(t, is, tok)
		want := map[string]any{"aud": is.ClientID(), "iss": "https://login.microsoftonline.com/" + tid + "/v2.0", "tid": tid, "ver": "2.0",
			"scp": "user_impersonation", "azp": entratest.DefaultClientAppID, "oid": entratest.DefaultUserObjectID}
		for k, v := range want {
			if c[k] != v {
				t.Errorf("%s = %v, want %v", k, c[k], v)
			}
		}
		for _, k := range []string{"appid", "x5t", "idtyp", "roles"} {
			if _, ok := c[k]; ok {
				t.Errorf("v2 delegated token has %s", k)
			}
		}
		if iat, exp := c["iat"].(float64), c["exp"].(float64); int64(iat) != now.Add(-time.Minute).Unix() || exp-iat != 3600 || c["nbf"] != c["iat"] {
			t.Errorf("iat %v nbf %v exp %v", c["iat"], c["nbf"], c["exp"])
		}
		h := header(t, tok)
		if h["kid"] != is.KeyIDs()[0] || h["alg"] != "RS256" || h["typ"] != "JWT" || h["x5t"] != nil {
			t.Errorf("v2 header %v", h)
		}
		if is.Mint(entratest.Token{}) == tok {
			t.Error("two minted tokens are the same string")
		}
	})
	t.Run("v1 delegated", func(t *testing.T) {
		tok := is.Mint(entratest.Token{Version: entratest.V1, Scopes: []string{"user_impersonation", "Files.Read"}})
		c := parse(t, is, tok)
		if c["aud"] != "api://"+is.ClientID() || c["iss"] != "https://sts.windows.net/"+tid+"/" || c["ver"] != "1.0" ||
			c["appid"] != entratest.DefaultClientAppID || c["scp"] != "user_impersonation Files.Read" || c["upn"] == nil {
			t.Errorf("v1 claims %v", c)
		}
		if h := header(t, tok); h["x5t"] != h["kid"] {
			t.Errorf("v1 header %v: want x5t beside kid", h)
		}
	})
	t.Run("app-only", func(t *testing.T) {
		c := parse(t, is, is.Mint(entratest.Token{Kind: entratest.AppOnly, Roles: []string{"Hello.Read.All"}}))
		if _, ok := c["scp"]; ok || c["idtyp"] != "app" || c["oid"] != entratest.DefaultAppObjectID || c["sub"] != c["oid"] {
			t.Errorf("app-only claims %v", c)
		}
		if roles, _ := c["roles"].([]any); len(roles) != 1 || roles[0] != "Hello.Read.All" {
			t.Errorf("roles %v", c["roles"])
		}
	})
	t.Run("ID token", func(t *testing.T) {
		c := parse(t, is, is.Mint(entratest.Token{Kind: entratest.IDToken}))
		if _, ok := c["scp"]; ok || c["aud"] != entratest.DefaultClientAppID || c["preferred_username"] == nil {
			t.Errorf("ID token claims %v", c)
		}
	})
	t.Run("overrides", func(t *testing.T) {
		tok := is.Mint(entratest.Token{Claims: map[string]any{"scp": nil, "tid": "x"}, Header: map[string]any{"typ": nil}})
		c := parse(t, is, tok)
		if _, ok := c["scp"]; ok || c["tid"] != "x" {
			t.Errorf("claims %v", c)
		}
		if _, ok := header(t, tok)["typ"]; ok {
			t.Error("typ not removed")
		}
	})
}

// TestTheHandlersKeyLoaderAcceptsIt runs the handler's own loader and
// verifier against the issuer: the documents, the issuers they name and
// the keys are what production code accepts.
func TestTheHandlersKeyLoaderAcceptsIt(t *testing.T) {
	is := entratest.New(t, entratest.Config{})
	keys, err := auth.NewEntraKeys(auth.EntraKeysConfig{Authority: is.URL(), TenantID: is.TenantID()})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := keys.Issuers(), []string{is.IssuerURL(entratest.V2), is.IssuerURL(entratest.V1)}; !slices.Equal(got, want) {
		t.Errorf("issuers %v, want %v", got, want)
	}
	v, err := auth.NewVerifier(auth.Config{TenantID: is.TenantID(), Audiences: []string{is.ClientID(), is.AppIDURI()}}, keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, ver := range []entratest.Version{entratest.V1, entratest.V2} {
		p, err := v.Verify(context.Background(), is.Mint(entratest.Token{Version: ver}))
		if err != nil {
			t.Fatalf("v%s: %v", ver, err)
		}
		if !slices.Contains(p.Scopes, "user_impersonation") {
			t.Errorf("v%s: scopes %v", ver, p.Scopes)
		}
	}
	if md, jwks := is.MetadataFetches(), is.JWKSFetches(); md != 2 || jwks != 2 {
		t.Errorf("one load made %d metadata and %d key set requests, want 2 and 2", md, jwks)
	}
}

func TestRotation(t *testing.T) {
	is := entratest.New(t, entratest.Config{KeyIDs: []string{"k1"}})
	published := func() []string {
		var set struct {
			Keys []struct {
				KID string `json:"kid"`
			} `json:"keys"`
		}
		getJSON(t, is.JWKSURL(entratest.V2), &set)
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.KID)
		}
		return kids
	}
	old := is.Mint(entratest.Token{KeyID: "k1"})
	k2 := is.AddKey("")
	if got := published(); !slices.Equal(got, []string{"k1", k2}) || !slices.Equal(is.KeyIDs(), got) {
		t.Fatalf("after AddKey: %v", got)
	}
	is.RemoveKey("k1")
	if got := published(); !slices.Equal(got, []string{k2}) {
		t.Fatalf("after RemoveKey: %v", got)
	}
	// The retired key still signs, under its own kid, which no longer
	// verifies; the new default key is k2.
	if h := header(t, is.Mint(entratest.Token{KeyID: "k1"})); h["kid"] != "k1" {
		t.Errorf("retired key signs as %v", h["kid"])
	}
	if h := header(t, is.Mint(entratest.Token{})); h["kid"] != k2 {
		t.Errorf("default key %v, want %s", h["kid"], k2)
	}
	is.SetKeys("k1")
	parse(t, is, old) // k1 again: the same key as before
	unknown := is.Sign("nobody-publishes-this", is.Claims(entratest.Token{}))
	if slices.Contains(published(), "nobody-publishes-this") {
		t.Error("an unknown kid was published")
	}
	if h := header(t, unknown); h["kid"] != "nobody-publishes-this" {
		t.Errorf("unknown kid header %v", h)
	}
	is.AddRawKey(json.RawMessage(`{"kty":"EC","kid":"raw"}`))
	if got := published(); !slices.Equal(got, []string{"k1", "raw"}) {
		t.Errorf("after AddRawKey: %v", got)
	}
}

func TestOutages(t *testing.T) {
	is := entratest.New(t, entratest.Config{})
	url := is.MetadataURL(entratest.V2)

	if err := is.SetOutage(entratest.Fail); err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, url); status != 503 || !strings.Contains(body, `"error":"temporarily_unavailable"`) {
		t.Errorf("Fail: %d %s", status, body)
	}

	// Hang on the keys only: metadata still answers, a key set request
	// waits until the outage ends.
	if err := is.SetOutage(entratest.Hang, entratest.Keys); err != nil {
		t.Fatal(err)
	}
	if err := is.SetOutage(entratest.Up, entratest.Metadata); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, url); status != 200 {
		t.Errorf("metadata during a key set Hang: %d", status)
	}
	done := make(chan int, 1)
	go func() {
		resp, err := client.Get(is.JWKSURL(entratest.V2))
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case s := <-done:
		t.Fatalf("key set request answered %d during Hang", s)
	case <-time.After(200 * time.Millisecond):
	}
	if err := is.SetOutage(entratest.Up); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-done:
		if s != 200 {
			t.Errorf("held request answered %d after the outage", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("held request not released")
	}

	// Refuse: nothing listens; Up listens again at the same address.
	before := is.MetadataFetches()
	if err := is.SetOutage(entratest.Refuse); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(url); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Refuse: GET gave %v, want connection refused", err)
	}
	if err := is.SetOutage(entratest.Up); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, url); status != 200 {
		t.Errorf("after Refuse: %d", status)
	}
	if n := is.MetadataFetches() - before; n != 1 {
		t.Errorf("%d metadata requests counted across Refuse, want 1 (refused ones do not count)", n)
	}
}

func TestLatency(t *testing.T) {
	is := entratest.New(t, entratest.Config{Latency: 150 * time.Millisecond})
	began := time.Now()
	get(t, is.MetadataURL(entratest.V2))
	if took := time.Since(began); took < 150*time.Millisecond {
		t.Errorf("answered in %v with 150ms latency", took)
	}
	// A long latency, then none: the request must not wait the long one.
	// The bound is far from both, so a loaded machine cannot fail it.
	is.SetLatency(20 * time.Second)
	is.SetLatency(0)
	began = time.Now()
	get(t, is.MetadataURL(entratest.V2))
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("answered in %v after SetLatency(0)", took)
	}
}

// TestCloseReleasesHeldRequests: a test that ends during a Hang outage
// must not wait for its own issuer.
func TestCloseReleasesHeldRequests(t *testing.T) {
	is, err := entratest.Start(entratest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	is.SetOutage(entratest.Hang)
	errc := make(chan error, 1)
	go func() {
		resp, err := client.Get(is.MetadataURL(entratest.V2))
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	closed := make(chan struct{})
	go func() { is.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a held request")
	}
	<-errc
	is.Close() // a second Close is harmless
}

func TestFixedAddressDownBeforeTheClient(t *testing.T) {
	is := entratest.New(t, entratest.Config{})
	is.SetOutage(entratest.Refuse)
	keys, err := auth.NewEntraKeys(auth.EntraKeysConfig{Authority: is.URL(), TenantID: is.TenantID()})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("load while down: %v", err)
	}
	if err := is.SetOutage(entratest.Up); err != nil {
		t.Fatal(err)
	}
	if err := keys.Load(context.Background()); err != nil {
		t.Fatalf("load after the outage: %v", err)
	}
}

func TestStartFailsOnATakenAddress(t *testing.T) {
	is := entratest.New(t, entratest.Config{})
	_, err := entratest.Start(entratest.Config{Addr: strings.TrimPrefix(is.URL(), "http://")})
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Start on a taken address: %v", err)
	}
}

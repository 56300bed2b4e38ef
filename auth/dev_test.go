package auth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func newDevKeyT(t *testing.T) *DevKey {
	t.Helper()
	k, err := LoadOrCreateDevKey(filepath.Join(t.TempDir(), "dev-key.pem"))
	if err != nil {
		t.Fatalf("LoadOrCreateDevKey: %v", err)
	}
	return k
}

// devVerifier trusts k with the default development identity; now pins
// the clock (nil: the real clock).
func devVerifier(t *testing.T, k *DevKey, now func() time.Time) *Verifier {
	t.Helper()
	ks, err := k.KeySet()
	if err != nil {
		t.Fatalf("KeySet: %v", err)
	}
	v, err := NewVerifier(Config{TenantID: DevTenantID, Audiences: []string{DevAudience}, Source: SourceDev, Now: now}, ks)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func mintT(t *testing.T, k *DevKey, dt DevToken) string {
	t.Helper()
	tok, err := k.Mint(dt)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return tok
}

// unverifiedClaims decodes a token's header and claims without checking it.
func unverifiedClaims(t *testing.T, tok string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	c := jwt.MapClaims{}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, c)
	if err != nil {
		t.Fatalf("ParseUnverified: %v", err)
	}
	return parsed.Header, c
}

func TestLoadOrCreateDevKeyCreatesAndReloads(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "config", "entrafunc")
	path := filepath.Join(dir, "dev-key.pem")

	k1, err := LoadOrCreateDevKey(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %v, want 0600", perm)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("key directory mode = %v, want no group or other access", perm)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("key file is not one PKCS#8 PEM block: %q", b)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	rk, ok := parsed.(*rsa.PrivateKey)
	if !ok || rk.N.BitLen() != 2048 {
		t.Fatalf("key is %T, want a 2048-bit RSA key", parsed)
	}

	k2, err := LoadOrCreateDevKey(path)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if k1.KeyID() == "" || k2.KeyID() != k1.KeyID() {
		t.Errorf("KeyID after reload = %q, want %q", k2.KeyID(), k1.KeyID())
	}
	if !bytes.Equal(k1.jwks(), k2.jwks()) {
		t.Error("JWKS differs after reload")
	}
	if b2, _ := os.ReadFile(path); !bytes.Equal(b, b2) {
		t.Error("reload rewrote the key file")
	}
	// A token of the first instance verifies with the second's key set.
	if _, err := devVerifier(t, k2, nil).Verify(context.Background(), mintT(t, k1, DevToken{})); err != nil {
		t.Errorf("token of the reloaded key: %v", err)
	}
}

func TestDevKeyIDIsThumbprint(t *testing.T) {
	t.Parallel()
	k := newDevKeyT(t)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(k.jwks(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
	}
	jwk := set.Keys[0]
	want := map[string]bool{"kty": true, "use": true, "alg": true, "kid": true, "n": true, "e": true}
	for name := range jwk {
		if !want[name] {
			t.Errorf("JWKS has member %q", name)
		}
	}
	if jwk["kty"] != "RSA" || jwk["use"] != "sig" || jwk["alg"] != "RS256" || jwk["e"] != "AQAB" || jwk["kid"] != k.KeyID() {
		t.Errorf("JWK = %v", jwk)
	}
	// RFC 7638: SHA-256 of the required members in lexical order.
	sum := sha256.Sum256([]byte(`{"e":"` + jwk["e"] + `","kty":"RSA","n":"` + jwk["n"] + `"}`))
	if got := base64.RawURLEncoding.EncodeToString(sum[:]); got != k.KeyID() {
		t.Errorf("KeyID = %q, want the RFC 7638 thumbprint %q", k.KeyID(), got)
	}
	// The tests' own key sets have exactly this shape.
	if got := jwksFor(&k.key.PublicKey, k.KeyID()); !bytes.Equal(got, k.jwks()) {
		t.Errorf("test JWKS helper differs from DevKey.JWKS:\n%s\n%s", got, k.jwks())
	}
}

func TestLoadOrCreateDevKeyRace(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "fresh")
	path := filepath.Join(dir, "dev-key.pem")
	const n = 8
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		ids   [n]string
		errs  [n]error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			k, err := LoadOrCreateDevKey(path)
			if err == nil {
				ids[i] = k.KeyID()
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("goroutine %d has key %q, goroutine 0 has %q", i, ids[i], ids[0])
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{"dev-key.pem"}) {
		t.Errorf("directory holds %q, want only the key file", names)
	}
	k, err := LoadOrCreateDevKey(path)
	if err != nil || k.KeyID() != ids[0] {
		t.Errorf("key on disk is %v (%v), want %q", k, err, ids[0])
	}
}

func TestLoadOrCreateDevKeyBadFile(t *testing.T) {
	t.Parallel()
	rsaKey, _ := testKeys(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edPriv)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"not PEM", []byte("this is not a key\n")},
		{"PKCS#1 block", pkcs1},
		{"PKCS#8 garbage", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("garbage")})},
		{"not RSA", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER})},
		{"truncated", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER})[:40]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "dev-key.pem")
			if err := os.WriteFile(path, c.content, 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := LoadOrCreateDevKey(path)
			if err == nil {
				t.Fatalf("LoadOrCreateDevKey accepted a bad file, key %q", k.KeyID())
			}
			if k != nil {
				t.Errorf("got a key with the error %v", err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, c.content) {
				t.Error("the bad file was replaced")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %d entries, want 1", len(entries))
			}
		})
	}
	t.Run("path is a directory", func(t *testing.T) {
		t.Parallel()
		if _, err := LoadOrCreateDevKey(t.TempDir()); err == nil {
			t.Error("LoadOrCreateDevKey accepted a directory")
		}
	})
}

func TestDevKeyMint(t *testing.T) {
	t.Parallel()
	k := newDevKeyT(t)
	mintedAt := testNow
	pinned := func() time.Time { return mintedAt.Add(time.Minute) }
	v := devVerifier(t, k, pinned)

	tok := mintT(t, k, DevToken{Now: mintedAt})
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !IsGUID(p.ObjectID) {
		t.Errorf("ObjectID %q is not a GUID", p.ObjectID)
	}
	comparePrincipal(t, p, &Principal{
		TenantID:     DevTenantID,
		ObjectID:     p.ObjectID,
		Name:         "Dev User",
		Username:     "dev.user@dev.localhost",
		Scopes:       []string{DefaultRequiredScope},
		Roles:        []string{},
		Groups:       []string{},
		ClientAppID:  DevClientAppID,
		TokenVersion: "2.0",
		Source:       SourceDev,
		ExpiresAt:    mintedAt.Add(time.Hour),
	})

	header, c := unverifiedClaims(t, tok)
	if header["alg"] != "RS256" || header["kid"] != k.KeyID() {
		t.Errorf("header = %v", header)
	}
	for name, want := range map[string]any{
		"ver": "2.0", "scp": DefaultRequiredScope, "tid": DevTenantID, "azp": DevClientAppID,
		"aud": DevAudience, "iss": v2Issuer(DevTenantID), "oid": p.ObjectID,
		"preferred_username": "dev.user@dev.localhost", "name": "Dev User",
		"iat": float64(mintedAt.Unix()), "nbf": float64(mintedAt.Unix()), "exp": float64(mintedAt.Add(time.Hour).Unix()),
	} {
		if c[name] != want {
			t.Errorf("claim %s = %#v, want %#v", name, c[name], want)
		}
	}
	if _, ok := c["roles"]; ok {
		t.Error("token has roles without any asked for")
	}

	// The object id is stable per user, and differs between users and tenants.
	tok2 := mintT(t, k, DevToken{Now: mintedAt})
	if tok2 == tok {
		t.Error("two mints gave the same token (uti not random?)")
	}
	p2, err := v.Verify(context.Background(), tok2)
	if err != nil {
		t.Fatal(err)
	}
	if p2.ObjectID != p.ObjectID {
		t.Errorf("oid changed between mints: %q, %q", p.ObjectID, p2.ObjectID)
	}
	p3, err := v.Verify(context.Background(), mintT(t, k, DevToken{Now: mintedAt, Username: "grace@dev.localhost", Name: "Grace"}))
	if err != nil {
		t.Fatal(err)
	}
	if p3.ObjectID == p.ObjectID || !IsGUID(p3.ObjectID) || p3.Username != "grace@dev.localhost" || p3.Name != "Grace" {
		t.Errorf("other user: %+v", p3)
	}
	_, c4 := unverifiedClaims(t, mintT(t, k, DevToken{Now: mintedAt, TenantID: otherTenant}))
	if c4["oid"] == p.ObjectID {
		t.Error("same oid in another tenant")
	}

	// Real clock on both sides, as `handler token` and the server use it.
	if _, err := devVerifier(t, k, nil).Verify(context.Background(), mintT(t, k, DevToken{})); err != nil {
		t.Errorf("real-clock token: %v", err)
	}
}

func TestDevKeyMintOptions(t *testing.T) {
	t.Parallel()
	k := newDevKeyT(t)
	other := newDevKeyT(t)
	mintedAt := testNow
	pinned := func() time.Time { return mintedAt.Add(time.Minute) }

	cases := []struct {
		name   string
		key    *DevKey
		token  DevToken
		at     func() time.Time
		reason string
		check  func(t *testing.T, p *Principal)
	}{
		{
			name:  "roles groups and scopes",
			token: DevToken{Roles: []string{"Task.Admin"}, Groups: []string{groupA}, Scopes: []string{"a", "b"}, ClientAppID: testClient},
			check: func(t *testing.T, p *Principal) {
				if !reflect.DeepEqual(p.Roles, []string{"Task.Admin"}) || !reflect.DeepEqual(p.Groups, []string{groupA}) ||
					!reflect.DeepEqual(p.Scopes, []string{"a", "b"}) || p.ClientAppID != testClient {
					t.Errorf("principal = %+v", p)
				}
			},
		},
		{
			name:  "explicit empty scopes",
			token: DevToken{Scopes: []string{}},
			check: func(t *testing.T, p *Principal) {
				if len(p.Scopes) != 0 {
					t.Errorf("Scopes = %q, want none", p.Scopes)
				}
				if err := (Policy{RequiredScopes: []string{DefaultRequiredScope}}).Check(p); err == nil {
					t.Error("a token without scopes passed the default policy")
				}
			},
		},
		{
			name:  "explicit object id",
			token: DevToken{ObjectID: testOID},
			check: func(t *testing.T, p *Principal) {
				if p.ObjectID != testOID {
					t.Errorf("ObjectID = %q", p.ObjectID)
				}
			},
		},
		{name: "custom tenant", token: DevToken{TenantID: otherTenant}, reason: "issuer"},
		{name: "custom audience", token: DevToken{Audience: "api://someone-else"}, reason: "audience"},
		{
			name:   "short lifetime expires",
			token:  DevToken{Lifetime: time.Minute},
			at:     func() time.Time { return mintedAt.Add(time.Minute + maxLeeway) },
			reason: "expired",
		},
		{
			name:  "short lifetime within leeway",
			token: DevToken{Lifetime: time.Minute},
			at:    func() time.Time { return mintedAt.Add(time.Minute + maxLeeway - time.Second) },
		},
		{name: "another dev key", key: other, token: DevToken{}, reason: "unknown_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			signer := k
			if c.key != nil {
				signer = c.key
			}
			at := pinned
			if c.at != nil {
				at = c.at
			}
			c.token.Now = mintedAt
			p, err := devVerifier(t, k, at).Verify(context.Background(), mintT(t, signer, c.token))
			if c.reason != "" {
				if err == nil {
					t.Fatalf("accepted, want reason %q", c.reason)
				}
				if got := tokenReason(t, err); got != c.reason {
					t.Errorf("reason = %q, want %q (%v)", got, c.reason, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.check != nil {
				c.check(t, p)
			}
		})
	}

	// A verifier configured for the custom identity accepts those tokens.
	ks, err := k.KeySet()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(Config{TenantID: otherTenant, Audiences: []string{"api://custom"}, Now: pinned}, ks)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), mintT(t, k, DevToken{TenantID: otherTenant, Audience: "api://custom", Now: mintedAt}))
	if err != nil || p.TenantID != otherTenant {
		t.Errorf("custom identity: %+v, %v", p, err)
	}
}

func TestLoadOrCreateDevKeyRefusesAKeyOthersCanReach(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes only")
	}
	path := filepath.Join(t.TempDir(), "k.pem")
	if _, err := LoadOrCreateDevKey(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateDevKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("err = %v, want a refusal that says chmod 600", err)
	}
}

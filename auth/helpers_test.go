package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identities used by the synthetic tokens of these tests. They name no real
// tenant or application.
const (
	testTenant   = "3f0e2a6c-6b2d-4c1e-9a57-0d4b8e1f2a3b"
	otherTenant  = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
	testAudience = "api://entrafunc-test"
	testAudGUID  = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	testClient   = "c0ffee00-1234-4abc-9def-0123456789ab"
	testOID      = "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170"
	testKID      = "entrafunc-test-key"
	attackerKID  = "attacker-key"
)

// testNow is the pinned clock of every synthetic token test.
var testNow = time.Unix(1_750_000_000, 0)

func testNowFunc() time.Time { return testNow }

func v2Issuer(tid string) string { return "https://login.microsoftonline.com/" + tid + "/v2.0" }
func v1Issuer(tid string) string { return "https://sts.windows.net/" + tid + "/" }

var (
	keysOnce    sync.Once
	signingKey  *rsa.PrivateKey // trusted: its public half is in the test key set
	attackerKey *rsa.PrivateKey // never trusted
)

// testKeys returns the trusted and the attacker RSA keys, generated once
// per test binary.
func testKeys(tb testing.TB) (trusted, attacker *rsa.PrivateKey) {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		if signingKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if attackerKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return signingKey, attackerKey
}

// jwksFor builds a JWK Set with the same JSON shape as DevKey.JWKS.
func jwksFor(pub *rsa.PublicKey, kid string) []byte { return publicJWKS(pub, kid) }

// testKeySource is a static key set holding only the trusted key.
func testKeySource(tb testing.TB) KeySet {
	tb.Helper()
	trusted, _ := testKeys(tb)
	ks, err := NewStaticKeySet(jwksFor(&trusted.PublicKey, testKID))
	if err != nil {
		tb.Fatalf("NewStaticKeySet: %v", err)
	}
	return ks
}

// entraLikeKeys returns a key set for the trusted key in the shape Entra
// publishes: no "alg" member, so only the verifier's own algorithm
// allow-list stands between a token's alg and the key.
func entraLikeKeys(tb testing.TB) KeySet {
	tb.Helper()
	trusted, _ := testKeys(tb)
	set := map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "kid": testKID,
		"n": base64.RawURLEncoding.EncodeToString(trusted.PublicKey.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(trusted.PublicKey.E)).Bytes()),
	}}}
	b, err := json.Marshal(set)
	if err != nil {
		tb.Fatal(err)
	}
	ks, err := NewStaticKeySet(b)
	if err != nil {
		tb.Fatalf("NewStaticKeySet: %v", err)
	}
	return ks
}

// testConfig is the configuration the synthetic tokens are made for.
func testConfig() Config {
	return Config{
		TenantID:  testTenant,
		Audiences: []string{testAudience, testAudGUID},
		Now:       testNowFunc,
	}
}

func newTestVerifier(tb testing.TB, mutate func(*Config)) *Verifier {
	tb.Helper()
	return newTestVerifierKeys(tb, mutate, testKeySource)
}

func newTestVerifierKeys(tb testing.TB, mutate func(*Config), keys func(testing.TB) KeySet) *Verifier {
	tb.Helper()
	cfg := testConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	v, err := NewVerifier(cfg, keys(tb))
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// v2Claims returns the claims of a valid delegated v2 token at testNow.
func v2Claims() jwt.MapClaims {
	return jwt.MapClaims{
		"aud":                testAudience,
		"iss":                v2Issuer(testTenant),
		"iat":                testNow.Add(-time.Minute).Unix(),
		"nbf":                testNow.Add(-time.Minute).Unix(),
		"exp":                testNow.Add(time.Hour).Unix(),
		"azp":                testClient,
		"azpacr":             "0",
		"name":               "Ada Lovelace",
		"oid":                testOID,
		"preferred_username": "ada@contoso.example",
		"scp":                "user_impersonation",
		"sub":                "pairwise-subject",
		"tid":                testTenant,
		"uti":                "uti-value",
		"ver":                "2.0",
	}
}

// v1Claims returns the claims of a valid delegated v1 token at testNow.
func v1Claims() jwt.MapClaims {
	return jwt.MapClaims{
		"aud":         testAudience,
		"iss":         v1Issuer(testTenant),
		"iat":         testNow.Add(-time.Minute).Unix(),
		"nbf":         testNow.Add(-time.Minute).Unix(),
		"exp":         testNow.Add(time.Hour).Unix(),
		"appid":       testClient,
		"appidacr":    "1",
		"name":        "Ada Lovelace",
		"oid":         testOID,
		"scp":         "user_impersonation",
		"tid":         testTenant,
		"unique_name": "ada-unique@contoso.example",
		"upn":         "ada-upn@contoso.example",
		"ver":         "1.0",
	}
}

// claimsWith returns a copy of c with the given claims set; a nil value deletes.
func claimsWith(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := make(jwt.MapClaims, len(c)+len(kv)/2)
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

// signToken signs c with key and method; header entries are added to (or,
// when nil, removed from) the default header, which has kid testKID.
func signToken(tb testing.TB, method jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, c)
	tok.Header["kid"] = testKID
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
			continue
		}
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// signRS256 signs c with the trusted key, the usual way.
func signRS256(tb testing.TB, c jwt.MapClaims) string {
	tb.Helper()
	trusted, _ := testKeys(tb)
	return signToken(tb, jwt.SigningMethodRS256, trusted, nil, c)
}

// signRaw builds a token from hand-written header and payload JSON and
// signs it with RSASSA-PKCS1-v1_5 SHA-256, without any JSON library in the
// way (maps cannot hold duplicate keys).
func signRaw(tb testing.TB, key *rsa.PrivateKey, header, payload string) string {
	tb.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		tb.Fatalf("SignPKCS1v15: %v", err)
	}
	return input + "." + enc.EncodeToString(sig)
}

// tokenReason returns the reason of a *TokenError, failing the test when
// err is not one.
func tokenReason(tb testing.TB, err error) string {
	tb.Helper()
	if !errors.Is(err, ErrInvalidToken) {
		tb.Fatalf("error %v is not ErrInvalidToken", err)
	}
	var te *TokenError
	if !errors.As(err, &te) {
		tb.Fatalf("error %v (%T) is not a *TokenError", err, err)
	}
	return te.Reason
}

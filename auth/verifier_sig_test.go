package auth

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// The Verify cases of algorithms, signatures and keys: what stands
// between a token and a key it must not be checked with, or a key it
// must not be checked against. runVerifyCases (verifier_test.go) runs
// every table.

// TestVerifyAlgorithm: only RS256 is accepted, whatever the key set says:
// Entra's keys carry no alg, so the verifier's own allow-list is all that
// stands between a token's alg and the key (the HS256-with-the-public-key
// confusion, none, and RSA variants Entra never uses).
func TestVerifyAlgorithm(t *testing.T) {
	t.Parallel()
	trusted, _ := testKeys(t)
	enc := base64.RawURLEncoding
	pubDER, err := x509.MarshalPKIXPublicKey(&trusted.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	valid := signRS256(t, v2Claims())
	validParts := strings.Split(valid, ".")

	runVerifyCases(t, []verifyCase{
		{
			name:   "alg none",
			token:  signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "alg NONE hand-made",
			token:  enc.EncodeToString([]byte(`{"alg":"NONE","kid":"`+testKID+`"}`)) + "." + validParts[1] + ".",
			reason: "algorithm",
		},
		{
			name:   "HS256 with the PEM public key as secret",
			token:  signToken(t, jwt.SigningMethodHS256, pubPEM, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "HS256 with the DER public key as secret",
			token:  signToken(t, jwt.SigningMethodHS256, pubDER, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "RS384",
			token:  signToken(t, jwt.SigningMethodRS384, trusted, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "RS512",
			token:  signToken(t, jwt.SigningMethodRS512, trusted, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "PS256",
			token:  signToken(t, jwt.SigningMethodPS256, trusted, nil, v2Claims()),
			reason: "algorithm",
		},
		{
			name:   "RS384 against keys without alg",
			token:  signToken(t, jwt.SigningMethodRS384, trusted, nil, v2Claims()),
			noAlg:  true,
			reason: "algorithm",
		},
		{
			name:   "PS256 against keys without alg",
			token:  signToken(t, jwt.SigningMethodPS256, trusted, nil, v2Claims()),
			noAlg:  true,
			reason: "algorithm",
		},
		{
			name:   "HS256 with the PEM public key against keys without alg",
			token:  signToken(t, jwt.SigningMethodHS256, pubPEM, nil, v2Claims()),
			noAlg:  true,
			reason: "algorithm",
		},
		{
			name:   "alg none against keys without alg",
			token:  signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, v2Claims()),
			noAlg:  true,
			reason: "algorithm",
		},
		{
			name:  "RS256 against keys without alg",
			token: valid,
			noAlg: true,
		},
		{
			name:   "no alg header",
			token:  signRaw(t, trusted, `{"typ":"JWT","kid":"`+testKID+`"}`, rawPayload(t, v2Claims())),
			reason: "algorithm",
		},
	})
}

// TestVerifySignatureAndKey: a signature must be the trusted key's over
// exactly these bytes, found by the token's kid; headers that point at
// other keys (jku, x5u, jwk) are never followed. The attacker serves its
// own key set on loopback, and nothing may ever fetch it.
func TestVerifySignatureAndKey(t *testing.T) {
	t.Parallel()
	trusted, attacker := testKeys(t)
	enc := base64.RawURLEncoding
	var attackerHits atomic.Int32
	attackerSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwksFor(&attacker.PublicKey, attackerKID))
	}))
	t.Cleanup(attackerSrv.Close)
	// Cleanups run once every parallel case has finished.
	t.Cleanup(func() {
		if n := attackerHits.Load(); n != 0 {
			t.Errorf("the attacker's key server was fetched %d times", n)
		}
	})
	attackerJWK := map[string]any{
		"kty": "RSA", "use": "sig", "kid": attackerKID,
		"n": enc.EncodeToString(attacker.PublicKey.N.Bytes()),
		"e": "AQAB",
	}
	valid := signRS256(t, v2Claims())
	validParts := strings.Split(valid, ".")
	tampered := validParts[0] + "." +
		enc.EncodeToString([]byte(rawPayload(t, claimsWith(v2Claims(), "oid", "00000000-0000-0000-0000-000000000bad")))) + "." +
		validParts[2]

	runVerifyCases(t, []verifyCase{
		{
			name:   "tampered payload",
			token:  tampered,
			reason: "signature",
		},
		{
			name:   "empty signature",
			token:  validParts[0] + "." + validParts[1] + ".",
			reason: "signature",
		},
		{
			name:   "signature of another token",
			token:  validParts[0] + "." + validParts[1] + "." + strings.Split(signRS256(t, v1Claims()), ".")[2],
			reason: "signature",
		},
		{
			name:   "other key under the real kid",
			token:  signToken(t, jwt.SigningMethodRS256, attacker, nil, v2Claims()),
			reason: "signature",
		},
		{
			name:   "other key without kid",
			token:  signToken(t, jwt.SigningMethodRS256, attacker, map[string]any{"kid": nil}, v2Claims()),
			reason: "header", // Entra always sends a kid: refused before any key is tried
		},
		{
			name:   "trusted key without kid",
			token:  signToken(t, jwt.SigningMethodRS256, trusted, map[string]any{"kid": nil}, v2Claims()),
			reason: "header", // even signed by a trusted key: Entra always sends a kid
		},
		{
			name:   "unknown kid",
			token:  signToken(t, jwt.SigningMethodRS256, trusted, map[string]any{"kid": "no-such-key"}, v2Claims()),
			reason: "unknown_key",
		},
		{
			name:   "kid is not a string",
			token:  signToken(t, jwt.SigningMethodRS256, trusted, map[string]any{"kid": 42}, v2Claims()),
			reason: "unknown_key",
		},
		{
			name: "jku x5u jwk headers with attacker kid",
			token: signToken(t, jwt.SigningMethodRS256, attacker, map[string]any{
				"kid": attackerKID, "jku": attackerSrv.URL, "x5u": attackerSrv.URL + "/cert.pem", "jwk": attackerJWK,
			}, v2Claims()),
			reason: "unknown_key",
		},
		{
			name: "jku x5u jwk headers with the real kid",
			token: signToken(t, jwt.SigningMethodRS256, attacker, map[string]any{
				"jku": attackerSrv.URL, "x5u": attackerSrv.URL + "/cert.pem", "jwk": attackerJWK,
			}, v2Claims()),
			reason: "signature",
		},
		{
			name: "jku x5u jwk headers without kid",
			token: signToken(t, jwt.SigningMethodRS256, attacker, map[string]any{
				"kid": nil, "jku": attackerSrv.URL, "x5u": attackerSrv.URL + "/cert.pem", "jwk": attackerJWK,
			}, v2Claims()),
			reason: "header",
		},
	})
}

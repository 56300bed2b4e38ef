package entratest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"slices"
	"time"
)

// signingKey is one RSA key with the certificate Entra would publish for
// it.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
	cert []byte // DER, self-signed
	x5t  string // base64url SHA-1 of cert
}

// newSigningKey makes an RSA 2048 key and its self-signed certificate. An
// empty kid becomes the certificate's thumbprint, as Entra's kids are.
func newSigningKey(kid string) *signingKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("entratest: generating a key: " + err.Error())
	}
	// A positive serial: Go refuses certificates with a negative one, and
	// so does keyfunc's key set parser, which would drop the whole set.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("entratest: " + err.Error())
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		panic("entratest: making a certificate: " + err.Error())
	}
	sum := sha1.Sum(der)
	k := &signingKey{kid: kid, priv: priv, cert: der, x5t: base64.RawURLEncoding.EncodeToString(sum[:])}
	if k.kid == "" {
		k.kid = k.x5t
	}
	return k
}

// jwk is the key as Entra publishes it: no alg member.
func (k *signingKey) jwk(issuer string) map[string]any {
	m := map[string]any{
		"kty": "RSA",
		"use": "sig",
		"kid": k.kid,
		"x5t": k.x5t,
		"n":   base64.RawURLEncoding.EncodeToString(k.priv.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.priv.E)).Bytes()),
		"x5c": []string{base64.StdEncoding.EncodeToString(k.cert)},
	}
	if issuer != "" {
		m["issuer"] = issuer
	}
	return m
}

// AddKey makes a new signing key and publishes it after the others. An
// empty kid becomes the key's certificate thumbprint (its x5t), as Entra's
// kids are. AddKey returns the kid. Adding a kid that exists publishes the
// existing key again, without making a new one.
func (is *Issuer) AddKey(kid string) string {
	is.mu.Lock()
	defer is.mu.Unlock()
	k := is.keys[kid]
	if kid == "" || k == nil {
		k = newSigningKey(kid)
		is.keys[k.kid] = k
	}
	if !slices.Contains(is.published, k.kid) {
		is.published = append(is.published, k.kid)
	}
	is.renderKeysLocked()
	return k.kid
}

// RemoveKey stops publishing kid. The key still signs: a token signed by a
// retired key is a test's to make.
func (is *Issuer) RemoveKey(kid string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.published = slices.DeleteFunc(is.published, func(k string) bool { return k == kid })
	is.renderKeysLocked()
}

// SetKeys makes kids the whole published key set, in that order, making
// keys for kids not seen before.
func (is *Issuer) SetKeys(kids ...string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.published = is.published[:0]
	for _, kid := range kids {
		if is.keys[kid] == nil {
			is.keys[kid] = newSigningKey(kid)
		}
		if !slices.Contains(is.published, kid) {
			is.published = append(is.published, kid)
		}
	}
	is.renderKeysLocked()
}

// KeyIDs returns the published kids, in publication order.
func (is *Issuer) KeyIDs() []string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return slices.Clone(is.published)
}

// AddRawKey appends raw, as is, to both key sets: for tests of a key that
// does not parse, or of a kind Entra does not publish. It is never used
// to sign.
func (is *Issuer) AddRawKey(raw json.RawMessage) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.raw = append(is.raw, slices.Clone(raw))
	is.renderKeysLocked()
}

// renderKeysLocked renders both key set documents once per change, so
// that serving them takes no lock. is.mu must be held.
func (is *Issuer) renderKeysLocked() {
	for _, v := range []Version{V1, V2} {
		keys := make([]any, 0, len(is.published)+len(is.raw))
		for _, kid := range is.published {
			iss := ""
			if v == V2 {
				iss = is.IssuerURL(V2) // only Entra's v2 set names the issuer
			}
			keys = append(keys, is.keys[kid].jwk(iss))
		}
		for _, r := range is.raw {
			keys = append(keys, r)
		}
		doc, err := json.Marshal(map[string]any{"keys": keys})
		if err != nil {
			panic("entratest: " + err.Error()) // a raw key that is not JSON
		}
		is.jwks[versionIndex(v)].Store(&doc)
	}
}

// signer returns the key kid, making an unpublished one when kid is new:
// a token under a kid nobody publishes is how a test meets an unknown key.
// An empty kid is the first published key.
func (is *Issuer) signer(kid string) *signingKey {
	is.mu.Lock()
	defer is.mu.Unlock()
	if kid == "" {
		if len(is.published) == 0 {
			panic("entratest: no published key to sign with; name a kid")
		}
		kid = is.published[0]
	}
	k := is.keys[kid]
	if k == nil {
		k = newSigningKey(kid)
		is.keys[kid] = k
	}
	return k
}

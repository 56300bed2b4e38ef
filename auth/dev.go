package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The identity of the local development issuer when AUTH_TENANT_ID and
// AUTH_AUDIENCES are not set. They are fixed so that a README's examples
// work on every machine; they name no real tenant.
const (
	DevTenantID    = "00000000-0000-4000-8000-00000000d001"
	DevAudience    = "api://entrafunc-dev"
	DevClientAppID = "00000000-0000-4000-8000-00000000d002"
)

// DevKey is the local development issuer's signing key. It lives outside
// the repository, in the user's configuration directory, so it is never
// committed and never shipped.
type DevKey struct {
	key *rsa.PrivateKey
	kid string
}

// maxDevKeyBytes bounds what is read from the key file: a 2048-bit key
// in PEM is under 2 KiB.
const maxDevKeyBytes = 64 << 10

// LoadOrCreateDevKey reads the key at path, creating it first if it does
// not exist. Creation is atomic: the key is written to a temporary file and
// linked into place, so when a server and a `handler token` race, one key
// wins and both use it.
//
// Whoever holds the key can mint tokens a dev-mode server accepts, so it
// is refused, never repaired, when it may not be this user's alone: a
// relative path (it would land in the current directory, perhaps a
// repository), a key owned by another user (planted there, perhaps while
// running as root), one that others can read or write, a symbolic link,
// anything but a regular file, or a folder others can write to (they could
// swap the key). The owner and mode checks are POSIX only.
func LoadOrCreateDevKey(path string) (*DevKey, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("auth: dev key path %q is relative: the key would be made in the current directory (perhaps a repository); use an absolute path", path)
	}
	dir := filepath.Dir(path)
	if k, err := readDevKey(path); !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: dev key: %w", err)
	}
	if err := checkDevKeyDir(dir); err != nil {
		return nil, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("auth: dev key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("auth: dev key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".dev-key-*")
	if err != nil {
		return nil, fmt.Errorf("auth: dev key: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = errors.Join(
		tmp.Chmod(0o600),
		pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		tmp.Sync(),
		tmp.Close(),
	)
	if err != nil {
		return nil, fmt.Errorf("auth: dev key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("auth: dev key: %w", err)
	}
	// Whether this process linked its key or lost the race, the file now
	// holds the one key everybody uses.
	return readDevKey(path)
}

func readDevKey(path string) (*DevKey, error) {
	// Opened without following a link and without waiting on a FIFO;
	// what was opened is what is checked and read.
	f, err := openDevKey(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("auth: dev key %s: %w (a symbolic link is refused: point AUTH_DEV_KEY_FILE at the file itself)", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("auth: dev key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("auth: dev key %s is not a regular file (%v)", path, fi.Mode().Type())
	}
	if err := checkDevKeyFile(path, fi); err != nil {
		return nil, err
	}
	if err := checkDevKeyDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxDevKeyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth: dev key %s: %w", path, err)
	}
	if len(b) > maxDevKeyBytes {
		return nil, fmt.Errorf("auth: dev key %s: larger than %d bytes, not a key", path, maxDevKeyBytes)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("auth: dev key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: dev key %s: %w", path, err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: dev key %s: not an RSA key", path)
	}
	return newDevKey(priv), nil
}

func newDevKey(priv *rsa.PrivateKey) *DevKey {
	// The key id is the RFC 7638 thumbprint, so it changes with the key.
	n, e := b64(priv.N.Bytes()), b64(big.NewInt(int64(priv.E)).Bytes())
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	return &DevKey{key: priv, kid: b64(sum[:])}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// KeyID returns the key's id, the kid of every token it signs.
func (k *DevKey) KeyID() string { return k.kid }

// jwks returns the public key as a JSON Web Key Set.
func (k *DevKey) jwks() []byte { return publicJWKS(&k.key.PublicKey, k.kid) }

// publicJWKS returns a JSON Web Key Set holding one RS256 signing key.
func publicJWKS(pub *rsa.PublicKey, kid string) []byte {
	type jwk struct {
		Kty string `json:"kty"`
		Use string `json:"use"`
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		N   string `json:"n"`
		E   string `json:"e"`
	}
	set := struct {
		Keys []jwk `json:"keys"`
	}{[]jwk{{"RSA", "sig", "RS256", kid, b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())}}}
	b, _ := json.Marshal(set) // cannot fail: strings only
	return b
}

// KeySet returns a key set that holds only this key's public half, for a
// [Verifier] that trusts the development issuer.
func (k *DevKey) KeySet() (*StaticKeySet, error) {
	return NewStaticKeySet(k.jwks())
}

// DevToken describes a development access token. Zero fields take the
// defaults documented on each.
type DevToken struct {
	TenantID    string        // default DevTenantID
	Audience    string        // default DevAudience
	Name        string        // default "Dev User"
	Username    string        // default derived from Name, @dev.localhost
	ObjectID    string        // default derived from TenantID and Username
	Scopes      []string      // default user_impersonation
	Roles       []string      // default none
	Groups      []string      // default none
	ClientAppID string        // default DevClientAppID
	Lifetime    time.Duration // default 1 hour
	Now         time.Time     // default time.Now()
	// AppOnly mints what an app gets with client credentials, such as a
	// Power Platform service-principal connection: idtyp app, no scp, no
	// user names; ObjectID is the service principal's.
	AppOnly bool
}

// Mint signs a v2.0 access token with the claims Entra ID puts in a
// delegated token, so that nothing downstream can tell it from a real one
// except by its issuer's key.
func (k *DevKey) Mint(t DevToken) (string, error) {
	if t.TenantID == "" {
		t.TenantID = DevTenantID
	}
	if t.Audience == "" {
		t.Audience = DevAudience
	}
	if t.Name == "" {
		t.Name = "Dev User"
	}
	if t.Username == "" {
		t.Username = strings.ToLower(strings.Join(strings.Fields(t.Name), ".")) + "@dev.localhost"
	}
	if t.ObjectID == "" {
		t.ObjectID = derivedGUID(t.TenantID + "|" + t.Username)
	}
	if t.Scopes == nil {
		t.Scopes = []string{DefaultRequiredScope}
	}
	if t.ClientAppID == "" {
		t.ClientAppID = DevClientAppID
	}
	if t.Lifetime <= 0 {
		t.Lifetime = time.Hour
	}
	if t.Now.IsZero() {
		t.Now = time.Now()
	}
	uti := make([]byte, 16)
	rand.Read(uti)
	c := jwt.MapClaims{
		"aud":                t.Audience,
		"iss":                DefaultAuthority + "/" + t.TenantID + "/v2.0",
		"iat":                t.Now.Unix(),
		"nbf":                t.Now.Unix(),
		"exp":                t.Now.Add(t.Lifetime).Unix(),
		"azp":                t.ClientAppID,
		"azpacr":             "0",
		"name":               t.Name,
		"oid":                t.ObjectID,
		"preferred_username": t.Username,
		"scp":                strings.Join(t.Scopes, " "),
		"sub":                b64(sha256Sum(t.ClientAppID + "|" + t.ObjectID)),
		"tid":                t.TenantID,
		"uti":                b64(uti),
		"ver":                "2.0",
	}
	if t.AppOnly {
		delete(c, "scp")
		delete(c, "name")
		delete(c, "preferred_username")
		c["idtyp"] = "app"
		c["sub"] = t.ObjectID
	}
	if len(t.Roles) > 0 {
		c["roles"] = t.Roles
	}
	if len(t.Groups) > 0 {
		c["groups"] = t.Groups
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = k.kid
	return tok.SignedString(k.key)
}

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// derivedGUID makes a stable GUID from s, so the same dev user keeps the
// same object id from one token to the next.
func derivedGUID(s string) string {
	b := sha256Sum("entrafunc-dev-oid|" + s)[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8: custom
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

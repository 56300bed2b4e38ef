package tasks

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// scope is the query a page token belongs to: the tenant, the owner ("" for
// the whole tenant) and the done filter.
type scope struct {
	tenant, owner string
	done          *bool
}

const (
	tokenVersion = 1
	tokenHash    = 16 // bytes of SHA-256 kept: enough to tell queries apart
	tokenLen     = 1 + tokenHash + idBytes
)

func (s scope) hash() []byte {
	done := "any"
	if s.done != nil && *s.done {
		done = "true"
	} else if s.done != nil {
		done = "false"
	}
	kind := "owner"
	if s.owner == "" {
		kind = "tenant"
	}
	h := sha256.Sum256([]byte("entrafunc tasks page v1\x00" + kind + "\x00" + s.tenant + "\x00" + s.owner + "\x00" + done))
	return h[:tokenHash]
}

// seal makes the token of the page that ends at id.
func (s scope) seal(id string) string {
	b := make([]byte, 0, tokenLen)
	b = append(b, tokenVersion)
	b = append(b, s.hash()...)
	raw, _ := decodeID(id) // ids come from the store, which checked them
	b = append(b, raw...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// open returns the id a token of this scope resumes after. A token that
// is malformed, or that belongs to another query (another user's, another
// tenant's, another filter's) is an *InvalidError.
func (s scope) open(token string) (string, error) {
	bad := invalid(FieldToken, "is not a page token of this list: start again from the first page")
	if len(token) > base64.RawURLEncoding.EncodedLen(tokenLen) {
		return "", bad
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenLen || b[0] != tokenVersion ||
		subtle.ConstantTimeCompare(b[1:1+tokenHash], s.hash()) != 1 {
		return "", bad
	}
	id := idEncoding.EncodeToString(b[1+tokenHash:])
	oid, ok := IDOwner(id)
	if !ok || s.owner != "" && oid != s.owner {
		return "", bad
	}
	return id, nil
}

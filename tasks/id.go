package tasks

import (
	"encoding/base32"
	"encoding/hex"
	"io"
	"time"
)

// An id is base32 (lower-case extended hex alphabet, no padding) over
// idBytes bytes: the owner's object id (16 bytes, in the order its text
// shows them), the creation time in Unix milliseconds (6 bytes, big
// endian) and 16 random bytes.
const (
	idOwnerBytes  = 16
	idTimeBytes   = 6
	idRandomBytes = 16
	idBytes       = idOwnerBytes + idTimeBytes + idRandomBytes
	// IDLength is the length of every id.
	IDLength = (idBytes*8 + 4) / 5
)

// idEncoding's alphabet is in ASCII order, so ids sort as their bytes do.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewID makes an id for a task of owner oid (a canonical GUID) created at
// t, with 128 bits from random (crypto/rand.Reader in production).
func NewID(oid string, t time.Time, random io.Reader) (string, error) {
	var b [idBytes]byte
	if !guidBytes(oid, b[:idOwnerBytes]) {
		return "", ErrBadCaller
	}
	ms := max(t.UnixMilli(), 0)
	for i := range idTimeBytes {
		b[idOwnerBytes+idTimeBytes-1-i] = byte(ms >> (8 * i))
	}
	if _, err := io.ReadFull(random, b[idOwnerBytes+idTimeBytes:]); err != nil {
		return "", err
	}
	return idEncoding.EncodeToString(b[:]), nil
}

// ValidID reports whether id is one the service could have made: exactly
// IDLength characters of the id alphabet, in the one canonical spelling,
// naming an owner that is a GUID. Anything else (a slash, a quote, a
// percent sign, upper case, 2 KB of text) cannot be a task, and stores
// answer [ErrNotFound] without building a key from it.
func ValidID(id string) bool {
	_, ok := decodeID(id)
	return ok
}

// IDOwner returns the object id of the owner that id names, and false
// when id is not valid.
func IDOwner(id string) (string, bool) {
	b, ok := decodeID(id)
	if !ok {
		return "", false
	}
	oid := formatGUID(b[:idOwnerBytes])
	if _, ok := ParseGUID(oid); !ok {
		return "", false
	}
	return oid, true
}

func decodeID(id string) ([]byte, bool) {
	if len(id) != IDLength {
		return nil, false
	}
	b, err := idEncoding.DecodeString(id)
	// The last character carries padding bits; only one spelling of
	// them is an id.
	if err != nil || len(b) != idBytes || idEncoding.EncodeToString(b) != id {
		return nil, false
	}
	return b, true
}

// guidBytes writes the 16 bytes of the canonical GUID s into dst.
func guidBytes(s string, dst []byte) bool {
	if !canonicalGUID(s) {
		return false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	_, err := hex.Decode(dst, []byte(h))
	return err == nil
}

func formatGUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

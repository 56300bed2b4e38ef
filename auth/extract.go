package auth

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MaxAuthorizationBytes bounds the Authorization header. Entra access tokens
// are a few KiB even with many groups; anything larger is refused before any
// decoding is attempted.
const MaxAuthorizationBytes = 16 << 10

// maxFormBytes bounds the form body read to look for a smuggled token.
const maxFormBytes = 64 << 10

// BearerToken returns the bearer token of r. RFC 6750 allows three ways to
// send one; this API accepts only the Authorization header, because tokens
// in URLs end up in proxy and host logs. A token offered any other way, or
// twice, is an [ErrInvalidRequest] even when a valid header is also present.
//
// A request with no Authorization header, or one with another scheme, has no
// credentials for this API: [ErrNoCredentials].
func BearerToken(r *http.Request) (string, error) {
	if err := checkNoOtherTokens(r); err != nil {
		return "", err
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", ErrNoCredentials
	case 1:
	default:
		return "", &RequestError{Description: "more than one Authorization header"}
	}
	h := values[0]
	if len(h) > MaxAuthorizationBytes {
		return "", &RequestError{Description: "Authorization header too large"}
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoCredentials
	}
	tok := strings.Trim(rest, " ")
	if tok == "" {
		return "", &RequestError{Description: "empty bearer token"}
	}
	if !isToken68(tok) {
		return "", &RequestError{Description: "malformed bearer token"}
	}
	return tok, nil
}

// checkNoOtherTokens refuses access_token in the query string or in a form
// body (RFC 6750 §2.2, §2.3).
func checkNoOtherTokens(r *http.Request) error {
	if hasRawKey(r.URL.RawQuery, "access_token") {
		return &RequestError{Description: "access tokens are accepted only in the Authorization header, not in the query string"}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return nil
	}
	// Read the form and put it back, so the handler still sees the body.
	b, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		// The handler reads the same error and answers 413.
		return nil
	}
	if err != nil {
		return &RequestError{Description: "unreadable request body"}
	}
	if len(b) > maxFormBytes {
		// Past what is read, a token could hide: no form is that large here.
		return &RequestError{Description: "form body too large"}
	}
	if hasRawKey(string(b), "access_token") {
		return &RequestError{Description: "access tokens are accepted only in the Authorization header, not in a form body"}
	}
	return nil
}

// hasRawKey reports whether the form-encoded s has a pair named key. It
// reads the pairs itself: url.ParseQuery silently drops pairs with a bad
// escape or a semicolon, and a token must not slip through that way.
func hasRawKey(s, key string) bool {
	for s != "" {
		var pair string
		if i := strings.IndexAny(s, "&;"); i >= 0 {
			pair, s = s[:i], s[i+1:]
		} else {
			pair, s = s, ""
		}
		k, _, _ := strings.Cut(pair, "=")
		if k == key {
			return true
		}
		if strings.ContainsRune(k, '%') || strings.ContainsRune(k, '+') {
			if u, err := url.QueryUnescape(k); err == nil && u == key {
				return true
			}
		}
	}
	return false
}

// token68 marks the bytes of the token68 syntax of RFC 7235 §2.1 other
// than its trailing '=' padding.
var token68 = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/") {
		t[c] = true
	}
	return t
}()

// isToken68 reports whether s has the token68 syntax, which every JWT has.
func isToken68(s string) bool {
	i := 0
	for i < len(s) && token68[s[i]] {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

package auth

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

// MaxTokenBytes bounds an access token. Entra's are a few KiB even with
// many groups: past 200 groups a token carries an overage claim instead of
// the list (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference#groups-overage-claim).
//
// It is the one size limit on a token, and it is measured on the token
// itself, without the scheme and the spaces around it, wherever the token
// came from: the Authorization header of a forwarded request or of an
// invocation payload, Easy Auth's X-MS-TOKEN-AAD-ACCESS-TOKEN, or handler
// explain's argument. [Verifier.Verify] applies it before any decoding,
// and [Verifier.Trace] in the same step, so that a token is judged alike
// however it was sent or pasted: a bound on the header would count
// "Bearer " and the spaces, and refuse at the server a token that explain
// accepts.
const MaxTokenBytes = 16 << 10

// maxFormBytes bounds the form body read to look for a smuggled token.
const maxFormBytes = 64 << 10

// BearerToken returns the bearer token of r. RFC 6750 allows three ways to
// send one; this API accepts only the Authorization header, because tokens
// in URLs end up in proxy and host logs. A token offered any other way, or
// twice, is an [ErrInvalidRequest] even when a valid header is also present.
//
// A request with no Authorization header, or one with another scheme, has no
// credentials for this API: [ErrNoCredentials]. The scheme is matched in
// any ASCII letter case (RFC 9110 §11.1), and only ASCII.
//
// The token's size is not judged here but by [Verifier.Verify], which
// every token goes through, so that a token too large gets one answer
// however it reached the server (see [MaxTokenBytes]).
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
	// No bound on the header's length here: the token's is the one
	// limit, and Verify applies it (MaxTokenBytes). net/http bounds the
	// header block as a whole.
	scheme, rest, _ := strings.Cut(values[0], " ")
	if !bounded.EqualFold(scheme, "Bearer") {
		return "", ErrNoCredentials
	}
	tok := strings.Trim(rest, " ")
	if tok == "" {
		return "", &RequestError{Description: "empty bearer token"}
	}
	if !isToken68(tok) {
		return "", errNotToken68
	}
	return tok, nil
}

// errNotToken68 is a bearer token with a character no token has: one
// value, so that a trace gives the server's answer.
var errNotToken68 = &RequestError{Description: "malformed bearer token"}

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

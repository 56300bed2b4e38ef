package auth

import (
	"errors"
	"strings"
)

// The kinds of authentication failure. Every error this package returns
// matches exactly one of them with [errors.Is]; the HTTP layer maps each to
// its RFC 6750 response.
var (
	// ErrNoCredentials: the request carries no bearer token (or a scheme
	// other than Bearer). 401 without an error code.
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrInvalidRequest: the credentials are presented in a way this API
	// refuses (two Authorization headers, a token in the query string, an
	// oversized header). 400 invalid_request.
	ErrInvalidRequest = errors.New("auth: invalid request")
	// ErrInvalidToken: the token (or Easy Auth principal) is malformed,
	// expired, badly signed or meant for someone else. 401 invalid_token.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrInsufficientScope: a valid caller lacks a required delegated
	// scope. 403 insufficient_scope.
	ErrInsufficientScope = errors.New("auth: insufficient scope")
	// ErrForbidden: a valid caller is refused by an allow-list rule. 403.
	ErrForbidden = errors.New("auth: caller not allowed")
	// ErrUnavailable: the signing keys have not been loaded yet, so no
	// token can be judged either way. 503 with Retry-After.
	ErrUnavailable = errors.New("auth: signing keys unavailable")
)

// RequestError is an [ErrInvalidRequest] with a description that is safe to
// show the client: it speaks only of the request's shape, never of a token.
type RequestError struct {
	Description string
}

func (e *RequestError) Error() string        { return "auth: invalid request: " + e.Description }
func (e *RequestError) Is(target error) bool { return target == ErrInvalidRequest }

// TokenError is an [ErrInvalidToken] that records why, for the log only:
// the client is told no more than that the token is invalid.
type TokenError struct {
	// Reason is a short stable word for dashboards, one of the 401 words
	// of the reason table (reasons.go), which docs/troubleshooting.md
	// lists.
	Reason string
	Err    error

	// text, when set, is written for the log, bounded, in place of the
	// text of Err (a library's, which may quote a client's value whole),
	// while errors.Is and errors.As still see Err.
	text string
}

func (e *TokenError) Error() string {
	if d := e.detail(); d != "" {
		return "auth: invalid token: " + e.Reason + ": " + d
	}
	return "auth: invalid token: " + e.Reason
}
func (e *TokenError) Is(target error) bool { return target == ErrInvalidToken }
func (e *TokenError) Unwrap() error        { return e.Err }

// detail is what the error says after its reason.
func (e *TokenError) detail() string {
	switch {
	case e.text != "":
		return e.text
	case e.Err != nil:
		return e.Err.Error()
	}
	return ""
}

func invalidToken(reason string, err error) error { return &TokenError{Reason: reason, Err: err} }

// PolicyError is a refusal by [Policy]: an [ErrInsufficientScope] when
// Scopes is set, otherwise an [ErrForbidden] naming the Rule that refused.
type PolicyError struct {
	// Rule is the setting that refused the caller, such as
	// AUTH_ALLOWED_CLIENT_APPS, so an operator knows what to change.
	Rule string
	// Scopes lists the scopes the caller must have, for the challenge.
	Scopes []string
	// Detail says what was missing, for the log.
	Detail string
}

func (e *PolicyError) Error() string {
	if len(e.Scopes) > 0 {
		return "auth: insufficient scope: need " + strings.Join(e.Scopes, " ") + ": " + e.Detail
	}
	return "auth: caller not allowed by " + e.Rule + ": " + e.Detail
}

func (e *PolicyError) Is(target error) bool {
	if len(e.Scopes) > 0 {
		return target == ErrInsufficientScope
	}
	return target == ErrForbidden
}

// Reason returns the short word logged for err: a TokenError's reason, a
// PolicyError's rule, or the kind of failure; "" for an error that is not
// this package's.
func Reason(err error) string {
	var te *TokenError
	var pe *PolicyError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &te):
		return te.Reason
	case errors.As(err, &pe):
		if len(pe.Scopes) > 0 {
			return reasonInsufficientScope
		}
		return pe.Rule
	case errors.Is(err, ErrNoCredentials):
		return reasonNoCredentials
	case errors.Is(err, ErrInvalidRequest):
		return reasonInvalidRequest
	case errors.Is(err, ErrUnavailable):
		return reasonKeysUnavailable
	}
	return ""
}

package auth

import "net/http"

// Authenticator establishes who sent a request. It returns the principal,
// or an error matching one of this package's Err values; with an
// authorization error ([ErrForbidden]) it may return the principal too,
// for the log.
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// AuthenticatorFunc adapts a function to [Authenticator].
type AuthenticatorFunc func(r *http.Request) (*Principal, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Principal, error) { return f(r) }

// Bearer authenticates requests by the Authorization: Bearer token, which
// v verifies. The Authenticator also tells, through [SourceOf], whose
// tokens v accepts.
func Bearer(v *Verifier) Authenticator { return bearer{v} }

type bearer struct{ v *Verifier }

func (b bearer) Authenticate(r *http.Request) (*Principal, error) {
	tok, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	return b.v.Verify(r.Context(), tok)
}

func (b bearer) source() Source { return b.v.cfg.Source }

// SourceOf returns the source of the principals a establishes, when it
// is one of this package's that knows it ([Bearer]), else "". A server
// whose authenticator accepts development tokens ([SourceDev]) can then
// tell a refused caller how to mint and explain one.
func SourceOf(a Authenticator) Source {
	if b, ok := a.(interface{ source() Source }); ok {
		return b.source()
	}
	return ""
}

// Middleware authenticates every request with a and lets it through only if
// policy admits the caller, who then travels in the request context (see
// [FromContext]). A refused request goes to onError, which owns the
// response; its context carries the principal when one was established, so
// the refusal can be logged against the caller.
func Middleware(a Authenticator, policy Policy, onError func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := a.Authenticate(r)
			if p != nil {
				// Even a refused principal goes into the context, so that
				// the refusal is logged against the caller.
				r = r.WithContext(newContext(r.Context(), p))
			}
			switch {
			case err == nil && p == nil:
				err = ErrNoCredentials // fail closed on an authenticator that says nothing
			case err == nil:
				err = policy.Check(p)
			}
			if err != nil {
				onError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

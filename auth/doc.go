// Package auth decides who is calling and whether they may.
//
// A Power Platform connector calls the API under the signed-in user's
// identity, so the API itself enforces per-user access. Every way of
// authenticating a request yields the same [Principal], and every principal
// passes the same [Policy].
//
// # Authenticators
//
// [Bearer] reads the Authorization: Bearer token (and only that: tokens in
// the query string or a form body, or sent twice, are refused; see
// [BearerToken]) and hands it to a [Verifier].
//
// A [Verifier] validates an Entra ID access token: a header as Entra
// writes it (alg RS256, a kid, typ JWT if any; no member twice; no crit,
// b64 or zip), judged before any key is looked up; a signature by the key
// of its [KeySet] the kid names; exp required, exp and nbf within a leeway
// of at most five minutes, and exp, nbf and iat JSON numbers; aud one of
// the configured audiences; iss exactly one of the tenant's v1 or v2
// issuers; tid equal to the tenant; ver 1.0 or 2.0; oid present; no
// security claim present twice in any letter case. Token headers such as
// jku, x5u and jwk are never used to find a key. Scopes, roles and client
// apps are not the verifier's business but the policy's.
//
// The development issuer ([DevKey]) signs tokens of the same shape with a
// key kept in the user's configuration directory, so that local runs go
// through exactly the same verification as production.
//
// # Policy
//
// [Policy.Check] requires every configured delegated scope (so app-only
// tokens, which carry none, are refused), then the allow-lists of client
// apps, users and groups. A refusal is a [*PolicyError] that names the
// setting that refused.
//
// # Trace
//
// The server's judgement of a bearer token is one ordered list of steps:
// the token's syntax ([BearerToken]), then Verify's (the keys, the size,
// the segments, the header, the claims, the signature, the lifetime, the
// audience, the issuer, the tenant, the version, the oid), then the
// policy's rules. [Verifier.Verify] stops at the first failure;
// [Verifier.Trace] runs every step that can run, as go/types' checker
// reports every error given a Config.Error, and records each step's
// result, the token's value, the configuration's and the error. It can
// leave the signature unchecked, looking no key up; its verdict is then
// the server's for a good signature. `handler explain` (internal/explain)
// turns a trace into advice.
//
// # Errors
//
// Every failure matches one of [ErrNoCredentials], [ErrInvalidRequest],
// [ErrInvalidToken], [ErrInsufficientScope], [ErrForbidden] or
// [ErrUnavailable] with errors.Is. The detail (a [*TokenError]'s Reason, a
// [*PolicyError]'s Rule) is for the log; what the client is told is the HTTP
// layer's choice and never includes token contents. The reason and rule
// words are one list (reasons.go); internal/explain's reason table gives
// the cause and fix of each, and docs/troubleshooting.md is generated from
// it.
//
// # Logging
//
// A [Principal] logs as its oid and tid only ([Principal.LogValue]). This
// package never logs a token, and an error that quotes a value the client
// chose (a kid, an issuer, a principal's member name) quotes it cut to 128
// bytes with its control characters escaped, since errors reach the log.
package auth

// Package entratest is a stand-in for Entra ID's login host, over real
// HTTP on loopback, for tests and benchmarks: the counterpart of go-oidc's
// oidctest, shaped like Entra ID rather than like a generic OpenID
// provider.
//
// An [Issuer] serves one tenant's OpenID metadata, both versions, at the
// paths Entra uses:
//
//	{URL}/{tenant}/v2.0/.well-known/openid-configuration
//	{URL}/{tenant}/.well-known/openid-configuration
//	{URL}/{tenant}/discovery/v2.0/keys
//	{URL}/{tenant}/discovery/keys
//
// so [Issuer.URL] is what the handler takes as AUTH_AUTHORITY (http is
// accepted there for a loopback host only). The documents are Entra's real
// 2024 `common` documents, made tenant-specific the way Entra makes them:
// `{tenantid}` becomes the tenant, and the endpoints on
// https://login.microsoftonline.com/common move to the issuer's own
// address. The issuer values stay as Entra writes them,
// https://login.microsoftonline.com/{tid}/v2.0 and
// https://sts.windows.net/{tid}/, because that is what a verifier meets in
// production and what minted tokens carry in iss; the handler accepts
// exactly the issuers its metadata names. [Config.LocalIssuers] moves them
// under [Issuer.URL] instead, for clients such as go-oidc that require the
// issuer to be the discovery URL's prefix. The paths also answer for
// `common` and `organizations`, with the issuer left templated, as Entra
// does; any other tenant gets Entra's invalid_tenant error document.
//
// Keys are shaped like Entra's: RSA 2048, use sig, kid, x5t (the SHA-1
// thumbprint of a self-signed certificate, which is also the kid unless a
// test names its own), x5c, and no alg, so that only a verifier's own
// algorithm allow-list stands between a token and the key. The v2 key set
// carries each key's issuer, as Entra's does; the v1 set does not.
// [Issuer.AddKey], [Issuer.RemoveKey] and [Issuer.SetKeys] rotate the
// published set; a removed key still signs, which is how a test makes a
// token signed by a retired key, and [Issuer.Sign] with a kid nobody
// published makes one signed by an unknown key.
//
// [Issuer.Mint] signs tokens shaped like Entra's from a [Token]
// description: delegated v1 and v2 access tokens (aud, scp, azp or appid,
// oid, tid, ver, iat, nbf, exp, and the profile claims), app-only tokens
// (roles, idtyp=app, no scp) and ID tokens (aud the client app, no scp). v1
// tokens also name their key by x5t in the header, as Entra's do.
// [Issuer.Claims] returns the claims without signing, for a test that
// needs to change one and then [Issuer.Sign] them.
//
// For failure tests: [Issuer.SetLatency] delays every answer, the way to
// Entra ID does; [Issuer.SetOutage] refuses connections, answers 503 with
// an Entra-style error document, or holds requests until the outage ends;
// [Issuer.MetadataFetches] and [Issuer.JWKSFetches] count the requests
// that reached those endpoints, so a test can hold a client to one load.
//
// [New] starts an issuer for a test and closes it when the test ends;
// [Start] does the same for a program (the benchmark tool uses it), which
// closes it itself.
//
// Nothing here is fit for production: keys are made in memory at start,
// and the server speaks plain HTTP.
package entratest

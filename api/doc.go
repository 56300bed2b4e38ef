// Package api is the HTTP surface of the custom handler: what the Azure
// Functions host forwards to it.
//
// With enableForwardingHttpRequest the host forwards each client request as
// it came: same method, the path under the /api route prefix in the
// client's own casing, every header. [NewServer] therefore matches paths
// case-insensitively, folding ASCII letters only as the host does,
// authenticates every function route, and answers
// GET / at once and without credentials, because that is how the host
// learns the worker has started.
//
// Every route is declared once, in [Routes]: the router serves the table,
// and tests check the function.json files against it.
//
// Errors become responses in one place: auth failures get RFC 6750
// WWW-Authenticate challenges, and every error has an RFC 9457
// application/problem+json body. A client's own input may be described
// back to it; anything else the client learns is a fixed message, and the
// detail goes to the request's single log line.
package api

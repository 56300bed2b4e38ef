// Package explain says why the server would refuse a token, and what to
// change: handler explain's analysis.
//
// Package auth judges; this package explains. [Explain] asks
// [auth.Verifier.Trace] for the server's steps on a token (the same code a
// request runs, each step's result, the token's value, the configuration's
// and the error) and turns them into an [Explanation]: the checks as an
// operator reads them, the token's shape and claims beside the values the
// configuration expects, and for each failure the reason word, its usual
// cause and the fix. The verdict is the trace's, never worked out again
// here.
//
// What is this deployment's rather than the verifier's lives here: the
// settings' names (AUTH_AUDIENCES, AUTH_TENANT_ID, …), the Entra and Power
// Platform cases a refusal falls into (a v1 token carrying the
// connector's Resource URL, Power Platform's first-hop token, a Microsoft
// Graph token, an ID token, another tenant, a development token), and the
// reason table (reasons.go), whose cause and fix for each of auth's
// reason words docs/troubleshooting.md is generated from.
//
// Like the log, an Explanation never holds the token's signature, and of
// the claims that identify a person only oid and name; its strings from
// the token are cut and escaped as internal/bounded escapes them.
package explain

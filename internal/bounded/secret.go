package bounded

import (
	"regexp"
	"strings"
)

// Hidden stands where text that may be a credential was.
const Hidden = "(token-shaped text, not shown)"

// secretRun finds the runs of base64, base64url and JWT characters that
// IsSecret judges.
var secretRun = regexp.MustCompile(`[A-Za-z0-9_\-.~+/=]{30,}`)

// isSecret says a run found by secretRun may be a credential: a JWT or
// JWE, found by its base64url "eyJ" (`{"`); a run with a "~", as Entra's
// client secrets have; or a run of 40 or more mixing upper and lower case
// letters and digits, the shape of opaque tokens and function keys, and
// of no GUID, URL or path a message names.
func isSecret(m string) bool {
	if strings.Contains(m, "eyJ") || strings.Contains(m, "~") {
		return true
	}
	var upper, lower, digit bool
	for _, r := range m {
		upper = upper || 'A' <= r && r <= 'Z'
		lower = lower || 'a' <= r && r <= 'z'
		digit = digit || '0' <= r && r <= '9'
	}
	return len(m) >= 40 && upper && lower && digit
}

// HasSecret reports whether s holds what may be a credential: a token
// pasted in the wrong place, into a flag or a setting that a message
// would repeat.
func HasSecret(s string) bool {
	for _, m := range secretRun.FindAllString(s, -1) {
		if isSecret(m) {
			return true
		}
	}
	return false
}

// Redact returns s with what may be a credential replaced by [Hidden].
// Text before a JWT's "eyJ" in the same run is kept: "--online" glued to
// a token by a missing space says what went wrong.
func Redact(s string) string {
	return secretRun.ReplaceAllStringFunc(s, func(m string) string {
		if i := strings.Index(m, "eyJ"); i > 0 {
			return m[:i] + Hidden
		}
		if isSecret(m) {
			return Hidden
		}
		return m
	})
}

// Value quotes a value that a person gave (a flag, a setting) for a
// message that repeats it: as [Quote], cut to n bytes, and not at all when
// it may be a credential, since a cut token is still part of one.
func Value(s string, n int) string {
	if HasSecret(s) {
		return "(a token-shaped value, not shown)"
	}
	return quote(s, n)
}

// urlQuery is the query of an http(s) URL inside a message, up to the
// next space or quote.
var urlQuery = regexp.MustCompile(`(https?://[^\s"'?#]+)\?[^\s"']*`)

// HideQueries returns s with the query of every http(s) URL in it
// replaced by "?(query hidden)": an error that quotes a request's URL
// (net/http's *url.Error does) may carry a credential there, such as a
// storage SAS token's sig=.
func HideQueries(s string) string {
	if !strings.Contains(s, "?") {
		return s
	}
	return urlQuery.ReplaceAllString(s, "$1?(query hidden)")
}

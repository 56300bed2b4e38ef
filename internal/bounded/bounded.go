// Package bounded cuts text that a client, a token or a header chose
// before a log line or an error message repeats it. A token's kid, alg or
// iss, an Easy Auth principal's member names, a request path: all are read
// before anything vouches for them, and each could be megabytes of escape
// sequences meant for whoever reads the log in a terminal.
//
// Every such value goes through [String] (a log field of its own) or
// [Quote] (a value inside a message), so that one rule decides how much of
// it is kept and how its control characters are made harmless.
package bounded

import (
	"strconv"
	"unicode/utf8"
)

// Max is how many bytes of a value are kept: no route, invocation id,
// GUID, issuer, kid or claim name Entra uses is longer, and a longer one is
// more likely a pasted token than a typo.
const Max = 128

// Ellipsis marks a value that was cut.
const Ellipsis = "…"

// String returns s cut to at most Max bytes, for a log field of its own:
// see [Cut].
func String(s string) string { return Cut(s, Max) }

// Cut returns s cut to at most n bytes at a UTF-8 boundary, followed by
// [Ellipsis] when anything was cut. Control characters are dropped, except
// line breaks and tabs, which become spaces so that joined error texts stay
// readable: a log reader's terminal must not act on what a client wrote.
func Cut(s string, n int) string {
	if len(s) <= n && !hasControl(s) {
		return s // the usual case, without an allocation
	}
	cut := len(s) > n
	if cut {
		s = s[:boundary(s, n)]
	}
	b := make([]byte, 0, len(s)+len(Ellipsis))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b = append(b, ' ')
		case isControl(r):
		default:
			// Invalid bytes are kept as they are, as on the fast path:
			// the log's JSON encoding replaces them.
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	if cut {
		b = append(b, Ellipsis...)
	}
	return string(b)
}

// Quote returns s cut to at most Max bytes at a UTF-8 boundary and quoted
// as %q quotes it, so control characters and invalid UTF-8 show as escapes
// rather than act; [Ellipsis] follows the closing quote when anything was
// cut, so that it cannot be taken for part of the value.
func Quote(s string) string {
	if len(s) <= Max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:boundary(s, Max)]) + Ellipsis
}

// boundary returns the largest i <= n at which s can be cut without
// splitting a UTF-8 sequence. Invalid bytes count as sequences of one, so
// it backs up at most utf8.UTFMax-1 bytes.
func boundary(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return i
		}
	}
	return n
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == 0xc2 {
			// 0xc2 leads the C1 controls U+0080..U+009F (and other
			// characters): the slow path sorts them out.
			return true
		}
	}
	return false
}

// isControl reports whether r is a C0 or C1 control character or DEL.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }

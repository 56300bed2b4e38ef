// Package bounded makes text that a client, a token or a header chose safe
// to repeat: in a log line, in an error message, on handler explain's
// terminal. A token's kid, alg or iss, an Easy Auth principal's member
// names, a request path, an invocation id: all are read before anything
// vouches for them, and each could be megabytes of escape sequences meant
// for whoever reads the log in a terminal, or a right-to-left override
// that makes a log viewer show the line in another order than it was
// written.
//
// Every such value goes through [String] (a log field of its own), [Cut]
// (a longer one, such as a log line's error), [Quote] (a value inside a
// message) or [Escape] (explain's output, which is not cut), so that one
// rule, [Safe], decides which characters are shown as they are and one
// notation, Go's escapes, shows the others.
//
// It also holds [EqualFold] and [Lower], the case folding of the Azure
// Functions host, for comparing a client's path or name with the app's.
package bounded

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// Max is how many bytes of a value are kept: no route, invocation id,
// GUID, issuer, kid or claim name Entra uses is longer, and a longer one is
// more likely a pasted token than a typo.
const Max = 128

// Ellipsis marks a value that was cut.
const Ellipsis = "…"

// Safe reports whether r may be shown as it is. Everything else is
// escaped:
//
//   - C0 and C1 controls and DEL, which a terminal acts on (ESC starts
//     the sequences that recolour, retitle or clear it; U+009B is an
//     8-bit CSI);
//   - format characters (category Cf): the bidirectional overrides,
//     embeddings and isolates (U+202A–U+202E, U+2066–U+2069), which make
//     a viewer reorder the rest of the line, and the zero-width ones
//     (U+200B–U+200F, U+2060, U+FEFF), which hide text;
//   - the line and paragraph separators U+2028 and U+2029, which end a
//     line for some viewers and not for others;
//   - spaces other than U+0020 (no-break, em, ideographic …), which pass
//     for it;
//   - the other default-ignorable characters, which fonts draw as nothing
//     (U+034F, the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, the
//     variation selectors);
//   - private-use and unassigned code points, whose meaning is anyone's.
//
// See Unicode's UAX #9 for the bidirectional controls and UTS #55 (source
// code spoofing, the "Trojan Source" class) for why all of them matter
// wherever people read text that others wrote.
func Safe(r rune) bool {
	switch {
	case r >= 0x20 && r < 0x7f:
		return true
	case r < 0xa0:
		return false // C0, DEL, C1
	case !unicode.IsGraphic(r):
		// Cc, Cf, Co, Cs, Cn, Zl, Zp: IsGraphic keeps L, M, N, P, S and Zs.
		return false
	case unicode.Is(unicode.Zs, r),
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r),
		unicode.Is(unicode.Variation_Selector, r):
		return false
	}
	return true
}

// Escape returns s with every character [Safe] refuses written as a Go
// escape (\x1b, \n, \u202e, \U000e0001), and every byte that is not UTF-8
// as \xNN, whatever its length. The rest, letters of any script included,
// is kept as it is.
func Escape(s string) string { return cut(s, math.MaxInt, false) }

// String returns s escaped and cut to at most Max bytes, for a log field
// of its own: see [Cut].
func String(s string) string { return Cut(s, Max) }

// Cut returns s escaped as [Escape] escapes it and cut to at most n bytes,
// followed by [Ellipsis] when anything was cut. It cuts between two
// characters, never inside one or inside an escape, so that what is kept
// reads as what was sent.
func Cut(s string, n int) string { return cut(s, n, false) }

// Quote returns s cut to at most Max bytes at a UTF-8 boundary and quoted
// as %q quotes it, with what [Safe] refuses escaped too, so that nothing
// in it acts and its end is plain; [Ellipsis] follows the closing quote
// when anything was cut, so that it cannot be taken for part of the value.
func Quote(s string) string { return quote(s, Max) }

// quote is Quote cutting at n bytes.
func quote(s string, n int) string {
	more := ""
	if len(s) > n {
		s, more = s[:boundary(s, n)], Ellipsis
	}
	return `"` + cut(s, math.MaxInt, true) + `"` + more
}

// cut escapes s, keeping at most n bytes of the result; quoted also
// escapes the quote and the backslash, as inside a Go string literal.
func cut(s string, n int, quoted bool) string {
	i := safePrefix(s, quoted)
	if i == len(s) && len(s) <= n {
		return s // the usual case, without an allocation
	}
	b := make([]byte, 0, min(len(s), n)+len(Ellipsis))
	for i = 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		next := appendChar(b, s[i:i+size], r, quoted)
		if len(next) > n {
			return string(append(b, Ellipsis...))
		}
		b = next
		i += size
	}
	return string(b)
}

// safePrefix returns how many bytes of s need no escape.
func safePrefix(s string, quoted bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			if quoted && (c == '"' || c == '\\') {
				return i
			}
			i++
			continue
		}
		if c < 0x80 {
			return i
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !Safe(r) {
			return i
		}
		i += size
	}
	return len(s)
}

const hexDigits = "0123456789abcdef"

// appendChar appends the character c (r, or an invalid byte) to b, as it
// is or escaped.
func appendChar(b []byte, c string, r rune, quoted bool) []byte {
	switch {
	case r == utf8.RuneError && len(c) == 1:
		return append(b, '\\', 'x', hexDigits[c[0]>>4], hexDigits[c[0]&0xf])
	case quoted && (r == '"' || r == '\\'):
		return append(b, '\\', byte(r))
	case Safe(r):
		return append(b, c...)
	}
	switch r {
	case '\a':
		return append(b, `\a`...)
	case '\b':
		return append(b, `\b`...)
	case '\f':
		return append(b, `\f`...)
	case '\n':
		return append(b, `\n`...)
	case '\r':
		return append(b, `\r`...)
	case '\t':
		return append(b, `\t`...)
	case '\v':
		return append(b, `\v`...)
	}
	switch {
	case r < 0x80:
		return append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
	case r < 0x10000:
		b = append(b, '\\', 'u')
		for s := 12; s >= 0; s -= 4 {
			b = append(b, hexDigits[r>>s&0xf])
		}
		return b
	}
	b = append(b, '\\', 'U')
	for s := 28; s >= 0; s -= 4 {
		b = append(b, hexDigits[r>>s&0xf])
	}
	return b
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

// EqualFold reports whether a and b are equal when ASCII letters are
// folded, and only they: the Functions host matches routes, function
// names and the route prefix with .NET's ordinal ignore-case comparison,
// under which no character outside ASCII equals one inside it
// (https://github.com/dotnet/runtime/issues/32247). strings.EqualFold
// and strings.ToLower fold by Unicode, so they would take "/apİ/Hello"
// (U+0130), "\u212Aey" (KELVIN SIGN) or "ſ" (U+017F) for ASCII the host
// never matches, and a path the host would not route could reach a
// function here, or two spellings of one name be counted as different.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// Lower returns s with its ASCII letters, and only they, in lower case:
// the key under which [EqualFold] values are equal. Every other byte is
// kept, so a non-ASCII character never becomes an ASCII one.
func Lower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		b[i] = lowerASCII(b[i])
	}
	return string(b)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

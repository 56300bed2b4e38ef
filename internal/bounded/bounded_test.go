package bounded

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCutAndQuote: values are cut at a byte bound without splitting a
// character or an escape, marked when cut, and never carry a raw control
// character out.
func TestCutAndQuote(t *testing.T) {
	long := strings.Repeat("a", Max)
	tests := []struct {
		name  string
		in    string
		cut   string // String(in)
		quote string // Quote(in)
	}{
		{"short", "/api/Hello", "/api/Hello", `"/api/Hello"`},
		{"empty", "", "", `""`},
		{"exactly Max", long, long, `"` + long + `"`},
		{"one over Max", long + "b", long + Ellipsis, `"` + long + `"` + Ellipsis},
		// é is two bytes: cutting after Max-1 ASCII bytes would split it.
		{"multi-byte ending at the bound", long[:Max-2] + "é", long[:Max-2] + "é", `"` + long[:Max-2] + `é"`},
		{"multi-byte across the bound", long[:Max-1] + "é", long[:Max-1] + Ellipsis, `"` + long[:Max-1] + `"` + Ellipsis},
		{"four-byte rune across the bound", long[:Max-2] + "😀", long[:Max-2] + Ellipsis, `"` + long[:Max-2] + `"` + Ellipsis},
		// The escape of ESC is four bytes: it is kept whole or not at all.
		{"an escape across the bound", long[:Max-2] + "\x1b", long[:Max-2] + Ellipsis, `"` + long[:Max-2] + `\x1b"`},
		{"an escape ending at the bound", long[:Max-4] + "\x1b", long[:Max-4] + `\x1b`, `"` + long[:Max-4] + `\x1b"`},
		{"line breaks and tabs", "a\nb\r\tc", `a\nb\r\tc`, `"a\nb\r\tc"`},
		{"ANSI escapes", "\x1b[31mred\x1b]0;title\x07", `\x1b[31mred\x1b]0;title\a`, `"\x1b[31mred\x1b]0;title\a"`},
		{"DEL and a C1 control", "a\x7fb\u0085c\u009bd", `a\x7fb\u0085c\u009bd`, `"a\x7fb\u0085c\u009bd"`},
		{"Latin-1 letters stay", "café ©", "café ©", `"café ©"`},
		{"invalid UTF-8", "a\xffb", `a\xffb`, `"a\xffb"`},
		{"quotes and backslashes", `say "hi" \o/`, `say "hi" \o/`, `"say \"hi\" \\o/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in); got != tt.cut {
				t.Errorf("String = %q, want %q", got, tt.cut)
			}
			if got := Quote(tt.in); got != tt.quote {
				t.Errorf("Quote = %s, want %s", got, tt.quote)
			}
		})
	}
}

// hostileChars are characters that make a terminal or a log viewer show
// something else than what was written: each reached a log line raw
// before Escape. Each is written between two letters.
var hostileChars = []struct {
	name, in, escaped string
}{
	{"right-to-left override", "\u202e", `\u202e`},
	{"left-to-right override", "\u202d", `\u202d`},
	{"right-to-left embedding", "\u202b", `\u202b`},
	{"pop directional formatting", "\u202c", `\u202c`},
	{"left-to-right isolate", "\u2066", `\u2066`},
	{"right-to-left isolate", "\u2067", `\u2067`},
	{"first strong isolate", "\u2068", `\u2068`},
	{"pop directional isolate", "\u2069", `\u2069`},
	{"right-to-left mark", "\u200f", `\u200f`},
	{"Arabic letter mark", "\u061c", `\u061c`},
	{"zero-width space", "\u200b", `\u200b`},
	{"zero-width joiner", "\u200d", `\u200d`},
	{"word joiner", "\u2060", `\u2060`},
	{"byte order mark", "\ufeff", `\ufeff`},
	{"soft hyphen", "\u00ad", `\u00ad`},
	{"Mongolian vowel separator", "\u180e", `\u180e`},
	{"interlinear annotation anchor", "\ufff9", `\ufff9`},
	{"line separator", "\u2028", `\u2028`},
	{"paragraph separator", "\u2029", `\u2029`},
	{"no-break space", "\u00a0", `\u00a0`},
	{"ideographic space", "\u3000", `\u3000`},
	{"Hangul filler", "\u3164", `\u3164`},
	{"Hangul choseong filler", "\u115f", `\u115f`},
	{"variation selector", "\ufe0f", `\ufe0f`},
	{"tag letter", "\U000e0041", `\U000e0041`},
	{"private use", "\ue000", `\ue000`},
	{"unassigned", "\U0010fffe", `\U0010fffe`},
	{"escape", "\x1b", `\x1b`},
	{"DEL", "\x7f", `\x7f`},
	{"C1 CSI", "\u009b", `\u009b`},
	{"next line", "\u0085", `\u0085`},
	{"NUL", "\x00", `\x00`},
	{"invalid byte", "\xff", `\xff`},
	{"a lone surrogate, encoded", "\xed\xa0\x80", `\xed\xa0\x80`},
	{"a truncated sequence", "\xe2\x80", `\xe2\x80`},
	{"an overlong slash", "\xc0\xaf", `\xc0\xaf`},
}

// TestEscapeHostile: every hostile character comes out as its escape, from
// Escape, String and Quote alike, and the text around it as it was.
func TestEscapeHostile(t *testing.T) {
	for _, c := range hostileChars {
		t.Run(c.name, func(t *testing.T) {
			in := "a" + c.in + "b"
			want := "a" + c.escaped + "b"
			if got := Escape(in); got != want {
				t.Errorf("Escape = %q, want %q", got, want)
			}
			if got := String(in); got != want {
				t.Errorf("String = %q, want %q", got, want)
			}
			if got := Quote(in); got != `"`+want+`"` {
				t.Errorf("Quote = %q, want %q", got, `"`+want+`"`)
			}
			for _, out := range []string{Escape(in), String(in), Quote(in)} {
				checkSafe(t, out)
			}
		})
	}
}

// TestEscapeKeepsText: what people write in names and paths, in any
// script, is shown as it is.
func TestEscapeKeepsText(t *testing.T) {
	for _, s := range []string{
		"/api/Hello", "José Müller", "Ελληνικά", "日本語", "עברית", "العربية", "😀", "e\u0301", "ǅ", "a b", `C:\path`, "©®™", "\ufffd",
	} {
		if got := Escape(s); got != s {
			t.Errorf("Escape(%q) = %q", s, got)
		}
		if got := String(s); got != s {
			t.Errorf("String(%q) = %q", s, got)
		}
	}
}

// checkSafe fails unless out is valid UTF-8 of safe characters only.
func checkSafe(t testing.TB, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%q is not valid UTF-8", out)
	}
	for _, r := range out {
		if !Safe(r) {
			t.Errorf("%q holds %U raw", out, r)
		}
	}
}

// TestBoundsHoldForAnyInput: whatever the input, String keeps at most Max
// bytes plus the ellipsis, and neither String nor Quote lets an unsafe
// character through.
func TestBoundsHoldForAnyInput(t *testing.T) {
	inputs := []string{
		strings.Repeat("\x1b[2J", 5000),
		strings.Repeat("é", 5000),
		strings.Repeat("\xff", 5000),
		strings.Repeat("a\u2028\u0085\n", 3000),
		strings.Repeat("\u202e", 5000),
		strings.Repeat("😀", 100) + "x",
	}
	for _, in := range inputs {
		s := String(in)
		if len(s) > Max+len(Ellipsis) {
			t.Errorf("String(%.20q…) is %d bytes", in, len(s))
		}
		q := Quote(in)
		if len(q) > 10*Max+2+len(Ellipsis) {
			t.Errorf("Quote(%.20q…) is %d bytes", in, len(q))
		}
		checkSafe(t, s)
		checkSafe(t, q)
	}
}

// FuzzEscape holds the three forms to their promises for any input: only
// safe characters come out, Cut is a prefix of Escape within its bound,
// and Quote's escapes are Go's, so that strconv.Unquote gives back the
// very bytes that were quoted.
func FuzzEscape(f *testing.F) {
	for _, c := range hostileChars {
		f.Add("a"+c.in+"b", 8)
	}
	f.Add(strings.Repeat("é\x1b", 100), Max)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<12 {
			return
		}
		esc := Escape(s)
		checkSafe(t, esc)
		c := Cut(s, n)
		switch {
		case len(esc) <= n:
			if c != esc {
				t.Fatalf("Cut(%q, %d) = %q, want all of %q", s, n, c, esc)
			}
		case !strings.HasSuffix(c, Ellipsis) || !strings.HasPrefix(esc, strings.TrimSuffix(c, Ellipsis)) || len(c) > n+len(Ellipsis):
			t.Fatalf("Cut(%q, %d) = %q: not a prefix of %q within the bound", s, n, c, esc)
		}
		q := Quote(s)
		checkSafe(t, q)
		body := strings.TrimSuffix(q, Ellipsis)
		u, err := strconv.Unquote(body)
		if err != nil {
			t.Fatalf("Quote(%q) = %s, which Go cannot unquote: %v", s, q, err)
		}
		if !strings.HasPrefix(s, u) || (u != s) != (body != q) {
			t.Fatalf("Quote(%q) = %s, which unquotes to %q", s, q, u)
		}
	})
}

// TestFold: ASCII letters fold, and nothing else does: no character
// outside ASCII becomes one inside it, as under the host's ordinal
// ignore-case comparison.
func TestFold(t *testing.T) {
	tests := []struct {
		a, b  string
		equal bool
	}{
		{"/api/Hello", "/API/hello", true},
		{"Hello", "hELLO", true},
		{"", "", true},
		{"/api/Hello", "/api/Hell", false},
		{"/apİ/Hello", "/api/Hello", false},       // U+0130, which Unicode lowers to i
		{"/apı/Hello", "/api/Hello", false},       // U+0131, which Unicode uppers to I
		{"\u212Aiosk", "kiosk", false},            // KELVIN SIGN, which Unicode lowers to k
		{"kio\u017Fk", "kiosk", false},            // LONG S, which Unicode folds with s
		{"\uff28ello", "Hello", false},            // FULLWIDTH H
		{"\u212Bngstrom", "\u00e5ngstrom", false}, // ANGSTROM SIGN, which Unicode lowers to å
		{"ÄÖÜ", "äöü", false},                     // outside ASCII nothing folds, as a key
	}
	for _, tt := range tests {
		if got := EqualFold(tt.a, tt.b); got != tt.equal {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.equal)
		}
		if got := Lower(tt.a) == Lower(tt.b); got != tt.equal {
			t.Errorf("Lower(%q) = %q, Lower(%q) = %q: equal %v, want %v", tt.a, Lower(tt.a), tt.b, Lower(tt.b), got, tt.equal)
		}
	}
	// Lower changes ASCII capitals and nothing else, byte for byte.
	for _, s := range []string{"/apİ/Hello", "\u212A", "ſ", "ÄÖÜ", "\xff", "MiXeD"} {
		l := Lower(s)
		if len(l) != len(s) {
			t.Fatalf("Lower(%q) = %q changed the length", s, l)
		}
		for i := 0; i < len(s); i++ {
			want := s[i]
			if want >= 'A' && want <= 'Z' {
				want += 'a' - 'A'
			}
			if l[i] != want {
				t.Errorf("Lower(%q) = %q: byte %d is %#x, want %#x", s, l, i, l[i], want)
			}
		}
	}
}

func TestHideQueries(t *testing.T) {
	for in, want := range map[string]string{
		`Get "http://127.0.0.1:1/acct/tasks()?sig=TOPSECRET&sv=2020": dial tcp: refused`: `Get "http://127.0.0.1:1/acct/tasks()?(query hidden)": dial tcp: refused`,
		`Put https://a.table.core.windows.net/t?se=x&sig=abc%2B== failed`:                `Put https://a.table.core.windows.net/t?(query hidden) failed`,
		`no URL? no change`:                       `no URL? no change`,
		`http://h/p#frag`:                         `http://h/p#frag`,
		`two: https://x/a?k=1 and http://y/b?k=2`: `two: https://x/a?(query hidden) and http://y/b?(query hidden)`,
	} {
		if got := HideQueries(in); got != want {
			t.Errorf("HideQueries(%q) = %q, want %q", in, got, want)
		}
	}
}

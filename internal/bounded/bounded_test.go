package bounded

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCutAndQuote: values are cut at a byte bound without splitting a
// character, marked when cut, and never carry a raw control character out.
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
		{"line breaks and tabs", "a\nb\r\tc", "a b  c", `"a\nb\r\tc"`},
		{"ANSI escapes", "\x1b[31mred\x1b]0;title\x07", "[31mred]0;title", `"\x1b[31mred\x1b]0;title\a"`},
		{"DEL and a C1 control", "a\x7fb\u0085c\u009bd", "abcd", `"a\x7fb\u0085c\u009bd"`},
		{"Latin-1 letters stay", "café ©", "café ©", `"café ©"`},
		{"invalid UTF-8 kept for the log encoder", "a\xffb", "a\xffb", `"a\xffb"`},
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

// TestBoundsHoldForAnyInput: whatever the input, String keeps at most Max
// bytes plus the ellipsis, valid UTF-8 stays valid, and neither String nor
// Quote lets a control character through.
func TestBoundsHoldForAnyInput(t *testing.T) {
	inputs := []string{
		strings.Repeat("\x1b[2J", 5000),
		strings.Repeat("é", 5000),
		strings.Repeat("\xff", 5000),
		strings.Repeat("a\u2028\u0085\n", 3000),
		strings.Repeat("😀", 100) + "x",
	}
	for _, in := range inputs {
		s := String(in)
		if len(s) > Max+len(Ellipsis) {
			t.Errorf("String(%.20q…) is %d bytes", in, len(s))
		}
		if utf8.ValidString(in) && !utf8.ValidString(s) {
			t.Errorf("String(%.20q…) split a character: %q", in, s)
		}
		q := Quote(in)
		if len(q) > 4*Max+2+len(Ellipsis) {
			t.Errorf("Quote(%.20q…) is %d bytes", in, len(q))
		}
		for _, out := range []string{s, q} {
			for _, r := range out {
				if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
					t.Errorf("%q holds the control character %U", out, r)
					break
				}
			}
		}
	}
}

package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/auth"
)

// spoofChars are characters that make a log viewer show a line other than
// it was written: reordered (bidirectional overrides, embeddings,
// isolates, marks), with text hidden (zero-width and other default-
// ignorable characters), broken (line and paragraph separators), or with a
// look-alike space. escaped is how the log must show each.
var spoofChars = []struct{ name, raw, escaped string }{
	{"right-to-left override", "\u202e", `\u202e`},
	{"left-to-right override", "\u202d", `\u202d`},
	{"right-to-left embedding", "\u202b", `\u202b`},
	{"right-to-left isolate", "\u2067", `\u2067`},
	{"pop directional isolate", "\u2069", `\u2069`},
	{"right-to-left mark", "\u200f", `\u200f`},
	{"Arabic letter mark", "\u061c", `\u061c`},
	{"zero-width space", "\u200b", `\u200b`},
	{"zero-width joiner", "\u200d", `\u200d`},
	{"byte order mark", "\ufeff", `\ufeff`},
	{"soft hyphen", "\u00ad", `\u00ad`},
	{"line separator", "\u2028", `\u2028`},
	{"paragraph separator", "\u2029", `\u2029`},
	{"no-break space", "\u00a0", `\u00a0`},
	{"Hangul filler", "\u3164", `\u3164`},
	{"tag letter", "\U000e0041", `\U000e0041`},
}

// TestLogEscapesHostileText sends each spoofing character, and bytes that
// are not UTF-8, through the real server in every client-chosen value its
// log line carries (path, invocation id, an Easy Auth principal's oid and
// tid, a refusal's error): the line holds none of them raw, neither in its
// bytes nor in what a log viewer decodes from its JSON, and shows each
// escaped, as handler explain does. Before, bounded dropped controls only,
// and a path with U+202E reached the log as it was.
func TestLogEscapesHostileText(t *testing.T) {
	principal := func(oid, tid string) string {
		b, err := json.Marshal(map[string]any{"auth_typ": "aad", "claims": []map[string]string{{"typ": "oid", "val": oid}, {"typ": "tid", "val": tid}}})
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	easy, err := auth.EasyAuth(auth.EasyAuthConfig{TenantID: goodTID})
	if err != nil {
		t.Fatal(err)
	}
	type place struct {
		name  string
		field string // the log field that repeats the value
		easy  bool
		// req sends the value v.
		req func(v string) req
	}
	places := []place{
		{"path", "path", false, func(v string) req {
			return req{method: http.MethodGet, target: "/api/" + url.PathEscape("Hello"+v), token: goodToken}
		}},
		{"invocation id", "invocation_id", false, func(v string) req {
			return req{method: http.MethodGet, target: "/api/Hello", token: goodToken, headers: http.Header{InvocationIDHeader: {"inv-" + v}}}
		}},
		{"invocation id on the invocation endpoint", "invocation_id", false, func(v string) req {
			return req{method: http.MethodPost, target: "/Hello", ctype: "application/json", body: strings.NewReader(`{"Data":{"req":{"Url":"http://h/api/Hello","Method":"GET","Headers":{}}}}`),
				headers: http.Header{InvocationIDHeader: {"inv-" + v}}}
		}},
		{"Easy Auth oid", "oid", true, func(v string) req {
			return req{method: http.MethodGet, target: "/api/Me", headers: http.Header{
				auth.HeaderClientPrincipal: {principal("oid-"+v, goodTID)}, auth.HeaderClientPrincipalIDP: {"aad"}}}
		}},
		{"Easy Auth tid, refused", "tid", true, func(v string) req {
			return req{method: http.MethodGet, target: "/api/Me", headers: http.Header{
				auth.HeaderClientPrincipal: {principal(goodOID, "tid-"+v)}, auth.HeaderClientPrincipalIDP: {"aad"}}}
		}},
		{"Easy Auth IdP, in the error", "error", true, func(v string) req {
			return req{method: http.MethodGet, target: "/api/Me", headers: http.Header{
				auth.HeaderClientPrincipal: {principal(goodOID, goodTID)}, auth.HeaderClientPrincipalIDP: {"aad" + v}}}
		}},
	}
	type hostile struct{ name, raw, escaped string }
	values := []hostile{}
	for _, c := range spoofChars {
		values = append(values, hostile(c))
	}
	// Not UTF-8: the JSON encoder would make each byte U+FFFD, and the
	// reader could not tell what was sent. Paths and header values carry
	// bytes; a principal's JSON cannot.
	bytesOnly := []hostile{
		{"invalid byte", "\xff", `\xff`},
		{"a lone surrogate, encoded", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"an overlong slash", "\xc0\xaf", `\xc0\xaf`},
	}
	for _, p := range places {
		vs := values
		if !p.easy {
			vs = append(vs, bytesOnly...)
		}
		for _, v := range vs {
			t.Run(p.name+"/"+v.name, func(t *testing.T) {
				f := newFixture(t, func(o *Options) {
					if p.easy {
						o.Authenticator = easy
					}
				})
				f.do(t, p.req(v.raw))
				line := strings.TrimSpace(f.logs.String())
				if strings.Contains(line, "\n") {
					t.Fatalf("more than one log line:\n%s", line)
				}
				if strings.Contains(line, v.raw) {
					t.Errorf("the log line holds %q raw:\n%s", v.raw, line)
				}
				var decoded map[string]any
				if err := json.Unmarshal([]byte(line), &decoded); err != nil {
					t.Fatalf("the log line is not JSON: %v\n%s", err, line)
				}
				got, _ := decoded[p.field].(string)
				if !strings.Contains(got, v.escaped) {
					t.Errorf("%s = %q: it does not show %s", p.field, got, v.escaped)
				}
				for k, val := range decoded {
					s, _ := val.(string)
					if strings.Contains(s, v.raw) || strings.ContainsRune(s, '\ufffd') {
						t.Errorf("a log viewer shows %s = %q: it holds %q, or a replacement for it", k, s, v.raw)
					}
				}
			})
		}
	}
}

// TestPanicLogIsBounded: a panic's value is logged escaped and cut, as
// every other value the log repeats.
func TestPanicLogIsBounded(t *testing.T) {
	for _, c := range spoofChars {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Routes = panicRoutes("bad input " + c.raw + strings.Repeat("x", 4<<10)) })
			f.do(t, req{method: http.MethodGet, target: "/api/Boom", token: goodToken})
			logs := f.logs.String()
			var panicLine map[string]any
			for _, l := range f.logLines(t) {
				if l["msg"] == "panic" {
					panicLine = l
				}
			}
			v, _ := panicLine["panic"].(string)
			if !strings.Contains(v, c.escaped) || len(v) > maxLoggedError+len("…") {
				t.Errorf("panic = %.80q… (%d bytes): want %s, at most %d bytes", v, len(v), c.escaped, maxLoggedError)
			}
			if strings.Contains(logs, c.raw) {
				t.Errorf("the log holds %q raw", c.raw)
			}
		})
	}
}

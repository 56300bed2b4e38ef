package explain

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
)

// lenientToken is what the token says, read leniently for display: header and
// payload as JSON members, when they decode. Nothing is decided on it:
// the verdict and each step's are the trace's.
type lenientToken struct {
	header, payload map[string]json.RawMessage
}

// read decodes what it can of x.raw for display, never failing.
func (x *explainer) read() {
	x.e.Shape.Segments = strings.Count(x.raw, ".") + 1
	if len(x.raw) > auth.MaxTokenBytes {
		// Refused before any decoding: nothing of it is shown either.
		return
	}
	parts := strings.Split(x.raw, ".")
	if len(parts) < 2 {
		return
	}
	x.header = lenientObject(parts[0])
	x.payload = lenientObject(parts[1])
	x.e.Shape.JWS = len(parts) == 3 && x.header != nil
}

// lenientObject decodes a base64url JSON object, or returns nil.
func lenientObject(seg string) map[string]json.RawMessage {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// item renders member name of obj for display.
func (x *explainer) item(obj map[string]json.RawMessage, name string) Item {
	it := Item{Name: name}
	raw, ok := obj[name]
	if !ok {
		return it
	}
	it.Present = true
	switch name {
	case "exp", "nbf", "iat":
		if t, ok := unixTime(raw); ok {
			it.Value = t.UTC().Format(time.RFC3339)
			it.When = relative(t.Sub(x.now))
			return it
		}
	}
	it.Value = display(raw)
	return it
}

// unixTime reads raw as a NumericDate, when it is a number of seconds
// that a time can hold.
func unixTime(raw json.RawMessage) (time.Time, bool) {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f <= -1e12 || f >= 1e12 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// claimTime reads the time claim name.
func (x *explainer) claimTime(name string) (time.Time, bool) {
	raw, ok := x.payload[name]
	if !ok {
		return time.Time{}, false
	}
	return unixTime(raw)
}

// display renders a JSON value: a string as itself, an array of strings
// space-separated, anything else as its JSON; cut.
func display(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return bounded.Cut(s, bounded.Max)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return cutJoin(list, " ")
	}
	return bounded.Cut(string(bytes.TrimSpace(raw)), bounded.Max)
}

func (x *explainer) note(s string) {
	if !slices.Contains(x.e.Notes, s) {
		x.e.Notes = append(x.e.Notes, s)
	}
}

func (t *lenientToken) headerHas(name string) bool {
	_, ok := t.header[name]
	return ok
}

func (t *lenientToken) headerString(name string) (string, bool) {
	raw, ok := t.header[name]
	if !ok {
		return "", false
	}
	return display(raw), true
}

// claimStrings reads a claim that is a string or an array of strings,
// as aud may be.
func (t *lenientToken) claimStrings(name string) []string {
	if s, ok := t.claimString(name); ok {
		return []string{s}
	}
	var list []string
	if raw, ok := t.payload[name]; ok && json.Unmarshal(raw, &list) == nil {
		return list
	}
	return nil
}

func (t *lenientToken) claimString(name string) (string, bool) {
	var s string
	raw, ok := t.payload[name]
	if !ok || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func (t *lenientToken) headerSummary() string {
	var parts []string
	for _, name := range []string{"alg", "kid", "typ"} {
		if s, ok := t.headerString(name); ok {
			parts = append(parts, name+" "+s)
		}
	}
	return strings.Join(parts, ", ")
}

// at renders t and how far it is from now.
func (x *explainer) at(t time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + relative(t.Sub(x.now)) + ")"
}

// relative renders d, a time's distance from now, as "in 5m0s" or
// "5m0s ago".
func relative(d time.Duration) string {
	if d >= 0 {
		return in(d)
	}
	return ago(-d)
}

func in(d time.Duration) string  { return "in " + d.Round(time.Second).String() }
func ago(d time.Duration) string { return d.Round(time.Second).String() + " ago" }

// cutJoin joins values from the token and cuts the result: a claim may
// hold thousands of them.
func cutJoin(vs []string, sep string) string {
	return bounded.Cut(strings.Join(vs, sep), 2*bounded.Max)
}

// quoteAll quotes the first few of vs, and counts the rest.
func quoteAll(vs []string) []string {
	const shown = 4
	var out []string
	for i, s := range vs {
		if i == shown {
			return append(out, fmt.Sprintf("and %d more", len(vs)-shown))
		}
		out = append(out, bounded.Quote(s))
	}
	return out
}

// Package logjson is a log/slog handler that writes one JSON object per
// line, like slog.JSONHandler, at a fraction of its cost.
//
// The handler writes a line per request on the hot path, and the standard
// JSON handler's general machinery (ReplaceAttr, handler state, reflection
// for every value) cost as much as the rest of the request. This one
// writes the same bytes (time, level, msg, then the attributes, with the
// same encodings), appending straight into a pooled buffer; values of kind
// Any that are not errors go through encoding/json as slog's do. The tests
// hold it to slog.JSONHandler byte for byte, and to testing/slogtest.
//
// Differences from slog.JSONHandler: no ReplaceAttr, no AddSource. Where
// slog.JSONHandler writes something that is not the JSON it means, this
// writes what it means: NaN and infinities are the strings "NaN", "+Inf"
// and "-Inf" rather than an error message; a time whose year is outside
// 0-9999 is its RFC 3339 form rather than an error message glued to it; a
// group whose attributes all come to nothing (all zero Attrs, say, or a
// LogValuer resolving to an empty group) is left out, where slog writes
// "g":{} or drops the comma after it.
package logjson

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Handler is a slog.Handler writing JSON lines. Each line reaches the
// writer in one Write call; the writer must be safe for concurrent use if
// the handler is used concurrently.
//
// Groups of WithGroup are opened lazily, as slog.Handler asks: a group
// with no attribute in it is not written at all. So a group's opening
// waits in pending until WithAttrs puts an attribute in it (then it moves
// to prefix for good) or a record does (then it is written for that line
// only).
type Handler struct {
	w        io.Writer
	level    slog.Leveler
	prefix   []byte // attributes of WithAttrs and the groups holding them, rendered
	opened   int    // groups opened in prefix
	pending  []byte // groups of WithGroup with no attribute yet: `,"g":{"h":{`
	npending int    // groups opened in pending
}

// New returns a Handler writing to w. Only opts.Level is used; nil opts
// mean slog.LevelInfo.
func New(w io.Writer, opts *slog.HandlerOptions) *Handler {
	h := &Handler{w: w, level: slog.LevelInfo}
	if opts != nil && opts.Level != nil {
		h.level = opts.Level
	}
	return h
}

// Enabled reports whether records at level are written.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Handle writes r as one line.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	bp := buffers.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, '{')
	if !r.Time.IsZero() {
		b = append(b, `"time":"`...)
		b = r.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":"`...)
	b = append(b, r.Level.String()...)
	b = append(b, `","msg":`...)
	b = appendString(b, r.Message)
	b = append(b, h.prefix...)
	closing := h.opened
	if r.NumAttrs() > 0 {
		mark := len(b)
		b = append(b, h.pending...)
		first := h.npending > 0 // right after a pending group's brace
		r.Attrs(func(a slog.Attr) bool {
			b, first = appendAttr(b, a, first)
			return true
		})
		if len(b) == mark+len(h.pending) {
			b = b[:mark] // nothing went into the pending groups
		} else {
			closing += h.npending
		}
	}
	for range closing {
		b = append(b, '}')
	}
	b = append(b, '}', '\n')
	_, err := h.w.Write(b)
	if cap(b) <= 64<<10 { // do not keep huge buffers around
		*bp = b
		buffers.Put(bp)
	}
	return err
}

// WithAttrs returns a handler that adds attrs to every line.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	// A fresh slice: h.prefix is shared with h and its other children.
	b := make([]byte, 0, len(h.prefix)+len(h.pending)+64)
	b = append(b, h.prefix...)
	b = append(b, h.pending...)
	mark := len(b)
	first := h.npending > 0
	for _, a := range attrs {
		b, first = appendAttr(b, a, first)
	}
	if len(b) == mark {
		return h // all the attrs came to nothing: the pending groups stay pending
	}
	h2 := *h
	h2.prefix = b
	h2.opened += h.npending
	h2.pending, h2.npending = nil, 0
	return &h2
}

// WithGroup returns a handler that nests later attributes in a group.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" { // as slog.Handler asks; slog.Logger never passes one
		return h
	}
	h2 := *h
	p := make([]byte, 0, len(h.pending)+len(name)+4)
	p = append(p, h.pending...)
	if h.npending == 0 {
		// prefix never ends inside an empty group (WithAttrs opens groups
		// only to put something in them), nor at the top level where msg
		// comes first: the outermost pending group needs its comma.
		p = append(p, ',')
	}
	p = appendString(p, name)
	p = append(p, ':', '{')
	h2.pending, h2.npending = p, h.npending+1
	return &h2
}

// appendAttr appends a as a member of the current object; first says the
// object has no member yet. It reports whether the object is still empty:
// a zero Attr, an empty *slog.Source (as slog has it) and a group with
// nothing in it write nothing.
func appendAttr(b []byte, a slog.Attr, first bool) ([]byte, bool) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindAny {
		x := v.Any()
		if x == nil && a.Key == "" { // the zero Attr
			return b, first
		}
		if src, ok := x.(*slog.Source); ok {
			if src == nil || *src == (slog.Source{}) {
				return b, first
			}
			v = sourceGroup(src)
		}
	}
	if v.Kind() == slog.KindGroup {
		if a.Key == "" { // inline the group's attrs
			for _, ga := range v.Group() {
				b, first = appendAttr(b, ga, first)
			}
			return b, first
		}
		mark := len(b)
		if !first {
			b = append(b, ',')
		}
		b = appendString(b, a.Key)
		b = append(b, ':', '{')
		start, inner := len(b), true
		for _, ga := range v.Group() {
			b, inner = appendAttr(b, ga, inner)
		}
		if len(b) == start {
			return b[:mark], first // nothing in the group: leave it out
		}
		return append(b, '}'), false
	}
	if !first {
		b = append(b, ',')
	}
	b = appendString(b, a.Key)
	b = append(b, ':')
	return appendValue(b, v), false
}

// sourceGroup is slog's rendering of a *slog.Source attribute: a group of
// its non-zero fields.
func sourceGroup(src *slog.Source) slog.Value {
	as := make([]slog.Attr, 0, 3)
	if src.Function != "" {
		as = append(as, slog.String("function", src.Function))
	}
	if src.File != "" {
		as = append(as, slog.String("file", src.File))
	}
	if src.Line != 0 {
		as = append(as, slog.Int("line", src.Line))
	}
	return slog.GroupValue(as...)
}

// appendValue appends v, resolved and not a group.
func appendValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		return appendFloat(b, v.Float64())
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindTime:
		b = append(b, '"')
		b = v.Time().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	return appendAny(b, v.Any())
}

// appendFloat appends f as encoding/json writes a float64 (slog calls
// json.Marshal for floats): the shortest digits that read back as f, in
// plain notation from 1e-6 to 1e21 and in exponent notation outside,
// with no zero padding of the exponent. NaN and infinities are not JSON
// numbers; they are written as strings.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b = append(b, '"')
		b = strconv.AppendFloat(b, f, 'g', -1, 64) // NaN, +Inf, -Inf: no escaping needed
		return append(b, '"')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // 1e-07 to 1e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// encoder is a json.Encoder appending to a byte slice. slog encodes values
// of kind Any with an Encoder, not json.Marshal, so as not to escape HTML
// (<, >, &); writing straight into the line spares a copy.
type encoder struct {
	b   []byte
	enc *json.Encoder
}

func (e *encoder) Write(p []byte) (int, error) {
	e.b = append(e.b, p...)
	return len(p), nil
}

var encoders = sync.Pool{New: func() any {
	e := new(encoder)
	e.enc = json.NewEncoder(e)
	e.enc.SetEscapeHTML(false)
	return e
}}

// appendAny writes a value of kind Any: an error as its message, anything
// else through encoding/json. Like slog, it survives a value whose Error
// or MarshalJSON panics (a typed nil error, say): the log line of a
// recovered panic must not panic again.
func appendAny(b []byte, x any) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
				out = appendString(b, "<nil>")
				return
			}
			out = appendString(b, fmt.Sprintf("!PANIC: %v", r))
		}
	}()
	if err, ok := x.(error); ok {
		if _, marshals := x.(json.Marshaler); !marshals {
			return appendString(b, err.Error())
		}
	}
	e := encoders.Get().(*encoder)
	// Encode writes once, after encoding the whole value, so on an error
	// or a panic nothing has been appended to b.
	e.b = b
	err := e.enc.Encode(x)
	out, e.b = e.b, nil // the pool must not keep the line's buffer
	encoders.Put(e)
	if err != nil {
		return appendString(b, fmt.Sprintf("!ERROR:%v", err))
	}
	return out[:len(out)-1] // Encode ends the value with a newline
}

const hex = "0123456789abcdef"

// plain marks the ASCII bytes a JSON string holds as they are.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string, escaping as encoding/json does
// (without its HTML escaping) and replacing invalid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && plain[s[i]] {
		i++
	}
	if i == len(s) { // the common case: nothing to escape
		b = append(b, s...)
		return append(b, '"')
	}
	return appendEscaped(b, s, i)
}

// appendEscaped continues appendString from s[i], the first byte that may
// need escaping.
func appendEscaped(b []byte, s string, i int) []byte {
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

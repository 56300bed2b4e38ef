package logjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

type secret string

func (secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

type marshals struct{ A int }

// TestMatchesJSONHandler logs the same records through this handler and
// slog.JSONHandler: the lines must decode to the same JSON.
func TestMatchesJSONHandler(t *testing.T) {
	when := time.Date(2026, 11, 26, 1, 2, 3, 456789000, time.UTC)
	cases := []struct {
		name  string
		log   func(l *slog.Logger)
		setup func(l *slog.Logger) *slog.Logger
	}{
		{"request line", func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.String("method", "GET"), slog.String("path", "/api/Hello"),
				slog.Int("status", 200), slog.Float64("duration_ms", 0.353), slog.String("request_id", "ab-1"))
		}, nil},
		{"every kind", func(l *slog.Logger) {
			l.Warn("kinds", "s", "x", "i", -3, "u", uint64(7), "f", 1.5, "b", true, "d", 1500*time.Millisecond,
				"t", when, "any", []string{"a", "b"}, "err", errors.New("boom"), "m", marshals{A: 1}, "nil", nil, "valuer", secret("pw"))
		}, nil},
		{"escapes", func(l *slog.Logger) {
			l.Error("quote \" backslash \\ newline \n tab \t cr \r bell \a nul \x00 html <&> line\u2028sep", "k\"ey", "bad utf-8 \xff\xfe end", "é", "ünï")
		}, nil},
		{"groups", func(l *slog.Logger) {
			l.Info("g", slog.Group("req", "method", "GET", slog.Group("inner", "x", 1)), slog.Group("", "inlined", 2))
		}, nil},
		{"with attrs and group", func(l *slog.Logger) { l.Info("m", "c", 3) }, func(l *slog.Logger) *slog.Logger {
			return l.With("a", 1).WithGroup("g").With("b", 2)
		}},
		{"group with record attrs only", func(l *slog.Logger) { l.Info("m", "c", 3, "d", 4) }, func(l *slog.Logger) *slog.Logger {
			return l.WithGroup("g")
		}},
		{"levels", func(l *slog.Logger) { l.Log(context.Background(), slog.LevelWarn+2, "custom") }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ours, std bytes.Buffer
			lo := slog.New(New(&ours, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ls := slog.New(slog.NewJSONHandler(&std, &slog.HandlerOptions{Level: slog.LevelDebug}))
			if c.setup != nil {
				lo, ls = c.setup(lo), c.setup(ls)
			}
			c.log(lo)
			c.log(ls)
			if strings.Count(ours.String(), "\n") != 1 || !strings.HasSuffix(ours.String(), "\n") {
				t.Fatalf("not one line: %q", ours.String())
			}
			got, want := decode(t, ours.Bytes()), decode(t, std.Bytes())
			delete(got, "time") // logged a moment apart
			delete(want, "time")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ours %s\nslog %s", ours.String(), std.String())
			}
		})
	}
}

func decode(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("not JSON: %v: %q", err, line)
	}
	return m
}

// TestNonFiniteFloats: JSON has no NaN or infinity; they are written as
// strings (slog.JSONHandler writes an error message instead).
func TestNonFiniteFloats(t *testing.T) {
	var buf bytes.Buffer
	slog.New(New(&buf, nil)).Info("f", "nan", math.NaN(), "inf", math.Inf(1), "-inf", math.Inf(-1))
	m := decode(t, buf.Bytes())
	if m["nan"] != "NaN" || m["inf"] != "+Inf" || m["-inf"] != "-Inf" {
		t.Fatalf("%s", buf.String())
	}
}

type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg } // panics on a nil *nilErr

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

// TestPanickingValues: like slog, a value whose Error or MarshalJSON
// panics is written as a marker, not a second panic.
func TestPanickingValues(t *testing.T) {
	var buf bytes.Buffer
	var typedNil error = (*nilErr)(nil)
	slog.New(New(&buf, nil)).Error("panic", "panic", typedNil, "m", panicky{}, "", slog.AnyValue(nil))
	m := decode(t, buf.Bytes())
	if m["panic"] != "<nil>" || !strings.HasPrefix(m["m"].(string), "!PANIC: boom") {
		t.Fatalf("%s", buf.String())
	}
	if _, ok := m[""]; ok {
		t.Fatalf("an empty attribute was written: %s", buf.String())
	}
}

func TestTimeAndLevel(t *testing.T) {
	var buf bytes.Buffer
	h := New(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelWarn) {
		t.Fatal("Enabled does not follow the level")
	}
	when := time.Date(2026, 11, 26, 1, 2, 3, 456789000, time.UTC)
	r := slog.NewRecord(when, slog.LevelError, "m", 0)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), `{"time":"2026-11-26T01:02:03.456789Z","level":"ERROR","msg":"m"}`+"\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if New(io.Discard, nil).Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("default level is not info")
	}
}

// FuzzAppendString: any string comes out as a JSON string that decodes
// to the input, with invalid UTF-8 replaced.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\n\r\t\x00\x1f", "\xff", "é\u2028\u2029", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encodes as invalid JSON %q: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); got != want && utf8.ValidString(s) {
			t.Fatalf("%q round-trips as %q", s, got)
		}
		if bytes.ContainsAny(b, "\n\r") {
			t.Fatalf("line break in %q", b)
		}
	})
}

func BenchmarkRequestLine(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{{"logjson", New(io.Discard, nil)}, {"slog.JSONHandler", slog.NewJSONHandler(io.Discard, nil)}} {
		attrs := []slog.Attr{slog.String("method", "GET"), slog.String("path", "/api/Hello"),
			slog.Int("status", 200), slog.Float64("duration_ms", 0.353), slog.String("request_id", "28f9203b-1"),
			slog.String("invocation_id", "b986fcf6-1111-2222-3333-444455556666"),
			slog.String("oid", "ecaa678c-3c34-8dfd-a6a9-fa1ed74d427c"), slog.String("tid", "00000000-0000-4000-8000-00000000d001")}
		b.Run(bc.name+"/Logger", func(b *testing.B) {
			l := slog.New(bc.h)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				l.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
			}
		})
		// As the request log writes: straight to the handler, without
		// the Logger's look-up of the caller's program counter.
		b.Run(bc.name+"/Handler", func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
				r.AddAttrs(attrs...)
				bc.h.Handle(ctx, r)
			}
		})
	}
}

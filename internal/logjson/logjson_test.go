package logjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

type secret string

func (secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// valuer resolves to v: a LogValuer of any kind, groups included.
type valuer struct{ v slog.Value }

func (v valuer) LogValue() slog.Value { return v.v }

type marshals struct{ A int }

// rawJSON marshals as itself: encoding/json checks and compacts it, and
// escapes HTML in it unless told not to.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// jsonErr is an error that marshals itself: slog writes it as JSON, not
// as its message.
type jsonErr struct{}

func (jsonErr) Error() string                { return "message" }
func (jsonErr) MarshalJSON() ([]byte, error) { return []byte(`{"code":7}`), nil }

var when = time.Date(2026, 11, 26, 1, 2, 3, 456789000, time.UTC)

// stamped hands records on with the time set to when, unless it is zero:
// a Logger stamps time.Now, and the handlers compared must see one time.
type stamped struct{ slog.Handler }

func (s stamped) Handle(ctx context.Context, r slog.Record) error {
	if !r.Time.IsZero() {
		r.Time = when
	}
	return s.Handler.Handle(ctx, r)
}
func (s stamped) WithAttrs(as []slog.Attr) slog.Handler { return stamped{s.Handler.WithAttrs(as)} }
func (s stamped) WithGroup(name string) slog.Handler    { return stamped{s.Handler.WithGroup(name)} }

// TestMatchesJSONHandler logs the same records through this handler and
// slog.JSONHandler: the lines must be the same bytes.
func TestMatchesJSONHandler(t *testing.T) {
	ctx := context.Background()
	east := time.FixedZone("", 5*3600+30*60)
	var typedNil error = (*nilErr)(nil)
	now := time.Now() // with a monotonic reading, which is not written
	cases := []struct {
		name  string
		log   func(l *slog.Logger)
		setup func(l *slog.Logger) *slog.Logger
	}{
		{"request line", func(l *slog.Logger) {
			l.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("method", "GET"), slog.String("path", "/api/Hello"),
				slog.Int("status", 200), slog.Float64("duration_ms", 0.353), slog.String("request_id", "ab-1"),
				slog.String("oid", "ecaa678c-3c34-8dfd-a6a9-fa1ed74d427c"), slog.String("tid", "00000000-0000-4000-8000-00000000d001"))
		}, nil},
		{"every kind", func(l *slog.Logger) {
			l.Warn("kinds", "s", "x", "i", -3, "u", uint64(7), "f", 1.5, "b", true, "d", 1500*time.Millisecond,
				"t", when, "any", []string{"a", "b"}, "err", errors.New("boom"), "m", marshals{A: 1}, "nil", nil, "valuer", secret("pw"))
		}, nil},
		{"integer limits", func(l *slog.Logger) {
			l.Info("ints", "min", int64(math.MinInt64), "max", int64(math.MaxInt64), "umax", uint64(math.MaxUint64), "d", time.Duration(math.MinInt64))
		}, nil},
		{"floats as encoding/json", func(l *slog.Logger) {
			l.Info("floats", "a", 1e20, "b", 1e21, "c", 1e-6, "d", 1e-7, "e", 123456789.125, "f", math.Copysign(0, -1),
				"g", 5e-324, "h", math.MaxFloat64, "i", float32(0.1), "j", -2.5e-10, "k", 1e100, "l", 0.0)
		}, nil},
		{"times", func(l *slog.Logger) {
			l.Info("t", "east", when.In(east), "whole", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "zero", time.Time{},
				"monotonic", now)
		}, nil},
		{"escapes", func(l *slog.Logger) {
			l.Error("quote \" backslash \\ newline \n tab \t cr \r bell \a bs \b ff \f nul \x00 del \x7f html <&> line\u2028sep\u2029",
				"k\"ey", "bad utf-8 \xff\xfe end \xe2\x80", "é", "ünï", "", "empty key")
		}, nil},
		{"any values as an Encoder without HTML escaping", func(l *slog.Logger) {
			l.Info("any", "html", []string{"<a href=\"x\">&amp;</a>"}, "map", map[string]any{"b": 2, "a": "<>"},
				"raw", rawJSON(` { "x" : "<&>" , "y":[1, 2] } `), "bytes", []byte("<b>"), "ptr", (*marshals)(nil),
				"jsonerr", jsonErr{}, "badraw", rawJSON(`{`), "chan", make(chan int), "nan", []float64{math.NaN()})
		}, nil},
		{"panicking values", func(l *slog.Logger) {
			l.Error("panic", "nilerr", typedNil, "m", panicky{})
		}, nil},
		{"groups", func(l *slog.Logger) {
			l.Info("g", slog.Group("req", "method", "GET", slog.Group("inner", "x", 1)), slog.Group("", "inlined", 2))
		}, nil},
		{"empty groups left out", func(l *slog.Logger) {
			l.Info("g", "a", 1, slog.Group("e"), slog.Group("outer", slog.Group("inner")), slog.Group(""), "b", 2)
		}, nil},
		{"zero Attrs left out", func(l *slog.Logger) {
			l.Info("z", slog.Attr{}, "a", 1, slog.Attr{}, slog.Group("g", slog.Attr{}, "b", 2, slog.Attr{}), slog.Any("", nil))
		}, nil},
		{"inline groups", func(l *slog.Logger) {
			l.Info("i", slog.Group("", slog.Group("", "deep", 1)), slog.Group("g", slog.Group("", "a", 1), "b", 2))
		}, nil},
		{"LogValuers", func(l *slog.Logger) {
			l.Info("v", "scalar", valuer{slog.IntValue(3)}, "group", valuer{slog.GroupValue(slog.String("a", "b"), slog.Any("c", secret("x")))},
				"inline", slog.Any("", valuer{slog.GroupValue(slog.Int("n", 1))}), "nested", valuer{slog.AnyValue(valuer{slog.BoolValue(true)})},
				slog.Group("g", "in", secret("y")))
		}, nil},
		{"sources", func(l *slog.Logger) {
			l.Info("src", "nil", (*slog.Source)(nil), "empty", &slog.Source{}, "line", &slog.Source{Line: 3},
				"full", &slog.Source{Function: "main.f", File: "/x/<y>.go", Line: 12})
		}, nil},
		{"duplicate keys", func(l *slog.Logger) { l.Info("d", "k", 1, "k", 2) }, func(l *slog.Logger) *slog.Logger {
			return l.With("k", 0)
		}},
		{"with attrs and group", func(l *slog.Logger) { l.Info("m", "c", 3) }, func(l *slog.Logger) *slog.Logger {
			return l.With("a", 1).WithGroup("g").With("b", 2)
		}},
		{"group with record attrs only", func(l *slog.Logger) { l.Info("m", "c", 3, "d", 4) }, func(l *slog.Logger) *slog.Logger {
			return l.WithGroup("g")
		}},
		{"group with no attrs", func(l *slog.Logger) { l.Info("m") }, func(l *slog.Logger) *slog.Logger {
			return l.WithGroup("g").WithGroup("h")
		}},
		{"empty group after attrs", func(l *slog.Logger) { l.Info("m") }, func(l *slog.Logger) *slog.Logger {
			return l.With("a", "b").WithGroup("G").With("c", "d").WithGroup("H").WithGroup("I")
		}},
		{"nested groups filled by the record", func(l *slog.Logger) { l.Info("m", "e", "f") }, func(l *slog.Logger) *slog.Logger {
			return l.With("a", "b").WithGroup("G").With("c", "d").WithGroup("H").WithGroup("I")
		}},
		{"group whose record attrs come to nothing", func(l *slog.Logger) { l.Info("m", slog.Attr{}, slog.Group("e")) }, func(l *slog.Logger) *slog.Logger {
			return l.With("a", 1).WithGroup("g")
		}},
		{"group whose With attrs come to nothing", func(l *slog.Logger) { l.Info("m", "r", 1) }, func(l *slog.Logger) *slog.Logger {
			return l.WithGroup("g").With(slog.Attr{}).With(slog.Group("e")).WithGroup("h").With(slog.Group("x", slog.Attr{}))
		}},
		{"With empty-keyed group", func(l *slog.Logger) { l.Info("m", "r", 1) }, func(l *slog.Logger) *slog.Logger {
			return l.WithGroup("g").With(slog.Group("", "a", 1), slog.Group("", slog.Attr{}))
		}},
		{"With LogValuers", func(l *slog.Logger) { l.Info("m", "r", secret("s")) }, func(l *slog.Logger) *slog.Logger {
			return l.With("pw", secret("p"), "grp", valuer{slog.GroupValue(slog.Int("x", 1))}).WithGroup("g")
		}},
		{"group names escaped", func(l *slog.Logger) { l.Info("m", "k", "v") }, func(l *slog.Logger) *slog.Logger {
			return l.WithGroup("a\"b\n<c>").With("x", 1).WithGroup("\xff")
		}},
		{"levels", func(l *slog.Logger) {
			l.Log(ctx, slog.LevelWarn+2, "custom")
			l.Log(ctx, slog.LevelDebug-4, "low")
		}, nil},
		{"many attrs", func(l *slog.Logger) {
			var as []slog.Attr
			for i := range 40 {
				as = append(as, slog.Int(strconv.Itoa(i), i))
			}
			l.LogAttrs(ctx, slog.LevelInfo, "many", as...)
		}, func(l *slog.Logger) *slog.Logger { return l.WithGroup("g") }},
		{"zero time", func(l *slog.Logger) {
			r := slog.NewRecord(time.Time{}, slog.LevelInfo, "no time", 0)
			r.AddAttrs(slog.Int("a", 1))
			l.Handler().Handle(ctx, r)
		}, func(l *slog.Logger) *slog.Logger { return l.WithGroup("g") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ours, std bytes.Buffer
			lo := slog.New(stamped{New(&ours, &slog.HandlerOptions{Level: slog.LevelDebug - 4})})
			ls := slog.New(stamped{slog.NewJSONHandler(&std, &slog.HandlerOptions{Level: slog.LevelDebug - 4})})
			if c.setup != nil {
				lo, ls = c.setup(lo), c.setup(ls)
			}
			c.log(lo)
			c.log(ls)
			if ours.String() != std.String() {
				t.Errorf("ours %s\nslog %s", ours.String(), std.String())
			}
			for line := range bytes.Lines(ours.Bytes()) {
				if !json.Valid(line) || !bytes.HasSuffix(line, []byte("\n")) {
					t.Errorf("not a JSON line: %q", line)
				}
			}
		})
	}
}

// TestDeliberateDifferences: where slog.JSONHandler writes an error
// message for a value JSON cannot hold, or writes broken JSON, this writes
// a valid line saying what was meant.
func TestDeliberateDifferences(t *testing.T) {
	empty := valuer{slog.GroupValue()}
	for _, c := range []struct {
		name string
		log  func(l *slog.Logger)
		want string
	}{
		// slog: "!ERROR:time.Time year outside of range [0,9999]""10000-01-01T00:00:00Z"
		{"year out of range", func(l *slog.Logger) { l.Info("m", "t", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) },
			`"msg":"m","t":"10000-01-01T00:00:00Z"}`},
		// slog: "msg":"m""b":1, the comma lost with the group it dropped
		{"group of zero Attrs", func(l *slog.Logger) { l.Info("m", slog.Group("g", slog.Attr{}), "b", 1) },
			`"msg":"m","b":1}`},
		// slog: "g":{}, a group it wrote before finding it empty
		{"LogValuer resolving to an empty group", func(l *slog.Logger) { l.Info("m", slog.Group("g", "e", empty), "b", 1) },
			`"msg":"m","b":1}`},
		{"With LogValuer resolving to an empty group", func(l *slog.Logger) { l.WithGroup("g").With("e", empty).Info("m") },
			`"msg":"m"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			c.log(slog.New(New(&buf, nil)))
			if !json.Valid(buf.Bytes()) || !strings.HasSuffix(buf.String(), c.want+"\n") {
				t.Fatalf("got %s, want ...%s", buf.String(), c.want)
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
		// And byte for byte as slog.JSONHandler writes it.
		var std bytes.Buffer
		slog.NewJSONHandler(&std, nil).Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, s, 0))
		if want := `{"level":"INFO","msg":` + string(b) + "}\n"; std.String() != want {
			t.Fatalf("%q: ours %s, slog %s", s, b, std.String())
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
		// The same through a handler of With and WithGroup, whose group
		// opens only when a record has attributes.
		b.Run(bc.name+"/Grouped", func(b *testing.B) {
			h := bc.h.WithAttrs([]slog.Attr{slog.String("service", "entrafunc")}).WithGroup("req")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
				r.AddAttrs(attrs...)
				h.Handle(ctx, r)
			}
		})
	}
}

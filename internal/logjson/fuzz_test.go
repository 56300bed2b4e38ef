package logjson

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"testing"
	"time"
)

// FuzzMatchesJSONHandler builds a handler chain (WithGroup, WithAttrs)
// and a record from the fuzzer's program, with every kind of value and
// strings cut from s, and has this handler and slog.JSONHandler write
// it: the lines must be the same bytes, and ours valid JSON.
//
// The generator steers clear of what TestDeliberateDifferences covers,
// where slog writes broken JSON or an error message: a group whose
// attributes all come to nothing, a LogValuer resolving to an empty
// group, non-finite floats, years outside 0-9999. And of WithGroup(""),
// which slog.Logger never passes and slog.JSONHandler, unlike the
// slog.Handler contract, writes as a group named "".
func FuzzMatchesJSONHandler(f *testing.F) {
	f.Add([]byte{}, "")
	f.Add([]byte{2, 1, 0, 5, 2, 4, 1, 2, 3, 9, 9}, "key<&>\"\n")
	f.Add([]byte{0, 0, 3, 1, 10, 2, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 2, 10, 3, 1, 1, 1}, "grp\xffé\u2028")
	f.Add([]byte{1, 3, 10, 2, 0, 1, 9, 1, 8, 0, 0, 3, 5, 11, 2, 12, 0, 0, 2, 7, 1, 2, 3, 4, 5, 6, 7, 8}, "a\tb")
	f.Add([]byte{0, 4, 6, 3, 0, 1, 3, 13, 2, 2, 14, 3, 15, 0, 4, 0}, "Ünï\x00code")
	f.Fuzz(func(t *testing.T, prog []byte, s string) {
		g := &gen{p: prog, s: s}
		var ours, std bytes.Buffer
		opts := &slog.HandlerOptions{Level: slog.Level(math.MinInt)}
		var ho, hs slog.Handler = New(&ours, opts), slog.NewJSONHandler(&std, opts)
		tm := when
		if g.byte()%8 == 0 {
			tm = time.Time{}
		}
		r := slog.NewRecord(tm, slog.Level(int8(g.byte())), g.str(), 0)
		for len(g.p) > 0 {
			switch g.byte() % 4 {
			case 0:
				name := g.str()
				if name == "" {
					name = "g"
				}
				ho, hs = ho.WithGroup(name), hs.WithGroup(name)
			case 1:
				as := g.attrs(0, true)
				ho, hs = ho.WithAttrs(as), hs.WithAttrs(as)
			default:
				r.AddAttrs(g.attr(0))
			}
		}
		ctx := context.Background()
		if err := ho.Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
		hs.Handle(ctx, r)
		if ours.String() != std.String() {
			t.Fatalf("\nours %s\nslog %s", ours.String(), std.String())
		}
		if !json.Valid(ours.Bytes()) {
			t.Fatalf("not JSON: %s", ours.String())
		}
	})
}

// gen makes attributes from a fuzzer's program: each byte read picks a
// kind, a length or a value; the program reads as zeros once used up.
type gen struct {
	p []byte
	s string
}

func (g *gen) byte() byte {
	if len(g.p) == 0 {
		return 0
	}
	c := g.p[0]
	g.p = g.p[1:]
	return c
}

func (g *gen) u64() uint64 {
	var b [8]byte
	n := copy(b[:], g.p)
	g.p = g.p[n:]
	return binary.LittleEndian.Uint64(b[:])
}

// str is a piece of s, which may be empty or cut through a UTF-8 sequence.
func (g *gen) str() string {
	i, j := int(g.byte())%(len(g.s)+1), int(g.byte())%(len(g.s)+1)
	return g.s[min(i, j):max(i, j)]
}

// attrs makes up to 3 attributes. Unless at least one of them writes
// something, slog mishandles them (see FuzzMatchesJSONHandler) in a group,
// and in a WithAttrs that has an empty group among them: then one that
// writes is added.
func (g *gen) attrs(depth int, with bool) []slog.Attr {
	var as []slog.Attr
	writes, emptyGroup := false, false
	for range g.byte() % 4 {
		a := g.attr(depth)
		as = append(as, a)
		writes = writes || written(a)
		emptyGroup = emptyGroup || a.Value.Kind() == slog.KindGroup && len(a.Value.Group()) == 0
	}
	if !writes && len(as) > 0 && (!with || emptyGroup) {
		as = append(as, slog.String(g.str(), g.str()))
	}
	return as
}

// attr makes an attribute of any kind.
func (g *gen) attr(depth int) slog.Attr {
	key := g.str()
	switch k := g.byte() % 16; {
	case k == 0:
		return slog.Attr{}
	case k == 1:
		return slog.String(key, g.str())
	case k == 2:
		return slog.Int64(key, int64(g.u64()))
	case k == 3:
		return slog.Uint64(key, g.u64())
	case k == 4:
		x := math.Float64frombits(g.u64())
		if math.IsNaN(x) || math.IsInf(x, 0) {
			x = float64(int64(g.u64())) / 1024
		}
		return slog.Float64(key, x)
	case k == 5:
		return slog.Bool(key, g.byte()%2 == 0)
	case k == 6:
		return slog.Duration(key, time.Duration(g.u64()))
	case k == 7:
		// Years 1970 to 2106, to the nanosecond, in a zone of up to a day
		// either way.
		tm := time.Unix(int64(g.u64()%(4<<30)), int64(g.u64()%1e9))
		return slog.Time(key, tm.In(time.FixedZone("", (int(g.byte())-128)*675)))
	case k == 8:
		return slog.Any(key, g.any())
	case k == 9 && depth < 4: // a LogValuer of any of these but an empty group
		v := g.attr(depth + 1).Value
		if r := v.Resolve(); r.Kind() == slog.KindGroup && len(r.Group()) == 0 {
			v = slog.StringValue("was empty")
		}
		return slog.Any(key, valuer{v})
	case k == 10 && depth < 4:
		return slog.Attr{Key: key, Value: slog.GroupValue(g.attrs(depth+1, false)...)}
	case k == 11:
		srcs := []*slog.Source{nil, {}, {Line: int(g.byte())}, {File: g.str()}, {Function: g.str(), File: g.str(), Line: int(g.u64() >> 1)}}
		return slog.Any(key, srcs[g.byte()%5])
	case k == 12:
		return slog.Group(key)
	}
	return slog.String(key, g.str())
}

// written reports whether a writes anything in a line: the zero Attr, an
// empty *slog.Source and a group of such write nothing.
func written(a slog.Attr) bool {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindAny:
		if src, ok := v.Any().(*slog.Source); ok {
			return src != nil && *src != (slog.Source{})
		}
		return a.Key != "" || v.Any() != nil
	case slog.KindGroup:
		for _, m := range v.Group() {
			if written(m) {
				return true
			}
		}
		return false
	}
	return true
}

// any makes a value of kind Any: for encoding/json, or an error.
func (g *gen) any() any {
	switch g.byte() % 10 {
	case 0:
		return nil
	case 1:
		return []string{g.str(), g.str()}
	case 2:
		return map[string]any{g.str(): int(g.byte()), g.str(): g.str()}
	case 3:
		return errors.New(g.str())
	case 4:
		return rawJSON(g.str()) // mostly not JSON: an error message
	case 5:
		return struct {
			A string
			B []byte
		}{g.str(), []byte(g.str())}
	case 6:
		return jsonErr{}
	case 7:
		return (*marshals)(nil)
	case 8:
		var err error = (*nilErr)(nil)
		return err
	}
	// A float in an Any is a float64 Value; in a slice it stays for
	// encoding/json, which fails on NaN and infinities alike in both.
	return []float64{math.Float64frombits(g.u64())}
}

package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
)

// decoderMembers is eachMember as encoding/json's token stream reads it:
// the reference the one-pass walk must agree with.
func decoderMembers(b []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errNotObject
	}
	var ms []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		ms = append(ms, member{t.(string), string(raw)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return ms, nil
}

// FuzzEachMember holds the walk that reads every header and payload to
// encoding/json: the same members, names unescaped alike, values as
// written, and the same texts refused.
func FuzzEachMember(f *testing.F) {
	for _, s := range seedPayloads(f) {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		rawHeader, ` { "a" : [ 1 , {"b":"}"} ] , "c\"d" : "e\\"  } `, `{"\u00e9":"\ud800","x":"\xff"}`, `{"a":1}{}`, `{"a":}`,
		`{"a":true,"b":false,"c":null,"d":-1.5e+3,"e":{"f":[[],{}]}}`, `{"a":"b",}`, "{\"a\":\"\x01\"}", `{} `, ` {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []member
		err := eachMember(string(b), func(name, raw string) error {
			got = append(got, member{name, raw})
			return nil
		})
		want, werr := decoderMembers(b)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: walk says %v, encoding/json %v", b, err, werr)
		}
		if err == nil && !slices.Equal(got, want) {
			t.Fatalf("%q: walk found %q, encoding/json %q", b, got, want)
		}
		for _, m := range got {
			var s string
			if json.Unmarshal([]byte(m.raw), &s) == nil {
				if p, ok := plainString(m.raw); ok && p != s {
					t.Fatalf("%q: plainString %q, encoding/json %q", m.raw, p, s)
				}
			}
			var list []string
			if json.Unmarshal([]byte(m.raw), &list) == nil {
				if p, ok := plainStrings(m.raw); ok && !slices.Equal(p, list) {
					t.Fatalf("%q: plainStrings %q, encoding/json %q", m.raw, p, list)
				}
			}
		}
	})
}

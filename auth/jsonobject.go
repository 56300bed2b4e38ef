package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// A token's header and claims are each read in one pass: json.Valid checks
// the text, then a walk finds each member's name and where its value ends,
// in order and with duplicates, and the caller decodes the values it
// wants. encoding/json would decide silently what the callers decide here:
// which of two members with one name wins (the last), and which names
// match a field (any letter case). The walk needs no error paths of its
// own: it runs only on text json.Valid accepted.

// errNotObject is a header's or a payload's error when it is JSON but not
// an object.
var errNotObject = errors.New("not a JSON object")

// checkJSON returns nil when b is one JSON value, else encoding/json's own
// error for it. Its messages quote at most one character, escaped.
func checkJSON(b []byte) error {
	if json.Valid(b) {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return errors.New("invalid JSON")
}

// eachMember calls fn with each member of the JSON object s, in order,
// names unescaped as encoding/json unescapes them and values as written.
// Anything but one JSON object, with or without surrounding whitespace, is
// an error, as is data after it.
func eachMember(s string, fn func(name, raw string) error) error {
	if err := checkJSON([]byte(s)); err != nil {
		return err
	}
	obj, ok := jsonObject(s)
	if !ok {
		return errNotObject
	}
	for m := (members{s: obj}); m.next(); {
		if err := fn(m.name, m.raw); err != nil {
			return err
		}
	}
	return nil
}

// jsonObject returns the valid JSON text s without the whitespace around
// it, and whether it is an object.
func jsonObject(s string) (string, bool) {
	s = strings.Trim(s, " \t\r\n")
	return s, len(s) > 0 && s[0] == '{'
}

// members walks the members of s, one JSON object that json.Valid
// accepted, with no whitespace around it.
type members struct {
	s    string
	i    int    // where the walk stands: at the '{', a ',' or the '}'
	name string // the current member's name, unescaped
	raw  string // its value as written
}

// next moves to the next member and reports whether there is one.
func (m *members) next() bool {
	s := m.s
	i := skipSpace(s, m.i)
	if i >= len(s) || s[i] == '}' {
		m.i = len(s)
		return false
	}
	i = skipSpace(s, i+1) // past '{' or ','
	if s[i] == '}' {
		m.i = len(s) // {}
		return false
	}
	j := stringEnd(s, i)
	m.name = unquote(s[i:j])
	i = skipSpace(s, skipSpace(s, j)+1) // past ':'
	j = valueEnd(s, i)
	m.raw = s[i:j]
	m.i = j
	return true
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at s[i].
func stringEnd(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// valueEnd returns the index just past the value that starts at s[i].
func valueEnd(s string, i int) int {
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '{', '[':
		depth := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '"':
				i = stringEnd(s, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(s)
	}
	for ; i < len(s); i++ {
		switch s[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return len(s)
}

// plainString returns the value of raw, a valid JSON value, when it is a
// string that reads as written: no escape and valid UTF-8, which
// encoding/json would otherwise replace. Anything else is the decoder's.
func plainString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	s := raw[1 : len(raw)-1]
	if strings.IndexByte(s, '\\') >= 0 || !utf8.ValidString(s) {
		return "", false
	}
	return s, true
}

// unquote decodes q, a valid JSON string, as encoding/json does.
func unquote(q string) string {
	if s, ok := plainString(q); ok {
		return s
	}
	var s string
	json.Unmarshal([]byte(q), &s) // cannot fail: q is a valid JSON string
	return s
}

// plainStrings returns the elements of raw, a valid JSON value, when it is
// an array of plain strings (see plainString), an empty one included.
func plainStrings(raw string) ([]string, bool) {
	if len(raw) < 2 || raw[0] != '[' {
		return nil, false
	}
	list := []string{}
	i := skipSpace(raw, 1)
	if raw[i] == ']' {
		return list, true
	}
	for {
		j := valueEnd(raw, i)
		s, ok := plainString(raw[i:j])
		if !ok {
			return nil, false
		}
		list = append(list, s)
		i = skipSpace(raw, j)
		if raw[i] == ']' {
			return list, true
		}
		i = skipSpace(raw, i+1) // past ','
	}
}

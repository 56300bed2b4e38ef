package tasks

import (
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of a task's text, in characters (runes).
const (
	MaxTitle = 200
	MaxNotes = 4000
)

// Task is one user's task. Stores keep every field as it is given, and
// set Version.
type Task struct {
	// ID is the service's id (see the package doc); it names the owner.
	ID    string
	Owner Owner
	Title string
	// Notes is empty when the task has none.
	Notes string
	// Due is the zero Date when the task has no due date.
	Due  Date
	Done bool
	// Version changes on every write: an opaque strong validator of
	// URL-safe characters, the ETag as it is.
	Version string
	// Created and Updated are UTC, to the millisecond.
	Created time.Time
	Updated time.Time
}

// Owner is who a task belongs to: a tenant id and an object id, both
// canonical GUIDs (lower case, 8-4-4-4-12).
type Owner struct {
	TenantID string
	ObjectID string
}

// Valid reports whether both ids are canonical GUIDs, as every key and
// filter a store builds from them needs.
func (o Owner) Valid() bool { return canonicalGUID(o.TenantID) && canonicalGUID(o.ObjectID) }

// ParseGUID returns s as a canonical GUID (lower case), and false when s
// is not 32 hex digits in the 8-4-4-4-12 form or is the nil GUID, which
// names no tenant or user. Braces and other forms are refused, so that one
// user has one spelling.
func ParseGUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	b := []byte(s)
	zero := true
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
			continue
		}
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			b[i] = c + 'a' - 'A'
		default:
			return "", false
		}
		if c != '0' {
			zero = false
		}
	}
	if zero {
		return "", false
	}
	return string(b), true
}

func canonicalGUID(s string) bool {
	g, ok := ParseGUID(s)
	return ok && g == s
}

// Date is a civil date (no time, no zone), as a due date is: 2026-12-31
// is the same day for everyone. The zero Date means none.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads a real calendar date written YYYY-MM-DD, year 0001 to
// 9999: 2026-02-29 is refused, so is 2026-2-3.
func ParseDate(s string) (Date, error) {
	bad := fmt.Errorf("must be a calendar date written YYYY-MM-DD")
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, bad
	}
	num := func(t string) (int, bool) {
		for _, c := range []byte(t) {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		n, err := strconv.Atoi(t)
		return n, err == nil
	}
	y, ok1 := num(s[0:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, bad
	}
	date := Date{Year: y, Month: time.Month(m), Day: d}
	if !date.valid() {
		return Date{}, bad
	}
	return date, nil
}

// valid reports whether d is a day that exists (time.Date normalizes
// February 30th into March; a real date survives the round trip).
func (d Date) valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Year() == d.Year && t.Month() == d.Month && t.Day() == d.Day
}

// IsZero reports whether d is the zero Date (no due date).
func (d Date) IsZero() bool { return d == Date{} }

// String is YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText writes String.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads ParseDate's form; empty text is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Draft is what a caller gives to create a task.
type Draft struct {
	Title string
	Notes string
	Due   Date
	Done  bool
}

// Patch is a JSON merge patch (RFC 7396) of a task: a nil field is left
// as it is. A pointer to "" clears Notes and a pointer to the zero Date
// clears Due, which is what a JSON null means for them; Title cannot be
// cleared.
type Patch struct {
	Title *string
	Notes *string
	Due   *Date
	Done  *bool
}

// Validate checks the draft's fields, naming the first that is wrong.
func (d Draft) Validate() error {
	if err := checkTitle(d.Title); err != nil {
		return err
	}
	if err := checkNotes(d.Notes); err != nil {
		return err
	}
	return checkDue(d.Due)
}

// Validate checks the fields the patch sets.
func (p Patch) Validate() error {
	if p.Title != nil {
		if err := checkTitle(*p.Title); err != nil {
			return err
		}
	}
	if p.Notes != nil {
		if err := checkNotes(*p.Notes); err != nil {
			return err
		}
	}
	if p.Due != nil {
		return checkDue(*p.Due)
	}
	return nil
}

// apply returns t with p's fields set.
func (p Patch) apply(t Task) Task {
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.Notes != nil {
		t.Notes = *p.Notes
	}
	if p.Due != nil {
		t.Due = *p.Due
	}
	if p.Done != nil {
		t.Done = *p.Done
	}
	return t
}

func checkTitle(s string) error {
	if err := checkText(FieldTitle, s, MaxTitle, false); err != nil {
		return err
	}
	if s == "" {
		return invalid(FieldTitle, fmt.Sprintf("must be 1 to %d characters", MaxTitle))
	}
	return nil
}

func checkNotes(s string) error { return checkText(FieldNotes, s, MaxNotes, true) }

func checkDue(d Date) error {
	if !d.IsZero() && !d.valid() {
		return invalid(FieldDue, "must be a calendar date written YYYY-MM-DD")
	}
	return nil
}

// checkText refuses text that is not UTF-8, is longer than max runes, or
// holds a control character (C0, DEL, C1): they reach logs, terminals and
// the connector's UI. Multi-line text (notes) may hold tabs and line
// feeds, and a carriage return only as part of CRLF, which is how
// browsers and Windows clients send a line break.
func checkText(field, s string, maxRunes int, multiline bool) error {
	if !utf8.ValidString(s) {
		return invalid(field, "must be UTF-8 text")
	}
	n := 0
	for i, r := range s {
		n++
		if n > maxRunes {
			return invalid(field, fmt.Sprintf("must be at most %d characters", maxRunes))
		}
		if !unicode.IsControl(r) {
			continue
		}
		if multiline && (r == '\n' || r == '\t' || r == '\r' && i+1 < len(s) && s[i+1] == '\n') {
			continue
		}
		what := "a control character"
		if multiline {
			what = "a control character other than a tab or a line break"
		}
		return invalid(field, fmt.Sprintf("must not contain %s (character %d)", what, n))
	}
	return nil
}

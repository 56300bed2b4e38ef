package tasks

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Date // zero: refused
	}{
		{"2026-12-31", Date{2026, 12, 31}},
		{"2024-02-29", Date{2024, 2, 29}},
		{"0001-01-01", Date{1, 1, 1}},
		{"9999-12-31", Date{9999, 12, 31}},
		{"2026-02-29", Date{}},
		{"2100-02-29", Date{}},
		{"2026-04-31", Date{}},
		{"2026-13-01", Date{}},
		{"2026-00-10", Date{}},
		{"2026-01-00", Date{}},
		{"0000-01-01", Date{}},
		{"2026-1-01", Date{}},
		{"2026-01-1", Date{}},
		{"26-01-01", Date{}},
		{"2026/01/01", Date{}},
		{"2026-01-01T00:00:00Z", Date{}},
		{"+026-01-01", Date{}},
		{"2026-0a-01", Date{}},
		{"２０２６-01-01", Date{}},
		{"", Date{}},
	} {
		got, err := ParseDate(tc.in)
		if tc.want.IsZero() {
			if err == nil {
				t.Errorf("ParseDate(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want || got.String() != tc.in {
			t.Errorf("ParseDate(%q) = %v (%q), %v; want %v", tc.in, got, got.String(), err, tc.want)
		}
	}
}

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		name      string
		d         Draft
		wantField string // "" when valid
	}{
		{"minimal", Draft{Title: "a"}, ""},
		{"title of 200 runes", Draft{Title: strings.Repeat("😀", 200)}, ""},
		{"title of 201 runes", Draft{Title: strings.Repeat("é", 201)}, FieldTitle},
		{"empty title", Draft{Title: ""}, FieldTitle},
		{"tab in title", Draft{Title: "a\tb"}, FieldTitle},
		{"newline in title", Draft{Title: "a\nb"}, FieldTitle},
		{"escape in title", Draft{Title: "\x1b[31mred"}, FieldTitle},
		{"C1 in title", Draft{Title: "a\u009bb"}, FieldTitle},
		{"DEL in title", Draft{Title: "a\x7f"}, FieldTitle},
		{"NUL in title", Draft{Title: "a\x00"}, FieldTitle},
		{"invalid UTF-8 title", Draft{Title: "a\xff"}, FieldTitle},
		{"notes with lines and tabs", Draft{Title: "a", Notes: "one\n\ttwo\r\nthree"}, ""},
		{"notes of 4000 runes", Draft{Title: "a", Notes: strings.Repeat("ש", 4000)}, ""},
		{"notes of 4001 runes", Draft{Title: "a", Notes: strings.Repeat("x", 4001)}, FieldNotes},
		{"lone CR in notes", Draft{Title: "a", Notes: "one\rtwo"}, FieldNotes},
		{"CR at the end of notes", Draft{Title: "a", Notes: "one\r"}, FieldNotes},
		{"escape in notes", Draft{Title: "a", Notes: "\x1b]0;title\x07"}, FieldNotes},
		{"invalid due", Draft{Title: "a", Due: Date{2026, 2, 30}}, FieldDue},
		{"valid due", Draft{Title: "a", Due: Date{2026, 2, 28}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			ie, ok := err.(*InvalidError)
			if !ok || ie.Field != tc.wantField {
				t.Fatalf("Validate: %v, want an InvalidError for %s", err, tc.wantField)
			}
			// The reason describes the rule; it never repeats the text.
			if strings.ContainsAny(ie.Reason, "\x00\x1b\x7f\u009b") {
				t.Errorf("the reason holds control characters: %q", ie.Reason)
			}
		})
	}
}

func TestParseGUID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"9188040d-6c67-4c5b-b112-36a304b66dad", "9188040d-6c67-4c5b-b112-36a304b66dad"},
		{"9188040D-6C67-4C5B-B112-36A304B66DAD", "9188040d-6c67-4c5b-b112-36a304b66dad"},
		{"{9188040d-6c67-4c5b-b112-36a304b66dad}", ""},
		{"9188040d6c674c5bb11236a304b66dad", ""},
		{"9188040d-6c67-4c5b-b112-36a304b66da", ""},
		{"9188040d-6c67-4c5b-b112_36a304b66dad", ""},
		{"9188040g-6c67-4c5b-b112-36a304b66dad", ""},
		{"00000000-0000-0000-0000-000000000000", ""},
		{"' or PartitionKey ne '", ""},
		{"", ""},
	} {
		got, ok := ParseGUID(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("ParseGUID(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestID(t *testing.T) {
	oid := "9188040d-6c67-4c5b-b112-36a304b66dad"
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	id, err := NewID(oid, at, bytes.NewReader(bytes.Repeat([]byte{0xff}, 16)))
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != IDLength || !ValidID(id) || strings.ContainsAny(id, `/\#?'%`) || strings.ToLower(id) != id {
		t.Fatalf("NewID = %q: want %d lower-case URL-safe characters that ValidID accepts", id, IDLength)
	}
	if got, ok := IDOwner(id); !ok || got != oid {
		t.Errorf("IDOwner = %q, %v; want %q", got, ok, oid)
	}
	// Ids of one owner sort by creation time, whatever their random bits.
	later, _ := NewID(oid, at.Add(time.Millisecond), bytes.NewReader(make([]byte, 16)))
	if later <= id {
		t.Errorf("an id made later sorts first: %q <= %q", later, id)
	}
	// The last character holds 4 bits of the id and a padding bit: the
	// spelling with the padding bit set is not an id.
	for i, c := range "0123456789abcdefghijklmnopqrstuv" {
		alt := id[:len(id)-1] + string(c)
		if ValidID(alt) != (i%2 == 0) {
			t.Errorf("ValidID(…%c) = %v, want %v", c, ValidID(alt), i%2 == 0)
		}
	}
	if _, err := NewID("not a guid", at, bytes.NewReader(make([]byte, 16))); err == nil {
		t.Error("NewID for an owner that is not a GUID succeeded")
	}
	if _, err := NewID(oid, at, bytes.NewReader(nil)); err == nil {
		t.Error("NewID without random bytes succeeded")
	}
}

package tasks

import (
	"testing"
	"time"
)

// FuzzPageToken opens any token with one query's scope: it is a valid id
// of that scope's owner (or of the tenant's, for a tenant scope) that a
// token of the same scope sealed, or an *InvalidError; never a panic.
func FuzzPageToken(f *testing.F) {
	owner := Owner{TenantID: "7d1e6c35-0b1f-4c8e-9a4b-2f5d3c1e0a11", ObjectID: "a1a1a1a1-0000-4000-8000-00000000000a"}
	id, err := NewID(owner.ObjectID, time.Unix(1e9, 0), zeros{})
	if err != nil {
		f.Fatal(err)
	}
	sc := scope{tenant: owner.TenantID, owner: owner.ObjectID}
	for _, s := range []string{"", "AAAA", sc.seal(id), scope{tenant: owner.TenantID}.seal(id), "%%%", "AQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		after, err := sc.open(token)
		if err != nil {
			if ie, ok := err.(*InvalidError); !ok || ie.Field != FieldToken {
				t.Fatalf("open(%q): %v, want an *InvalidError on %s", token, err, FieldToken)
			}
			return
		}
		if oid, ok := IDOwner(after); !ok || oid != owner.ObjectID {
			t.Fatalf("open(%q) = %q, not an id of the scope's owner", token, after)
		}
		if sc.seal(after) != token {
			t.Fatalf("open(%q) = %q, which seals to %q: two spellings of one token", token, after, sc.seal(after))
		}
	})
}

// FuzzParseDate: a date it accepts is a real day that prints back as the
// text it read.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-12-31", "2024-02-29", "2026-02-29", "0000-01-01", "9999-12-31", "2026-1-1", "２０２６-01-01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.String() != s || !d.valid() {
			t.Fatalf("ParseDate(%q) = %v, which prints as %q", s, d, d.String())
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

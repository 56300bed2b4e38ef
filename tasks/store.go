package tasks

import (
	"context"
	"strconv"
)

// Store keeps tasks, partitioned by owner. It decides nothing about who
// may see what: every call names its partition (an owner) or its tenant,
// and only [Service] chooses them, from the caller. Implementations must
// pass taskstest.TestStore.
//
// Every method refuses what cannot be a key without building one from it:
// an id that is not [ValidID], or one that names another owner, is
// [ErrNotFound] for Get, Update and Delete; an owner that is not
// [Owner.Valid] (or a tenant id that is not a canonical GUID) matches
// nothing: [ErrNotFound] for a point call, an [*InvalidError] for a list
// and for Create. A store that cannot answer in time says so with an
// [*UnavailableError].
type Store interface {
	// Create stores t, whose ID, Owner and times the service has set, and
	// returns it with its first Version. A taken id is ErrConflict.
	Create(ctx context.Context, t Task) (Task, error)
	// Get returns owner's task id.
	Get(ctx context.Context, owner Owner, id string) (Task, error)
	// List returns owner's tasks after q.After, by ascending id.
	List(ctx context.Context, owner Owner, q Query) ([]Task, error)
	// ListTenant returns the tasks of every owner in the tenant, and of
	// no other tenant, after q.After, by ascending id (which is by
	// owner, then by id). It is the tenant administrator's view only.
	ListTenant(ctx context.Context, tenantID string, q Query) ([]Task, error)
	// Update replaces the task t.Owner owns under t.ID with t (it never
	// creates one) and returns it with a new Version. When ifVersion is
	// not empty and is not the stored Version, it changes nothing and
	// returns ErrConflict; "" means no condition. "*" is not a wildcard.
	Update(ctx context.Context, t Task, ifVersion string) (Task, error)
	// Delete removes owner's task id, on the same condition as Update.
	Delete(ctx context.Context, owner Owner, id, ifVersion string) error
}

// Query selects a page of a list.
type Query struct {
	// Done, when not nil, keeps only the tasks whose Done is *Done.
	Done *bool
	// Limit is the most tasks to return, 1 to MaxLimit; the store returns
	// fewer only when there are no more.
	Limit int
	// After is the id of the last task of the previous page (which may
	// since have been deleted), or "" for the first page.
	After string
}

// MaxLimit bounds Query.Limit: one more than the largest page, so that
// the service learns whether there is a next page.
const MaxLimit = MaxTop + 1

// Addressable reports whether a task of owner could be stored under id:
// the owner's ids are canonical GUIDs and id is a valid id that names
// that owner. Every store answers ErrNotFound for anything else, before
// it builds a key from it.
func Addressable(owner Owner, id string) bool {
	oid, ok := IDOwner(id)
	return ok && owner.Valid() && oid == owner.ObjectID
}

// CheckNew is the check every store's Create makes before it builds a
// key: the owner and the id are addressable (an *InvalidError otherwise).
func CheckNew(t Task) error {
	if !t.Owner.Valid() {
		return invalid(FieldOwner, "must be canonical GUIDs")
	}
	if !Addressable(t.Owner, t.ID) {
		return invalid(FieldID, "must be an id the service made for this owner")
	}
	return nil
}

// CheckQuery is the check every store's List and ListTenant make before
// they build a query: the tenant id is a canonical GUID, the limit is in
// range, and After is empty or a valid id. List checks the whole owner
// as well.
func CheckQuery(tenantID string, q Query) error {
	if !canonicalGUID(tenantID) {
		return invalid(FieldOwner, "the tenant must be a canonical GUID")
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return invalid(FieldTop, "the limit must be from 1 to "+strconv.Itoa(MaxLimit))
	}
	if q.After != "" && !ValidID(q.After) {
		return invalid(FieldToken, "must be a valid id")
	}
	return nil
}

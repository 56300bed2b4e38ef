package tasks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Page sizes of a list.
const (
	DefaultTop = 50
	MaxTop     = 100
)

// updateAttempts bounds how often an update without If-Match re-reads and
// re-applies its patch when another write got in between.
const updateAttempts = 5

// Caller is who calls the service: an owner whose ids are canonical
// GUIDs, and whether it may see its whole tenant. The fields are not
// exported so that [NewCaller], which checks the ids, is the only way to
// make one; the zero Caller is refused.
//
// It is a small value rather than an *auth.Principal so that the domain
// does not depend on how callers are authenticated or on the policy that
// grants the role: the api package reads the principal, asks the policy
// whether it holds the role, and passes the answer.
type Caller struct {
	owner Owner
	admin bool
}

// NewCaller returns the caller with tenant id tid and object id oid (any
// case; GUIDs are not case-sensitive). admin says the caller holds the
// role that shows the whole tenant. Ids that are not GUIDs are
// [ErrBadCaller].
func NewCaller(tid, oid string, admin bool) (Caller, error) {
	t, ok1 := ParseGUID(tid)
	o, ok2 := ParseGUID(oid)
	if !ok1 || !ok2 {
		return Caller{}, ErrBadCaller
	}
	return Caller{owner: Owner{TenantID: t, ObjectID: o}, admin: admin}, nil
}

// Owner is the owner of the caller's own tasks.
func (c Caller) Owner() Owner { return c.owner }

// Admin reports whether the caller sees its whole tenant.
func (c Caller) Admin() bool { return c.admin }

func (c Caller) valid() bool { return c.owner.Valid() }

// Options configure a [Service].
type Options struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Random makes ids (crypto/rand.Reader when nil).
	Random io.Reader
}

// Service applies the ownership rule (see the package doc) over a
// [Store]. It is safe for concurrent use when the store is.
type Service struct {
	store  Store
	now    func() time.Time
	random io.Reader
}

// NewService returns a service over store.
func NewService(store Store, o Options) *Service {
	s := &Service{store: store, now: o.Now, random: o.Random}
	if s.now == nil {
		s.now = time.Now
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	return s
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Create stores a new task of the caller's.
func (s *Service) Create(ctx context.Context, c Caller, d Draft) (Task, error) {
	if !c.valid() {
		return Task{}, ErrBadCaller
	}
	if err := d.Validate(); err != nil {
		return Task{}, err
	}
	now := s.clock()
	id, err := NewID(c.owner.ObjectID, now, s.random)
	if err != nil {
		return Task{}, fmt.Errorf("tasks: making an id: %w", err)
	}
	return s.store.Create(ctx, Task{
		ID: id, Owner: c.owner,
		Title: d.Title, Notes: d.Notes, Due: d.Due, Done: d.Done,
		Created: now, Updated: now,
	})
}

// Get returns the task id, if the caller may see it.
func (s *Service) Get(ctx context.Context, c Caller, id string) (Task, error) {
	owner, err := s.ownerOf(c, id)
	if err != nil {
		return Task{}, err
	}
	return s.store.Get(ctx, owner, id)
}

// Update applies p to the task id. ifMatch is the version the caller's
// If-Match names, or "" for none (an If-Match of * is "": the task must
// exist, which it must anyway). A stale ifMatch is [ErrConflict]. Without
// one, a write that another got ahead of is re-read and re-applied, so
// that concurrent patches of different fields are not lost.
func (s *Service) Update(ctx context.Context, c Caller, id string, p Patch, ifMatch string) (Task, error) {
	if err := p.Validate(); err != nil {
		return Task{}, err
	}
	owner, err := s.ownerOf(c, id)
	if err != nil {
		return Task{}, err
	}
	for range updateAttempts {
		cur, err := s.store.Get(ctx, owner, id)
		if err != nil {
			return Task{}, err
		}
		if ifMatch != "" && ifMatch != cur.Version {
			return Task{}, ErrConflict
		}
		next := p.apply(cur)
		if next == cur {
			return cur, nil // nothing to write; the version stays
		}
		// Updated never goes back, whatever the clocks of the
		// instances say.
		next.Updated = s.clock()
		if next.Updated.Before(cur.Updated) {
			next.Updated = cur.Updated
		}
		saved, err := s.store.Update(ctx, next, cur.Version)
		if errors.Is(err, ErrConflict) && ifMatch == "" {
			continue
		}
		return saved, err
	}
	return Task{}, &UnavailableError{Reason: "store_busy", RetryAfter: time.Second,
		Err: fmt.Errorf("the task changed under %d attempts to update it", updateAttempts)}
}

// Delete removes the task id; ifMatch is as for Update.
func (s *Service) Delete(ctx context.Context, c Caller, id, ifMatch string) error {
	owner, err := s.ownerOf(c, id)
	if err != nil {
		return err
	}
	if ifMatch != "" {
		// Read first, so that a missing task is ErrNotFound whatever
		// ifMatch says, in every store.
		cur, err := s.store.Get(ctx, owner, id)
		if err != nil {
			return err
		}
		if cur.Version != ifMatch {
			return ErrConflict
		}
	}
	return s.store.Delete(ctx, owner, id, ifMatch)
}

// ownerOf is the partition a point call on id reads. A caller's own
// partition, always, unless the caller sees the whole tenant: then the
// owner the id names, in the caller's tenant. A task of another user is
// then simply absent from the partition read, which is ErrNotFound by the
// same path as a task that does not exist.
func (s *Service) ownerOf(c Caller, id string) (Owner, error) {
	if !c.valid() {
		return Owner{}, ErrBadCaller
	}
	if !c.admin {
		if !ValidID(id) {
			return Owner{}, ErrNotFound
		}
		return c.owner, nil
	}
	oid, ok := IDOwner(id)
	if !ok {
		return Owner{}, ErrNotFound
	}
	return Owner{TenantID: c.owner.TenantID, ObjectID: oid}, nil
}

// ListOptions select a page of a list.
type ListOptions struct {
	// Owner narrows a tenant administrator's view to one object id. A
	// caller without the role may name only itself. "" is the caller's
	// own tasks, or the whole tenant for an administrator.
	Owner string
	// Done keeps only done (or only open) tasks when not nil.
	Done *bool
	// Top is the page size, 1 to MaxTop; 0 is DefaultTop.
	Top int
	// Token is a previous page's Next.
	Token string
}

// ListResult is one page.
type ListResult struct {
	Tasks []Task
	// Next is the token of the next page, "" when there are no more
	// tasks.
	Next string
}

// List returns a page of the tasks the caller may see, by ascending id.
func (s *Service) List(ctx context.Context, c Caller, o ListOptions) (ListResult, error) {
	if !c.valid() {
		return ListResult{}, ErrBadCaller
	}
	top := o.Top
	if top == 0 {
		top = DefaultTop
	}
	if top < 1 || top > MaxTop {
		return ListResult{}, invalid(FieldTop, fmt.Sprintf("must be an integer from 1 to %d", MaxTop))
	}
	sc := scope{tenant: c.owner.TenantID, owner: c.owner.ObjectID, done: o.Done}
	if o.Owner != "" {
		oid, ok := ParseGUID(o.Owner)
		if !ok {
			return ListResult{}, invalid(FieldOwner, "must be an object id (a GUID)")
		}
		if oid != c.owner.ObjectID && !c.admin {
			return ListResult{}, invalid(FieldOwner, "may name another user only for a caller allowed to see the whole tenant")
		}
		sc.owner = oid
	} else if c.admin {
		sc.owner = ""
	}
	q := Query{Done: o.Done, Limit: top + 1}
	if o.Token != "" {
		after, err := sc.open(o.Token)
		if err != nil {
			return ListResult{}, err
		}
		q.After = after
	}
	var list []Task
	var err error
	if sc.owner == "" {
		list, err = s.store.ListTenant(ctx, sc.tenant, q)
	} else {
		list, err = s.store.List(ctx, Owner{TenantID: sc.tenant, ObjectID: sc.owner}, q)
	}
	if err != nil {
		return ListResult{}, err
	}
	res := ListResult{Tasks: list}
	if len(list) > top {
		res.Tasks = list[:top]
		res.Next = sc.seal(list[top-1].ID)
	}
	return res, nil
}

// ParseTop reads a $top parameter: "" is DefaultTop.
func ParseTop(s string) (int, error) {
	if s == "" {
		return DefaultTop, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxTop || len(s) > 3 || s[0] < '0' || s[0] > '9' {
		return 0, invalid(FieldTop, fmt.Sprintf("must be an integer from 1 to %d", MaxTop))
	}
	return n, nil
}

// ParseDone reads a done parameter: "" is no filter, and only true and
// false are values.
func ParseDone(s string) (*bool, error) {
	switch s {
	case "":
		return nil, nil
	case "true", "false":
		b := s == "true"
		return &b, nil
	}
	return nil, invalid(FieldDone, "must be true or false")
}

package tasks_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/tasks"
	"github.com/entrafunc/entrafunc/tasks/taskstest"
)

const (
	tenantT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tenantU = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
	oidA    = "00000000-0000-0000-0000-00000000000a"
	oidB    = "00000000-0000-0000-0000-00000000000b"
	oidAdm  = "00000000-0000-0000-0000-0000000000ad"
)

var epoch = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// fixture is a service over a memory store, with a clock that moves one
// second per call, and the callers of the tests.
type fixture struct {
	svc   *tasks.Service
	store *counting
	now   atomic.Int64
	a, b  tasks.Caller // users of tenant T
	adm   tasks.Caller // T's administrator
	admU  tasks.Caller // tenant U's administrator
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: &counting{Store: taskstest.NewMemory()}}
	f.svc = tasks.NewService(f.store, tasks.Options{Now: func() time.Time {
		return epoch.Add(time.Duration(f.now.Add(1)) * time.Second)
	}})
	f.a = caller(t, tenantT, oidA, false)
	f.b = caller(t, tenantT, oidB, false)
	f.adm = caller(t, tenantT, oidAdm, true)
	f.admU = caller(t, tenantU, oidAdm, true)
	return f
}

func caller(t *testing.T, tid, oid string, admin bool) tasks.Caller {
	t.Helper()
	c, err := tasks.NewCaller(tid, oid, admin)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// counting counts the calls that reach the store.
type counting struct {
	tasks.Store
	calls atomic.Int64
}

func (c *counting) Get(ctx context.Context, o tasks.Owner, id string) (tasks.Task, error) {
	c.calls.Add(1)
	return c.Store.Get(ctx, o, id)
}

func (f *fixture) create(t *testing.T, c tasks.Caller, title string) tasks.Task {
	t.Helper()
	task, err := f.svc.Create(context.Background(), c, tasks.Draft{Title: title})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return task
}

func ptr[T any](v T) *T { return &v }

func TestCreate(t *testing.T) {
	f := newFixture(t)
	due := tasks.Date{Year: 2027, Month: 1, Day: 31}
	task, err := f.svc.Create(context.Background(), f.a, tasks.Draft{Title: "t", Notes: "n", Due: due, Done: true})
	if err != nil {
		t.Fatal(err)
	}
	if task.Owner != f.a.Owner() {
		t.Errorf("owner = %v, want the caller %v", task.Owner, f.a.Owner())
	}
	if oid, ok := tasks.IDOwner(task.ID); !ok || oid != oidA {
		t.Errorf("id %q names %q, want the caller", task.ID, oid)
	}
	if want := epoch.Add(time.Second); !task.Created.Equal(want) || !task.Updated.Equal(want) || task.Created.Location() != time.UTC {
		t.Errorf("times = %v, %v; want %v UTC from the clock", task.Created, task.Updated, want)
	}
	if task.Version == "" || task.Title != "t" || task.Notes != "n" || task.Due != due || !task.Done {
		t.Errorf("task = %+v", task)
	}
	other := f.create(t, f.a, "other")
	if other.ID == task.ID {
		t.Error("two creates gave one id")
	}
}

func TestCreateInvalid(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		d     tasks.Draft
		field string
	}{
		{tasks.Draft{}, tasks.FieldTitle},
		{tasks.Draft{Title: strings.Repeat("x", 201)}, tasks.FieldTitle},
		{tasks.Draft{Title: "a\x1bb"}, tasks.FieldTitle},
		{tasks.Draft{Title: "a", Notes: strings.Repeat("x", 4001)}, tasks.FieldNotes},
		{tasks.Draft{Title: "a", Due: tasks.Date{Year: 2026, Month: 2, Day: 29}}, tasks.FieldDue},
	} {
		_, err := f.svc.Create(context.Background(), f.a, tc.d)
		var ie *tasks.InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("Create(%.30q): %v, want an InvalidError for %s", tc.d.Title, err, tc.field)
		}
	}
	list, _ := f.svc.List(context.Background(), f.a, tasks.ListOptions{})
	if len(list.Tasks) != 0 {
		t.Errorf("refused creates stored %d tasks", len(list.Tasks))
	}
}

func TestBadCaller(t *testing.T) {
	for _, ids := range [][2]string{
		{"not-a-guid", oidA}, {tenantT, "' or PartitionKey ne '"}, {"", ""}, {tenantT, "00000000-0000-0000-0000-000000000000"},
	} {
		if _, err := tasks.NewCaller(ids[0], ids[1], false); !errors.Is(err, tasks.ErrBadCaller) {
			t.Errorf("NewCaller(%q, %q): %v, want ErrBadCaller", ids[0], ids[1], err)
		}
	}
	c, err := tasks.NewCaller(strings.ToUpper(tenantT), strings.ToUpper(oidA), false)
	if err != nil || c.Owner() != (tasks.Owner{TenantID: tenantT, ObjectID: oidA}) {
		t.Errorf("NewCaller in upper case = %v, %v; want the canonical owner", c.Owner(), err)
	}
	// The zero Caller is nobody.
	f := newFixture(t)
	task := f.create(t, f.a, "a's")
	var zero tasks.Caller
	ctx := context.Background()
	_, e1 := f.svc.Create(ctx, zero, tasks.Draft{Title: "x"})
	_, e2 := f.svc.Get(ctx, zero, task.ID)
	_, e3 := f.svc.Update(ctx, zero, task.ID, tasks.Patch{}, "")
	e4 := f.svc.Delete(ctx, zero, task.ID, "")
	_, e5 := f.svc.List(ctx, zero, tasks.ListOptions{})
	for i, err := range []error{e1, e2, e3, e4, e5} {
		if !errors.Is(err, tasks.ErrBadCaller) {
			t.Errorf("call %d as the zero Caller: %v, want ErrBadCaller", i+1, err)
		}
	}
}

// TestOwnership is the rule, call by call: who reaches A's task.
func TestOwnership(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	missing, _ := tasks.NewID(oidA, epoch, strings.NewReader(strings.Repeat("r", 16)))
	for _, tc := range []struct {
		name   string
		caller func(f *fixture) tasks.Caller
		found  bool
	}{
		{"owner", func(f *fixture) tasks.Caller { return f.a }, true},
		{"other user", func(f *fixture) tasks.Caller { return f.b }, false},
		{"tenant admin", func(f *fixture) tasks.Caller { return f.adm }, true},
		{"other tenant's admin", func(f *fixture) tasks.Caller { return f.admU }, false},
		{"same oid in another tenant", func(f *fixture) tasks.Caller { return caller(t, tenantU, oidA, false) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := f.create(t, f.a, "a's")
			c := tc.caller(f)
			_, getErr := f.svc.Get(ctx, c, task.ID)
			_, updErr := f.svc.Update(ctx, c, task.ID, tasks.Patch{Done: ptr(true)}, "")
			delErr := f.svc.Delete(ctx, c, task.ID, "")
			for name, err := range map[string]error{"Get": getErr, "Update": updErr, "Delete": delErr} {
				if tc.found && err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if !tc.found && err != tasks.ErrNotFound {
					t.Errorf("%s: %v, want ErrNotFound itself", name, err)
				}
			}
			if !tc.found {
				// Not found by the same path as a task that does not
				// exist: the same error value, from one store read.
				before := f.store.calls.Load()
				_, errMissing := f.svc.Get(ctx, c, missing)
				if errMissing != getErr || f.store.calls.Load()-before != 1 {
					t.Errorf("a missing id: %v after %d store reads; another's task: %v", errMissing, f.store.calls.Load()-before, getErr)
				}
				if got, err := f.svc.Get(ctx, f.a, task.ID); err != nil || got.Done {
					t.Errorf("the task after another's calls: %+v, %v", got, err)
				}
			}
		})
	}
}

func TestHostileIDs(t *testing.T) {
	f := newFixture(t)
	real := f.create(t, f.a, "a's")
	for _, c := range []tasks.Caller{f.a, f.adm} {
		for _, id := range []string{"", "/", "a/b", "#", "?", "'", "%2F", strings.ToUpper(real.ID), real.ID + "/", strings.Repeat("a", 2048), "' or RowKey ne '"} {
			before := f.store.calls.Load()
			if _, err := f.svc.Get(context.Background(), c, id); err != tasks.ErrNotFound {
				t.Errorf("Get(%.30q): %v, want ErrNotFound", id, err)
			}
			if f.store.calls.Load() != before {
				t.Errorf("Get(%.30q) reached the store", id)
			}
		}
	}
}

func TestUpdate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	task, err := f.svc.Create(ctx, f.a, tasks.Draft{Title: "t", Notes: "n", Due: tasks.Date{Year: 2027, Month: 1, Day: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// A merge patch: absent fields stay, null (a pointer to zero) clears.
	got, err := f.svc.Update(ctx, f.a, task.ID, tasks.Patch{Notes: ptr(""), Due: ptr(tasks.Date{}), Done: ptr(true)}, task.Version)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "t" || got.Notes != "" || !got.Due.IsZero() || !got.Done || got.Version == task.Version ||
		!got.Created.Equal(task.Created) || !got.Updated.After(task.Updated) || got.Owner != task.Owner {
		t.Errorf("after the patch: %+v (before %+v)", got, task)
	}
	// A stale If-Match changes nothing.
	if _, err := f.svc.Update(ctx, f.a, task.ID, tasks.Patch{Title: ptr("lost")}, task.Version); err != tasks.ErrConflict {
		t.Errorf("stale If-Match: %v, want ErrConflict", err)
	}
	// A patch that changes nothing writes nothing.
	same, err := f.svc.Update(ctx, f.a, task.ID, tasks.Patch{Title: ptr("t")}, got.Version)
	if err != nil || same.Version != got.Version || !same.Updated.Equal(got.Updated) {
		t.Errorf("a no-op patch: %+v, %v; want the task unchanged", same, err)
	}
	// Invalid fields are refused before the store is read.
	before := f.store.calls.Load()
	for _, p := range []tasks.Patch{{Title: ptr("")}, {Title: ptr("a\x00")}, {Notes: ptr(strings.Repeat("x", 4001))}, {Due: ptr(tasks.Date{Year: 2026, Month: 4, Day: 31})}} {
		if _, err := f.svc.Update(ctx, f.a, task.ID, p, ""); !errors.Is(err, tasks.ErrInvalid) {
			t.Errorf("Update(%+v): %v, want an InvalidError", p, err)
		}
	}
	if f.store.calls.Load() != before {
		t.Error("invalid patches reached the store")
	}
}

// interloper writes the task once between the service's read and its
// write, as a concurrent request would.
type interloper struct {
	tasks.Store
	once sync.Once
}

func (s *interloper) Update(ctx context.Context, t tasks.Task, v string) (tasks.Task, error) {
	s.once.Do(func() {
		cur, _ := s.Store.Get(ctx, t.Owner, t.ID)
		cur.Notes = "written by another request"
		s.Store.Update(ctx, cur, "")
	})
	return s.Store.Update(ctx, t, v)
}

func TestUpdateWithoutIfMatchLosesNothing(t *testing.T) {
	store := &interloper{Store: taskstest.NewMemory()}
	svc := tasks.NewService(store, tasks.Options{})
	a := caller(t, tenantT, oidA, false)
	ctx := context.Background()
	task, err := svc.Create(ctx, a, tasks.Draft{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Update(ctx, a, task.ID, tasks.Patch{Done: ptr(true)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Done || got.Notes != "written by another request" {
		t.Errorf("after a concurrent write: %+v; want both changes", got)
	}
	// With If-Match, the same race is the caller's 412.
	task = got
	store.once = sync.Once{}
	if _, err := svc.Update(ctx, a, task.ID, tasks.Patch{Done: ptr(false)}, task.Version); err != tasks.ErrConflict {
		t.Errorf("with If-Match: %v, want ErrConflict", err)
	}
}

func TestConcurrentPatchesWithOneIfMatch(t *testing.T) {
	f := newFixture(t)
	task := f.create(t, f.a, "t")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = f.svc.Update(context.Background(), f.a, task.ID, tasks.Patch{Title: ptr("writer " + string(rune('0'+i)))}, task.Version)
		})
	}
	wg.Wait()
	if !(errs[0] == nil && errs[1] == tasks.ErrConflict || errs[1] == nil && errs[0] == tasks.ErrConflict) {
		t.Errorf("two patches with one If-Match: %v; want one success and one ErrConflict", errs)
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	task := f.create(t, f.a, "t")
	if err := f.svc.Delete(ctx, f.a, task.ID, "stale"); err != tasks.ErrConflict {
		t.Errorf("stale If-Match: %v, want ErrConflict", err)
	}
	if err := f.svc.Delete(ctx, f.b, task.ID, task.Version); err != tasks.ErrNotFound {
		t.Errorf("another user with the right If-Match: %v, want ErrNotFound", err)
	}
	if err := f.svc.Delete(ctx, f.a, task.ID, task.Version); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := f.svc.Delete(ctx, f.a, task.ID, task.Version); err != tasks.ErrNotFound {
		t.Errorf("Delete again with If-Match: %v, want ErrNotFound", err)
	}
	if _, err := f.svc.Get(ctx, f.a, task.ID); err != tasks.ErrNotFound {
		t.Errorf("Get after Delete: %v", err)
	}
}

// listAll reads every page.
func listAll(t *testing.T, svc *tasks.Service, c tasks.Caller, o tasks.ListOptions) (ids []string, pageSizes []int) {
	t.Helper()
	for range 100 {
		res, err := svc.List(context.Background(), c, o)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, task := range res.Tasks {
			ids = append(ids, task.ID)
		}
		pageSizes = append(pageSizes, len(res.Tasks))
		if res.Next == "" {
			return ids, pageSizes
		}
		o.Token = res.Next
	}
	t.Fatal("more than 100 pages")
	return nil, nil
}

func TestListPages(t *testing.T) {
	f := newFixture(t)
	var own []string
	for range 6 {
		own = append(own, f.create(t, f.a, "a's").ID)
	}
	for range 2 {
		f.create(t, f.b, "b's")
	}
	for _, tc := range []struct {
		top   int
		sizes []int
	}{
		{3, []int{3, 3}}, // no link after the last full page
		{4, []int{4, 2}},
		{6, []int{6}},
		{0, []int{6}}, // the default
		{1, []int{1, 1, 1, 1, 1, 1}},
	} {
		ids, sizes := listAll(t, f.svc, f.a, tasks.ListOptions{Top: tc.top})
		if !slices.Equal(ids, own) || !slices.Equal(sizes, tc.sizes) {
			t.Errorf("top %d: pages %v of %d ids, want %v of the owner's %d in creation order", tc.top, sizes, len(ids), tc.sizes, len(own))
		}
	}
	// The administrator sees the tenant, or one owner of it.
	ids, _ := listAll(t, f.svc, f.adm, tasks.ListOptions{Top: 5})
	if len(ids) != 8 {
		t.Errorf("the admin's view: %d tasks, want 8", len(ids))
	}
	ids, _ = listAll(t, f.svc, f.adm, tasks.ListOptions{Top: 5, Owner: strings.ToUpper(oidB)})
	if len(ids) != 2 {
		t.Errorf("the admin's view of B: %d tasks, want 2", len(ids))
	}
	ids, _ = listAll(t, f.svc, f.admU, tasks.ListOptions{})
	if len(ids) != 0 {
		t.Errorf("another tenant's admin sees %d tasks", len(ids))
	}
	ids, _ = listAll(t, f.svc, f.b, tasks.ListOptions{Owner: oidB})
	if len(ids) != 2 {
		t.Errorf("B naming itself: %d tasks, want 2", len(ids))
	}
	done := true
	f.svc.Update(context.Background(), f.a, own[2], tasks.Patch{Done: &done}, "")
	ids, _ = listAll(t, f.svc, f.a, tasks.ListOptions{Done: &done, Top: 1})
	if len(ids) != 1 || ids[0] != own[2] {
		t.Errorf("done=true: %v, want [%s]", ids, own[2])
	}
}

func TestListRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for range 3 {
		f.create(t, f.a, "a's")
		f.create(t, f.b, "b's")
	}
	first, err := f.svc.List(ctx, f.a, tasks.ListOptions{Top: 1})
	if err != nil || first.Next == "" {
		t.Fatalf("List: %v, next %q", err, first.Next)
	}
	adminFirst, err := f.svc.List(ctx, f.adm, tasks.ListOptions{Top: 1})
	if err != nil || adminFirst.Next == "" {
		t.Fatalf("admin List: %v", err)
	}
	done := true
	tamper := []byte(first.Next)
	tamper[5] ^= 1
	for _, tc := range []struct {
		name  string
		c     tasks.Caller
		o     tasks.ListOptions
		field string
	}{
		{"A's token used by B", f.b, tasks.ListOptions{Token: first.Next}, tasks.FieldToken},
		{"A's token used by A's admin", f.adm, tasks.ListOptions{Token: first.Next}, tasks.FieldToken},
		{"A's token with another filter", f.a, tasks.ListOptions{Token: first.Next, Done: &done}, tasks.FieldToken},
		{"a tenant token used by A", f.a, tasks.ListOptions{Token: adminFirst.Next}, tasks.FieldToken},
		{"a tenant token narrowed to an owner", f.adm, tasks.ListOptions{Token: adminFirst.Next, Owner: oidA}, tasks.FieldToken},
		{"a tenant token in another tenant", f.admU, tasks.ListOptions{Token: adminFirst.Next}, tasks.FieldToken},
		{"a tampered token", f.a, tasks.ListOptions{Token: string(tamper)}, tasks.FieldToken},
		{"garbage token", f.a, tasks.ListOptions{Token: "' or PartitionKey ne '"}, tasks.FieldToken},
		{"a long token", f.a, tasks.ListOptions{Token: strings.Repeat("A", 4096)}, tasks.FieldToken},
		{"B naming A", f.b, tasks.ListOptions{Owner: oidA}, tasks.FieldOwner},
		{"an OData owner", f.adm, tasks.ListOptions{Owner: "' or PartitionKey ne '"}, tasks.FieldOwner},
		{"top too large", f.a, tasks.ListOptions{Top: 101}, tasks.FieldTop},
		{"top negative", f.a, tasks.ListOptions{Top: -1}, tasks.FieldTop},
	} {
		res, err := f.svc.List(ctx, tc.c, tc.o)
		var ie *tasks.InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field || len(res.Tasks) != 0 {
			t.Errorf("%s: %d tasks, %v; want an InvalidError for %s", tc.name, len(res.Tasks), err, tc.field)
		}
	}
}

func TestParseTopAndDone(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // 0: refused
	}{
		{"", 50}, {"1", 1}, {"100", 100}, {"007", 7},
		{"0", 0}, {"101", 0}, {"-1", 0}, {"+5", 0}, {"1e2", 0}, {" 5", 0}, {"5 ", 0}, {"0x10", 0}, {"99999999999999999999", 0},
	} {
		got, err := tasks.ParseTop(tc.in)
		if got != tc.want || (err == nil) != (tc.want != 0) {
			t.Errorf("ParseTop(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want string // "nil", "true", "false", "error"
	}{
		{"", "nil"}, {"true", "true"}, {"false", "false"}, {"TRUE", "error"}, {"1", "error"}, {"yes", "error"},
	} {
		got, err := tasks.ParseDone(tc.in)
		var s string
		switch {
		case err != nil:
			s = "error"
		case got == nil:
			s = "nil"
		case *got:
			s = "true"
		default:
			s = "false"
		}
		if s != tc.want {
			t.Errorf("ParseDone(%q) = %s, want %s", tc.in, s, tc.want)
		}
	}
}

// down is a store that cannot answer.
type down struct{ tasks.Store }

var errDown = &tasks.UnavailableError{Reason: "store_throttled", RetryAfter: 7 * time.Second}

func (down) Get(context.Context, tasks.Owner, string) (tasks.Task, error) {
	return tasks.Task{}, errDown
}

func TestUnavailable(t *testing.T) {
	svc := tasks.NewService(down{taskstest.NewMemory()}, tasks.Options{})
	a := caller(t, tenantT, oidA, false)
	id, _ := tasks.NewID(oidA, epoch, strings.NewReader(strings.Repeat("r", 16)))
	_, err := svc.Get(context.Background(), a, id)
	if !errors.Is(err, tasks.ErrUnavailable) {
		t.Fatalf("Get: %v, want ErrUnavailable", err)
	}
	if d, ok := tasks.RetryAfter(err); !ok || d != 7*time.Second {
		t.Errorf("RetryAfter = %v, %v; want 7s", d, ok)
	}
	if d, ok := tasks.RetryAfter(&tasks.UnavailableError{Reason: "store_timeout"}); !ok || d != tasks.DefaultRetryAfter {
		t.Errorf("RetryAfter without a hint = %v, %v; want the default", d, ok)
	}
	if _, ok := tasks.RetryAfter(tasks.ErrNotFound); ok {
		t.Error("RetryAfter(ErrNotFound) is a hint")
	}
}

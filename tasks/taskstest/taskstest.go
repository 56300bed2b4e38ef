package taskstest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/tasks"
)

// TestStore runs the contract against stores from open, one subtest per
// case. open may return a fresh store each time or the same one: every
// case works in tenants of its own, made up at random.
func TestStore(t *testing.T, open func(t testing.TB) tasks.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

// Check runs the same cases as TestStore, but records their failures
// instead of reporting them on t, and returns them joined: nil when the
// store passes. It is how the contract's own tests show that it fails a
// broken store; t still provides TempDir, Cleanup, Context and the log.
func Check(t testing.TB, open func(t testing.TB) tasks.Store) error {
	t.Helper()
	var errs []error
	for _, c := range cases {
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			// Fatalf ends this goroutine with runtime.Goexit, as the
			// testing package ends a test's.
			defer close(done)
			c.run(r, open(r))
		}()
		<-done
		for _, msg := range r.failures() {
			errs = append(errs, fmt.Errorf("%s: %s", c.name, msg))
		}
	}
	return errors.Join(errs...)
}

// recorder is a testing.TB whose failures are kept rather than reported.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any)                 { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Error(args...); runtime.Goexit() }
func (r *recorder) Fail()                             { r.Errorf("failed") }
func (r *recorder) FailNow()                          { r.Fail(); runtime.Goexit() }
func (r *recorder) Failed() bool                      { return len(r.failures()) > 0 }
func (r *recorder) Skip(args ...any)                  { r.Errorf("skipped: %s", fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Skipf(format string, args ...any)  { r.Skip(fmt.Sprintf(format, args...)) }
func (r *recorder) SkipNow()                          { r.Skip() }
func (r *recorder) Skipped() bool                     { return false }

type contractCase struct {
	name string
	run  func(t testing.TB, s tasks.Store)
}

// cases is the contract.
var cases = []contractCase{
	{"RoundTrip", testRoundTrip},
	{"Missing", testMissing},
	{"OwnersIsolated", testOwnersIsolated},
	{"TenantsIsolated", testTenantsIsolated},
	{"TenantView", testTenantView},
	{"Pages", testPages},
	{"PagesFiltered", testPagesFiltered},
	{"PagesAfterDelete", testPagesAfterDelete},
	{"Versions", testVersions},
	{"StaleVersion", testStaleVersion},
	{"ConcurrentUpdates", testConcurrentUpdates},
	{"DeleteThenGet", testDeleteThenGet},
	{"ClearFields", testClearFields},
	{"Text", testText},
	{"HostileIDs", testHostileIDs},
	{"HostileOwners", testHostileOwners},
	{"BadQueries", testBadQueries},
}

// ctx bounds one case: far beyond what any store needs, so that a store
// that hangs fails instead of holding the test binary until its timeout.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return c
}

// guid returns a random canonical GUID.
func guid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newOwner(tenant string) tasks.Owner { return tasks.Owner{TenantID: tenant, ObjectID: guid()} }

// clock gives each task a distinct creation time, to the millisecond,
// starting from the present.
type clock struct{ t time.Time }

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Millisecond)} }

func (c *clock) next() time.Time {
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// draft returns a task of owner, not yet stored.
func draft(t testing.TB, c *clock, owner tasks.Owner, title string) tasks.Task {
	t.Helper()
	now := c.next()
	id, err := tasks.NewID(owner.ObjectID, now, rand.Reader)
	if err != nil {
		t.Fatalf("NewID: %v", err)
	}
	return tasks.Task{ID: id, Owner: owner, Title: title, Created: now, Updated: now}
}

func create(t testing.TB, s tasks.Store, task tasks.Task) tasks.Task {
	t.Helper()
	got, err := s.Create(ctx(t), task)
	if err != nil {
		t.Fatalf("Create(%s): %v", task.Title, err)
	}
	return got
}

// createN stores n tasks of owner, every third one done, and returns them
// by id.
func createN(t testing.TB, s tasks.Store, c *clock, owner tasks.Owner, n int) []tasks.Task {
	t.Helper()
	var out []tasks.Task
	for i := range n {
		d := draft(t, c, owner, fmt.Sprintf("task %d", i))
		d.Done = i%3 == 0
		out = append(out, create(t, s, d))
	}
	slices.SortFunc(out, func(a, b tasks.Task) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// same reports how got differs from want, field by field ("" when it does
// not); Version is compared only when want has one.
func same(got, want tasks.Task) string {
	var d []string
	check := func(field string, ok bool, g, w any) {
		if !ok {
			d = append(d, fmt.Sprintf("%s = %q, want %q", field, fmt.Sprint(g), fmt.Sprint(w)))
		}
	}
	check("ID", got.ID == want.ID, got.ID, want.ID)
	check("Owner", got.Owner == want.Owner, got.Owner, want.Owner)
	check("Title", got.Title == want.Title, got.Title, want.Title)
	check("Notes", got.Notes == want.Notes, got.Notes, want.Notes)
	check("Due", got.Due == want.Due, got.Due, want.Due)
	check("Done", got.Done == want.Done, got.Done, want.Done)
	check("Created", got.Created.Equal(want.Created), got.Created, want.Created)
	check("Updated", got.Updated.Equal(want.Updated), got.Updated, want.Updated)
	if want.Version != "" {
		check("Version", got.Version == want.Version, got.Version, want.Version)
	}
	return strings.Join(d, "; ")
}

func ids(list []tasks.Task) []string {
	out := make([]string, len(list))
	for i, t := range list {
		out[i] = t.ID
	}
	return out
}

// versionRE is what a Version may hold: RFC 3986's unreserved characters,
// which fit in a strong ETag as they are.
var versionRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,256}$`)

func testRoundTrip(t testing.TB, s tasks.Store) {
	c := newClock()
	owner := newOwner(guid())
	d := draft(t, c, owner, "buy milk")
	d.Notes = "two litres"
	d.Due = tasks.Date{Year: 2026, Month: 12, Day: 31}
	d.Done = true
	d.Updated = d.Created.Add(1500 * time.Millisecond)
	created := create(t, s, d)
	if !versionRE.MatchString(created.Version) {
		t.Errorf("Create's Version = %q: want 1 to 256 URL-safe characters", created.Version)
	}
	if diff := same(created, d); diff != "" {
		t.Errorf("Create returned another task: %s", diff)
	}
	got, err := s.Get(ctx(t), owner, d.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := same(got, created); diff != "" {
		t.Errorf("Get after Create: %s", diff)
	}
	if got.Created.Location() != time.UTC || got.Updated.Location() != time.UTC {
		t.Errorf("Get's times are in %v and %v, want UTC", got.Created.Location(), got.Updated.Location())
	}
	again := d
	again.Title = "another"
	if _, err := s.Create(ctx(t), again); !errors.Is(err, tasks.ErrConflict) {
		t.Errorf("Create with a taken id: %v, want ErrConflict", err)
	}
	if got, _ := s.Get(ctx(t), owner, d.ID); got.Title != d.Title {
		t.Errorf("a refused Create changed the task: title %q", got.Title)
	}
}

func testMissing(t testing.TB, s tasks.Store) {
	c := newClock()
	owner := newOwner(guid())
	create(t, s, draft(t, c, owner, "exists"))
	ghost := draft(t, c, owner, "never stored")
	if _, err := s.Get(ctx(t), owner, ghost.ID); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Get of a missing id: %v, want ErrNotFound", err)
	}
	if _, err := s.Update(ctx(t), ghost, ""); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Update of a missing id: %v, want ErrNotFound", err)
	}
	if _, err := s.Update(ctx(t), ghost, "1"); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Update of a missing id with a version: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx(t), owner, ghost.ID, ""); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Delete of a missing id: %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx(t), owner, ghost.ID); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Update created the task: Get gives %v", err)
	}
	list, err := s.List(ctx(t), newOwner(guid()), tasks.Query{Limit: 10})
	if err != nil || len(list) != 0 {
		t.Errorf("List of an owner with no tasks: %d tasks, %v; want none and no error", len(list), err)
	}
	list, err = s.ListTenant(ctx(t), guid(), tasks.Query{Limit: 10})
	if err != nil || len(list) != 0 {
		t.Errorf("ListTenant of a tenant with no tasks: %d tasks, %v; want none and no error", len(list), err)
	}
}

// crossCheck asserts that intruder reaches nothing of victim's task: each
// point call is ErrNotFound, the task is unchanged and intruder's list
// does not hold it.
func crossCheck(t testing.TB, s tasks.Store, victim tasks.Task, intruder tasks.Owner) {
	t.Helper()
	if got, err := s.Get(ctx(t), intruder, victim.ID); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Get of another owner's task: %q, %v; want ErrNotFound", got.Title, err)
	}
	moved := victim
	moved.Owner = intruder
	moved.Title = "taken over"
	if _, err := s.Update(ctx(t), moved, ""); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Update of another owner's task: %v, want ErrNotFound", err)
	}
	if _, err := s.Update(ctx(t), moved, victim.Version); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Update of another owner's task with its version: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx(t), intruder, victim.ID, ""); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Delete of another owner's task: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx(t), intruder, victim.ID, victim.Version); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Delete of another owner's task with its version: %v, want ErrNotFound", err)
	}
	got, err := s.Get(ctx(t), victim.Owner, victim.ID)
	if err != nil {
		t.Fatalf("the owner's Get after another's calls: %v", err)
	}
	if diff := same(got, victim); diff != "" {
		t.Errorf("another owner's calls changed the task: %s", diff)
	}
	list, err := s.List(ctx(t), intruder, tasks.Query{Limit: tasks.MaxLimit})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if slices.Contains(ids(list), victim.ID) {
		t.Errorf("List of one owner holds another owner's task")
	}
	for _, task := range list {
		if task.Owner != intruder {
			t.Errorf("List of %v holds a task of %v", intruder, task.Owner)
		}
	}
}

func testOwnersIsolated(t testing.TB, s tasks.Store) {
	c := newClock()
	tenant := guid()
	a, b := newOwner(tenant), newOwner(tenant)
	ta := create(t, s, draft(t, c, a, "a's"))
	create(t, s, draft(t, c, b, "b's"))
	crossCheck(t, s, ta, b)
}

func testTenantsIsolated(t testing.TB, s tasks.Store) {
	// The same object id in two tenants is two owners: a store that keys
	// on the object id alone fails here.
	c := newClock()
	a := newOwner(guid())
	twin := tasks.Owner{TenantID: guid(), ObjectID: a.ObjectID}
	ta := create(t, s, draft(t, c, a, "a's"))
	create(t, s, draft(t, c, twin, "twin's"))
	crossCheck(t, s, ta, twin)
	list, err := s.ListTenant(ctx(t), twin.TenantID, tasks.Query{Limit: tasks.MaxLimit})
	if err != nil {
		t.Fatalf("ListTenant: %v", err)
	}
	if len(list) != 1 || list[0].Owner != twin {
		t.Errorf("ListTenant of the twin's tenant = %v, want the twin's one task", ids(list))
	}
}

func testTenantView(t testing.TB, s tasks.Store) {
	c := newClock()
	tenant, other := guid(), guid()
	a, b, x := newOwner(tenant), newOwner(tenant), newOwner(other)
	want := append(createN(t, s, c, a, 3), createN(t, s, c, b, 2)...)
	createN(t, s, c, x, 2)
	slices.SortFunc(want, func(p, q tasks.Task) int { return strings.Compare(p.ID, q.ID) })
	got, err := s.ListTenant(ctx(t), tenant, tasks.Query{Limit: tasks.MaxLimit})
	if err != nil {
		t.Fatalf("ListTenant: %v", err)
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("ListTenant = %v, want both owners' tasks by id %v", ids(got), ids(want))
	}
	for i := range min(len(got), len(want)) {
		if diff := same(got[i], want[i]); diff != "" {
			t.Errorf("ListTenant's task %d: %s", i, diff)
		}
	}
	done := true
	got, err = s.ListTenant(ctx(t), tenant, tasks.Query{Limit: tasks.MaxLimit, Done: &done})
	if err != nil {
		t.Fatalf("ListTenant done: %v", err)
	}
	var wantDone []string
	for _, task := range want {
		if task.Done {
			wantDone = append(wantDone, task.ID)
		}
	}
	if !slices.Equal(ids(got), wantDone) {
		t.Errorf("ListTenant of done tasks = %v, want %v", ids(got), wantDone)
	}
}

// pages reads a whole list page by page and checks each page's size.
func pages(t testing.TB, list func(q tasks.Query) ([]tasks.Task, error), q tasks.Query) []string {
	t.Helper()
	var all []string
	for range 1000 {
		page, err := list(q)
		if err != nil {
			t.Fatalf("page after %q: %v", q.After, err)
		}
		if len(page) > q.Limit {
			t.Fatalf("a page of %d tasks for a limit of %d", len(page), q.Limit)
		}
		all = append(all, ids(page)...)
		if len(page) < q.Limit {
			return all
		}
		q.After = page[len(page)-1].ID
	}
	t.Fatalf("more than 1000 pages")
	return nil
}

func testPages(t testing.TB, s tasks.Store) {
	c := newClock()
	tenant := guid()
	a, b := newOwner(tenant), newOwner(tenant)
	ta := createN(t, s, c, a, 23)
	tb := createN(t, s, c, b, 11)
	createN(t, s, c, newOwner(guid()), 5)
	all := append(slices.Clone(ta), tb...)
	slices.SortFunc(all, func(p, q tasks.Task) int { return strings.Compare(p.ID, q.ID) })
	for _, limit := range []int{1, 4, 7, 11, 23, 24, tasks.MaxLimit} {
		got := pages(t, func(q tasks.Query) ([]tasks.Task, error) { return s.List(ctx(t), a, q) }, tasks.Query{Limit: limit})
		if !slices.Equal(got, ids(ta)) {
			t.Errorf("List in pages of %d: %d ids %v, want the owner's %d by id", limit, len(got), got, len(ta))
		}
		got = pages(t, func(q tasks.Query) ([]tasks.Task, error) { return s.ListTenant(ctx(t), tenant, q) }, tasks.Query{Limit: limit})
		if !slices.Equal(got, ids(all)) {
			t.Errorf("ListTenant in pages of %d: %d ids, want the tenant's %d by id", limit, len(got), len(all))
		}
	}
}

func testPagesFiltered(t testing.TB, s tasks.Store) {
	c := newClock()
	tenant := guid()
	a, b := newOwner(tenant), newOwner(tenant)
	ta := createN(t, s, c, a, 14)
	tb := createN(t, s, c, b, 8)
	for _, done := range []bool{true, false} {
		var wantA, wantAll []string
		for _, task := range ta {
			if task.Done == done {
				wantA = append(wantA, task.ID)
			}
		}
		for _, task := range append(slices.Clone(ta), tb...) {
			if task.Done == done {
				wantAll = append(wantAll, task.ID)
			}
		}
		slices.Sort(wantAll)
		for _, limit := range []int{1, 2, 5} {
			got := pages(t, func(q tasks.Query) ([]tasks.Task, error) { return s.List(ctx(t), a, q) }, tasks.Query{Limit: limit, Done: &done})
			if !slices.Equal(got, wantA) {
				t.Errorf("List done=%v in pages of %d = %v, want %v", done, limit, got, wantA)
			}
			got = pages(t, func(q tasks.Query) ([]tasks.Task, error) { return s.ListTenant(ctx(t), tenant, q) }, tasks.Query{Limit: limit, Done: &done})
			if !slices.Equal(got, wantAll) {
				t.Errorf("ListTenant done=%v in pages of %d = %v, want %v", done, limit, got, wantAll)
			}
		}
	}
}

func testPagesAfterDelete(t testing.TB, s tasks.Store) {
	// A page ends at a task that is then deleted: the next page starts
	// after it all the same, with nothing lost or repeated.
	c := newClock()
	tenant := guid()
	a, b := newOwner(tenant), newOwner(tenant)
	ta := createN(t, s, c, a, 9)
	tb := createN(t, s, c, b, 4)
	first, err := s.List(ctx(t), a, tasks.Query{Limit: 4})
	if err != nil || len(first) != 4 {
		t.Fatalf("List: %d tasks, %v", len(first), err)
	}
	last := first[3]
	if err := s.Delete(ctx(t), a, last.ID, ""); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	rest := pages(t, func(q tasks.Query) ([]tasks.Task, error) { return s.List(ctx(t), a, q) }, tasks.Query{Limit: 3, After: last.ID})
	if want := ids(ta[4:]); !slices.Equal(rest, want) {
		t.Errorf("List after a deleted task = %v, want %v", rest, want)
	}
	// In the tenant's view, the deleted task's owner's remaining tasks
	// and then the other owner's follow.
	var want []string
	for _, task := range append(slices.Clone(ta), tb...) {
		if task.ID > last.ID {
			want = append(want, task.ID)
		}
	}
	slices.Sort(want)
	rest = pages(t, func(q tasks.Query) ([]tasks.Task, error) { return s.ListTenant(ctx(t), tenant, q) }, tasks.Query{Limit: 2, After: last.ID})
	if !slices.Equal(rest, want) {
		t.Errorf("ListTenant after a deleted task = %v, want %v", rest, want)
	}
}

func testVersions(t testing.TB, s tasks.Store) {
	c := newClock()
	owner := newOwner(guid())
	task := create(t, s, draft(t, c, owner, "v0"))
	seen := []string{task.Version}
	for i := 1; i <= 3; i++ {
		task.Title = fmt.Sprintf("v%d", i)
		task.Updated = c.next()
		var err error
		prev := task.Version
		if i == 2 {
			prev = "" // an unconditional update changes the version too
		}
		task, err = s.Update(ctx(t), task, prev)
		if err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
		if !versionRE.MatchString(task.Version) {
			t.Errorf("Update's Version = %q: want 1 to 256 URL-safe characters", task.Version)
		}
		if slices.Contains(seen, task.Version) {
			t.Errorf("Update %d gave version %q again (seen %v)", i, task.Version, seen)
		}
		seen = append(seen, task.Version)
		got, err := s.Get(ctx(t), owner, task.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if diff := same(got, task); diff != "" {
			t.Errorf("Get after Update %d: %s", i, diff)
		}
	}
}

func testStaleVersion(t testing.TB, s tasks.Store) {
	c := newClock()
	owner := newOwner(guid())
	v0 := create(t, s, draft(t, c, owner, "first"))
	next := v0
	next.Title = "second"
	v1, err := s.Update(ctx(t), next, v0.Version)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	stale := v0
	stale.Title = "lost"
	for _, version := range []string{v0.Version, "*", "bogus", `W/"x"`, `"` + v1.Version + `"`, v1.Version + "x"} {
		if _, err := s.Update(ctx(t), stale, version); !errors.Is(err, tasks.ErrConflict) {
			t.Errorf("Update with version %q: %v, want ErrConflict", version, err)
		}
		if err := s.Delete(ctx(t), owner, v0.ID, version); !errors.Is(err, tasks.ErrConflict) {
			t.Errorf("Delete with version %q: %v, want ErrConflict", version, err)
		}
	}
	got, err := s.Get(ctx(t), owner, v0.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := same(got, v1); diff != "" {
		t.Errorf("refused writes changed the task: %s", diff)
	}
	if err := s.Delete(ctx(t), owner, v0.ID, v1.Version); err != nil {
		t.Errorf("Delete with the current version: %v", err)
	}
}

func testConcurrentUpdates(t testing.TB, s tasks.Store) {
	const n = 8
	c := newClock()
	owner := newOwner(guid())
	base := create(t, s, draft(t, c, owner, "base"))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		won    []tasks.Task
		others []error
	)
	for i := range n {
		wg.Go(func() {
			next := base
			next.Title = fmt.Sprintf("writer %d", i)
			got, err := s.Update(ctx(t), next, base.Version)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, got)
			case !errors.Is(err, tasks.ErrConflict):
				others = append(others, err)
			}
		})
	}
	wg.Wait()
	if len(won) != 1 || len(others) != 0 {
		t.Fatalf("%d concurrent updates of one version: %d won, other errors %v; want exactly one winner and ErrConflict for the rest", n, len(won), others)
	}
	got, err := s.Get(ctx(t), owner, base.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := same(got, won[0]); diff != "" {
		t.Errorf("the task is not the winner's: %s", diff)
	}
}

func testDeleteThenGet(t testing.TB, s tasks.Store) {
	c := newClock()
	owner := newOwner(guid())
	keep := create(t, s, draft(t, c, owner, "keep"))
	gone := create(t, s, draft(t, c, owner, "gone"))
	if err := s.Delete(ctx(t), owner, gone.ID, gone.Version); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx(t), owner, gone.ID); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx(t), owner, gone.ID, ""); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Delete again: %v, want ErrNotFound", err)
	}
	if _, err := s.Update(ctx(t), gone, ""); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Update after Delete: %v, want ErrNotFound", err)
	}
	list, err := s.List(ctx(t), owner, tasks.Query{Limit: 10})
	if err != nil || !slices.Equal(ids(list), []string{keep.ID}) {
		t.Errorf("List after Delete = %v, %v; want only %s", ids(list), err, keep.ID)
	}
}

func testClearFields(t testing.TB, s tasks.Store) {
	// Clearing notes and the due date removes them: a store that merges
	// the new task into the old one instead of replacing it fails here.
	c := newClock()
	owner := newOwner(guid())
	d := draft(t, c, owner, "with everything")
	d.Notes = "some notes"
	d.Due = tasks.Date{Year: 2027, Month: 2, Day: 28}
	task := create(t, s, d)
	task.Notes, task.Due, task.Done = "", tasks.Date{}, true
	task.Updated = c.next()
	updated, err := s.Update(ctx(t), task, task.Version)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, err := s.Get(ctx(t), owner, task.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := same(got, updated); diff != "" || got.Notes != "" || !got.Due.IsZero() {
		t.Errorf("cleared fields came back: %s (notes %q, due %v)", diff, got.Notes, got.Due)
	}
}

func testText(t testing.TB, s tasks.Store) {
	// The largest text the domain allows, in every plane, round trips.
	c := newClock()
	owner := newOwner(guid())
	d := draft(t, c, owner, strings.Repeat("é😀ש", tasks.MaxTitle/3)+"ab")
	d.Notes = strings.Repeat("line\r\n\ttab 😀 עברית ", tasks.MaxNotes/20)
	d.Notes += strings.Repeat("x", tasks.MaxNotes-len([]rune(d.Notes)))
	if err := (tasks.Draft{Title: d.Title, Notes: d.Notes}).Validate(); err != nil {
		t.Fatalf("the test's own text is invalid: %v", err)
	}
	task := create(t, s, d)
	got, err := s.Get(ctx(t), owner, task.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := same(got, task); diff != "" {
		t.Errorf("text did not round trip: %s", diff)
	}
}

// hostileIDs cannot be ids: each is refused before it becomes a key.
func hostileIDs(real string) []string {
	return []string{
		"", "/", "a/b", "#", "?", "'", "%2F", "..", "\\", "\x00",
		real + "/", real + "#x", real + "?x", "../" + real, real[:len(real)-1] + "'",
		strings.ToUpper(real), real[:len(real)-1], real + "0",
		"' or RowKey ne '", "x' or '1' eq '1", real[:30] + "%2F" + real[33:],
		strings.Repeat("a", 2048), strings.Repeat("0", len(real)),
	}
}

func testHostileIDs(t testing.TB, s tasks.Store) {
	c := newClock()
	owner := newOwner(guid())
	task := create(t, s, draft(t, c, owner, "real"))
	for _, id := range hostileIDs(task.ID) {
		if _, err := s.Get(ctx(t), owner, id); !errors.Is(err, tasks.ErrNotFound) {
			t.Errorf("Get(%.40q): %v, want ErrNotFound", id, err)
		}
		bad := task
		bad.ID = id
		if _, err := s.Update(ctx(t), bad, ""); !errors.Is(err, tasks.ErrNotFound) {
			t.Errorf("Update(%.40q): %v, want ErrNotFound", id, err)
		}
		if err := s.Delete(ctx(t), owner, id, ""); !errors.Is(err, tasks.ErrNotFound) {
			t.Errorf("Delete(%.40q): %v, want ErrNotFound", id, err)
		}
		if _, err := s.Create(ctx(t), bad); !errors.Is(err, tasks.ErrInvalid) {
			t.Errorf("Create(%.40q): %v, want an InvalidError", id, err)
		}
	}
	list, err := s.List(ctx(t), owner, tasks.Query{Limit: tasks.MaxLimit})
	if err != nil || !slices.Equal(ids(list), []string{task.ID}) {
		t.Errorf("after hostile ids, List = %v, %v; want only the real task", ids(list), err)
	}
	// An id that names another owner cannot be stored under this one.
	foreign := draft(t, c, newOwner(owner.TenantID), "foreign")
	foreign.Owner = owner
	if _, err := s.Create(ctx(t), foreign); !errors.Is(err, tasks.ErrInvalid) {
		t.Errorf("Create of an id that names another owner: %v, want an InvalidError", err)
	}
}

// hostileOwners are not owners: none matches anything.
func hostileOwners(real tasks.Owner) []tasks.Owner {
	odata := "' or PartitionKey ne '"
	return []tasks.Owner{
		{TenantID: odata, ObjectID: real.ObjectID},
		{TenantID: real.TenantID, ObjectID: odata},
		{TenantID: real.TenantID + "' or '1' eq '1", ObjectID: real.ObjectID},
		{TenantID: strings.ToUpper(real.TenantID), ObjectID: strings.ToUpper(real.ObjectID)},
		{TenantID: "{" + real.TenantID + "}", ObjectID: real.ObjectID},
		{TenantID: real.TenantID + "_" + real.ObjectID, ObjectID: real.ObjectID},
		{TenantID: "", ObjectID: real.ObjectID},
		{TenantID: real.TenantID, ObjectID: ""},
		{},
		{TenantID: "00000000-0000-0000-0000-000000000000", ObjectID: real.ObjectID},
	}
}

func testHostileOwners(t testing.TB, s tasks.Store) {
	c := newClock()
	owner := newOwner(guid())
	task := create(t, s, draft(t, c, owner, "real"))
	for _, h := range hostileOwners(owner) {
		if _, err := s.Get(ctx(t), h, task.ID); !errors.Is(err, tasks.ErrNotFound) {
			t.Errorf("Get as %.60q: %v, want ErrNotFound", h, err)
		}
		bad := task
		bad.Owner = h
		bad.Title = "taken over"
		if _, err := s.Update(ctx(t), bad, ""); !errors.Is(err, tasks.ErrNotFound) {
			t.Errorf("Update as %.60q: %v, want ErrNotFound", h, err)
		}
		if err := s.Delete(ctx(t), h, task.ID, ""); !errors.Is(err, tasks.ErrNotFound) {
			t.Errorf("Delete as %.60q: %v, want ErrNotFound", h, err)
		}
		if _, err := s.Create(ctx(t), bad); !errors.Is(err, tasks.ErrInvalid) {
			t.Errorf("Create as %.60q: %v, want an InvalidError", h, err)
		}
		if list, err := s.List(ctx(t), h, tasks.Query{Limit: 10}); len(list) != 0 || err != nil && !errors.Is(err, tasks.ErrInvalid) {
			t.Errorf("List as %.60q: %d tasks, %v; want none, and no error or an InvalidError", h, len(list), err)
		}
		if h.TenantID == owner.TenantID {
			continue // the tenant's view rightly holds the task
		}
		if list, err := s.ListTenant(ctx(t), h.TenantID, tasks.Query{Limit: 10}); len(list) != 0 || err != nil && !errors.Is(err, tasks.ErrInvalid) {
			t.Errorf("ListTenant(%.60q): %d tasks, %v; want none, and no error or an InvalidError", h.TenantID, len(list), err)
		}
	}
	got, err := s.Get(ctx(t), owner, task.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := same(got, task); diff != "" {
		t.Errorf("hostile owners changed the task: %s", diff)
	}
}

func testBadQueries(t testing.TB, s tasks.Store) {
	c := newClock()
	owner := newOwner(guid())
	task := create(t, s, draft(t, c, owner, "real"))
	for _, q := range []tasks.Query{
		{Limit: 0}, {Limit: -1}, {Limit: tasks.MaxLimit + 1},
		{Limit: 10, After: "' or RowKey ne '"}, {Limit: 10, After: "a/b"}, {Limit: 10, After: strings.Repeat("z", 2048)},
		{Limit: 10, After: strings.ToUpper(task.ID)},
	} {
		if list, err := s.List(ctx(t), owner, q); !errors.Is(err, tasks.ErrInvalid) || len(list) != 0 {
			t.Errorf("List(limit %d, after %.40q): %d tasks, %v; want an InvalidError", q.Limit, q.After, len(list), err)
		}
		if list, err := s.ListTenant(ctx(t), owner.TenantID, q); !errors.Is(err, tasks.ErrInvalid) || len(list) != 0 {
			t.Errorf("ListTenant(limit %d, after %.40q): %d tasks, %v; want an InvalidError", q.Limit, q.After, len(list), err)
		}
	}
}

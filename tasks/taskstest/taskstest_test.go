package taskstest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/tasks"
)

func TestMemory(t *testing.T) {
	TestStore(t, func(testing.TB) tasks.Store { return NewMemory() })
}

func TestCheckPassesMemory(t *testing.T) {
	if err := Check(t, func(testing.TB) tasks.Store { return NewMemory() }); err != nil {
		t.Errorf("Check fails the memory store, which TestStore passes:\n%v", err)
	}
}

// Broken stores, each with one hole in the ownership or concurrency rule
// the contract is for.

// ignoresOwner finds a task by its id in every partition: the bug of a
// store keyed on the id alone.
type ignoresOwner struct{ *Memory }

func (s ignoresOwner) Get(ctx context.Context, owner tasks.Owner, id string) (tasks.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, part := range s.tasks {
		if t, ok := part[id]; ok {
			return t, nil
		}
	}
	return tasks.Task{}, tasks.ErrNotFound
}

// ignoresTenant finds a task by object id and id, in any tenant.
type ignoresTenant struct{ *Memory }

func (s ignoresTenant) Get(ctx context.Context, owner tasks.Owner, id string) (tasks.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for o, part := range s.tasks {
		if t, ok := part[id]; ok && o.ObjectID == owner.ObjectID {
			return t, nil
		}
	}
	return tasks.Task{}, tasks.ErrNotFound
}

// ignoresIfMatch writes whatever version the caller read.
type ignoresIfMatch struct{ *Memory }

func (s ignoresIfMatch) Update(ctx context.Context, t tasks.Task, _ string) (tasks.Task, error) {
	return s.Memory.Update(ctx, t, "")
}

func (s ignoresIfMatch) Delete(ctx context.Context, owner tasks.Owner, id, _ string) error {
	return s.Memory.Delete(ctx, owner, id, "")
}

// merges keeps the old notes and due date when an update clears them.
type merges struct{ *Memory }

func (s merges) Update(ctx context.Context, t tasks.Task, v string) (tasks.Task, error) {
	if cur, err := s.Memory.Get(ctx, t.Owner, t.ID); err == nil {
		if t.Notes == "" {
			t.Notes = cur.Notes
		}
		if t.Due.IsZero() {
			t.Due = cur.Due
		}
	}
	return s.Memory.Update(ctx, t, v)
}

func TestCheckFailsBrokenStores(t *testing.T) {
	for _, tc := range []struct {
		name  string
		open  func() tasks.Store
		fails []string // cases that must report the hole
	}{
		{"ignores the owner on Get", func() tasks.Store { return ignoresOwner{NewMemory()} }, []string{"OwnersIsolated", "TenantsIsolated"}},
		{"ignores the tenant on Get", func() tasks.Store { return ignoresTenant{NewMemory()} }, []string{"TenantsIsolated"}},
		{"ignores If-Match", func() tasks.Store { return ignoresIfMatch{NewMemory()} }, []string{"StaleVersion", "ConcurrentUpdates"}},
		{"merges instead of replacing", func() tasks.Store { return merges{NewMemory()} }, []string{"ClearFields"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(t, func(testing.TB) tasks.Store { return tc.open() })
			if err == nil {
				t.Fatal("Check passed a broken store")
			}
			var failed []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				name, _, _ := strings.Cut(e.Error(), ":")
				failed = append(failed, name)
			}
			for _, want := range tc.fails {
				if !contains(failed, want) {
					t.Errorf("case %s did not fail; the failures were:\n%v", want, err)
				}
			}
			t.Logf("the contract's report:\n%v", err)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var _ = errors.Is

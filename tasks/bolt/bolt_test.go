package bolt

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/tasks"
	"github.com/entrafunc/entrafunc/tasks/taskstest"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	// One file for every case, as the handler has: the cases' tenants
	// are their own.
	s := open(t, filepath.Join(t.TempDir(), "tasks.db"))
	taskstest.TestStore(t, func(testing.TB) tasks.Store { return s })
}

func TestPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tasks.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	svc := tasks.NewService(s, tasks.Options{})
	c, _ := tasks.NewCaller("72f988bf-86f1-41af-91ab-2d7cd011db47", "9188040d-6c67-4c5b-b112-36a304b66dad", false)
	ctx := context.Background()
	created, err := svc.Create(ctx, c, tasks.Draft{Title: "survives", Due: tasks.Date{Year: 2027, Month: 3, Day: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	got, err := tasks.NewService(s, tasks.Options{}).Get(ctx, c, created.ID)
	if err != nil {
		t.Fatalf("Get after reopening: %v", err)
	}
	if got != created {
		t.Errorf("after reopening: %+v, want %+v", got, created)
	}
	// The counter goes on from where it was: a new version is new.
	got.Title = "changed"
	updated, err := s.Update(ctx, got, got.Version)
	if err != nil || updated.Version == created.Version {
		t.Errorf("Update after reopening: version %q (was %q), %v", updated.Version, created.Version, err)
	}
}

func TestSecondOpenFailsAtOnce(t *testing.T) {
	// bbolt locks the file with flock, which also holds between two opens
	// in one process: this stands for a second handler on the same file.
	path := filepath.Join(t.TempDir(), "tasks.db")
	open(t, path)
	done := make(chan error, 1)
	go func() {
		s, err := Open(path)
		if err == nil {
			s.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a second Open of a held file succeeded")
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "in use by another process") {
			t.Errorf("the error does not say which file is held, and why: %v", err)
		}
	case <-time.After(time.Minute):
		// bbolt waits lockWait (100 ms); a minute is no plausible speed.
		t.Fatal("a second Open of a held file hung")
	}
}

func TestOpenBadPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "dir", "tasks.db")
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open in a missing folder: %v, want an error naming %s", err, path)
	}
}

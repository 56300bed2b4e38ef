// Package bolt is a [tasks.Store] in one local file, over bbolt: the
// embedded store for development and single-instance use. It is no store
// for Azure, whose instances share no disk; the handler refuses to open
// it there.
//
// The file holds one bucket, "tasks", with a bucket per tenant, and in it
// a bucket per owner, whose keys are task ids and whose values are JSON.
// bbolt's cursors walk keys in byte order, which is id order (see the
// tasks package). Version is 128 random bits, new on every write, so
// that it tells nothing about other users' writes. Every write is one
// transaction, synced to disk before it returns (bbolt's default).
package bolt

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/entrafunc/entrafunc/tasks"
)

// lockWait is how long Open waits for another process to let go of the
// file: enough for one that is just closing it, short enough that a
// second handler on the same file fails at once rather than hangs.
const lockWait = 100 * time.Millisecond

var rootBucket = []byte("tasks")

// Store is a tasks.Store in a bbolt file. It is safe for concurrent use.
type Store struct {
	db   *bbolt.DB
	path string
}

var _ tasks.Store = (*Store)(nil)

// Open opens the store in the file at path, creating it (mode 0600) when
// missing. Only one process can hold the file: a second fails here with
// an error that names it.
func Open(path string) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockWait})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("tasks store %s is in use by another process (only one handler can open it; stop the other one or set TASKS_STORE_FILE to another file)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("tasks store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(rootBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("tasks store %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// Close closes the file, after the transactions in progress end.
func (s *Store) Close() error { return s.db.Close() }

// Path is the file's path.
func (s *Store) Path() string { return s.path }

// record is a task as the file keeps it; the owner and id are its keys.
type record struct {
	Title   string     `json:"title"`
	Notes   string     `json:"notes,omitempty"`
	Due     tasks.Date `json:"due,omitzero"`
	Done    bool       `json:"done"`
	Created time.Time  `json:"created"`
	Updated time.Time  `json:"updated"`
	Version string     `json:"version"`
}

func encode(t tasks.Task) ([]byte, error) {
	return json.Marshal(record{Title: t.Title, Notes: t.Notes, Due: t.Due, Done: t.Done,
		Created: t.Created.UTC(), Updated: t.Updated.UTC(), Version: t.Version})
}

func decode(owner tasks.Owner, id string, b []byte) (tasks.Task, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return tasks.Task{}, fmt.Errorf("tasks store: task %s: %w", id, err)
	}
	return tasks.Task{ID: id, Owner: owner, Title: r.Title, Notes: r.Notes, Due: r.Due, Done: r.Done,
		Created: r.Created.UTC(), Updated: r.Updated.UTC(), Version: r.Version}, nil
}

// partition returns owner's bucket, nil when it has none; create makes it.
func partition(tx *bbolt.Tx, owner tasks.Owner, create bool) (*bbolt.Bucket, error) {
	root := tx.Bucket(rootBucket)
	if !create {
		tb := root.Bucket([]byte(owner.TenantID))
		if tb == nil {
			return nil, nil
		}
		return tb.Bucket([]byte(owner.ObjectID)), nil
	}
	tb, err := root.CreateBucketIfNotExists([]byte(owner.TenantID))
	if err != nil {
		return nil, err
	}
	return tb.CreateBucketIfNotExists([]byte(owner.ObjectID))
}

// nextVersion makes a new version: 128 random bits, in base64url. Not a
// counter: a counter shared by the file would let any user read, from
// two of their own ETags, how many writes everyone else made between
// them; and a per-task one would repeat a version after a delete and a
// re-create under the same id (which ids make unlikely, not impossible).
func nextVersion(*bbolt.Tx) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Create implements tasks.Store.
func (s *Store) Create(ctx context.Context, t tasks.Task) (tasks.Task, error) {
	if err := tasks.CheckNew(t); err != nil {
		return tasks.Task{}, err
	}
	if err := ctx.Err(); err != nil {
		return tasks.Task{}, err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := partition(tx, t.Owner, true)
		if err != nil {
			return err
		}
		if b.Get([]byte(t.ID)) != nil {
			return tasks.ErrConflict
		}
		return write(tx, b, &t)
	})
	if err != nil {
		return tasks.Task{}, err
	}
	return t, nil
}

// write puts t into b under a new version, which it sets on t.
func write(tx *bbolt.Tx, b *bbolt.Bucket, t *tasks.Task) error {
	var err error
	if t.Version, err = nextVersion(tx); err != nil {
		return err
	}
	v, err := encode(*t)
	if err != nil {
		return err
	}
	return b.Put([]byte(t.ID), v)
}

// Get implements tasks.Store.
func (s *Store) Get(ctx context.Context, owner tasks.Owner, id string) (tasks.Task, error) {
	if !tasks.Addressable(owner, id) {
		return tasks.Task{}, tasks.ErrNotFound
	}
	if err := ctx.Err(); err != nil {
		return tasks.Task{}, err
	}
	var t tasks.Task
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, _ := partition(tx, owner, false)
		if b == nil {
			return tasks.ErrNotFound
		}
		v := b.Get([]byte(id))
		if v == nil {
			return tasks.ErrNotFound
		}
		var err error
		t, err = decode(owner, id, v)
		return err
	})
	return t, err
}

// List implements tasks.Store.
func (s *Store) List(ctx context.Context, owner tasks.Owner, q tasks.Query) ([]tasks.Task, error) {
	if err := tasks.CheckQuery(owner.TenantID, q); err != nil {
		return nil, err
	}
	if !owner.Valid() {
		return nil, &tasks.InvalidError{Field: tasks.FieldOwner, Reason: "must be canonical GUIDs"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []tasks.Task
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, _ := partition(tx, owner, false)
		if b == nil {
			return nil
		}
		var err error
		out, err = scan(b, owner, q, out)
		return err
	})
	return out, err
}

// ListTenant implements tasks.Store.
func (s *Store) ListTenant(ctx context.Context, tenantID string, q tasks.Query) ([]tasks.Task, error) {
	if err := tasks.CheckQuery(tenantID, q); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The tenant's owners in order, from the one q.After names; within
	// that one, after q.After, and within the next ones, from the first.
	var from string
	if q.After != "" {
		from, _ = tasks.IDOwner(q.After)
	}
	var out []tasks.Task
	err := s.db.View(func(tx *bbolt.Tx) error {
		tb := tx.Bucket(rootBucket).Bucket([]byte(tenantID))
		if tb == nil {
			return nil
		}
		c := tb.Cursor()
		for k, v := c.Seek([]byte(from)); k != nil && len(out) < q.Limit; k, v = c.Next() {
			if v != nil {
				continue // not a bucket: nothing but owners' buckets is here
			}
			owner := tasks.Owner{TenantID: tenantID, ObjectID: string(k)}
			oq := q
			if string(k) != from {
				oq.After = ""
			}
			oq.Limit = q.Limit - len(out)
			var err error
			if out, err = scan(tb.Bucket(k), owner, oq, out); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// scan appends to out the tasks of owner's bucket b after q.After that
// pass q.Done, until out holds q.Limit more.
func scan(b *bbolt.Bucket, owner tasks.Owner, q tasks.Query, out []tasks.Task) ([]tasks.Task, error) {
	want := len(out) + q.Limit
	c := b.Cursor()
	k, v := c.First()
	if q.After != "" {
		k, v = c.Seek([]byte(q.After))
		if k != nil && string(k) == q.After {
			k, v = c.Next()
		}
	}
	for ; k != nil && len(out) < want; k, v = c.Next() {
		t, err := decode(owner, string(k), v)
		if err != nil {
			return nil, err
		}
		if q.Done == nil || t.Done == *q.Done {
			out = append(out, t)
		}
	}
	return out, nil
}

// Update implements tasks.Store.
func (s *Store) Update(ctx context.Context, t tasks.Task, ifVersion string) (tasks.Task, error) {
	if !tasks.Addressable(t.Owner, t.ID) {
		return tasks.Task{}, tasks.ErrNotFound
	}
	if err := ctx.Err(); err != nil {
		return tasks.Task{}, err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := current(tx, t.Owner, t.ID, ifVersion)
		if err != nil {
			return err
		}
		return write(tx, b, &t)
	})
	if err != nil {
		return tasks.Task{}, err
	}
	return t, nil
}

// Delete implements tasks.Store.
func (s *Store) Delete(ctx context.Context, owner tasks.Owner, id, ifVersion string) error {
	if !tasks.Addressable(owner, id) {
		return tasks.ErrNotFound
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := current(tx, owner, id, ifVersion)
		if err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
}

// current returns the bucket that holds owner's task id, after checking
// that the task exists and, when ifVersion is not empty, is at that
// version.
func current(tx *bbolt.Tx, owner tasks.Owner, id, ifVersion string) (*bbolt.Bucket, error) {
	b, _ := partition(tx, owner, false)
	if b == nil {
		return nil, tasks.ErrNotFound
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, tasks.ErrNotFound
	}
	if ifVersion == "" {
		return b, nil
	}
	cur, err := decode(owner, id, v)
	if err != nil {
		return nil, err
	}
	if cur.Version != ifVersion {
		return nil, tasks.ErrConflict
	}
	return b, nil
}

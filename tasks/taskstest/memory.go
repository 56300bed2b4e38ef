package taskstest

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/entrafunc/entrafunc/tasks"
)

// Memory is a [tasks.Store] in memory, for the tests of the service and
// of the api. It passes [TestStore].
type Memory struct {
	mu      sync.Mutex
	tasks   map[tasks.Owner]map[string]tasks.Task
	version uint64
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{tasks: map[tasks.Owner]map[string]tasks.Task{}}
}

var _ tasks.Store = (*Memory)(nil)

func (m *Memory) nextVersion() string {
	m.version++
	return strconv.FormatUint(m.version, 10)
}

// Create implements tasks.Store.
func (m *Memory) Create(ctx context.Context, t tasks.Task) (tasks.Task, error) {
	if err := tasks.CheckNew(t); err != nil {
		return tasks.Task{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	part := m.tasks[t.Owner]
	if part == nil {
		part = map[string]tasks.Task{}
		m.tasks[t.Owner] = part
	}
	if _, ok := part[t.ID]; ok {
		return tasks.Task{}, tasks.ErrConflict
	}
	t.Version = m.nextVersion()
	part[t.ID] = t
	return t, nil
}

// Get implements tasks.Store.
func (m *Memory) Get(ctx context.Context, owner tasks.Owner, id string) (tasks.Task, error) {
	if !tasks.Addressable(owner, id) {
		return tasks.Task{}, tasks.ErrNotFound
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tasks[owner][id]
	if !ok {
		return tasks.Task{}, tasks.ErrNotFound
	}
	return t, nil
}

// List implements tasks.Store.
func (m *Memory) List(ctx context.Context, owner tasks.Owner, q tasks.Query) ([]tasks.Task, error) {
	if err := tasks.CheckQuery(owner.TenantID, q); err != nil {
		return nil, err
	}
	if !owner.Valid() {
		return nil, &tasks.InvalidError{Field: tasks.FieldOwner, Reason: "must be canonical GUIDs"}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return page(m.tasks[owner], q), nil
}

// ListTenant implements tasks.Store.
func (m *Memory) ListTenant(ctx context.Context, tenantID string, q tasks.Query) ([]tasks.Task, error) {
	if err := tasks.CheckQuery(tenantID, q); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	all := map[string]tasks.Task{}
	for owner, part := range m.tasks {
		if owner.TenantID == tenantID {
			for id, t := range part {
				all[id] = t
			}
		}
	}
	return page(all, q), nil
}

// page returns up to q.Limit of tasks after q.After, by id.
func page(part map[string]tasks.Task, q tasks.Query) []tasks.Task {
	ids := make([]string, 0, len(part))
	for id := range part {
		if id > q.After {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []tasks.Task
	for _, id := range ids {
		t := part[id]
		if q.Done != nil && t.Done != *q.Done {
			continue
		}
		out = append(out, t)
		if len(out) == q.Limit {
			break
		}
	}
	return out
}

// Update implements tasks.Store.
func (m *Memory) Update(ctx context.Context, t tasks.Task, ifVersion string) (tasks.Task, error) {
	if !tasks.Addressable(t.Owner, t.ID) {
		return tasks.Task{}, tasks.ErrNotFound
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.tasks[t.Owner][t.ID]
	if !ok {
		return tasks.Task{}, tasks.ErrNotFound
	}
	if ifVersion != "" && ifVersion != cur.Version {
		return tasks.Task{}, tasks.ErrConflict
	}
	t.Version = m.nextVersion()
	m.tasks[t.Owner][t.ID] = t
	return t, nil
}

// Delete implements tasks.Store.
func (m *Memory) Delete(ctx context.Context, owner tasks.Owner, id, ifVersion string) error {
	if !tasks.Addressable(owner, id) {
		return tasks.ErrNotFound
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.tasks[owner][id]
	if !ok {
		return tasks.ErrNotFound
	}
	if ifVersion != "" && ifVersion != cur.Version {
		return tasks.ErrConflict
	}
	delete(m.tasks[owner], id)
	return nil
}

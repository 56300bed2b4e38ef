package run

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/entrafunc/entrafunc/bench/internal/report"
	"github.com/entrafunc/entrafunc/internal/entratest"
)

// TestStoreFilePerProcess: every process of a server, a cold start beside
// the running one included, gets a file of its own, which stop deletes
// after noting its size.
func TestStoreFilePerProcess(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	var got []string
	var mu sync.Mutex
	s := server{key: "handler", name: "fake", bin: sleep, args: []string{"60"}, storeDir: dir,
		env: func(port int, store string) []string {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, store)
			return nil
		}}
	a, err := start(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.stop()
	b, err := start(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.stop()
	if a.store == b.store || filepath.Dir(a.store) != dir || filepath.Dir(b.store) != dir || !slices.Equal(got, []string{a.store, b.store}) {
		t.Fatalf("store files %q and %q in %s (env got %q)", a.store, b.store, dir, got)
	}
	// The handler would create it; here the test does.
	if err := os.WriteFile(a.store, make([]byte, 1234), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := a.storeSize(); n != 1234 {
		t.Errorf("size while running %d", n)
	}
	path := a.store
	a.stop()
	a.stop() // twice, as the run's deferred stop may
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", path, err)
	}
	if n := a.storeSize(); n != 1234 {
		t.Errorf("size after stop %d", n)
	}
	// A server without a store dir gets no file.
	s.storeDir = ""
	c, err := start(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	if c.store != "" || got[len(got)-1] != "" {
		t.Errorf("no store dir, yet the file %q", c.store)
	}
}

// TestEnvStore: every handler process runs the embedded store on the
// file it is given; the peers get no tasks settings.
func TestEnvStore(t *testing.T) {
	is, err := entratest.Start(entratest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	for _, tc := range []struct {
		key   string
		store bool
	}{
		{report.Handler, true}, {"handler-nocache", true}, {"handler-tags-netgo", true},
		{report.TasksList, true}, {report.TasksCreate, true},
		{report.Ceiling, false}, {report.GoPeer, false}, {report.Node, false},
	} {
		t.Run(tc.key, func(t *testing.T) {
			env := envFor(server{key: tc.key}, is)(8080, "/tmp/x/a.db")
			has := slices.Contains(env, "TASKS_STORE_FILE=/tmp/x/a.db") && slices.Contains(env, "TASKS_STORE=embedded")
			if has != tc.store {
				t.Errorf("store settings %v, want %v: %q", has, tc.store, env)
			}
			if !strings.HasPrefix(env[0], "PATH=") {
				t.Errorf("env %q", env)
			}
		})
	}
}

// fakeTasks is the Tasks API as far as the checks use it, with faults to
// inject.
type fakeTasks struct {
	mu      sync.Mutex
	ids     []string
	extra   int  // tasks listed beyond those created
	open    bool // answers without a token
	created int
}

func (f *fakeTasks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer tok" && !f.open {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch r.Method {
	case http.MethodPost:
		var body struct{ Title string }
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.created++
		id := fmt.Sprintf("id%d", f.created)
		f.ids = append(f.ids, id)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": id, "title": body.Title, "owner": "me"})
	case http.MethodGet:
		var list []map[string]any
		for _, id := range f.ids {
			list = append(list, map[string]any{"id": id, "title": "x", "owner": "me"})
		}
		for i := range f.extra {
			list = append(list, map[string]any{"id": fmt.Sprintf("other%d", i)})
		}
		json.NewEncoder(w).Encode(map[string]any{"value": list})
	}
}

func TestTasksChecks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fake      *fakeTasks
		check     func(context.Context, *proc, string) (int64, error)
		wantErr   string
		wantTasks int64
	}{
		{name: "seed", fake: &fakeTasks{}, check: seedTasks, wantTasks: listedTasks},
		{name: "seed, a task too many", fake: &fakeTasks{extra: 1}, check: seedTasks, wantErr: "listed 21 tasks"},
		{name: "seed, open route", fake: &fakeTasks{open: true}, check: seedTasks, wantErr: "want 401"},
		{name: "create", fake: &fakeTasks{}, check: checkCreate, wantTasks: 1},
		{name: "create, open route", fake: &fakeTasks{open: true}, check: checkCreate, wantErr: "want 401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.fake)
			defer srv.Close()
			p := &proc{srv: server{name: "fake"}, port: srv.Listener.Addr().(*net.TCPAddr).Port}
			n, err := tc.check(context.Background(), p, "tok")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.fake.mu.Lock()
			created := tc.fake.created
			tc.fake.mu.Unlock()
			if p.tasks != tc.wantTasks || int(p.tasks) != created || n < p.tasks+1 {
				t.Errorf("%d requests, %d tasks counted, %d created; want %d", n, p.tasks, created, tc.wantTasks)
			}
		})
	}
}

// TestWithHeader: the shared request templates are never written to.
func TestWithHeader(t *testing.T) {
	before := len(createTask.Header)
	got := withHeader(createTask, map[string]string{"Authorization": "Bearer x"})
	if len(createTask.Header) != before || got.Header["Authorization"] != "Bearer x" || got.Header["Content-Type"] != "application/json" {
		t.Errorf("template %v, result %v", createTask.Header, got.Header)
	}
	if h := withHeader(createTask, nil).Header; len(h) != before {
		t.Errorf("%v", h)
	}
	if c := creates(server{req: createTask}, 7); c != 7 {
		t.Errorf("creates %d", c)
	}
	if c := creates(server{req: withHeader(createTask, nil)}, 7); c != 7 {
		t.Errorf("creates with header %d", c)
	}
}

package azuretable

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/internal/azuritetest"
	"github.com/entrafunc/entrafunc/tasks"
	"github.com/entrafunc/entrafunc/tasks/taskstest"
)

// newTableName is a table of the test's own.
func newTableName() string {
	var b [8]byte
	rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:])
}

// openOn returns a store on a new table of Azurite a, through
// UseDevelopmentStorage=true.
func openOn(t testing.TB, a *azuritetest.Server, o Options) *Store {
	t.Helper()
	o.DevelopmentEndpoint = a.Endpoint()
	s, err := NewFromConnectionString("UseDevelopmentStorage=true", newTableName(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	a := startAzurite(t)
	// A table per case: each case's first Create finds no table and
	// makes it.
	taskstest.TestStore(t, func(tb testing.TB) tasks.Store { return openOn(tb, a, Options{}) })
}

var (
	tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	oid    = "9188040d-6c67-4c5b-b112-36a304b66dad"
)

func TestVersionIsTheETagOpaque(t *testing.T) {
	t.Parallel()
	a := startAzurite(t)
	s := openOn(t, a, Options{})
	c, _ := tasks.NewCaller(tenant, oid, false)
	task, err := tasks.NewService(s, tasks.Options{}).Create(context.Background(), c, tasks.Draft{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	etag, err := base64.RawURLEncoding.DecodeString(task.Version)
	if err != nil || !strings.HasPrefix(string(etag), `W/"datetime'`) {
		t.Errorf("Version %q decodes to %q, %v; want the service's ETag", task.Version, etag, err)
	}
	if strings.ContainsAny(task.Version, `"/ \`) {
		t.Errorf("Version %q is not usable as a strong ETag as it is", task.Version)
	}
}

func TestMissingTable(t *testing.T) {
	t.Parallel()
	a := startAzurite(t)
	s := openOn(t, a, Options{})
	ctx := context.Background()
	owner := tasks.Owner{TenantID: tenant, ObjectID: oid}
	id, _ := tasks.NewID(oid, time.Now(), rand.Reader)
	if _, err := s.Get(ctx, owner, id); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Get without a table: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, owner, id, ""); !errors.Is(err, tasks.ErrNotFound) {
		t.Errorf("Delete without a table: %v, want ErrNotFound", err)
	}
	list, err := s.ListTenant(ctx, tenant, tasks.Query{Limit: 10})
	if err != nil || len(list) != 0 {
		t.Errorf("ListTenant without a table: %d, %v; want none", len(list), err)
	}
	if err := s.Ensure(ctx); err != nil {
		t.Errorf("Ensure: %v", err)
	}
	if err := s.Ensure(ctx); err != nil {
		t.Errorf("Ensure of an existing table: %v", err)
	}
}

// TestAzuriteStops is the fault test: the store goes away in the middle
// of a run, its calls fail as unavailable in bounded time, and the same
// Store works again once a new Azurite listens on the same port.
func TestAzuriteStops(t *testing.T) {
	t.Parallel()
	a := startAzurite(t)
	s := openOn(t, a, Options{Timeout: 5 * time.Second})
	svc := tasks.NewService(s, tasks.Options{})
	c, _ := tasks.NewCaller(tenant, oid, false)
	ctx := context.Background()
	task, err := svc.Create(ctx, c, tasks.Draft{Title: "before"})
	if err != nil {
		t.Fatal(err)
	}

	a.Stop()
	calls := map[string]func() error{
		"Create": func() error { _, err := svc.Create(ctx, c, tasks.Draft{Title: "during"}); return err },
		"Get":    func() error { _, err := svc.Get(ctx, c, task.ID); return err },
		"List":   func() error { _, err := svc.List(ctx, c, tasks.ListOptions{}); return err },
		"Update": func() error { _, err := svc.Update(ctx, c, task.ID, tasks.Patch{Title: &task.Title}, ""); return err },
		"Delete": func() error { return svc.Delete(ctx, c, task.ID, "") },
	}
	// The calls are independent, so they wait out the SDK's retries side
	// by side; the group ends when all have, before the restart.
	t.Run("stopped", func(t *testing.T) {
		for name, call := range calls {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				// Refused connections fail at once, and the SDK's two
				// retries take about a second; a minute is no plausible
				// speed.
				within(t, time.Minute, name+" with Azurite stopped", func() {
					err := call()
					var ue *tasks.UnavailableError
					if !errors.As(err, &ue) || ue.Reason != "store_unreachable" {
						t.Errorf("%s with Azurite stopped: %v; want ErrUnavailable, store_unreachable", name, err)
					}
					if d, ok := tasks.RetryAfter(err); !ok || d < time.Second {
						t.Errorf("%s: retry hint %v, %v", name, d, ok)
					}
				})
			})
		}
	})

	a.Restart()
	// An in-memory Azurite forgets everything: the table is made again
	// by the first create, by the same Store.
	within(t, time.Minute, "Create after the restart", func() {
		again, err := svc.Create(ctx, c, tasks.Draft{Title: "after"})
		if err != nil {
			t.Errorf("Create after the restart: %v", err)
			return
		}
		got, err := svc.Get(ctx, c, again.ID)
		if err != nil || got.Title != "after" {
			t.Errorf("Get after the restart: %+v, %v", got, err)
		}
	})
}

// fake is a table service that answers every request with answer.
func fake(t *testing.T, timeout time.Duration, answer http.HandlerFunc) (*Store, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	s, err := NewFromConnectionString("UseDevelopmentStorage=true", "tasks", Options{
		DevelopmentEndpoint: srv.URL + "/" + DevelopmentAccount,
		Timeout:             timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, &n
}

func TestThrottledAndFailing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int
		header     [2]string
		wantReason string
		wantAfter  time.Duration
	}{
		{"503 with a hint in ms", http.StatusServiceUnavailable, [2]string{"x-ms-retry-after-ms", "3000"}, "store_throttled", 3 * time.Second},
		{"429 with Retry-After", http.StatusTooManyRequests, [2]string{"Retry-After", "7"}, "store_throttled", 7 * time.Second},
		{"503 without a hint", http.StatusServiceUnavailable, [2]string{}, "store_throttled", tasks.DefaultRetryAfter},
		{"500 OperationTimedOut", http.StatusInternalServerError, [2]string{}, "store_failed", tasks.DefaultRetryAfter},
		{"403 for a missing role", http.StatusForbidden, [2]string{}, "store_forbidden", tasks.DefaultRetryAfter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The SDK retries twice, soon; the timeout leaves room for that.
			s, _ := fake(t, 30*time.Second, func(w http.ResponseWriter, r *http.Request) {
				if tc.header[0] != "" {
					w.Header().Set(tc.header[0], tc.header[1])
				}
				w.Header().Set("x-ms-error-code", "ServerBusy")
				w.WriteHeader(tc.status)
			})
			id, _ := tasks.NewID(oid, time.Now(), rand.Reader)
			within(t, time.Minute, "Get", func() {
				_, err := s.Get(context.Background(), tasks.Owner{TenantID: tenant, ObjectID: oid}, id)
				var ue *tasks.UnavailableError
				if !errors.As(err, &ue) || ue.Reason != tc.wantReason {
					t.Errorf("Get: %v; want ErrUnavailable, %s", err, tc.wantReason)
					return
				}
				if d, _ := tasks.RetryAfter(err); d != tc.wantAfter {
					t.Errorf("retry hint %v, want %v", d, tc.wantAfter)
				}
			})
		})
	}
}

func TestSlowStoreTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s, _ := fake(t, 500*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	id, _ := tasks.NewID(oid, time.Now(), rand.Reader)
	within(t, time.Minute, "Get from a store that never answers", func() {
		_, err := s.Get(context.Background(), tasks.Owner{TenantID: tenant, ObjectID: oid}, id)
		var ue *tasks.UnavailableError
		if !errors.As(err, &ue) || ue.Reason != "store_timeout" {
			t.Errorf("Get: %v; want ErrUnavailable, store_timeout", err)
		}
	})
	// The caller's own cancellation is not the store's fault.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Get(ctx, tasks.Owner{TenantID: tenant, ObjectID: oid}, id); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestNoRequestForWhatCannotBeAKey(t *testing.T) {
	t.Parallel()
	s, n := fake(t, time.Second, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	ctx := context.Background()
	owner := tasks.Owner{TenantID: tenant, ObjectID: oid}
	for _, id := range []string{"a/b", "'", "%2F", strings.Repeat("a", 2048)} {
		s.Get(ctx, owner, id)
		s.Delete(ctx, owner, id, "")
		s.Update(ctx, tasks.Task{ID: id, Owner: owner, Title: "x"}, "")
	}
	s.List(ctx, tasks.Owner{TenantID: "' or PartitionKey ne '", ObjectID: oid}, tasks.Query{Limit: 5})
	s.ListTenant(ctx, "' or PartitionKey ne '", tasks.Query{Limit: 5})
	if n.Load() != 0 {
		t.Errorf("%d requests reached the table service", n.Load())
	}
}

func TestEtagOf(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{enc(`W/"datetime'2026-12-05T22%3A50%3A47.5759046Z'"`), true},
		{enc(`"0x8DC"`), true},
		{enc(`*`), false},
		{enc(`W/"`), false},
		{enc(`W/""`), true},
		{enc(`"a"b"`), false},
		{enc(`x"a"`), false},
		{enc(`"a b"`), false},
		{enc("\"a\x00\""), false},
		{`W/"x"`, false},
		{"", false},
	} {
		if _, ok := etagOf(tc.v); ok != tc.ok {
			t.Errorf("etagOf(%q) ok = %v, want %v", tc.v, ok, tc.ok)
		}
	}
}

// TestFollowsContinuation holds the store to what Table storage does and
// Azurite does not: a page cut short, even empty, with a continuation.
func TestFollowsContinuation(t *testing.T) {
	t.Parallel()
	id, _ := tasks.NewID(oid, time.Now(), rand.Reader)
	entity := `{"odata.etag":"W/\"datetime'2026-12-05T22%3A50%3A47.5759046Z'\"","PartitionKey":"` + tenant + "_" + oid +
		`","RowKey":"` + id + `","Title":"t","Done":false,"Created@odata.type":"Edm.DateTime","Created":"2026-12-05T22:50:47.123Z","Updated@odata.type":"Edm.DateTime","Updated":"2026-12-05T22:50:47.123Z"}`
	var mu sync.Mutex
	var queries []string
	s, _ := fake(t, 30*time.Second, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json;odata=minimalmetadata")
		if r.URL.Query().Get("NextRowKey") == "" {
			w.Header().Set("x-ms-continuation-NextPartitionKey", "1!8!cGFydA--")
			w.Header().Set("x-ms-continuation-NextRowKey", "1!8!cm93")
			w.Write([]byte(`{"value":[]}`))
			return
		}
		w.Write([]byte(`{"value":[` + entity + `]}`))
	})
	list, err := s.List(context.Background(), tasks.Owner{TenantID: tenant, ObjectID: oid}, tasks.Query{Limit: 10})
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("List over an empty first page: %+v, %v; want the second page's task", list, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(queries) != 2 || !strings.Contains(queries[1], "NextPartitionKey=1%218%21cGFydA--") {
		t.Errorf("queries %q: want a second one carrying the continuation", queries)
	}
	if want := "W/\"datetime'2026-12-05T22%3A50%3A47.5759046Z'\""; list[0].Version != base64.RawURLEncoding.EncodeToString([]byte(want)) {
		t.Errorf("Version %q is not the entity's ETag", list[0].Version)
	}
}

// TestFailureHidesTheSAS: a SAS connection's requests carry the signature
// in their URL's query, which net/http's error quotes; the error the
// store returns, which the request log prints, must not.
func TestFailureHidesTheSAS(t *testing.T) {
	t.Parallel()
	s, err := NewFromConnectionString("TableEndpoint=http://127.0.0.1:1/acct;SharedAccessSignature=sv=2022-11-02&sig=TOPSECRETSIG", "tasks", Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	svc := tasks.NewService(s, tasks.Options{})
	c, _ := tasks.NewCaller(tenant, oid, false)
	for name, call := range map[string]func() error{
		"Create": func() error { _, err := svc.Create(context.Background(), c, tasks.Draft{Title: "x"}); return err },
		"List":   func() error { _, err := svc.List(context.Background(), c, tasks.ListOptions{}); return err },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			within(t, time.Minute, name, func() {
				err := call()
				var ue *tasks.UnavailableError
				if !errors.As(err, &ue) {
					t.Errorf("%s: %v, want an UnavailableError", name, err)
					return
				}
				if msg := err.Error(); strings.Contains(msg, "TOPSECRETSIG") || strings.Contains(msg, "sig=") {
					t.Errorf("%s: the error shows the SAS: %s", name, msg)
				}
			})
		})
	}
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/tasks"
	"github.com/entrafunc/entrafunc/tasks/taskstest"
)

// The callers of the Tasks tests, by token: users A and B of one tenant,
// an administrator of that tenant (the role in a delegated token), an
// app-only caller with and without the role, another tenant's
// administrator, and an Easy Auth-like principal whose oid is no GUID.
const (
	tenantT = "7d1e6c35-0b1f-4c8e-9a4b-2f5d3c1e0a11"
	tenantU = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
	oidA    = "a1a1a1a1-0000-4000-8000-00000000000a"
	oidB    = "b2b2b2b2-0000-4000-8000-00000000000b"
	oidAdm  = "adadadad-0000-4000-8000-0000000000ad"
	oidApp  = "c3c3c3c3-0000-4000-8000-0000000000c3"
	oidAdmU = "dddddddd-0000-4000-8000-0000000000dd"
)

var taskCallers = map[string]*auth.Principal{
	"tok-A":          {TenantID: tenantT, ObjectID: oidA, Scopes: []string{requiredScope}},
	"tok-B":          {TenantID: tenantT, ObjectID: oidB, Scopes: []string{requiredScope}},
	"tok-admin":      {TenantID: tenantT, ObjectID: oidAdm, Scopes: []string{requiredScope}, Roles: []string{TasksAdminRole}},
	"tok-app":        {TenantID: tenantT, ObjectID: oidApp, AppOnly: true, Roles: []string{TasksAdminRole}},
	"tok-app-norole": {TenantID: tenantT, ObjectID: oidApp, AppOnly: true, Roles: []string{"Other"}},
	"tok-adminU":     {TenantID: tenantU, ObjectID: oidAdmU, Scopes: []string{requiredScope}, Roles: []string{TasksAdminRole}},
	"tok-notguid":    {TenantID: tenantT, ObjectID: "' or PartitionKey ne '", Scopes: []string{requiredScope}},
}

// newTasksFixture serves Hello, Me and Tasks over an in-memory store.
func newTasksFixture(t testing.TB) *fixture {
	t.Helper()
	svc := tasks.NewService(taskstest.NewMemory(), tasks.Options{})
	return newFixture(t, func(o *Options) {
		o.Routes = Routes()
		o.Tasks = svc
		o.Authenticator = auth.AuthenticatorFunc(func(r *http.Request) (*auth.Principal, error) {
			tok, err := auth.BearerToken(r)
			if err != nil {
				return nil, err
			}
			if p, ok := taskCallers[tok]; ok {
				cp := *p
				cp.Source = auth.SourceJWT
				return &cp, nil
			}
			return nil, &auth.TokenError{Reason: "expired", Err: errors.New("expired")}
		})
	})
}

func jsonReq(method, target, token, body string) req {
	q := req{method: method, target: target, token: token}
	if body != "" {
		q.body, q.ctype = strings.NewReader(body), "application/json"
	}
	return q
}

// createTask creates a task as token and returns it with its ETag.
func createTask(t *testing.T, f *fixture, token, body string) (taskJSON, string) {
	t.Helper()
	w := f.do(t, jsonReq(http.MethodPost, "/api/tasks", token, body))
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var got taskJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if loc := w.Header().Get("Location"); loc != "/api/tasks/"+got.ID {
		t.Errorf("Location %q for id %q", loc, got.ID)
	}
	return got, w.Header().Get("ETag")
}

var strongETag = regexp.MustCompile(`^"[!#-~]+"$`)

func TestTasksCRUD(t *testing.T) {
	f := newTasksFixture(t)
	before := time.Now().UTC().Add(-time.Second)
	task, etag := createTask(t, f, "tok-A", `{"title":"Write the report","notes":"two pages\nno more","due":"2026-12-31"}`)
	if task.Title != "Write the report" || task.Notes != "two pages\nno more" || task.Due != "2026-12-31" || task.Done || task.Owner != oidA {
		t.Errorf("created %+v", task)
	}
	if !strongETag.MatchString(etag) {
		t.Errorf("ETag %q is not a strong entity tag", etag)
	}
	created, err := time.Parse(time.RFC3339, task.CreatedAt)
	if err != nil || created.Before(before) || !strings.HasSuffix(task.CreatedAt, "Z") || task.UpdatedAt != task.CreatedAt {
		t.Errorf("createdAt %q updatedAt %q", task.CreatedAt, task.UpdatedAt)
	}

	w := f.do(t, jsonReq(http.MethodGet, "/api/tasks/"+task.ID, "tok-A", ""))
	if w.Code != 200 || w.Header().Get("ETag") != etag {
		t.Fatalf("get: %d ETag %q, want 200 %q: %s", w.Code, w.Header().Get("ETag"), etag, w.Body)
	}

	// The literals fold; the id does not.
	if w := f.do(t, jsonReq(http.MethodGet, "/API/Tasks/"+task.ID, "tok-A", "")); w.Code != 200 {
		t.Errorf("get in other case: %d", w.Code)
	}
	if w := f.do(t, jsonReq(http.MethodGet, "/api/tasks/"+strings.ToUpper(task.ID), "tok-A", "")); w.Code != 404 {
		t.Errorf("get with the id upper-cased: %d, want 404", w.Code)
	}

	patch := jsonReq(http.MethodPatch, "/api/tasks/"+task.ID, "tok-A", `{"done":true,"notes":null}`)
	patch.headers = http.Header{"If-Match": {etag}}
	w = f.do(t, patch)
	if w.Code != 200 {
		t.Fatalf("patch: %d %s", w.Code, w.Body)
	}
	var updated taskJSON
	json.Unmarshal(w.Body.Bytes(), &updated)
	newTag := w.Header().Get("ETag")
	if !updated.Done || updated.Notes != "" || updated.Due != "2026-12-31" || updated.Title != task.Title || newTag == etag || !strongETag.MatchString(newTag) {
		t.Errorf("patched %+v ETag %q", updated, newTag)
	}
	if strings.Contains(w.Body.String(), `"notes"`) {
		t.Errorf("cleared notes still shown: %s", w.Body)
	}

	// The stale ETag: 412, and nothing changes.
	stale := jsonReq(http.MethodPatch, "/api/tasks/"+task.ID, "tok-A", `{"title":"lost"}`)
	stale.headers = http.Header{"If-Match": {etag}}
	if w := f.do(t, stale); w.Code != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d %s", w.Code, w.Body)
	}
	// A weak tag never matches strongly.
	weak := jsonReq(http.MethodPatch, "/api/tasks/"+task.ID, "tok-A", `{"title":"lost"}`)
	weak.headers = http.Header{"If-Match": {"W/" + newTag}}
	if w := f.do(t, weak); w.Code != http.StatusPreconditionFailed {
		t.Errorf("weak If-Match: %d %s", w.Code, w.Body)
	}
	// A list with the current tag matches.
	list := jsonReq(http.MethodPatch, "/api/tasks/"+task.ID, "tok-A", `{"title":"kept"}`)
	list.headers = http.Header{"If-Match": {etag + ", " + newTag}}
	if w := f.do(t, list); w.Code != 200 {
		t.Errorf("If-Match list with the current tag: %d %s", w.Code, w.Body)
	}
	w = f.do(t, jsonReq(http.MethodGet, "/api/tasks/"+task.ID, "tok-A", ""))
	if !strings.Contains(w.Body.String(), `"title":"kept"`) {
		t.Errorf("after the 412s: %s", w.Body)
	}

	del := jsonReq(http.MethodDelete, "/api/tasks/"+task.ID, "tok-A", "")
	del.headers = http.Header{"If-Match": {etag}}
	if w := f.do(t, del); w.Code != http.StatusPreconditionFailed {
		t.Errorf("delete with a stale ETag: %d", w.Code)
	}
	if w := f.do(t, jsonReq(http.MethodDelete, "/api/tasks/"+task.ID, "tok-A", "")); w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Errorf("delete: %d %q", w.Code, w.Body)
	}
	if w := f.do(t, jsonReq(http.MethodGet, "/api/tasks/"+task.ID, "tok-A", "")); w.Code != 404 {
		t.Errorf("get after delete: %d", w.Code)
	}
}

// withoutRequestID is a problem body without its requestId, which
// differs between any two requests and so tells nothing about the task.
func withoutRequestID(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	delete(m, "requestId")
	b, _ := json.Marshal(m)
	return w.Result().Status + " " + headerSummary(w.Header()) + " " + string(b)
}

func headerSummary(h http.Header) string {
	h = h.Clone()
	var b strings.Builder
	h.Write(&b)
	return b.String()
}

// TestTasksOtherUsersTaskIsMissing: B's calls on A's task answer exactly
// what calls on an id that does not exist answer; the other tenant's
// administrator too; A's task is unchanged after them all.
func TestTasksOtherUsersTaskIsMissing(t *testing.T) {
	f := newTasksFixture(t)
	a, etag := createTask(t, f, "tok-A", `{"title":"A's"}`)
	// An id of the right shape that names no task: A's own id with its
	// random part changed.
	missing := a.ID[:len(a.ID)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(a.ID, "0")]
	calls := []struct{ method, body string }{
		{http.MethodGet, ""},
		{http.MethodPatch, `{"title":"B was here"}`},
		{http.MethodDelete, ""},
	}
	for _, token := range []string{"tok-B", "tok-adminU"} {
		for _, c := range calls {
			for _, ifMatch := range []string{"", etag} {
				q := jsonReq(c.method, "/api/tasks/"+a.ID, token, c.body)
				m := jsonReq(c.method, "/api/tasks/"+missing, token, c.body)
				if ifMatch != "" {
					q.headers = http.Header{"If-Match": {ifMatch}}
					m.headers = http.Header{"If-Match": {ifMatch}}
				}
				got, want := f.do(t, q), f.do(t, m)
				if got.Code != 404 || withoutRequestID(t, got) != withoutRequestID(t, want) {
					t.Errorf("%s %s %s If-Match %q:\n got  %s\n want %s", token, c.method, "A's task", ifMatch, withoutRequestID(t, got), withoutRequestID(t, want))
				}
			}
		}
	}
	w := f.do(t, jsonReq(http.MethodGet, "/api/tasks/"+a.ID, "tok-A", ""))
	if w.Code != 200 || w.Header().Get("ETag") != etag || !strings.Contains(w.Body.String(), `"title":"A's"`) {
		t.Errorf("A's task after the others' calls: %d %s", w.Code, w.Body)
	}
	// B's list holds nothing of A's.
	w = f.do(t, jsonReq(http.MethodGet, "/api/tasks", "tok-B", ""))
	if w.Code != 200 || w.Body.String() != "{\"value\":[]}\n" {
		t.Errorf("B's list: %d %s", w.Code, w.Body)
	}
}

func TestTasksAdministrators(t *testing.T) {
	f := newTasksFixture(t)
	a, _ := createTask(t, f, "tok-A", `{"title":"A's"}`)
	b, _ := createTask(t, f, "tok-B", `{"title":"B's"}`)
	u, _ := createTask(t, f, "tok-adminU", `{"title":"U's"}`)
	ids := func(token, query string) []string {
		t.Helper()
		w := f.do(t, jsonReq(http.MethodGet, "/api/tasks"+query, token, ""))
		if w.Code != 200 {
			t.Fatalf("%s list%s: %d %s", token, query, w.Code, w.Body)
		}
		var l taskList
		json.Unmarshal(w.Body.Bytes(), &l)
		var out []string
		for _, x := range l.Value {
			out = append(out, x.ID)
		}
		return out
	}
	for _, token := range []string{"tok-admin", "tok-app"} {
		if got := ids(token, ""); len(got) != 2 || !contains(got, a.ID) || !contains(got, b.ID) {
			t.Errorf("%s sees %v, want A's and B's", token, got)
		}
		if got := ids(token, "?owner="+oidB); len(got) != 1 || got[0] != b.ID {
			t.Errorf("%s narrowed to B sees %v", token, got)
		}
		// A point read of another user's task, and a change to it.
		if w := f.do(t, jsonReq(http.MethodPatch, "/api/tasks/"+a.ID, token, `{"done":true}`)); w.Code != 200 || !strings.Contains(w.Body.String(), `"owner":"`+oidA+`"`) {
			t.Errorf("%s patching A's task: %d %s", token, w.Code, w.Body)
		}
		// Never the other tenant's.
		if w := f.do(t, jsonReq(http.MethodGet, "/api/tasks/"+u.ID, token, "")); w.Code != 404 {
			t.Errorf("%s reading the other tenant's task: %d", token, w.Code)
		}
		if got := ids(token, "?owner="+oidAdmU); len(got) != 0 {
			t.Errorf("%s narrowed to the other tenant's user sees %v", token, got)
		}
	}
	if got := ids("tok-adminU", ""); len(got) != 1 || got[0] != u.ID {
		t.Errorf("the other tenant's administrator sees %v", got)
	}
	// A user without the role names only itself.
	if w := f.do(t, jsonReq(http.MethodGet, "/api/tasks?owner="+oidB, "tok-A", "")); w.Code != 400 || !strings.Contains(w.Body.String(), "owner") {
		t.Errorf("A narrowing to B: %d %s", w.Code, w.Body)
	}
	// An app-only caller without the role is refused by the policy.
	if w := f.do(t, jsonReq(http.MethodGet, "/api/tasks", "tok-app-norole", "")); w.Code != 403 || !strings.Contains(w.Body.String(), `"rule":"route roles"`) {
		t.Errorf("app-only without the role: %d %s", w.Code, w.Body)
	}
	// App-only tokens stay refused on every other route.
	if w := f.do(t, jsonReq(http.MethodGet, "/api/Me", "tok-app", "")); w.Code != 403 {
		t.Errorf("app-only on Me: %d %s", w.Code, w.Body)
	}
}

func contains(ss []string, s string) bool { return slices.Contains(ss, s) }

func TestTasksPages(t *testing.T) {
	f := newTasksFixture(t)
	var want []string
	for i := range 7 {
		task, _ := createTask(t, f, "tok-A", `{"title":"t`+string(rune('0'+i))+`"}`)
		want = append(want, task.ID)
	}
	createTask(t, f, "tok-B", `{"title":"B's"}`)
	var got []string
	target := "/api/tasks?$top=3"
	for pages := 0; target != ""; pages++ {
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
		w := f.do(t, jsonReq(http.MethodGet, target, "tok-A", ""))
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", target, w.Code, w.Body)
		}
		var l taskList
		json.Unmarshal(w.Body.Bytes(), &l)
		for _, x := range l.Value {
			got = append(got, x.ID)
		}
		target = l.NextLink
		if target != "" && !strings.HasPrefix(target, "/api/tasks?") {
			t.Fatalf("nextLink %q is not relative to the API's root", target)
		}
		// B cannot follow A's link.
		if target != "" {
			if w := f.do(t, jsonReq(http.MethodGet, target, "tok-B", "")); w.Code != 400 {
				t.Errorf("B following A's link: %d %s", w.Code, w.Body)
			}
		}
	}
	// Ids sort by owner and creation time, then by their random part:
	// tasks made within one millisecond come in id order.
	slices.Sort(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("pages gave %v, want %v", got, want)
	}
}

func TestTasksNextLinkIsOnTheConfiguredHost(t *testing.T) {
	svc := tasks.NewService(taskstest.NewMemory(), tasks.Options{})
	f := newFixture(t, func(o *Options) {
		o.Routes, o.Tasks, o.BaseURL = Routes(), svc, "https://app.azurewebsites.net"
	})
	for range 2 {
		if w := f.do(t, jsonReq(http.MethodPost, "/api/tasks", goodToken, `{"title":"x"}`)); w.Code != 201 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	q := jsonReq(http.MethodGet, "/api/tasks?$top=1&done=false", goodToken, "")
	q.headers = http.Header{"Host": {"evil.example"}, "X-Forwarded-Host": {"evil.example"}}
	w := f.do(t, q)
	var l taskList
	json.Unmarshal(w.Body.Bytes(), &l)
	u, err := url.Parse(l.NextLink)
	if err != nil || u.Scheme != "https" || u.Host != "app.azurewebsites.net" || u.Path != "/api/tasks" || u.Query().Get("$top") != "1" || u.Query().Get("done") != "false" {
		t.Errorf("nextLink %q", l.NextLink)
	}
}

// TestTasksHostileInput: each is a 400 (or the status named), names what
// is wrong, and stores nothing.
func TestTasksHostileInput(t *testing.T) {
	long := strings.Repeat("é", 201)
	tests := []struct {
		name, method, target, ctype, body string
		status                            int
		detail                            string
	}{
		{"owner in the body", "POST", "/api/tasks", "application/json", `{"title":"x","owner":"` + oidB + `"}`, 400, "owner"},
		{"id in the body", "POST", "/api/tasks", "application/json", `{"title":"x","id":"abc"}`, 400, "id"},
		{"createdAt in the body", "POST", "/api/tasks", "application/json", `{"title":"x","createdAt":"2020-01-01T00:00:00Z"}`, 400, "createdAt"},
		{"an unknown member", "POST", "/api/tasks", "application/json", `{"title":"x","priority":1}`, 400, "priority"},
		{"a member twice", "POST", "/api/tasks", "application/json", `{"title":"x","title":"y"}`, 400, "more than once"},
		{"no title", "POST", "/api/tasks", "application/json", `{"notes":"x"}`, 400, "title"},
		{"an empty title", "POST", "/api/tasks", "application/json", `{"title":""}`, 400, "title"},
		{"a title of 201 characters", "POST", "/api/tasks", "application/json", `{"title":"` + long + `"}`, 400, "title"},
		{"a control character in the title", "POST", "/api/tasks", "application/json", `{"title":"a\u0007b"}`, 400, "title"},
		{"a newline in the title", "POST", "/api/tasks", "application/json", `{"title":"a\nb"}`, 400, "title"},
		{"notes over 4,000", "POST", "/api/tasks", "application/json", `{"title":"x","notes":"` + strings.Repeat("n", 4001) + `"}`, 400, "notes"},
		{"a date that is not one", "POST", "/api/tasks", "application/json", `{"title":"x","due":"2026-02-30"}`, 400, "due"},
		{"a date with a time", "POST", "/api/tasks", "application/json", `{"title":"x","due":"2026-02-03T00:00:00Z"}`, 400, "due"},
		{"done not a boolean", "POST", "/api/tasks", "application/json", `{"title":"x","done":"yes"}`, 400, "done"},
		{"title null", "POST", "/api/tasks", "application/json", `{"title":null}`, 400, "title"},
		{"not an object", "POST", "/api/tasks", "application/json", `["title"]`, 400, "object"},
		{"two values", "POST", "/api/tasks", "application/json", `{"title":"x"}{"title":"y"}`, 400, "more than one"},
		{"not UTF-8", "POST", "/api/tasks", "application/json", "{\"title\":\"\xff\"}", 400, "UTF-8"},
		{"not JSON", "POST", "/api/tasks", "text/plain", `{"title":"x"}`, 415, "application/json"},
		{"no content type", "POST", "/api/tasks", "", `{"title":"x"}`, 415, "application/json"},
		{"a merge patch to create", "POST", "/api/tasks", "application/merge-patch+json", `{"title":"x"}`, 415, "application/json"},
		{"$top 0", "GET", "/api/tasks?$top=0", "", "", 400, "$top"},
		{"$top 101", "GET", "/api/tasks?$top=101", "", "", 400, "$top"},
		{"$top not a number", "GET", "/api/tasks?$top=ten", "", "", 400, "$top"},
		{"$top twice", "GET", "/api/tasks?$top=1&$top=2", "", "", 400, "$top"},
		{"done not a boolean", "GET", "/api/tasks?done=yes", "", "", 400, "done"},
		{"an OData-looking owner", "GET", "/api/tasks?owner=" + url.QueryEscape("' or PartitionKey ne '"), "", "", 400, "owner"},
		{"a forged page token", "GET", "/api/tasks?$skiptoken=AAAA", "", "", 400, "$skiptoken"},
		{"an unsupported OData option", "GET", "/api/tasks?$filter=" + url.QueryEscape("owner ne ''"), "", "", 400, "$filter"},
		{"an id with a quote", "GET", "/api/tasks/" + url.PathEscape("a'b"), "", "", 404, "no task"},
		{"an id with a hash", "GET", "/api/tasks/" + url.PathEscape("a#b"), "", "", 404, "no task"},
		{"an id with a question mark", "GET", "/api/tasks/" + url.PathEscape("a?b"), "", "", 404, "no task"},
		{"an id with %2F", "GET", "/api/tasks/a%2Fb", "", "", 404, ""},
		{"an id with a slash", "GET", "/api/tasks/a/b", "", "", 404, ""},
		{"an id of 2 KB", "GET", "/api/tasks/" + strings.Repeat("a", 2048), "", "", 404, "no task"},
		{"POST on a task", "POST", "/api/tasks/abc", "application/json", `{"title":"x"}`, 405, ""},
		{"PATCH on the collection", "PATCH", "/api/tasks", "application/json", `{"title":"x"}`, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTasksFixture(t)
			q := req{method: tt.method, target: tt.target, token: "tok-A", ctype: tt.ctype}
			if tt.body != "" {
				q.body = strings.NewReader(tt.body)
			}
			w := f.do(t, q)
			pb := checkProblem(t, w, tt.status)
			if !strings.Contains(pb.Detail, tt.detail) {
				t.Errorf("detail %q does not name %q", pb.Detail, tt.detail)
			}
			if strings.Contains(pb.Detail, "PartitionKey") || strings.Contains(pb.Detail, "é") {
				t.Errorf("detail %q echoes the input", pb.Detail)
			}
			if w := f.do(t, jsonReq(http.MethodGet, "/api/tasks", "tok-A", "")); w.Body.String() != "{\"value\":[]}\n" {
				t.Errorf("stored: %s", w.Body)
			}
		})
	}
}

func TestTasksNonGUIDCallerIsForbidden(t *testing.T) {
	f := newTasksFixture(t)
	for _, q := range []req{
		jsonReq(http.MethodGet, "/api/tasks", "tok-notguid", ""),
		jsonReq(http.MethodPost, "/api/tasks", "tok-notguid", `{"title":"x"}`),
	} {
		w := f.do(t, q)
		pb := checkProblem(t, w, http.StatusForbidden)
		if !strings.Contains(pb.Detail, "GUID") {
			t.Errorf("%s: detail %q", q.method, pb.Detail)
		}
	}
}

// TestTasksWithoutAStore: a server built without a task service answers
// 503 with Retry-After, never a 500 or a panic.
func TestTasksWithoutAStore(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Routes = Routes() })
	w := f.do(t, jsonReq(http.MethodGet, "/api/tasks", goodToken, ""))
	checkProblem(t, w, http.StatusServiceUnavailable)
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if r := f.requestLine(t)["reason"]; r != "store_unconfigured" {
		t.Errorf("log reason %v", r)
	}
}

// TestTasksConcurrentUpdates: of concurrent updates with the same
// If-Match, exactly one wins and the others get 412; the winner's change
// is the one stored.
func TestTasksConcurrentUpdates(t *testing.T) {
	f := newTasksFixture(t)
	task, etag := createTask(t, f, "tok-A", `{"title":"race"}`)
	const n = 8
	codes := make(chan int, n)
	titles := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			title := "writer " + strconv.Itoa(i)
			q := jsonReq(http.MethodPatch, "/api/tasks/"+task.ID, "tok-A", `{"title":"`+title+`"}`)
			q.headers = http.Header{"If-Match": {etag}}
			w := f.do(t, q)
			codes <- w.Code
			if w.Code == 200 {
				titles <- title
			}
		}()
	}
	wg.Wait()
	close(codes)
	close(titles)
	won, lost := 0, 0
	for c := range codes {
		switch c {
		case 200:
			won++
		case http.StatusPreconditionFailed:
			lost++
		default:
			t.Errorf("status %d", c)
		}
	}
	if won != 1 || lost != n-1 {
		t.Fatalf("%d won and %d got 412, want 1 and %d", won, lost, n-1)
	}
	w := f.do(t, jsonReq(http.MethodGet, "/api/tasks/"+task.ID, "tok-A", ""))
	if winner := <-titles; !strings.Contains(w.Body.String(), `"title":"`+winner+`"`) {
		t.Errorf("stored %s, want the winner's %q", w.Body, winner)
	}
}

// TestTasksContextErrorsAre503: a store that gives back the request's
// context error (its bound ran out, or the client left) is a 503 with
// Retry-After and a reason, never a 500.
func TestTasksContextErrorsAre503(t *testing.T) {
	for err, reason := range map[error]string{
		context.DeadlineExceeded:                           "store_timeout",
		fmt.Errorf("bbolt: %w", context.Canceled):          "request_canceled",
		&tasks.UnavailableError{Reason: "store_throttled"}: "store_throttled",
	} {
		f := newFixture(t, func(o *Options) { o.Tasks = tasks.NewService(failingStore{err}, tasks.Options{}) })
		w := f.do(t, jsonReq(http.MethodGet, "/api/tasks", goodToken, ""))
		checkProblem(t, w, http.StatusServiceUnavailable)
		if w.Header().Get("Retry-After") == "" {
			t.Errorf("%v: no Retry-After", err)
		}
		if got := f.requestLine(t)["reason"]; got != reason {
			t.Errorf("%v: log reason %v, want %s", err, got, reason)
		}
	}
}

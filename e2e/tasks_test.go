package e2e

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/entrafunc/entrafunc/internal/azuritetest"
)

// The Tasks callers: users A and B of the tenant, an administrator of the
// tenant (a user assigned the app role), an app-only caller with the role
// and one without, and an administrator of another tenant.
const (
	oidA      = "a1a1a1a1-0000-4000-8000-00000000000a"
	oidB      = "b2b2b2b2-0000-4000-8000-00000000000b"
	oidAdmin  = "adadadad-0000-4000-8000-0000000000ad"
	oidApp    = "c3c3c3c3-0000-4000-8000-0000000000c3"
	oidAdmU   = "dddddddd-0000-4000-8000-0000000000dd"
	tasksRole = "Tasks.ReadWrite.All"
)

// tasksCaller is who calls, as the mode under test presents it.
type tasksCaller struct {
	name    string
	headers map[string][]string
}

// tasksMode is a running handler and its callers, by name: A, B, admin,
// app, app-norole, other-admin.
type tasksMode struct {
	name    string
	p       *proc
	callers map[string]map[string][]string
	// otherTenant is what the other tenant's administrator gets.
	otherTenant int
}

// userClaims is a delegated v2 token of the e2e tenant for oid.
func userClaims(tenant, oid string, roles ...string) jwt.MapClaims {
	c := with(v2Claims(tenant), "oid", oid, "sub", "sub-"+oid)
	if len(roles) > 0 {
		c["roles"] = roles
	}
	return c
}

// appClaims is an app-only v2 token: idtyp app, roles, no scp.
func appClaims(tenant, oid string, roles ...string) jwt.MapClaims {
	c := with(v2Claims(tenant), "oid", oid, "sub", oid, "scp", nil, "idtyp", "app", "name", nil, "preferred_username", nil, "groups", nil)
	if len(roles) > 0 {
		c["roles"] = roles
	}
	return c
}

func claimsOf(tenant string) map[string]jwt.MapClaims {
	return map[string]jwt.MapClaims{
		"A":           userClaims(tenant, oidA),
		"B":           userClaims(tenant, oidB),
		"admin":       userClaims(tenant, oidAdmin, tasksRole),
		"app":         appClaims(tenant, oidApp, tasksRole),
		"app-norole":  appClaims(tenant, oidApp, "Other.Role"),
		"other-admin": userClaims(otherTenant, oidAdmU, tasksRole),
	}
}

func jwtTasksMode(t *testing.T) tasksMode {
	is := newIssuer(t, e2eTenant)
	env := jwtEnv(is)
	env["TASKS_STORE_FILE"] = filepath.Join(t.TempDir(), "tasks.db")
	m := tasksMode{name: "jwt", p: start(t, env), callers: map[string]map[string][]string{}, otherTenant: 401}
	for name, c := range claimsOf(e2eTenant) {
		m.callers[name] = bearer(is.Sign("k1", c))
	}
	m.p.waitStatus(request{method: "GET", path: "/api/tasks", headers: m.callers["A"]}, 200, 30*time.Second)
	return m
}

func devTasksMode(t *testing.T) tasksMode {
	env := devEnv(t)
	m := tasksMode{name: "dev", p: start(t, env), callers: map[string]map[string][]string{}, otherTenant: 401}
	tok := func(args ...string) map[string][]string {
		return bearer(m.p.token(append([]string{"--dev"}, args...)...))
	}
	m.callers["A"] = tok("--name", "Ada", "--oid", oidA)
	m.callers["B"] = tok("--name", "Bo", "--oid", oidB)
	m.callers["admin"] = tok("--name", "Ana", "--oid", oidAdmin, "--role", tasksRole)
	m.callers["app"] = tok("--app-only", "--oid", oidApp, "--role", tasksRole)
	m.callers["app-norole"] = tok("--app-only", "--oid", oidApp, "--role", "Other.Role")
	// Another tenant's token, signed by the same development key: the
	// dev server's tenant rule refuses it.
	other := append(append([]string{}, m.p.env...), "AUTH_TENANT_ID="+otherTenant)
	m.callers["other-admin"] = bearer(runToken(t, other, "--oid", oidAdmU, "--role", tasksRole))
	return m
}

func easyAuthTasksMode(t *testing.T, store map[string]string) tasksMode {
	env := gateOpen(map[string]string{"AUTH_TENANT_ID": e2eTenant, "TASKS_STORE": "tables", "TASKS_TABLE": "tasks" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)})
	maps.Copy(env, store)
	m := tasksMode{name: "easyauth", p: start(t, env), callers: map[string]map[string][]string{}, otherTenant: 403}
	for name, c := range claimsOf(e2eTenant) {
		m.callers[name] = map[string][]string{"X-MS-CLIENT-PRINCIPAL": {easyAuthPrincipal(c)}, "X-MS-CLIENT-PRINCIPAL-IDP": {"aad"}}
	}
	return m
}

// azuriteStore starts Azurite and returns the settings that point the
// handler's Table storage at it.
func azuriteStore(t *testing.T) (*azuritetest.Server, map[string]string) {
	a := azuritetest.Start(t)
	return a, map[string]string{"AzureWebJobsStorage": a.ConnectionString()}
}

// jsonHeaders adds a JSON content type to h.
func jsonHeaders(h map[string][]string) map[string][]string {
	out := maps.Clone(h)
	out["Content-Type"] = []string{"application/json"}
	return out
}

type taskBody struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Owner string `json:"owner"`
	Done  bool   `json:"done"`
}

func (m tasksMode) create(t *testing.T, caller, title string) (taskBody, string) {
	t.Helper()
	got := m.p.do(request{method: "POST", path: "/api/tasks", headers: jsonHeaders(m.callers[caller]), body: `{"title":` + strconv.Quote(title) + `}`})
	if got.status != 201 {
		t.Fatalf("%s: %s creates: %d %s", m.name, caller, got.status, got.body)
	}
	var task taskBody
	if err := json.Unmarshal([]byte(got.body), &task); err != nil {
		t.Fatal(err)
	}
	return task, got.header.Get("ETag")
}

func (m tasksMode) list(t *testing.T, caller, query string) (int, []string) {
	t.Helper()
	got := m.p.do(request{method: "GET", path: "/api/tasks" + query, headers: m.callers[caller]})
	if got.status != 200 {
		return got.status, nil
	}
	var l struct{ Value []taskBody }
	if err := json.Unmarshal([]byte(got.body), &l); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range l.Value {
		ids = append(ids, x.ID)
	}
	return 200, ids
}

// comparable is a response without what differs between any two
// requests (the request id, the date): what tells a missing task from
// another user's, if anything does. Request ids are numbered, so their
// length, and the body's with them, varies: Content-Length is compared as
// the body's length less its request id's, once it matches the body.
func comparable(r response) string {
	var m map[string]any
	json.Unmarshal([]byte(r.body), &m)
	id, _ := m["requestId"].(string)
	delete(m, "requestId")
	b, _ := json.Marshal(m)
	h := r.header.Clone()
	h.Del("Date")
	if cl := h.Get("Content-Length"); cl == strconv.Itoa(len(r.body)) {
		h.Set("Content-Length", strconv.Itoa(len(r.body)-len(id))+" without the request id")
	}
	var sb strings.Builder
	h.Write(&sb)
	return strconv.Itoa(r.status) + "\n" + sb.String() + string(b)
}

// TestTasksMatrix is the cross-user matrix, in jwt mode with the test
// issuer, in dev mode, and in easyauth mode on Azurite: every caller, every
// method on A's task, each cell's status exact; B's answers are those of
// a missing id, byte for byte but the request id.
func TestTasksMatrix(t *testing.T) {
	t.Parallel()
	modes := []func(t *testing.T) tasksMode{
		jwtTasksMode,
		devTasksMode,
		func(t *testing.T) tasksMode { _, store := azuriteStore(t); return easyAuthTasksMode(t, store) },
	}
	for _, mode := range modes {
		m := mode(t)
		t.Run(m.name, func(t *testing.T) {
			// Each caller's row: list, then get, update and delete of a
			// fresh task of A's.
			type row struct {
				list, get, patch, del int
				seesA                 bool // A's task is in the caller's list
			}
			rows := map[string]row{
				"A":           {200, 200, 200, 204, true},
				"B":           {200, 404, 404, 404, false},
				"admin":       {200, 200, 200, 204, true},
				"app":         {200, 200, 200, 204, true},
				"app-norole":  {403, 403, 403, 403, false},
				"other-admin": {m.otherTenant, m.otherTenant, m.otherTenant, m.otherTenant, false},
			}
			for caller, want := range rows {
				task, etag := m.create(t, "A", "A's task for "+caller)
				missing := task.ID[:len(task.ID)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(task.ID, "0")]
				status, ids := m.list(t, caller, "")
				if status != want.list || (status == 200 && strings.Contains(strings.Join(ids, ","), task.ID) != want.seesA) {
					t.Errorf("%s lists: %d %v, want %d (A's task seen: %v)", caller, status, ids, want.list, want.seesA)
				}
				for _, c := range []struct {
					method, body string
					want         int
				}{{"GET", "", want.get}, {"PATCH", `{"done":true}`, want.patch}, {"DELETE", "", want.del}} {
					h := m.callers[caller]
					if c.body != "" {
						h = jsonHeaders(h)
					}
					got := m.p.do(request{method: c.method, path: "/api/tasks/" + task.ID, headers: h, body: c.body})
					if got.status != c.want {
						t.Errorf("%s %s A's task: %d, want %d: %s", caller, c.method, got.status, c.want, got.body)
					}
					if c.want == 404 {
						ghost := m.p.do(request{method: c.method, path: "/api/tasks/" + missing, headers: h, body: c.body})
						if comparable(got) != comparable(ghost) {
							t.Errorf("%s %s: A's task and a missing one differ:\n%s\n---\n%s", caller, c.method, comparable(got), comparable(ghost))
						}
					}
				}
				// What the others could not do left A's task as it was.
				after := m.p.do(request{method: "GET", path: "/api/tasks/" + task.ID, headers: m.callers["A"]})
				switch want.del {
				case 204:
					if after.status != 404 {
						t.Errorf("after %s's delete, A gets %d", caller, after.status)
					}
				default:
					if after.status != 200 || after.header.Get("ETag") != etag || !strings.Contains(after.body, `"done":false`) {
						t.Errorf("after %s's calls, A's task: %d %s (ETag %s, was %s)", caller, after.status, after.body, after.header.Get("ETag"), etag)
					}
				}
			}
			// The administrator's narrowed view, and nobody's across tenants.
			b, _ := m.create(t, "B", "B's")
			if status, ids := m.list(t, "admin", "?owner="+oidB); status != 200 || len(ids) != 1 || ids[0] != b.ID {
				t.Errorf("admin narrowed to B: %d %v", status, ids)
			}
			if status, _ := m.list(t, "A", "?owner="+oidB); status != 400 {
				t.Errorf("A narrowing to B: %d, want 400", status)
			}
		})
	}
}

// TestTasksHostile: each is a clear 4xx, through the binary, and stores
// nothing.
func TestTasksHostile(t *testing.T) {
	t.Parallel()
	m := devTasksMode(t)
	a := m.callers["A"]
	_, before := m.list(t, "A", "")
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
	}{
		{"owner in the body", "POST", "/api/tasks", "application/json", `{"title":"x","owner":"` + oidB + `"}`, 400},
		{"id in the body", "POST", "/api/tasks", "application/json", `{"title":"x","id":"x"}`, 400},
		{"an unknown field", "POST", "/api/tasks", "application/json", `{"title":"x","isAdmin":true}`, 400},
		{"a title of 201 characters", "POST", "/api/tasks", "application/json", `{"title":"` + strings.Repeat("x", 201) + `"}`, 400},
		{"a control character in the title", "POST", "/api/tasks", "application/json", `{"title":"a\u001bb"}`, 400},
		{"a forged page token", "GET", "/api/tasks?$skiptoken=" + url.QueryEscape(strings.Repeat("A", 60)), "", "", 400},
		{"an OData-looking owner", "GET", "/api/tasks?owner=" + url.QueryEscape("' or PartitionKey ne '"), "", "", 400},
		{"an id with a slash", "GET", "/api/tasks/a/b", "", "", 404},
		{"an id with %2F", "GET", "/api/tasks/a%2Fb", "", "", 404},
		{"an id with a hash", "GET", "/api/tasks/a%23b", "", "", 404},
		{"an id with a question mark", "GET", "/api/tasks/a%3Fb", "", "", 404},
		{"an id with a quote", "GET", "/api/tasks/a'b", "", "", 404},
		{"an id of 2 KB", "GET", "/api/tasks/" + strings.Repeat("a", 2048), "", "", 404},
	}
	for _, c := range cases {
		h := maps.Clone(a)
		if c.ctype != "" {
			h["Content-Type"] = []string{c.ctype}
		}
		got := m.p.do(request{method: c.method, path: c.path, headers: h, body: c.body})
		if got.status != c.status || !strings.HasPrefix(got.header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s %s, want %d problem+json", c.name, got.status, got.header.Get("Content-Type"), got.body, c.status)
		}
	}
	// B's page token on A's list.
	for range 3 {
		m.create(t, "B", "b")
	}
	got := m.p.do(request{method: "GET", path: "/api/tasks?$top=1", headers: m.callers["B"]})
	var page struct {
		NextLink string `json:"@odata.nextLink"`
	}
	json.Unmarshal([]byte(got.body), &page)
	if page.NextLink == "" {
		t.Fatalf("B's first page has no next link: %s", got.body)
	}
	if cross := m.p.do(request{method: "GET", path: page.NextLink, headers: a}); cross.status != 400 {
		t.Errorf("A following B's next link: %d %s", cross.status, cross.body)
	}
	if _, after := m.list(t, "A", ""); len(after) != len(before) {
		t.Errorf("A's list grew from %d to %d: %v", len(before), len(after), after)
	}

	// A principal whose oid is no GUID, through Easy Auth.
	_, store := azuriteStore(t)
	ea := easyAuthTasksMode(t, store)
	bad := map[string][]string{"X-MS-CLIENT-PRINCIPAL": {easyAuthPrincipal(userClaims(e2eTenant, "' or PartitionKey ne '"))}, "X-MS-CLIENT-PRINCIPAL-IDP": {"aad"}}
	for _, r := range []request{
		{method: "GET", path: "/api/tasks", headers: bad},
		{method: "POST", path: "/api/tasks", headers: jsonHeaders(bad), body: `{"title":"x"}`},
	} {
		if got := ea.p.do(r); got.status != 403 {
			t.Errorf("non-GUID oid %s: %d %s", r.method, got.status, got.body)
		}
	}
}

// TestTasksStoreOutage: with Table storage (Azurite) stopped mid-run,
// calls get 503 with Retry-After in bounded time, and the same calls
// succeed once it is back, without restarting the handler.
func TestTasksStoreOutage(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, e2eTenant)
	a, store := azuriteStore(t)
	env := jwtEnv(is)
	env["TASKS_STORE"] = "tables"
	maps.Copy(env, store)
	p := start(t, env)
	user := bearer(is.Sign("k1", userClaims(e2eTenant, oidA)))
	p.waitStatus(request{method: "GET", path: "/api/tasks", headers: user}, 200, 30*time.Second)
	create := request{method: "POST", path: "/api/tasks", headers: jsonHeaders(user), body: `{"title":"before"}`}
	if got := p.do(create); got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.body)
	}

	a.Stop()
	calls := []request{create, {method: "GET", path: "/api/tasks", headers: user}}
	var wg sync.WaitGroup
	for _, r := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			got := p.do(r)
			// The request's own bound is 20 s; a minute is no plausible
			// speed, only a hang.
			if took := time.Since(began); took > time.Minute {
				t.Errorf("%s with the store down took %v", r.method, took)
			}
			if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" || !strings.Contains(got.body, "store_unavailable") {
				t.Errorf("%s with the store down: %d Retry-After %q %s", r.method, got.status, got.header.Get("Retry-After"), got.body)
			}
			if strings.Contains(got.body, "127.0.0.1") || strings.Contains(got.body, "devstoreaccount1") {
				t.Errorf("storage internals in the body: %s", got.body)
			}
		}()
	}
	wg.Wait()
	// The log is flushed every 100 ms.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.stdout.String(), `"reason":"store_unreachable"`); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("no log line names store_unreachable:\n%s", p.stdout)
			break
		}
	}

	a.Restart()
	// In-memory Azurite lost the table: the first create makes it again.
	got := p.waitStatus(create, 201, time.Minute)
	var task taskBody
	json.Unmarshal([]byte(got.body), &task)
	if r := p.do(request{method: "GET", path: "/api/tasks/" + task.ID, headers: user}); r.status != 200 {
		t.Errorf("get after the store came back: %d %s", r.status, r.body)
	}
}

// TestTasksSIGTERMFinishesWrites: writes in flight when SIGTERM arrives
// finish, and every create that answered 201 is there after a restart on
// the same store. Eight writers keep creating; the signal goes once some
// creates have answered, so that others are on their way.
func TestTasksSIGTERMFinishesWrites(t *testing.T) {
	t.Parallel()
	env := devEnv(t)
	env["TASKS_STORE_FILE"] = filepath.Join(t.TempDir(), "tasks.db") // the same store after the restart
	p := start(t, env)
	user := bearer(p.token("--dev", "--oid", oidA))
	var created, sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				switch p.doStatus(request{method: "POST", path: "/api/tasks", headers: jsonHeaders(user), body: `{"title":"w` + strconv.Itoa(w) + `-` + strconv.Itoa(i) + `"}`}) {
				case 201:
					created.Add(1)
				case 0: // the server has closed its listener
					return
				}
			}
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); created.Load() < 10; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d creates answered within 30 s", created.Load())
		}
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d creates sent, %d answered 201 before and during the shutdown", sent.Load(), created.Load())
	q := start(t, env)
	stored := 0
	for next := "/api/tasks?$top=100"; next != ""; {
		got := q.do(request{method: "GET", path: next, headers: user})
		var page struct {
			Value    []taskBody
			NextLink string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal([]byte(got.body), &page); err != nil || got.status != 200 {
			t.Fatalf("list: %d %s", got.status, got.body)
		}
		stored += len(page.Value)
		next = page.NextLink
	}
	if int64(stored) != created.Load() {
		t.Errorf("%d creates answered 201, %d tasks stored", created.Load(), stored)
	}
}

// doStatus is do for a request that may fail at the connection (the
// server going away): its status, or 0.
func (p *proc) doStatus(r request) int {
	req, err := http.NewRequest(r.method, p.base+r.path, strings.NewReader(r.body))
	if err != nil {
		return 0
	}
	for k, vs := range r.headers {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

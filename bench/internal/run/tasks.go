package run

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"syscall"
	"time"

	"github.com/entrafunc/entrafunc/bench/internal/load"
)

// The Tasks function's rows: the list, holding listedTasks tasks of the
// benchmark's user, and the creation of one task per request.
const (
	tasksPath   = "/api/tasks"
	listedTasks = 20
	taskTitle   = "Benchmark task"
)

// createTask is the POST every request of the creation row sends: a
// title, the one member a task needs.
var createTask = load.Target{
	Method: http.MethodPost, Path: tasksPath,
	Header: map[string]string{"Content-Type": "application/json"},
	Body:   []byte(`{"title": "` + taskTitle + `"}`),
	Want:   http.StatusCreated,
}

// taskAnswer is what the checks read of a task the API shows.
type taskAnswer struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Owner string `json:"owner"`
}

// seedTasks creates the list's tasks through the API, as the benchmark's
// user, on the process's new store, then holds the list to them: the
// measured GET must answer every one of them, on one page.
func seedTasks(ctx context.Context, p *proc, tok string) (int64, error) {
	c := newTasksClient(p, tok)
	defer c.close()
	n, err := c.refusesAnonymous(ctx, http.MethodGet)
	if err != nil {
		return n, err
	}
	created := map[string]bool{}
	for i := range listedTasks {
		t, err := c.create(ctx, fmt.Sprintf("%s %02d of %d", taskTitle, i+1, listedTasks))
		n++
		if err != nil {
			return n, err
		}
		p.tasks++
		created[t.ID] = true
	}
	status, body, err := c.do(ctx, http.MethodGet, nil, tok)
	n++
	if err != nil {
		return n, err
	}
	var list struct {
		Value    []taskAnswer `json:"value"`
		NextLink string       `json:"@odata.nextLink"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil {
		return n, fmt.Errorf("GET %s answered %d %.200q, want 200 and a list", tasksPath, status, body)
	}
	got := map[string]bool{}
	for _, t := range list.Value {
		got[t.ID] = true
	}
	if len(list.Value) != listedTasks || !maps.Equal(got, created) || list.NextLink != "" {
		return n, fmt.Errorf("GET %s listed %d tasks (next link %q), want the %d just created on one page", tasksPath, len(list.Value), list.NextLink, listedTasks)
	}
	return n, nil
}

// checkCreate holds the creation row's process to what the measured
// request must do: refuse a request without a token, and create the task
// the body describes.
func checkCreate(ctx context.Context, p *proc, tok string) (int64, error) {
	c := newTasksClient(p, tok)
	defer c.close()
	n, err := c.refusesAnonymous(ctx, http.MethodPost)
	if err != nil {
		return n, err
	}
	if _, err := c.create(ctx, taskTitle); err != nil {
		return n + 1, err
	}
	p.tasks++
	return n + 1, nil
}

// tasksClient sends the checks' requests to one process.
type tasksClient struct {
	p      *proc
	tok    string
	client *http.Client
}

func newTasksClient(p *proc, tok string) *tasksClient {
	return &tasksClient{p: p, tok: tok, client: &http.Client{Timeout: 10 * time.Second}}
}

func (c *tasksClient) close() { c.client.CloseIdleConnections() }

// do sends method to the Tasks path with body (JSON, when not nil) and
// bearer ("" for none).
func (c *tasksClient) do(ctx context.Context, method string, body []byte, bearer string) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.p.base()+tasksPath, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode < 300 {
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
			err = fmt.Errorf("%s %s answered Content-Type %q, want JSON", method, tasksPath, resp.Header.Get("Content-Type"))
		}
	}
	return resp.StatusCode, b, err
}

// refusesAnonymous checks that the route wants a token: the measured
// request is the authenticated path, not an open one.
func (c *tasksClient) refusesAnonymous(ctx context.Context, method string) (int64, error) {
	var body []byte
	if method == http.MethodPost {
		body = createTask.Body
	}
	status, b, err := c.do(ctx, method, body, "")
	if err != nil {
		return 1, err
	}
	if status != http.StatusUnauthorized {
		return 1, fmt.Errorf("%s %s without a token answered %d %.200q, want 401", method, tasksPath, status, b)
	}
	return 1, nil
}

// create creates a task titled title as the benchmark's user.
func (c *tasksClient) create(ctx context.Context, title string) (taskAnswer, error) {
	body, _ := json.Marshal(map[string]string{"title": title})
	status, b, err := c.do(ctx, http.MethodPost, body, c.tok)
	if err != nil {
		return taskAnswer{}, err
	}
	var t taskAnswer
	if status != http.StatusCreated || json.Unmarshal(b, &t) != nil || t.ID == "" || t.Title != title || t.Owner == "" {
		return taskAnswer{}, fmt.Errorf("POST %s answered %d %.200q, want 201 and the task titled %q", tasksPath, status, b, title)
	}
	return t, nil
}

// creates is how many tasks answered requests of s created.
func creates(s server, answered int64) int64 {
	if s.req.Method == http.MethodPost && s.req.Path == tasksPath {
		return answered
	}
	return 0
}

// withHeader is t with the extra header lines.
func withHeader(t load.Target, extra map[string]string) load.Target {
	h := maps.Clone(t.Header)
	if h == nil {
		h = map[string]string{}
	}
	maps.Copy(h, extra)
	t.Header = h
	return t
}

// tally is what a server's processes did, added up.
type tally struct {
	sent, lines int64
	hwm         uint64
}

// filesystem names the file system dir is on: a store on tmpfs syncs for
// free, one on a disk pays for each commit's fsync.
func filesystem(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "file system unknown"
	}
	names := map[int64]string{
		0xEF53: "ext2/3/4", 0x01021994: "tmpfs", 0x58465342: "xfs", 0x9123683E: "btrfs",
		0x794C7630: "overlayfs", 0x2FC12FC1: "zfs", 0x6969: "nfs", 0x65735546: "fuse",
	}
	name, ok := names[int64(st.Type)]
	if !ok {
		name = fmt.Sprintf("file system type %#x", st.Type)
	}
	return name
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/entrafunc/entrafunc/tasks"
)

// TasksAdminRole is the app role that shows a caller every task of its
// own tenant: a user assigned the role (it comes in the delegated
// token's roles), or an app-only caller such as a Power Platform
// service-principal connection. On the Tasks route an app-only token with
// the role passes in place of the delegated scope (auth.Policy.AppRoles).
const TasksAdminRole = "Tasks.ReadWrite.All"

// The Tasks function's two paths: the collection and one task.
const (
	tasksPath = RoutePrefix + "/tasks"
	taskPath  = tasksPath + "/{id}"
)

// tasksTimeout bounds one Tasks request's calls to the store: an update
// may make several (read, write, and again when another write got in
// between), each bounded by the store itself.
const tasksTimeout = 20 * time.Second

// Errors of the Tasks function's requests, beside tasks' own.
var (
	// ErrUnsupportedMediaType: a body that is not JSON (or, for PATCH, a
	// JSON merge patch).
	ErrUnsupportedMediaType = errors.New("api: unsupported media type")
	// errNoStore: the server was built without a task service.
	errNoStore = &tasks.UnavailableError{Reason: "store_unconfigured", Err: errors.New("no task store is configured")}
)

// taskJSON is a task as the API shows it.
type taskJSON struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Notes     string `json:"notes,omitempty"`
	Due       string `json:"due,omitempty"`
	Done      bool   `json:"done"`
	Owner     string `json:"owner"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// taskList is a page of tasks, in OData's shape, which Power Platform's
// x-ms-pageable follows.
type taskList struct {
	Value    []taskJSON `json:"value"`
	NextLink string     `json:"@odata.nextLink,omitempty"`
}

// timeLayout is RFC 3339 in UTC to the millisecond, the precision the
// service keeps.
const timeLayout = "2006-01-02T15:04:05.000Z"

func showTask(t tasks.Task) taskJSON {
	out := taskJSON{
		ID: t.ID, Title: t.Title, Notes: t.Notes, Done: t.Done, Owner: t.Owner.ObjectID,
		CreatedAt: t.Created.UTC().Format(timeLayout), UpdatedAt: t.Updated.UTC().Format(timeLayout),
	}
	if !t.Due.IsZero() {
		out.Due = t.Due.String()
	}
	return out
}

// handleTasks serves the Tasks function: the collection (list, create)
// and one task (get, update, delete), by r.PathValue("id").
func handleTasks(d Deps) http.Handler {
	list, create := handleTaskList(d), handleTaskCreate(d)
	get, update, del := handleTaskGet(d), handleTaskUpdate(d), handleTaskDelete(d)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Tasks == nil {
			writeError(w, r, errNoStore)
			return
		}
		// Every call is bounded well within the server's write timeout,
		// so that a slow store gets its 503 with Retry-After, not a cut
		// connection.
		ctx, cancel := context.WithTimeout(r.Context(), tasksTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		item := r.PathValue("id") != ""
		var h http.Handler
		switch {
		case !item && r.Method == http.MethodGet:
			h = list
		case !item && r.Method == http.MethodPost:
			h = create
		case item && r.Method == http.MethodGet:
			h = get
		case item && r.Method == http.MethodPatch:
			h = update
		case item && r.Method == http.MethodDelete:
			h = del
		default:
			allow := "GET, POST"
			if item {
				allow = "GET, PATCH, DELETE"
			}
			w.Header().Set("Allow", allow)
			writeError(w, r, ErrMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// callerOf is the task service's view of the request's principal: its
// tenant and object id, and whether it holds the role that shows the
// whole tenant. Nothing of the request but the verified principal counts.
func callerOf(r *http.Request) (tasks.Caller, error) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		return tasks.Caller{}, auth.ErrNoCredentials
	}
	return tasks.NewCaller(p.TenantID, p.ObjectID, slices.Contains(p.Roles, TasksAdminRole))
}

// taskHandler serves one Tasks call for the caller; an error it returns
// is the answer.
type taskHandler func(w http.ResponseWriter, r *http.Request, c tasks.Caller) error

// withCaller runs h for the request's caller (callerOf), answering any
// error through writeError, the one mapping to HTTP.
func withCaller(h taskHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := callerOf(r)
		if err == nil {
			err = h(w, r, c)
		}
		switch {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			// The request's bound (tasksTimeout) ran out, or the client
			// left, inside a store that returns the context's error as
			// it is: a 503 to retry, never a 500.
			reason := "store_timeout"
			if errors.Is(err, context.Canceled) {
				reason = "request_canceled"
			}
			writeError(w, r, &tasks.UnavailableError{Reason: reason, Err: err})
		default:
			writeError(w, r, err)
		}
	})
}

func handleTaskList(d Deps) http.Handler {
	return withCaller(func(w http.ResponseWriter, r *http.Request, c tasks.Caller) error {
		q, err := listQuery(r.URL.RawQuery)
		if err != nil {
			return err
		}
		res, err := d.Tasks.List(r.Context(), c, q.opts)
		if err != nil {
			return err
		}
		out := taskList{Value: make([]taskJSON, 0, len(res.Tasks))}
		for _, t := range res.Tasks {
			out.Value = append(out.Value, showTask(t))
		}
		if res.Next != "" {
			out.NextLink = nextLink(d.BaseURL, q, res.Next)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	})
}

func handleTaskCreate(d Deps) http.Handler {
	return withCaller(func(w http.ResponseWriter, r *http.Request, c tasks.Caller) error {
		members, err := readTaskBody(r, false)
		if err != nil {
			return err
		}
		var draft tasks.Draft
		if err := members.draft(&draft); err != nil {
			return err
		}
		t, err := d.Tasks.Create(r.Context(), c, draft)
		if err != nil {
			return err
		}
		w.Header().Set("Location", tasksPath+"/"+t.ID)
		writeTask(w, http.StatusCreated, t)
		return nil
	})
}

func handleTaskGet(d Deps) http.Handler {
	return withCaller(func(w http.ResponseWriter, r *http.Request, c tasks.Caller) error {
		t, err := d.Tasks.Get(r.Context(), c, r.PathValue("id"))
		if err != nil {
			return err
		}
		writeTask(w, http.StatusOK, t)
		return nil
	})
}

func handleTaskUpdate(d Deps) http.Handler {
	return withCaller(func(w http.ResponseWriter, r *http.Request, c tasks.Caller) error {
		id := r.PathValue("id")
		ifMatch, err := readIfMatch(r, d.Tasks, c, id)
		if err != nil {
			return err
		}
		members, err := readTaskBody(r, true)
		if err != nil {
			return err
		}
		var p tasks.Patch
		if err := members.patch(&p); err != nil {
			return err
		}
		t, err := d.Tasks.Update(r.Context(), c, id, p, ifMatch)
		if err != nil {
			return err
		}
		writeTask(w, http.StatusOK, t)
		return nil
	})
}

func handleTaskDelete(d Deps) http.Handler {
	return withCaller(func(w http.ResponseWriter, r *http.Request, c tasks.Caller) error {
		id := r.PathValue("id")
		ifMatch, err := readIfMatch(r, d.Tasks, c, id)
		if err != nil {
			return err
		}
		if err := d.Tasks.Delete(r.Context(), c, id, ifMatch); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// writeTask answers with t and its ETag.
func writeTask(w http.ResponseWriter, status int, t tasks.Task) {
	w.Header().Set("ETag", `"`+t.Version+`"`)
	writeJSON(w, status, showTask(t))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // strings, bools and slices of them only
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// Query parameters of a list.
const (
	paramTop   = "$top"
	paramToken = "$skiptoken"
	paramDone  = "done"
	paramOwner = "owner"
)

// listRequest is a list's parsed query, and what its next link repeats.
type listRequest struct {
	opts tasks.ListOptions
	top  string
}

// listQuery reads a list's query string. Each parameter may appear once;
// an OData system option ($…) the API does not implement is refused
// rather than ignored, so that a $filter a client relies on never
// silently returns everything. Other parameters are ignored, as HTTP
// APIs commonly do.
func listQuery(raw string) (listRequest, error) {
	var q listRequest
	v, err := url.ParseQuery(raw)
	if err != nil {
		return q, queryError("the query string is not valid: " + bounded.Cut(err.Error(), 120))
	}
	for k, vs := range v {
		switch k {
		case paramTop, paramToken, paramDone, paramOwner:
			if len(vs) > 1 {
				return q, queryError("the query parameter " + k + " appears more than once")
			}
		default:
			if strings.HasPrefix(k, "$") {
				return q, queryError("the query option " + bounded.Quote(bounded.Cut(k, 40)) + " is not supported: this API takes $top and $skiptoken")
			}
		}
	}
	if q.opts.Top, err = tasks.ParseTop(v.Get(paramTop)); err != nil {
		return q, err
	}
	q.top = v.Get(paramTop)
	if q.opts.Done, err = tasks.ParseDone(v.Get(paramDone)); err != nil {
		return q, err
	}
	q.opts.Owner = v.Get(paramOwner)
	q.opts.Token = v.Get(paramToken)
	return q, nil
}

// nextLink is the link to the page after this one: the same query with
// the service's token. It is absolute on base, the app's own address as
// the platform states it (never the request's Host, which a client
// chooses), and relative to the API's root where no base is configured.
func nextLink(base string, q listRequest, token string) string {
	v := url.Values{}
	if q.top != "" {
		v.Set(paramTop, q.top)
	}
	if q.opts.Done != nil {
		v.Set(paramDone, strconv.FormatBool(*q.opts.Done))
	}
	if q.opts.Owner != "" {
		v.Set(paramOwner, q.opts.Owner)
	}
	v.Set(paramToken, token)
	return base + tasksPath + "?" + v.Encode()
}

// queryError is a 400 about the query string.
func queryError(msg string) error { return badBody(msg) }

// The members of a task body.
const (
	memberTitle = "title"
	memberNotes = "notes"
	memberDue   = "due"
	memberDone  = "done"
)

// serverMembers are the task's members that only the server sets.
var serverMembers = []string{"id", "owner", "createdAt", "updatedAt"}

// taskBody is a task body's members, each as its JSON text.
type taskBody map[string]json.RawMessage

// readTaskBody reads a create or a merge-patch body: a JSON object, in
// UTF-8, each member at most once, with only the members a client may
// set. A member the server sets, or one the API does not know, is a 400
// naming it; so is a duplicate, which JSON parsers read differently
// (one keeps the first, another the last).
func readTaskBody(r *http.Request, patch bool) (taskBody, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !(mt == "application/json" || patch && mt == "application/merge-patch+json") {
		want := "application/json"
		if patch {
			want = "application/json or application/merge-patch+json"
		}
		return nil, &mediaTypeError{want: want}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, ErrBodyTooLarge
		}
		return nil, badBody("the request body could not be read")
	}
	if !utf8.Valid(body) {
		return nil, badBody("the request body is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, badBody("the request body must be a JSON object")
	}
	members := taskBody{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badBody("the request body is not valid JSON")
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, badBody("the request body is not valid JSON")
		}
		switch {
		case slices.Contains(serverMembers, name):
			return nil, badBody("the member " + name + " is set by the server and cannot be sent")
		case name != memberTitle && name != memberNotes && name != memberDue && name != memberDone:
			return nil, badBody("the member " + bounded.Quote(bounded.Cut(name, 40)) + " is not a member of a task (title, notes, due, done)")
		}
		if _, dup := members[name]; dup {
			return nil, badBody("the member " + name + " appears more than once")
		}
		members[name] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, badBody("the request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badBody("the request body holds more than one JSON value")
	}
	return members, nil
}

// mediaTypeError is an [ErrUnsupportedMediaType] naming what the route
// takes.
type mediaTypeError struct{ want string }

func (e *mediaTypeError) Error() string {
	return "api: the Content-Type must be " + e.want
}
func (e *mediaTypeError) Is(target error) bool { return target == ErrUnsupportedMediaType }

// draft reads a create body. title is required; notes and due may be
// null, which is the same as absent.
func (b taskBody) draft(d *tasks.Draft) error {
	if _, ok := b[memberTitle]; !ok {
		return badBody("the member title is required")
	}
	var p tasks.Patch
	if err := b.patch(&p); err != nil {
		return err
	}
	d.Title = *p.Title
	if p.Notes != nil {
		d.Notes = *p.Notes
	}
	if p.Due != nil {
		d.Due = *p.Due
	}
	if p.Done != nil {
		d.Done = *p.Done
	}
	return nil
}

// patch reads a merge patch (RFC 7396): a member absent is left as it
// is; null clears notes or due, and cannot clear title or done.
func (b taskBody) patch(p *tasks.Patch) error {
	for name, raw := range b {
		null := string(raw) == "null"
		switch name {
		case memberTitle:
			var s string
			if null || json.Unmarshal(raw, &s) != nil {
				return badBody("the member title must be a string")
			}
			p.Title = &s
		case memberNotes:
			var s string
			if !null && json.Unmarshal(raw, &s) != nil {
				return badBody("the member notes must be a string or null")
			}
			p.Notes = &s
		case memberDue:
			var s string
			if !null && json.Unmarshal(raw, &s) != nil {
				return badBody("the member due must be a date (YYYY-MM-DD) or null")
			}
			var due tasks.Date
			if !null {
				var err error
				if due, err = tasks.ParseDate(s); err != nil {
					return badBody("the member due must be a calendar date written YYYY-MM-DD, or null")
				}
			}
			p.Due = &due
		case memberDone:
			var v bool
			if null || json.Unmarshal(raw, &v) != nil {
				return badBody("the member done must be true or false")
			}
			p.Done = &v
		}
	}
	return nil
}

// noVersion matches no task's version: what an If-Match of weak tags
// only, or of tags none of which is current, compares as.
const noVersion = "\x00"

// readIfMatch reads If-Match (RFC 9110 §13.1.1) for the service: "" when
// absent or "*" (the task must exist, which it must anyway), else the
// version it names. It compares strongly: a weak tag matches nothing. Of
// a list of tags, the one that is the task's current version counts; the
// service checks it again as it writes.
func readIfMatch(r *http.Request, svc *tasks.Service, c tasks.Caller, id string) (string, error) {
	fields := r.Header.Values("If-Match")
	if len(fields) == 0 {
		return "", nil
	}
	var strong []string
	for _, f := range fields {
		for tag := range strings.SplitSeq(f, ",") {
			tag = strings.TrimSpace(tag)
			switch {
			case tag == "*":
				if len(fields) > 1 || strings.Contains(f, ",") {
					return "", badBody("the If-Match header mixes * with entity tags")
				}
				return "", nil
			case strings.HasPrefix(tag, `W/"`) && validETag(tag[2:]):
				// weak: never matches strongly
			case validETag(tag):
				strong = append(strong, tag[1:len(tag)-1])
			default:
				return "", badBody("the If-Match header is not * or a list of quoted entity tags")
			}
		}
	}
	switch len(strong) {
	case 0:
		return noVersion, nil
	case 1:
		return strong[0], nil
	}
	cur, err := svc.Get(r.Context(), c, id)
	if err != nil {
		return "", err
	}
	if slices.Contains(strong, cur.Version) {
		return cur.Version, nil
	}
	return noVersion, nil
}

// validETag reports whether s is an entity-tag's quoted opaque part
// (RFC 9110 §8.8.3): etagc is ! and # to ~ (not ") and obs-text.
func validETag(s string) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; c != 0x21 && (c < 0x23 || c == 0x7f) {
			return false
		}
	}
	return true
}

// retryAfter is the Retry-After value, in whole seconds, for a store that
// could not answer.
func retryAfter(err error) string {
	d, ok := tasks.RetryAfter(err)
	if !ok {
		d = retryAfterSeconds * time.Second
	}
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// tasksRoute is the Tasks function: each user's own tasks, and the whole
// tenant's for a holder of [TasksAdminRole].
func tasksRoute() Route {
	idParam := Param{In: "path", Field: Field{
		Name: "id", Type: "string", Title: "Task ID", Required: true, Visibility: VisibilityImportant,
		Description: "The task's ID, as the list of tasks gives it.",
	}, Values: &DynamicValues{OperationID: "ListTasks", Collection: "value", Value: "id", Title: "title"}}
	ifMatch := Param{In: "header", Field: Field{
		Name: "If-Match", Type: "string", Title: "ETag", Visibility: VisibilityAdvanced,
		Description: "The task's ETag from an earlier answer: the call then fails with 412 if the task changed since.",
	}}
	etag := []Field{{Name: "ETag", Type: "string", Title: "ETag", Description: "The task's version, for If-Match."}}
	task := taskObject()
	errs := []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusServiceUnavailable}
	return Route{
		Function: "Tasks",
		Template: "tasks/{id?}",
		Methods:  []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		AppRoles: []string{TasksAdminRole},
		Handler:  handleTasks,
		Actions: []Action{
			{
				Method: http.MethodGet, Path: tasksPath, OperationID: "ListTasks",
				Summary:     "List tasks",
				Description: "Lists the signed-in user's tasks, oldest first; with the Tasks.ReadWrite.All role, every task of the tenant.",
				Visibility:  VisibilityImportant,
				Params: []Param{
					{In: "query", Field: Field{Name: paramDone, Type: "boolean", Title: "Done", Visibility: VisibilityAdvanced, Description: "Only done tasks when true, only open ones when false."}},
					{In: "query", Field: Field{Name: paramOwner, Type: "string", Title: "Owner", Visibility: VisibilityAdvanced, Description: "Only this user's tasks, by object ID: for a caller with the Tasks.ReadWrite.All role."}},
					{In: "query", Field: Field{Name: paramTop, Type: "integer", Title: "Page Size", Visibility: VisibilityInternal, Description: "How many tasks a page holds, 1 to 100 (50 by default)."}},
				},
				Response: Response{Description: "A page of tasks.", ContentType: "application/json", Object: taskListObject(task), NextLink: "@odata.nextLink"},
				Errors:   []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable},
			},
			{
				Method: http.MethodPost, Path: tasksPath, OperationID: "CreateTask",
				Summary:     "Create a task",
				Description: "Creates a task that belongs to the signed-in user.",
				Visibility:  VisibilityImportant,
				Body:        newTaskObject(),
				Example:     Example{Body: `{"title": "Try the Tasks API"}`},
				Response:    Response{Status: http.StatusCreated, Description: "The task, created.", ContentType: "application/json", Object: task, Headers: append(etag, Field{Name: "Location", Type: "string", Title: "Location", Description: "The task's path."})},
				Errors:      []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusServiceUnavailable},
			},
			{
				Method: http.MethodGet, Path: taskPath, OperationID: "GetTask",
				Summary:     "Get a task",
				Description: "Returns one of the signed-in user's tasks.",
				Visibility:  VisibilityImportant,
				Params:      []Param{idParam},
				Response:    Response{Description: "The task.", ContentType: "application/json", Object: task, Headers: etag},
				Errors:      errs,
			},
			{
				Method: http.MethodPatch, Path: taskPath, OperationID: "UpdateTask",
				Summary:     "Update a task",
				Description: "Changes the fields given of one of the signed-in user's tasks; null clears the notes or the due date.",
				Visibility:  VisibilityImportant,
				Params:      []Param{idParam, ifMatch},
				Body:        taskPatchObject(),
				Example:     Example{Body: `{"done": true}`},
				Response:    Response{Description: "The task, updated.", ContentType: "application/json", Object: task, Headers: etag},
				Errors:      append(slices.Clone(errs), http.StatusPreconditionFailed, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType),
			},
			{
				Method: http.MethodDelete, Path: taskPath, OperationID: "DeleteTask",
				Summary:     "Delete a task",
				Description: "Deletes one of the signed-in user's tasks.",
				Visibility:  VisibilityAdvanced,
				Params:      []Param{idParam, ifMatch},
				Response:    Response{Status: http.StatusNoContent, Description: "The task is deleted."},
				Errors:      append(slices.Clone(errs), http.StatusPreconditionFailed),
			},
		},
	}
}

// taskDocs describes each member of a task.
var taskDocs = map[string]Field{
	"id":        {Title: "Task ID", Description: "The task's ID, made by the API."},
	"title":     {Title: "Title", Description: "What the task is, 1 to 200 characters.", Visibility: VisibilityImportant},
	"notes":     {Title: "Notes", Description: "More about the task, up to 4,000 characters."},
	"due":       {Title: "Due Date", Description: "The day the task is due, as YYYY-MM-DD."},
	"done":      {Title: "Done", Description: "Whether the task is done."},
	"owner":     {Title: "Owner", Description: "The object ID of the user the task belongs to."},
	"createdAt": {Title: "Created At", Description: "When the task was created, in UTC."},
	"updatedAt": {Title: "Updated At", Description: "When the task last changed, in UTC."},
}

func taskObject() *Object {
	return &Object{Name: "Task", Description: "A task of one user.", Fields: objectFields(reflect.TypeFor[taskJSON](), taskDocs)}
}

func taskListObject(task *Object) *Object {
	return &Object{Name: "TaskList", Description: "A page of tasks.", Fields: []Field{
		{Name: "value", Type: "array", Items: "object", Object: task, Required: true, Title: "Tasks", Description: "The tasks of this page."},
		{Name: "@odata.nextLink", Type: "string", Title: "Next Page", Visibility: VisibilityInternal, Description: "The link to the next page, present when there are more tasks."},
	}}
}

// newTaskObject is CreateTask's body: the members a client may set.
func newTaskObject() *Object {
	o := &Object{Name: "NewTask", Description: "The task to create."}
	for _, f := range taskObject().Fields {
		switch f.Name {
		case memberTitle, memberNotes, memberDue, memberDone:
			f.Required = f.Name == memberTitle
			o.Fields = append(o.Fields, f)
		}
	}
	return o
}

// taskPatchObject is UpdateTask's body: a merge patch, every member
// optional.
func taskPatchObject() *Object {
	o := newTaskObject()
	o.Name, o.Description = "TaskPatch", "The fields to change; null clears the notes or the due date."
	for i := range o.Fields {
		o.Fields[i].Required = false
	}
	return o
}

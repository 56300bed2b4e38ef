package azuretable

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/entrafunc/entrafunc/tasks"
)

// Options tune a Store.
type Options struct {
	// Timeout bounds every call, retries included (DefaultTimeout when
	// zero).
	Timeout time.Duration
	// DevelopmentEndpoint is where UseDevelopmentStorage=true points:
	// Azurite's table endpoint with the account as its path
	// (DevelopmentEndpoint when empty).
	DevelopmentEndpoint string
}

// DefaultTimeout bounds one call. A PATCH makes two (a read and a write),
// and a server's write timeout must leave room for both.
const DefaultTimeout = 5 * time.Second

// Store is a tasks.Store on one table. It is safe for concurrent use.
type Store struct {
	client  *aztables.Client
	timeout time.Duration
}

var _ tasks.Store = (*Store)(nil)

// clientOptions bound the SDK's retries well inside Timeout: two more
// tries, soon, then the caller hears that the store is unavailable and
// when to come back.
func clientOptions(timeout time.Duration) *aztables.ClientOptions {
	return &aztables.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{
			MaxRetries:    2,
			TryTimeout:    timeout,
			RetryDelay:    200 * time.Millisecond,
			MaxRetryDelay: time.Second,
		},
		Telemetry: policy.TelemetryOptions{Disabled: true},
	}}
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// New returns a store on client's table.
func New(client *aztables.Client, o Options) *Store {
	return &Store{client: client, timeout: o.timeout()}
}

// NewFromConnectionString returns a store on table in the account a
// connection string names (see ReadSettings for the forms it reads).
func NewFromConnectionString(connectionString, table string, o Options) (*Store, error) {
	dev := o.DevelopmentEndpoint
	if dev == "" {
		dev = DevelopmentEndpoint
	}
	c, err := parseConnectionString(connectionString, dev)
	if err != nil {
		return nil, fmt.Errorf("the tasks connection string %w", err)
	}
	var svc *aztables.ServiceClient
	if c.sas != "" {
		svc, err = aztables.NewServiceClientWithNoCredential(c.endpoint+"/?"+c.sas, clientOptions(o.timeout()))
	} else {
		var cred *aztables.SharedKeyCredential
		if cred, err = aztables.NewSharedKeyCredential(c.account, c.key); err == nil {
			svc, err = aztables.NewServiceClientWithSharedKey(c.endpoint, cred, clientOptions(o.timeout()))
		}
	}
	if err != nil {
		// The SDK's errors name neither the key nor the signature.
		return nil, fmt.Errorf("the tasks connection string: %w", err)
	}
	return New(svc.NewClient(table), o), nil
}

// NewWithCredential returns a store on table at the table service
// serviceURL (https://<account>.table.core.windows.net), authenticated
// by cred.
func NewWithCredential(serviceURL string, cred azcore.TokenCredential, table string, o Options) (*Store, error) {
	if err := checkServiceURL(serviceURL); err != nil {
		return nil, fmt.Errorf("the tasks table service: %w", err)
	}
	svc, err := aztables.NewServiceClient(serviceURL, credential{cred}, clientOptions(o.timeout()))
	if err != nil {
		return nil, fmt.Errorf("the tasks table service: %w", err)
	}
	return New(svc.NewClient(table), o), nil
}

// Open returns the store the settings describe. It makes no network call:
// a credential first asks for a token, and the table is first reached,
// with the first task call.
func Open(s Settings, o Options) (*Store, error) {
	if s.Auth == AuthConnectionString {
		return NewFromConnectionString(s.ConnectionString, s.Table, o)
	}
	var cred azcore.TokenCredential
	var err error
	switch s.Auth {
	case AuthManagedIdentity:
		mo := &azidentity.ManagedIdentityCredentialOptions{}
		if s.ClientID != "" {
			mo.ID = azidentity.ClientID(s.ClientID)
		} else if s.ResourceID != "" {
			mo.ID = azidentity.ResourceID(s.ResourceID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(mo)
	case AuthClientSecret:
		cred, err = azidentity.NewClientSecretCredential(s.TenantID, s.ClientID, s.ClientSecret, nil)
	case AuthDeveloper:
		cred, err = azidentity.NewDefaultAzureCredential(nil)
	default:
		err = fmt.Errorf("unknown authentication %q", s.Auth)
	}
	if err != nil {
		return nil, fmt.Errorf("the tasks table's %s: %w", s.Auth, err)
	}
	return NewWithCredential(s.ServiceURL, cred, s.Table, o)
}

// Ensure creates the table when it is missing. The store calls it when
// a create finds no table; provisioning can call it first.
func (s *Store) Ensure(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.client.CreateTable(cctx, nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.ErrorCode == string(aztables.TableAlreadyExists) {
		return nil
	}
	return s.fail(ctx, err)
}

// entity is a task as the table holds it.
type entity struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Title        string `json:"Title"`
	Notes        string `json:"Notes,omitempty"`
	Due          string `json:"Due,omitempty"`
	Done         bool   `json:"Done"`
	Created      string `json:"Created"`
	CreatedType  string `json:"Created@odata.type,omitempty"`
	Updated      string `json:"Updated"`
	UpdatedType  string `json:"Updated@odata.type,omitempty"`
	ETag         string `json:"odata.etag,omitempty"`
}

const edmDateTime = "Edm.DateTime"

func partitionKey(o tasks.Owner) string { return o.TenantID + "_" + o.ObjectID }

func toEntity(t tasks.Task) ([]byte, error) {
	return json.Marshal(entity{
		PartitionKey: partitionKey(t.Owner), RowKey: t.ID,
		Title: t.Title, Notes: t.Notes, Due: t.Due.String(), Done: t.Done,
		Created: t.Created.UTC().Format(time.RFC3339Nano), CreatedType: edmDateTime,
		Updated: t.Updated.UTC().Format(time.RFC3339Nano), UpdatedType: edmDateTime,
	})
}

// fromEntity reads an entity; etag is the response's when the entity
// holds none (a point read's).
func fromEntity(b []byte, etag azcore.ETag) (tasks.Task, error) {
	var e entity
	if err := json.Unmarshal(b, &e); err != nil {
		return tasks.Task{}, fmt.Errorf("tasks table: an entity: %w", err)
	}
	tid, oid, _ := strings.Cut(e.PartitionKey, "_")
	t := tasks.Task{ID: e.RowKey, Owner: tasks.Owner{TenantID: tid, ObjectID: oid},
		Title: e.Title, Notes: e.Notes, Done: e.Done}
	if !tasks.Addressable(t.Owner, t.ID) {
		return tasks.Task{}, fmt.Errorf("tasks table: an entity whose keys are not a task's")
	}
	var err error
	if t.Due, err = parseDue(e.Due); err != nil {
		return tasks.Task{}, fmt.Errorf("tasks table: task %s: Due: %w", t.ID, err)
	}
	if t.Created, err = time.Parse(time.RFC3339Nano, e.Created); err != nil {
		return tasks.Task{}, fmt.Errorf("tasks table: task %s: Created: %w", t.ID, err)
	}
	if t.Updated, err = time.Parse(time.RFC3339Nano, e.Updated); err != nil {
		return tasks.Task{}, fmt.Errorf("tasks table: task %s: Updated: %w", t.ID, err)
	}
	t.Created, t.Updated = t.Created.UTC(), t.Updated.UTC()
	if e.ETag != "" {
		etag = azcore.ETag(e.ETag)
	}
	if etag == "" {
		return tasks.Task{}, fmt.Errorf("tasks table: task %s has no ETag", t.ID)
	}
	t.Version = version(etag)
	return t, nil
}

func parseDue(s string) (tasks.Date, error) {
	if s == "" {
		return tasks.Date{}, nil
	}
	return tasks.ParseDate(s)
}

// version is the Version of an ETag: base64url, strong and opaque.
func version(etag azcore.ETag) string {
	return base64.RawURLEncoding.EncodeToString([]byte(etag))
}

// etagOf returns the ETag a Version stands for, and false when it is none
// this store made: that is never "*", which would match any entity.
func etagOf(v string) (azcore.ETag, bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil {
		return "", false
	}
	// RFC 9110's entity-tag: an optional W/, then a quoted string of
	// visible characters other than the quote.
	opaque := strings.TrimPrefix(string(b), "W/")
	if len(opaque) < 2 || opaque[0] != '"' || opaque[len(opaque)-1] != '"' {
		return "", false
	}
	for _, c := range []byte(opaque[1 : len(opaque)-1]) {
		if c < 0x21 || c > 0x7e || c == '"' {
			return "", false
		}
	}
	return azcore.ETag(b), true
}

// call bounds one call.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Create implements tasks.Store.
func (s *Store) Create(ctx context.Context, t tasks.Task) (tasks.Task, error) {
	if err := tasks.CheckNew(t); err != nil {
		return tasks.Task{}, err
	}
	body, err := toEntity(t)
	if err != nil {
		return tasks.Task{}, err
	}
	add := func() (aztables.AddEntityResponse, error) {
		cctx, cancel := s.call(ctx)
		defer cancel()
		return s.client.AddEntity(cctx, body, nil)
	}
	resp, err := add()
	if tableMissing(err) {
		if err := s.Ensure(ctx); err != nil {
			return tasks.Task{}, err
		}
		resp, err = add()
	}
	if err != nil {
		return tasks.Task{}, s.fail(ctx, err)
	}
	if resp.ETag == "" {
		return tasks.Task{}, errors.New("tasks table: a created entity came back without an ETag")
	}
	t.Version = version(resp.ETag)
	return t, nil
}

// Get implements tasks.Store.
func (s *Store) Get(ctx context.Context, owner tasks.Owner, id string) (tasks.Task, error) {
	if !tasks.Addressable(owner, id) {
		return tasks.Task{}, tasks.ErrNotFound
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	resp, err := s.client.GetEntity(cctx, partitionKey(owner), id, nil)
	if err != nil {
		return tasks.Task{}, s.fail(ctx, err)
	}
	return fromEntity(resp.Value, resp.ETag)
}

// quote is an OData string literal. Every value this package filters on
// is a GUID or an id already, which hold no quote; doubling them anyway
// keeps a filter a filter if that ever changes.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func doneFilter(q tasks.Query) string {
	if q.Done == nil {
		return ""
	}
	return " and Done eq " + strconv.FormatBool(*q.Done)
}

// List implements tasks.Store.
func (s *Store) List(ctx context.Context, owner tasks.Owner, q tasks.Query) ([]tasks.Task, error) {
	if err := tasks.CheckQuery(owner.TenantID, q); err != nil {
		return nil, err
	}
	if !owner.Valid() {
		return nil, &tasks.InvalidError{Field: tasks.FieldOwner, Reason: "must be canonical GUIDs"}
	}
	filter := "PartitionKey eq " + quote(partitionKey(owner))
	if q.After != "" {
		filter += " and RowKey gt " + quote(q.After)
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	list, err := s.query(cctx, filter+doneFilter(q), q.Limit, nil)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return list, nil
}

// ListTenant implements tasks.Store. The tenant's partitions are the keys
// from "<tid>_" up to "<tid>`" (the character after _); after a page
// that ended in owner X's partition, the rest of X's partition comes
// first, then the partitions after X's.
func (s *Store) ListTenant(ctx context.Context, tenantID string, q tasks.Query) ([]tasks.Task, error) {
	if err := tasks.CheckQuery(tenantID, q); err != nil {
		return nil, err
	}
	end := " and PartitionKey lt " + quote(tenantID+"`")
	cctx, cancel := s.call(ctx)
	defer cancel()
	var list []tasks.Task
	var err error
	if q.After == "" {
		list, err = s.query(cctx, "PartitionKey ge "+quote(tenantID+"_")+end+doneFilter(q), q.Limit, nil)
	} else {
		oid, _ := tasks.IDOwner(q.After)
		pk := partitionKey(tasks.Owner{TenantID: tenantID, ObjectID: oid})
		list, err = s.query(cctx, "PartitionKey eq "+quote(pk)+" and RowKey gt "+quote(q.After)+doneFilter(q), q.Limit, nil)
		if err == nil && len(list) < q.Limit {
			list, err = s.query(cctx, "PartitionKey gt "+quote(pk)+end+doneFilter(q), q.Limit, list)
		}
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return list, nil
}

// query appends to out the entities filter selects, until out holds
// limit, following the service's continuation from page to page (a page
// may be short, or even empty, and still have a next one). A missing
// table holds nothing.
func (s *Store) query(ctx context.Context, filter string, limit int, out []tasks.Task) ([]tasks.Task, error) {
	top := int32(min(limit, 1000))
	pager := s.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter, Top: &top})
	for pager.More() && len(out) < limit {
		page, err := pager.NextPage(ctx)
		if tableMissing(err) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, b := range page.Entities {
			t, err := fromEntity(b, "")
			if err != nil {
				return nil, err
			}
			out = append(out, t)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// Update implements tasks.Store.
func (s *Store) Update(ctx context.Context, t tasks.Task, ifVersion string) (tasks.Task, error) {
	if !tasks.Addressable(t.Owner, t.ID) {
		return tasks.Task{}, tasks.ErrNotFound
	}
	etag, err := s.condition(ctx, t.Owner, t.ID, ifVersion)
	if err != nil {
		return tasks.Task{}, err
	}
	body, err := toEntity(t)
	if err != nil {
		return tasks.Task{}, err
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	resp, err := s.client.UpdateEntity(cctx, body, &aztables.UpdateEntityOptions{IfMatch: &etag, UpdateMode: aztables.UpdateModeReplace})
	if err != nil {
		return tasks.Task{}, s.fail(ctx, err)
	}
	if resp.ETag == "" {
		return tasks.Task{}, errors.New("tasks table: an updated entity came back without an ETag")
	}
	t.Version = version(resp.ETag)
	return t, nil
}

// Delete implements tasks.Store.
func (s *Store) Delete(ctx context.Context, owner tasks.Owner, id, ifVersion string) error {
	if !tasks.Addressable(owner, id) {
		return tasks.ErrNotFound
	}
	etag, err := s.condition(ctx, owner, id, ifVersion)
	if err != nil {
		return err
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	_, err = s.client.DeleteEntity(cctx, partitionKey(owner), id, &aztables.DeleteEntityOptions{IfMatch: &etag})
	return s.fail(ctx, err)
}

// condition is the If-Match of a write: "*" (the entity must exist) for no
// version, the version's ETag otherwise. A version this store did not
// make matches no entity, so the write is ErrConflict, or ErrNotFound
// when there is no such task at all.
func (s *Store) condition(ctx context.Context, owner tasks.Owner, id, ifVersion string) (azcore.ETag, error) {
	if ifVersion == "" {
		return azcore.ETagAny, nil
	}
	if etag, ok := etagOf(ifVersion); ok {
		return etag, nil
	}
	if _, err := s.Get(ctx, owner, id); err != nil {
		return "", err
	}
	return "", tasks.ErrConflict
}

// tableMissing reports whether err says the table does not exist.
func tableMissing(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == string(aztables.TableNotFound)
}

// fail maps an error of the SDK to the tasks errors. The caller's own
// cancellation is its own; anything that keeps the store from answering
// is unavailability, with a reason for the log and a hint for the client.
func (s *Store) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err() // the caller went away or ran out of time
	}
	// A failed request's *url.Error quotes its whole URL, and a SAS
	// connection's URLs carry the signature in the query: the message
	// that reaches the log must not.
	err = scrubbed{err}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusNotFound:
			return tasks.ErrNotFound
		case http.StatusPreconditionFailed:
			return tasks.ErrConflict
		case http.StatusConflict:
			if re.ErrorCode == string(aztables.EntityAlreadyExists) {
				return tasks.ErrConflict
			}
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			return &tasks.UnavailableError{Reason: "store_throttled", RetryAfter: retryAfter(re.RawResponse), Err: err}
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
			return &tasks.UnavailableError{Reason: "store_failed", RetryAfter: retryAfter(re.RawResponse), Err: err}
		case http.StatusUnauthorized, http.StatusForbidden:
			// A key, SAS or role assignment that does not (yet) let
			// the app in: role assignments take minutes to apply.
			return &tasks.UnavailableError{Reason: "store_forbidden", RetryAfter: tasks.DefaultRetryAfter, Err: err}
		}
		return fmt.Errorf("tasks table: %w", err)
	}
	var ce *credentialError
	switch {
	case errors.As(err, &ce):
		return &tasks.UnavailableError{Reason: "store_credential", RetryAfter: tasks.DefaultRetryAfter, Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &tasks.UnavailableError{Reason: "store_timeout", RetryAfter: tasks.DefaultRetryAfter, Err: err}
	}
	// No response at all: refused, reset, unresolvable, TLS.
	return &tasks.UnavailableError{Reason: "store_unreachable", RetryAfter: tasks.DefaultRetryAfter, Err: err}
}

// scrubbed is an error whose message hides the query of every URL in it
// (bounded.HideQueries); errors.Is and As still see the error itself.
type scrubbed struct{ err error }

func (e scrubbed) Error() string { return bounded.HideQueries(e.err.Error()) }
func (e scrubbed) Unwrap() error { return e.err }

// retryAfter reads the service's hint: x-ms-retry-after-ms or
// Retry-After in seconds, within [1 s, 60 s].
func retryAfter(resp *http.Response) time.Duration {
	var d time.Duration
	if resp != nil {
		if ms, err := strconv.Atoi(resp.Header.Get("x-ms-retry-after-ms")); err == nil {
			d = time.Duration(ms) * time.Millisecond
		} else if sec, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			d = time.Duration(sec) * time.Second
		}
	}
	if d <= 0 {
		return tasks.DefaultRetryAfter
	}
	return min(max(d, time.Second), time.Minute)
}

// credential marks the errors of getting a token, so that fail can tell
// an identity that cannot sign in from a service that cannot be reached.
type credential struct{ azcore.TokenCredential }

func (c credential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.TokenCredential.GetToken(ctx, o)
	if err != nil {
		return tok, &credentialError{err: err}
	}
	return tok, nil
}

// credentialError is a failure to get a token. It unwraps to the
// credential's error, so that the SDK still sees which ones not to retry.
type credentialError struct{ err error }

func (e *credentialError) Error() string {
	return "getting a token for the tasks table: " + e.err.Error()
}
func (e *credentialError) Unwrap() error { return e.err }

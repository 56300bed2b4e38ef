// Package azuretable is a [tasks.Store] on Azure Table storage, the
// production store.
//
// One entity per task: PartitionKey is the owner, "<tid>_<oid>" (both
// canonical GUIDs, which hold nothing a key or a filter must escape), and
// RowKey the task's id, so that a user's list is one partition query and
// a tenant's is one range of partitions. Version is the entity's ETag in
// base64url: opaque and strong, whereas the service's own ETag is a weak
// W/"datetime'…'", which RFC 9110's strong comparison for If-Match
// cannot use as it is. Updates replace the entity, so that cleared
// fields go, on the condition of that ETag.
//
// Every call is bounded by Options.Timeout. A store that is down, slow or
// throttling answers a [*tasks.UnavailableError] with a retry hint;
// nothing here blocks at start-up, and the table is created the first
// time a task is (or by [Store.Ensure]).
package azuretable

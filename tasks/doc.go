// Package tasks is the domain of the Tasks function: a task, its
// validation, who may see it, and the one interface to its storage. It
// does no I/O of its own; the adapters in tasks/bolt and tasks/azuretable
// implement [Store], and the api package talks to [Service] only.
//
// # Ownership
//
// A task belongs to one user, keyed by the tenant id and the object id of
// the principal that created it (tid and oid), which are the only claims
// Entra guarantees to be immutable and unique for a user. Never upn,
// preferred_username, email or name: those can change or be reused.
//
//   - A caller sees, changes and deletes only its own tasks. The owner
//     always comes from the caller ([Caller]), never from the request:
//     Create sets it, and an update cannot move a task to another owner.
//   - Another user's task is [ErrNotFound], exactly like a task that does
//     not exist, never a "forbidden": telling the two apart would tell a
//     caller which ids exist.
//   - A caller allowed to see the whole tenant (the app role
//     Tasks.ReadWrite.All; the api package decides who holds it, and says
//     so with [NewCaller]'s admin flag) sees and changes every task of its
//     own tenant, and none of any other. There is no cross-tenant view at
//     all: [Store.ListTenant] takes the tenant, and the service passes the
//     caller's.
//   - The tenant and object ids must be GUIDs before they go near a
//     storage key or a filter; a principal whose ids are not is refused
//     with [ErrBadCaller].
//
// # Ids, order and pages
//
// The service makes every id: 61 characters of lower-case base32 (RFC
// 4648's extended hex alphabet, 0-9 and a-v) over the owner's object id,
// the creation time in milliseconds and 128 random bits. The id is
// URL-safe and a valid Table storage key, unguessable, and names its
// owner, so that a tenant administrator's point read goes straight to the
// owner's partition without a scan. Because the alphabet is in ASCII
// order, sorting ids sorts by (owner, creation time): a list is in id
// order, which for one owner is creation order to within the clocks of
// the instances that created the tasks.
//
// A page token is the id of the last task of the page, with a hash of the
// query it belongs to (the caller's partition or tenant, and the filters).
// A token used with another query is refused. The token is not signed: a
// scaled-out handler has no secret all its instances share, and it does
// not need one, because every store query is constrained to the caller's
// own partition or tenant whatever the token says. A forged token can only
// move the caller's own list to another place in the caller's own tasks.
package tasks

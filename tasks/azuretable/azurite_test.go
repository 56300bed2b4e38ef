package azuretable

import (
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/internal/azuritetest"
)

// The tests run the store against Azurite's table service
// (internal/azuritetest): each test starts its own, and stops it when it
// ends. Without it they skip, or fail under ENTRAFUNC_REQUIRE_TOOLS=1, as
// make test and CI set it.
//
// What Azurite does differently from Table storage, and where it matters
// here (Azurite's src/table, and learn.microsoft.com's Table service
// pages):
//
//   - ETags. Both send W/"datetime'<timestamp>'"; the service's timestamp
//     has 100 ns ticks and changes on every write, Azurite's is the time
//     in milliseconds with four digits of process.hrtime's nanoseconds
//     appended, so two writes in one millisecond could in principle share
//     one. Version is the ETag whatever it holds, so the contract's
//     "every update changes the version" relies on that; it holds here in
//     practice.
//   - Continuation. Both page with NextPartitionKey/NextRowKey headers, but
//     the service may also cut a page short, or send an empty one with a
//     continuation, after 5 seconds or at a partition boundary; Azurite
//     only cuts at $top. The store never hands those tokens out: it
//     follows them within a call and resumes later from the last id, so
//     the difference is covered by the loop in query, which Azurite
//     cannot make take more than one page unless $top is reached.
//   - Keys. The service allows 1 KiB keys, Azurite 512 characters, and
//     Azurite answers a key holding "/" with a 500 rather than a 400. Ids
//     and partitions here are 61 and 73 characters of [0-9a-v_-], and the
//     store refuses anything else before it makes a request.
//   - Errors. A missing entity is 404 ResourceNotFound in both; a missing
//     table 404 TableNotFound; a stale If-Match 412
//     UpdateConditionNotSatisfied; a malformed one 400 InvalidInput in
//     Azurite. Azurite never throttles (no 429 or 503 ServerBusy), never
//     times out a query, and keeps no 40-second TableBeingDeleted state:
//     those paths are tested against a fake server below instead.
//   - Authentication. The tests use Azurite's well-known account through
//     UseDevelopmentStorage=true (shared key). Entra tokens (managed
//     identity) are not tested: Azurite checks them only with --oauth
//     basic over https, and does not check their signature.
//   - Batch transactions ignore If-Match in Azurite (Azure/Azurite#1233);
//     the store uses none.

// startAzurite starts a test's own Azurite.
func startAzurite(t testing.TB) *azuritetest.Server { return azuritetest.Start(t) }

// within runs f and fails the test when it has not returned after limit:
// a bound on "did not hang", far beyond any plausible speed. f runs on
// another goroutine, so it reports with Errorf, never Fatalf.
func within(t testing.TB, limit time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s did not return within %v", what, limit)
	}
}

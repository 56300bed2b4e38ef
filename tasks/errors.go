package tasks

import (
	"errors"
	"time"
)

// Errors of the domain and of every [Store]. Each matches with errors.Is.
var (
	// ErrNotFound: no such task for this caller. Another user's task and
	// an id that cannot exist are the same error.
	ErrNotFound = errors.New("tasks: not found")
	// ErrConflict: the task changed since the version the caller named
	// (a stale If-Match), or a created id is taken.
	ErrConflict = errors.New("tasks: version conflict")
	// ErrInvalid: the caller's input is not acceptable; the error is an
	// [*InvalidError] that names the field.
	ErrInvalid = errors.New("tasks: invalid input")
	// ErrBadCaller: the principal's tenant or object id is not a GUID, so
	// it cannot own tasks. The api answers 403.
	ErrBadCaller = errors.New("tasks: the caller's tenant or object id is not a GUID")
	// ErrUnavailable: the store is down, slow or throttling; the error is
	// an [*UnavailableError] with a retry hint.
	ErrUnavailable = errors.New("tasks: store unavailable")
)

// The names [InvalidError.Field] uses: the JSON members of a task and the
// query parameters of a list.
const (
	FieldTitle = "title"
	FieldNotes = "notes"
	FieldDue   = "due"
	FieldDone  = "done"
	FieldOwner = "owner"
	FieldTop   = "$top"
	FieldToken = "$skiptoken"
	FieldID    = "id"
)

// InvalidError is an [ErrInvalid] that says which field is wrong and why.
// Reason describes the rule, never the value, so both are safe to show
// the client and to log.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string        { return "tasks: invalid " + e.Field + ": " + e.Reason }
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// UnavailableError is an [ErrUnavailable]: the store could not answer in
// time. Reason is a word for the log line (store_timeout,
// store_throttled, store_unreachable, store_credential, store_busy);
// RetryAfter is how long the client should wait; Err is the cause, for
// the log only (it may name hosts and storage internals).
type UnavailableError struct {
	Reason     string
	RetryAfter time.Duration
	Err        error
}

func (e *UnavailableError) Error() string {
	if e.Err == nil {
		return "tasks: store unavailable (" + e.Reason + ")"
	}
	return "tasks: store unavailable (" + e.Reason + "): " + e.Err.Error()
}
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }
func (e *UnavailableError) Unwrap() error        { return e.Err }

// DefaultRetryAfter is the hint when the store gives none.
const DefaultRetryAfter = 5 * time.Second

// RetryAfter returns the hint of err's [*UnavailableError], at least one
// second, and false when err is not one.
func RetryAfter(err error) (time.Duration, bool) {
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		return 0, false
	}
	d := ue.RetryAfter
	if d <= 0 {
		d = DefaultRetryAfter
	}
	return max(d, time.Second), true
}

package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/tasks"
)

// Errors this package detects in requests. Each matches with errors.Is.
var (
	ErrBadRequest       = errors.New("api: bad request")
	ErrBodyTooLarge     = errors.New("api: request body too large")
	ErrNotFound         = errors.New("api: no such function")
	ErrMethodNotAllowed = errors.New("api: method not allowed")
)

// realm names the protection space in every Bearer challenge.
const realm = "api"

// retryAfterSeconds is what a caller is told to wait while the signing keys
// load.
const retryAfterSeconds = 5

// inputError is an [ErrBadRequest] whose message describes the client's own
// input and so is safe to send back.
type inputError struct{ msg string }

func (e *inputError) Error() string        { return "api: bad request: " + e.msg }
func (e *inputError) Is(target error) bool { return target == ErrBadRequest }

func badBody(msg string) error { return &inputError{msg: msg} }

// problem is an RFC 9457 problem details body.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Code      string `json:"code,omitempty"`
	Rule      string `json:"rule,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// writeError writes err's response, as respond maps it. The client gets
// a fixed message for its kind of failure (or, for its own input, what is
// wrong with it); the detail goes to the request's log line only.
func writeError(w http.ResponseWriter, r *http.Request, err error) { writeProblem(w, r, err, "") }

// devHint ends the detail of a dev-mode server's 401 (handler dev, make
// dev, AUTH_MODE=dev). Its caller is a developer with the handler binary
// at hand, for whom "not valid" says too little and explain says which
// check failed and what to change; the server itself must not say more
// about a token than any other server does.
const devHint = "This is a development server: ./handler explain --dev <token> says why it refuses a token (without --dev when it was started with AUTH_MODE=dev rather than make dev), and ./handler token --dev mints one that make dev accepts."

// writeDevError is writeError for the function routes of a dev-mode
// server: a 401 points at handler explain.
func writeDevError(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, err, devHint)
}

// writeProblem is writeError with hint appended to a 401's detail.
func writeProblem(w http.ResponseWriter, r *http.Request, err error, hint string) {
	e := entryOf(r)
	if e != nil {
		e.err = err
		if p, ok := auth.FromContext(r.Context()); ok {
			e.principal = p
		}
	}
	h := w.Header()
	pb := respond(err, r.Method, h)
	if pb.Status == http.StatusUnauthorized && hint != "" {
		pb.Detail += " " + hint
	}
	if e != nil {
		pb.RequestID = e.id
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(pb.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(pb) // cannot fail: strings and ints only
}

// Refusal returns the status and the WWW-Authenticate challenge (empty
// when there is none) that the API answers err with: the mapping
// writeError applies, for handler explain's verdict.
func Refusal(err error) (status int, challenge string) {
	h := http.Header{}
	pb := respond(err, "", h)
	return pb.Status, h.Get("WWW-Authenticate")
}

// respond maps err to its problem body, setting the headers that go with
// it on h: the one mapping of errors to responses. testdata/errors.golden
// records it for every refusal, beside the guide's section for each
// (TestErrorContract).
func respond(err error, method string, h http.Header) problem {
	pb := problem{Type: "about:blank"}
	var ie *inputError
	var re *auth.RequestError
	var pe *auth.PolicyError
	var te *tasks.InvalidError
	var me *mediaTypeError
	switch {
	case errors.Is(err, auth.ErrNoCredentials):
		h.Set("WWW-Authenticate", challenge())
		pb.Status, pb.Detail = http.StatusUnauthorized, "This API requires an Entra ID access token: send it as Authorization: Bearer <token>."
	case errors.As(err, &re):
		h.Set("WWW-Authenticate", challenge("error", "invalid_request", "error_description", re.Description))
		pb.Status, pb.Code, pb.Detail = http.StatusBadRequest, "invalid_request", re.Description+"."
	case errors.Is(err, auth.ErrInvalidToken):
		h.Set("WWW-Authenticate", challenge("error", "invalid_token", "error_description", "The access token is not valid"))
		pb.Status, pb.Code, pb.Detail = http.StatusUnauthorized, "invalid_token", "The access token is not valid: it may be expired, or issued for another API or tenant."
	case errors.As(err, &pe) && errors.Is(err, auth.ErrInsufficientScope):
		scope := strings.Join(pe.Scopes, " ")
		h.Set("WWW-Authenticate", challenge("error", "insufficient_scope", "scope", scope))
		pb.Status, pb.Code, pb.Detail = http.StatusForbidden, "insufficient_scope", "The access token lacks the delegated scope "+scope+"."
	case errors.As(err, &pe):
		pb.Status, pb.Code, pb.Rule = http.StatusForbidden, "forbidden", pe.Rule
		pb.Detail = "The caller is authenticated but not allowed by the rule " + pe.Rule + "."
	case errors.Is(err, auth.ErrUnavailable):
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		// The code is the word the log carries, as auth names it.
		pb.Status, pb.Code = http.StatusServiceUnavailable, auth.Reason(err)
		pb.Detail = "The API cannot check access tokens yet: its signing keys are still loading. Retry shortly."
	case errors.As(err, &ie):
		pb.Status, pb.Detail = http.StatusBadRequest, ie.msg
	case errors.Is(err, ErrBodyTooLarge):
		pb.Status, pb.Detail = http.StatusRequestEntityTooLarge, "The request body is larger than this API accepts."
	case errors.Is(err, ErrNotFound):
		pb.Status, pb.Detail = http.StatusNotFound, "There is no function at this path."
	case errors.Is(err, ErrMethodNotAllowed):
		pb.Status, pb.Detail = http.StatusMethodNotAllowed, "This function does not accept the method "+method+"."
	case errors.As(err, &me):
		pb.Status, pb.Detail = http.StatusUnsupportedMediaType, "The Content-Type must be "+me.want+"."
	case errors.As(err, &te):
		// Field and Reason name the rule, never the value: safe to show.
		pb.Status, pb.Detail = http.StatusBadRequest, "The "+te.Field+" is not valid: it "+te.Reason+"."
	case errors.Is(err, tasks.ErrNotFound):
		// One answer for a task that does not exist and another user's:
		// nothing here may tell them apart.
		pb.Status, pb.Code, pb.Detail = http.StatusNotFound, "not_found", "There is no task with this id."
	case errors.Is(err, tasks.ErrConflict):
		pb.Status, pb.Code, pb.Detail = http.StatusPreconditionFailed, "precondition_failed", "The task has changed since the ETag that If-Match names: get it again, then retry with its new ETag."
	case errors.Is(err, tasks.ErrBadCaller):
		pb.Status, pb.Code, pb.Detail = http.StatusForbidden, "forbidden", "The caller's tenant ID or object ID is not a GUID, so it cannot own tasks."
	case errors.Is(err, tasks.ErrUnavailable):
		h.Set("Retry-After", retryAfter(err))
		pb.Status, pb.Code = http.StatusServiceUnavailable, "store_unavailable"
		pb.Detail = "The task store is not answering. Retry after the Retry-After seconds."
	default:
		pb.Status, pb.Detail = http.StatusInternalServerError, "Internal error."
	}
	pb.Title = http.StatusText(pb.Status)
	return pb
}

// challenge builds a Bearer WWW-Authenticate value (RFC 6750 §3) from
// name, value pairs.
func challenge(params ...string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="` + realm + `"`)
	for i := 0; i+1 < len(params); i += 2 {
		b.WriteString(", " + params[i] + `="` + quoteEscape(params[i+1]) + `"`)
	}
	return b.String()
}

func quoteEscape(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

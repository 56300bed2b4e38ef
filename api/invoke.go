package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

// The host's invocation payload protocol. Without HTTP forwarding (host.json
// enableForwardingHttpRequest off, or a function with any binding besides
// one HTTP trigger and one HTTP output) the host does not forward the
// client's request: it POSTs /{FunctionName} with the request inside a JSON
// body and expects the response inside another (the request and response payloads of https://learn.microsoft.com/azure/azure-functions/functions-custom-handlers).
//
// The handler serves every function this way too, through the same
// authentication, policy and handler as a forwarded request: the request
// inside the payload is rebuilt as an http.Request and its response is
// wrapped back up.
//
// The invocation endpoint takes the client's credentials from the request
// body, so it must only ever be reached by the host: a request that
// carries client headers is refused, and cmd/handler refuses a host.json
// route prefix that would forward client requests to /{Function}.
//
// Two things do not survive the trip. Query: the host sends repeated keys
// comma-joined in Query, so the handler reads the query string from Url,
// which keeps them apart, and falls back to Query only when Url has none;
// from Query alone, "a,b" cannot be told from two values. Identities: the
// host's parsed copy of the Easy Auth principal is ignored; the
// X-MS-CLIENT-PRINCIPAL header in Headers is read as in forwarding mode.

// triggerBinding is the httpTrigger binding's name in function.json.
const triggerBinding = "req"

// outputBinding is the http output binding's name in function.json.
const outputBinding = "res"

type invocation struct {
	Data map[string]json.RawMessage
}

type invocationHTTPRequest struct {
	URL     string `json:"Url"`
	Method  string
	Query   json.RawMessage
	Headers map[string][]string
	Params  json.RawMessage
	Body    json.RawMessage
}

type invocationResult struct {
	Outputs     map[string]httpOutput
	Logs        []string
	ReturnValue any
}

type httpOutput struct {
	StatusCode string            `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// handleInvoke serves "POST /{Function}" for rt: fn is the route's handler
// chain, authentication included. A well-formed invocation always gets 200,
// whatever the function answered: the host turns any other status into a
// 500 for the client and drops the logs. A malformed one, which the host
// never sends, gets 400.
func handleInvoke(rt Route, fn http.Handler, maxEnvelope int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := clientHeader(r.Header); h != "" {
			// The host's own invocation requests carry none of these; a
			// client's request forwarded here must not have its body
			// taken for credentials.
			writeError(w, r, badBody("this is the host's invocation endpoint, and the request carries the client header "+h))
			return
		}
		rec := newResponseRecorder(entryOf(r))
		inner, err := readInvocation(w, r, maxEnvelope)
		switch {
		case errors.Is(err, ErrBodyTooLarge):
			// Too large to read, so well-formed as far as anyone knows:
			// answer inside the payload, so the client gets the 413
			// rather than the host's 500.
			writeError(rec, r, err)
		case err != nil:
			writeError(w, r, err)
			return
		case !slices.Contains(rt.Methods, inner.Method):
			rec.Header().Set("Allow", allowHeader(rt.Methods))
			writeError(rec, inner, ErrMethodNotAllowed)
		default:
			fn.ServeHTTP(rec, inner)
		}
		if rec.e != nil {
			rec.e.resStatus = rec.status
		}
		out := httpOutput{StatusCode: strconv.Itoa(rec.status), Headers: make(map[string]string, len(rec.header)), Body: rec.body.String()}
		for k, vs := range rec.header {
			out.Headers[k] = strings.Join(vs, ", ")
		}
		if out.Headers["Content-Type"] == "" {
			// The host fails on a missing content type.
			out.Headers["Content-Type"] = "text/plain; charset=utf-8"
		}
		b, err := json.Marshal(invocationResult{Outputs: map[string]httpOutput{outputBinding: out}, Logs: []string{}})
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(b)
	})
}

// clientHeader names a header of h that only a client's request carries,
// or returns "". The host builds its invocation requests afresh: the
// payload as JSON, X-Azure-Functions-InvocationId,
// X-Azure-Functions-HostVersion and a User-Agent, and nothing of the
// client's (DefaultHttpWorkerService.AddHeaders in
// https://github.com/Azure/azure-functions-host). A request with any of
// these headers is a client's that something forwarded here, and its body
// must not be taken for the host's word: the credentials inside it would
// be the client's own choice, Easy Auth's principal included.
//
// Names match in any ASCII letter case, and "_" as "-": CGI-style servers
// and some proxies read X_Forwarded_For as X-Forwarded-For, and a header
// map filled by hand may not be canonical.
func clientHeader(h http.Header) string {
	for name := range h {
		if isClientHeader(name) {
			return bounded.String(name)
		}
	}
	return ""
}

// clientHeaderNames are the client's headers by exact name, lower case:
//   - credentials: Authorization, Proxy-Authorization, Cookie, and
//     x-functions-key, the host's own function key
//     (https://learn.microsoft.com/azure/azure-functions/function-keys-how-to);
//   - what a proxy adds to say whom it forwards: Forwarded (RFC 7239),
//     Via and Max-Forwards (RFC 9110 §7.6), and the client address
//     headers of the common proxies and CDNs (X-Forwarded and X-Host
//     alone, Proxy-Client-IP and WL-Proxy-Client-IP included);
//   - what the App Service front end adds to every request it forwards to
//     the host (DISGUISED-HOST, WAS-DEFAULT-HOSTNAME,
//     X-SITE-DEPLOYMENT-ID, CLIENT-IP …), beside the prefixed ones below;
//   - what browsers add (Origin, Referer).
var clientHeaderNames = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "x-functions-key": true,
	"forwarded": true, "via": true, "max-forwards": true,
	"x-real-ip": true, "x-client-ip": true, "client-ip": true, "true-client-ip": true, "x-cluster-client-ip": true,
	"x-client-port": true, "cf-connecting-ip": true, "fastly-client-ip": true,
	"x-forwarded": true, "x-host": true, "proxy-client-ip": true, "wl-proxy-client-ip": true,
	"disguised-host": true, "was-default-hostname": true, "x-site-deployment-id": true,
	"origin": true, "referer": true,
}

// clientHeaderPrefixes are the client's header families:
//   - x-forwarded- (For, Host, Proto, Port, Prefix, Server, TlsVersion …)
//     and x-original- (URL, Host, For, Method …): a proxy's account of
//     the client's request;
//   - x-arr- (X-ARR-LOG-ID, X-ARR-SSL, X-ARR-ClientCert), x-appservice-,
//     x-waws-: the App Service front end's (ARR's) marks;
//   - x-ms-: App Service Authentication's principal, IdP and token store
//     (X-MS-CLIENT-PRINCIPAL*, X-MS-TOKEN-*), and the platform's
//     other request marks;
//   - x-azure- (X-Azure-ClientIP, X-Azure-SocketIP, X-Azure-Ref,
//     X-Azure-FDID) and x-fd-: Azure Front Door's, except the host's own
//     x-azure-functions- headers;
//   - x-envoy-: the Envoy proxy's (Container Apps' ingress runs Envoy);
//   - sec-fetch-: a browser's.
var clientHeaderPrefixes = []string{"x-forwarded-", "x-original-", "x-arr-", "x-appservice-", "x-waws-", "x-ms-", "x-azure-", "x-fd-", "x-envoy-", "sec-fetch-"}

// hostHeaderPrefix is the host's own family, which x-azure- would take in.
const hostHeaderPrefix = "x-azure-functions-"

// isClientHeader reports whether the header name belongs to a client's
// request.
func isClientHeader(name string) bool {
	n := strings.ReplaceAll(bounded.Lower(name), "_", "-")
	if clientHeaderNames[n] {
		return true
	}
	if strings.HasPrefix(n, hostHeaderPrefix) {
		return false
	}
	for _, p := range clientHeaderPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// readInvocation rebuilds the client's request from the payload.
func readInvocation(w http.ResponseWriter, r *http.Request, max int64) (*http.Request, error) {
	if r.ContentLength > max {
		return nil, ErrBodyTooLarge
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, ErrBodyTooLarge
		}
		return nil, badBody("the invocation could not be read")
	}
	var inv invocation
	if err := decodeJSON(raw, &inv); err != nil {
		return nil, badBody("the invocation is not the host's JSON payload")
	}
	reqJSON, ok := inv.Data[triggerBinding]
	if !ok {
		return nil, badBody(`the invocation has no Data.req`)
	}
	var in invocationHTTPRequest
	if err := json.Unmarshal(reqJSON, &in); err != nil {
		return nil, badBody("Data.req is not an HTTP request: " + jsonProblem(err))
	}
	if !validMethod(in.Method) {
		return nil, badBody("Data.req.Method is not an HTTP method")
	}
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, badBody("Data.req.Url is not an absolute http(s) URL")
	}
	if u.RawQuery == "" {
		q, err := queryObject(in.Query)
		if err != nil {
			return nil, err
		}
		u.RawQuery = q.Encode()
	}
	header := make(http.Header, len(in.Headers))
	for k, vs := range in.Headers {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	body, err := invocationBody(in.Body, header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	inner, err := http.NewRequestWithContext(r.Context(), in.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, badBody("Data.req does not make a request")
	}
	inner.Header = header
	inner.ContentLength = int64(len(body))
	inner.Host = u.Host
	if h := header.Get("Host"); h != "" {
		inner.Host = h
	}
	inner.RemoteAddr = r.RemoteAddr
	params, err := paramsObject(in.Params)
	if err != nil {
		return nil, err
	}
	for k, v := range params {
		inner.SetPathValue(k, v)
	}
	return inner, nil
}

// paramsObject reads Data.req.Params: the route's values as the host
// matched them against function.json's route template, an object of
// strings ({} when the route has none). They become the inner request's
// path values, as the router sets them on a forwarded request.
func paramsObject(raw json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, badBody("Data.req.Params is not an object of strings")
	}
	return m, nil
}

// queryObject reads Data.req.Query: an object of strings (or, as the
// documentation's example has it, that object as a JSON string).
func queryObject(raw json.RawMessage) (url.Values, error) {
	q := url.Values{}
	if len(raw) == 0 || string(raw) == "null" {
		return q, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, badBody("Data.req.Query is not an object of strings")
	}
	for k, v := range m {
		q.Set(k, v)
	}
	return q, nil
}

// invocationBody reads Data.req.Body: absent when the request had none, a
// string of the body's text, or for binary content types the bytes in
// base64.
func invocationBody(raw json.RawMessage, contentType string) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, badBody("Data.req.Body is not a string")
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/octet-stream" || strings.HasPrefix(mt, "multipart/") {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, badBody("Data.req.Body of a binary request is not base64")
		}
		return b, nil
	}
	return []byte(s), nil
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func jsonProblem(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return typ.Field + " has the wrong type"
	}
	return "malformed"
}

// responseRecorder captures a function's response for the payload. It
// carries the invocation's log entry, so that what the function's layers
// learn (the caller, a refusal) reaches the invocation's log line.
type responseRecorder struct {
	header http.Header
	e      *entry
	status int
	body   bytes.Buffer
}

// The function's answer inside the payload gets the same headers as a
// forwarded one, since the host copies them to the client's response.
func newResponseRecorder(e *entry) *responseRecorder {
	h := http.Header{}
	setResponseHeaders(h)
	return &responseRecorder{header: h, e: e}
}

func (rr *responseRecorder) Header() http.Header { return rr.header }

func (rr *responseRecorder) WriteHeader(code int) {
	if rr.status == 0 {
		rr.status = code
	}
}

func (rr *responseRecorder) Write(b []byte) (int, error) {
	if rr.status == 0 {
		rr.status = http.StatusOK
	}
	return rr.body.Write(b)
}

package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestResponseHeadersOnEveryAnswer: every answer, whatever route or error
// produced it, carries nosniff (Hello echoes the caller's text, which a
// browser must never sniff into HTML) and no-store (Me returns personal
// data; no cache may hand one caller's answer to another).
func TestResponseHeadersOnEveryAnswer(t *testing.T) {
	jsonAuth := map[string][]string{"Authorization": {"Bearer " + goodToken}, "Content-Type": {"application/json"}}
	routes := panicRoutes("boom")
	tests := []struct {
		name   string
		req    req
		status int
		// invocation: the request is the host's payload, and the inner
		// answer's headers must carry the same values (the host copies
		// them to the client's response).
		invocation bool
	}{
		{name: "GET / readiness", req: req{method: http.MethodGet, target: "/"}, status: http.StatusOK},
		{name: "Hello GET", req: req{method: http.MethodGet, target: "/api/Hello?name=%3Cscript%3E", token: goodToken}, status: http.StatusOK},
		{name: "Hello POST", req: req{method: http.MethodPost, target: "/api/Hello", body: strings.NewReader(`{"name":"<b>x</b>"}`), ctype: "application/json", token: goodToken}, status: http.StatusOK},
		{name: "Me", req: req{method: http.MethodGet, target: "/api/Me", token: goodToken}, status: http.StatusOK},
		{name: "no credentials", req: req{method: http.MethodGet, target: "/api/Me"}, status: http.StatusUnauthorized},
		{name: "invalid token", req: req{method: http.MethodGet, target: "/api/Me", token: badToken}, status: http.StatusUnauthorized},
		{name: "token in the query", req: req{method: http.MethodGet, target: "/api/Me?access_token=x", token: goodToken}, status: http.StatusBadRequest},
		{name: "insufficient scope", req: req{method: http.MethodGet, target: "/api/Me", token: noScopeToken}, status: http.StatusForbidden},
		{name: "keys unavailable", req: req{method: http.MethodGet, target: "/api/Me", token: keysToken}, status: http.StatusServiceUnavailable},
		{name: "malformed body", req: req{method: http.MethodPost, target: "/api/Hello", body: strings.NewReader(`{"name":`), ctype: "application/json", token: goodToken}, status: http.StatusBadRequest},
		{name: "body too large", req: req{method: http.MethodPost, target: "/api/Hello", body: strings.NewReader(`{"name":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`), ctype: "application/json", token: goodToken}, status: http.StatusRequestEntityTooLarge},
		{name: "no such function", req: req{method: http.MethodGet, target: "/api/Nope", token: goodToken}, status: http.StatusNotFound},
		{name: "method not allowed on a route", req: req{method: http.MethodDelete, target: "/api/Hello", token: goodToken}, status: http.StatusMethodNotAllowed},
		{name: "method not allowed on /", req: req{method: http.MethodPost, target: "/"}, status: http.StatusMethodNotAllowed},
		{name: "panic", req: req{method: http.MethodGet, target: "/api/Boom", token: goodToken}, status: http.StatusInternalServerError},
		{name: "invocation endpoint with a client header", req: req{method: http.MethodPost, target: "/Hello", token: goodToken, body: strings.NewReader(`{}`), ctype: "application/json"}, status: http.StatusBadRequest},
		{name: "invocation Hello", req: req{method: http.MethodPost, target: "/Hello", body: strings.NewReader(hostPayload(t, "POST", "http://localhost:7071/api/Hello", jsonAuth, nil, strp(`{"name":"<i>x</i>"}`))), ctype: "application/json"}, status: http.StatusOK, invocation: true},
		{name: "invocation Me", req: req{method: http.MethodPost, target: "/Me", body: strings.NewReader(hostPayload(t, "GET", "http://localhost:7071/api/Me", jsonAuth, nil, nil)), ctype: "application/json"}, status: http.StatusOK, invocation: true},
		{name: "invocation refused", req: req{method: http.MethodPost, target: "/Me", body: strings.NewReader(hostPayload(t, "GET", "http://localhost:7071/api/Me", nil, nil, nil)), ctype: "application/json"}, status: http.StatusUnauthorized, invocation: true},
		{name: "invocation method not allowed", req: req{method: http.MethodPost, target: "/Me", body: strings.NewReader(hostPayload(t, "POST", "http://localhost:7071/api/Me", jsonAuth, nil, nil)), ctype: "application/json"}, status: http.StatusMethodNotAllowed, invocation: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Routes = routes })
			w := f.do(t, tt.req)
			got := map[string]string{}
			status := w.Code
			if tt.invocation {
				if w.Code != http.StatusOK {
					t.Fatalf("invocation answered %d: %s", w.Code, w.Body.String())
				}
				var s string
				s, got, _ = decodeInvocation(t, w)
				status, _ = strconv.Atoi(s)
			} else {
				for k := range w.Header() {
					got[k] = w.Header().Get(k)
				}
			}
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, w.Body.String())
			}
			want := map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (headers %v)", k, got[k], v, got)
				}
			}
			if tt.invocation {
				// The envelope for the host carries them too.
				for k, v := range want {
					if w.Header().Get(k) != v {
						t.Errorf("envelope %s = %q, want %q", k, w.Header().Get(k), v)
					}
				}
			}
		})
	}
}

// decodeInvocation reads the inner answer of an invocation result.
func decodeInvocation(t *testing.T, w *httptest.ResponseRecorder) (status string, headers map[string]string, body string) {
	t.Helper()
	var res invokeResult
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatalf("invocation result is not JSON: %v: %s", err, w.Body.String())
	}
	out, ok := res.Outputs[outputBinding]
	if !ok {
		t.Fatalf("no Outputs.res: %s", w.Body.String())
	}
	return out.StatusCode, out.Headers, out.Body
}

// TestTransferEncodingClosesTheConnection sends, over a real connection,
// requests whose body framing a front end and net/http may read
// differently, each followed on the same connection by a second request.
// An answer to a request with a Transfer-Encoding must close the
// connection (RFC 9112 §6.1), so that a request hidden in its body (the
// smuggled GET /api/Me, which would answer with the caller's identity) is
// never answered; a request framed by Content-Length alone keeps the
// connection, and its follower is answered as usual.
func TestTransferEncodingClosesTheConnection(t *testing.T) {
	f := newFixture(t, nil)
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)

	second := "GET /api/Me HTTP/1.1\r\nHost: example\r\nAuthorization: Bearer " + goodToken + "\r\n\r\n"
	smuggling := "0\r\n\r\n" + second // chunked: empty body, then the smuggled request
	head := "POST /api/Hello HTTP/1.1\r\nHost: example\r\nAuthorization: Bearer " + goodToken + "\r\nContent-Type: application/json\r\n"
	tests := []struct {
		name      string
		raw       string
		wantClose bool // the first answer says Connection: close, and nothing follows
	}{
		{
			// A front end that honours Content-Length sees one request
			// whose body is all the rest; net/http honours the chunked
			// coding and reads the rest as a second request.
			name:      "Content-Length and Transfer-Encoding",
			raw:       head + "Content-Length: " + strconv.Itoa(len(smuggling)) + "\r\nTransfer-Encoding: chunked\r\n\r\n" + smuggling,
			wantClose: true,
		},
		{
			name:      "Transfer-Encoding and Content-Length, in that order",
			raw:       head + "Transfer-Encoding: chunked\r\nContent-Length: " + strconv.Itoa(len(smuggling)) + "\r\n\r\n" + smuggling,
			wantClose: true,
		},
		{
			name:      "Transfer-Encoding alone",
			raw:       head + "Transfer-Encoding: chunked\r\n\r\n" + "e\r\n{\"name\":\"Ada\"}\r\n0\r\n\r\n" + second,
			wantClose: true,
		},
		{
			name:      "Transfer-Encoding on a GET",
			raw:       "GET /api/Hello?name=Ada HTTP/1.1\r\nHost: example\r\nAuthorization: Bearer " + goodToken + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + second,
			wantClose: true,
		},
		{
			name: "Content-Length alone keeps the connection",
			raw:  head + "Content-Length: 14\r\n\r\n{\"name\":\"Ada\"}" + second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, tt.raw); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			first, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("first answer: %v", err)
			}
			io.Copy(io.Discard, first.Body)
			first.Body.Close()
			if first.StatusCode != http.StatusOK {
				t.Errorf("first answer: status %d, want 200", first.StatusCode)
			}
			// ReadResponse turns Connection: close into Close.
			if first.Close != tt.wantClose {
				t.Errorf("first answer: Connection: close is %v, want %v", first.Close, tt.wantClose)
			}
			next, err := http.ReadResponse(br, nil)
			if tt.wantClose {
				if err == nil {
					b, _ := io.ReadAll(next.Body)
					t.Fatalf("the request after it was answered too: %d %s", next.StatusCode, b)
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("the connection stayed open: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("the request after it was not answered: %v", err)
			}
			defer next.Body.Close()
			if next.StatusCode != http.StatusOK {
				t.Errorf("second answer: status %d, want 200", next.StatusCode)
			}
		})
	}
}

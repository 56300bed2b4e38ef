package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestLogOneLinePerRequest(t *testing.T) {
	tests := []struct {
		name     string
		req      req
		body     string // the request body, built afresh for each run
		level    string
		authed   bool   // the line carries oid and tid
		reason   string // "" means no reason attribute
		hasError bool   // the line carries an error attribute
	}{
		{name: "hello", req: req{method: "GET", target: "/api/Hello?name=Marc", token: goodToken}, level: "INFO", authed: true},
		{name: "me", req: req{method: "GET", target: "/api/Me", token: goodToken}, level: "INFO", authed: true},
		{name: "readiness", req: req{method: "GET", target: "/"}, level: "INFO"},
		{name: "no credentials", req: req{method: "GET", target: "/api/Hello"}, level: "INFO", reason: "no_credentials", hasError: true},
		{name: "expired", req: req{method: "GET", target: "/api/Me", token: badToken}, level: "INFO", reason: "expired", hasError: true},
		{name: "insufficient scope", req: req{method: "GET", target: "/api/Me", token: noScopeToken}, level: "INFO", authed: true, reason: "insufficient_scope", hasError: true},
		{name: "keys unavailable", req: req{method: "GET", target: "/api/Me", token: keysToken}, level: "ERROR", reason: "keys_unavailable", hasError: true},
		{name: "bad body", req: req{method: "POST", target: "/api/Hello", token: goodToken}, body: "[1]", level: "INFO", authed: true, hasError: true},
		{name: "too large", req: req{method: "POST", target: "/api/Hello", token: goodToken}, body: strings.Repeat(" ", DefaultMaxBodyBytes+1), level: "INFO", hasError: true},
		{name: "not found", req: req{method: "GET", target: "/api/Nope", token: goodToken}, level: "INFO", hasError: true},
		{name: "method not allowed", req: req{method: "DELETE", target: "/api/Hello", token: goodToken}, level: "INFO", hasError: true},
	}
	for _, tt := range tests {
		for _, withInvocation := range []bool{true, false} {
			name := tt.name
			if !withInvocation {
				name += " without invocation id"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, nil)
				q := tt.req
				if tt.body != "" {
					q.body = strings.NewReader(tt.body)
				}
				if withInvocation {
					q.headers = http.Header{InvocationIDHeader: {invocationID}}
				}
				w := f.do(t, q)
				lines := f.logLines(t)
				if len(lines) != 1 {
					t.Fatalf("want one log line, got %d:\n%s", len(lines), f.logs.String())
				}
				l := lines[0]
				wantPath, _, _ := strings.Cut(q.target, "?")
				checks := map[string]any{
					"msg":    "request",
					"level":  tt.level,
					"method": q.method,
					"path":   wantPath,
					"status": float64(w.Code),
				}
				for k, v := range checks {
					if l[k] != v {
						t.Errorf("log %s = %#v, want %#v", k, l[k], v)
					}
				}
				if d, ok := l["duration_ms"].(float64); !ok || d < 0 {
					t.Errorf("log duration_ms = %#v, want a non-negative number", l["duration_ms"])
				}
				if id, ok := l["request_id"].(string); !ok || id == "" {
					t.Errorf("log request_id = %#v, want a non-empty string", l["request_id"])
				}
				if withInvocation {
					if l["invocation_id"] != invocationID {
						t.Errorf("log invocation_id = %#v, want %q", l["invocation_id"], invocationID)
					}
				} else if v, ok := l["invocation_id"]; ok {
					t.Errorf("log invocation_id = %#v without the header", v)
				}
				if tt.authed {
					if l["oid"] != goodOID || l["tid"] != goodTID {
						t.Errorf("log oid, tid = %#v, %#v, want %q, %q", l["oid"], l["tid"], goodOID, goodTID)
					}
				} else if _, ok := l["oid"]; ok {
					t.Errorf("log has oid %#v for an unauthenticated request", l["oid"])
				}
				if tt.reason != "" {
					if l["reason"] != tt.reason {
						t.Errorf("log reason = %#v, want %q", l["reason"], tt.reason)
					}
				} else if v, ok := l["reason"]; ok {
					t.Errorf("log reason = %#v, want none", v)
				}
				if _, ok := l["error"]; ok != tt.hasError {
					t.Errorf("log error present = %v, want %v", ok, tt.hasError)
				}
				if w.Code >= 400 {
					if pb := checkProblem(t, w, w.Code); pb.RequestID != l["request_id"] {
						t.Errorf("problem requestId %q differs from log request_id %#v", pb.RequestID, l["request_id"])
					}
				}
			})
		}
	}
}

func TestLogRequestIDsDiffer(t *testing.T) {
	f := newFixture(t, nil)
	for range 3 {
		f.do(t, req{method: "GET", target: "/api/Hello", token: goodToken})
	}
	lines := f.logLines(t)
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %d", len(lines))
	}
	seen := map[any]bool{}
	for _, l := range lines {
		if seen[l["request_id"]] {
			t.Errorf("request_id %v repeats", l["request_id"])
		}
		seen[l["request_id"]] = true
	}
}

func TestLogKeepsSecretsOut(t *testing.T) {
	tests := []struct {
		name    string
		req     req
		status  int
		secrets []string // none of these may appear in the log
		reason  string
	}{
		{
			name:    "query name and smuggled token",
			req:     req{method: "GET", target: "/api/Hello?name=secret-name&access_token=tok123", token: goodToken},
			status:  400,
			secrets: []string{"secret-name", "tok123", "access_token", "QX7ZK9", "?"},
			reason:  "invalid_request",
		},
		{
			name:    "query name served",
			req:     req{method: "GET", target: "/api/Hello?name=secret-name", token: goodToken},
			status:  200,
			secrets: []string{"secret-name", "QX7ZK9", "?"},
		},
		{
			name:    "body name",
			req:     req{method: "POST", target: "/api/Hello", token: goodToken, body: strings.NewReader(`{"name":"secret-body-name"}`)},
			status:  200,
			secrets: []string{"secret-body-name", "QX7ZK9"},
		},
		{
			name:    "bad body",
			req:     req{method: "POST", target: "/api/Hello", token: goodToken, body: strings.NewReader(`{"name": ["secret-body-name"]}`)},
			status:  400,
			secrets: []string{"secret-body-name", "QX7ZK9"},
		},
		{
			name:    "expired token",
			req:     req{method: "GET", target: "/api/Me", token: badToken},
			status:  401,
			secrets: []string{badToken, "EXPIRED-R3CG", "eyJhbGciOi", "c2lnbmF0dXJl"},
			reason:  "expired",
		},
		{
			name:    "token without the scope",
			req:     req{method: "GET", target: "/api/Me", token: noScopeToken},
			status:  403,
			secrets: []string{noScopeToken, "P0LKJ3"},
			reason:  "insufficient_scope",
		},
		{
			name:    "personal data of the caller",
			req:     req{method: "GET", target: "/api/Me", token: goodToken},
			status:  200,
			secrets: []string{"Marc Example", "marc@example.com", goodClientApp, "QX7ZK9"},
		},
		{
			name:    "basic credentials",
			req:     req{method: "GET", target: "/api/Me", headers: http.Header{"Authorization": {"Basic c2VjcmV0LXBhc3N3b3Jk"}}},
			status:  401,
			secrets: []string{"c2VjcmV0LXBhc3N3b3Jk", "Basic"},
			reason:  "no_credentials",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			w := f.do(t, tt.req)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body.String())
			}
			if tt.status == 200 && strings.Contains(tt.req.target, "secret-name") && !strings.Contains(w.Body.String(), "secret-name") {
				t.Fatalf("the query did not reach the handler: %q", w.Body.String())
			}
			l := f.requestLine(t)
			wantPath, _, _ := strings.Cut(tt.req.target, "?")
			if l["path"] != wantPath {
				t.Errorf("log path = %#v, want %q", l["path"], wantPath)
			}
			if tt.reason != "" && l["reason"] != tt.reason {
				t.Errorf("log reason = %#v, want %q", l["reason"], tt.reason)
			}
			logs := f.logs.String()
			for _, s := range tt.secrets {
				if strings.Contains(logs, s) {
					t.Errorf("the log holds %q:\n%s", s, logs)
				}
			}
		})
	}
}

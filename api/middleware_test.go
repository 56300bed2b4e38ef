package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestLogPathIsBounded: a token pasted into the path does not reach the
// log whole; its signature, at the end, not at all.
func TestLogPathIsBounded(t *testing.T) {
	f := newFixture(t, nil)
	signature := strings.Repeat("S1gnatur3", 30)
	payload := "eyJ" + strings.Repeat("c3ViIjoiIn0", 60) // a token's payload is hundreds of bytes
	w := f.do(t, req{method: http.MethodGet, target: "/api/Hello/eyJhbGciOiJSUzI1NiJ9." + payload + "." + signature, token: goodToken})
	checkProblem(t, w, http.StatusNotFound)
	line := f.requestLine(t)
	path, _ := line["path"].(string)
	if len(path) > maxLoggedPath+len("…") || !strings.HasPrefix(path, "/api/Hello/eyJ") {
		t.Errorf("logged path %q (%d bytes)", path, len(path))
	}
	if strings.Contains(f.logs.String(), signature[:40]) {
		t.Error("the log holds the token's signature")
	}
}

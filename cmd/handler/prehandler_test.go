package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestNetHTTPAnswersBeforeTheHandler sends raw requests that Go's HTTP
// server refuses itself, to a server built as serve builds it
// (newHTTPServer), and checks each status, that the handler never saw the
// request, and that README's "Responses and errors" lists the status:
// these answers have no problem body, no request id and no log line, and
// the README says so, so it must not drift from what the server does.
func TestNetHTTPAnswersBeforeTheHandler(t *testing.T) {
	var seen atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		io.WriteString(w, "handler\n")
	})
	srv := newHTTPServer(h, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	if i := strings.Index(section, "## Responses and errors"); i >= 0 {
		section = section[i:]
		if j := strings.Index(section[3:], "\n## "); j >= 0 {
			section = section[:j+3]
		}
	} else {
		t.Fatal(`README.md has no "Responses and errors" section`)
	}

	// A header block past MaxHeaderBytes and the 4 KiB net/http reads
	// beyond it.
	big := strings.Repeat("a", maxHeaderBytes+4<<10)
	tests := []struct {
		name   string
		raw    string
		status int
	}{
		{"malformed request line", "GET\r\n\r\n", http.StatusBadRequest},
		{"malformed header line", "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", http.StatusBadRequest},
		{"bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", http.StatusBadRequest},
		{"no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", http.StatusBadRequest},
		{"two Content-Lengths that differ", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", http.StatusBadRequest},
		{"headers too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", http.StatusNotImplemented},
		{"unknown transfer coding before chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", http.StatusNotImplemented},
		{"HTTP/3.0", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", http.StatusHTTPVersionNotSupported},
		{"HTTP/2.0 without the preface", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", http.StatusHTTPVersionNotSupported},
		{"unknown Expect", "POST / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 0\r\n\r\n", http.StatusExpectationFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := seen.Load()
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, tt.raw); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d: %q", resp.StatusCode, tt.status, body)
			}
			if !resp.Close {
				t.Error("the connection stays open")
			}
			if resp.Header.Get("X-Content-Type-Options") != "" {
				t.Error("the answer has the handler's headers: the README says it has not")
			}
			if seen.Load() != before {
				t.Error("the handler saw the request")
			}
			if !strings.Contains(section, "| "+strconv.Itoa(tt.status)+" |") {
				t.Errorf(`README's "Responses and errors" does not list %d`, tt.status)
			}
		})
	}
}

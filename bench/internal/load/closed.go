// Package load generates the benchmark's load: closed-loop (a fixed number
// of keep-alive connections, each sending its next request as soon as the
// last is answered) for throughput, and open-loop (a fixed request rate,
// whatever the server does) for latency.
package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Target is the request a run sends, the same every time.
type Target struct {
	// Method is GET when empty.
	Method string
	// Path is the request target: the path and query.
	Path   string
	Header map[string]string
	Body   []byte
	// Want is the status that counts as answered: 200 when zero.
	Want int
}

func (t Target) method() string {
	if t.Method == "" {
		return "GET"
	}
	return t.Method
}

func (t Target) want() int {
	if t.Want == 0 {
		return 200
	}
	return t.Want
}

// Bytes is t as HTTP/1.1 on the wire to addr, serialised once: every
// request of a closed-loop run is the same bytes.
func (t Target) Bytes(addr string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", t.method(), t.Path, addr)
	for k, v := range t.Header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	if t.Body != nil || t.method() == "POST" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(t.Body))
	}
	b.WriteString("User-Agent: entrafunc-bench\r\n\r\n")
	b.Write(t.Body)
	return b.Bytes()
}

// ClosedResult is one closed-loop run.
type ClosedResult struct {
	// Requests answered with the target's status, and Errors: any other
	// status, or a connection that failed (it is dialled again).
	Requests, Errors int64
	// Elapsed runs from the moment every connection was open to the
	// moment the last one stopped.
	Elapsed time.Duration
	// Latencies of the answered requests, unsorted: from the request's
	// first byte written to its response's last byte read.
	Latencies []time.Duration
}

// RPS is answered requests per second.
func (r ClosedResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Closed runs conns connections against addr for d, each sending t as
// soon as the previous answer is in.
//
// It is a minimal HTTP/1.1 client on net.Conn rather than net/http's: on
// two cores the load generator takes its CPU from the server under test,
// and net/http's client costs several times as much per request (a
// request and header map to build, a goroutine hand-off per connection),
// which would lower every server's figure and flatten the differences.
// This one writes fixed bytes and parses only the status line and the
// framing headers.
func Closed(ctx context.Context, addr string, t Target, conns int, d time.Duration) (ClosedResult, error) {
	if conns < 1 {
		return ClosedResult{}, errors.New("load: conns < 1")
	}
	req, want := t.Bytes(addr), t.want()
	workers := make([]*worker, conns)
	for i := range workers {
		w := &worker{addr: addr, req: req, want: want, lat: make([]time.Duration, 0, 1<<14)}
		if err := w.dial(); err != nil {
			for _, w := range workers[:i] {
				w.close()
			}
			return ClosedResult{}, err
		}
		workers[i] = w
	}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx, deadline)
		}()
	}
	wg.Wait()
	res := ClosedResult{Elapsed: time.Since(start)}
	n := 0
	for _, w := range workers {
		w.close()
		n += len(w.lat)
	}
	res.Latencies = make([]time.Duration, 0, n)
	for _, w := range workers {
		res.Requests += int64(len(w.lat))
		res.Errors += w.errors
		res.Latencies = append(res.Latencies, w.lat...)
	}
	if res.Requests == 0 && res.Errors > 0 {
		return res, fmt.Errorf("load: no request to %s answered %d (%d errors; last: %v)", addr, want, res.Errors, workers[0].lastErr)
	}
	return res, ctx.Err()
}

// worker is one connection's loop.
type worker struct {
	addr    string
	req     []byte
	want    int
	conn    net.Conn
	br      *bufio.Reader
	lat     []time.Duration
	errors  int64
	lastErr error
}

func (w *worker) dial() error {
	c, err := net.DialTimeout("tcp", w.addr, 5*time.Second)
	if err != nil {
		return err
	}
	w.conn = c
	if w.br == nil {
		w.br = bufio.NewReaderSize(c, 16<<10)
	} else {
		w.br.Reset(c)
	}
	return nil
}

func (w *worker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

func (w *worker) run(ctx context.Context, deadline time.Time) {
	// The I/O deadline bounds a request the server never answers.
	ioDeadline := deadline.Add(5 * time.Second)
	if w.conn != nil {
		w.conn.SetDeadline(ioDeadline)
	}
	for {
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			return
		}
		if w.conn == nil {
			if err := w.dial(); err != nil {
				w.errors++
				w.lastErr = err
				time.Sleep(10 * time.Millisecond)
				continue
			}
			w.conn.SetDeadline(ioDeadline)
		}
		began := time.Now()
		status, keep, err := w.roundTrip()
		took := time.Since(began)
		switch {
		case err != nil:
			w.errors++
			w.lastErr = err
			w.close()
			continue
		case status != w.want:
			w.errors++
			w.lastErr = fmt.Errorf("status %d", status)
		default:
			w.lat = append(w.lat, took)
		}
		if !keep {
			w.close()
		}
	}
}

// roundTrip writes the request and reads one response, reporting its
// status and whether the connection stays open.
func (w *worker) roundTrip() (status int, keep bool, err error) {
	if _, err := w.conn.Write(w.req); err != nil {
		return 0, false, err
	}
	return readResponse(w.br)
}

// readResponse reads one HTTP/1.1 response from br, discarding its body.
// It understands Content-Length, chunked transfer coding and
// Connection: close, which is all the servers measured use.
func readResponse(br *bufio.Reader) (status int, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("load: bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("load: bad status line %q", line)
	}
	keep = line[7] == '1' // HTTP/1.1 keeps the connection by default, 1.0 does not
	length, chunked := int64(-1), false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(line) <= 2 { // the blank line: CRLF or LF
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, false, fmt.Errorf("load: bad Content-Length %q", value)
			}
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case asciiEqualFold(name, "connection"):
			v := bytes.ToLower(value)
			if bytes.Contains(v, []byte("close")) {
				keep = false
			} else if bytes.Contains(v, []byte("keep-alive")) {
				keep = true
			}
		}
	}
	switch {
	case chunked:
		err = discardChunked(br)
	case length >= 0:
		_, err = br.Discard(int(length))
	default:
		// No framing: the body runs to the end of the connection.
		_, err = io.Copy(io.Discard, br)
		keep = false
	}
	return status, keep, err
}

func discardChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		sizeText, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		size, err := strconv.ParseInt(string(sizeText), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("load: bad chunk size %q", line)
		}
		if size == 0 {
			for { // trailers, up to the blank line
				line, err := br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(line) <= 2 {
					return nil
				}
			}
		}
		if _, err := br.Discard(int(size) + 2); err != nil { // the chunk and its CRLF
			return err
		}
	}
}

// asciiEqualFold compares a header name without allocating.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

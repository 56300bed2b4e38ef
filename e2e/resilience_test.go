package e2e

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/internal/entratest"
)

// The resilience tests run the real binary in jwt mode against entratest
// over loopback, under load: at shutdown, with the issuer down, under a
// flood of unknown kids, with a thousand connections. In make test each
// runs for a few seconds; ENTRAFUNC_SOAK=1 (make soak) runs the long
// versions, which a 2-core machine cannot afford on every test run.

// soakEnv selects the long versions.
const soakEnv = "ENTRAFUNC_SOAK"

// soakOr returns short, or long under ENTRAFUNC_SOAK=1.
func soakOr(short, long time.Duration) time.Duration {
	if os.Getenv(soakEnv) == "1" {
		return long
	}
	return short
}

// fate is how one request ended, seen from the client. Only answered and
// the three ways of failing before the server took the request are
// acceptable; which of those a request met is checked against the
// handler's log, which has a line for every request it handled.
type fate int

const (
	// answered: a whole response arrived (its status is the caller's to
	// judge).
	answered fate = iota
	// refused: no connection; nothing listens any more.
	refused
	// unwritten: the request could not be written; the server had
	// already closed the connection.
	unwritten
	// unanswered: the connection closed before a single byte of a
	// response: a keep-alive connection the server closed as idle just
	// as the request was sent, which it never read (RFC 9112 §9.3.1 lets
	// a client retry such a request).
	unanswered
	// broken: anything else: part of a response, a reset mid-response,
	// no answer in time.
	broken
)

func (f fate) String() string {
	return [...]string{"answered", "refused", "unwritten", "unanswered", "broken"}[f]
}

// hostConn is one keep-alive connection to the handler, as the Functions
// host keeps them, driven by hand: net/http's Transport redials and
// retries on its own, and so would hide how a request failed.
type hostConn struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	read int64 // bytes received on conn, to tell "nothing came" from "part came"
}

func (h *hostConn) Read(p []byte) (int, error) {
	n, err := h.conn.Read(p)
	h.read += int64(n)
	return n, err
}

func (h *hostConn) close() {
	if h.conn != nil {
		h.conn.Close()
		h.conn, h.br = nil, nil
	}
}

// dial connects unless connected.
func (h *hostConn) dial() error {
	if h.conn != nil {
		return nil
	}
	c, err := net.DialTimeout("tcp", h.addr, 10*time.Second)
	if err != nil {
		return err
	}
	h.conn, h.br = c, nil
	h.br = bufio.NewReader(h)
	return nil
}

// answer is a whole response.
type answer struct {
	status int
	body   string
}

// roundTrip sends req, connecting first if need be, and reads the whole
// response; a response with Connection: close closes the connection, so
// the next call connects again.
func (h *hostConn) roundTrip(req []byte) (answer, fate, error) {
	if err := h.dial(); err != nil {
		return answer{}, refused, err
	}
	// Generous: a deadline tells a hang from a slow answer on a loaded
	// machine.
	h.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if h.br.Buffered() != 0 {
		h.close()
		return answer{}, broken, errors.New("bytes arrived before the request was sent")
	}
	if _, err := h.conn.Write(req); err != nil {
		h.close()
		return answer{}, unwritten, err
	}
	before := h.read
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		got := h.read - before
		h.close()
		var ne net.Error
		if got == 0 && !(errors.As(err, &ne) && ne.Timeout()) {
			return answer{}, unanswered, err
		}
		return answer{}, broken, fmt.Errorf("after %d bytes of the response: %w", got, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		h.close()
		return answer{}, broken, fmt.Errorf("reading the body of a %d: %w", resp.StatusCode, err)
	}
	if resp.Close {
		h.close()
	}
	return answer{resp.StatusCode, string(body)}, answered, nil
}

// helloRequest is the tutorial's POST /api/Hello as the host forwards it,
// with an invocation id that finds the request's line in the log.
func helloRequest(tok, invocationID string) []byte {
	const body = `{"name": "Marc"}`
	return []byte("POST /api/Hello HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
		"User-Agent: Azure-Functions-Host/4.1036.1.1\r\nX-Azure-Functions-HostVersion: 4.1036.1.1\r\n" +
		"X-Azure-Functions-InvocationId: " + invocationID + "\r\n" +
		"Authorization: Bearer " + tok + "\r\n" +
		"Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// loggedStatuses returns the status of every request the handler logged,
// by invocation id.
func loggedStatuses(t *testing.T, log string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, `"msg":"request"`) {
			continue
		}
		var m struct {
			Status       int    `json:"status"`
			InvocationID string `json:"invocation_id"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m.InvocationID != "" {
			out[m.InvocationID] = m.Status
		}
	}
	return out
}

// memoryKB returns the resident set size and its peak (VmRSS, VmHWM) of
// process pid, in KiB.
func memoryKB(t *testing.T, pid int) (rss, peak int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(l, ":")
		if !ok || name != "VmRSS" && name != "VmHWM" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", name, v, err)
		}
		if name == "VmRSS" {
			rss = n
		} else {
			peak = n
		}
	}
	if rss == 0 || peak == 0 {
		t.Fatalf("no VmRSS or VmHWM in /proc/%d/status", pid)
	}
	return rss, peak
}

// openFiles counts process pid's open file descriptors.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// fileLimit returns process pid's soft limit on open files, from
// /proc/PID/limits.
func fileLimit(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 5 && strings.HasPrefix(l, "Max open files") {
			if f[3] == "unlimited" {
				return ^uint64(0)
			}
			n, err := strconv.ParseUint(f[3], 10, 64)
			if err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			return n
		}
	}
	t.Fatalf("no Max open files in /proc/%d/limits", pid)
	return 0
}

// ensureFileLimit raises this process's soft limit on open files to at
// least n. Go has raised the soft limit to the hard one at start since Go
// 1.19, so this is a no-op unless something lowered it again; it cannot
// pass the hard limit, which only a privileged process can raise, so a
// hard limit under n fails the test saying so. The handler is a Go program
// too and raises its own limit the same way (os/exec gives a child the
// limit this process started with); the tests check that in
// /proc/PID/limits rather than assume it.
func ensureFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Fatalf("this test needs %d open files; the hard limit is %d (raise it: ulimit -Hn %d, as root)", n, lim.Max, n)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("raising the soft limit on open files to %d: %v", n, err)
	}
}

// percentile returns the q-quantile (0 < q ≤ 1) of ds by the nearest-rank
// method, sorting ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	i := int(float64(len(ds))*q+0.999999) - 1
	return ds[max(min(i, len(ds)-1), 0)]
}

// warm starts a handler in jwt mode against a new issuer, with env
// added, and waits until a token is accepted: the keys have loaded.
func warm(t *testing.T, env map[string]string) (*entratest.Issuer, *proc, string) {
	t.Helper()
	is := newIssuer(t, e2eTenant)
	full := jwtEnv(is)
	for k, v := range env {
		full[k] = v
	}
	p := start(t, full)
	tok := is.Sign("k1", v2Claims(e2eTenant))
	p.waitStatus(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(tok)}, 200, 30*time.Second)
	return is, p, tok
}

// TestResilienceSIGTERMUnderLoad: SIGTERM while 50 keep-alive clients
// hammer POST /api/Hello. Every request the handler took is answered in
// full; the others fail before it took them (refused, unwritable, or
// closed unread on an idle connection), which the handler's own log
// confirms: it logged exactly the requests the clients got answers to.
// The process exits 0. The soak repeats the whole cycle, start to exit,
// 20 times: a drain's races are rare.
//
// The signal goes only once a request is known to be in the handler: one
// more client sends its request with Expect: 100-continue and holds the
// body back until the handler reads it (net/http answers 100 Continue at
// the handler's first read of the body). A request the clients merely
// have in flight may still sit unread in the socket, and a drain rightly
// drops those; timing the signal by the clock alone once let a whole
// cycle's requests land before it (23,255 answered before SIGTERM, none
// after).
func TestResilienceSIGTERMUnderLoad(t *testing.T) {
	cycles := 1
	if os.Getenv(soakEnv) == "1" {
		cycles = 20
	}
	is := newIssuer(t, e2eTenant)
	tok := is.Sign("k1", v2Claims(e2eTenant))
	for c := range cycles {
		t.Run(fmt.Sprintf("cycle %d", c+1), func(t *testing.T) { sigtermUnderLoad(t, is, tok) })
	}
}

func sigtermUnderLoad(t *testing.T, is *entratest.Issuer, tok string) {
	const clients = 50
	const loadFor = time.Second
	p := start(t, jwtEnv(is))
	p.waitStatus(request{method: "GET", path: "/api/Hello?name=Marc", headers: bearer(tok)}, 200, 30*time.Second)
	addr := strings.TrimPrefix(p.base, "http://")

	type result struct {
		id   string
		fate fate
		err  error
		at   time.Time // when it ended
	}
	results := make([][]result, clients)
	var answeredN atomic.Int64
	began := time.Now()
	giveUp := began.Add(loadFor + time.Minute) // a client that is never refused must still end
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &hostConn{addr: addr}
			defer h.close()
			for n := 0; time.Now().Before(giveUp); n++ {
				id := fmt.Sprintf("sigterm-%d-%d", i, n)
				a, f, err := h.roundTrip(helloRequest(tok, id))
				if f == answered && (a.status != 200 || a.body != helloMarc) {
					f, err = broken, fmt.Errorf("%d %q", a.status, a.body)
				}
				results[i] = append(results[i], result{id, f, err, time.Now()})
				switch f {
				case answered:
					answeredN.Add(1)
				case refused, broken:
					// Refused: the listener is closed, the handler is
					// going. Either way this client is done.
					return
				}
			}
		}()
	}
	time.Sleep(loadFor)
	held := holdInHandler(t, addr, tok, "sigterm-held")
	before := answeredN.Load()
	sigterm := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The held request's body goes once the drain has begun: the handler
	// must still answer it in full.
	waitLog(t, p, `"msg":"shutting down"`)
	a, f, err := held.finish()
	if f == answered && (a.status != 200 || a.body != helloMarc) {
		f, err = broken, fmt.Errorf("%d %q", a.status, a.body)
	}
	heldResult := result{"sigterm-held", f, err, time.Now()}
	if f == answered {
		answeredN.Add(1)
	} else {
		t.Errorf("the request in the handler at SIGTERM: %s: %v", f, err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}
	wg.Wait()
	results = append(results, []result{heldResult})
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d after SIGTERM under load, want 0\nstderr: %s", code, p.stderr)
	}

	logged := loggedStatuses(t, p.stdout.String())
	counts := map[fate]int{}
	afterSIGTERM := 0
	for _, rs := range results {
		for _, r := range rs {
			counts[r.fate]++
			status, took := logged[r.id]
			switch {
			case r.fate == broken:
				if counts[broken] <= 5 {
					t.Errorf("request %s: %v", r.id, r.err)
				}
			case r.fate == answered:
				if r.at.After(sigterm) {
					afterSIGTERM++
				}
				if !took || status != 200 {
					t.Errorf("request %s was answered 200 but logged with status %d (logged: %v)", r.id, status, took)
				}
			case took:
				// The handler took the request, and the client never got
				// its answer: the one thing a drain must not do.
				t.Errorf("request %s: %s (%v), yet the handler logged it with status %d", r.id, r.fate, r.err, status)
			}
			delete(logged, r.id)
		}
	}
	for id, status := range logged {
		if strings.HasPrefix(id, "sigterm-") {
			t.Errorf("the handler logged request %s (status %d), which no client sent", id, status)
		}
	}
	t.Logf("%d clients: %d answered before SIGTERM, %d after it; then %d refused, %d unwritable, %d closed unread, %d broken",
		clients, before, afterSIGTERM, counts[refused], counts[unwritten], counts[unanswered], counts[broken])
	if before == 0 || afterSIGTERM == 0 {
		t.Errorf("%d requests answered before SIGTERM and %d after it: the signal must land in the middle of the load", before, afterSIGTERM)
	}
	// The held request's client sends nothing more, so is never refused.
	if counts[refused] != clients-min(counts[broken], clients) {
		t.Errorf("%d clients were refused in the end, want all %d: the listener must close at SIGTERM", counts[refused], clients)
	}
}

// heldRequest is a POST /api/Hello that the handler has taken and is
// reading the body of.
type heldRequest struct {
	h    *hostConn
	body string
}

// holdInHandler sends the headers of POST /api/Hello with Expect:
// 100-continue and returns once the handler answers 100 Continue, which
// net/http does at the handler's first read of the body: from then on the
// request is the handler's, and it waits for the body that finish sends.
func holdInHandler(t *testing.T, addr, tok, invocationID string) *heldRequest {
	t.Helper()
	const body = `{"name": "Marc"}`
	h := &hostConn{addr: addr}
	if err := h.dial(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	head := "POST /api/Hello HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
		"User-Agent: Azure-Functions-Host/4.1036.1.1\r\nX-Azure-Functions-HostVersion: 4.1036.1.1\r\n" +
		"X-Azure-Functions-InvocationId: " + invocationID + "\r\n" +
		"Authorization: Bearer " + tok + "\r\nExpect: 100-continue\r\n" +
		"Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	h.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(h.conn, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		t.Fatalf("waiting for 100 Continue: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusContinue {
		t.Fatalf("a request with Expect: 100-continue got %s, want 100 Continue once the handler reads the body", resp.Status)
	}
	return &heldRequest{h: h, body: body}
}

// finish sends the body and reads the whole response, with roundTrip's
// fates.
func (r *heldRequest) finish() (answer, fate, error) {
	h := r.h
	if _, err := io.WriteString(h.conn, r.body); err != nil {
		h.close()
		return answer{}, unwritten, err
	}
	before := h.read
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		got := h.read - before
		h.close()
		if got == 0 {
			return answer{}, unanswered, err
		}
		return answer{}, broken, fmt.Errorf("after %d bytes of the response: %w", got, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	h.close()
	if err != nil {
		return answer{}, broken, fmt.Errorf("reading the body of a %d: %w", resp.StatusCode, err)
	}
	return answer{resp.StatusCode, string(body)}, answered, nil
}

// TestResilienceIssuerOutage: once the keys have loaded, the issuer going
// away (refusing connections, answering 503, or hanging) costs valid
// tokens nothing, with the token cache (one token, as a connector reuses
// it) and without it (AUTH_TOKEN_CACHE_SIZE=0 and a token minted per
// request, so each is verified in full). An unknown kid sent at the
// start makes the handler try a reload against the dead issuer, the one
// fetch an outage meets before the hourly refresh: the reload fails or
// hangs, and the last good keys go on verifying.
func TestResilienceIssuerOutage(t *testing.T) {
	const clients = 4
	hold := soakOr(2*time.Second, 30*time.Second)
	// The short form paces each client: what it shows, that no valid
	// token fails while the issuer is away, takes hundreds of requests,
	// not a saturated machine (six cases at full load were about 12 s of
	// CPU in make test). The soak sends at full load.
	pace := soakOr(10*time.Millisecond, 0)
	cases := []struct {
		name   string
		cached bool
		outage entratest.Outage
	}{
		{"cached token/connections refused", true, entratest.Refuse},
		{"cached token/503", true, entratest.Fail},
		{"cached token/hanging", true, entratest.Hang},
		{"token per request, no cache/connections refused", false, entratest.Refuse},
		{"token per request, no cache/503", false, entratest.Fail},
		{"token per request, no cache/hanging", false, entratest.Hang},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each case has an issuer and a handler of its own. The short
			// form runs them side by side: a few seconds of outage each,
			// at whatever load the machine gives them. The soak runs them
			// one at a time, each at full load for its 30 s.
			if os.Getenv(soakEnv) != "1" {
				t.Parallel()
			}
			env := map[string]string{}
			if !c.cached {
				env["AUTH_TOKEN_CACHE_SIZE"] = "0"
			}
			is, p, tok := warm(t, env)
			addr := strings.TrimPrefix(p.base, "http://")
			md, jwks := is.MetadataFetches(), is.JWKSFetches()
			if err := is.SetOutage(c.outage); err != nil {
				t.Fatal(err)
			}
			defer is.SetOutage(entratest.Up)

			// The unknown kid: 401 unknown_key within the 2 s the
			// handler waits for such a reload (plus a margin), never a
			// 503 or a hang.
			probe := make(chan error, 1)
			go func() {
				began := time.Now()
				h := &hostConn{addr: addr}
				defer h.close()
				a, f, err := h.roundTrip(helloRequest(is.Sign("rotated-in", v2Claims(e2eTenant)), "outage-unknown-kid"))
				switch took := time.Since(began); {
				case f != answered:
					probe <- fmt.Errorf("unknown kid: %s: %v", f, err)
				case a.status != 401 || !strings.Contains(a.body, "invalid_token"):
					probe <- fmt.Errorf("unknown kid: %d %s, want 401 invalid_token", a.status, a.body)
				case took > 2*time.Second+3*time.Second:
					probe <- fmt.Errorf("unknown kid answered after %v", took)
				default:
					probe <- nil
				}
			}()

			var ok, failed atomic.Int64
			var firstErr atomic.Pointer[string]
			end := time.Now().Add(hold)
			var wg sync.WaitGroup
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					h := &hostConn{addr: addr}
					defer h.close()
					for n := 0; time.Now().Before(end); n++ {
						if n > 0 && pace > 0 {
							time.Sleep(pace)
						}
						bt := tok
						if !c.cached {
							bt = is.Sign("k1", with(v2Claims(e2eTenant), "uti", fmt.Sprintf("outage-%d-%d", i, n)))
						}
						a, f, err := h.roundTrip(helloRequest(bt, fmt.Sprintf("outage-%d-%d", i, n)))
						if f == answered && a.status == 200 && a.body == helloMarc {
							ok.Add(1)
							continue
						}
						failed.Add(1)
						msg := fmt.Sprintf("%s: %d %q %v", f, a.status, a.body, err)
						firstErr.CompareAndSwap(nil, &msg)
					}
				}()
			}
			wg.Wait()
			if err := <-probe; err != nil {
				t.Error(err)
			}
			t.Logf("%v of outage: %d requests answered 200, %d failed", hold, ok.Load(), failed.Load())
			if n := failed.Load(); n != 0 {
				t.Errorf("%d requests with valid tokens failed during the outage; first: %s", n, *firstErr.Load())
			}
			if ok.Load() == 0 {
				t.Error("no request was answered during the outage")
			}

			// The reload was tried, and failed or still hangs.
			dm, dj := is.MetadataFetches()-md, is.JWKSFetches()-jwks
			switch c.outage {
			case entratest.Refuse:
				if dm != 0 || dj != 0 {
					t.Errorf("%d metadata and %d key set GETs reached an issuer refusing connections", dm, dj)
				}
			default:
				// The first metadata GET meets the outage and ends the
				// load: one GET, no key set.
				if dm != 1 || dj != 0 {
					t.Errorf("%d metadata and %d key set GETs during the outage, want 1 and 0 (one reload, stopped at its first document)", dm, dj)
				}
			}
			if c.outage != entratest.Hang {
				waitLog(t, p, "signing keys: load failed; keeping the last good key set")
			}
			if code := p.stop(); code != 0 {
				t.Errorf("exit %d", code)
			}
		})
	}
}

// waitLog waits for text in the handler's log, which is flushed every
// 100 ms.
func waitLog(t *testing.T, p *proc, text string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.stdout.String(), text) {
		if time.Now().After(deadline) {
			t.Errorf("the log does not say %q:\n%s", text, p.stdout)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestResilienceUnknownKIDFlood: 2,000 tokens with random kids, sent
// concurrently over a few seconds, cost one reload (the first unknown kid
// of the 5-minute window is how a genuinely new Entra key is picked up:
// two metadata and two key set GETs) and no more; and valid tokens sent
// meanwhile are answered as fast as during an equal flood of tokens
// refused before any key lookup.
//
// Why not simply "p99 during the flood within 2× of the p99 just before":
// on this 2-core machine the flood's own CPU (its client, the handler's
// 401s and log lines) slows every request, kid or not, and other test
// packages run alongside; a fixed ratio against a quiet baseline measures
// the machine. So the rounds interleave three phases (quiet, a control
// flood of kid-less tokens refused by the header check, the unknown-kid
// flood), alternating the floods' order, and pool each phase's samples:
// drift and noise land on all three alike. The test holds the unknown-kid
// flood's p99 to 2× the control flood's, and reports the quiet baseline.
func TestResilienceUnknownKIDFlood(t *testing.T) {
	const (
		floodTokens  = 2000
		floodClients = 16
		probeClients = 2
		rounds       = 4
		minSamples   = 500 // a p99 of fewer is a handful of requests
	)
	phase := soakOr(500*time.Millisecond, 5*time.Second)
	is, p, tok := warm(t, nil)
	addr := strings.TrimPrefix(p.base, "http://")

	// Forged from a valid token, with only the header changed: neither
	// flood's signature is ever checked (an unknown kid has no key to
	// check it with; a header without kid is refused before any lookup),
	// so neither needs a key of its own.
	parts := strings.Split(tok, ".")
	forge := func(header string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + parts[1] + "." + parts[2]
	}
	unknownKID := make([]string, floodTokens)
	control := make([]string, floodTokens)
	for i := range floodTokens {
		r := fmt.Sprintf("%016x", uint64(time.Now().UnixNano())*2654435761+uint64(i))
		unknownKID[i] = forge(`{"typ":"JWT","alg":"RS256","kid":"` + r + `"}`)
		control[i] = forge(`{"typ":"JWT","alg":"RS256","x5t":"` + r + `"}`)
	}

	const (
		quiet = iota
		controlFlood
		kidFlood
	)
	names := [...]string{"quiet", "control flood (no kid)", "unknown-kid flood"}
	var current atomic.Int32
	var samplesMu sync.Mutex
	samples := [3][]time.Duration{}
	var probeErr atomic.Pointer[string]
	stop := make(chan struct{})
	var probes sync.WaitGroup
	for i := range probeClients {
		probes.Add(1)
		go func() {
			defer probes.Done()
			h := &hostConn{addr: addr}
			defer h.close()
			var mine [3][]time.Duration
			defer func() {
				samplesMu.Lock()
				for k := range mine {
					samples[k] = append(samples[k], mine[k]...)
				}
				samplesMu.Unlock()
			}()
			req := helloRequest(tok, fmt.Sprintf("probe-%d", i))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ph := current.Load()
				began := time.Now()
				a, f, err := h.roundTrip(req)
				took := time.Since(began)
				if f != answered || a.status != 200 {
					msg := fmt.Sprintf("valid token during the %s: %s %d %v", names[ph], f, a.status, err)
					probeErr.CompareAndSwap(nil, &msg)
					continue
				}
				mine[ph] = append(mine[ph], took)
			}
		}()
	}

	// flood sends toks over d from floodClients connections, paced evenly,
	// and returns the statuses it got.
	flood := func(toks []string, d time.Duration) map[int]int {
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		start := time.Now()
		interval := d * floodClients / time.Duration(len(toks))
		for c := range floodClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := &hostConn{addr: addr}
				defer h.close()
				for k, j := 0, c; j < len(toks); k, j = k+1, j+floodClients {
					time.Sleep(time.Until(start.Add(time.Duration(k) * interval)))
					a, f, _ := h.roundTrip(helloRequest(toks[j], "flood"))
					mu.Lock()
					if f != answered {
						statuses[-int(f)]++
					} else {
						statuses[a.status]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return statuses
	}

	md, jwks := is.MetadataFetches(), is.JWKSFetches()
	per := floodTokens / rounds
	kidStatuses, controlStatuses := map[int]int{}, map[int]int{}
	for r := range rounds {
		current.Store(quiet)
		time.Sleep(phase)
		order := []int{controlFlood, kidFlood}
		if r%2 == 1 {
			order = []int{kidFlood, controlFlood}
		}
		for _, ph := range order {
			current.Store(int32(ph))
			toks, into := control[r*per:(r+1)*per], controlStatuses
			if ph == kidFlood {
				toks, into = unknownKID[r*per:(r+1)*per], kidStatuses
			}
			for s, n := range flood(toks, phase) {
				into[s] += n
			}
		}
	}
	close(stop)
	probes.Wait()

	if msg := probeErr.Load(); msg != nil {
		t.Error(*msg)
	}
	if kidStatuses[401] != floodTokens || controlStatuses[401] != floodTokens {
		t.Errorf("flood answers by status (negative: a fate other than answered): unknown kids %v, control %v; want %d 401s each", kidStatuses, controlStatuses, floodTokens)
	}
	dm, dj := is.MetadataFetches()-md, is.JWKSFetches()-jwks
	if dm != 2 || dj != 2 {
		t.Errorf("%d metadata and %d key set GETs for %d random kids, want 2 and 2: one reload per 5-minute window", dm, dj, floodTokens)
	}

	var p99 [3]time.Duration
	for ph := range samples {
		if len(samples[ph]) < minSamples {
			t.Fatalf("only %d valid-token samples during the %s, want at least %d", len(samples[ph]), names[ph], minSamples)
		}
		p50 := percentile(samples[ph], 0.5)
		p99[ph] = percentile(samples[ph], 0.99)
		t.Logf("valid tokens during the %s: %d requests, p50 %v, p99 %v", names[ph], len(samples[ph]), p50, p99[ph])
	}
	t.Logf("%d metadata and %d key set GETs for %d random kids", dm, dj, floodTokens)
	if p99[kidFlood] > 2*p99[controlFlood] {
		t.Errorf("p99 of valid tokens during the unknown-kid flood %v, over 2× the %v of an equal flood refused before any key lookup", p99[kidFlood], p99[controlFlood])
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestResilienceThousandConnections: 1,000 keep-alive connections open at
// once, each sending POST /api/Hello with a pause between calls, all
// answered, with the handler's memory bounded twice over:
//
//   - Per connection, measured with all 1,000 connected and each past its
//     first request: at most 64 KiB of RSS each. A connection costs a
//     goroutine (its stack grown by a request), net/http's 4 KiB read and
//     write buffers and the socket's bookkeeping: 29 KiB each measured on
//     the 2-core development machine.
//   - Peak RSS (VmHWM) under load: at most 160 MiB, what the GC target
//     allows for that much live memory. The handler sets the target to
//     400% (cmd/handler/serve.go), so the heap may grow by four times its
//     live part and the goroutine stacks (together about 30 MiB with
//     1,000 connections) before a collection: about 150 MiB with the
//     runtime's own. Measured 97-111 MiB on the development machine (59
//     MiB with GOGC=100), on a base of 9 MiB. This is a ceiling, not a
//     leak detector: the per-connection bound and the soak's growth check
//     are.
//
// The soak (ENTRAFUNC_SOAK=1: 30 s) also holds the peak of its last third
// to 1.25× that of its first: with nothing leaking, the GC's sawtooth
// repeats at the same height.
func TestResilienceThousandConnections(t *testing.T) {
	const (
		conns       = 1000
		maxConnKiB  = 64
		maxPeakKiB  = 160 << 10
		thinkMin    = 100 * time.Millisecond
		thinkSpread = 200 * time.Millisecond
	)
	hold := soakOr(3*time.Second, 30*time.Second)
	// Each end holds a descriptor per connection, plus a few of its own.
	ensureFileLimit(t, conns+256)
	_, p, tok := warm(t, nil)
	pid := p.cmd.Process.Pid
	if lim := fileLimit(t, pid); lim < conns+256 {
		t.Fatalf("the handler may open %d files, under the %d this test needs", lim, conns+256)
	}
	addr := strings.TrimPrefix(p.base, "http://")
	_, baseKiB := memoryKB(t, pid)

	var ok, failed atomic.Int64
	var firstErr atomic.Pointer[string]
	fail := func(msg string) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, &msg)
	}
	var connected sync.WaitGroup
	connected.Add(conns)
	allIn := make(chan struct{})
	var end time.Time // set before allIn closes
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &hostConn{addr: addr}
			defer h.close()
			// The first request proves the connection is up; then every
			// client waits for the others, so all 1,000 are open at once.
			a, f, err := h.roundTrip(helloRequest(tok, fmt.Sprintf("c%d-0", i)))
			connected.Done()
			if f != answered || a.status != 200 {
				fail(fmt.Sprintf("connection %d, first request: %s %d %v", i, f, a.status, err))
				return
			}
			ok.Add(1)
			<-allIn
			// Spread over the pause: 1,000 clients in lockstep would be
			// one burst after another.
			think := thinkMin + time.Duration(i)*thinkSpread/conns
			for n := 1; time.Now().Before(end); n++ {
				time.Sleep(think)
				a, f, err := h.roundTrip(helloRequest(tok, fmt.Sprintf("c%d-%d", i, n)))
				if f != answered || a.status != 200 || a.body != helloMarc {
					fail(fmt.Sprintf("connection %d, request %d: %s %d %q %v", i, n, f, a.status, a.body, err))
					return
				}
				if h.conn == nil {
					fail(fmt.Sprintf("connection %d, request %d: the handler closed a keep-alive connection", i, n))
					return
				}
				ok.Add(1)
			}
		}()
	}
	connected.Wait()
	fds := openFiles(t, pid)
	connectedKiB, _ := memoryKB(t, pid)
	began := time.Now()
	end = began.Add(hold)
	close(allIn)
	var firstThird, lastThird int64 // peak RSS sampled in each
	for time.Now().Before(end) {
		rss, _ := memoryKB(t, pid)
		switch el := time.Since(began); {
		case el < hold/3:
			firstThird = max(firstThird, rss)
		case el >= hold*2/3:
			lastThird = max(lastThird, rss)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	_, hwm := memoryKB(t, pid)

	perConn := (connectedKiB - baseKiB) / conns
	t.Logf("%d connections for %v: %d requests answered, %d failed; handler: %d open files with all connected; RSS %d KiB before, %d KiB connected (%d KiB a connection), peak %d KiB in the first third and %d KiB in the last, VmHWM %d KiB",
		conns, hold, ok.Load(), failed.Load(), fds, baseKiB, connectedKiB, perConn, firstThird, lastThird, hwm)
	if perConn > maxConnKiB {
		t.Errorf("%d KiB of RSS a connection, over the %d KiB bound", perConn, maxConnKiB)
	}
	if hold >= 10*time.Second && lastThird > firstThird*5/4 {
		t.Errorf("peak RSS grew from %d KiB in the first third of the run to %d KiB in the last: a leak", firstThird, lastThird)
	}
	if n := failed.Load(); n != 0 {
		t.Errorf("%d connections failed; first: %s", n, *firstErr.Load())
	}
	if fds < conns {
		t.Errorf("the handler had %d files open with every client connected, want at least %d", fds, conns)
	}
	if hwm > maxPeakKiB {
		t.Errorf("peak RSS %d KiB, over the %d KiB bound", hwm, maxPeakKiB)
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

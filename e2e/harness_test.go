package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// handlerBin is the binary under test, built once by TestMain.
var handlerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "e2e-handler-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	handlerBin = filepath.Join(dir, "handler")
	// As make dev builds it: static, -trimpath, for this machine.
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=auto", "-o", handlerBin, "./cmd/handler")
	build.Dir = ".."
	build.Env = buildEnv("GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the handler: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildEnv is the Makefile's: the shell's GOFLAGS and go.work do not
// apply, and the handler is static.
func buildEnv(extra ...string) []string {
	return append(os.Environ(), append([]string{"GOFLAGS=", "GOWORK=off", "GO111MODULE=on", "CGO_ENABLED=0"}, extra...)...)
}

// syncBuffer collects a child's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running handler.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	env    []string
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// devEnv returns the environment of a dev-mode handler whose development
// key lives in the test's own directory.
func devEnv(t *testing.T) map[string]string {
	return map[string]string{
		"AUTH_MODE":         "dev",
		"AUTH_DEV_KEY_FILE": filepath.Join(t.TempDir(), "dev-key.pem"),
	}
}

// environ turns env into a process environment with nothing inherited but
// PATH, so that the developer's own settings cannot leak into a test.
func environ(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the handler as the host does: in the app root, with the
// variables the host adds (a free port in FUNCTIONS_CUSTOMHANDLER_PORT and
// its legacy twin, a worker id, the app root), then GET / every 25 ms
// until any HTTP answer, for at most the host's 30 seconds.
//
// The tests run in parallel, each handler on a port of its own. A port
// freePort found free can be taken before the handler binds it (by another
// test's outgoing connection); a handler that exits saying so is started
// again on another port.
func start(t *testing.T, env map[string]string) *proc {
	t.Helper()
	for try := 1; ; try++ {
		p, taken := startOnce(t, env, try < 3)
		if !taken {
			return p
		}
		t.Logf("port %s was taken before the handler bound it: starting again on another", strings.TrimPrefix(p.base, "http://127.0.0.1:"))
	}
}

// startOnce is one try of start. With retry, a handler that exits because
// its port is taken is reported as taken instead of failing the test.
func startOnce(t *testing.T, env map[string]string, retry bool) (p *proc, taken bool) {
	t.Helper()
	port := freePort(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	worker := fmt.Sprintf("%08x-0000-4000-8000-%012x", port, time.Now().UnixNano()&0xffffffffffff)
	full := map[string]string{
		"FUNCTIONS_CUSTOMHANDLER_PORT":      strconv.Itoa(port),
		"FUNCTIONS_HTTPWORKER_PORT":         strconv.Itoa(port),
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID": worker,
		"FUNCTIONS_HTTPWORKER_ID":           worker,
		"FUNCTIONS_APP_ROOT_PATH":           root,
	}
	// Every handler has a tasks store of its own: an embedded file in the
	// test's directory (two processes cannot share one), or, where the
	// environment is Azure's and so Table storage is the default,
	// Azurite's well-known address, which nothing calls unless a test
	// calls Tasks (start-up never reaches the network).
	full["TASKS_STORE_FILE"] = filepath.Join(t.TempDir(), "tasks.db")
	full["AzureWebJobsStorage"] = "UseDevelopmentStorage=true"
	for k, v := range env {
		full[k] = v
	}
	p = &proc{
		t:      t,
		base:   "http://127.0.0.1:" + strconv.Itoa(port),
		env:    environ(full),
		stdout: &syncBuffer{},
		stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	p.cmd = exec.Command(handlerBin)
	p.cmd.Dir = root
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = p.env, p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/")
		if err == nil {
			resp.Body.Close()
			return p, false
		}
		select {
		case <-p.done:
			if retry && strings.Contains(p.stderr.String(), "address already in use") {
				return p, true
			}
			t.Fatalf("handler exited before it was ready: %v\nstderr: %s\nstdout: %s", p.err, p.stderr, p.stdout)
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("handler did not answer GET / within 30 s\nstderr: %s", p.stderr)
		}
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop() int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatal("handler did not exit within 30 s of SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode()
}

// token runs `handler token` with the process's environment.
func (p *proc) token(args ...string) string {
	p.t.Helper()
	return runToken(p.t, p.env, args...)
}

func runToken(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(handlerBin, append([]string{"token"}, args...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("handler token: %v\n%s", err, stderr.String())
	}
	tok := strings.TrimSpace(string(out))
	if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
		t.Fatalf("handler token printed %q, want just a JWT", out)
	}
	return tok
}

// request is one call forwarded by the host.
type request struct {
	method  string
	path    string
	headers map[string][]string
	body    string
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends r as the host forwards it (enableForwardingHttpRequest): the
// client's method, path and headers, plus the host's invocation headers.
func (p *proc) do(r request) response {
	p.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), r.method, p.base+r.path, strings.NewReader(r.body))
	if err != nil {
		p.t.Fatal(err)
	}
	if r.body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range r.headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("X-Azure-Functions-HostVersion", "4.1036.1.1")
	req.Header.Set("X-Azure-Functions-InvocationId", fmt.Sprintf("inv-%d", time.Now().UnixNano()))
	req.Header.Add("User-Agent", "Azure-Functions-Host/4.1036.1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func bearer(tok string) map[string][]string {
	return map[string][]string{"Authorization": {"Bearer " + tok}}
}

package e2e

import (
	"bytes"
	"context"
	"io"
	"net"
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

// README's first promise: `make dev` serves a request it prints, whatever
// the shell exports. These tests run the real make target from the
// repository root, as a developer does.

// makeDevBuildTimeout bounds make's build and the handler's start.
const makeDevBuildTimeout = 90 * time.Second

// makeDevEnv is a developer's environment at its most hostile: the
// README's jwt settings still exported from trying them, listen settings
// that dev mode must not use, Go settings for cross-compiling, and a home
// of the test's own so that the dev key does not land in the real one.
// The Go caches stay where they are, so that make builds from them.
func makeDevEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	otherOS := "windows"
	if runtime.GOOS == "windows" {
		otherOS = "linux"
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		// The README's jwt settings.
		"AUTH_MODE=jwt",
		"AUTH_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47",
		"AUTH_AUDIENCES=api://6e7a0f2d-3c1b-4d5e-9f80-a1b2c3d4e5f6,6e7a0f2d-3c1b-4d5e-9f80-a1b2c3d4e5f6,https://myapp.azurewebsites.net",
		"AUTH_ALLOWED_CLIENT_APPS=0f1e2d3c-4b5a-4697-8877-665544332211",
		"AUTH_REQUIRED_SCOPES=Files.Read",
		"LISTEN_HOST=0.0.0.0",
		"FUNCTIONS_CUSTOMHANDLER_PORT=1",
		// Exported for another project, or for cross-compiling.
		"GOFLAGS=-mod=vendor",
		"GOOS=" + otherOS,
		"GOARCH=arm64",
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOENV", "GOPROXY", "GONOSUMDB", "GOPRIVATE", "GOTOOLCHAIN", "TMPDIR"} {
		v := os.Getenv(k)
		if v == "" && k != "TMPDIR" {
			out, err := exec.Command("go", "env", k).Output()
			if err != nil {
				t.Fatalf("go env %s: %v", k, err)
			}
			v = strings.TrimSpace(string(out))
		}
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// makeDevMu lets one make dev run at a time: each builds ./handler at the
// repository's root, which the other may be running.
var makeDevMu sync.Mutex

// startMakeDev starts `make -C .. dev DEV_PORT=port` in a process group of
// its own, so that stopping it stops the handler that make runs too. It
// returns a channel closed once make has exited, and then its Wait error.
// It holds makeDevMu until the test ends.
func startMakeDev(t *testing.T, port int, stdout, stderr io.Writer) (*exec.Cmd, <-chan struct{}, *error) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	makeDevMu.Lock()
	t.Cleanup(makeDevMu.Unlock)
	cmd := exec.Command("make", "-C", "..", "dev", "DEV_PORT="+strconv.Itoa(port))
	cmd.Env = makeDevEnv(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done, werr := make(chan struct{}), new(error)
	go func() { *werr = cmd.Wait(); close(done) }()
	return cmd, done, werr
}

// curlWatcher keeps what is written to it, and sends the first complete
// line that starts with "curl " on found.
type curlWatcher struct {
	syncBuffer
	partial []byte
	found   chan string
}

func (w *curlWatcher) Write(p []byte) (int, error) {
	w.syncBuffer.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		if strings.HasPrefix(line, "curl ") && w.found != nil {
			w.found <- line
			w.found = nil
		}
	}
}

// stopGroup ends the process group of cmd and waits for cmd.
// The group outlives make when the handler is still running.
func stopGroup(t *testing.T, cmd *exec.Cmd, done <-chan struct{}) {
	t.Helper()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// lookBash returns bash, or skips the test where there is none.
func lookBash(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	return bash
}

func TestMakeDevServesThePrintedRequest(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (.ci/run installs it)")
	}
	bash := lookBash(t)
	port := freePort(t)
	stdout := &syncBuffer{}
	found := make(chan string, 1)
	errLog := &curlWatcher{found: found}
	cmd, done, werr := startMakeDev(t, port, stdout, errLog)
	defer stopGroup(t, cmd, done)

	var line string
	select {
	case line = <-found:
	case <-done:
		t.Fatalf("make dev exited (%v) before printing a curl line\nstderr:\n%s\nstdout:\n%s", *werr, errLog, stdout)
	case <-time.After(makeDevBuildTimeout):
		t.Fatalf("make dev printed no curl line within %v\nstderr:\n%s\nstdout:\n%s", makeDevBuildTimeout, errLog, stdout)
	}
	if want := "curl -s -X POST http://127.0.0.1:" + strconv.Itoa(port) + "/api/Hello "; !strings.HasPrefix(line, want) {
		t.Errorf("the printed request %q does not start with %q", line, want)
	}

	// The line, exactly as printed, pasted into bash.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run := exec.CommandContext(ctx, bash, "-c", line)
	run.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("the printed request failed: %v\n%s\nstderr:\n%s\nstdout:\n%s", err, out, errLog, stdout)
	}
	if got, want := string(out), "Hello, Marc. This HTTP triggered function executed successfully."; got != want {
		t.Errorf("the printed request answered %q, want %q\nstderr:\n%s\nstdout:\n%s", got, want, errLog, stdout)
	}
}

func TestMakeDevPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	stdout, errOut := &syncBuffer{}, &syncBuffer{}
	cmd, done, werr := startMakeDev(t, port, stdout, errOut)
	defer stopGroup(t, cmd, done)
	select {
	case <-done:
		err = *werr
	case <-time.After(makeDevBuildTimeout):
		t.Fatalf("make dev on a taken port did not exit within %v\nstderr:\n%s\nstdout:\n%s", makeDevBuildTimeout, errOut, stdout)
	}
	all := errOut.String() + stdout.String()
	if err == nil {
		t.Errorf("make dev on taken port %d succeeded\n%s", port, all)
	}
	if !strings.Contains(errOut.String(), strconv.Itoa(port)) {
		t.Errorf("make dev's error does not name port %d\nstderr:\n%s\nstdout:\n%s", port, errOut, stdout)
	}
	if strings.Contains(all, "curl") {
		t.Errorf("make dev printed a request although it could not listen:\n%s", all)
	}
}

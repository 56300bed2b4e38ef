// Package azuritetest runs Azurite's table service for tests: the npm
// package azurite that tools/package.json pins (3.35.0, the last release
// that runs on Node 20), installed by make tools. Each Start is a server
// of its own, on a free loopback port, in memory, without telemetry.
// Without Azurite the test skips, or fails under ENTRAFUNC_REQUIRE_TOOLS=1,
// as make test and CI set it; -short (make check) skips it too. The tasks/azuretable tests say where Azurite
// differs from Table storage.
package azuritetest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The well-known development account Azurite serves
// (https://learn.microsoft.com/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key).
const (
	Account = "devstoreaccount1"
	Key     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// requireToolsEnv, set to 1, makes a missing Azurite fail the tests
// instead of skipping them.
const requireToolsEnv = "ENTRAFUNC_REQUIRE_TOOLS"

// azuriteStart bounds how long Azurite may take to answer after it
// starts: about a second here, and far more on a loaded CI machine.
const azuriteStart = 2 * time.Minute

// bin returns the azurite-table command, or skips the test.
func bin(t testing.TB) string {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv(requireToolsEnv) == "1" {
			t.Fatalf("%s; %s=1, so this fails instead of skipping (make tools installs Azurite)", what, requireToolsEnv)
		}
		t.Skipf("%s: run `make tools` to install Azurite", what)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not on PATH (Azurite needs Node.js)")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "tools", "node_modules", ".bin", "azurite-table")
	if _, err := os.Stat(path); err != nil {
		missing(fmt.Sprintf("azurite-table is not installed (%s)", path))
	}
	return path
}

// Server is one Azurite table service that a test started.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	out    *lockedBuffer
}

// Start starts Azurite's table service on a free loopback port, in
// memory and without telemetry, and stops it when the test ends. It skips
// the test when Azurite is not installed, or fails it under
// ENTRAFUNC_REQUIRE_TOOLS=1.
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("Azurite is skipped with -short (make check); make test runs it")
	}
	a := &Server{t: t, bin: bin(t), dir: t.TempDir()}
	t.Cleanup(a.Stop)
	// The port is free when chosen and taken by Azurite a moment later:
	// another process could take it in between, so try a few.
	var err error
	for range 3 {
		if a.port, err = freePort(); err != nil {
			t.Fatal(err)
		}
		if err = a.start(); err == nil {
			return a
		}
		t.Logf("Azurite on port %d: %v", a.port, err)
	}
	t.Fatalf("Azurite did not start: %v", err)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Endpoint is the table endpoint of the well-known account.
func (a *Server) Endpoint() string {
	return "http://127.0.0.1:" + strconv.Itoa(a.port) + "/" + Account
}

// start runs Azurite on a.port and waits until it answers.
func (a *Server) start() error {
	// Azurite's --tablePort 0 takes a free port but logs 0 as the port,
	// so the test chooses one.
	cmd := exec.Command(a.bin,
		"--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(a.port),
		"--inMemoryPersistence", "--disableTelemetry", "--silent")
	cmd.Dir = a.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + a.dir, "NO_COLOR=1"}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	a.mu.Lock()
	a.cmd, a.exited, a.out = cmd, exited, out
	a.mu.Unlock()

	deadline := time.Now().Add(azuriteStart)
	client := &http.Client{Timeout: 5 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("Azurite exited: %s", strings.TrimSpace(out.String()))
		default:
		}
		// Any answer from Azurite's table service will do: this one is
		// a 403, for want of a signature.
		resp, err := client.Get(a.Endpoint() + "/Tables")
		if err == nil {
			resp.Body.Close()
			if strings.HasPrefix(resp.Header.Get("Server"), "Azurite-Table") {
				return nil
			}
			a.Stop()
			return fmt.Errorf("port %d answers, but not as Azurite (Server: %q)", a.port, resp.Header.Get("Server"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.Stop()
	return fmt.Errorf("Azurite did not answer within %v: %s", azuriteStart, strings.TrimSpace(out.String()))
}

// Stop kills Azurite and waits for it to exit. Its data is gone with it.
func (a *Server) Stop() {
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-exited
}

// Restart starts a new Azurite on the same port, empty.
func (a *Server) Restart() {
	a.t.Helper()
	var err error
	for range 5 {
		if err = a.start(); err == nil {
			return
		}
		time.Sleep(time.Second)
	}
	a.t.Fatalf("Azurite did not start again on port %d: %v", a.port, err)
}

// lockedBuffer collects a process's output, written from exec's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		return len(p), nil // enough to say why it failed
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ConnectionString is a connection string for this server's table
// service, with the well-known account's key.
func (a *Server) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + Account + ";AccountKey=" + Key + ";TableEndpoint=" + a.Endpoint()
}

// moduleRoot is the main module's directory: the nearest one up from the
// working directory (the test's package) that holds tools/package.json.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "package.json")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("azuritetest: no tools/package.json above the working directory")
		}
		dir = parent
	}
}

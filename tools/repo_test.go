package tools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Some checks run what the repository builds: deploy/provision.sh runs the
// handler to write the connector, and the package tests pack the handler
// with cmd/funcpack. They build them once, from the working tree, as the
// Makefile does, into a folder TestMain removes.

var binsDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "entrafunc-tools-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binsDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildEnv is the Makefile's: the shell's GOFLAGS and go.work do not
// apply, and what is built is static.
func buildEnv(extra ...string) []string {
	return append(os.Environ(), append([]string{"GOFLAGS=", "GOWORK=off", "GO111MODULE=on", "CGO_ENABLED=0"}, extra...)...)
}

// builtBins builds, on first use, the handler and funcpack for this
// machine as make dev builds the handler (static, -trimpath), and the
// handler as make package builds it (static linux/amd64): on a
// linux/amd64 machine, that is the same file. Its keys: handler,
// funcpack, packaged.
var builtBins = sync.OnceValues(func() (map[string]string, error) {
	bins := map[string]string{
		"handler":  filepath.Join(binsDir, "handler"),
		"funcpack": filepath.Join(binsDir, "funcpack"),
		"packaged": filepath.Join(binsDir, "handler"),
	}
	build := func(out string, env []string, pkgs ...string) error {
		cmd := exec.Command("go", append([]string{"build", "-trimpath", "-buildvcs=auto", "-o", out}, pkgs...)...)
		cmd.Dir = ".."
		cmd.Env = env
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %v: %v\n%s", pkgs, err, b)
		}
		return nil
	}
	// One go command for both: its packages build side by side. Empty
	// GOOS and GOARCH are the host's, whatever the shell says.
	if err := build(binsDir+string(filepath.Separator), buildEnv("GOOS=", "GOARCH="), "./cmd/handler", "./cmd/funcpack"); err != nil {
		return nil, err
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		bins["packaged"] = filepath.Join(binsDir, "linux-amd64", "handler")
		if err := build(bins["packaged"], buildEnv("GOOS=linux", "GOARCH=amd64"), "./cmd/handler"); err != nil {
			return nil, err
		}
	}
	return bins, nil
})

// bins returns builtBins, failing the test when they do not build.
func bins(t *testing.T) map[string]string {
	t.Helper()
	b, err := builtBins()
	if err != nil {
		t.Fatal(err)
	}
	return b
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

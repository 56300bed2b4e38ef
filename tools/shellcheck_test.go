package tools

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The repository's shell scripts run where nobody watches them fail
// halfway (CI, a deployment), so each must pass shellcheck. They are found
// by walking the tree, so that a new script is checked without anyone
// listing it here.

// knownScripts must be among those found: a walk that finds nothing would
// otherwise pass.
var knownScripts = []string{"deploy/provision.sh", ".ci/run", "bench/http.sh"}

// shellScripts returns, relative to root and with slashes, every *.sh
// file and every file whose first line is a bash shebang, outside .git
// and node_modules.
func shellScripts(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if !strings.HasSuffix(d.Name(), ".sh") && !bashShebang(path) {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		found = append(found, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// bashShebang says whether the file starts with #! naming bash. Only the
// first bytes are read: the tree holds the built binary too.
func bashShebang(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 128)
	n, _ := f.Read(head)
	line, _, _ := bytes.Cut(head[:n], []byte("\n"))
	return bytes.HasPrefix(line, []byte("#!")) && bytes.Contains(line, []byte("bash"))
}

func TestShellcheck(t *testing.T) {
	t.Parallel()
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		// The same convention as actionlint's and the connector tools': a
		// skip for a bare go test, a failure where the tools are required
		// (make test, CI).
		if os.Getenv("ENTRAFUNC_REQUIRE_TOOLS") == "1" {
			t.Fatal("shellcheck is not on PATH; ENTRAFUNC_REQUIRE_TOOLS=1, so this fails instead of skipping (on Debian: apt-get install shellcheck)")
		}
		t.Skip("shellcheck is not on PATH (on Debian: apt-get install shellcheck)")
	}
	// A script with a known finding (SC2086, an unquoted expansion) shows
	// that this shellcheck reports, and fails on, what it finds.
	probe := filepath.Join(t.TempDir(), "probe.sh")
	if err := os.WriteFile(probe, []byte("#!/usr/bin/env bash\nrm $1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(shellcheck, probe).CombinedOutput(); err == nil || !strings.Contains(string(out), "SC2086") {
		t.Fatalf("shellcheck passes a script with an unquoted $1 (%v):\n%s", err, out)
	}

	root := ".."
	scripts := shellScripts(t, root)
	for _, want := range knownScripts {
		if !slices.Contains(scripts, want) {
			t.Errorf("the walk did not find %s (found %q)", want, scripts)
		}
	}
	for _, script := range scripts {
		t.Run(script, func(t *testing.T) {
			cmd := exec.Command(shellcheck, filepath.FromSlash(script))
			cmd.Dir = root
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C.UTF-8"}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("shellcheck %s: %v\n%s", script, err, out)
			}
		})
	}
}

// TestShellScriptsFound: the walk's rules, on a tree made for them.
func TestShellScriptsFound(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	files := map[string]string{
		"a.sh":                    "echo a\n",
		"bin/run":                 "#!/usr/bin/env bash\necho run\n",
		"bin/plain":               "#!/bin/sh\necho plain\n",
		"bin/data":                "not a script\n",
		"node_modules/x/y.sh":     "echo skipped\n",
		".git/hooks/pre-commit":   "#!/bin/bash\necho skipped\n",
		"deep/er/tool":            "#!/bin/bash -e\necho tool\n",
		"deep/er/shebang-later":   "echo\n#!/bin/bash\n",
		"tools/node_modules/z.sh": "echo skipped\n",
	}
	for name, body := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := shellScripts(t, root)
	slices.Sort(got)
	want := []string{"a.sh", "bin/run", "deep/er/tool"}
	if !slices.Equal(got, want) {
		t.Errorf("shellScripts = %q, want %q", got, want)
	}
}

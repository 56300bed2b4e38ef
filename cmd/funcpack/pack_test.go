package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const testHostJSON = `{
  "version": "2.0",
  "customHandler": {
    "description": {"defaultExecutablePath": "handler", "workingDirectory": "", "arguments": []},
    "enableForwardingHttpRequest": true
  }
}
`

// writeTree writes files (slash path → content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// appRoot returns a function app with one function and a good handler,
// plus extra files.
func appRoot(t *testing.T, extra map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"host.json":           testHostJSON,
		"Hello/function.json": `{"bindings": []}`,
		".funcignore":         "*.go\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	writeTree(t, root, files)
	if _, ok := extra["handler"]; !ok {
		b, err := os.ReadFile(tinyBinary(t, "linux", "amd64"))
		if err != nil {
			t.Fatal(err)
		}
		// Not executable on disk: the zip's mode must not depend on it,
		// as it cannot on Windows.
		if err := os.WriteFile(filepath.Join(root, "handler"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

type result struct {
	stdout, stderr string
	err            error
	code           int
}

func runPack(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"funcpack"}, args...), func(k string) string { return env[k] }, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return result{stdout.String(), stderr.String(), err, code}
}

// zipEntries opens the zip at file and returns its entries by name, in
// the zip's order.
func zipEntries(t *testing.T, file string) []*zip.File {
	t.Helper()
	r, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r.File
}

func names(files []*zip.File) []string {
	var n []string
	for _, f := range files {
		n = append(n, f.Name)
	}
	return n
}

func TestRunHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runPack(t, nil, arg)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: funcpack") || !strings.Contains(r.stdout, "-root DIR") || r.stderr != "" {
			t.Errorf("%s: code %d, stdout %q, stderr %q", arg, r.code, r.stdout, r.stderr)
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-x"}, {"stray"}, {"-o", "a.zip", "extra"}, {"-o", ""}, {"-root", ""}, {"-o"}} {
		r := runPack(t, nil, args...)
		var ue usageError
		if r.code != 2 || !errors.As(r.err, &ue) || !strings.Contains(r.stderr, "usage: funcpack") || r.stdout != "" {
			t.Errorf("%q: code %d, err %v, stderr %q", args, r.code, r.err, r.stderr)
		}
	}
}

// TestPackContents: what ships, what never does, and the modes.
func TestPackContents(t *testing.T) {
	root := appRoot(t, map[string]string{
		".funcignore": "# sources and docs\n*.go\n**/testdata\ndocs\nnode_modules\n!docs/keep.md\n" +
			// An exception cannot bring the local settings back.
			"!local.settings.json\n!Hello/local.settings.json\n",
		"main.go":                   "package main",
		"docs/guide.md":             "guide",
		"docs/keep.md":              "kept by an exception",
		"Hello/testdata/req.json":   "{}",
		"node_modules/x/index.js":   "",
		"local.settings.json":       `{"Values": {"SECRET": "x"}}`,
		"Hello/local.settings.json": `{"Values": {"SECRET": "x"}}`,
		"Local.Settings.JSON":       `{}`,
		".gitignore":                "/handler",
		".git/config":               "[core]",
		".vscode/settings.json":     "{}",
		"Hello/.funcignore":         "",
		"project.lock.json":         "{}",
		"Hello/readme.txt":          "ships",
	})
	out := filepath.Join(t.TempDir(), "out", "app.zip")
	r := runPack(t, nil, "-root", root, "-o", out)
	if r.code != 0 {
		t.Fatalf("code %d\nstderr: %s", r.code, r.stderr)
	}
	files := zipEntries(t, out)
	want := []string{"Hello/", "Hello/function.json", "Hello/readme.txt", "docs/", "docs/keep.md", "handler", "host.json"}
	if got := names(files); !slices.Equal(got, want) {
		t.Fatalf("entries %q, want %q", got, want)
	}
	for _, f := range files {
		wantMode := fs.FileMode(0o644)
		switch {
		case strings.HasSuffix(f.Name, "/"):
			wantMode = fs.ModeDir | 0o755
		case f.Name == "handler":
			wantMode = 0o755
		}
		if f.Mode() != wantMode {
			t.Errorf("%s: mode %v, want %v", f.Name, f.Mode(), wantMode)
		}
		// Unzip and Kudu apply the mode only from an entry made on Unix.
		if f.CreatorVersion>>8 != 3 {
			t.Errorf("%s: made by %d, want 3 (Unix)", f.Name, f.CreatorVersion>>8)
		}
		if !f.Modified.Equal(dosEpoch) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, dosEpoch)
		}
	}
	if got := files[5].ExternalAttrs >> 16; got != 0o100755 {
		t.Errorf("handler's Unix mode %o, want 100755", got)
	}
	for _, w := range []string{"-rwxr-xr-x", "handler", "drwxr-xr-x", "Hello/", "wrote " + out + ": 5 files"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout does not say %q:\n%s", w, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	// The handler in the zip is the file on disk.
	rc, err := files[5].Open()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if disk, _ := os.ReadFile(filepath.Join(root, "handler")); !bytes.Equal(got, disk) {
		t.Error("the zip's handler differs from the file")
	}
}

// TestPackReproducible: the same files give the same bytes, whatever the
// files' times, the root's path or the previous output; SOURCE_DATE_EPOCH
// sets the time.
func TestPackReproducible(t *testing.T) {
	extra := map[string]string{"Me/function.json": "{}", ".funcignore": "dist\n"}
	a, b := appRoot(t, extra), appRoot(t, extra)
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	filepath.WalkDir(b, func(p string, _ fs.DirEntry, _ error) error { return os.Chtimes(p, old, old) })
	dir := t.TempDir()
	pack := func(root, name string, env map[string]string) []byte {
		t.Helper()
		out := filepath.Join(dir, name)
		if r := runPack(t, env, "-root", root, "-o", out); r.code != 0 {
			t.Fatalf("code %d: %s", r.code, r.stderr)
		}
		z, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	za, zb := pack(a, "a.zip", nil), pack(b, "b.zip", nil)
	if !bytes.Equal(za, zb) {
		t.Error("two roots with the same files give different zips")
	}
	// Over the previous output, too.
	if again := pack(a, "a.zip", nil); !bytes.Equal(again, za) {
		t.Error("a second run gives a different zip")
	}

	env := map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}
	zc := pack(a, "c.zip", env)
	if bytes.Equal(zc, za) {
		t.Error("SOURCE_DATE_EPOCH does not change the zip")
	}
	for _, f := range zipEntries(t, filepath.Join(dir, "c.zip")) {
		if want := time.Unix(1700000000, 0); !f.Modified.Equal(want) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, want)
		}
	}
	if zd := pack(a, "d.zip", env); !bytes.Equal(zd, zc) {
		t.Error("SOURCE_DATE_EPOCH gives different zips")
	}
}

func TestModTime(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Time
		err  string
	}{
		{"", dosEpoch, ""},
		{"0", dosEpoch, ""},
		{"315532800", dosEpoch, ""},
		{"1700000000", time.Unix(1700000000, 0), ""},
		{"-5", dosEpoch, ""},
		{"1.5", time.Time{}, "not a whole number"},
		{"yesterday", time.Time{}, "not a whole number"},
		{"99999999999", time.Time{}, "after 2107"},
	} {
		got, err := modTime(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("modTime(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("modTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	r := runPack(t, map[string]string{"SOURCE_DATE_EPOCH": "soon"}, "-root", appRoot(t, nil), "-o", filepath.Join(t.TempDir(), "x.zip"))
	if r.code != 1 || !strings.Contains(r.stderr, "funcpack: SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: code %d, stderr %q", r.code, r.stderr)
	}
}

// TestPackOutputInsideRoot: -o inside the root, not excluded by
// .funcignore, does not pack the previous zip or the one being written.
func TestPackOutputInsideRoot(t *testing.T) {
	root := appRoot(t, nil)
	out := filepath.Join(root, "dist", "functionapp.zip")
	for i := range 2 {
		if r := runPack(t, nil, "-root", root, "-o", out); r.code != 0 {
			t.Fatalf("run %d: %s", i, r.stderr)
		}
		if got, want := names(zipEntries(t, out)), []string{"Hello/", "Hello/function.json", "handler", "host.json"}; !slices.Equal(got, want) {
			t.Errorf("run %d: entries %q, want %q", i, got, want)
		}
	}
	left, _ := filepath.Glob(filepath.Join(root, "dist", ".funcpack-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestPackNoFuncignore: without .funcignore, publish ships everything but
// its fixed exclusions; funcpack does the same, and says so.
func TestPackNoFuncignore(t *testing.T) {
	root := appRoot(t, map[string]string{"main.go": "package main", "local.settings.json": "{}"})
	if err := os.Remove(filepath.Join(root, ".funcignore")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "app.zip")
	r := runPack(t, nil, "-root", root, "-o", out)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: no .funcignore") {
		t.Fatalf("code %d, stderr %q", r.code, r.stderr)
	}
	if got, want := names(zipEntries(t, out)), []string{"Hello/", "Hello/function.json", "handler", "host.json", "main.go"}; !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
}

func TestPackWarnsWithoutFunctions(t *testing.T) {
	root := appRoot(t, map[string]string{".funcignore": "Hello\n"})
	r := runPack(t, nil, "-root", root, "-o", filepath.Join(t.TempDir(), "app.zip"))
	if r.code != 0 || !strings.Contains(r.stderr, "warning: no function folder") {
		t.Errorf("code %d, stderr %q", r.code, r.stderr)
	}
}

// TestPackSymlinks: a link that would ship is refused, not followed (Core
// Tools would ship what it points to); a link that would not ship, to a
// file or a folder, even to the root or to /, is left alone.
func TestPackSymlinks(t *testing.T) {
	root := appRoot(t, map[string]string{"shared/schema.json": "{}", "vendor/x.js": "", ".funcignore": "shared\nvendor\n"})
	if err := os.Symlink(filepath.Join(root, "shared", "schema.json"), filepath.Join(root, "Hello", "schema.json")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	for link, target := range map[string]string{"vendor/loop": root, "vendor/slash": "/", "shared/up": "..", "vendor/schema.json": "../shared/schema.json"} {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "app.zip")
	if r := runPack(t, nil, "-root", root, "-o", out); r.code != 1 || !strings.Contains(r.stderr, "Hello/schema.json is a symbolic link to ") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("a link that would ship: code %d, stderr %q", r.code, r.stderr)
	}
	os.Remove(filepath.Join(root, "Hello", "schema.json"))
	if r := runPack(t, nil, "-root", root, "-o", out); r.code != 0 {
		t.Fatalf("links that would not ship: code %d: %s", r.code, r.stderr)
	}
	if got, want := names(zipEntries(t, out)), []string{"Hello/", "Hello/function.json", "handler", "host.json"}; !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	// A broken link cannot be read, unless it is left out anyway.
	os.Symlink(filepath.Join(root, "missing"), filepath.Join(root, "Hello", "broken"))
	if r := runPack(t, nil, "-root", root, "-o", out); r.code != 1 || !strings.Contains(r.stderr, "broken") {
		t.Errorf("broken link: code %d, stderr %q", r.code, r.stderr)
	}
	writeTree(t, root, map[string]string{".funcignore": "shared\nvendor\nHello/broken\n"})
	if r := runPack(t, nil, "-root", root, "-o", out); r.code != 0 {
		t.Errorf("excluded broken link: code %d, stderr %q", r.code, r.stderr)
	}
}

// TestPackRefuses: every refusal exits 1, says why, lists every problem
// found, and writes no zip.
func TestPackRefuses(t *testing.T) {
	hostWith := func(exe string) string {
		return `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": ` + exe + `}}}`
	}
	arm64 := func(t *testing.T) string {
		b, err := os.ReadFile(tinyBinary(t, "linux", "arm64"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name  string
		files func(t *testing.T) map[string]string
		no    []string // files to remove from the app
		want  []string
	}{
		{"no host.json", nil, []string{"host.json"}, []string{"no host.json in "}},
		{"a handler.exe beside the handler, let in by !handler", func(*testing.T) map[string]string {
			return map[string]string{".funcignore": "*\n!host.json\n!handler\n!Hello/function.json\n", "handler.exe": "MZ"}
		}, nil, []string{"handler.exe would ship beside the handler"}},
		{"host.json not JSON", func(*testing.T) map[string]string {
			return map[string]string{"host.json": "{\n  \"version\": \"2.0\",\n}\n"}
		}, nil, []string{"host.json is not valid JSON: line 3"}},
		{"host.json with comments", func(*testing.T) map[string]string {
			return map[string]string{"host.json": "// the app\n" + testHostJSON}
		}, nil, []string{"host.json is not valid JSON: line 1"}},
		{"not a custom handler", func(*testing.T) map[string]string {
			return map[string]string{"host.json": `{"version": "2.0"}`}
		}, nil, []string{"no customHandler.description.defaultExecutablePath"}},
		{"empty executable path", func(*testing.T) map[string]string {
			return map[string]string{"host.json": hostWith(`""`)}
		}, nil, []string{"no customHandler.description.defaultExecutablePath"}},
		{"executable path not a string", func(*testing.T) map[string]string {
			return map[string]string{"host.json": hostWith(`7`)}
		}, nil, []string{"host.json: json: cannot unmarshal number"}},
		{"dot slash", func(*testing.T) map[string]string {
			return map[string]string{"host.json": hostWith(`"./handler"`)}
		}, nil, []string{`"./handler" is not in its plain form: write "handler"`}},
		{"outside the root", func(*testing.T) map[string]string {
			return map[string]string{"host.json": hostWith(`"../handler"`)}
		}, nil, []string{`"../handler" is not a file inside the app root`}},
		{"absolute", func(*testing.T) map[string]string {
			return map[string]string{"host.json": hostWith(`"/home/site/wwwroot/handler"`)}
		}, nil, []string{"is absolute"}},
		{"backslash", func(*testing.T) map[string]string {
			return map[string]string{"host.json": hostWith(`"bin\\handler.exe"`)}
		}, nil, []string{"has a backslash"}},
		{"no executable", nil, []string{"handler"}, []string{"handler, host.json's defaultExecutablePath, does not exist: build it with make package"}},
		{"executable not ELF", func(*testing.T) map[string]string {
			return map[string]string{"handler": "#!/bin/sh\n"}
		}, nil, []string{"is a script, not a Linux ELF executable"}},
		{"arm64 executable, excluded, host.json excluded", func(t *testing.T) map[string]string {
			return map[string]string{"handler": arm64(t), ".funcignore": "# build output\nhandler\nhost.json\n"}
		}, nil, []string{
			"GOARCH=arm64",
			".funcignore line 2 (handler) excludes handler, host.json's defaultExecutablePath: publish would ship no handler",
			".funcignore line 3 (host.json) excludes host.json",
		}},
		{"executable in .vscode", func(*testing.T) map[string]string {
			return map[string]string{"host.json": hostWith(`".vscode/handler"`), ".vscode/handler": "not a program"}
		}, nil, []string{"not an executable this tool knows", "in a place publish always leaves out"}},
		{"executable is a folder", func(*testing.T) map[string]string {
			return map[string]string{"host.json": hostWith(`"Hello"`)}
		}, nil, []string{"Hello is not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files map[string]string
			if tt.files != nil {
				files = tt.files(t)
			}
			root := appRoot(t, files)
			for _, n := range tt.no {
				if err := os.Remove(filepath.Join(root, n)); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(t.TempDir(), "app.zip")
			r := runPack(t, nil, "-root", root, "-o", out)
			if r.code != 1 {
				t.Fatalf("code %d, want 1; stderr %q", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("%d problems reported, want %d:\n%s", len(lines), len(tt.want), r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			for _, l := range lines {
				if !strings.HasPrefix(l, "funcpack: ") {
					t.Errorf("line %q lacks the funcpack: prefix", l)
				}
			}
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a refused run wrote %s", out)
			}
		})
	}
}

func TestPackBadRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, root := range []string{filepath.Join(t.TempDir(), "missing"), file} {
		if r := runPack(t, nil, "-root", root, "-o", filepath.Join(t.TempDir(), "x.zip")); r.code != 1 || !strings.Contains(r.stderr, "-root") {
			t.Errorf("-root %s: code %d, stderr %q", root, r.code, r.stderr)
		}
	}
}

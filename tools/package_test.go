package tools

import (
	"archive/zip"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/api"
)

// What `make package` builds and `func azure functionapp publish` ships:
// cmd/funcpack packs a copy of the project, never the developer's own
// ./handler, with the handler built as for Azure (static linux/amd64).
// See https://learn.microsoft.com/azure/azure-functions/functions-custom-handlers and Azure/azure-functions-core-tools#2510 (the executable bit lost on publish).

// copyTo copies the file src to dst, 0644, making dst's folder. The copy
// is the kernel's (io.Copy between files): the tests copy the handler
// into each app they pack, some thirty times.
func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// projectRoot returns a function app made of the repository's host.json,
// .funcignore, local.settings.json and function folders (one per route),
// the static handler, and files that must not ship: sources, module
// files, docs, tests' data, tools, installed packages, old output, editor
// and VCS folders.
func projectRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range []string{"host.json", ".funcignore", "local.settings.json", "go.mod", "go.sum", "Makefile", "README.md"} {
		copyTo(t, filepath.Join("..", f), filepath.Join(root, f))
	}
	for _, rt := range api.Routes() {
		des, err := os.ReadDir(filepath.Join("..", rt.Function))
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			copyTo(t, filepath.Join("..", rt.Function, de.Name()), filepath.Join(root, rt.Function, de.Name()))
		}
	}
	decoys := []string{
		"main.go",
		"docs/troubleshooting.md",
		"cmd/handler/main.go",
		"api/routes.go",
		"auth/verify.go",
		"internal/logjson/logjson.go",
		"e2e/harness_test.go",
		"e2e/testdata/request.json",
		"connector/doc.go",
		"connector/testdata/golden.json",
		"Hello/testdata/request.json",
		"Hello/local.settings.json",
		"tools/package.json",
		"tools/node_modules/newman/index.js",
		"node_modules/left-pad/index.js",
		"bench/http.sh",
		"dist/functionapp.zip",
		".ci/run",
		".git/HEAD",
		".github/workflows/ci.yml",
		".gitignore",
		".vscode/settings.json",
		"key.pem",
		".env",
		"handlerish/notes.txt",
		"cpu.prof",
	}
	for _, d := range decoys {
		p := filepath.Join(root, filepath.FromSlash(d))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("must not ship: "+d+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyTo(t, bins(t)["packaged"], filepath.Join(root, "handler"))
	return root
}

// funcpack runs funcpack on root, writing out.
func funcpack(t *testing.T, root, out string, env ...string) string {
	t.Helper()
	cmd := exec.Command(bins(t)["funcpack"], "-root", root, "-o", out)
	cmd.Env = append(environ(nil), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("funcpack -root %s: %v\n%s", root, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("funcpack warned:\n%s", stderr.String())
	}
	return stdout.String()
}

// shipped is what the package must hold, exactly: host.json, each route's
// function.json in its folder, and the handler.
func shipped() []string {
	want := []string{"host.json", "handler"}
	for _, rt := range api.Routes() {
		want = append(want, rt.Function+"/", rt.Function+"/function.json")
	}
	slices.Sort(want)
	return want
}

// checkPackage opens the zip and checks that it holds exactly the files
// that must ship, the handler 0755 and a static linux/amd64 build, the
// rest 0644, all marked as made on Unix.
func checkPackage(t *testing.T, file string) {
	t.Helper()
	r, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	want := shipped()
	if !slices.Equal(names, want) {
		var extra, missing []string
		for _, n := range names {
			if !slices.Contains(want, n) {
				extra = append(extra, n)
			}
		}
		for _, n := range want {
			if !slices.Contains(names, n) {
				missing = append(missing, n)
			}
		}
		t.Errorf("the package holds %q, want %q\nwould ship but must not (add to .funcignore): %q\nmust ship but does not: %q", names, want, extra, missing)
	}
	for _, f := range r.File {
		mode := fs.FileMode(0o644)
		switch {
		case strings.HasSuffix(f.Name, "/"):
			mode = fs.ModeDir | 0o755
		case f.Name == "handler":
			mode = 0o755
		}
		if f.Mode() != mode || f.CreatorVersion>>8 != 3 {
			t.Errorf("%s: mode %v made by %d, want %v made by 3 (Unix)", f.Name, f.Mode(), f.CreatorVersion>>8, mode)
		}
		if f.Name == "handler" {
			checkHandlerELF(t, f)
		}
	}
}

func checkHandlerELF(t *testing.T, f *zip.File) {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("handler in the package is not ELF: %v", err)
	}
	if ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 || ef.Type != elf.ET_EXEC {
		t.Errorf("handler is %v %v %v, want a 64-bit x86-64 executable", ef.Class, ef.Machine, ef.Type)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("handler has a %v segment: it is dynamically linked", p.Type)
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("handler needs %v", libs)
	}
	bi, err := buildinfo.Read(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("handler has no Go build info: %v", err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["GOOS"] != "linux" || settings["GOARCH"] != "amd64" || settings["CGO_ENABLED"] != "0" || bi.Path != "github.com/entrafunc/entrafunc/cmd/handler" {
		t.Errorf("handler is %s built with %v, want cmd/handler for linux/amd64 with CGO_ENABLED=0", bi.Path, settings)
	}
}

// TestPackageContents: the project with every kind of file that must not
// ship beside it packs to host.json, the function folders and the handler.
func TestPackageContents(t *testing.T) {
	t.Parallel()
	root := projectRoot(t)
	out := filepath.Join(t.TempDir(), "functionapp.zip")
	listing := funcpack(t, root, out)
	checkPackage(t, out)
	if !strings.Contains(listing, "-rwxr-xr-x") || !strings.Contains(listing, "wrote "+out) {
		t.Errorf("funcpack printed:\n%s", listing)
	}

	// What unzip (and so Kudu's extraction) makes of it.
	if _, err := exec.LookPath("unzip"); err != nil {
		t.Log("unzip is not installed: not checked with it")
		return
	}
	z, err := exec.Command("unzip", "-Z", out).Output()
	if err != nil {
		t.Fatalf("unzip -Z: %v", err)
	}
	for _, line := range strings.Split(string(z), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.Contains(line, " unx ") {
			continue
		}
		name, perm := f[len(f)-1], f[0]
		want := "-rw-r--r--"
		switch {
		case name == "handler":
			want = "-rwxr-xr-x"
		case strings.HasSuffix(name, "/"):
			want = "drwxr-xr-x"
		}
		if perm != want {
			t.Errorf("unzip -Z lists %s as %s, want %s", name, perm, want)
		}
	}
	dir := t.TempDir()
	if b, err := exec.Command("unzip", "-q", out, "-d", dir).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v\n%s", err, b)
	}
	fi, err := os.Stat(filepath.Join(dir, "handler"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("unzipped handler has mode %v, want -rwxr-xr-x", fi.Mode())
	}
}

// TestPackageRepoTree: the repository as a checkout has it (the files git
// tracks or would track), with the static handler, packs to host.json,
// the function folders and the handler. A file added at the top level
// ships unless .funcignore names it; this test says which.
func TestPackageRepoTree(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := repoCopy(t)
	// What a developer's tree holds besides, which git ignores but publish
	// would not.
	for _, d := range []string{"dist/functionapp.zip", "tools/node_modules/newman/index.js", "node_modules/x/index.js", "bench/out/result.txt", "e2e.test", "cpu.prof"} {
		p := filepath.Join(root, filepath.FromSlash(d))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("must not ship\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyTo(t, bins(t)["packaged"], filepath.Join(root, "handler"))
	out := filepath.Join(t.TempDir(), "functionapp.zip")
	funcpack(t, root, out)
	checkPackage(t, out)
}

// TestPackageReproducible: the same project packs to the same bytes, from
// another copy with other file times, over its previous output, and with
// SOURCE_DATE_EPOCH set the same way.
func TestPackageReproducible(t *testing.T) {
	t.Parallel()
	a, b := projectRoot(t), projectRoot(t)
	old := time.Date(2020, 9, 1, 12, 0, 0, 0, time.UTC)
	filepath.WalkDir(b, func(p string, _ fs.DirEntry, _ error) error { return os.Chtimes(p, old, old) })
	dir := t.TempDir()
	read := func(name string) []byte {
		t.Helper()
		z, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	funcpack(t, a, filepath.Join(dir, "a.zip"))
	first := read("a.zip")
	funcpack(t, a, filepath.Join(dir, "a.zip"))
	if !bytes.Equal(read("a.zip"), first) {
		t.Error("packing twice gives different zips")
	}
	funcpack(t, b, filepath.Join(dir, "b.zip"))
	if !bytes.Equal(read("b.zip"), first) {
		t.Error("two copies of the project, with other file times, give different zips")
	}
	funcpack(t, a, filepath.Join(dir, "c.zip"), "SOURCE_DATE_EPOCH=1700000000")
	funcpack(t, b, filepath.Join(dir, "d.zip"), "SOURCE_DATE_EPOCH=1700000000")
	if c := read("c.zip"); !bytes.Equal(c, read("d.zip")) || bytes.Equal(c, first) {
		t.Error("SOURCE_DATE_EPOCH does not give one zip of its own")
	}
	checkPackage(t, filepath.Join(dir, "a.zip"))
}

package tools

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// Core Tools reads a .funcignore line as a pattern that matches the start
// of a path up to a word boundary, and lets a file in when a ! line
// matches it (github.com/Azure/azure-functions-core-tools,
// src/Cli/func/Common/GitIgnoreParser.cs). So the repository's
// allow-list ("*", "!host.json", "!handler", "!<Function>/function.json")
// would let `func azure functionapp publish` ship host.json.bak, or a
// folder Me/function.json.d/ with an .env in it; its * misses a folder
// named ~; and Core Tools reads through symbolic links. make package must
// refuse every such tree, naming each file, escaped, with the line that
// let it in.

// hostilePlant is one thing put in a copy of the app.
type hostilePlant struct {
	path string // slash path under the app root
	body string // a file's contents, unless link or hard is set
	link string // a symbolic link's target; $ROOT and $OUT are expanded
	hard string // a hard link to this slash path under the root
}

// allowLine returns how funcpack names the repository .funcignore's line
// text: "line N (text)", whatever comments come before it.
func allowLine(t *testing.T, text string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", ".funcignore"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == text {
			return "line " + strconv.Itoa(i+1) + " (" + text + ")"
		}
	}
	t.Fatalf(".funcignore has no line %q: this test's cases assume the allow-list", text)
	return ""
}

// plantAll puts the plants in root; outside is a folder beyond it.
func plantAll(t *testing.T, root, outside string, plants []hostilePlant) {
	t.Helper()
	expand := strings.NewReplacer("$ROOT", root, "$OUT", outside)
	for _, p := range plants {
		full := filepath.Join(root, filepath.FromSlash(p.path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(full)
		var err error
		switch {
		case p.link != "":
			err = os.Symlink(expand.Replace(p.link), full)
		case p.hard != "":
			err = os.Link(filepath.Join(root, filepath.FromSlash(p.hard)), full)
		default:
			err = os.WriteFile(full, []byte(p.body), 0o644)
		}
		if err != nil {
			t.Skipf("cannot make %q here: %v", p.path, err)
		}
	}
}

// hostileOutput says what in out could drive a terminal, or make a name
// print as another or a line as two, or returns "".
func hostileOutput(out string) string {
	if !utf8.ValidString(out) {
		return "invalid UTF-8"
	}
	for _, r := range out {
		switch {
		case r == '\n':
		case r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f:
			return "a control character " + strconv.QuoteRune(r)
		case unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf):
			return "an invisible character " + strconv.QuoteRune(r)
		}
	}
	return ""
}

// TestPackageRefusesHostileTree: make package, on a copy of the repository
// with every plant below in it, exits non-zero, writes no zip and names
// each planted file (escaped) and the .funcignore line that let it in;
// then each plant alone, in the smaller app projectRoot makes, is refused
// by the command make package runs (go run ./cmd/funcpack -o
// dist/functionapp.zip, here the binary built once), exit status 1.
func TestPackageRefusesHostileTree(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	host, handler := allowLine(t, "!host.json"), allowLine(t, "!handler")
	hello, me, star := allowLine(t, "!Hello/function.json"), allowLine(t, "!Me/function.json"), allowLine(t, "*")
	admits := func(name, line string) string {
		return name + " would ship: .funcignore " + line + " matches the start of its path only"
	}
	misses := func(name string) string {
		return name + " would ship: no ! line in .funcignore names it, and " + star + " misses it"
	}
	tests := []struct {
		name   string
		plants []hostilePlant
		want   []string
	}{
		// A ! line that matches the start of a path lets it in.
		{"backup of host.json", []hostilePlant{{path: "host.json.bak", body: `{"AzureWebJobsStorage": "secret"}`}}, []string{admits("host.json.bak", host)}},
		{"editor copy of host.json", []hostilePlant{{path: "host.json~", body: "secret"}}, []string{admits("host.json~", host)}},
		{"a folder named after a function.json", []hostilePlant{{path: "Me/function.json.d/.env", body: "SECRET=x"}, {path: "Me/function.json.d/key.pem", body: "x"}},
			[]string{admits("Me/function.json.d/.env", me), admits("Me/function.json.d/key.pem", me)}},
		{"original of a function.json", []hostilePlant{{path: "Hello/function.json.orig", body: "{}"}}, []string{admits("Hello/function.json.orig", hello)}},
		{"a Windows build beside the handler", []hostilePlant{{path: "handler.exe", body: "MZ"}}, []string{"handler.exe would ship beside the handler: .funcignore " + handler}},
		{"a folder named after host.json", []hostilePlant{{path: "host.json-old/secret.txt", body: "x"}}, []string{admits("host.json-old/secret.txt", host)}},

		// The allow-list's * misses a first name with no ASCII letter,
		// digit or _.
		{"a folder named ~", []hostilePlant{{path: "~/.env", body: "SECRET=x"}}, []string{misses("~/.env")}},
		{"a folder named -", []hostilePlant{{path: "-/id_rsa", body: "x"}}, []string{misses("-/id_rsa")}},
		{"a folder named in Cyrillic", []hostilePlant{{path: "секрет/key.pem", body: "x"}}, []string{misses(`"секрет/key.pem"`)}},
		{"a file named ...", []hostilePlant{{path: "...", body: "x"}}, []string{misses("...")}},
		{"a folder named @@", []hostilePlant{{path: "@@/token", body: "x"}}, []string{misses("@@/token")}},

		// Links: what Core Tools would ship is the target's bytes, and a
		// folder link is never followed.
		{"function.json linked to local.settings.json", []hostilePlant{{path: "Me/function.json", link: "../local.settings.json"}},
			[]string{"Me/function.json is a symbolic link to ../local.settings.json"}},
		{"function.json hard-linked to local.settings.json", []hostilePlant{{path: "Hello/function.json", hard: "local.settings.json"}},
			[]string{"Hello/function.json would ship, but it has 2 hard links"}},
		{"a folder link to the file system root", []hostilePlant{{path: "Hello/function.json.d", link: "/"}},
			[]string{"Hello/function.json.d is a symbolic link to a folder (/)"}},
		{"a folder link back to the root", []hostilePlant{{path: "host.json.d", link: "$ROOT"}},
			[]string{"host.json.d is a symbolic link to a folder"}},
		{"a folder link outside", []hostilePlant{{path: "handler.d", link: "$OUT"}},
			[]string{"handler.d is a symbolic link to a folder"}},
		{"a link to a key outside", []hostilePlant{{path: "host.json.key", link: "$OUT/id_rsa"}},
			[]string{"host.json.key is a symbolic link to ", admits("host.json.key", host)}},
		{"a broken link", []hostilePlant{{path: "Hello/function.json.old", link: "nowhere.json"}},
			[]string{"Hello/function.json.old is a symbolic link to nowhere.json, which cannot be read"}},
		{"a chain of links", []hostilePlant{{path: "handler.sig", link: "chain/a"}, {path: "chain/a", link: "b"}, {path: "chain/b", link: "../local.settings.json"}},
			[]string{"handler.sig is a symbolic link to chain/a"}},

		// Names that drive a terminal, forge a line or are zip slip for
		// an extractor: refused, and printed escaped.
		{"ESC in a name", []hostilePlant{{path: "host.json\x1b[2J", body: "x"}},
			[]string{admits(`"host.json\x1b[2J"`, host), `"host.json\x1b[2J" would ship, but its name holds a control character`}},
		{"a newline forging a line", []hostilePlant{{path: "host.json\nfuncpack: wrote dist/functionapp.zip: 4 files", body: "x"}},
			[]string{`"host.json\nfuncpack: wrote dist/functionapp.zip: 4 files" would ship, but its name holds a control character`}},
		{"backslashes", []hostilePlant{{path: `handler\..\..\evil.sh`, body: "x"}},
			[]string{`"handler\\..\\..\\evil.sh" would ship, but its name holds a backslash`}},
		{"a right-to-left override", []hostilePlant{{path: "Hello/function.json\u202egnp.exe", body: "x"}},
			[]string{admits(`"Hello/function.json\u202egnp.exe"`, hello), `"Hello/function.json\u202egnp.exe" would ship, but its name holds an invisible format character`}},
		{"invalid UTF-8", []hostilePlant{{path: "host.json.\xff", body: "x"}},
			[]string{`"host.json.\xff" would ship, but its name is not valid UTF-8`}},
		{"DEL", []hostilePlant{{path: "Me/function.json\x7f", body: "x"}},
			[]string{`"Me/function.json\x7f" would ship, but its name holds a control character`}},
		{"a C1 control", []hostilePlant{{path: "host.json\u009b2J", body: "x"}},
			[]string{`"host.json\u009b2J" would ship, but its name holds a control character`}},
		{"a zero-width space", []hostilePlant{{path: "host.json\u200b", body: "x"}},
			[]string{`"host.json\u200b" would ship, but its name holds an invisible format character`}},
	}

	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "id_rsa"), []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The whole repository, as a checkout has it, with every plant.
	root := repoCopy(t)
	for _, tt := range tests {
		plantAll(t, root, outside, tt.plants)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "package")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ctx.Err() != nil {
		t.Fatalf("make package on a hostile tree: %v, want a non-zero exit status\n%s", err, out.String())
	}
	made := out.String()
	t.Logf("make package:\n%s", made)
	if bad := hostileOutput(made); bad != "" {
		t.Errorf("make package printed %s:\n%q", bad, made)
	}
	if !strings.Contains(made, "go run ./cmd/funcpack") {
		t.Fatalf("make package failed before funcpack ran:\n%s", made)
	}
	if _, err := os.Stat(filepath.Join(root, "dist", "functionapp.zip")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("make package wrote dist/functionapp.zip for a hostile tree")
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, w := range tt.want {
				if !strings.Contains(made, "funcpack: "+w) {
					t.Errorf("make package does not say %q", w)
				}
			}

			// Alone, with the same command make package runs.
			root := projectRoot(t)
			// Its stand-in for an old zip: a refused run must write none.
			if err := os.Remove(filepath.Join(root, "dist", "functionapp.zip")); err != nil {
				t.Fatal(err)
			}
			plantAll(t, root, outside, tt.plants)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bins(t)["funcpack"], "-o", "dist/functionapp.zip")
			cmd.Dir = root
			cmd.Env = environ(nil)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != 1 || ctx.Err() != nil {
				t.Fatalf("funcpack: %v (exit %d), want exit status 1\nstdout:\n%s\nstderr:\n%s", err, code, stdout.String(), stderr.String())
			}
			if bad := hostileOutput(stdout.String() + stderr.String()); bad != "" {
				t.Errorf("funcpack printed %s:\n%q", bad, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), "funcpack: "+w) {
					t.Errorf("funcpack does not say %q:\n%s", w, stderr.String())
				}
			}
			for _, l := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
				if !strings.HasPrefix(l, "funcpack: ") {
					t.Errorf("a line of funcpack's stderr does not start with funcpack: %q", l)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "dist", "functionapp.zip")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("funcpack wrote a zip for a hostile tree")
			}
		})
	}
}

// repoCopy returns a copy of the files a checkout of the repository has
// (those git tracks or would track), without ./handler, which make
// package builds.
func repoCopy(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = ".."
	list, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	root := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		if f == "" || f == "handler" {
			continue
		}
		src := filepath.Join("..", filepath.FromSlash(f))
		if fi, err := os.Lstat(src); err != nil || !fi.Mode().IsRegular() {
			// Deleted in the working tree but not in the index, or a link.
			continue
		}
		copyTo(t, src, filepath.Join(root, filepath.FromSlash(f)))
	}
	return root
}

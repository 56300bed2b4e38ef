package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// hostileAllowList is the repository's .funcignore, less its comments: an
// allow-list of the four files that must ship.
const hostileAllowList = "*\n!host.json\n!handler\n!Hello/function.json\n!Me/function.json\n"

// TestPackRefusesHostileTrees: what an allow-list means to keep out, but
// Core Tools' reading of .funcignore would ship (a ! line matching the
// start of a path, a * that misses a name with no word character), links
// that ship another file's bytes, and names that extractors or terminals
// read as something else. Each tree, on its own, must be refused with exit
// status 1, no zip, every offending file named (escaped) with the line
// that let it in, and nothing in the output that could drive a terminal or
// pass for a line of its own. The trees that end in ok pack: the checks
// must not refuse what the allow-list names, nor files nothing excludes,
// nor links that would not ship.
func TestPackRefusesHostileTrees(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----", "function.json": `{"bindings": []}`})
	tests := []struct {
		name   string
		ignore string            // .funcignore; "" is hostileAllowList
		files  map[string]string // written over the app's
		links  map[string]string // symbolic links: path → target, $ROOT and $OUT expanded
		hard   map[string]string // hard links: path → the file under the root it is another name for
		want   []string          // in stderr; nil: the tree packs
		ships  []string          // when it packs: in the listing, as printed
	}{
		// A ! line matching the start of a path, up to a word boundary.
		{name: "backup of host.json", files: map[string]string{"host.json.bak": `{"key": "x"}`},
			want: []string{"host.json.bak would ship: .funcignore line 2 (!host.json) matches the start of its path only"}},
		{name: "editor copy of host.json", files: map[string]string{"host.json~": "x"},
			want: []string{"host.json~ would ship: .funcignore line 2 (!host.json)"}},
		{name: "a folder named after function.json", files: map[string]string{"Me/function.json.d/.env": "SECRET=x", "Me/function.json.d/key.pem": "x"},
			want: []string{"Me/function.json.d/.env would ship: .funcignore line 5 (!Me/function.json)", "Me/function.json.d/key.pem would ship: .funcignore line 5 (!Me/function.json)"}},
		{name: "original of a function.json", files: map[string]string{"Hello/function.json.orig": "{}"},
			want: []string{"Hello/function.json.orig would ship: .funcignore line 4 (!Hello/function.json)"}},
		{name: "a test binary beside the handler", files: map[string]string{"handler.test": "x"},
			want: []string{"handler.test would ship beside the handler: .funcignore line 3 (!handler)"}},
		{name: "a folder named after host.json", files: map[string]string{"host.json-old/secret.txt": "x"},
			want: []string{"host.json-old/secret.txt would ship: .funcignore line 2 (!host.json)"}},
		{name: "two lines match the start", ignore: "*\n!host\n!host.json\n!handler\n!Hello/function.json\n", files: map[string]string{"host.json.bak": "x"},
			want: []string{"host.json.bak would ship: .funcignore lines 2 (!host) and 3 (!host.json) match the start of its path only"}},
		{name: "a folder line", ignore: "*\n!host.json\n!handler\n!Hello/function.json\n!docs\n", files: map[string]string{"docs/guide.md": "x"},
			want: []string{"docs/guide.md would ship: .funcignore line 5 (!docs)"}},
		{name: "a star line", ignore: "*\n!host.json\n!handler\n!*/function.json\n", files: map[string]string{"Hello/function.json#1": "x"},
			want: []string{`"Hello/function.json#1" would ship: .funcignore line 4 (!*/function.json)`}},
		{name: "a lone !", ignore: "*\n!\n", files: map[string]string{"main.go": "package main"},
			want: []string{"main.go would ship: .funcignore line 2 (!) matches", "host.json would ship: .funcignore line 2 (!)"}},
		{name: "an exception in a deny-list", ignore: "docs\n!docs/keep.md\n", files: map[string]string{"docs/keep.md": "x", "docs/keep.md.bak": "x"},
			want: []string{"docs/keep.md.bak would ship: .funcignore line 2 (!docs/keep.md)"}},

		// Core Tools' * is [^/]+ then a word boundary: it misses a path
		// whose first name has no ASCII letter, digit or _.
		{name: "a folder named ~", files: map[string]string{"~/.env": "SECRET=x"},
			want: []string{"~/.env would ship: no ! line in .funcignore names it, and line 1 (*) misses it"}},
		{name: "a folder named -", files: map[string]string{"-/id_rsa": "x"},
			want: []string{"-/id_rsa would ship: no ! line"}},
		{name: "a file named ...", files: map[string]string{"...": "x"},
			want: []string{"... would ship: no ! line"}},
		{name: "a folder named in Cyrillic", files: map[string]string{"секрет/key.pem": "x"},
			want: []string{`"секрет/key.pem" would ship: no ! line`}},
		{name: "a folder named @@", files: map[string]string{"@@/token": "x"},
			want: []string{"@@/token would ship: no ! line"}},
		{name: "a file named #", ignore: "/*\n!host.json\n!handler\n!Hello/function.json\n", files: map[string]string{"#": "x"},
			want: []string{`"#" would ship: no ! line in .funcignore names it, and line 1 (/*) misses it`}},
		// An allow-list written with ** misses the same paths.
		{name: "a file named ~ under **", ignore: "**\n!host.json\n!handler\n!Hello/function.json\n", files: map[string]string{"~": "SECRET=x"},
			want: []string{"~ would ship: no ! line in .funcignore names it, and line 1 (**) misses it"}},
		{name: "a file named ... under /**", ignore: "/**\n!host.json\n!handler\n!Hello/function.json\n", files: map[string]string{"...": "x"},
			want: []string{"... would ship: no ! line in .funcignore names it, and line 1 (/**) misses it"}},

		// Links.
		{name: "function.json linked to local.settings.json", links: map[string]string{"Me/function.json": "../local.settings.json"},
			want: []string{"Me/function.json is a symbolic link to ../local.settings.json: publish would ship that file's bytes"}},
		{name: "function.json linked outside the tree", links: map[string]string{"Hello/function.json": "$OUT/function.json"},
			want: []string{"Hello/function.json is a symbolic link to "}},
		{name: "host.json through a chain of links", files: map[string]string{"conf/real.json": testHostJSON}, links: map[string]string{"host.json": "conf/b", "conf/b": "a", "conf/a": "real.json"},
			want: []string{"host.json is a symbolic link to conf/b"}},
		{name: "a folder link to the file system root", links: map[string]string{"Me/function.json.d": "/"},
			want: []string{"Me/function.json.d is a symbolic link to a folder (/)"}},
		{name: "a folder link back to the root", links: map[string]string{"Hello/function.json.d": "$ROOT"},
			want: []string{"Hello/function.json.d is a symbolic link to a folder"}},
		{name: "a folder link outside, named by a line", links: map[string]string{"Me": "$OUT"},
			want: []string{"Me is a symbolic link to a folder"}},
		{name: "the handler linked", files: map[string]string{"dist/handler": "see appRoot"}, links: map[string]string{"handler": "$ROOT/Hello/function.json"},
			want: []string{"handler is a symbolic link to "}},
		{name: "a broken link named by a line", links: map[string]string{"Me/function.json": "missing.json"},
			want: []string{"Me/function.json is a symbolic link to missing.json, which cannot be read"}},
		{name: "function.json hard-linked to local.settings.json", hard: map[string]string{"Me/function.json": "local.settings.json"},
			want: []string{"Me/function.json would ship, but it has 2 hard links"}},
		{name: "a backup linked to a key outside", links: map[string]string{"host.json.bak": "$OUT/id_rsa"},
			want: []string{"host.json.bak is a symbolic link to ", "host.json.bak would ship: .funcignore line 2 (!host.json)"}},

		// Names, in a deny-list so that only the name is wrong.
		{name: "ESC in a name", ignore: "*.go\n", files: map[string]string{"Hello/evil\x1b[2Jx": "x"},
			want: []string{`"Hello/evil\x1b[2Jx" would ship, but its name holds a control character`}},
		{name: "a newline forging a line", ignore: "*.go\n", files: map[string]string{"notes\nfuncpack: ok": "x"},
			want: []string{`"notes\nfuncpack: ok" would ship, but its name holds a control character`}},
		{name: "backslashes", ignore: "*.go\n", files: map[string]string{`a\..\..\evil.sh`: "x"},
			want: []string{`"a\\..\\..\\evil.sh" would ship, but its name holds a backslash`}},
		{name: "a right-to-left override", ignore: "*.go\n", files: map[string]string{"Hello/report\u202eslx.exe": "x"},
			want: []string{`"Hello/report\u202eslx.exe" would ship, but its name holds an invisible format character`}},
		{name: "invalid UTF-8", ignore: "*.go\n", files: map[string]string{"bad\xffname": "x"},
			want: []string{`"bad\xffname" would ship, but its name is not valid UTF-8`}},
		{name: "DEL", ignore: "*.go\n", files: map[string]string{"del\x7f": "x"},
			want: []string{`"del\x7f" would ship, but its name holds a control character`}},
		{name: "a C1 control", ignore: "*.go\n", files: map[string]string{"next\u0085line": "x"},
			want: []string{`"next\u0085line" would ship, but its name holds a control character`}},
		{name: "a zero-width space", ignore: "*.go\n", files: map[string]string{"host\u200b.json": "x"},
			want: []string{`"host\u200b.json" would ship, but its name holds an invisible format character`}},
		{name: "a line separator", ignore: "*.go\n", files: map[string]string{"a\u2028b": "x"},
			want: []string{`"a\u2028b" would ship, but its name holds a line or paragraph separator`}},
		{name: "a colon", ignore: "*.go\n", files: map[string]string{"c:x": "x"},
			want: []string{`"c:x" would ship, but its name holds ':', which Azure Files refuses`}},
		{name: "names that differ in case only", ignore: "*.go\n", files: map[string]string{"Hello/Function.json": "{}", "hello/x.txt": "x"},
			want: []string{"Hello/Function.json and Hello/function.json would both ship, but differ only in letter case", "Hello and hello would both ship"}},
		{name: "an escape in an allow-listed prefix", files: map[string]string{"host.json\x1b]0;pwned\x07": "x"},
			want: []string{`"host.json\x1b]0;pwned\a" would ship: .funcignore line 2 (!host.json)`, `"host.json\x1b]0;pwned\a" would ship, but its name holds a control character`}},

		// What must still pack.
		{name: "ok: the allow-list's own files, with links that would not ship", files: map[string]string{"tools/node_modules/x/cli.js": "x", "Me/function.jsonx": "x", "Hello/function.json5": "x"},
			links:  map[string]string{"tools/node_modules/.bin/x": "../x/cli.js", "tools/loop": "/", "Hello/up": ".."},
			ignore: "*\n!host.json\n!handler\n!Hello/function.json\n!Me/function.json\n", want: nil,
			ships: []string{"  Me/function.json\n", "  host.json\n"}},
		{name: "ok: a prefix nothing excludes", ignore: "*.go\n!docs/keep.md\n", files: map[string]string{"docs/keep.md.bak": "x"},
			ships: []string{"  docs/keep.md.bak\n"}},
		{name: "ok: a name with a space and accents, printed quoted", ignore: "*.go\n", files: map[string]string{"Hello/résumé copy.txt": "x"},
			ships: []string{`  "Hello/résumé copy.txt"` + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{
				"Me/function.json":    `{"bindings": []}`,
				"local.settings.json": `{"Values": {"SECRET": "local"}}`,
				".funcignore":         hostileAllowList,
			}
			if tt.ignore != "" {
				files[".funcignore"] = tt.ignore
			}
			for k, v := range tt.files {
				files[k] = v
			}
			root := appRoot(t, files)
			expand := strings.NewReplacer("$ROOT", root, "$OUT", outside)
			for link, target := range tt.links {
				p := filepath.Join(root, filepath.FromSlash(link))
				os.Remove(p)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.Symlink(expand.Replace(target), p); err != nil {
					t.Skip("no symbolic links here:", err)
				}
			}
			for name, old := range tt.hard {
				p := filepath.Join(root, filepath.FromSlash(name))
				os.Remove(p)
				if err := os.Link(filepath.Join(root, filepath.FromSlash(old)), p); err != nil {
					t.Skip("no hard links here:", err)
				}
			}
			out := filepath.Join(t.TempDir(), "app.zip")
			r := runPack(t, nil, "-root", root, "-o", out)
			if bad := unsafeOutput(r.stdout + r.stderr); bad != "" {
				t.Errorf("the output holds %s:\nstdout %q\nstderr %q", bad, r.stdout, r.stderr)
			}
			if tt.want == nil {
				if r.code != 0 {
					t.Fatalf("code %d, want 0; stderr:\n%s", r.code, r.stderr)
				}
				for _, s := range tt.ships {
					if !strings.Contains(r.stdout, s) {
						t.Errorf("the listing does not hold %q:\n%s", s, r.stdout)
					}
				}
				return
			}
			if r.code != 1 {
				t.Fatalf("code %d, want 1; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
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

// unsafeOutput says what in s could drive a terminal or make one line
// look like two (or a name look like another), or returns "".
func unsafeOutput(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '\n':
		case r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f:
			return "a control character"
		case unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf):
			return "an invisible format character or a line separator"
		}
	}
	return ""
}

// TestWriteZipRefusesSwappedFile: a file replaced between the checks and
// the copy (by a link to a secret, another file renamed over it, a hard
// link to the secret) is not packed in its place, and no zip is left.
func TestWriteZipRefusesSwappedFile(t *testing.T) {
	for _, tt := range []struct {
		name string
		swap func(file, secret string) error
	}{
		{"symbolic link", func(file, secret string) error { os.Remove(file); return os.Symlink(secret, file) }},
		{"hard link", func(file, secret string) error { os.Remove(file); return os.Link(secret, file) }},
		{"renamed over", func(file, secret string) error {
			other := file + ".new"
			if err := os.WriteFile(other, []byte("other"), 0o644); err != nil {
				return err
			}
			return os.Rename(other, file)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file, secret := filepath.Join(dir, "function.json"), filepath.Join(dir, "local.settings.json")
			writeTree(t, dir, map[string]string{"function.json": "{}", "local.settings.json": `{"Values": {"SECRET": "x"}}`})
			fi, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.swap(file, secret); err != nil {
				t.Skip("cannot swap here:", err)
			}
			out := filepath.Join(dir, "out", "app.zip")
			err = writeZip(t.Context(), out, []entry{{name: "Hello/function.json", src: file, mode: 0o644, size: fi.Size(), info: fi}}, dosEpoch)
			if err == nil || !strings.Contains(err.Error(), "Hello/function.json changed while it was being packed") {
				t.Errorf("writeZip after a swap: %v", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a refused run wrote %s", out)
			}
		})
	}
}

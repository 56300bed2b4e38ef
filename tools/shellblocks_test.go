package tools

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The shell examples in README.md and docs/ are meant to be pasted into a
// terminal: each must at least be valid bash. These tests hold them to
// bash -n (parse, run nothing).

// shellBlock is one shell example: the script bash is to parse, and where
// its fence opens.
type shellBlock struct {
	file   string
	line   int
	lang   string
	script string
}

// shellBlocks returns the shell examples of a Markdown document: ```sh,
// ```bash and ```shell blocks as they are, and of ```console blocks the
// commands only: the lines that start with "$ ", without the prompt, each
// with the lines its trailing backslashes continue onto.
func shellBlocks(file, doc string) []shellBlock {
	var blocks []shellBlock
	var cur *shellBlock
	var body []string
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		fence := strings.TrimSpace(l)
		if cur == nil {
			if !strings.HasPrefix(fence, "```") {
				continue
			}
			lang := strings.TrimSpace(strings.TrimLeft(fence, "`"))
			if f := strings.Fields(lang); len(f) > 0 {
				lang = f[0]
			}
			cur, body = &shellBlock{file: file, line: i + 1, lang: lang}, nil
			continue
		}
		if fence != "```" {
			body = append(body, l)
			continue
		}
		switch cur.lang {
		case "sh", "bash", "shell":
			cur.script = strings.Join(body, "\n") + "\n"
			blocks = append(blocks, *cur)
		case "console":
			cur.script = consoleCommands(body)
			blocks = append(blocks, *cur)
		}
		cur = nil
	}
	if cur != nil {
		// An unclosed fence: check what there is, so it is not skipped.
		cur.script = strings.Join(body, "\n") + "\n"
		blocks = append(blocks, *cur)
	}
	return blocks
}

// consoleCommands returns the commands of a console transcript.
func consoleCommands(lines []string) string {
	var b strings.Builder
	cont := false
	for _, l := range lines {
		switch {
		case cont:
		case strings.HasPrefix(l, "$ "):
			l = strings.TrimPrefix(l, "$ ")
		default:
			continue // output
		}
		b.WriteString(l + "\n")
		cont = strings.HasSuffix(strings.TrimRight(l, " \t"), `\`)
	}
	return b.String()
}

// bashSyntax returns bash's complaint about script, or "" when it parses.
func bashSyntax(t *testing.T, bash, script string) string {
	t.Helper()
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("bash -n: %v", err)
		}
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return msg
		}
		return err.Error()
	}
	return ""
}

func lookBash(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	return bash
}

// TestREADMEShellBlocksParse: every shell example of README.md and
// docs/*.md pastes into bash without a syntax error.
func TestREADMEShellBlocksParse(t *testing.T) {
	t.Parallel()
	bash := lookBash(t)
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		files = append(files, filepath.ToSlash(strings.TrimPrefix(d, ".."+string(filepath.Separator))))
	}
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, blk := range shellBlocks(f, string(b)) {
			total++
			if strings.TrimSpace(blk.script) == "" {
				t.Errorf("%s:%d: ```%s block has no command", blk.file, blk.line, blk.lang)
				continue
			}
			if msg := bashSyntax(t, bash, blk.script); msg != "" {
				t.Errorf("%s:%d: ```%s block is not valid bash:\n%s\nscript:\n%s", blk.file, blk.line, blk.lang, msg, blk.script)
			}
		}
	}
	if total == 0 {
		t.Fatal("found no shell block in README.md or docs/: the extractor is broken")
	}
	t.Logf("%d shell blocks checked in %v", total, files)
}

// TestREADMEShellCheckerSanity: the extractor and checker above catch what
// they are for, and pass what is fine.
func TestREADMEShellCheckerSanity(t *testing.T) {
	t.Parallel()
	bash := lookBash(t)
	fence := "```"
	tests := []struct {
		name   string
		doc    string
		script string // what the extractor must produce ("" to skip that check)
		ok     bool
	}{
		{name: "angle-bracket placeholder", doc: fence + "sh\nexport X=<id>\n" + fence + "\n", ok: false},
		{name: "placeholder with spaces", doc: fence + "bash\nexport AUTH_TENANT_ID=<Directory (tenant) ID>\n" + fence + "\n", ok: false},
		{name: "unterminated quote", doc: fence + "shell\necho \"oops\n" + fence + "\n", ok: false},
		{name: "unclosed if", doc: fence + "sh\nif true; then echo x\n" + fence + "\n", ok: false},
		{name: "console command error", doc: fence + "console\n$ grep x <file>\noutput\n" + fence + "\n", ok: false},
		{name: "unclosed fence", doc: fence + "sh\nexport X=<id>\n", ok: false},
		{name: "shell variables", doc: fence + "sh\nTENANT_ID=00000000-0000-0000-0000-000000000000\nexport AUTH_TENANT_ID=\"$TENANT_ID\"\n" + fence + "\n", ok: true},
		{name: "quoted placeholder", doc: fence + "sh\nexport X='<id>'   # fill in\n" + fence + "\n", ok: true},
		{name: "console output is not a command", doc: fence + "console\n$ echo hi\n<not (a) command>\n" + fence + "\n", script: "echo hi\n", ok: true},
		{name: "console continuation lines", doc: fence + "console\n$ curl -s http://127.0.0.1:7071/ \\\n    -H 'A: b' \\\n    -d '{}'\nHello (output)\n" + fence + "\n",
			script: "curl -s http://127.0.0.1:7071/ \\\n    -H 'A: b' \\\n    -d '{}'\n", ok: true},
		{name: "other languages are not shell", doc: fence + "json\n{\"a\": <b>}\n" + fence + "\n" + fence + "mermaid\na->>b: <c>\n" + fence + "\n" + fence + "sh\ntrue\n" + fence + "\n", script: "true\n", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks := shellBlocks("test.md", tt.doc)
			if len(blocks) != 1 {
				t.Fatalf("extracted %d blocks, want 1: %+v", len(blocks), blocks)
			}
			if tt.script != "" && blocks[0].script != tt.script {
				t.Fatalf("extracted %q, want %q", blocks[0].script, tt.script)
			}
			msg := bashSyntax(t, bash, blocks[0].script)
			if tt.ok && msg != "" {
				t.Errorf("rejected a good block: %s", msg)
			}
			if !tt.ok && msg == "" {
				t.Errorf("accepted a bad block: %q", blocks[0].script)
			}
		})
	}
}

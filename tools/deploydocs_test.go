package tools

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docs/deploy.md promises a path from a clone to a working connector in a
// stated number of commands, and sends readers to make targets and to
// deploy/provision.sh flags. These tests hold the page to all three: the
// number to the commands in the block that follows it, every `make X` to a
// target of the Makefile, every flag given to provision.sh to its --help.
// They also hold its transcripts of provision.sh (the dry run's plan, the
// --help) to what the script prints now, and its gh variable set commands
// to the variables the deploy workflow reads.

const deployDoc = "docs/deploy.md"

// commandCountRE is the sentence that states how many commands the path
// takes. The ```sh block right after it holds exactly those commands.
var commandCountRE = regexp.MustCompile(`\bThese (\d+) commands\b`)

var (
	codeSpanRE = regexp.MustCompile("`([^`\n]+)`")
	makeRuleRE = regexp.MustCompile(`(?m)^([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*:([^=]|$)`)
	makeGoalRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	flagRE     = regexp.MustCompile(`(?:^|\s)(--?[A-Za-z][A-Za-z0-9-]*)`)
)

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// statedCommands returns the number the doc states and the body of the
// ```sh block right after that sentence.
func statedCommands(doc string) (int, string, error) {
	found := commandCountRE.FindAllStringSubmatchIndex(doc, -1)
	if len(found) != 1 {
		return 0, "", fmt.Errorf(`want exactly one sentence matching %q, found %d`, commandCountRE, len(found))
	}
	n, err := strconv.Atoi(doc[found[0][2]:found[0][3]])
	if err != nil {
		return 0, "", err
	}
	lines := strings.Split(doc[found[0][1]:], "\n")
	for i, l := range lines {
		fence := strings.TrimSpace(l)
		if !strings.HasPrefix(fence, "```") {
			continue
		}
		if lang := strings.TrimSpace(strings.TrimLeft(fence, "`")); lang != "sh" {
			return 0, "", fmt.Errorf("the first block after %q is ```%s, want ```sh", doc[found[0][0]:found[0][1]], lang)
		}
		for j := i + 1; j < len(lines); j++ {
			if strings.TrimSpace(lines[j]) == "```" {
				return n, strings.Join(lines[i+1:j], "\n"), nil
			}
		}
		return 0, "", fmt.Errorf("the ```sh block after %q is not closed", doc[found[0][0]:found[0][1]])
	}
	return 0, "", fmt.Errorf("no code block follows %q", doc[found[0][0]:found[0][1]])
}

// countCommands counts a script's commands: its non-empty lines that are
// neither comments nor continuations of a line ending in a backslash.
func countCommands(script string) int {
	n, cont := 0, false
	for _, l := range strings.Split(script, "\n") {
		continued := cont
		trimmed := strings.TrimSpace(l)
		// A comment's trailing backslash continues nothing.
		cont = !strings.HasPrefix(trimmed, "#") && strings.HasSuffix(trimmed, `\`)
		if continued || trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		n++
	}
	return n
}

func TestDeployDocsCommandCount(t *testing.T) {
	t.Parallel()
	doc := readRepoFile(t, deployDoc)
	n, block, err := statedCommands(doc)
	if err != nil {
		t.Fatalf("%s: %v", deployDoc, err)
	}
	if got := countCommands(block); got != n {
		t.Errorf("%s says %d commands, but the ```sh block after it has %d:\n%s", deployDoc, n, got, block)
	}
}

func TestDeployDocsCommandCounter(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		script string
		want   int
	}{
		{"", 0},
		{"a\nb\n", 2},
		{"# comment\n\n  # indented comment\na # trailing comment\n", 1},
		{"a \\\n    --flag \\\n    --other\nb\n", 2},
		{"# a comment ending in a backslash \\\nb\n", 1},
		{"a \\\n\nb\n", 2},
		{"x=\"$(cmd \\\n  --f)\"\n", 1},
	} {
		if got := countCommands(tt.script); got != tt.want {
			t.Errorf("countCommands(%q) = %d, want %d", tt.script, got, tt.want)
		}
	}
	fence := "```"
	doc := "intro\n\nThese 2 commands do it:\n\n" + fence + "sh\na\nb \\\n  c\n" + fence + "\n"
	if n, block, err := statedCommands(doc); err != nil || n != 2 || countCommands(block) != 2 {
		t.Errorf("statedCommands = %d, %q, %v; want 2 commands", n, block, err)
	}
	for name, bad := range map[string]string{
		"no sentence":   fence + "sh\na\n" + fence + "\n",
		"two sentences": "These 1 commands.\nThese 1 commands.\n" + fence + "sh\na\n" + fence + "\n",
		"console block": "These 1 commands:\n" + fence + "console\n$ a\n" + fence + "\n",
		"no block":      "These 1 commands.\n",
		"unclosed":      "These 1 commands:\n" + fence + "sh\na\n",
	} {
		if _, _, err := statedCommands(bad); err == nil {
			t.Errorf("%s: statedCommands accepted %q", name, bad)
		}
	}
}

// docCode returns the code of a Markdown document: each inline code span
// outside fences, and each command of its shell blocks (sh, bash, shell;
// of console blocks only the commands), backslash continuations joined.
func docCode(doc string) []string {
	var code []string
	inFence := false
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inFence = !inFence
			continue
		}
		if !inFence {
			for _, m := range codeSpanRE.FindAllStringSubmatch(l, -1) {
				code = append(code, m[1])
			}
		}
	}
	for _, blk := range shellBlocks(deployDoc, doc) {
		var cur strings.Builder
		for _, l := range strings.Split(blk.script, "\n") {
			if t := strings.TrimRight(l, " \t"); strings.HasSuffix(t, `\`) {
				cur.WriteString(strings.TrimSuffix(t, `\`) + " ")
				continue
			}
			cur.WriteString(l)
			code = append(code, cur.String())
			cur.Reset()
		}
	}
	return code
}

// makeTargets returns the targets a Makefile defines.
func makeTargets(makefile string) []string {
	var targets []string
	for _, m := range makeRuleRE.FindAllStringSubmatch(makefile, -1) {
		targets = append(targets, m[1])
	}
	return targets
}

// makeGoals returns the targets that code asks make for: after the word
// make, the first word that is neither a VAR=value nor a flag.
func makeGoals(code string) []string {
	var goals []string
	fields := strings.Fields(code)
	for i, f := range fields {
		if strings.TrimLeft(f, "(") != "make" {
			continue
		}
		for _, g := range fields[i+1:] {
			if strings.Contains(g, "=") || strings.HasPrefix(g, "-") {
				continue
			}
			if g = strings.TrimRight(g, ");"); makeGoalRE.MatchString(g) {
				goals = append(goals, g)
			}
			break
		}
	}
	return goals
}

func TestDeployDocsMakeTargets(t *testing.T) {
	t.Parallel()
	doc := readRepoFile(t, deployDoc)
	targets := makeTargets(readRepoFile(t, "Makefile"))
	if !slices.Contains(targets, "package") || !slices.Contains(targets, "publish") {
		t.Fatalf("Makefile targets %v: the parser is broken", targets)
	}
	seen := map[string]bool{}
	for _, c := range docCode(doc) {
		for _, g := range makeGoals(c) {
			seen[g] = true
			if !slices.Contains(targets, g) {
				t.Errorf("%s runs make %s (in %q), but the Makefile has no target %s", deployDoc, g, c, g)
			}
		}
	}
	if !seen["publish"] || !seen["package"] {
		t.Errorf("%s mentions make targets %v: want at least package and publish", deployDoc, seen)
	}
}

// provisionFlags returns the flags that code passes to provision.sh: the
// words starting with - after it, up to the end of that command.
func provisionFlags(code string) []string {
	var flags []string
	for _, part := range strings.Split(code, "provision.sh")[1:] {
		if end := strings.IndexAny(part, "|;&)#>`"); end >= 0 {
			part = part[:end]
		}
		for _, m := range flagRE.FindAllStringSubmatch(part, -1) {
			flags = append(flags, m[1])
		}
	}
	return flags
}

func TestDeployDocsProvisionFlags(t *testing.T) {
	t.Parallel()
	help := runProvision(t, "--help")
	if help.code != 0 {
		t.Fatalf("provision.sh --help exited %d:\n%s", help.code, help.stderr)
	}
	var helpFlags []string
	for _, m := range flagRE.FindAllStringSubmatch(help.stdout, -1) {
		helpFlags = append(helpFlags, m[1])
	}
	if !slices.Contains(helpFlags, "--name") || !slices.Contains(helpFlags, "--dry-run") {
		t.Fatalf("provision.sh --help lists %v: the parser is broken\n%s", helpFlags, help.stdout)
	}
	doc := readRepoFile(t, deployDoc)
	seen := map[string]bool{}
	for _, c := range docCode(doc) {
		for _, f := range provisionFlags(c) {
			seen[f] = true
			if !slices.Contains(helpFlags, f) {
				t.Errorf("%s passes %s to provision.sh (in %q), but provision.sh --help does not list it", deployDoc, f, c)
			}
		}
	}
	if !seen["--name"] || !seen["--dry-run"] {
		t.Errorf("%s passes provision.sh the flags %v: want at least --name and --dry-run", deployDoc, seen)
	}
}

// provisionPrompt starts the command of every console transcript of
// provision.sh in the doc. deployDryRunCommand is the transcript the page
// must have: a first run's whole plan, with the notes that stderr carries
// merged in by the command itself, in the order the script prints them.
const (
	provisionPrompt     = "$ bash deploy/provision.sh "
	deployDryRunCommand = "bash deploy/provision.sh --name hello-fn --dry-run 2>&1"
	deployHelpCommand   = "bash deploy/provision.sh --help"
	// transcriptElision, as a transcript's first line of output, stands
	// for the head of the output: the lines after it must then be its end.
	transcriptElision = "..."
)

// transcript is one ```console block that runs provision.sh.
type transcript struct {
	line    int    // of the command, in the doc
	command string // without the prompt
	output  []string
}

// provisionTranscripts returns the doc's ```console blocks whose first line
// runs provision.sh. Each must hold that one command, on one line, and
// then only its output.
func provisionTranscripts(doc string) ([]transcript, error) {
	var found []transcript
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		fence := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(fence, "```") {
			continue
		}
		lang := strings.TrimSpace(strings.TrimLeft(fence, "`"))
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("line %d: the ```%s block is not closed", i+1, lang)
		}
		body := lines[i+1 : end]
		if lang == "console" && len(body) > 0 && strings.HasPrefix(body[0], provisionPrompt) {
			tr := transcript{line: i + 2, command: strings.TrimPrefix(body[0], "$ "), output: body[1:]}
			if strings.HasSuffix(strings.TrimSpace(tr.command), `\`) {
				return nil, fmt.Errorf("line %d: %q continues onto the next line: write the command on one", tr.line, tr.command)
			}
			for j, l := range tr.output {
				if strings.HasPrefix(l, "$ ") {
					return nil, fmt.Errorf("line %d: a second command %q in the transcript of %q: give it a block of its own", tr.line+1+j, l, tr.command)
				}
			}
			found = append(found, tr)
		}
		i = end
	}
	return found, nil
}

// compareTranscript says how the output a transcript shows differs from
// the real one, or returns nil: line by line, exactly, except that a first
// line transcriptElision stands for one or more lines of the real
// output's head.
func compareTranscript(shown, real []string) error {
	offset := 0
	if len(shown) > 0 && shown[0] == transcriptElision {
		shown = shown[1:]
		offset = len(real) - len(shown)
		if offset < 1 {
			return fmt.Errorf("the transcript elides its head (%s), but shows %d lines of output, and the real output has only %d", transcriptElision, len(shown), len(real))
		}
	}
	for i := 0; i < len(shown) || offset+i < len(real); i++ {
		switch {
		case i >= len(shown):
			return fmt.Errorf("output line %d is missing from the transcript:\n  real: %q", offset+i+1, real[offset+i])
		case offset+i >= len(real):
			return fmt.Errorf("output line %d of the transcript is not in the real output:\n  shown: %q", i+1, shown[i])
		case shown[i] != real[offset+i]:
			return fmt.Errorf("output line %d differs:\n  shown: %q\n  real:  %q", offset+i+1, shown[i], real[offset+i])
		}
	}
	return nil
}

// runTranscript runs command with bash -c from the repository's root, with
// nothing in its environment but PATH, an az and a go first on it that
// record any call and fail it (a dry run and --help need neither). It
// returns stdout, which is all a transcript may show: what it shows of
// stderr, the command sends to stdout itself (2>&1).
func runTranscript(t *testing.T, command string) (stdout string, err error) {
	t.Helper()
	bash := lookBash(t)
	stub := t.TempDir()
	calls := filepath.Join(stub, "calls")
	for _, tool := range []string{"az", "go"} {
		script := "#!/bin/sh\nprintf '" + tool + " %s\\n' \"$*\" >> '" + calls + "'\necho '" + tool + " must not run here' >&2\nexit 97\n"
		if err := os.WriteFile(filepath.Join(stub, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), provisionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-c", command)
	cmd.Dir = ".."
	cmd.Env = []string{"PATH=" + stub + string(os.PathListSeparator) + os.Getenv("PATH")}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%v\nstderr:\n%s", err, errOut.String())
	}
	if b, err := os.ReadFile(calls); err == nil {
		return out.String(), fmt.Errorf("it called az or go:\n%s", b)
	}
	if errOut.Len() != 0 {
		return out.String(), fmt.Errorf("it printed on stderr, which the transcript cannot show (add 2>&1 to the command to show it):\n%s", errOut.String())
	}
	return out.String(), nil
}

// TestDeployDocsProvisionTranscripts: every transcript of provision.sh in
// the doc is what the command prints now, line by line. The page must
// have the dry run's in full, and the --help one.
func TestDeployDocsProvisionTranscripts(t *testing.T) {
	t.Parallel()
	doc := readRepoFile(t, deployDoc)
	transcripts, err := provisionTranscripts(doc)
	if err != nil {
		t.Fatalf("%s: %v", deployDoc, err)
	}
	seen := map[string]bool{}
	for _, tr := range transcripts {
		seen[tr.command] = true
		t.Run(tr.command, func(t *testing.T) {
			fields := strings.Fields(tr.command)
			if !slices.Contains(fields, "--dry-run") && !slices.Contains(fields, "--help") && !slices.Contains(fields, "-h") {
				t.Fatalf("%s:%d: %q is neither a dry run nor --help, so this test cannot run it to check the transcript", deployDoc, tr.line, tr.command)
			}
			stdout, err := runTranscript(t, tr.command)
			if err != nil {
				t.Fatalf("%s:%d: %s: %v", deployDoc, tr.line, tr.command, err)
			}
			if err := compareTranscript(tr.output, strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")); err != nil {
				t.Errorf("%s:%d: the transcript of %s is not its output now: %v\nthe output now:\n%s", deployDoc, tr.line, tr.command, err, stdout)
			}
		})
	}
	for _, want := range []string{deployDryRunCommand, deployHelpCommand} {
		if !seen[want] {
			t.Errorf("%s has no ```console transcript starting with %q", deployDoc, "$ "+want)
		}
	}
	for _, tr := range transcripts {
		if tr.command == deployDryRunCommand && slices.Contains(tr.output, transcriptElision) {
			t.Errorf("%s:%d: the dry run's transcript elides lines (%s): show the whole plan", deployDoc, tr.line, transcriptElision)
		}
	}
}

func TestDeployDocsTranscriptChecker(t *testing.T) {
	t.Parallel()
	fence := "```"
	doc := "text\n\n" + fence + "console\n$ bash deploy/provision.sh --help\nusage\n\n  flags\n" + fence + "\n\n" +
		fence + "console\n$ other command\nout\n" + fence + "\n" +
		fence + "sh\nbash deploy/provision.sh --name x --dry-run\n" + fence + "\n" +
		fence + "console\n$ bash deploy/provision.sh --name x --dry-run 2>&1\n...\nlast\n" + fence + "\n"
	got, err := provisionTranscripts(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []transcript{
		{line: 4, command: "bash deploy/provision.sh --help", output: []string{"usage", "", "  flags"}},
		{line: 18, command: "bash deploy/provision.sh --name x --dry-run 2>&1", output: []string{"...", "last"}},
	}
	if !slices.EqualFunc(got, want, func(a, b transcript) bool {
		return a.line == b.line && a.command == b.command && slices.Equal(a.output, b.output)
	}) {
		t.Errorf("provisionTranscripts = %+v, want %+v", got, want)
	}
	for name, bad := range map[string]string{
		"two commands": fence + "console\n$ bash deploy/provision.sh --help\nusage\n$ echo $?\n0\n" + fence + "\n",
		"continued":    fence + "console\n$ bash deploy/provision.sh --name x \\\n    --dry-run\n" + fence + "\n",
		"unclosed":     fence + "console\n$ bash deploy/provision.sh --help\nusage\n",
	} {
		if _, err := provisionTranscripts(bad); err == nil {
			t.Errorf("%s: provisionTranscripts accepted %q", name, bad)
		}
	}

	real := []string{"a", "b", "", "c"}
	for _, tt := range []struct {
		shown []string
		ok    bool
	}{
		{[]string{"a", "b", "", "c"}, true},
		{[]string{"...", "", "c"}, true},
		{[]string{"...", "b", "", "c"}, true},
		{[]string{"...", "a", "b", "", "c"}, false}, // elides nothing
		{[]string{"a", "b", "c"}, false},
		{[]string{"a", "b", "", "c", "d"}, false},
		{[]string{"a", "b", ""}, false},
		{[]string{"a", "B", "", "c"}, false},
		{[]string{"a", "b", " ", "c"}, false},
		{[]string{"...", "b", "c"}, false},
		{[]string{"a", "...", "c"}, false}, // only the head may be elided
	} {
		if err := compareTranscript(tt.shown, real); (err == nil) != tt.ok {
			t.Errorf("compareTranscript(%q, %q) = %v, want ok %v", tt.shown, real, err, tt.ok)
		}
	}
}

// The deploy workflow reads its settings from repository or environment
// variables; section 6 sets them with gh variable set and lists them in a
// table. Both must name exactly the variables deploy.yml reads.
const deployWorkflow = ".github/workflows/deploy.yml"

var (
	workflowVarRE = regexp.MustCompile(`\bvars\.([A-Za-z_][A-Za-z0-9_]*)`)
	ghVariableRE  = regexp.MustCompile(`\bgh variable set ([A-Za-z_][A-Za-z0-9_]*)`)
)

func TestDeployDocsWorkflowVariables(t *testing.T) {
	t.Parallel()
	var read []string
	for _, m := range workflowVarRE.FindAllStringSubmatch(readRepoFile(t, deployWorkflow), -1) {
		read = append(read, m[1])
	}
	slices.Sort(read)
	read = slices.Compact(read)
	if !slices.Contains(read, "AZURE_FUNCTIONAPP_NAME") {
		t.Fatalf("%s reads the variables %v: the parser is broken", deployWorkflow, read)
	}
	doc := readRepoFile(t, deployDoc)
	var set []string
	for _, c := range docCode(doc) {
		for _, m := range ghVariableRE.FindAllStringSubmatch(c, -1) {
			set = append(set, m[1])
		}
	}
	slices.Sort(set)
	if !slices.Equal(set, read) {
		t.Errorf("%s sets the variables %v with gh variable set, but %s reads %v", deployDoc, set, deployWorkflow, read)
	}
	for _, v := range read {
		if !strings.Contains(doc, "| `"+v+"` |") {
			t.Errorf("%s's table of variables has no row for %s, which %s reads", deployDoc, v, deployWorkflow)
		}
	}
}

// TestDeployDocsSettings: every app setting the plan sets has a row of its
// own in a table of docs/deploy.md, which shows the value the plan gives
// it wherever that value is fixed (no placeholder, no URL); and every app
// role the page's commands look up by value is the one the script
// declares, so that a copied command finds it.
func TestDeployDocsSettings(t *testing.T) {
	t.Parallel()
	doc := readRepoFile(t, deployDoc)
	cmds, problems := parsePlan(defaultPlan(t))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var settings []string
	for _, c := range cmds {
		if c.is("az functionapp config appsettings set") {
			settings = c.values("--settings")
		}
	}
	if !slices.Contains(settings, "TASKS_STORE=tables") {
		t.Fatalf("the plan's settings %q: the parser is broken", settings)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(doc, "\n") {
		if m := settingRowRE.FindStringSubmatch(l); m != nil {
			rows[m[1]] = l
		}
	}
	for _, kv := range settings {
		k, v, _ := strings.Cut(kv, "=")
		row, ok := rows[k]
		switch {
		case !ok:
			t.Errorf("%s has no table row for the setting %s, which provision.sh sets", deployDoc, k)
		case !placeholder.MatchString(v) && !strings.Contains(v, "://") && !strings.Contains(row, "`"+v+"`"):
			t.Errorf("%s's row for %s does not show the value `%s` provision.sh sets:\n%s", deployDoc, k, v, row)
		}
	}
	seen := 0
	for _, c := range docCode(doc) {
		for _, m := range appRoleLookupRE.FindAllStringSubmatch(c, -1) {
			seen++
			if m[1] != tasksRole {
				t.Errorf("%s looks up the app role %q (in %q), but provision.sh declares %s", deployDoc, m[1], c, tasksRole)
			}
		}
	}
	if seen == 0 {
		t.Errorf("%s never looks up the app role %s by its value: how does a reader find its id?", deployDoc, tasksRole)
	}
}

var (
	// settingRowRE is a table row about one setting: | `NAME` | ...
	settingRowRE = regexp.MustCompile("^\\| `([A-Za-z_][A-Za-z0-9_]*)` \\|")
	// appRoleLookupRE is a JMESPath query for an app role by its value.
	appRoleLookupRE = regexp.MustCompile(`appRoles\[\?value=='([^']*)'\]`)
)

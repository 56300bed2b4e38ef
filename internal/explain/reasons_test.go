package explain

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/internal/reasonwords"
)

// authWords is package auth's reason and rule words, from its source.
func authWords(t *testing.T) map[string]bool {
	t.Helper()
	list, err := reasonwords.Read(filepath.Join("..", "..", "auth", "reasons.go"))
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	for _, w := range list {
		words[w.Word] = true
	}
	return words
}

// TestReasonTableIsAuths: the table explains every word package auth can
// log, and no other; every row says what the log says, the cause and the
// fix; and the words Explain's cases tell apart are auth's.
func TestReasonTableIsAuths(t *testing.T) {
	words := authWords(t)
	rows := map[string]bool{}
	for _, d := range reasonTable {
		rows[d.word] = true
		if !words[d.word] {
			t.Errorf("reasonTable explains %q, which package auth does not log", d.word)
		}
		if d.log == "" || d.cause == "" || d.fix == "" {
			t.Errorf("reasonTable's row for %q in %s lacks what the log says, the cause or the fix", d.word, d.section)
		}
	}
	for w := range words {
		if !rows[w] && w != "AUTH_REQUIRED_SCOPES" {
			// AUTH_REQUIRED_SCOPES refusals log insufficient_scope.
			t.Errorf("package auth's word %q has no row in reasonTable: its refusal would have no explanation", w)
		}
	}
	for _, w := range []string{wordExpired, wordNotYetValid, wordMissingClaim, wordAudience, wordIssuer, wordSignature, wordInsufficientScope} {
		if !words[w] {
			t.Errorf("Explain tells apart %q, which package auth does not log", w)
		}
	}
}

// TestReasonCasesHaveRows: every case key Explain picks has a row of its
// own; docCase would otherwise fall back to the general row, silently.
func TestReasonCasesHaveRows(t *testing.T) {
	keys := map[string]bool{}
	for _, d := range reasonTable {
		keys[d.key] = true
	}
	for _, k := range []string{caseResourceURL, caseNearMiss, caseOtherAPI, caseAPIHub, caseGraph, caseIDToken, caseOtherTenant, caseConsumer, caseSovereign, caseAppOnly, caseDev} {
		if !keys[k] {
			t.Errorf("no row of reasonTable has the case %q", k)
		}
	}
	seen := map[[3]string]bool{}
	for _, d := range reasonTable {
		id := [3]string{d.word, string(d.section), d.key}
		if seen[id] {
			t.Errorf("two rows for %q in %s with the case %q: docCase finds only the first", d.word, d.section, d.key)
		}
		seen[id] = true
	}
}

var update = flag.Bool("update", false, "rewrite docs/troubleshooting.md's generated tables from reasonTable")

// guidePath is the troubleshooting guide, whose reason tables are
// generated from reasonTable.
var guidePath = filepath.Join("..", "..", "docs", "troubleshooting.md")

// sectionHeads are the first column's heading of each generated table.
var sectionHeads = map[section]string{sectionRule: "rule"}

// renderSection is sec's table in the guide, the comment that opens it
// included.
func renderSection(sec section) string {
	head := sectionHeads[sec]
	if head == "" {
		head = "reason"
	}
	cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- reasons:%s (generated from internal/explain/reasons.go: go test ./internal/explain -run TestTroubleshootingGuide -update) -->\n", sec)
	fmt.Fprintf(&b, "| `%s` | what the log says | usual cause | fix |\n|---|---|---|---|\n", head)
	for _, d := range reasonTable {
		if d.section == sec {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.word, cell(d.log), cell(d.cause), cell(d.fix))
		}
	}
	return b.String()
}

// generatedBlock matches one generated table of the guide, naming its
// section.
var generatedBlock = regexp.MustCompile("(?s)<!-- reasons:([a-z_]+) [^>]*-->\n.*?(<!-- /reasons -->)")

// TestTroubleshootingGuide holds docs/troubleshooting.md's reason tables
// to reasonTable, the one source that Explain's advice comes from too:
// every section has its table in the guide, and each table is exactly
// the one the rows make. -update rewrites them.
func TestTroubleshootingGuide(t *testing.T) {
	b, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	seen := map[section]bool{}
	out := generatedBlock.ReplaceAllStringFunc(doc, func(m string) string {
		sub := generatedBlock.FindStringSubmatch(m)
		sec := section(sub[1])
		seen[sec] = true
		want := renderSection(sec) + sub[2]
		if m != want && !*update {
			t.Errorf("docs/troubleshooting.md: the %s table differs from reasonTable (go test ./internal/explain -run TestTroubleshootingGuide -update)\n got:\n%s\nwant:\n%s", sec, m, want)
		}
		return want
	})
	for _, d := range reasonTable {
		if !seen[d.section] {
			t.Errorf("docs/troubleshooting.md has no generated %s table (<!-- reasons:%s … --> … <!-- /reasons -->) for %q", d.section, d.section, d.word)
		}
	}
	for sec := range seen {
		if !slices.ContainsFunc(reasonTable, func(d reasonDoc) bool { return d.section == sec }) {
			t.Errorf("docs/troubleshooting.md has a generated table for %q, a section reasonTable does not have", sec)
		}
	}
	if *update && out != doc {
		if err := os.WriteFile(guidePath, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

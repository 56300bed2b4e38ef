package auth

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// reasonBlock returns the words of reasons.go's constant block (its
// reason and rule constants), by constant name, read from the source: the
// block is the one list, and Go cannot enumerate constants at run time.
func reasonBlock(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "reasons.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "reason") && !strings.HasPrefix(name.Name, "rule") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				words[name.Name], _ = strconv.Unquote(lit.Value)
			}
		}
	}
	if len(words) == 0 {
		t.Fatal("found no reason constants in reasons.go")
	}
	return words
}

// TestReasonWordsAreOneList: every reason a TokenError carries comes from
// the block (no literal at a call site), every word of the block is
// explained in docs/troubleshooting.md, and every reason the doc's 401
// tables explain is one the block has. A new refusal cannot then log a
// word an operator finds nowhere.
func TestReasonWordsAreOneList(t *testing.T) {
	block := reasonBlock(t)
	words := map[string]bool{}
	for _, w := range block {
		words[w] = true
	}

	// Call sites.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "invalidToken" && len(n.Args) > 0 {
					calls++
					switch arg := n.Args[0].(type) {
					case *ast.Ident:
						if block[arg.Name] == "" {
							t.Errorf("%s: invalidToken's reason %s is not a constant of the block", name, arg.Name)
						}
					case *ast.SelectorExpr:
						// classify's table, whose entries the literal
						// check below holds to the block.
					default:
						t.Errorf("%s: invalidToken's reason is neither a constant of the block nor a table's", name)
					}
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "PolicyError" {
					for _, el := range n.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok || kv.Key.(*ast.Ident).Name != "Rule" {
							continue
						}
						// A constant of the block, or policy.go's local
						// variable set from them.
						if id, ok := kv.Value.(*ast.Ident); !ok || block[id.Name] == "" && id.Name != "rule" {
							t.Errorf("%s: a PolicyError's Rule is not a constant of the block", name)
						}
					}
				}
			case *ast.BasicLit:
				if v, err := strconv.Unquote(n.Value); n.Kind == token.STRING && err == nil && words[v] && name != "reasons.go" {
					t.Errorf("%s: the reason word %q is written out instead of naming its constant", name, v)
				}
			}
			return true
		})
	}
	if calls == 0 {
		t.Fatal("found no invalidToken call: the inspection is broken")
	}

	// The table: a row for every word, and no row for a word the block
	// lacks. The guide is the table's (TestTroubleshootingGuide).
	rows := map[string]bool{}
	for _, d := range reasonTable {
		rows[d.word] = true
		if !words[d.word] {
			t.Errorf("reasonTable explains %q, which the block does not have", d.word)
		}
		if d.log == "" || d.cause == "" || d.fix == "" {
			t.Errorf("reasonTable's row for %q in %s lacks what the log says, the cause or the fix", d.word, d.section)
		}
	}
	for name, w := range block {
		if !rows[w] && w != ruleRequiredScopes {
			// AUTH_REQUIRED_SCOPES refusals log insufficient_scope.
			t.Errorf("%s (%q) has no row in reasonTable: its refusal would have no explanation", name, w)
		}
	}

	// The fuzz tests' list of what Verify may answer.
	for _, w := range documentedReasons {
		if !words[w] {
			t.Errorf("documentedReasons lists %q, which the block does not have", w)
		}
	}
	if !slices.Contains(documentedReasons, reasonHeader) {
		t.Error("documentedReasons lacks header, which Verify answers")
	}
}

var update = flag.Bool("update", false, "rewrite docs/troubleshooting.md's generated tables from reasonTable")

// guidePath is the troubleshooting guide, whose reason tables are
// generated from reasonTable.
var guidePath = filepath.Join("..", "docs", "troubleshooting.md")

// sectionHeads are the first column's heading of each generated table.
var sectionHeads = map[section]string{sectionRule: "rule"}

// renderSection is sec's table in the guide.
func renderSection(sec section) string {
	head := sectionHeads[sec]
	if head == "" {
		head = "reason"
	}
	cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	var b strings.Builder
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
var generatedBlock = regexp.MustCompile("(?s)(<!-- reasons:([a-z_]+) [^>]*-->\n)(.*?)(<!-- /reasons -->)")

// TestTroubleshootingGuide holds docs/troubleshooting.md's reason tables
// to reasonTable, the one source that explain's advice comes from too:
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
		sec := section(sub[2])
		seen[sec] = true
		want := renderSection(sec)
		if sub[3] != want && !*update {
			t.Errorf("docs/troubleshooting.md: the %s table differs from reasonTable (go test ./auth -run TestTroubleshootingGuide -update)\n got:\n%s\nwant:\n%s", sec, sub[3], want)
		}
		return sub[1] + want + sub[4]
	})
	for _, d := range reasonTable {
		if !seen[d.section] {
			t.Errorf("docs/troubleshooting.md has no generated %s table (<!-- reasons:%s … --> … <!-- /reasons -->) for %q", d.section, d.section, d.word)
		}
	}
	for sec := range seen {
		if renderSection(sec) == renderSection("none") {
			t.Errorf("docs/troubleshooting.md has a generated table for %q, a section reasonTable does not have", sec)
		}
	}
	if *update && out != doc {
		if err := os.WriteFile(guidePath, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReasonCasesHaveRows: every case key explain picks has a row of its
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

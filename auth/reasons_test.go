package auth

import (
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

// reasonBlock returns the reason words of errors.go's constant block, by
// constant name, read from the source: the block is the one list, and Go
// cannot enumerate constants at run time.
func reasonBlock(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
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
				if !strings.HasPrefix(name.Name, "reason") || i >= len(vs.Values) {
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
		t.Fatal("found no reason constants in errors.go")
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
			case *ast.BasicLit:
				if v, err := strconv.Unquote(n.Value); n.Kind == token.STRING && err == nil && words[v] && name != "errors.go" {
					t.Errorf("%s: the reason word %q is written out instead of naming its constant", name, v)
				}
			}
			return true
		})
	}
	if calls == 0 {
		t.Fatal("found no invalidToken call: the inspection is broken")
	}

	// The doc.
	b, err := os.ReadFile(filepath.Join("..", "docs", "troubleshooting.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, w := range block {
		if !strings.Contains(doc, "| `"+w+"`") {
			t.Errorf("%s (%q) is not explained in a table of docs/troubleshooting.md", name, w)
		}
	}
	start := strings.Index(doc, "## 401 `invalid_token`")
	end := strings.Index(doc, "## 403")
	if start < 0 || end < start {
		t.Fatal("docs/troubleshooting.md has no 401 invalid_token section before the 403 ones")
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|")
	found := row.FindAllStringSubmatch(doc[start:end], -1)
	if len(found) < 10 {
		t.Fatalf("found only %d reason rows in the 401 section", len(found))
	}
	for _, m := range found {
		if m[1] == "reason" {
			continue // a table's heading
		}
		if !words[m[1]] {
			t.Errorf("docs/troubleshooting.md explains the reason %q, which the block does not have", m[1])
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

package auth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/entrafunc/entrafunc/internal/reasonwords"
)

// readReasonBlock returns the words of reasons.go's constant block (its
// reason and rule constants) by constant name: the block is the one list.
func readReasonBlock() (map[string]string, error) {
	list, err := reasonwords.Read("reasons.go")
	if err != nil {
		return nil, err
	}
	words := map[string]string{}
	for _, w := range list {
		words[w.Name] = w.Word
	}
	return words, nil
}

// reasonWords is the block, read once for Explained.
var reasonWords = sync.OnceValues(readReasonBlock)

// reasonBlock is readReasonBlock for a test.
func reasonBlock(t *testing.T) map[string]string {
	t.Helper()
	words, err := reasonWords()
	if err != nil {
		t.Fatalf("reasons.go: %v", err)
	}
	if len(words) == 0 {
		t.Fatal("found no reason constants in reasons.go")
	}
	return words
}

// TestReasonWordsAreOneList: every reason a TokenError carries, and every
// rule a PolicyError names, comes from the block (no literal at a call
// site). internal/explain's tests hold its reason table, and so
// docs/troubleshooting.md, to the block: a new refusal cannot then log a
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
			case *ast.ValueSpec:
				// The steps' names, some of which are also the
				// words their failures log: names, not refusals.
				if len(n.Names) == 1 && n.Names[0].Name == "stepNames" {
					return false
				}
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

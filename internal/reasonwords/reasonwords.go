// Package reasonwords reads package auth's reason and rule words from
// auth/reasons.go, for the tests that hold other lists to them (auth's
// call sites, internal/explain's reason table, api's error contract). Go
// cannot list constants at run time, and auth exports Reason, not the
// words; the constant block is the one list, so the tests read its source.
package reasonwords

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
)

// Word is one constant of the block.
type Word struct {
	// Name is the constant's name: reasonExpired, ruleTenant, ...
	Name string
	// Word is its value, what a log line's "reason" field says.
	Word string
}

// Rule reports whether w is a PolicyError's rule rather than a reason.
func (w Word) Rule() bool { return strings.HasPrefix(w.Name, "rule") }

// minWords is fewer than the block has ever held: a reading that finds
// fewer is broken, not a short list.
const minWords = 10

// Read returns the reason and rule constants (names starting with
// "reason" or "rule") of the Go file at path, sorted by word. One of them
// that is not a string literal is an error, and so are fewer than ten.
func Read(path string) ([]Word, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	var words []Word
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "reason") && !strings.HasPrefix(id.Name, "rule") {
					continue
				}
				var lit *ast.BasicLit
				if i < len(vs.Values) {
					lit, _ = vs.Values[i].(*ast.BasicLit)
				}
				if lit == nil || lit.Kind != token.STRING {
					return nil, fmt.Errorf("%s: %s is not a string literal", path, id.Name)
				}
				w, err := strconv.Unquote(lit.Value)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %v", path, id.Name, err)
				}
				words = append(words, Word{id.Name, w})
			}
		}
	}
	if len(words) < minWords {
		return nil, fmt.Errorf("%s: %d reason and rule constants, fewer than %d: the reading is broken", path, len(words), minWords)
	}
	slices.SortFunc(words, func(a, b Word) int { return cmp.Compare(a.Word, b.Word) })
	return words, nil
}

package reasonwords

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadAuthsBlock(t *testing.T) {
	words, err := Read(filepath.Join("..", "..", "auth", "reasons.go"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, w := range words {
		byName[w.Name] = w.Word
	}
	for name, want := range map[string]string{"reasonExpired": "expired", "ruleTenant": "AUTH_TENANT_ID"} {
		if byName[name] != want {
			t.Errorf("%s = %q, want %q", name, byName[name], want)
		}
	}
	for i := 1; i < len(words); i++ {
		if words[i-1].Word > words[i].Word {
			t.Fatalf("not sorted by word: %q before %q", words[i-1].Word, words[i].Word)
		}
	}
}

// TestReadRefuses: a reading that would hand the tests a wrong list fails.
func TestReadRefuses(t *testing.T) {
	many := ""
	for i := range minWords {
		many += "\treason" + string(rune('A'+i)) + " = \"" + string(rune('a'+i)) + "\"\n"
	}
	for _, tc := range []struct{ name, src, want string }{
		{"not a literal", "package p\nconst (\n" + many + "\treasonX = reasonA\n)\n", "reasonX is not a string literal"},
		{"no value", "package p\nconst (\n" + many + "\treasonY string\n)\n", "reasonY is not a string literal"},
		{"too few", "package p\nconst reasonA = \"a\"\n", "fewer than 10"},
		{"not Go", "package p\nconst (", "expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "reasons.go")
			if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

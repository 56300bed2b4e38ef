package tools

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEContents: a newcomer finds deploying near the top, and every
// link of the contents line leads to a heading of the README.
func TestREADMEContents(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	anchors := map[string]bool{}
	var order []string
	for _, l := range strings.Split(doc, "\n") {
		if h, ok := strings.CutPrefix(l, "## "); ok {
			a := githubAnchor(h)
			anchors[a] = true
			order = append(order, a)
		}
	}
	if len(order) < 3 || order[0] != "deploy-to-azure" {
		t.Errorf("the first section is %q, want Deploy to Azure right after the opening commands", order)
	}
	i := strings.Index(doc, "**Contents:**")
	j := strings.Index(doc, "\n## ")
	if i < 0 || j < i {
		t.Fatal("no **Contents:** line before the first section")
	}
	links := regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(doc[i:j], -1)
	if len(links) < len(order)-1 {
		t.Errorf("the contents link %d sections of %d", len(links), len(order))
	}
	for _, l := range links {
		if !anchors[l[1]] {
			t.Errorf("contents link #%s leads to no heading", l[1])
		}
	}
	if !strings.Contains(doc[:j], "make dev") || !strings.Contains(doc[:j], "make test") {
		t.Error("the README no longer opens with make dev and make test")
	}
}

// githubAnchor is the anchor GitHub gives a heading: lower case, spaces
// to hyphens, punctuation other than hyphens and underscores dropped.
func githubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTokenExpired: --expired gives a token the server refuses as
// expired (401), for trying that path and explain, whatever the skew.
func TestTokenExpired(t *testing.T) {
	e := env{"AUTH_DEV_KEY_FILE": filepath.Join(t.TempDir(), "k.pem")}
	code, tok, stderr := runMain(t, e, "token", "--dev", "--expired")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, out, _ := runMain(t, e, "explain", "--dev", strings.TrimSpace(tok))
	if code != 1 || !strings.Contains(out, "401") || !strings.Contains(out, "reason=expired") {
		t.Errorf("explain: exit %d, want 1 with a 401 for reason=expired:\n%s", code, out)
	}
	code, _, stderr = runMain(t, e, "token", "--dev", "--expired", "--lifetime", "1m")
	if code != 2 || !strings.Contains(stderr, "do not go together") {
		t.Errorf("--expired --lifetime: exit %d: %s", code, stderr)
	}
}

// TestTokenSaysWhyThereIsNoPlaceForTheKey: a relative HOME or key file is
// named, not hidden behind "set AUTH_DEV_KEY_FILE".
func TestTokenSaysWhyThereIsNoPlaceForTheKey(t *testing.T) {
	for _, e := range []env{{"HOME": "repo"}, {"AUTH_DEV_KEY_FILE": "k.pem"}} {
		code, out, stderr := runMain(t, e, "token", "--dev")
		if code != 1 || out != "" || !strings.Contains(stderr, "not an absolute path") {
			t.Errorf("%v: exit %d, stdout %q, stderr %s", e, code, out, stderr)
		}
	}
}

package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/auth"
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

// TestTokenAppOnly: --app-only mints what a service-principal connection
// gets (idtyp app, no scp), which the verifier reads as app-only with its
// roles; --scope cannot go with it.
func TestTokenAppOnly(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "k.pem")
	e := env{"AUTH_DEV_KEY_FILE": keyFile}
	code, tok, stderr := runMain(t, e, "token", "--dev", "--app-only", "--role", "Tasks.ReadWrite.All")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	key, err := auth.LoadOrCreateDevKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := key.KeySet()
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{TenantID: auth.DevTenantID, Audiences: []string{auth.DevAudience}}, keys)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), strings.TrimSpace(tok))
	if err != nil {
		t.Fatal(err)
	}
	if !p.AppOnly || len(p.Scopes) != 0 || !slices.Equal(p.Roles, []string{"Tasks.ReadWrite.All"}) || p.Name != "" || !auth.IsGUID(p.ObjectID) {
		t.Errorf("principal %+v", p)
	}
	code, _, stderr = runMain(t, e, "token", "--dev", "--app-only", "--scope", "user_impersonation")
	if code != 2 || !strings.Contains(stderr, "do not go together") {
		t.Errorf("--app-only --scope: exit %d: %s", code, stderr)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoTokenInErrors: an argument may be a credential pasted in the
// wrong place (a missing space glues a token to a flag). No command ever
// repeats one in an error, whatever the mistake around it.
func TestNoTokenInErrors(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k.pem")
	_, tok, _ := runMain(t, env{"AUTH_DEV_KEY_FILE": key}, "token", "--dev")
	tok = strings.TrimSpace(tok)
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("no token: %q", tok)
	}
	// An opaque token (personal accounts' are about a kilobyte of
	// base64) and an Entra client secret.
	opaque := "EwB4A8l6BAAU" + strings.Repeat("kR7xQ2mZ9pL4vB1n", 70)
	secret := "Xk28Q~J3n.Vb_6cT1pQwErTyUiOpAsDfGhJkLzXcVbNm"
	credentials := map[string]string{"jwt": tok, "opaque": opaque, "client secret": secret}

	shapes := []struct {
		name string
		args func(cred string) []string
	}{
		{"glued to a bool flag", func(c string) []string { return []string{"explain", "--online" + c} }},
		{"glued to a flag with a value", func(c string) []string { return []string{"token", "--name" + c} }},
		{"as a flag name", func(c string) []string { return []string{"check", "--" + c} }},
		{"as a single-dash flag", func(c string) []string { return []string{"serve", "-" + c} }},
		{"as a bool flag's value", func(c string) []string { return []string{"token", "--dev=" + c} }},
		{"as a duration's value", func(c string) []string { return []string{"token", "--lifetime=" + c} }},
		{"as an int's value", func(c string) []string { return []string{"dev", "-port", c} }},
		{"as a stray argument", func(c string) []string { return []string{"serve", c} }},
		{"as a stray argument to check", func(c string) []string { return []string{"check", "--online", c} }},
		{"as a stray argument to version", func(c string) []string { return []string{"version", c} }},
		{"as the command", func(c string) []string { return []string{c} }},
		{"as help's command", func(c string) []string { return []string{"help", c} }},
		{"as help's second command", func(c string) []string { return []string{"help", "token", c} }},
		{"glued to connector's flag", func(c string) []string { return []string{"connector", "--host" + c} }},
		{"after a newline and an escape", func(c string) []string { return []string{"explain", "--online\n\x1b[2J" + c} }},
		{"as two tokens to explain", func(c string) []string { return []string{"explain", c, c} }},
	}
	for credName, cred := range credentials {
		for _, s := range shapes {
			t.Run(credName+"/"+s.name, func(t *testing.T) {
				code, stdout, stderr := runMain(t, env{"AUTH_MODE": "dev", "AUTH_DEV_KEY_FILE": key}, s.args(cred)...)
				if code != 2 {
					t.Errorf("exit %d, want 2 (a usage error)\nstderr: %s", code, stderr)
				}
				for _, out := range []string{stdout, stderr} {
					if piece := sharedPiece(out, cred, 16); piece != "" {
						t.Fatalf("the credential was printed (%q…):\n%s", piece, out)
					}
				}
				if strings.ContainsRune(stderr, '\x1b') {
					t.Errorf("an escape reached the terminal: %q", stderr)
				}
				if !strings.Contains(stderr, "-h' for usage") {
					t.Errorf("stderr lacks the pointer to -h: %s", stderr)
				}
			})
		}
	}
}

// sharedPiece returns a piece of secret, n bytes long, that out contains;
// "" if none.
func sharedPiece(out, secret string, n int) string {
	for i := 0; i+n <= len(secret); i++ {
		if p := secret[i : i+n]; strings.Contains(out, p) {
			return p
		}
	}
	return ""
}

// TestUsageErrorsAreShort: a usage error is the error with the command's
// name, and where the usage is, not the usage burying it.
func TestUsageErrorsAreShort(t *testing.T) {
	dev := devTestEnv(t)
	for _, args := range [][]string{
		{"frobnicate"}, {"--bogus"}, {"serve", "x"}, {"token", "--bogus"}, {"token", "--lifetime", "soon"},
		{"check", "now"}, {"dev", "-port", "0"}, {"explain"}, {"connector", "x"}, {"version", "x"}, {"help", "a", "b"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runMain(t, dev, args...)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != 2 || stdout != "" || len(lines) != 2 {
				t.Fatalf("exit %d, stdout %q, want 2 lines on stderr, got %d:\n%s", code, stdout, len(lines), stderr)
			}
			cmd := "handler"
			if len(args) > 0 && !strings.HasPrefix(args[0], "-") && args[0] != "frobnicate" && args[0] != "help" {
				cmd += " " + args[0]
			}
			if !strings.HasPrefix(lines[0], cmd+": ") || lines[1] != "Run '"+cmd+" -h' for usage." {
				t.Errorf("stderr = %q, want %q then the pointer to %s -h", stderr, cmd+": …", cmd)
			}
		})
	}
}

// TestUsageErrorInREADME holds the README's example of a usage error to
// what the command prints.
func TestUsageErrorInREADME(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, stderr := runMain(t, devTestEnv(t), "token", "--lifetme", "10m")
	if want := "$ ./handler token --lifetme 10m\n" + stderr; !strings.Contains(string(b), want) {
		t.Errorf("README.md does not show what the command prints:\n%s", want)
	}
}

// TestNoTokenFromTheEnvironment: a token pasted into a setting is not
// repeated by any command either: not by a configuration error, not by
// check's settings table, not by explain's refusal of the configuration;
// and a setting's control characters never reach the terminal.
func TestNoTokenFromTheEnvironment(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k.pem")
	_, tok, _ := runMain(t, env{"AUTH_DEV_KEY_FILE": key}, "token", "--dev")
	tok = strings.TrimSpace(tok)
	functionKey := "Qx7Lm2Vb9Rt4Kp8Zw3Nc6Hj1Fd5Gs0AzFuYq2Lm8Vb4Rt9Kp==" // a Functions host key's shape
	for _, setting := range []string{"AUTH_ALLOWED_USERS", "AUTH_ALLOWED_GROUPS", "AUTH_ALLOWED_CLIENT_APPS", "AUTH_AUDIENCES", "AUTH_TENANT_ID", "AUTH_MODE", "AUTH_KEYS_WAIT", "AUTH_AUTHORITY", "LOG_LEVEL", "LISTEN_HOST"} {
		for name, secret := range map[string]string{"jwt": tok, "function key": functionKey} {
			e := env{"AUTH_MODE": "dev", "AUTH_DEV_KEY_FILE": key, setting: secret}
			// Not serve: with a valid configuration it would serve; its
			// errors go through the same exitCode as check's.
			for _, args := range [][]string{{"check"}, {"explain", "x"}, {"token"}, {"connector", "--out", t.TempDir()}, {"check", "--connector-resource", secret}} {
				t.Run(setting+"/"+name+"/"+args[0], func(t *testing.T) {
					_, stdout, stderr := runMain(t, e, args...)
					// Another dev token (token's own output) shares the
					// header: what must not show is this one's signature.
					unique := secret[strings.LastIndexByte(secret, '.')+1:]
					for _, out := range []string{stdout, stderr} {
						if piece := sharedPiece(out, unique, 16); piece != "" {
							t.Fatalf("%s was printed (%q…):\n%s", name, piece, out)
						}
					}
				})
			}
		}
	}
	for _, setting := range []string{"LISTEN_HOST", "AUTH_AUDIENCES", "AUTH_ALLOWED_USERS", "LOG_LEVEL"} {
		e := env{"AUTH_MODE": "dev", "AUTH_DEV_KEY_FILE": key, setting: "x\x1b]0;pwn\a\u202e"}
		for _, args := range [][]string{{"check"}, {"explain", "x"}} {
			_, stdout, stderr := runMain(t, e, args...)
			if strings.ContainsAny(stdout+stderr, "\x1b\a\u202e") {
				t.Errorf("%s through %s reached the terminal raw:\n%q\n%q", setting, args[0], stdout, stderr)
			}
		}
	}
}

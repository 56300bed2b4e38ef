package main

import (
	"strings"
	"testing"
)

// TestAudienceWarnings: check warns when AUTH_AUDIENCES cannot match the
// aud of one token version, which the app registration's manifest
// decides: a v2 token carries the client id, a v1 token the resource
// asked for (usually api://…).
func TestAudienceWarnings(t *testing.T) {
	const id = "6c1e2b3a-4d5f-4a6b-8c7d-9e0f1a2b3c4d"
	tests := []struct {
		name      string
		mode      string
		audiences []string
		want      []string // each must appear in one warning, in order
	}{
		{name: "App ID URI and client id", mode: modeJWT, audiences: []string{"api://" + id, id}},
		{name: "with the Resource URL too", mode: modeEasyAuth, audiences: []string{"api://" + id, id, "https://hello-fn.azurewebsites.net"}},
		// The docs' old example: Easy Auth lets a v2 token through (its
		// clientId is accepted implicitly), then the handler says 403.
		{name: "no client id, behind Easy Auth", mode: modeEasyAuth, audiences: []string{"api://" + id, "https://hello-fn.azurewebsites.net"},
			want: []string{"no client id", "v2", "403 (rule AUTH_AUDIENCES)", "add " + id + " (the client id in the App ID URI api://" + id + ")"}},
		{name: "no client id, jwt", mode: modeJWT, audiences: []string{"api://hello-fn"},
			want: []string{"no client id", "401 (reason audience)", "add the API registration's Application (client) ID"}},
		{name: "client id only", mode: modeJWT, audiences: []string{id},
			want: []string{"client ids only", "v1", "App ID URI (api://" + id + ")"}},
		{name: "client id in capitals", mode: modeJWT, audiences: []string{"api://" + id, strings.ToUpper(id)},
			want: []string{"capital letters", "lower case", "no client id"}},
		{name: "dev mode issues its own tokens", mode: modeDev, audiences: []string{"api://entrafunc-dev"}},
		{name: "Easy Auth's own list decides", mode: modeEasyAuth, audiences: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := audienceWarnings(authConfig{Mode: tt.mode, Audiences: tt.audiences})
			if len(tt.want) == 0 {
				if len(got) != 0 {
					t.Fatalf("warnings for a list that matches both token versions:\n%s", strings.Join(got, "\n"))
				}
				return
			}
			all := strings.Join(got, "\n")
			rest := all
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("warnings do not say %q (in order):\n%s", w, all)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// TestCheckAudienceWarning: check prints the warning in its output and
// still exits 0, since the token version is not visible from here.
func TestCheckAudienceWarning(t *testing.T) {
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tests := []struct {
		name      string
		audiences string
		warned    bool
	}{
		{name: "App ID URI only", audiences: "api://hello-fn", warned: true},
		{name: "client id only", audiences: "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b", warned: true},
		{name: "both", audiences: "api://3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b,3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b", warned: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, env{"AUTH_TENANT_ID": tenant, "AUTH_AUDIENCES": tt.audiences, "TASKS_STORE_FILE": "/tmp/tasks.db"}, "check")
			if code != 0 {
				t.Fatalf("exit %d, want 0: a warning does not fail the check\n%s%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "configuration OK") {
				t.Errorf("no configuration OK:\n%s", stdout)
			}
			if got := strings.Contains(stdout, "WARNING: AUTH_AUDIENCES"); got != tt.warned {
				t.Errorf("warned %v, want %v:\n%s", got, tt.warned, stdout)
			}
		})
	}
}

package api

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/auth"
)

// TestDevModeRefusalPointsAtExplain: a dev-mode server (its authenticator
// accepts development tokens) ends a 401's detail with how to find out
// why: ./handler explain, and ./handler token --dev to mint a token. Any
// other server, and any other answer, says nothing of the kind.
func TestDevModeRefusalPointsAtExplain(t *testing.T) {
	key, err := auth.LoadOrCreateDevKey(filepath.Join(t.TempDir(), "dev.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := key.KeySet()
	if err != nil {
		t.Fatal(err)
	}
	verifier := func(src auth.Source) *auth.Verifier {
		v, err := auth.NewVerifier(auth.Config{TenantID: auth.DevTenantID, Audiences: []string{auth.DevAudience}, Source: src}, keys)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	mint := func(tk auth.DevToken) string {
		tok, err := key.Mint(tk)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := mint(auth.DevToken{})
	tests := []struct {
		name   string
		src    auth.Source
		token  string
		status int
		hint   bool
	}{
		{"no token", auth.SourceDev, "", 401, true},
		{"another audience", auth.SourceDev, mint(auth.DevToken{Audience: "api://someone-else"}), 401, true},
		{"expired", auth.SourceDev, mint(auth.DevToken{Now: time.Now().Add(-3 * time.Hour)}), 401, true},
		{"not a token", auth.SourceDev, "garbage", 401, true},
		{"without the scope", auth.SourceDev, mint(auth.DevToken{Scopes: []string{"none"}}), 403, false},
		{"accepted", auth.SourceDev, good, 200, false},
		{"a jwt-mode server", auth.SourceJWT, mint(auth.DevToken{Audience: "api://someone-else"}), 401, false},
		{"a jwt-mode server, no token", auth.SourceJWT, "", 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Authenticator = auth.Bearer(verifier(tt.src)) })
			var h http.Header
			if tt.token != "" {
				h = http.Header{"Authorization": {"Bearer " + tt.token}}
			}
			w := f.do(t, req{method: http.MethodGet, target: "/api/Me", headers: h})
			status, _, body := invoke(t, f, "/Me", hostPayload(t, "GET", "http://localhost:7071/api/Me", h, nil, nil))
			for _, got := range []struct {
				where  string
				status int
				body   string
			}{{"forwarded", w.Code, w.Body.String()}, {"invocation", atoi(t, status), body}} {
				if got.status != tt.status {
					t.Fatalf("%s: %d, want %d: %s", got.where, got.status, tt.status, got.body)
				}
				if tt.status == 200 {
					continue
				}
				var pb problemBody
				if err := json.Unmarshal([]byte(got.body), &pb); err != nil {
					t.Fatalf("%s: %v: %s", got.where, err, got.body)
				}
				if hinted := strings.Contains(pb.Detail, "./handler explain") && strings.Contains(pb.Detail, "./handler token --dev"); hinted != tt.hint {
					t.Errorf("%s: detail %q points at handler explain: %v, want %v", got.where, pb.Detail, hinted, tt.hint)
				}
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("status %q: %v", s, err)
	}
	return n
}

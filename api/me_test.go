package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

func TestMe(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		token string
		want  map[string]any
	}{
		{"usual caller", "/api/Me", goodToken, map[string]any{
			"oid": goodOID, "tid": goodTID, "name": "Marc Example", "username": "marc@example.com",
			"scopes": []any{requiredScope}, "roles": []any{}, "groups": []any{"g1"},
			"clientAppId": goodClientApp, "tokenVersion": "2.0", "source": "jwt",
		}},
		{"lower case path", "/api/me", goodToken, nil},
		{"upper case path", "/API/ME", goodToken, nil},
		{"mixed case path", "/Api/Me", goodToken, nil},
		{"caller with a role", "/api/Me", adminToken, map[string]any{
			"oid": goodOID, "tid": goodTID, "name": "Marc Example", "username": "marc@example.com",
			"scopes": []any{requiredScope}, "roles": []any{"Admin"}, "groups": []any{"g1"},
			"clientAppId": goodClientApp, "tokenVersion": "2.0", "source": "jwt",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == nil {
				tt.want = map[string]any{
					"oid": goodOID, "tid": goodTID, "name": "Marc Example", "username": "marc@example.com",
					"scopes": []any{requiredScope}, "roles": []any{}, "groups": []any{"g1"},
					"clientAppId": goodClientApp, "tokenVersion": "2.0", "source": "jwt",
				}
			}
			f := newFixture(t, nil)
			w := f.do(t, req{method: http.MethodGet, target: tt.path, token: tt.token})
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body.String())
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var got map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, w.Body.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("body = %v\nwant   %v", got, tt.want)
			}
		})
	}
}

package api

import (
	"encoding/json"
	"net/http"

	"github.com/entrafunc/entrafunc/auth"
)

// handleMe serves "GET /api/Me": the caller as the API sees it, so that a
// connector builder can check whose identity a call carries.
func handleMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.FromContext(r.Context())
		if !ok {
			// Unreachable behind auth.Middleware; refuse rather than guess.
			writeError(w, r, auth.ErrNoCredentials)
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
}

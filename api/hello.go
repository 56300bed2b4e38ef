package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// The Hello function's answers, to the letter of the Azure Functions HTTP
// trigger template.
const (
	helloSuffix    = ". This HTTP triggered function executed successfully."
	helloAnonymous = "This HTTP triggered function executed successfully. Pass a name in the query string or in the request body for a personalized response."
)

// handleHello serves "GET, POST /api/Hello".
func handleHello() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := helloName(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		msg := helloAnonymous
		if name != "" {
			msg = "Hello, " + name + helloSuffix
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, msg)
	})
}

// helloName finds the name as the template does: the query string wins,
// even when empty, and only without one is the body consulted. Repeated
// query keys join with commas, as ASP.NET's StringValues print.
func helloName(r *http.Request) (string, error) {
	if strings.Contains(r.URL.RawQuery, "name") {
		if vs, ok := r.URL.Query()["name"]; ok {
			return strings.Join(vs, ","), nil
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", ErrBodyTooLarge
		}
		return "", badBody("the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return "", nil
	}
	var fields map[string]json.RawMessage
	if err := decodeJSON(body, &fields); err != nil {
		return "", err
	}
	if fields == nil { // the body was JSON null: no name, as in the template
		return "", nil
	}
	raw, ok := fields["name"]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", badBody(`"name" must be a string`)
	}
	return name, nil
}

// decodeJSON decodes exactly one JSON value from body into v.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return badBody("the request body is not valid JSON: " + syn.Error())
		case errors.As(err, &typ):
			return badBody("the request body must be a JSON object")
		}
		return badBody("the request body is not valid JSON")
	}
	if dec.More() {
		return badBody("the request body holds more than one JSON value")
	}
	return nil
}

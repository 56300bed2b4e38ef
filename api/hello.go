package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
)

// The Hello function's answers, to the letter of the Azure Functions HTTP
// trigger template.
const (
	helloSuffix    = ". This HTTP triggered function executed successfully."
	helloAnonymous = "This HTTP triggered function executed successfully. Pass a name in the query string or in the request body for a personalized response."
)

// textPlain is the Content-Type of Hello's answers, shared by every
// response (net/http only reads it) to spare an allocation per request.
var textPlain = []string{"text/plain; charset=utf-8"}

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
		w.Header()["Content-Type"] = textPlain
		io.WriteString(w, msg)
	})
}

// helloName finds the name as the template does: the query string wins,
// even when empty, and only without one is the body consulted.
func helloName(r *http.Request) (string, error) {
	if name, ok := queryName(r.URL.RawQuery); ok {
		return name, nil
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
	if _, err := dec.Token(); err != io.EOF {
		return badBody("the request body holds more than one JSON value")
	}
	return nil
}

// queryName reads the name parameter as ASP.NET's query collection does:
// the key matches in any ASCII letter case (the collection compares keys
// ordinally, ignoring case), and repeated values join with commas
// (StringValues.ToString).
func queryName(rawQuery string) (string, bool) {
	var vals []string
	found := false
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(pair, "=")
		if len(k) < 4 || len(k) > 12 { // "name", possibly percent-encoded
			continue
		}
		key, err := url.QueryUnescape(k)
		if err != nil || !bounded.EqualFold(key, "name") {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			val = v
		}
		found = true
		vals = append(vals, val)
	}
	return strings.Join(vals, ","), found
}

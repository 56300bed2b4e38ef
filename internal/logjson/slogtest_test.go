package logjson

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/slogtest"
)

// TestSlogtest holds the handler to the slog.Handler contract as
// testing/slogtest checks it: each case logs one line, which result
// decodes.
func TestSlogtest(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return New(&buf, nil)
	}, func(t *testing.T) map[string]any {
		line := buf.Bytes()
		if bytes.Count(line, []byte("\n")) != 1 || !bytes.HasSuffix(line, []byte("\n")) {
			t.Fatalf("not one line: %q", line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("not JSON: %v: %q", err, line)
		}
		return m
	})
}

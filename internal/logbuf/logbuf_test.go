package logbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flusher goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int // Write calls
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestWriterBatchesUntilFlush(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour) // no periodic flush during the test
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if got := out.String(); got != "" {
		t.Fatalf("wrote %d bytes before any flush; want them buffered", len(got))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 100 {
		t.Fatalf("after Close: %d lines, want 100", got)
	}
	if out.n != 1 {
		t.Fatalf("after Close: %d writes to the underlying writer, want 1", out.n)
	}
}

func TestWriterFlushesPeriodically(t *testing.T) {
	var out syncBuffer
	w := New(&out, 10*time.Millisecond)
	defer w.Close()
	fmt.Fprintln(w, "hello")
	deadline := time.Now().Add(5 * time.Second)
	for out.String() == "" {
		if time.Now().After(deadline) {
			t.Fatal("line never reached the underlying writer")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWriterConcurrentWritesKeepLinesWhole(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(w, "g%d-%d %s\n", g, i, strings.Repeat("x", 300))
			}
		}()
	}
	wg.Wait()
	w.Close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1600 {
		t.Fatalf("%d lines, want 1600", len(lines))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, strings.Repeat("x", 300)) {
			t.Fatalf("torn line %q", l[:min(len(l), 40)])
		}
	}
}

// Package logbuf batches log output. The request path writes one JSON line
// per request; a write system call per line would cost more than the rest of
// the logging, so lines collect in memory and reach the underlying writer at
// least every flush interval, when the buffer fills, and at Close.
package logbuf

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Writer is a concurrency-safe buffered writer that flushes itself
// periodically. The zero value is not usable; call [New].
type Writer struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New returns a Writer over w that flushes every interval (100 ms when
// interval is not positive). Call Close to stop it and flush what is left.
func New(w io.Writer, interval time.Duration) *Writer {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	lw := &Writer{
		bw:   bufio.NewWriterSize(w, 32<<10),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go lw.loop(interval)
	return lw
}

func (lw *Writer) loop(interval time.Duration) {
	defer close(lw.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			lw.Flush()
		case <-lw.stop:
			return
		}
	}
}

// Write buffers p. It never blocks on the underlying writer unless the
// buffer is full.
func (lw *Writer) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.bw.Write(p)
}

// Flush writes out everything buffered so far.
func (lw *Writer) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.bw.Flush()
}

// Close stops the periodic flush and flushes what remains. Writes after
// Close are still accepted and go out at the next Flush.
func (lw *Writer) Close() error {
	lw.once.Do(func() { close(lw.stop) })
	<-lw.done
	return lw.Flush()
}

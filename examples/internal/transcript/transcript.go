// Package transcript provides an io.Writer that the examples' tests can read
// and wait on while the example is still writing to it.
package transcript

import (
	"strings"
	"sync"
	"time"
)

// Buffer collects what an example writes. It is safe for concurrent use: the
// example writes from its goroutines while the test reads.
// The zero value is ready to use.
type Buffer struct {
	mu     sync.Mutex
	b      strings.Builder
	notify chan struct{} // closed and replaced on every write
}

// Write appends p and wakes up the waiters.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Write(p)
	if b.notify != nil {
		close(b.notify)
		b.notify = nil
	}
	return len(p), nil
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WaitFor waits until cond holds for everything written so far, or timeout
// passes, and returns the text and whether cond held.
func (b *Buffer) WaitFor(cond func(text string) bool, timeout time.Duration) (string, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		text := b.b.String()
		if cond(text) {
			b.mu.Unlock()
			return text, true
		}
		if b.notify == nil {
			b.notify = make(chan struct{})
		}
		ch := b.notify
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return b.String(), false
		}
	}
}

// WaitForCount waits until sub occurs at least n times in the text, like
// [Buffer.WaitFor].
func (b *Buffer) WaitForCount(sub string, n int, timeout time.Duration) (string, bool) {
	return b.WaitFor(func(text string) bool { return strings.Count(text, sub) >= n }, timeout)
}

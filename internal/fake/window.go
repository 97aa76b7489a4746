package fake

import (
	"sync"
	"time"
)

// Window is the sliding-window rate limit of a fake: at most Limit requests
// in any span of Size, on the time the fake passes in (its clock). Its
// methods are safe for concurrent use.
type Window struct {
	mu    sync.Mutex
	hits  []time.Time // accepted requests still in the window, oldest first
	limit int
	size  time.Duration
}

// NewWindow returns a window allowing limit requests per size.
func NewWindow(limit int, size time.Duration) *Window {
	w := &Window{}
	w.Set(limit, size)
	return w
}

// Set changes the limit (at least 1) and the size (at least 1 ms), and
// forgets the requests counted so far.
func (w *Window) Set(limit int, size time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.limit, w.size, w.hits = max(limit, 1), max(size, time.Millisecond), nil
}

// Admit counts a request made at now when the window has room, and reports
// whether it had; when it had not, wait is how long until the oldest
// request leaves the window.
func (w *Window) Admit(now time.Time) (wait time.Duration, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pruneLocked(now)
	if len(w.hits) >= w.limit {
		return w.hits[0].Add(w.size).Sub(now), false
	}
	w.hits = append(w.hits, now)
	return 0, true
}

// State returns the window at now, as X-RateLimit-* headers report it: the
// limit, the requests counted, and when the oldest of them leaves the window
// (now plus the size when there is none).
func (w *Window) State(now time.Time) (limit, used int, reset time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pruneLocked(now)
	reset = now.Add(w.size)
	if len(w.hits) > 0 {
		reset = w.hits[0].Add(w.size)
	}
	return w.limit, len(w.hits), reset
}

func (w *Window) pruneLocked(now time.Time) {
	cut := 0
	for cut < len(w.hits) && !w.hits[cut].After(now.Add(-w.size)) {
		cut++
	}
	w.hits = w.hits[cut:]
}

// Package clocktest is a fake clock for the tests of this module: time moves
// only when a test calls [Clock.Advance], and a test can wait for the event
// "a timer was set for d" instead of sleeping. Pass it to a client with
// config.WithClock.
package clocktest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatbot-go/chatbot/internal/config"
)

// hang bounds how long [Clock.WaitFor] waits for a timer in real time. It is
// far above any wait a correct program needs, so that only a hang fails.
const hang = 30 * time.Second

// Clock is a fake [config.Clock]. The zero value is not usable: call [New].
// A Clock is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	pending []*timer        // timers set and not yet fired or stopped
	armed   []time.Duration // every duration a timer was set for, in order
	changed chan struct{}   // closed and replaced whenever a timer is set
}

var _ config.Clock = (*Clock)(nil)

// New returns a Clock whose time is start.
func New(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc sets a timer that calls f when [Clock.Advance] reaches now+d.
func (c *Clock) AfterFunc(d time.Duration, f func()) config.Timer {
	t := &timer{c: c, f: f}
	t.Reset(d)
	return t
}

// Advance moves the time forward by d and runs, in order of their deadlines
// and before it returns, the functions of the timers that fall due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*timer
	c.pending = slices.DeleteFunc(c.pending, func(t *timer) bool {
		if t.at.After(c.now) {
			return false
		}
		due = append(due, t)
		return true
	})
	c.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *timer) int { return a.at.Compare(b.at) })
	for _, t := range due {
		t.f()
	}
}

// Armed returns every duration a timer was set (or reset) for, in order.
func (c *Clock) Armed() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.armed)
}

// Pending returns the durations of the timers set and not yet fired or
// stopped.
func (c *Clock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds := make([]time.Duration, len(c.pending))
	for i, t := range c.pending {
		ds[i] = t.d
	}
	return ds
}

// WaitArmed blocks until timers were set (or reset) at least n times in all,
// and fails the test as [Clock.WaitFor] does.
func (c *Clock) WaitArmed(tb testing.TB, n int) {
	tb.Helper()
	c.wait(tb, func() bool { return len(c.armed) >= n }, "%d timers set", n)
}

// WaitFor blocks until a timer set for exactly d is pending, the event that
// says the code under test is now waiting for d. It fails the test if that
// does not happen within 30 seconds of real time, which only a hang explains.
func (c *Clock) WaitFor(tb testing.TB, d time.Duration) {
	tb.Helper()
	c.wait(tb, func() bool { return slices.ContainsFunc(c.pending, func(t *timer) bool { return t.d == d }) }, "a timer pending for %s", d)
}

// wait blocks until cond, called with c.mu held, is true.
func (c *Clock) wait(tb testing.TB, cond func() bool, format string, args ...any) {
	tb.Helper()
	deadline := time.NewTimer(hang)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok := cond()
		changed := c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("clocktest: waited in vain for "+format+" (pending: %v, armed: %v)", append(args, c.Pending(), c.Armed())...)
			return
		}
	}
}

type timer struct {
	c  *Clock
	f  func()
	d  time.Duration
	at time.Time
}

func (t *timer) Stop() bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.pending)
	c.pending = slices.DeleteFunc(c.pending, func(p *timer) bool { return p == t })
	return len(c.pending) != n
}

func (t *timer) Reset(d time.Duration) bool {
	was := t.Stop()
	c := t.c
	c.mu.Lock()
	t.d, t.at = d, c.now.Add(d)
	c.pending = append(c.pending, t)
	c.armed = append(c.armed, d)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return was
}

package config

import "time"

// Clock is the source of time of a client: every wait, timeout and
// conversion of a server's date to a duration goes through it, so that tests
// can control time (see internal/clocktest). Implementations are safe for
// concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time

	// AfterFunc calls f in its own goroutine once d has elapsed, unless the
	// returned Timer is stopped first, as time.AfterFunc does.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer set by [Clock.AfterFunc]. *time.Timer implements it.
type Timer interface {
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool

	// Reset makes the timer fire after d, whether or not it had fired.
	Reset(d time.Duration) bool
}

// SystemClock is the real clock, used when no other is set.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc returns time.AfterFunc(d, f).
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

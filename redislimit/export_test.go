package redislimit

import "time"

// SetNow replaces the clock of l, for tests of the cooldown.
func SetNow(l *Limiter, now func() time.Time) { l.now = now }
